# Helpers of the HTTPS tests (tests/integration/3[0-5]-*.bats), on top of
# test_helper.bash:
#   load test_helper
#   load tls_helper

# make_cert NAME: a self-signed certificate for localhost and 127.0.0.1
# (EC P-256: quick to make), in $T/NAME.crt and $T/NAME.key.
make_cert() {
    local name=$1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$T/$name.key" -out "$T/$name.crt" 2>/dev/null ||
        fail_now "openssl could not make a certificate"
}

# start_nginx_tls NAME SERVICE UPSTREAM_PORT [http2] [drop-traceparent]:
# nginx (traced as SERVICE unless empty) terminating TLS with $T/NAME.crt
# on a free port and proxying everything to 127.0.0.1:UPSTREAM_PORT over
# plain HTTP/1.1 keep-alive. Sets NGINX_PORT.
#   http2             also offer HTTP/2 (ALPN h2)
#   drop-traceparent  do not forward the client's traceparent upstream, so
#                     that the shim writes nginx's own (see README, Limits)
start_nginx_tls() {
    local name=$1 service=$2 upstream=$3 opt http2="" drop="" dir=$T/$1 port
    shift 3
    for opt in "$@"; do
        case $opt in
            http2) http2=" http2" ;;
            drop-traceparent) drop='proxy_set_header traceparent "";' ;;
        esac
    done
    make_cert "$name"
    port=$(free_port)
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    upstream backend {
        server 127.0.0.1:$upstream;
        keepalive 4;
    }
    server {
        listen 127.0.0.1:$port ssl$http2;
        ssl_certificate $T/$name.crt;
        ssl_certificate_key $T/$name.key;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            $drop
        }
    }
}
CONF
    local cmd=(nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log")
    if [[ -n $service ]]; then
        start_traced_bg "$name" "$service" "${cmd[@]}"
    else
        start_bg "$name" "${cmd[@]}"
    fi
    if ! wait_port "$port" 10 "$BG_PID" "$name"; then
        cat "$dir/error.log" >&2 2>/dev/null
        return 1
    fi
    NGINX_PORT=$port
}

# start_tls_backend NAME [SERVICE]: tests/programs/http_backend.py over
# HTTPS ($T/NAME.crt), serving $T/www. Sets BACKEND_PORT.
start_tls_backend() {
    make_cert "$1"
    start_backend "$1" "${2:-}" --tls-cert "$T/$1.crt" --tls-key "$T/$1.key"
}

# Real curl is needed (HTTP/2, libcurl): not where the helper substitutes it.
skip_without_real_curl() {
    [[ $SUBSTITUTE_CURL == 0 ]] || skip "needs curl itself, which cannot run under this sanitizer preload"
}
