#!/usr/bin/env bash
# What the shim adds on nginx's worker thread per request, in instructions:
# nginx (one worker, master_process off, sendfile on, a 612-byte file,
# keep-alive) runs under valgrind --tool=callgrind while wrk -t1 -c4 loads
# it for S1 and then S2 seconds; (I(S2) - I(S1)) / (requests(S2) -
# requests(S1)) of the worker thread is the per-request count, free of
# start-up. Done with no preload, the pass-through preload and the shim
# (OTEL_TRACES_EXPORTER=none). The shim's own code is split into the
# parser (src/protocols/http1/http1_parser.c) and the rest, from the same two runs.
#
#   scripts/measure-nginx-worker.sh [S1 S2]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
s1=${1:-2}
s2=${2:-6}
make -s -C "$root" build/libotelauto.so build/libpassthrough.so >/dev/null
for tool in valgrind nginx wrk callgrind_annotate; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
source "$root/scripts/bench-nginx.bash"
write_bench_nginx "$work" "$port"

# exclusive instructions of the worker thread in one profile: "parser rest"
# of the preloaded library's code (its inlined parts by source file)
shim_split() {
    callgrind_annotate --threshold=100 "$1" 2>/dev/null | sed -n '/file:function/,/^$/p' |
        awk '/\(/ { x = $1; gsub(",", "", x)
                    if ($0 ~ /\[\/usr\//) next
                    if ($0 ~ /libotelauto\.so\]|\/(src|hooks|include)\/|  (src|hooks|include)\//) {
                        if ($0 ~ /http1_parser|emmintrin/) p += x; else o += x } }
             END { print p + 0, o + 0 }'
}

# run PRELOAD SECONDS: "requests worker_instructions parser_instr rest_instr"
run() {
    local preload=$1 secs=$2 out=$work/cg.$RANDOM vp n
    LD_PRELOAD=$preload OTEL_TRACES_EXPORTER=none valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$out" nginx -p "$work" -c "$work/nginx.conf" -e "$work/error.log" >/dev/null 2>&1 &
    vp=$!
    for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    n=$(wrk -t1 -c4 -d"${secs}s" "http://127.0.0.1:$port/index.html" | awk '/requests in/ { print $1 }')
    kill -INT "$vp"
    wait "$vp" || true
    echo "$n $(sed -n 's/^summary: //p' "$out-01") $(shim_split "$out-01")"
    rm -f "$out"*
}

# per_request PRELOAD: "worker parser rest" per request
per_request() {
    local a b
    read -r -a a <<<"$(run "$1" "$s1")"
    read -r -a b <<<"$(run "$1" "$s2")"
    local d=$((b[0] - a[0]))
    ((d > 0)) || d=1
    echo "$(((b[1] - a[1]) / d)) $(((b[2] - a[2]) / d)) $(((b[3] - a[3]) / d))"
}

read -r none _ _ <<<"$(per_request "")"
read -r pass _ _ <<<"$(per_request "$root/build/libpassthrough.so")"
read -r shim parser rest <<<"$(per_request "$root/build/libotelauto.so")"
echo "instructions per request on nginx's worker thread, callgrind, wrk -t1 -c4, ${s1}s..${s2}s:"
echo "  no preload      $none"
echo "  pass-through    $pass"
echo "  shim            $shim   (adds $((shim - none)) per request over no preload)"
echo "  of which the shim's own code: parser $parser, the rest $rest"
