#!/usr/bin/env bats
# Python's ssl module on both ends: an HTTPS server traced with extraction
# from a traced HTTPS client, both traced at the TLS level (OpenSSL hooks),
# the client's traceparent written into the plaintext before encryption.

load test_helper
load tls_helper

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

@test "python3 HTTPS client -> python3 HTTPS server, three requests on one TLS connection: three client/server pairs" {
    start_tls_backend backend backend
    local base=https://127.0.0.1:$BACKEND_PORT
    run traced py-client "$PY" "$PY_PROGRAMS/mini_curl.py" -sS --cacert "$T/backend.crt" -w '%{num_connects}\n' \
        -o "$T/a.out" "$base/a.txt" -o "$T/b.out" "$base/b.txt?q=1" -o "$T/c.out" "$base/c.txt"
    assert_ok
    [ "$(echo "$output" | tr '\n' ' ')" = "1 0 0 " ]
    cmp "$T/a.out" "$T/www/a.txt"
    cmp "$T/c.out" "$T/www/c.txt"

    wait_spans 3 --service backend --kind server
    wait_spans 3 --service py-client --kind client
    check_spans "
expect_eq(len(spans), 6, 'six spans: nothing counted twice at the socket level')
for path, query in (('/a.txt', None), ('/b.txt', 'q=1'), ('/c.txt', None)):
    full = '$base' + path + ('?' + query if query else '')
    c = one(service='py-client', kind='client', url__full=full)
    s = one(service='backend', kind='server', url__path=path)
    expect_eq(s.get('trace_id'), c.get('trace_id'), path + ': server span in the client trace')
    expect_eq(s.get('parent_span_id'), c.get('span_id'), path + ': server span is the child of the client span')
    expect_attrs(c, {'http.request.method': 'GET', 'server.address': '127.0.0.1', 'server.port': $BACKEND_PORT,
                     'network.peer.port': $BACKEND_PORT, 'http.response.status_code': 200,
                     'network.protocol.version': '1.1'})
    expect_attrs(s, {'url.scheme': 'https', 'url.query': query, 'server.port': $BACKEND_PORT,
                     'http.response.status_code': 200, 'network.protocol.version': '1.1'})
"
}

@test "traced HTTPS client, untraced python3 HTTPS server: the request arrives with exactly one valid traceparent" {
    start_tls_backend backend
    cat >"$T/echo_tp.py" <<'PY'
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ("%r\n" % self.headers.get_all("traceparent")).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(sys.argv[3], "w").write("%d\n" % s.server_address[1])
s.serve_forever()
PY
    start_bg echo "$PY" "$T/echo_tp.py" "$T/backend.crt" "$T/backend.key" "$T/echo.port"
    wait_file "$T/echo.port" 10 "$BG_PID" echo
    local port
    port=$(<"$T/echo.port")
    run traced py-client "$PY" "$PY_PROGRAMS/mini_curl.py" -sS --cacert "$T/backend.crt" "https://127.0.0.1:$port/x"
    assert_ok
    [[ $output =~ ^\[\'00-([0-9a-f]{32})-([0-9a-f]{16})-0[13]\'\]$ ]]
    local trace=${BASH_REMATCH[1]} span=${BASH_REMATCH[2]}
    wait_spans 1 --service py-client --kind client
    check_spans "
c = one(service='py-client', kind='client')
expect_eq((c.get('trace_id'), c.get('span_id')), ('$trace', '$span'), 'the traceparent names the client span')
expect_attrs(c, {'url.full': 'https://127.0.0.1:$port/x'})
"
}
