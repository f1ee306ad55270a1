#!/usr/bin/env bash
# Start-up cost of the shim for a program that does no networking, compared
# with a preload that only forwards the same symbols (build/libpassthrough.so):
# the ratio is what our engine adds on top of the price of any preload.
#
#   scripts/measure-startup.sh [--lib PATH] [--baseline PATH] [--program PATH]
#                              [--runs N] [--rounds R] [--max RATIO] [--no-callgrind]
#
# Wall clock: each round starts PROGRAM (default /bin/true) N times with no
# preload, with the baseline and with the shim, interleaved run by run; a
# round's ratio is median shim run / median baseline run, and the reported
# ratio is the median over R rounds.
# Instructions: valgrind --tool=callgrind counts the instructions of one run
# under each (deterministic; skipped with --no-callgrind or without valgrind).
# --max RATIO: exit 1 if the wall-clock ratio exceeds RATIO.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lib=$root/build/libotelauto.so
baseline=$root/build/libpassthrough.so
program=/bin/true
runs=300
rounds=7
max=
callgrind=1

while [[ $# -gt 0 ]]; do
    case $1 in
        --lib) lib=$2; shift 2 ;;
        --baseline) baseline=$2; shift 2 ;;
        --program) program=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --max) max=$2; shift 2 ;;
        --no-callgrind) callgrind=0; shift ;;
        -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "measure-startup: unknown argument $1" >&2; exit 2 ;;
    esac
done
for f in "$lib" "$baseline"; do
    [[ -f $f ]] || { echo "measure-startup: $f is not built" >&2; exit 2; }
done
lib=$(realpath "$lib")
baseline=$(realpath "$baseline")

# The launcher must not run under any preload itself.
unset LD_PRELOAD
for v in $(compgen -e); do
    [[ $v != OTEL_* ]] || unset "$v"
done
# Whatever the shim would do with a collector, it must not be reached here.
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9

bench=$root/build/programs/spawn_bench
tmp=
if [[ ! -x $bench ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    bench=$tmp/spawn_bench
    gcc -std=gnu11 -O2 -D_GNU_SOURCE -o "$bench" "$root/tests/programs/spawn_bench.c"
fi

none_us=() base_us=() shim_us=() ratios=()
"$bench" 20 "$program" "$lib" >/dev/null # warm the page cache
for ((r = 0; r < rounds; r++)); do
    # one line per preload: median ns per run, total ns
    mapfile -t lines < <("$bench" "$runs" "$program" "" "$baseline" "$lib")
    n=${lines[0]%% *} b=${lines[1]%% *} s=${lines[2]%% *}
    none_us+=("$n") base_us+=("$b") shim_us+=("$s")
    ratios+=("$(awk -v s="$s" -v b="$b" 'BEGIN { printf "%.4f", s / b }')")
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
us() { awk -v t="$(median "$@")" 'BEGIN { printf "%.1f", t / 1000 }'; }

ratio=$(median "${ratios[@]}")
echo "start-up of $program, $rounds rounds x $runs interleaved runs (median per run):"
echo "  no preload         $(us "${none_us[@]}") us"
echo "  pass-through       $(us "${base_us[@]}") us   ($(basename "$baseline"))"
echo "  shim               $(us "${shim_us[@]}") us   ($(basename "$lib"))"
echo "  wall-clock ratio shim/pass-through: $ratio (median; rounds: ${ratios[*]})"

if [[ $callgrind == 1 ]] && command -v valgrind >/dev/null; then
    instructions() {
        env ${1:+LD_PRELOAD=$1} valgrind --tool=callgrind --callgrind-out-file=/dev/null "$program" 2>&1 |
            sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
    }
    i_none=$(instructions "")
    i_base=$(instructions "$baseline")
    i_shim=$(instructions "$lib")
    echo "  instructions (callgrind): no preload $i_none, pass-through $i_base, shim $i_shim," \
        "ratio $(awk -v s="$i_shim" -v b="$i_base" 'BEGIN { printf "%.4f", s / b }')"
fi

if [[ -n $max ]]; then
    if awk -v r="$ratio" -v m="$max" 'BEGIN { exit !(r > m) }'; then
        echo "FAIL: start-up ratio $ratio exceeds $max"
        exit 1
    fi
    echo "ok: start-up ratio $ratio <= $max"
fi
