# Helpers of the server-architecture tests (12-17): proxies, event loops,
# thread pools, pre-fork servers, child processes. Loaded after test_helper.

ARCH_SERVER=$PY_PROGRAMS/arch_server.py

# start_arch NAME SERVICE MODE [ARGS...]: tests/programs/arch_server.py in
# MODE, traced as SERVICE (untraced if empty). Sets ARCH_PORT.
start_arch() {
    local name=$1 service=$2 mode=$3
    shift 3
    LISTENER_TIMEOUT=15 start_listener "$name" "$service" "$PY" "$ARCH_SERVER" "$mode" \
        --ready-file "$T/$name.port" --scratch "$T/$name.scratch" "$@" || return 1
    ARCH_PORT=$LISTENER_PORT
}

# start_nginx_proxy NAME SERVICE UPSTREAM_PORT [WORKERS]: nginx, master and
# WORKERS worker processes (default 1), proxying every request to
# 127.0.0.1:UPSTREAM_PORT over upstream keep-alive connections; with
# several workers each has its own listening socket (reuseport), so that
# connections spread over them. Sets NGINX_PORT and NGINX_PID.
start_nginx_proxy() {
    local name=$1 service=$2 upstream=$3 workers=${4:-1} dir=$T/$1 port user_line="" reuse=""
    command -v nginx >/dev/null || fail_now "nginx is not installed" || return 1
    port=$(free_port)
    mkdir -p "$dir/tmp"
    [[ $(id -u) != 0 ]] || user_line="user root root;"
    ((workers == 1)) || reuse=" reuseport"
    cat >"$dir/nginx.conf" <<CONF
$user_line
daemon off;
master_process on;
worker_processes $workers;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 256; accept_mutex off; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    upstream backend {
        server 127.0.0.1:$upstream;
        keepalive 8;
    }
    server {
        listen 127.0.0.1:$port$reuse;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
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
    NGINX_PID=$BG_PID
    if ! wait_port "$port" 10 "$BG_PID" "$name"; then
        cat "$dir/error.log" >&2 2>/dev/null
        return 1
    fi
    NGINX_PORT=$port
}

# The node binary (Debian's nodejs package provides /usr/bin/node).
node_bin() {
    command -v node || command -v nodejs
}

# start_loop_backend: tests/programs/loop_service.js's backend (answers "ok
# URL TRACEPARENT"), traced as "backend"; sets BACKEND_PORT.
start_loop_backend() {
    start_listener backend backend "$(node_bin)" "$PY_PROGRAMS/loop_service.js" backend "$T/backend.port"
    BACKEND_PORT=$LISTENER_PORT
}

# Checks, in python over the spans, that CHAIN (a list of spans) is one
# trace in which each span is the child of the one before, the first a root.
CHAIN_CHECK='
def expect_chain(chain, what):
    expect(all(s.get("trace_id") == chain[0].get("trace_id") for s in chain), what + ": one trace id")
    expect_eq(chain[0].get("parent_span_id"), "", what + ": the first span is a root")
    for prev, cur in zip(chain, chain[1:]):
        expect_eq(cur.get("parent_span_id"), prev.get("span_id"),
                  "%s: %s %s is the child of %s %s" % (what, cur.get("service"), cur.get("kind"),
                                                        prev.get("service"), prev.get("kind")))
'
