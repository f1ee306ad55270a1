#!/usr/bin/env bash
# Prints the names of the symbols the shim interposes, one a line, from the
# one list of them (src/sys/interposed.def): every entry kind that exports a
# hook, none of the "real only" ones. Used by the Makefile (the linker version
# script) and by scripts/check-exports.sh.
#
#   scripts/interposed-names.sh [DEF]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
def=${1:-$root/src/sys/interposed.def}
cc=${CC:-cc}
# Each interposing entry becomes a line "OA_NAME <symbol>"; the rest of the
# preprocessed text (comments are gone already) is dropped.
"$cc" -E -P -x c - <<EOS | sed -n 's/^.*OA_NAME \([A-Za-z_][A-Za-z0-9_]*\).*$/\1/p'
#define OA_LIBC(name, field, ret, params, args) OA_NAME name
#define OA_EXEC(name, field, ret, params, args) OA_NAME name
#define OA_EXEC_BUILT(name) OA_NAME name
#define OA_OPENSSL(name, field, ret, params, args) OA_NAME name
#define OA_LIBCURL(name, field, ret, params, args) OA_NAME name
#define OA_LIBCURL_VARARGS(name, field, ret, params) OA_NAME name
#define OA_SIGNAL(name, field, ret, params, args) OA_NAME name
#include "$def"
EOS
