#!/usr/bin/env bats
# Transparency over TLS: what the programs send and receive through their
# TLS libraries is exactly what they would without the shim.

load test_helper
load tls_helper

setup() {
    common_setup
    start_receiver
}

teardown() {
    common_teardown
}

@test "20 MiB over TLS, traced server and traced clients (libcurl and python3 ssl): byte-identical" {
    mkdir -p "$T/www"
    head -c $((20 << 20)) /dev/urandom >"$T/www/big.bin"
    start_tls_backend backend backend
    local url=https://127.0.0.1:$BACKEND_PORT/big.bin
    run traced curl-client curl -sS --cacert "$T/backend.crt" -o "$T/big.curl" "$url"
    assert_ok
    cmp "$T/big.curl" "$T/www/big.bin"
    run traced py-client "$PY" "$PY_PROGRAMS/mini_curl.py" -sS --cacert "$T/backend.crt" -o "$T/big.py" "$url"
    assert_ok
    cmp "$T/big.py" "$T/www/big.bin"

    wait_spans 2 --service backend --kind server
    wait_spans 1 --service py-client --kind client
    wait_spans 1 --service curl-client --kind client
    check_spans "
expect_eq(len(spans), 4, 'one client and one server span per download')
for s in sel(service='backend', kind='server'):
    expect_attrs(s, {'url.path': '/big.bin', 'http.response.status_code': 200})
for svc in ('py-client', 'curl-client'):
    c = one(service=svc, kind='client')
    expect_attrs(c, {'url.full': '$url', 'http.response.status_code': 200})
    expect_eq(len(children_of(c)), 1, svc + ': the server span is its child')
"
}

@test "a TLS session carrying a non-HTTP protocol (banner, EHLO lines, binary) is untouched and makes no span" {
    make_cert echo
    start_traced_bg echo-server echo-server "$PY" "$PY_PROGRAMS/tls_echo.py" server "$T/echo.crt" "$T/echo.key" "$T/echo.port"
    wait_file "$T/echo.port" 10 "$BG_PID" echo-server
    run traced echo-client "$PY" "$PY_PROGRAMS/tls_echo.py" client "$T/echo.crt" "$(<"$T/echo.port")"
    assert_ok
    [ "$output" = "echo ok" ]
    # a plain HTTP exchange from the same client process shape, so that
    # "no spans" cannot mean "the exporter never ran"
    start_backend backend backend
    mkdir -p "$T/www" && printf 'x\n' >"$T/www/x.txt"
    run traced py-client "$PY" "$PY_PROGRAMS/mini_curl.py" -sS -o /dev/null "http://127.0.0.1:$BACKEND_PORT/x.txt"
    assert_ok
    wait_spans 2 --settle 1
    check_spans "
expect_eq(len(spans), 2, 'only the spans of the plain HTTP exchange')
expect_eq(sel(service='echo-server') + sel(service='echo-client'), [], 'no span from the TLS echo session')
"
}

# tls_write_client MODE: a 2 MiB POST written by one SSL_write buffer into a
# 4 KiB socket send buffer; the recorded request must be intact with one
# traceparent, and the program must see SSL_write's contract kept.
post_through_full_socket() {
    local mode=$1 size=$((2 << 20))
    make_cert recorder
    start_recording_server recorder --tls-cert "$T/recorder.crt" --tls-key "$T/recorder.key"
    RECORDS=$T/recorder.records
    run traced tls-writer "$PROGRAMS_DIR/tls_write_client" "$RECORDER_PORT" "$T/recorder.crt" "$mode" "$size"
    assert_ok
    [[ $output == *"status: HTTP/1.1 200 OK"* ]]
    [[ $output =~ want_write:\ ([0-9]+) ]]
    (( BASH_REMATCH[1] > 0 )) || fail_now "the socket never filled: the test proves nothing"
    local sha
    sha=$("$PY" -c "import hashlib; print(hashlib.sha256(bytes(i % 251 for i in range($size))).hexdigest())")
    recorded "
expect(len(records) == 1, 'one request, got %d' % len(records))
r = records[0]
expect(len(r['traceparent']) == 1 and TRACEPARENT_RE.match(r['traceparent'][0]), 'one valid traceparent: %r' % r['traceparent'])
expect(r['body_length'] == $size and r['body_sha256'] == '$sha', 'body intact')
expect(r['head'].startswith('POST /upload HTTP/1.1\r\nHost: localhost:$RECORDER_PORT\r\nContent-Length: $size\r\nConnection: close\r\n'), 'head intact')
"
    wait_spans 1 --service tls-writer --kind client
}

@test "SSL_write refused with WANT_WRITE mid-injection: retried with the same buffer, whole count returned, bytes intact" {
    post_through_full_socket retry
}

@test "SSL_MODE_ENABLE_PARTIAL_WRITE: every return within what was asked, the sum exact, bytes intact" {
    post_through_full_socket partial
}
