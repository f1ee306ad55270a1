#!/usr/bin/env bats
# RED metrics over OTLP: http.server.request.duration and
# http.client.request.duration histograms (HTTP semantic conventions),
# http.server.active_requests, recorded for every request and exported to
# /v1/metrics, decoded by tests/lib/otlp_receiver.py.

load test_helper
load metrics_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'hello\n' >"$T/www/hello.txt"
}

teardown() {
    common_teardown
}

@test "python3 server, 10 requests answered 200 and one 404: server duration histogram counts 10 and 1, unit s, semconv buckets" {
    EXTRA_ENV=(OTEL_METRIC_EXPORT_INTERVAL=200)
    start_http_server server py-server "$T/www"
    local port=$HTTP_SERVER_PORT i
    for i in $(seq 10); do
        http_requests "$port" /hello.txt
    done
    http_requests "$port" /missing.txt
    wait_metric http.server.request.duration 11
    sleep 0.5 # one more export: nothing beyond the 11 may show up
    check_metrics "
ok = latest('http.server.request.duration', http__response__status_code=200)
nf = latest('http.server.request.duration', http__response__status_code=404)
expect_eq(len(ok), 1, 'one series for 200')
expect_eq(len(nf), 1, 'one series for 404')
expect_eq(len(series('http.server.request.duration')), 2, 'series in all')
for p, n in ((ok and ok[0], 10), (nf and nf[0], 1)):
    if not p:
        continue
    expect_eq(p['count'], n, 'count of status %s' % p['attributes'].get('http.response.status_code'))
    expect_eq(sum(p['bucket_counts']), n, 'buckets add up to the count')
    expect_eq(p['unit'], 's', 'unit')
    expect_eq(p['type'], 'histogram', 'type')
    expect_eq(p['temporality'], 2, 'cumulative temporality')
    expect_eq(p['explicit_bounds'], SEMCONV_BOUNDS, 'bucket boundaries')
    expect_eq(p['service'], 'py-server', 'service.name of the resource')
    expect(0 < p['sum'] < 10 * n, 'sum of durations in seconds: %r' % p['sum'])
    expect(p['min'] is not None and p['min'] <= p['max'], 'min <= max')
    expect_eq(p['attributes'].get('http.request.method'), 'GET', 'method')
    expect_eq(p['attributes'].get('url.scheme'), 'http', 'url.scheme')
    expect_eq(p['attributes'].get('network.protocol.version'), '1.1', 'network.protocol.version')
    expect(p['start'] <= p['time'], 'start <= time')
    for banned in ('url.path', 'url.full', 'http.route', 'client.address', 'network.peer.port'):
        expect(banned not in p['attributes'], 'no %s attribute' % banned)
if nf:
    expect('error.type' not in nf[0]['attributes'], 'a 404 is not a server error')
active = latest('http.server.active_requests')
expect_eq(len(active), 1, 'one active_requests series')
if active:
    expect_eq(active[0]['value'], 0, 'no request active once all are answered')
    expect_eq(active[0]['type'], 'sum', 'active_requests is a sum')
    expect_eq(active[0]['monotonic'], False, 'active_requests goes up and down')
    expect_eq(active[0]['unit'], '{request}', 'active_requests unit')
"
}

@test "a short-lived traced curl: http.client.request.duration arrives through the exit flush" {
    start_backend backend
    run traced curl-client curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BACKEND_PORT/status/503"
    assert_ok
    [ "$output" = 503 ]
    wait_metric http.client.request.duration 1 --timeout 5
    check_metrics "
ps = latest('http.client.request.duration')
expect_eq(len(ps), 1, 'one client series')
p = ps[0] if ps else {'attributes': {}}
expect_eq(p.get('service'), 'curl-client', 'service')
expect_eq(p.get('count'), 1, 'count')
expect_eq(p.get('unit'), 's', 'unit')
expect_eq(p['attributes'], {
    'http.request.method': 'GET', 'url.scheme': 'http', 'server.address': '127.0.0.1',
    'server.port': $BACKEND_PORT, 'http.response.status_code': 503, 'error.type': '503',
    'network.protocol.version': '1.1'}, 'client attributes')
"
}

