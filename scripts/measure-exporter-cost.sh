#!/bin/bash
# Instructions per request on nginx's thread and per span on the exporter
# thread: nginx (one worker, master_process off, a 612-byte file, as in
# scripts/bench.sh) under the shim and `valgrind --tool=callgrind
# --separate-threads=yes`, exporting to `build/bench/export_bench decode`,
# driven by `wrk -t1 -c4` for 2 s and for 6 s; the difference of the two
# runs leaves start-up out (the first batch loads libcurl and OpenSSL).
# Thread 01 is nginx's, thread 03 the exporter (02: the metrics reader).
# usage: scripts/measure-exporter-cost.sh [OUTDIR]   (after make lib bench-bins)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$(mktemp -d /tmp/oa-exporter-cost.XXXX)}
mkdir -p "$out"
work=$out/w
mkdir -p "$work/www" "$work/nginx/tmp"
head -c 612 /dev/zero | tr '\0' 'x' >"$work/www/index.html"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/nginx/nginx.conf" <<EOC
daemon off;
master_process off;
worker_processes 1;
error_log $work/nginx/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_timeout 60s;
    keepalive_requests 10000000;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        root $work/www;
    }
}
EOC
"$root/build/bench/export_bench" decode "$work/dec.port" "$work/dec.count" >/dev/null 2>&1 &
dec=$!
for _ in $(seq 100); do [[ -s $work/dec.port ]] && break; sleep 0.05; done
dport=$(tr -dc 0-9 <"$work/dec.port")

# run SECONDS TAG: nginx under callgrind, wrk for SECONDS; requests served in $out/nTAG
run() {
    env LD_PRELOAD="$root/build/libotelauto.so" OTEL_SERVICE_NAME=bench \
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$dport" \
        valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out/cg$2.out" \
        nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" >/dev/null 2>&1 &
    local vp=$!
    for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    wrk -t1 -c4 -d"$1"s "http://127.0.0.1:$port/index.html" | awk '/requests in/ { print $1 }' >"$out/n$2"
    kill -INT "$vp"
    wait "$vp"
}
run 2 a
run 6 b
kill "$dec"
na=$(cat "$out/na")
nb=$(cat "$out/nb")
for t in 01 02 03; do
    a=$(sed -n 's/^summary: //p' "$out/cga.out-$t" 2>/dev/null)
    b=$(sed -n 's/^summary: //p' "$out/cgb.out-$t" 2>/dev/null)
    echo "thread $t: $(((${b:-0} - ${a:-0}) / (nb - na))) per request (requests $na, $nb)"
done
cat "$work/dec.count"
