#!/usr/bin/env bats
# OTLP/HTTP JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json): a traced curl
# against python's http.server, its span and its client duration metric
# decoded by tests/lib/otlp_receiver.py, which reads JSON strictly (hex ids,
# 64-bit integers as strings, enums as numbers, lowerCamelCase names: else a
# 400), into the same records as protobuf, so the same checks apply.

load test_helper
load metrics_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'x\n' >"$T/www/x.txt"
    start_http_server plain "" "$T/www"
}

teardown() {
    common_teardown
}

curl_x() {
    run traced "$@" curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
}

@test "http/json: the span and the client duration metric arrive as JSON and decode to what protobuf gives" {
    curl_x json OTEL_EXPORTER_OTLP_PROTOCOL=http/json
    wait_spans 1 --service json
    wait_metric http.client.request.duration 1 --timeout 5
    export_requests "
expect(len(traces) >= 1 and all(r['content_type'] == 'application/json' for r in traces), 'traces sent as application/json')
expect(len(metrics) >= 1 and all(r['content_type'] == 'application/json' for r in metrics), 'metrics sent as application/json')
expect(all(r['status'] == 200 for r in traces + metrics), 'every request decoded (status 200)')
expect(sum(r['spans'] for r in traces) == 1, 'the one span arrived once')
"
    check_spans "
s = one(service='json')
expect_eq(s['kind'], 3, 'CLIENT kind (an enum as a number)')
expect_eq(s['name'], 'GET', 'name')
expect_eq(len(s['trace_id']), 32, 'hex trace id')
expect_eq(len(s['span_id']), 16, 'hex span id')
expect(0 < s['start'] <= s['end'], 'start and end times (decimal strings)')
expect_eq(s['attributes'].get('http.response.status_code'), 200, 'status code (intValue as a string)')
expect_eq(s['attributes'].get('url.full'), 'http://127.0.0.1:$HTTP_SERVER_PORT/x.txt', 'url.full')
expect_eq(s['resource'].get('service.name'), 'json', 'resource')
expect_eq(s['scope'], 'otelauto', 'scope')
"
    check_metrics "
ps = latest('http.client.request.duration')
expect_eq(len(ps), 1, 'one client series')
p = ps[0] if ps else {'attributes': {}}
expect_eq(p.get('service'), 'json', 'service')
expect_eq(p.get('count'), 1, 'count (a decimal string)')
expect_eq(sum(p.get('bucket_counts', [])), 1, 'bucket counts (decimal strings)')
expect_eq(p.get('explicit_bounds'), SEMCONV_BOUNDS, 'explicit bounds (numbers)')
expect_eq(p.get('temporality'), 2, 'cumulative')
expect_eq(p.get('unit'), 's', 'unit')
expect_eq(p['attributes'].get('http.request.method'), 'GET', 'method')
"
}

@test "per signal: ..._TRACES_PROTOCOL=http/json over the generic http/protobuf; metrics stay protobuf" {
    curl_x mixed OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json
    wait_spans 1 --service mixed
    wait_metric http.client.request.duration 1 --timeout 5
    export_requests "
expect(len(traces) >= 1 and all(r['content_type'] == 'application/json' for r in traces), 'traces as JSON')
expect(len(metrics) >= 1 and all(r['content_type'] == 'application/x-protobuf' for r in metrics), 'metrics as protobuf')
expect(all(r['status'] == 200 for r in traces + metrics), 'all decoded')
"
}

@test "per signal: ..._METRICS_PROTOCOL=http/json, traces protobuf by default" {
    curl_x mixed2 OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/json
    wait_spans 1 --service mixed2
    wait_metric http.client.request.duration 1 --timeout 5
    export_requests "
expect(len(traces) >= 1 and all(r['content_type'] == 'application/x-protobuf' for r in traces), 'traces as protobuf')
expect(len(metrics) >= 1 and all(r['content_type'] == 'application/json' for r in metrics), 'metrics as JSON')
"
}

@test "http/json with gzip: gzip-compressed JSON that decodes to the span" {
    curl_x gzjson OTEL_EXPORTER_OTLP_PROTOCOL=http/json OTEL_EXPORTER_OTLP_COMPRESSION=gzip
    wait_spans 1 --service gzjson
    wait_metric http.client.request.duration 1 --timeout 5
    export_requests "
expect(len(traces) >= 1, 'a traces request')
for r in traces + metrics:
    expect(r['content_type'] == 'application/json', 'JSON: %r' % r['content_type'])
    expect(r['content_encoding'] == 'gzip', 'gzip-encoded')
    expect(r['status'] == 200, 'decoded')
expect(sum(r['spans'] for r in traces) == 1, 'the one span')
"
}

@test "an unknown protocol is warned about and falls back to http/protobuf" {
    run traced xml OTEL_LOG_LEVEL=warn OTEL_EXPORTER_OTLP_PROTOCOL=http/xml \
        curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    [[ $output == *'OTEL_EXPORTER_OTLP_PROTOCOL: unknown value "http/xml" ignored; using http/protobuf'* ]] ||
        fail_now "no protocol warning in: $output"
    wait_spans 1 --service xml
    export_requests "
expect(all(r['content_type'] == 'application/x-protobuf' for r in traces), 'protobuf')
"
}

@test "http/json: a partialSuccess answer in JSON is read and warned about, not retried" {
    # a receiver of its own, answering partial successes
    stop_all_bg
    : >"$PIDS_FILE"
    rm -f "$T/receiver.port" "$SPANS.requests"
    start_receiver --mode partial
    start_http_server plain "" "$T/www"
    run traced partial OTEL_LOG_LEVEL=warn OTEL_EXPORTER_OTLP_PROTOCOL=http/json OTEL_METRICS_EXPORTER=none \
        curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    [[ $output == *"collector rejected 1 span(s): test receiver rejected one span"* ]] ||
        fail_now "no partial success warning in: $output"
    export_requests "
expect(len(traces) == 1, 'sent once, not retried: %d requests' % len(traces))
"
}
