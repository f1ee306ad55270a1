#!/usr/bin/env bats
# Transparency of HTTP/2 (issue 14): whatever the shim does with HTTP/2 -
# recognise it, decode its header blocks, add trace context to them - the
# programs' messages arrive byte-identical, and what only looks like HTTP/2
# is left alone:
#   - a 20 MiB gRPC message (python3-grpcio, cleartext h2c), client and
#     server both traced, echoed back;
#   - a 20 MiB HTTP/2 download from nginx (`http2` on TLS) by nghttp and by
#     curl --http2;
#   - a TLS session whose client offers ALPN h2 but which settles on another
#     protocol, and cleartext streams starting with "PRI" that are not the
#     HTTP/2 preface: untouched, and no span.

load test_helper
load tls_helper

setup() {
    common_setup
    start_receiver
    write_h2_programs
}

teardown() {
    common_teardown
}

BIG=$((20 << 20))

# $T/h2prog.py: the test's small programs (gRPC echo, TLS and TCP echo).
write_h2_programs() {
    cat >"$T/h2prog.py" <<'PY'
import hashlib, os, select, socket, ssl, sys, threading

def sha(b):
    return hashlib.sha256(b).hexdigest()

GRPC_OPTIONS = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
METHOD = "/transparency.Echo/Echo"

def grpc_server(port_file, sha_file):
    import grpc
    from concurrent import futures
    def echo(request, context):
        with open(sha_file + ".tmp", "w") as f:
            f.write("%d %s\n" % (len(request), sha(request)))
        os.rename(sha_file + ".tmp", sha_file)
        return request
    handler = grpc.method_handlers_generic_handler(
        "transparency.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), options=GRPC_OPTIONS)
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(port_file + ".tmp", port_file)
    server.wait_for_termination()

def grpc_client(port, size):
    import grpc
    payload = os.urandom(int(size))
    with grpc.insecure_channel("127.0.0.1:%s" % port, options=GRPC_OPTIONS) as channel:
        reply = channel.unary_unary(METHOD)(payload, timeout=50)
    print("sent %d %s" % (len(payload), sha(payload)))
    print("received %d %s" % (len(reply), sha(reply)))

def serve_echo(conn):
    with conn:
        while True:
            b = conn.recv(65536)
            if not b:
                return
            conn.sendall(b)

def echo_server(mode, port_file, cert=None, key=None):
    ctx = None
    if mode == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["echo/1"])
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)
    while True:
        conn, _ = ls.accept()
        if ctx is not None:
            conn = ctx.wrap_socket(conn, server_side=True)
        threading.Thread(target=serve_echo, args=(conn,), daemon=True).start()

def echo_client(mode, port, cert, *starts):
    for start in starts:
        data = start.encode().decode("unicode_escape").encode("latin-1") + os.urandom(1 << 20)
        s = socket.create_connection(("127.0.0.1", int(port)))
        proto = "none"
        if mode == "tls":
            ctx = ssl.create_default_context(cafile=cert)
            ctx.set_alpn_protocols(["h2", "echo/1"])
            s = ctx.wrap_socket(s, server_hostname="localhost")
            proto = s.selected_alpn_protocol()
        # one thread (an SSL object takes no concurrent read and write): a
        # chunk sent, then whatever came back read, so neither side's
        # buffers fill up
        back = bytearray()
        for at in range(0, len(data), 16384):
            s.sendall(data[at:at + 16384])
            while len(back) < len(data) and (select.select([s], [], [], 0)[0] or (mode == "tls" and s.pending())):
                back += s.recv(65536)
        while len(back) < len(data):
            b = s.recv(65536)
            if not b:
                break
            back += b
        s.close()
        print("%s alpn=%s %s" % ("echo ok" if bytes(back) == data else "echo DIFFERS", proto, start))

{"grpc-server": grpc_server, "grpc-client": grpc_client,
 "echo-server": echo_server, "echo-client": echo_client}[sys.argv[1]](*sys.argv[2:])
PY
}

# nginx serving $T/www (test_helper's write_nginx_conf) with its listener
# made HTTP/2 on TLS (ALPN h2), on a free port, traced as SERVICE. Sets
# NGINX_PORT.
start_nginx_h2_static() {
    local name=$1 service=$2 dir=$T/$1 port
    make_cert "$name"
    port=$(free_port)
    write_nginx_conf "$dir" "$port" "$T/www"
    sed -i "s|^\( *\)listen 127.0.0.1:$port;|\1listen 127.0.0.1:$port ssl http2;\n\1ssl_certificate $T/$name.crt;\n\1ssl_certificate_key $T/$name.key;|" \
        "$dir/nginx.conf"
    grep -q "listen 127.0.0.1:$port ssl http2;" "$dir/nginx.conf" || fail_now "could not make nginx's listener HTTP/2 on TLS"
    start_traced_bg "$name" "$service" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
    if ! wait_port "$port" 10 "$BG_PID" "$name"; then
        cat "$dir/error.log" >&2 2>/dev/null
        return 1
    fi
    NGINX_PORT=$port
}

