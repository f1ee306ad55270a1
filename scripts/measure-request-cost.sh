#!/usr/bin/env bash
# What one traced HTTP exchange costs the program, in instructions:
# build/bench/request_loop plays client and server of a keep-alive connection
# in one thread (one CLIENT and one SERVER span per exchange). It runs under
# valgrind --tool=callgrind with N1 and N2 exchanges, with no preload, with
# the pass-through preload and with the shim; (I(N2) - I(N1)) / (N2 - N1) is
# the per-exchange count, free of start-up costs. The program's thread and
# all threads are counted apart; OTEL_TRACES_EXPORTER=none keeps the network
# out of it.
#
#   scripts/measure-request-cost.sh [N1 N2]
#   LOOP=h2_stream_loop scripts/measure-request-cost.sh [N1 N2]
#       the same for HTTP/2: one stream (a CLIENT and a SERVER span, the
#       client's HEADERS given a traceparent) per exchange
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n1=${1:-200}
n2=${2:-2200}
loop=${LOOP:-request_loop}
bin=$root/build/bench/$loop
make -s -C "$root" "build/bench/$loop" build/libotelauto.so build/libpassthrough.so >/dev/null
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }

# Instructions of the program's own thread (callgrind's thread 1, which is
# what the issue counts: the cost a request adds where the program runs) and,
# separately, of all threads together (the exporter's and metrics reader's
# work included), for one run of N exchanges.
count() {
    local preload=$1 n=$2 dir
    dir=$(mktemp -d)
    OTEL_TRACES_EXPORTER=none LD_PRELOAD=$preload valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$dir/cg.out" "$bin" "$n" >/dev/null 2>&1
    local main all
    main=$(sed -n 's/^summary: //p' "$dir/cg.out-01")
    all=$(cat "$dir"/cg.out-* | awk '/^summary:/ {s += $2} END {print s}')
    rm -rf "$dir"
    echo "$main $all"
}

# "main all" per exchange, from runs of n1 and n2 exchanges
per_exchange() {
    local preload=$1 a b
    read -r a_main a_all <<<"$(count "$preload" "$n1")"
    read -r b_main b_all <<<"$(count "$preload" "$n2")"
    echo "$(((b_main - a_main) / (n2 - n1))) $(((b_all - a_all) / (n2 - n1)))"
}

read -r none none_all <<<"$(per_exchange "")"
read -r pass pass_all <<<"$(per_exchange "$root/build/libpassthrough.so")"
read -r shim shim_all <<<"$(per_exchange "$root/build/libotelauto.so")"
echo "instructions per keep-alive exchange (client + server span), callgrind, N=$n1..$n2:"
echo "  on the program's thread:"
echo "    no preload      $none"
echo "    pass-through    $pass"
echo "    shim            $shim   (tracing adds $((shim - pass)) per exchange, ~$(((shim - pass) / 2)) per traced request)"
echo "  all threads (the shim's exporter and metrics reader included):"
echo "    pass-through    $pass_all"
echo "    shim            $shim_all   (+$((shim_all - pass_all)) per exchange)"

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
