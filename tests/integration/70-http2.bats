#!/usr/bin/env bats
# HTTP/2 on the wire (src/protocols/http2/): real programs speaking HTTP/2
# under the shim. python3-grpcio client and server over h2c (both traced):
# a CLIENT span per call, a SERVER span per incoming stream, its child
# through the traceparent the shim adds to the HEADERS frame as an HPACK
# literal; the RPC conventions (rpc.system, rpc.service, rpc.method,
# rpc.grpc.status_code) and their error rules per side.

load test_helper
load metrics_helper

setup() {
    common_setup
    "$PY" -c 'import grpc' 2>/dev/null || skip "python3-grpcio not installed"
    start_receiver
}

teardown() {
    common_teardown
}

# start_grpc_server: the traced grpcio server (service grpcsrv) on GRPC_PORT
start_grpc_server() {
    GRPC_PORT=$(free_port)
    start_traced_bg grpcsrv grpcsrv "$PY" "$PY_PROGRAMS/grpc_echo.py" serve "$GRPC_PORT"
    wait_port "$GRPC_PORT" 20 "$BG_PID" grpcsrv
}

# grpc_call METHOD [ARG]: one traced call (service grpccli)
grpc_call() {
    traced grpccli "$PY" "$PY_PROGRAMS/grpc_echo.py" call "$GRPC_PORT" "$@"
}

# check_call METHOD 'PYTHON': waits for the one CLIENT span of the call
# (service grpccli) and the one SERVER span (grpcsrv) named demo.Echo/METHOD,
# checks that the server span is the client span's child, then runs the
# assertions with c and s bound to them.
check_call() {
    local name=demo.Echo/$1
    wait_spans 1 --service grpcsrv --kind server --name "$name"
    wait_spans 1 --service grpccli --kind client --name "$name"
    check_spans "
c = one(service='grpccli', kind='client', name='$name')
s = one(service='grpcsrv', kind='server', name='$name')
expect_eq(s['trace_id'], c['trace_id'], 'one trace')
expect_eq(s.get('parent_span_id'), c['span_id'], 'the server span parented to the client span')
$2"
}

@test "grpcio unary call over h2c: the server span is the client span's child, rpc.* attributes on both" {
    start_grpc_server
    run grpc_call Say hello
    assert_ok
    [ "${lines[0]}" = hello ]
    [ "${lines[1]}" = "status OK" ]
    check_call Say "
for x in (c, s):
    expect_attrs(x, {'rpc.system': 'grpc', 'rpc.service': 'demo.Echo', 'rpc.method': 'Say',
                     'rpc.grpc.status_code': 0, 'network.protocol.version': '2'})
    expect_eq(x['status_code'], 0, x['service'] + ' status unset')
expect_attrs(c, {'server.address': '127.0.0.1', 'server.port': $GRPC_PORT})
"
}

@test "grpcio with OTEL_PROPAGATORS=b3multi on both sides: the context goes in x-b3-* fields (no traceparent), the server span is the client span's child" {
    export OTEL_PROPAGATORS=b3multi
    start_grpc_server
    run grpc_call Context
    assert_ok
    [ "${lines[0]}" = "x-b3-sampled,x-b3-spanid,x-b3-traceid" ] || fail_now "fields: ${lines[0]}"
    check_call Context ""
}

@test "grpcio NOT_FOUND: the client span is an error, the server span is not (RPC conventions)" {
    start_grpc_server
    run grpc_call Missing x
    assert_ok
    [ "${lines[0]}" = "status NOT_FOUND" ]
    check_call Missing "
expect_attrs(c, {'rpc.grpc.status_code': 5, 'error.type': 'NOT_FOUND'})
expect_eq(c['status_code'], 2, 'client span Error')
expect_attrs(s, {'rpc.grpc.status_code': 5})
expect(attr(s, 'error.type') is None, 'no error.type on the server span')
expect_eq(s['status_code'], 0, 'server span not an error')
"
}