# echo_untouched MODE ALPN [CERT...] -- STARTS...: a traced echo server
# (MODE tls or tcp) and a traced client sending, on one connection each,
# STARTS (python escapes) followed by 1 MiB of random bytes: each must come
# back identical, with ALPN negotiated; then a traced plain-HTTP exchange
# (so that "no span" cannot mean "the exporter never ran"), and no span
# from either echo program.
echo_untouched() {
    local mode=$1 alpn=$2 certs=() n
    shift 2
    while [[ $1 != -- ]]; do certs+=("$1"); shift; done
    shift
    n=$#
    start_traced_bg "$mode-echo-server" "$mode-echo-server" "$PY" "$T/h2prog.py" echo-server "$mode" "$T/$mode-echo.port" "${certs[@]}"
    wait_file "$T/$mode-echo.port" 10 "$BG_PID" "$mode-echo-server"
    run traced "$mode-echo-client" "$PY" "$T/h2prog.py" echo-client "$mode" "$(<"$T/$mode-echo.port")" "${certs[0]:--}" "$@"
    assert_ok
    [ "$(grep -c "^echo ok alpn=$alpn " <<<"$output")" -eq "$n" ] || fail_now "echo failed: $output"

    start_backend control-backend control-backend
    printf 'x\n' >"$T/www/x.txt"
    run traced control-client "$PY" "$PY_PROGRAMS/mini_curl.py" -sS -o /dev/null "http://127.0.0.1:$BACKEND_PORT/x.txt"
    assert_ok
    wait_spans 2 --settle 1
    check_spans "
expect_eq(len(spans), 2, 'only the spans of the plain HTTP exchange')
expect_eq(sel(service='$mode-echo-server') + sel(service='$mode-echo-client'), [], 'no span from the echo connections')
"
}

@test "a 20 MiB gRPC message, traced grpcio client and server over h2c: byte-identical both ways" {
    /usr/bin/python3 -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed"
    start_traced_bg grpc-server grpc-server /usr/bin/python3 "$T/h2prog.py" grpc-server "$T/grpc.port" "$T/grpc.sha"
    wait_file "$T/grpc.port" 20 "$BG_PID" grpc-server
    run traced grpc-client /usr/bin/python3 "$T/h2prog.py" grpc-client "$(<"$T/grpc.port")" "$BIG"
    assert_ok
    wait_file "$T/grpc.sha" 10
    local sent received server
    sent=$(sed -n 's/^sent //p' <<<"$output")
    received=$(sed -n 's/^received //p' <<<"$output")
    server=$(<"$T/grpc.sha")
    [[ $sent == "$BIG "* ]] || fail_now "the client did not send $BIG bytes: $output"
    [ "$server" = "$sent" ] || fail_now "the server received '$server', the client sent '$sent'"
    [ "$received" = "$sent" ] || fail_now "the client got back '$received', it sent '$sent'"
    process_has_shim "$BG_PID" || fail_now "the gRPC server does not run under the shim"
}

@test "a 20 MiB HTTP/2 download from traced nginx (http2 on TLS) by traced nghttp and curl --http2: byte-identical" {
    command -v nghttp >/dev/null || skip "nghttp (nghttp2-client) is not installed"
    mkdir -p "$T/www"
    head -c "$BIG" /dev/urandom >"$T/www/big.bin"
    printf 'after\n' >"$T/www/after.txt"
    start_nginx_h2_static nginx-h2 nginx-h2
    local base=https://127.0.0.1:$NGINX_PORT
    # nghttp: nghttp2 over OpenSSL, the HTTP/2 in SSL_read/SSL_write (it
    # writes the bodies to stdout: one stream per run)
    traced nghttp-client nghttp "$base/big.bin" >"$T/big.nghttp"
    cmp "$T/big.nghttp" "$T/www/big.bin"
    traced nghttp-client nghttp "$base/after.txt" >"$T/after.nghttp"
    cmp "$T/after.nghttp" "$T/www/after.txt"
    # curl: libcurl's own HTTP/2 (nghttp2) over OpenSSL (where curl cannot
    # run under the shim, as under ASan, test_helper substitutes mini_curl.py,
    # which speaks no HTTP/2: nghttp's downloads stand alone then)
    [[ $SUBSTITUTE_CURL == 1 ]] && return 0
    run traced curl-client curl -sS --http2 --cacert "$T/nginx-h2.crt" -w '%{http_version}\n' \
        -o "$T/big.curl" "$base/big.bin" -o "$T/after.curl" "$base/after.txt"
    assert_ok
    [ "$(echo "$output" | tr '\n' ' ')" = "2 2 " ] || fail_now "curl did not speak HTTP/2: $output"
    cmp "$T/big.curl" "$T/www/big.bin"
    cmp "$T/after.curl" "$T/www/after.txt"
}

@test "a TLS session offering ALPN h2 but settling on another protocol, starting with the preface, is untouched and makes no span" {
    make_cert echo
    echo_untouched tls echo/1 "$T/echo.crt" "$T/echo.key" -- \
        'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' 'binary'
}

@test "cleartext streams starting with 'PRI' that are not the HTTP/2 preface are untouched and make no span" {
    # IRC's PRIVMSG; the preface with its last byte changed; the preface's
    # first line alone, then other bytes
    echo_untouched tcp none -- \
        'PRIVMSG #otel :hello\r\n' 'PRI * HTTP/2.0\r\n\r\nSM\r\n\rX' 'PRI * HTTP/2.0\r\n\r\n'
}
