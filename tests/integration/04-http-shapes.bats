#!/usr/bin/env bats
# Message shapes the parser must follow on both sides: large request
# bodies, 100-continue, chunked responses, HEAD (no body despite
# Content-Length), error statuses. Traced curl against the traced test
# backend (tests/programs/http_backend.py, HTTP/1.1 keep-alive).

load test_helper

setup() {
    common_setup
    start_receiver
    start_backend backend backend
    BASE=http://127.0.0.1:$BACKEND_PORT
    printf 'hello\n' >"$T/www/hello.txt"
}

teardown() {
    common_teardown
}

# assert_pair METHOD PATH STATUS: one client and one server span for PATH,
# linked, with the given method and status code.
assert_pair() {
    local method=$1 path=$2 code=$3
    check_spans "
c = one(service='curl-client', kind='client', url__full='$BASE$path')
s = one(service='backend', kind='server', url__path='${path%%\?*}')
expect_eq(s.get('trace_id'), c.get('trace_id'), '$path: same trace')
expect_eq(s.get('parent_span_id'), c.get('span_id'), '$path: server is child of client')
for span in (c, s):
    expect_eq(span.get('name'), '$method', '$path: span name')
    expect_attrs(span, {'http.request.method': '$method', 'http.response.status_code': $code})
"
}

@test "POST of a 5 MiB body: body arrives intact, client and server spans linked" {
    head -c $((5 * 1024 * 1024)) /dev/urandom >"$T/upload.bin"
    local sha
    sha=$(sha256sum "$T/upload.bin" | cut -d' ' -f1)
    run traced curl-client curl -sS -H 'Expect:' --data-binary "@$T/upload.bin" "$BASE/upload"
    assert_ok
    [[ $output == *"\"length\": 5242880"* ]]
    [[ $output == *"\"sha256\": \"$sha\""* ]]
    wait_spans 1 --service curl-client
    wait_spans 1 --service backend
    assert_pair POST /upload 200
}

@test "POST of a 5 MiB body with Expect: 100-continue: the interim 100 is not the final status" {
    head -c $((5 * 1024 * 1024)) /dev/urandom >"$T/upload.bin"
    local sha
    sha=$(sha256sum "$T/upload.bin" | cut -d' ' -f1)
    run traced curl-client curl -sS -H 'Expect: 100-continue' --data-binary "@$T/upload.bin" "$BASE/upload"
    assert_ok
    [[ $output == *"\"sha256\": \"$sha\""* ]]
    wait_spans 1 --service curl-client
    wait_spans 1 --service backend
    assert_pair POST /upload 200
}

@test "chunked response: body intact, and the next request on the same connection is traced too" {
    run traced curl-client curl -sS -w '\n%{num_connects}' -o "$T/chunked.out" "$BASE/chunked" \
        -o "$T/hello.out" "$BASE/hello.txt"
    assert_ok
    [ "$(echo "$output" | tr -d '\n')" = 10 ]
    [ "$(wc -l <"$T/chunked.out")" -eq 5 ]
    grep -q '^chunk 4 x' "$T/chunked.out"
    cmp "$T/hello.out" "$T/www/hello.txt"
    wait_spans 2 --service curl-client
    wait_spans 2 --service backend
    assert_pair GET /chunked 200
    assert_pair GET /hello.txt 200
}

@test "HEAD: no body is expected after the head, two HEADs on one connection both traced" {
    run traced curl-client curl -sS -I -w '%{num_connects}\n' "$BASE/hello.txt" "$BASE/status/200"
    assert_ok
    [[ $output == *"Content-Length: 6"* ]]
    wait_spans 2 --service curl-client
    wait_spans 2 --service backend
    assert_pair HEAD /hello.txt 200
    assert_pair HEAD /status/200 200
}

@test "404: server span status unset, client span status Error with error.type 404" {
    run traced curl-client curl -sS -o /dev/null -w '%{http_code}' "$BASE/missing.txt"
    assert_ok
    [ "$output" = 404 ]
    wait_spans 1 --service curl-client
    wait_spans 1 --service backend
    assert_pair GET /missing.txt 404
    check_spans "
c = one(service='curl-client', kind='client')
s = one(service='backend', kind='server')
expect_eq(s.get('status_code'), 0, 'server status for 404 (unset)')
expect(attr(s, 'error.type') is None, 'no error.type on a server 404')
expect_eq(c.get('status_code'), 2, 'client status for 404 (Error)')
expect_attrs(c, {'error.type': '404'})
"
}

@test "500: server and client span status Error with error.type 500" {
    run traced curl-client curl -sS -o /dev/null -w '%{http_code}' "$BASE/status/500"
    assert_ok
    [ "$output" = 500 ]
    wait_spans 1 --service curl-client
    wait_spans 1 --service backend
    assert_pair GET /status/500 500
    check_spans "
for span in (one(service='curl-client', kind='client'), one(service='backend', kind='server')):
    expect_eq(span.get('status_code'), 2, '%s status for 500 (Error)' % span.get('service'))
    expect_attrs(span, {'error.type': '500'})
"
}

@test "304 and 204: no body whatever the headers say, status unset, the next request on the connection traced" {
    run traced curl-client curl -sS -o /dev/null -w '%{http_code} %{num_connects}\n' "$BASE/status/304" \
        -o /dev/null "$BASE/status/204" -o "$T/hello.out" "$BASE/hello.txt"
    assert_ok
    [ "$(echo "$output" | tr '\n' ' ')" = "304 1 204 0 200 0 " ]
    cmp "$T/hello.out" "$T/www/hello.txt"
    wait_spans 3 --service curl-client
    wait_spans 3 --service backend
    assert_pair GET /status/304 304
    assert_pair GET /status/204 204
    assert_pair GET /hello.txt 200
    check_spans "
for span in spans:
    expect_eq(span.get('status_code'), 0, '%s status for %s' % (span.get('service'), attr(span, 'http.response.status_code')))
"
}
