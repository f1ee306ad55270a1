#!/usr/bin/env bats
# The shim never changes the program's bytes (other than adding one
# traceparent line to a request head): large downloads arrive identical,
# and a connection that is not HTTP is left alone entirely.

load test_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
}

teardown() {
    common_teardown
}

make_big_file() {
    head -c $((20 * 1024 * 1024)) /dev/urandom >"$T/www/big.bin"
}

@test "a 20 MiB download from traced python http.server by traced curl is byte-identical" {
    make_big_file
    start_http_server server py-server "$T/www"
    run traced curl-client curl -sS -o "$T/big.out" "http://127.0.0.1:$HTTP_SERVER_PORT/big.bin"
    assert_ok
    cmp "$T/big.out" "$T/www/big.bin"
    wait_spans 1 --service curl-client
    wait_spans 1 --service py-server
    check_spans "
c = one(service='curl-client', kind='client')
s = one(service='py-server', kind='server')
expect_eq(s.get('parent_span_id'), c.get('span_id'), 'server is child of client')
expect_attrs(c, {'http.response.status_code': 200})
"
}

@test "a 20 MiB download from traced nginx (sendfile) by traced curl is byte-identical, and the connection stays in sync" {
    make_big_file
    printf 'after\n' >"$T/www/after.txt"
    start_nginx nginx nginx "$T/www"
    run traced curl-client curl -sS -w '%{num_connects}\n' -o "$T/big.out" "http://127.0.0.1:$NGINX_PORT/big.bin" \
        -o "$T/after.out" "http://127.0.0.1:$NGINX_PORT/after.txt"
    assert_ok
    [ "$(echo "$output" | tr '\n' ' ')" = "1 0 " ]
    cmp "$T/big.out" "$T/www/big.bin"
    cmp "$T/after.out" "$T/www/after.txt"
    wait_spans 2 --service curl-client
    wait_spans 2 --service nginx
    check_spans "
for path in ('/big.bin', '/after.txt'):
    c = one(service='curl-client', kind='client', url__full='http://127.0.0.1:$NGINX_PORT' + path)
    s = one(service='nginx', kind='server', url__path=path)
    expect_eq(s.get('parent_span_id'), c.get('span_id'), path + ': server is child of client')
    expect_attrs(s, {'http.response.status_code': 200})
"
}

# run_binary_stream MODE: traced server and traced client exchange a non-HTTP
# stream (echoed back); both directions must be byte-identical.
run_binary_stream() {
    local mode=$1
    start_traced_bg bserver binary-server "$PROGRAMS_DIR/binary_stream" server "$T/bs.port" "$T/received.bin"
    local server_pid=$BG_PID
    wait_file "$T/bs.port" 10 "$server_pid" bserver
    run traced binary-client "$PROGRAMS_DIR/binary_stream" client "$(<"$T/bs.port")" "$T/sent.bin" "$T/echo.bin" "$mode"
    assert_ok
    local i
    for ((i = 0; i < 100; i++)); do
        pid_alive "$server_pid" || break
        sleep 0.05
    done
    if pid_alive "$server_pid"; then
        fail_now "binary_stream server did not finish"
    fi
    [ "$(stat -c %s "$T/sent.bin")" -gt 100000 ]
    cmp "$T/sent.bin" "$T/received.bin"
    cmp "$T/sent.bin" "$T/echo.bin"
    run grep -qai traceparent "$T/received.bin"
    [ "$status" -eq 1 ]

    # Both programs have exited (and flushed). A traced control request
    # proves the pipeline delivers; then nothing may have come from either.
    start_http_server control "" "$T/www"
    printf 'x\n' >"$T/www/x.txt"
    traced control-client curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    wait_spans 1 --service control-client
    check_spans "
expect_eq(len(sel(service='binary-server')), 0, 'spans from the binary stream server')
expect_eq(len(sel(service='binary-client')), 0, 'spans from the binary stream client')
"
}

@test "binary stream (TLS-like start, later an HTTP-looking request) passes through unchanged and makes no span" {
    run_binary_stream binary
}

@test "binary stream starting with 'GET ' then non-HTTP bytes passes through unchanged and makes no span" {
    run_binary_stream almost-http
}
