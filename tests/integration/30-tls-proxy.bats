#!/usr/bin/env bats
# HTTPS through a TLS-terminating proxy: curl (libcurl) -> nginx (OpenSSL,
# traced at the TLS level) -> python3 backend over plain HTTP, all under the
# shim, over HTTP/1.1 and HTTP/2.

load test_helper
load tls_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'hello over tls\n' >"$T/www/hello.txt"
}

teardown() {
    common_teardown
}

@test "curl -> nginx over TLS -> python3 backend: one trace of four spans, each the child of the one before" {
    start_backend backend backend
    start_nginx_tls nginx nginx "$BACKEND_PORT" drop-traceparent
    run traced curl-client curl -sS --cacert "$T/nginx.crt" -o "$T/body" "https://127.0.0.1:$NGINX_PORT/hello.txt?x=1"
    assert_ok
    cmp "$T/body" "$T/www/hello.txt"

    wait_spans 1 --service backend --kind server
    wait_spans 1 --service curl-client --kind client
    wait_spans 2 --service nginx
    check_spans "
expect_eq(len(spans), 4, 'number of spans')
c = one(service='curl-client', kind='client')
ns = one(service='nginx', kind='server')
nc = one(service='nginx', kind='client')
b = one(service='backend', kind='server')
chain = [c, ns, nc, b]
for s in chain:
    expect_eq(s.get('trace_id'), c.get('trace_id'), '%s %s: trace id' % (s.get('service'), s.get('kind')))
expect_eq(c.get('parent_span_id'), '', 'curl span is the root')
for parent, child in zip(chain, chain[1:]):
    expect_eq(child.get('parent_span_id'), parent.get('span_id'),
              'parent of %s %s' % (child.get('service'), child.get('kind')))
    expect(parent.get('start', 0) <= child.get('start', 0) and child.get('end', 0) <= parent.get('end', 0) + 10**9,
           '%s %s inside its parent in time' % (child.get('service'), child.get('kind')))
expect_attrs(c, {'http.request.method': 'GET', 'url.full': 'https://127.0.0.1:$NGINX_PORT/hello.txt?x=1',
                 'server.address': '127.0.0.1', 'server.port': $NGINX_PORT, 'http.response.status_code': 200,
                 'network.protocol.version': '1.1', 'network.peer.address': '127.0.0.1',
                 'network.peer.port': $NGINX_PORT})
expect_attrs(ns, {'http.request.method': 'GET', 'url.scheme': 'https', 'url.path': '/hello.txt', 'url.query': 'x=1',
                  'server.port': $NGINX_PORT, 'http.response.status_code': 200, 'network.protocol.version': '1.1'})
expect_attrs(nc, {'url.full': 'http://backend/hello.txt?x=1', 'network.peer.port': $BACKEND_PORT,
                  'http.response.status_code': 200})
expect_attrs(b, {'url.scheme': 'http', 'url.path': '/hello.txt', 'http.response.status_code': 200})
"
}

@test "curl --http2 -> nginx over TLS with HTTP/2 -> backend: nginx's SERVER span for the HTTP/2 stream, the chain unbroken" {
    skip_without_real_curl
    start_backend backend backend
    start_nginx_tls nginx nginx "$BACKEND_PORT" http2
    run traced curl-client curl -sS --http2 --cacert "$T/nginx.crt" -o "$T/body" -w '%{http_version}' \
        "https://127.0.0.1:$NGINX_PORT/hello.txt?x=1"
    assert_ok
    [ "$output" = 2 ]
    cmp "$T/body" "$T/www/hello.txt"

    wait_spans 1 --service backend --kind server
    wait_spans 1 --service curl-client --kind client
    wait_spans 2 --service nginx
    # curl's transfer is traced at the libcurl level only (one CLIENT span,
    # its HTTP/2 connection not parsed again); nginx's HTTP/2 stream is
    # parsed in the TLS plaintext (src/protocols/http2/): its SERVER span is
    # curl's child, and its upstream request, which forwards curl's
    # traceparent, is that server span's child (the forwarded value replaced)
    check_spans "
expect_eq(len(spans), 4, 'number of spans')
c = one(service='curl-client', kind='client')
ns = one(service='nginx', kind='server')
nc = one(service='nginx', kind='client')
b = one(service='backend', kind='server')
chain = [c, ns, nc, b]
for s in chain:
    expect_eq(s.get('trace_id'), c.get('trace_id'), '%s %s: trace id' % (s.get('service'), s.get('kind')))
for parent, child in zip(chain, chain[1:]):
    expect_eq(child.get('parent_span_id'), parent.get('span_id'),
              'parent of %s %s' % (child.get('service'), child.get('kind')))
expect_attrs(c, {'network.protocol.version': '2', 'http.response.status_code': 200,
                 'url.full': 'https://127.0.0.1:$NGINX_PORT/hello.txt?x=1'})
expect_attrs(ns, {'http.request.method': 'GET', 'url.scheme': 'https', 'url.path': '/hello.txt', 'url.query': 'x=1',
                  'server.address': '127.0.0.1', 'server.port': $NGINX_PORT, 'http.response.status_code': 200,
                  'network.protocol.version': '2'})
expect_attrs(nc, {'network.protocol.version': '1.1', 'http.response.status_code': 200})
"
}
