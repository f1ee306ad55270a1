#!/usr/bin/env bash
# What one traced HTTP exchange costs the program, in instructions:
# build/bench/request_loop plays client and server of a keep-alive connection
# in one thread (one CLIENT and one SERVER span per exchange). It runs under
# valgrind --tool=callgrind with N1 and N2 exchanges, with no preload, with
# the pass-through preload and with the shim; (I(N2) - I(N1)) / (N2 - N1) is
# the per-exchange count, free of start-up costs. Callgrind counts every
# thread, so the exporter's work is included; OTEL_TRACES_EXPORTER=none keeps
# the network out of it.
#
#   scripts/measure-request-cost.sh [N1 N2]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n1=${1:-200}
n2=${2:-2200}
bin=$root/build/bench/request_loop
make -s -C "$root" build/bench/request_loop build/libotelauto.so build/libpassthrough.so >/dev/null
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }

count() {
    local preload=$1 n=$2 out
    out=$(OTEL_TRACES_EXPORTER=none LD_PRELOAD=$preload valgrind --tool=callgrind \
        --callgrind-out-file=/dev/null "$bin" "$n" 2>&1)
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' <<<"$out"
}

per_exchange() {
    local preload=$1 a b
    a=$(count "$preload" "$n1")
    b=$(count "$preload" "$n2")
    echo $(((b - a) / (n2 - n1)))
}

none=$(per_exchange "")
pass=$(per_exchange "$root/build/libpassthrough.so")
shim=$(per_exchange "$root/build/libotelauto.so")
echo "instructions per keep-alive exchange (client + server span), callgrind, N=$n1..$n2:"
echo "  no preload      $none"
echo "  pass-through    $pass"
echo "  shim            $shim   (tracing adds $((shim - pass)) per exchange, ~$(((shim - pass) / 2)) per traced request)"

# Wall clock, for scale (noisy on shared machines): median of 5 alternating runs.
wall_ns() {
    local preload=$1 n=20000 t0 t1
    t0=$(date +%s%N)
    OTEL_TRACES_EXPORTER=none LD_PRELOAD=$preload "$bin" "$n" >/dev/null
    t1=$(date +%s%N)
    echo $(((t1 - t0) / n))
}
declare -a wp ws
for i in 1 2 3 4 5; do
    wp+=("$(wall_ns "$root/build/libpassthrough.so")")
    ws+=("$(wall_ns "$root/build/libotelauto.so")")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
mp=$(median "${wp[@]}")
ms=$(median "${ws[@]}")
echo "wall clock per exchange (median of 5, 20000 exchanges): pass-through ${mp} ns, shim ${ms} ns (+$((ms - mp)) ns)"
