#!/usr/bin/env bats
# Two unmodified programs under the shim: curl calls python's http.server.
# One CLIENT span from curl, one SERVER span from python, one trace, the
# server span the child of the client span, attributes per the HTTP semconv.

load test_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'hello from the server\n' >"$T/www/hello.txt"
}

teardown() {
    common_teardown
}

@test "curl -> python http.server: one client span, one server span, one trace, server is child of client" {
    start_http_server server py-server "$T/www"
    local port=$HTTP_SERVER_PORT
    run traced curl-client curl -sS -A otelauto-test/1.0 -o "$T/body" -w '%{local_port}' \
        "http://127.0.0.1:$port/hello.txt"
    assert_ok
    local curl_port=$output
    cmp "$T/body" "$T/www/hello.txt"

    wait_spans 1 --service curl-client --kind client
    wait_spans 1 --service py-server --kind server
    check_spans "
client = one(service='curl-client', kind='client')
server = one(service='py-server', kind='server')
expect_eq(len(spans), 2, 'number of spans')
expect_eq(client.get('parent_span_id'), '', 'client span is a root')
expect_eq(server.get('trace_id'), client.get('trace_id'), 'server trace id')
expect_eq(server.get('parent_span_id'), client.get('span_id'), 'server parent span id')
expect(len(client.get('trace_id', '')) == 32 and client['trace_id'] != '0' * 32, 'valid trace id')
expect(len(client.get('span_id', '')) == 16 and len(server.get('span_id', '')) == 16, 'valid span ids')
expect(client.get('span_id') != server.get('span_id'), 'distinct span ids')
for s in (client, server):
    expect(0 < s.get('start', 0) <= s.get('end', 0), '%s: 0 < start <= end' % s.get('service'))
expect(server.get('start', 0) <= client.get('end', 0) and client.get('start', 0) <= server.get('end', 0),
       'server span overlaps the client span in time')
"
}

@test "curl -> python http.server: server span attributes follow the HTTP semconv" {
    start_http_server server py-server "$T/www"
    local port=$HTTP_SERVER_PORT
    run traced curl-client curl -sS -A otelauto-test/1.0 -o /dev/null -w '%{local_port}' \
        "http://127.0.0.1:$port/hello.txt"
    assert_ok
    local curl_port=$output

    wait_spans 1 --service py-server --kind server
    check_spans "
s = one(service='py-server', kind='server')
expect_eq(s.get('name'), 'GET', 'server span name')
expect_eq(s.get('status_code'), 0, 'server span status (200 is unset)')
expect_attrs(s, {
    'http.request.method': 'GET',
    'url.path': '/hello.txt',
    'url.scheme': 'http',
    'server.address': '127.0.0.1',
    'server.port': $port,
    'client.address': '127.0.0.1',
    'network.peer.address': '127.0.0.1',
    'network.peer.port': $curl_port,
    'network.protocol.version': '1.1',
    'user_agent.original': 'otelauto-test/1.0',
    'http.response.status_code': 200,
})
expect(attr(s, 'error.type') is None, 'no error.type on success')
"
}

@test "curl -> python http.server: client span attributes follow the HTTP semconv" {
    start_http_server server py-server "$T/www"
    local port=$HTTP_SERVER_PORT
    run traced curl-client curl -sS -A otelauto-test/1.0 -o /dev/null "http://127.0.0.1:$port/hello.txt"
    assert_ok

    wait_spans 1 --service curl-client --kind client
    check_spans "
c = one(service='curl-client', kind='client')
expect_eq(c.get('name'), 'GET', 'client span name')
expect_eq(c.get('status_code'), 0, 'client span status (200 is unset)')
expect_attrs(c, {
    'http.request.method': 'GET',
    'url.full': 'http://127.0.0.1:$port/hello.txt',
    'server.address': '127.0.0.1',
    'server.port': $port,
    'network.peer.address': '127.0.0.1',
    'network.peer.port': $port,
    'http.response.status_code': 200,
})
# python's http.server answers HTTP/1.0 to curl's HTTP/1.1 request: either is a
# faithful record of the exchange.
expect(attr(c, 'network.protocol.version') in ('1.1', '1.0'),
       'client network.protocol.version is 1.1 or 1.0, got %r' % attr(c, 'network.protocol.version'))
expect(attr(c, 'error.type') is None, 'no error.type on success')
expect(c.get('resource', {}).get('service.name', 'curl-client') == 'curl-client', 'resource service.name')
"
}
