#!/usr/bin/env bats
# A C program using the libcurl multi interface: one client span per
# transfer, made at the libcurl level (not again at the TLS or socket
# level), each request with its own traceparent, and the program's header
# lists intact.

load test_helper
load tls_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'multi\n' >"$T/www/multi"
}

teardown() {
    common_teardown
}

@test "libcurl multi, 10 parallel HTTPS transfers: 10 client spans, each request with its own traceparent, header lists unchanged" {
    start_tls_backend backend backend
    local url=https://127.0.0.1:$BACKEND_PORT/multi
    run traced curl-multi "$PROGRAMS_DIR/curl_multi" "$url" 10 "$T/backend.crt"
    assert_ok
    [[ $output == *"lists unchanged"* ]]
    [ "$(grep -c ': status 200$' <<<"$output")" = 10 ]

    wait_spans 10 --service backend --kind server
    wait_spans 10 --service curl-multi --kind client --settle 0.5
    check_spans "
clients = sel(service='curl-multi', kind='client')
servers = sel(service='backend', kind='server')
expect_eq(len(spans), 20, 'ten client spans (nothing traced twice) and ten server spans')
for i in range(10):
    c = one(service='curl-multi', kind='client', url__full='$url?i=%d' % i)
    expect_attrs(c, {'http.request.method': 'GET', 'http.response.status_code': 200,
                     'network.protocol.version': '1.1', 'server.address': '127.0.0.1',
                     'server.port': $BACKEND_PORT, 'network.peer.port': $BACKEND_PORT})
    expect_eq(c.get('parent_span_id'), '', 'a root span')
    s = one(service='backend', kind='server', url__query='i=%d' % i)
    # two traceparent headers, or none, would start a new trace on the server
    expect_eq((s.get('trace_id'), s.get('parent_span_id')), (c.get('trace_id'), c.get('span_id')),
              'request %d carried the traceparent of its own client span' % i)
"
}

@test "libcurl transfer that fails to connect: one client span, Error with the CURLcode name, credentials redacted" {
    skip_without_real_curl
    local port
    port=$(closed_port)
    run traced curl-client curl -sS "http://user:secret@127.0.0.1:$port/x?sig=abc"
    [ "$status" = 7 ]
    wait_spans 1 --service curl-client --kind client
    check_spans "
c = one(service='curl-client', kind='client')
expect_eq(len(spans), 1, 'one span')
expect_eq(c.get('status_code'), 2, 'status Error')
expect_attrs(c, {'error.type': 'CURLE_COULDNT_CONNECT', 'http.request.method': 'GET',
                 'url.full': 'http://REDACTED:REDACTED@127.0.0.1:$port/x?sig=REDACTED'})
expect_eq(attr(c, 'http.response.status_code'), None, 'no status code')
"
}
