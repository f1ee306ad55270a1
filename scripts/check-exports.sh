#!/usr/bin/env bash
# Checks what a preloaded object shows the rest of the process.
#
#   scripts/check-exports.sh LIB [--exact]
#
# 1. Every function LIB exports must be one of the libc symbols the shim
#    interposes (and the exec, OpenSSL and libcurl functions it hooks): any
#    other exported name could capture a symbol of the host program or of
#    another library (everything else is -fvisibility=hidden).
#    Non-function exports are limited to the linker-defined section markers.
#    With --exact, every interposed symbol must also be present (a hook that
#    went missing would silently leave a path untraced; the pass-through
#    preload of the measurements must mirror them all too).
# 2. LIB must not depend (DT_NEEDED) on the exporter's libraries: libcurl,
#    protobuf-c, zlib and the TLS stack are loaded only with the OTLP object,
#    when there is something to export.
# Exit 0 if both hold; prints what is wrong otherwise.
set -euo pipefail

usage() { echo "usage: $0 LIB [--exact]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
lib=$1
exact=0
[[ ${2:-} == --exact ]] && exact=1
[[ -f $lib ]] || { echo "check-exports: $lib: no such file" >&2; exit 2; }

# The interposed symbols: the one list (src/sys/interposed.def), from which
# the hooks' real tables, the pass-through preload and the linker version
# script are made too.
mapfile -t interposed < <("$(dirname "$0")/interposed-names.sh")
[[ ${#interposed[@]} -gt 0 ]] || { echo "check-exports: no interposed symbols listed" >&2; exit 2; }
# What GNU ld may define in any shared object's dynamic symbol table.
toolchain=(_init _fini _edata _end __bss_start)

declare -A allowed_fn=() allowed_other=()
for s in "${interposed[@]}"; do allowed_fn[$s]=1; done
for s in "${toolchain[@]}"; do allowed_other[$s]=1; allowed_fn[$s]=1; done

fail=0
declare -A seen=()
# nm -D --defined-only: "VALUE TYPE NAME[@VERSION]"; T/t text, W/w weak,
# i indirect function (ifunc) count as functions; A is a version node;
# B/D/R/V/u are data.
while read -r _value type name; do
    [[ -n ${name:-} ]] || continue
    name=${name%%@*}
    seen[$name]=1
    case $type in
        T | t | W | w | i)
            if [[ -z ${allowed_fn[$name]:-} ]]; then
                echo "check-exports: $lib exports function '$name', which which is not an interposed symbol"
                fail=1
            fi
            ;;
        A)
            # a symbol-version node (from a version script): names no code or data
            ;;
        *)
            if [[ -z ${allowed_other[$name]:-} ]]; then
                echo "check-exports: $lib exports data symbol '$name' (type $type)"
                fail=1
            fi
            ;;
    esac
done < <(nm -D --defined-only "$lib")

required=()
[[ $exact == 0 ]] || required=("${interposed[@]}")
if [[ ${#required[@]} -gt 0 ]]; then
    for s in "${required[@]}"; do
        if [[ -z ${seen[$s]:-} ]]; then
            echo "check-exports: $lib does not interpose '$s'"
            fail=1
        fi
    done
fi

forbidden_needed='libcurl|libprotobuf-c|libz\.|libssl|libcrypto|libnghttp|libgnutls'
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p')
bad_needed=$(grep -E "$forbidden_needed" <<<"$needed" || true)
if [[ -n $bad_needed ]]; then
    echo "check-exports: $lib has DT_NEEDED entries that must be loaded lazily:"
    sed 's/^/    /' <<<"$bad_needed"
    fail=1
fi

if [[ $fail == 0 ]]; then
    echo "check-exports: $lib: ${#seen[@]} dynamic symbols, all allowed; NEEDED: $(tr '\n' ' ' <<<"$needed")"
fi
exit $fail
