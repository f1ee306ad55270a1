#!/usr/bin/env bash
# Cost of the TLS hooks on a real server, as a ratio: wall time of N HTTPS
# requests (one curl process, one keep-alive connection, curl not traced) to
# nginx terminating TLS and serving a small file, with nginx under the shim
# (every request a traced SERVER span, exporter "none") and without.
#
#   scripts/measure-tls-ratio.sh [N] [ROUNDS]     (defaults 2000, 3)
#
# Prints the best time of each and their ratio. Needs build/libotelauto.so.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
rounds=${2:-3}
lib=$PWD/build/libotelauto.so
[[ -f $lib ]] || { echo "build the shim first (make lib)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'kill $(cat "$dir"/pid 2>/dev/null) 2>/dev/null || true; rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
mkdir -p "$dir/www" "$dir/tmp"
printf 'hello\n' >"$dir/www/f.txt"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$dir/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; error_log $dir/error.log error; pid $dir/nginx.pid;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
       uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp; keepalive_requests 1000000;
  server { listen 127.0.0.1:$port ssl; ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem; root $dir/www; } }
CONF
for ((i = 0; i < n; i++)); do echo "url = \"https://127.0.0.1:$port/f.txt\""; echo "output = /dev/null"; done >"$dir/urls"

# best_of PRELOAD: best wall time (ms) of ROUNDS runs against nginx started with LD_PRELOAD=PRELOAD
best_of() {
    env ${1:+LD_PRELOAD=$1} OTEL_TRACES_EXPORTER=none nginx -p "$dir" -c "$dir/nginx.conf" &
    echo $! >"$dir/pid"
    while ! ss -Hltn "sport = :$port" | grep -q .; do sleep 0.05; done
    local best=0 t0 t1 r
    for ((r = 0; r < rounds; r++)); do
        t0=$(date +%s%N)
        curl -sS --fail-early --cacert "$dir/cert.pem" --config "$dir/urls" 2>"$dir/curl.err"
        [[ ! -s $dir/curl.err ]] || { head -3 "$dir/curl.err" >&2; exit 1; }
        t1=$(date +%s%N)
        (( best == 0 || t1 - t0 < best )) && best=$((t1 - t0))
    done
    kill "$(cat "$dir/pid")"
    wait "$(cat "$dir/pid")" 2>/dev/null || true
    echo $((best / 1000000))
}
plain=$(best_of "")
traced=$(best_of "$lib")
echo "nginx TLS, $n keep-alive requests: untraced ${plain} ms, traced ${traced} ms, ratio $(python3 -c "print('%.2f' % ($traced / $plain))")"