@test "grpcio handler raising: UNKNOWN, an error on both sides" {
    start_grpc_server
    run grpc_call Crash x
    assert_ok
    [ "${lines[0]}" = "status UNKNOWN" ]
    check_call Crash "
for x in (c, s):
    expect_attrs(x, {'rpc.grpc.status_code': 2, 'error.type': 'UNKNOWN'})
    expect_eq(x['status_code'], 2, x['service'] + ' span Error')
"
}

@test "grpcio server-streaming: one span per side for the whole stream, every message delivered" {
    start_grpc_server
    run grpc_call Count 50
    assert_ok
    [ "${#lines[@]}" -eq 51 ]
    [ "${lines[49]}" = "item 49" ]
    [ "${lines[50]}" = "status OK" ]
    check_call Count "
expect_attrs(c, {'rpc.grpc.status_code': 0})
expect_attrs(s, {'rpc.grpc.status_code': 0})
"
}

@test "grpcio: several calls on one channel, each its own pair of spans" {
    start_grpc_server
    run traced grpccli "$PY" -c "
import grpc
with grpc.insecure_channel('127.0.0.1:$GRPC_PORT') as ch:
    say = ch.unary_unary('/demo.Echo/Say')
    for i in range(5):
        assert say(b'm%d' % i, timeout=20) == b'm%d' % i
print('done')
"
    assert_ok
    [ "$output" = done ]
    wait_spans 5 --service grpcsrv --kind server
    wait_spans 5 --service grpccli --kind client
    check_spans "
cs = sel(service='grpccli', kind='client', name='demo.Echo/Say')
ss = sel(service='grpcsrv', kind='server', name='demo.Echo/Say')
expect_eq(len(cs), 5, 'client spans')
expect_eq(len(ss), 5, 'server spans')
ids = set(c['span_id'] for c in cs)
expect_eq(sorted(s.get('parent_span_id') for s in ss), sorted(ids), 'each server span the child of one client span')
"
}

# grpc_mixed_calls: one traced client (service grpccli) making, on one
# channel, 3 Say calls (OK), 2 Missing (NOT_FOUND) and 1 Crash (UNKNOWN).
grpc_mixed_calls() {
    run traced grpccli "$PY" -c "
import grpc
with grpc.insecure_channel('127.0.0.1:$GRPC_PORT') as ch:
    for method, n in (('Say', 3), ('Missing', 2), ('Crash', 1)):
        call = ch.unary_unary('/demo.Echo/' + method)
        for i in range(n):
            try:
                call(b'x', timeout=20)
            except grpc.RpcError as e:
                pass
print('done')
"
    assert_ok
    [ "$output" = done ]
}

@test "gRPC call-duration histograms (OTLP): rpc.server.duration and rpc.client.duration count the calls by method and status code, unit ms" {
    EXTRA_ENV=(OTEL_METRIC_EXPORT_INTERVAL=200)
    start_grpc_server
    grpc_mixed_calls
    wait_metric rpc.server.duration 6
    wait_metric rpc.client.duration 6
    sleep 0.5 # one more export: nothing beyond the 6 may show up
    check_metrics "
RPC_BOUNDS = [0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0, 10000.0]
for name, service in (('rpc.server.duration', 'grpcsrv'), ('rpc.client.duration', 'grpccli')):
    expect_eq(len(series(name)), 3, name + ': one series per method and status')
    for method, code, n in (('Say', 0, 3), ('Missing', 5, 2), ('Crash', 2, 1)):
        ps = latest(name, rpc__method=method)
        if not expect_eq(len(ps), 1, '%s %s: one series' % (name, method)):
            continue
        p = ps[0]
        a = p['attributes']
        expect_eq(p['count'], n, '%s %s: calls' % (name, method))
        expect_eq(sum(p['bucket_counts']), n, 'buckets add up to the count')
        expect_eq(a.get('rpc.grpc.status_code'), code, '%s %s: rpc.grpc.status_code' % (name, method))
        expect_eq(a.get('rpc.system'), 'grpc', 'rpc.system')
        expect_eq(a.get('rpc.service'), 'demo.Echo', 'rpc.service')
        expect_eq(p['unit'], 'ms', 'unit')
        expect_eq(p['type'], 'histogram', 'type')
        expect_eq(p['explicit_bounds'], RPC_BOUNDS, 'bucket boundaries of the RPC conventions')
        expect_eq(p['service'], service, 'the process that measured it')
        expect(0 < p['sum'] < 20000 * n, 'sum of durations in milliseconds: %r' % p['sum'])
        if name == 'rpc.client.duration':
            expect_eq(a.get('server.address'), '127.0.0.1', 'server.address (:authority)')
            expect_eq(a.get('server.port'), $GRPC_PORT, 'server.port')
        else:
            expect('server.address' not in a, 'no server.address on the server')
expect_eq(latest('http.server.request.duration') + latest('http.client.request.duration'), [],
          'gRPC calls are not HTTP requests in the metrics')
"
}

