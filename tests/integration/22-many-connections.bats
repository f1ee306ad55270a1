#!/usr/bin/env bats
# 10,000 connections open at the same time, one request in flight on each:
# every request gets its client and server span, correctly paired, and the
# memory the shim adds stays proportional to the connections (measured on
# nginx, traced vs untraced, as peak RSS).

load test_helper

N=10000

setup() {
    common_setup
    (($(ulimit -Hn) >= N + 100)) || skip "the hard RLIMIT_NOFILE ($(ulimit -Hn)) is below $((N + 100))"
    start_receiver
    mkdir -p "$T/www"
    printf 'ok\n' >"$T/www/ok.txt"
    # (nginx closes idle keep-alive connections when fewer than 1/16 of its
    # worker_connections are free: hence twice N below)
    # every span of both processes must fit in the queue between two exports
    EXTRA_ENV=(OTEL_BSP_MAX_QUEUE_SIZE=16384 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048)
}

teardown() {
    common_teardown
}

# start_big_nginx NAME SERVICE: nginx (one process) accepting N+ connections,
# its soft fd limit raised to the hard one. Sets NGINX_PORT and NGINX_PID.
start_big_nginx() {
    local name=$1 service=$2 dir=$T/$1 port
    port=$(free_port)
    write_nginx_conf "$dir" "$port" "$T/www"
    sed -i -e "s/worker_connections 256;/worker_connections $((2 * N));/" "$dir/nginx.conf"
    local cmd=(bash -c 'ulimit -Sn "$(ulimit -Hn)" && exec "$@"' nginx
        nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log")
    if [[ -n $service ]]; then
        start_traced_bg "$name" "$service" "${cmd[@]}"
    else
        start_bg "$name" "${cmd[@]}"
    fi
    NGINX_PID=$BG_PID
    wait_port "$port" 10 "$BG_PID" "$name" || { cat "$dir/error.log" >&2; return 1; }
    NGINX_PORT=$port
}

# peak_rss_kb PID: the process's high-water mark of resident memory.
peak_rss_kb() {
    awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

@test "10,000 concurrent connections from a traced client to traced nginx: 10,000 correctly paired client/server spans" {
    start_big_nginx nginx nginx
    run traced many "$PROGRAMS_DIR/many_connections" 127.0.0.1 "$NGINX_PORT" $N /ok.txt
    echo "$output"
    assert_ok
    [ "$output" = "connections=$N answered=$N" ]
    wait_spans $((2 * N)) --timeout 60 --settle 1
    check_spans "
clients = {s['span_id']: s for s in sel(service='many', kind='client')}
servers = sel(service='nginx', kind='server')
expect_eq(len(clients), $N, 'client spans')
expect_eq(len(servers), $N, 'server spans')
queries = set()
bad = 0
for s in servers:
    c = clients.get(s.get('parent_span_id'))
    if c is None or c['trace_id'] != s['trace_id'] or attr(c, 'url.full') != 'http://many/ok.txt?' + str(attr(s, 'url.query')):
        bad += 1
    queries.add(attr(s, 'url.query'))
    if attr(s, 'http.response.status_code') != 200:
        bad += 1
expect_eq(bad, 0, 'server spans without their own client span as parent, or not 200')
expect_eq(len(queries), $N, 'distinct requests seen by the server')
"
}

@test "10,000 concurrent connections: the shim adds a bounded amount of memory per connection to nginx" {
    skip_if_sanitized
    local plain traced_kb
    start_big_nginx plain ""
    run "$PROGRAMS_DIR/many_connections" 127.0.0.1 "$NGINX_PORT" $N /ok.txt
    assert_ok
    plain=$(peak_rss_kb "$NGINX_PID")
    stop_bg "$NGINX_PID"

    start_big_nginx traced nginx
    run traced many "$PROGRAMS_DIR/many_connections" 127.0.0.1 "$NGINX_PORT" $N /ok.txt
    assert_ok
    traced_kb=$(peak_rss_kb "$NGINX_PID")
    local per_conn=$(((traced_kb - plain) * 1024 / N))
    echo "nginx peak RSS with $N connections: untraced ${plain} kB, traced ${traced_kb} kB: ${per_conn} bytes per connection" >&2
    # the connection, its exchange (two parsers) and one span in flight: ~9.5 KiB
    ((per_conn < 24 * 1024))
}

# idle_cost NAME SERVICE: starts nginx (traced as SERVICE unless empty), runs
# idle_connections.py against it, stops it; sets IDLE_GROWTH_KB: what N idle
# keep-alive connections added to its resident memory beyond N requests on
# one connection.
idle_cost() {
    start_big_nginx "$1" "$2"
    run "$PY" "$PY_PROGRAMS/idle_connections.py" "$NGINX_PORT" "$NGINX_PID" $N /ok.txt
    echo "$output"
    assert_ok
    [[ $output =~ base_kb=([0-9]+)\ idle_kb=([0-9]+) ]]
    IDLE_GROWTH_KB=$((BASH_REMATCH[2] - BASH_REMATCH[1]))
    stop_bg "$NGINX_PID"
}

@test "10,000 idle keep-alive connections: the shim adds at most 2 KiB per connection to nginx's resident memory" {
    skip_if_sanitized
    idle_cost plain ""
    local plain=$IDLE_GROWTH_KB
    idle_cost traced nginx
    local traced=$IDLE_GROWTH_KB
    local per_conn=$(((traced - plain) * 1024 / N))
    echo "nginx resident memory added by $N idle keep-alive connections: untraced ${plain} kB, traced ${traced} kB: the shim ${per_conn} bytes per connection" >&2
    # fd slot, struct oa_conn and the exchange (~1.2 KiB); the parsers' head
    # slots and the requests in flight are held only while a request is
    # being read or answered
    ((per_conn <= 2048))
}
