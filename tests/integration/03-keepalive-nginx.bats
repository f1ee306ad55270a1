#!/usr/bin/env bats
# Several requests on one keep-alive connection between two traced C
# programs, curl and nginx: one client span and one server span per
# request, each server span the child of its own client span.

load test_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    local f
    for f in a b c; do
        printf 'file %s\n' "$f" >"$T/www/$f.txt"
    done
}

teardown() {
    common_teardown
}

# Three GETs through one connection; asserts curl really reused it.
fetch_three_over_one_connection() {
    local base=http://127.0.0.1:$NGINX_PORT
    run traced curl-client curl -sS -w '%{num_connects}\n' -o "$T/a.out" "$base/a.txt" -o "$T/b.out" "$base/b.txt" \
        -o "$T/c.out" "$base/c.txt"
    assert_ok
    # num_connects per transfer: the first opened the connection, the others reused it
    if [[ $(echo "$output" | tr '\n' ' ') != "1 0 0 " ]]; then
        fail_now "connections opened per transfer: $output (expected 1 0 0)"
    fi
    cmp "$T/a.out" "$T/www/a.txt"
    cmp "$T/b.out" "$T/www/b.txt"
    cmp "$T/c.out" "$T/www/c.txt"
}

assert_three_pairs() {
    wait_spans 3 --service curl-client --kind client
    wait_spans 3 --service nginx --kind server
    check_spans "
expect_eq(len(sel(service='curl-client', kind='client')), 3, 'client spans')
expect_eq(len(sel(service='nginx', kind='server')), 3, 'server spans')
for name in ('a', 'b', 'c'):
    path = '/%s.txt' % name
    c = one(service='curl-client', kind='client', url__full='http://127.0.0.1:$NGINX_PORT' + path)
    s = one(service='nginx', kind='server', url__path=path)
    expect_eq(s.get('trace_id'), c.get('trace_id'), path + ': server trace id = client trace id')
    expect_eq(s.get('parent_span_id'), c.get('span_id'), path + ': server parent = its client span')
    expect_eq(c.get('parent_span_id'), '', path + ': client span is a root')
    expect_attrs(c, {'http.request.method': 'GET', 'http.response.status_code': 200,
                     'network.protocol.version': '1.1', 'server.port': $NGINX_PORT})
    expect_attrs(s, {'http.request.method': 'GET', 'http.response.status_code': 200,
                     'network.protocol.version': '1.1', 'url.scheme': 'http'})
    expect_eq(s.get('name'), 'GET', path + ': server span name')
expect_eq(len({s.get('trace_id') for s in sel(service='curl-client')}), 3, 'one trace per request')
"
}

@test "keep-alive: curl fetches three URLs over one connection from nginx: three client/server span pairs" {
    start_nginx nginx nginx "$T/www"
    fetch_three_over_one_connection
    assert_three_pairs
}

@test "fork: nginx master + worker process traces the worker's requests" {
    start_nginx nginx nginx "$T/www" master
    fetch_three_over_one_connection
    assert_three_pairs
    # the spans come from the worker, a forked child of the traced master
    check_spans "
pids = {str((s.get('resource') or {}).get('process.pid')) for s in sel(service='nginx')}
expect(len(pids) == 1, 'all server spans from one process, got %r' % pids)
expect(pids != {'$NGINX_PID'}, 'process.pid is the worker, not the master $NGINX_PID')
"
}
