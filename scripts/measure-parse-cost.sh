#!/usr/bin/env bash
# Instructions per head of the HTTP/1 parser on the heads of
# tests/bench/parse_heads.c, in FULL mode (what the exporter's parse uses) and
# LIGHT mode (the program's threads): callgrind's total for N2 heads minus
# that for N1, over N2 - N1 (the loop's few instructions included).
#
#   scripts/measure-parse-cost.sh [N1 N2]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n1=${1:-1000}
n2=${2:-3000}
bin=$root/build/bench/parse_heads
# -B: the rule knows only the bench source, not the parser it includes
make -s -B -C "$root" build/bench/parse_heads >/dev/null
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
names=("request_loop request" "request_loop response" "browser request" "nginx response" "wrk request")
count() {
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg" "$bin" "$@" >/dev/null 2>&1
    sed -n 's/^summary: //p' "$dir/cg"
}
echo "instructions per head (callgrind, heads $n1..$n2):"
printf '  %-24s %6s %6s\n' head FULL LIGHT
for i in "${!names[@]}"; do
    line=()
    for mode in 0 1; do
        a=$(count "$mode" "$i" "$n1")
        b=$(count "$mode" "$i" "$n2")
        line+=($(((b - a) / (n2 - n1))))
    done
    printf '  %-24s %6s %6s\n' "${names[$i]}" "${line[0]}" "${line[1]}"
done