@test "sampling off (always_off): no span exported, metrics still complete" {
    EXTRA_ENV=(OTEL_TRACES_SAMPLER=always_off OTEL_METRIC_EXPORT_INTERVAL=200)
    start_http_server server unsampled "$T/www"
    local port=$HTTP_SERVER_PORT i
    for i in $(seq 5); do
        http_requests "$port" /hello.txt
    done
    wait_metric http.server.request.duration 5 http.response.status_code=200
    sleep 0.3
    check_spans "expect_eq(len(spans), 0, 'spans exported with always_off')"
    check_metrics "
ps = latest('http.server.request.duration')
expect_eq([p['count'] for p in ps], [5], 'every request counted')
"
}

@test "1000 requests with distinct paths and Host names: the number of series stays bounded, every request counted" {
    EXTRA_ENV=(OTEL_METRIC_EXPORT_INTERVAL=300 OTEL_TRACES_EXPORTER=none)
    start_backend backend backend
    run traced many-hosts "$PY" -c '
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for i in range(1000):
    c.request("GET", "/missing/%d?q=%d" % (i, i), headers={"Host": "h%d.example" % i})
    c.getresponse().read()
' "$BACKEND_PORT"
    assert_ok
    wait_metric http.server.request.duration 1000
    wait_metric http.client.request.duration 1000 --timeout 5
    check_metrics "
server = latest('http.server.request.duration')
expect_eq(len(server), 1, 'server series: the path is never an attribute')
expect_eq(sum(p['count'] for p in server), 1000, 'server requests counted')
client = latest('http.client.request.duration')
expect_eq(len(client), 201, 'client series: 200 Host names, then the overflow series')
expect_eq(sum(p['count'] for p in client), 1000, 'client requests counted')
overflow = [p for p in client if p['attributes'] == {'otel.metric.overflow': True}]
expect_eq(len(overflow), 1, 'one overflow series')
if overflow:
    expect_eq(overflow[0]['count'], 800, 'requests in the overflow series')
"
}

@test "delta temporality: each export holds only its interval, and together they count every request" {
    EXTRA_ENV=(OTEL_METRIC_EXPORT_INTERVAL=150 OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta)
    start_http_server server delta-server "$T/www"
    local port=$HTTP_SERVER_PORT i
    for i in $(seq 3); do
        http_requests "$port" /hello.txt
    done
    sleep 0.5
    for i in $(seq 4); do
        http_requests "$port" /hello.txt
    done
    sleep 0.6
    check_metrics "
ps = msel('http.server.request.duration')
expect(len(ps) >= 2, 'at least two exports with data, got %d' % len(ps))
expect(all(p['temporality'] == 1 for p in ps), 'delta temporality')
expect_eq(sum(p['count'] for p in ps), 7, 'counts of all exports add up to the requests')
expect(all(p['count'] > 0 for p in ps), 'intervals without requests are not exported')
ps.sort(key=lambda p: p['time'])
for a, b in zip(ps, ps[1:]):
    expect(b['start'] >= a['time'], 'each delta starts where the previous ended')
active = msel('http.server.active_requests')
expect(active and all(p['temporality'] == 2 for p in active), 'active_requests stays cumulative')
"
}

@test "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT wins over the generic endpoint; failed span exports show in the health metrics" {
    local closed
    closed=$(closed_port)
    # spans go to a path the receiver refuses (404: failed for good)
    EXTRA_ENV=("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$closed"
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:$RECEIVER_PORT/refused"
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://127.0.0.1:$RECEIVER_PORT/v1/metrics"
        OTEL_METRIC_EXPORT_INTERVAL=200)
    start_http_server server split "$T/www"
    http_requests "$HTTP_SERVER_PORT" /hello.txt /hello.txt
    wait_metric http.server.request.duration 2
    wait_metric otelauto.spans.failed 2
    check_spans "expect_eq(len(spans), 0, 'spans at the metrics endpoint')"
    check_metrics "
for name in ('otelauto.spans.exported', 'otelauto.spans.dropped', 'otelauto.spans.failed'):
    ps = latest(name)
    expect_eq(len(ps), 1, name)
    if ps:
        expect(ps[0]['monotonic'] and ps[0]['type'] == 'sum', name + ' is a counter')
expect_eq(latest('otelauto.spans.exported')[0]['value'], 0, 'nothing exported')
"
}