@test "gRPC call-duration histograms (Prometheus): the server's scrape counts the calls by method and status code" {
    PROM_PORT=$(free_port)
    EXTRA_ENV=(OTEL_METRICS_EXPORTER=prometheus "OTEL_EXPORTER_PROMETHEUS_PORT=$PROM_PORT" OTEL_METRIC_EXPORT_INTERVAL=200)
    start_grpc_server
    EXTRA_ENV=()
    grpc_mixed_calls
    wait_port "$PROM_PORT" 5
    run curl -sS --max-time 5 "http://localhost:$PROM_PORT/metrics"
    assert_ok
    local text=$output base=rpc_server_duration_milliseconds
    [[ $text == *"# TYPE $base histogram"* ]]
    local say='rpc_system="grpc",rpc_service="demo.Echo",rpc_method="Say",rpc_grpc_status_code="0"'
    local missing='rpc_system="grpc",rpc_service="demo.Echo",rpc_method="Missing",rpc_grpc_status_code="5"'
    local crash='rpc_system="grpc",rpc_service="demo.Echo",rpc_method="Crash",rpc_grpc_status_code="2"'
    [ "$(prometheus_value "$text" "${base}_count{$say}")" = 3 ]
    [ "$(prometheus_value "$text" "${base}_count{$missing}")" = 2 ]
    [ "$(prometheus_value "$text" "${base}_count{$crash}")" = 1 ]
    [ "$(prometheus_value "$text" "${base}_bucket{$say,le=\"10000\"}")" -le 3 ]
    [ "$(prometheus_value "$text" "${base}_bucket{$say,le=\"+Inf\"}")" = 3 ]
}

# start_nghttpx_h2c SERVICE: nghttpx (nghttp2-proxy, traced as SERVICE),
# a cleartext frontend that accepts `Upgrade: h2c`, in front of an untraced
# python http.server on $T/www. Sets NGHTTPX_PORT.
start_nghttpx_h2c() {
    command -v nghttpx >/dev/null || skip "nghttpx (nghttp2-proxy) not installed"
    start_http_server backend "" "$T/www"
    NGHTTPX_PORT=$(free_port)
    start_traced_bg nghttpx "$1" nghttpx "--frontend=127.0.0.1,$NGHTTPX_PORT;no-tls" \
        "--backend=127.0.0.1,$HTTP_SERVER_PORT" --workers=1 --log-level=WARN --conf=/dev/null
    wait_port "$NGHTTPX_PORT" 10 "$BG_PID" nghttpx
}

@test "Upgrade: h2c (nghttp -u -> nghttpx, both traced): the upgrade request is stream 1 of an HTTP/2 connection, later streams traced as usual, bytes identical" {
    command -v nghttp >/dev/null || skip "nghttp (nghttp2-client) not installed"
    mkdir -p "$T/www"
    head -c 300000 /dev/urandom >"$T/www/big.bin"
    printf 'hello\n' >"$T/www/a.txt"
    start_nghttpx_h2c h2proxy
    # stream 1: the upgrade request (GET /a.txt); then /big.bin on stream 3
    run traced h2cli nghttp -u -n -v "http://127.0.0.1:$NGHTTPX_PORT/a.txt" "http://127.0.0.1:$NGHTTPX_PORT/big.bin"
    assert_ok
    [[ $output == *"HTTP Upgrade success"* ]] || fail_now "no upgrade: $output"
    # the body of an upgrade request's response, arriving in HTTP/2 DATA
    traced h2cli nghttp -u "http://127.0.0.1:$NGHTTPX_PORT/big.bin" >"$T/got.bin"
    cmp "$T/got.bin" "$T/www/big.bin"
    wait_spans 3 --service h2cli --kind client
    wait_spans 3 --service h2proxy --kind server
    check_spans "
cs = sel(service='h2cli', kind='client')
ss = sel(service='h2proxy', kind='server')
expect_eq(len(cs), 3, 'client spans: the two upgrade requests and stream 3')
expect_eq(len(ss), 3, 'server spans')
for x in cs + ss:
    expect_eq(x['attributes'].get('http.response.status_code'), 200, x['service'] + ': the response of the stream, not the 101')
    expect_eq(x['status_code'], 0, x['service'] + ' status unset')
for spans, who in ((cs, 'client'), (ss, 'server')):
    up = [x for x in spans if x['attributes'].get('network.protocol.version') == '1.1']
    h2 = [x for x in spans if x['attributes'].get('network.protocol.version') == '2']
    expect_eq(len(up), 2, who + ': the upgrade requests, their HTTP/1 spans ended by stream 1')
    expect_eq(len(h2), 1, who + ': stream 3, an HTTP/2 span')
    expect_eq([x['attributes'].get('url.path', x['attributes'].get('url.full', '')).endswith('/big.bin') for x in h2], [True], who + ': stream 3 is /big.bin')
ids = set(c['span_id'] for c in cs)
expect_eq(sorted(s.get('parent_span_id') for s in ss), sorted(ids), 'each server span the child of one client span')
"
}

@test "Upgrade: h2c by curl --http2 (traced at the libcurl level) -> traced nghttpx: the server span of stream 1 is the child of curl's, status 200, body identical" {
    [[ $SUBSTITUTE_CURL == 0 ]] || skip "curl cannot start with libasan preloaded here (mini_curl.py has no --http2)"
    mkdir -p "$T/www"
    head -c 200000 /dev/urandom >"$T/www/big.bin"
    start_nghttpx_h2c h2proxy
    run traced curlcli curl -sS --http2 -o "$T/got.bin" -w '%{http_version}' "http://127.0.0.1:$NGHTTPX_PORT/big.bin"
    assert_ok
    [ "$output" = 2 ] || fail_now "curl did not upgrade: $output"
    cmp "$T/got.bin" "$T/www/big.bin"
    wait_spans 1 --service curlcli --kind client
    wait_spans 1 --service h2proxy --kind server
    check_spans "
c = one(service='curlcli', kind='client')
s = one(service='h2proxy', kind='server')
expect_eq(s.get('parent_span_id'), c['span_id'], 'the server span the child of curl\'s')
expect_eq(s['attributes'].get('http.response.status_code'), 200, 'stream 1\'s status, not the 101')
expect_eq(s['status_code'], 0, 'server span status unset')
"
}

# start_nginx_h2c NAME SERVICE: nginx (traced as SERVICE) serving $T/www over
# cleartext HTTP/2 with prior knowledge (the common configuration of
# write_nginx_conf, its listener made http2), with header buffers large
# enough for header blocks in CONTINUATION frames. Sets NGINX_PORT.
start_nginx_h2c() {
    local name=$1 service=$2 dir=$T/$1 port
    port=$(free_port)
    write_nginx_conf "$dir" "$port" "$T/www"
    sed -i "s|listen 127.0.0.1:$port;|listen 127.0.0.1:$port http2;\n        large_client_header_buffers 4 64k;|" \
        "$dir/nginx.conf"
    grep -q "$port http2;" "$dir/nginx.conf" || fail_now "nginx.conf: no http2 listener"
    start_traced_bg "$name" "$service" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
    wait_port "$port" 10 "$BG_PID" "$name" || { cat "$dir/error.log" >&2; return 1; }
    NGINX_PORT=$port
}

@test "h2load -> nginx (h2c): 120 streams on 2 connections, 6 at once, CONTINUATION and HPACK eviction: a span per stream, each the child of its h2load span" {
    command -v h2load >/dev/null || skip "h2load (nghttp2-client) not installed"
    mkdir -p "$T/www"
    printf 'hello h2\n' >"$T/www/hello.txt"
    EXTRA_ENV=(OTEL_METRIC_EXPORT_INTERVAL=200)
    start_nginx_h2c nginx nginx
    # x-big (20000 octets) makes each header block longer than a frame
    # (16384): nghttp2 sends it in HEADERS + CONTINUATION; five 900-octet
    # fields overflow the 4096-octet dynamic table on every request
    local fill big
    fill=$(head -c 900 /dev/zero | tr '\0' a)
    big=$(head -c 20000 /dev/zero | tr '\0' b)
    run traced h2load h2load -n 120 -c 2 -m 6 -H "x-big: $big" -H "x-f1: 1$fill" -H "x-f2: 2$fill" \
        -H "x-f3: 3$fill" -H "x-f4: 4$fill" -H "x-f5: 5$fill" "http://127.0.0.1:$NGINX_PORT/hello.txt"
    assert_ok
    [[ $output == *"120 succeeded, 0 failed, 0 errored"* ]]
    [[ $output == *"status codes: 120 2xx"* ]]
    wait_spans 120 --service nginx --kind server
    wait_spans 120 --service h2load --kind client
    check_spans "
cs = sel(service='h2load', kind='client')
ss = sel(service='nginx', kind='server')
expect_eq(len(cs), 120, 'h2load client spans')
expect_eq(len(ss), 120, 'nginx server spans')
by_id = dict((c['span_id'], c) for c in cs)
parents = [s.get('parent_span_id') for s in ss]
expect_eq(sum(1 for p in parents if p in by_id), 120, 'nginx spans whose parent is an h2load span')
expect_eq(len(set(parents)), 120, 'each h2load span the parent of one nginx span')
for s in ss:
    expect_attrs(s, {'http.request.method': 'GET', 'url.path': '/hello.txt', 'http.response.status_code': 200,
                     'network.protocol.version': '2'})
    p = by_id.get(s.get('parent_span_id'))
    if p is not None:
        expect_eq(s['trace_id'], p['trace_id'], 'trace of the parent')
"
    # the HTTP metrics count HTTP/2 streams too, on both sides
    wait_metric http.server.request.duration 120 network.protocol.version=2 http.response.status_code=200
    wait_metric http.client.request.duration 120 network.protocol.version=2 http.response.status_code=200 \
        server.port="$NGINX_PORT"
}

@test "grpcio: a 20 MiB message each way arrives byte-identical under the shim (both ends traced)" {
    start_grpc_server
    run traced grpccli "$PY" -c "
import grpc, hashlib, os
big = 64 * 1024 * 1024
msg = os.urandom(20 * 1024 * 1024)
opts = [('grpc.max_send_message_length', big), ('grpc.max_receive_message_length', big)]
with grpc.insecure_channel('127.0.0.1:$GRPC_PORT', options=opts) as ch:
    back = ch.unary_unary('/demo.Echo/Say')(msg, timeout=50)
print('same' if hashlib.sha256(back).digest() == hashlib.sha256(msg).digest() else 'differs', len(back))
"
    assert_ok
    [ "$output" = "same 20971520" ]
    check_call Say "
expect_attrs(c, {'rpc.grpc.status_code': 0})
"
}
