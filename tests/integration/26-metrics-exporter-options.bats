#!/usr/bin/env bats
# Each signal's OTLP exporter has its own options: OTEL_EXPORTER_OTLP_METRICS_*
# and OTEL_EXPORTER_OTLP_TRACES_* each win over the generic
# OTEL_EXPORTER_OTLP_*, and neither reaches the other signal's requests (a
# traces-only API key is never sent with metrics). Observed at the collector:
# the headers and Content-Encoding of every /v1/traces and /v1/metrics request.

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

# export_requests 'PYTHON': assertions over the requests the receiver saw,
# split by signal into `traces` and `metrics` (dicts: path, headers,
# content_encoding, status, ...); `expect(cond, message)`.
export_requests() {
    "$PY" - "$SPANS.requests" "$1" <<'PY'
import json, sys
requests = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
traces = [r for r in requests if r["path"] == "/v1/traces"]
metrics = [r for r in requests if r["path"] == "/v1/metrics"]
failed = []
def expect(cond, message):
    if not cond:
        failed.append(message)
exec(sys.argv[2])
for message in failed:
    print("FAIL: " + message, file=sys.stderr)
if failed:
    for r in requests:
        print("request: %s %s encoding=%r headers=%r" % (r["path"], r["status"], r["content_encoding"],
              {k: v for k, v in r["headers"].items() if k.startswith("x-")}), file=sys.stderr)
    sys.exit(1)
PY
}

@test "a traced server: METRICS_ headers and gzip on /v1/metrics only, TRACES_ headers on /v1/traces only" {
    EXTRA_ENV=(OTEL_METRIC_EXPORT_INTERVAL=200
        "OTEL_EXPORTER_OTLP_HEADERS=x-common=c"
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-traces-key=t"
        "OTEL_EXPORTER_OTLP_METRICS_HEADERS=x-metrics-key=m"
        OTEL_EXPORTER_OTLP_METRICS_COMPRESSION=gzip)
    start_http_server server split "$T/www"
    http_requests "$HTTP_SERVER_PORT" /hello.txt /hello.txt
    wait_spans 2 --service split
    wait_metric http.server.request.duration 2
    export_requests "
expect(len(traces) >= 1 and len(metrics) >= 1, 'requests on both paths')
for r in traces:
    expect(r['headers'].get('x-traces-key') == 't', 'traces: the TRACES_ header')
    expect('x-metrics-key' not in r['headers'], 'traces: no METRICS_ header')
    expect('x-common' not in r['headers'], 'traces: TRACES_HEADERS replaces the generic ones')
    expect(r['content_encoding'] == '', 'traces: not compressed (only metrics asked for gzip)')
for r in metrics:
    expect(r['headers'].get('x-metrics-key') == 'm', 'metrics: the METRICS_ header')
    expect('x-traces-key' not in r['headers'], 'metrics: no TRACES_ header')
    expect('x-common' not in r['headers'], 'metrics: METRICS_HEADERS replaces the generic ones')
    expect(r['content_encoding'] == 'gzip', 'metrics: gzip from METRICS_COMPRESSION')
    expect(r['status'] == 200, 'metrics: the gzip body decoded')
"
}

@test "a short-lived traced curl: the generic headers and compression reach both signals, TRACES_ ones only traces" {
    start_backend backend
    run traced both "OTEL_EXPORTER_OTLP_HEADERS=x-common=c" OTEL_EXPORTER_OTLP_COMPRESSION=gzip \
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-traces-key=t" OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=none \
        curl -sS -o /dev/null "http://127.0.0.1:$BACKEND_PORT/status/200"
    assert_ok
    wait_spans 1 --service both
    wait_metric http.client.request.duration 1 --timeout 5
    export_requests "
expect(len(traces) >= 1 and len(metrics) >= 1, 'requests on both paths')
for r in traces:
    expect(r['headers'].get('x-traces-key') == 't' and 'x-common' not in r['headers'], 'traces: TRACES_ headers')
    expect(r['content_encoding'] == '', 'traces: TRACES_COMPRESSION=none over the generic gzip')
for r in metrics:
    expect(r['headers'].get('x-common') == 'c', 'metrics: the generic header')
    expect('x-traces-key' not in r['headers'], 'metrics: no TRACES_ header')
    expect(r['content_encoding'] == 'gzip' and r['status'] == 200, 'metrics: the generic gzip')
"
}
