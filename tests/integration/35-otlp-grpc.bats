#!/usr/bin/env bats
# OTLP/gRPC (OTEL_EXPORTER_OTLP_PROTOCOL=grpc): traced programs export to
# tests/lib/otlp_grpc_receiver.py, a grpcio server whose Export handlers take
# the raw request and decode it with otlp_receiver.py's own reader into the
# same records, so the usual span and metric checks apply. The status codes
# it answers exercise OTLP/gRPC's retry rules; every assertion counts calls
# and spans, none measures time.

bats_require_minimum_version 1.5.0
load test_helper
load metrics_helper
load tls_helper

GRPC_RECEIVER_PY=$REPO_ROOT/tests/lib/otlp_grpc_receiver.py

setup() {
    common_setup
    mkdir -p "$T/www"
    printf 'x\n' >"$T/www/x.txt"
    EXTRA_ENV=(OTEL_EXPORTER_OTLP_PROTOCOL=grpc)
    start_http_server plain "" "$T/www"
}

teardown() {
    common_teardown
}

# start_grpc_receiver [ARGS...]: the gRPC receiver on a free port, writing
# where start_receiver's would ($SPANS, $SPANS.requests, $SPANS.metrics).
# Sets RECEIVER_PORT (the traced programs' default collector).
start_grpc_receiver() {
    start_bg grpc-receiver "$PY" "$GRPC_RECEIVER_PY" --port 0 --out "$SPANS" --ready-file "$T/grpc.port" "$@"
    GRPC_RECEIVER_PID=$BG_PID
    wait_file "$T/grpc.port" 20 "$BG_PID" grpc-receiver || return 1
    RECEIVER_PORT=$(<"$T/grpc.port")
    RECEIVER_PORT=${RECEIVER_PORT//[^0-9]/}
}

# restart_grpc_receiver [ARGS...]: another receiver, answering otherwise,
# its records empty
restart_grpc_receiver() {
    stop_bg "$GRPC_RECEIVER_PID"
    rm -f "$SPANS" "$SPANS.requests" "$SPANS.metrics" "$T/grpc.port"
    start_grpc_receiver "$@"
}

# one traced curl GET of x.txt from the untraced http.server
curl_x() {
    run --separate-stderr traced "$@" curl -sS -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    [ "$output" = 200 ]
}

# export_once SERVICE [NAME=VALUE...]: curl_x with its span the only export
# (no metrics), the shim's debug log in $stderr (its export lines shown)
export_once() {
    curl_x "$@" OTEL_METRICS_EXPORTER=none OTEL_LOG_LEVEL=debug
    grep -E 'OTLP|shutdown' <<<"$stderr" >&2 || true
}

# assert_span_counted EXPORTED FAILED: the exit line's count of that span
assert_span_counted() {
    grep -q "shutdown: submitted=1 exported=$1 dropped=0 failed=$2" <<<"$stderr"
}

@test "grpc: a client and a server span arrive over gRPC, with their attributes, parent link and the call's metadata" {
    start_grpc_receiver
    EXTRA_ENV+=("OTEL_EXPORTER_OTLP_HEADERS=x-tenant=t1")
    start_http_server srv srv "$T/www"
    run traced cli curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    wait_spans 2
    check_spans "
c = one(service='cli', kind='client')
s = one(service='srv', kind='server')
expect_eq(c['name'], 'GET', 'client span name')
expect_attrs(c, {'http.request.method': 'GET', 'http.response.status_code': 200,
                 'url.full': 'http://127.0.0.1:$HTTP_SERVER_PORT/x.txt', 'server.port': $HTTP_SERVER_PORT})
expect_eq(s['name'], 'GET', 'server span name')
expect_attrs(s, {'http.request.method': 'GET', 'http.response.status_code': 200, 'url.path': '/x.txt'})
expect_eq(s['trace_id'], c['trace_id'], 'one trace')
expect_eq(s['parent_span_id'], c['span_id'], 'the server span is the client span child')
expect_eq(c['resource'].get('service.name'), 'cli', 'resource')
expect_eq(c['scope'], 'otelauto', 'scope')
"
    export_requests "
expect(len(traces) >= 2, 'a call per process')
for c in traces:
    expect(c['status'] == 0, 'answered OK')
    expect(c['content_type'] == 'application/grpc', 'content type')
    expect(c['headers'].get('x-tenant') == 't1', 'OTEL_EXPORTER_OTLP_HEADERS as metadata')
    expect(c['headers'].get('user-agent', '').startswith('OTel-OTLP-Exporter-otelauto/'), 'user agent')
    expect(c['deadline'] is not None and 0 < c['deadline'] <= 10, 'grpc-timeout sent (the 10 s default)')
expect(sum(c['spans'] for c in traces) == 2, 'each span once')
"
}

@test "grpc: three batches from one process, each exported once over the exporter's connection" {
    start_grpc_receiver
    run --separate-stderr traced three OTEL_METRICS_EXPORTER=none OTEL_LOG_LEVEL=debug "$PY" "$PY_PROGRAMS/spaced_requests.py" "$HTTP_SERVER_PORT"
    assert_ok
    [ "$output" = done ]
    grep -q 'shutdown: submitted=3 exported=3 dropped=0 failed=0' <<<"$stderr"
    wait_spans 3 --service three
    export_requests "
expect(all(c['status'] == 0 for c in traces), 'all OK')
expect(sum(c['spans'] for c in traces) == 3, 'each span once')
"
}

@test "grpc: the exporter's HTTP/2 calls reach libcurl's own functions, never the shim's hooks (witness preload)" {
    start_grpc_receiver
    with_hook_witness
    start_backend backend backend
    local i
    for i in 1 2 3; do
        curl -sS -o /dev/null "http://127.0.0.1:$BACKEND_PORT/x.txt"
    done
    wait_spans 3 --service backend --settle 1
    assert_no_hook_reentry
    check_spans "expect_eq(len(spans), 3, 'the three server spans, nothing about the export')"
}

@test "grpc: metrics arrive over gRPC (MetricsService/Export)" {
    start_grpc_receiver
    curl_x met
    wait_metric http.client.request.duration 1 --timeout 5
    check_metrics "
ps = latest('http.client.request.duration')
expect_eq(len(ps), 1, 'one client series')
p = ps[0] if ps else {'attributes': {}}
expect_eq(p.get('service'), 'met', 'service')
expect_eq(p.get('count'), 1, 'count')
expect_eq(p.get('explicit_bounds'), SEMCONV_BOUNDS, 'bounds')
expect_eq(p['attributes'].get('http.request.method'), 'GET', 'method')
"
    export_requests "
expect(len(metrics) >= 1 and all(c['status'] == 0 and c['points'] > 0 for c in metrics), 'metrics calls decoded')
"
}

@test "grpc with gzip: the compressed call decodes to the span; a server refusing gzip sees that it was compressed" {
    start_grpc_receiver
    curl_x gz OTEL_EXPORTER_OTLP_COMPRESSION=gzip
    wait_spans 1 --service gz
    wait_metric http.client.request.duration 1 --timeout 5
    export_requests "
expect(sum(c['spans'] for c in traces) == 1, 'the span, decompressed and decoded')
expect(all(c['status'] == 0 for c in requests), 'all OK')
"
    # the same against a server that only takes identity: refused, for
    # traces and metrics alike (UNIMPLEMENTED: not retried, dropped)
    restart_grpc_receiver --no-gzip
    export_once gz2 OTEL_EXPORTER_OTLP_COMPRESSION=gzip
    grep -q 'collector answered gRPC status 12 UNIMPLEMENTED' <<<"$stderr"
    assert_span_counted 0 1
    [ ! -s "$SPANS" ]
    # and without gzip, that server takes the span
    curl_x plain2
    wait_spans 1 --service plain2
}

@test "grpc per signal: ..._TRACES_PROTOCOL=grpc to its own endpoint, metrics stay http/protobuf" {
    start_grpc_receiver
    local grpc_port=$RECEIVER_PORT
    start_bg http-receiver "$PY" "$RECEIVER_PY" --port 0 --out "$T/http.jsonl" --ready-file "$T/http.port"
    wait_file "$T/http.port" 10 "$BG_PID" http-receiver
    RECEIVER_PORT=$(<"$T/http.port")
    EXTRA_ENV=(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:$grpc_port")
    curl_x split
    wait_spans 1 --service split
    SPANS=$T/http.jsonl wait_metric http.client.request.duration 1 --timeout 5
    export_requests "
expect(len(traces) == 1 and traces[0]['spans'] == 1, 'the span over gRPC')
expect(len(metrics) == 0, 'no metrics over gRPC')
"
    [ ! -s "$T/http.jsonl" ] # no span over HTTP
    grep -q '"path": "/v1/metrics"' "$T/http.jsonl.requests"
}

@test "grpc, collector down: the program runs and exits as without us, the span dropped and counted" {
    RECEIVER_PORT=$(closed_port)
    OTELAUTO_TEST_CMD_TIMEOUT=20 export_once down OTEL_EXPORTER_OTLP_TIMEOUT=1000
    grep -q 'the collector at http://127.0.0.1:[0-9]* is unavailable' <<<"$stderr"
    assert_span_counted 0 1
}

@test "grpc, collector down: a traced server answers every request; otelauto doctor counts its spans, none exported" {
    RECEIVER_PORT=$(closed_port)
    start_backend traced-backend backend
    probe "$BACKEND_PORT" 50 /x.txt
    shim_counters "$BG_PID"
    ((SUBMITTED >= 50)) || fail_now "spans submitted: $SUBMITTED, want one per request (50)"
    ((EXPORTED == 0)) || fail_now "spans exported: $EXPORTED, with no collector"
}

@test "grpc UNAVAILABLE twice, then OK: the batch is retried and arrives exactly once" {
    start_grpc_receiver --mode UNAVAILABLE --fail-count 2
    export_once retried
    assert_span_counted 1 0
    wait_spans 1 --service retried
    export_requests "
expect([c['status'] for c in traces] == [14, 14, 0], 'two UNAVAILABLE calls, then the OK one')
expect([c['spans'] for c in traces] == [1, 1, 1], 'the same span each time')
"
    check_spans "expect_eq(len(spans), 1, 'the span once')"
}

@test "grpc INVALID_ARGUMENT: not retried, the batch dropped and counted" {
    start_grpc_receiver --mode INVALID_ARGUMENT --fail-count 1000
    export_once invalid
    grep -q 'collector answered gRPC status 3 INVALID_ARGUMENT: test receiver: INVALID_ARGUMENT mode, dropping 1 span' <<<"$stderr"
    assert_span_counted 0 1
    export_requests "expect(len(traces) == 1 and traces[0]['status'] == 3, 'exactly one call')"
    [ ! -s "$SPANS" ]
}

@test "grpc RESOURCE_EXHAUSTED with RetryInfo is retried (after the server's delay); without, it is not" {
    start_grpc_receiver --mode RESOURCE_EXHAUSTED --fail-count 1 --retry-delay 0.2
    export_once hinted
    grep -q 'gRPC status 8 RESOURCE_EXHAUSTED, retry in 200 ms' <<<"$stderr"
    assert_span_counted 1 0
    export_requests "expect([c['status'] for c in traces] == [8, 0], 'refused once, then taken: %r' % [c['status'] for c in traces])"
    check_spans "expect_eq(len(sel(service='hinted')), 1, 'the span once')"

    restart_grpc_receiver --mode RESOURCE_EXHAUSTED --fail-count 1
    export_once unhinted
    assert_span_counted 0 1
    export_requests "expect([c['status'] for c in traces] == [8], 'refused once, not retried')"
    [ ! -s "$SPANS" ]
}

@test "grpc partial success: read from the response message and warned about, not retried" {
    start_grpc_receiver --mode partial
    curl_x partial OTEL_METRICS_EXPORTER=none OTEL_LOG_LEVEL=warn
    [[ $stderr == *"collector rejected 1 span(s): test receiver rejected one item"* ]] ||
        fail_now "no partial success warning in: $stderr"
    export_requests "expect(len(traces) == 1 and traces[0]['status'] == 0, 'one call')"
}

@test "grpc partial success in a gzip-compressed answer: inflated and warned about" {
    start_grpc_receiver --mode partial --gzip-answers
    curl_x gzpartial OTEL_METRICS_EXPORTER=none OTEL_LOG_LEVEL=warn
    [[ $stderr == *"collector rejected 1 span(s): test receiver rejected one item"* ]] ||
        fail_now "no partial success warning in: $stderr"
}

@test "grpc over TLS: a scheme-less endpoint is https, verified with OTEL_EXPORTER_OTLP_CERTIFICATE; mutual TLS" {
    make_cert collector
    make_cert client
    start_grpc_receiver --tls-cert "$T/collector.crt" --tls-key "$T/collector.key" --tls-client-ca "$T/client.crt"
    EXTRA_ENV+=("OTEL_EXPORTER_OTLP_ENDPOINT=127.0.0.1:$RECEIVER_PORT"
        "OTEL_EXPORTER_OTLP_CERTIFICATE=$T/collector.crt"
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=$T/client.crt"
        "OTEL_EXPORTER_OTLP_CLIENT_KEY=$T/client.key")
    curl_x tls
    wait_spans 1 --service tls
    check_spans "expect_eq(one(service='tls', kind='client')['attributes'].get('url.full'), 'http://127.0.0.1:$HTTP_SERVER_PORT/x.txt', 'the one span, nothing about the export')"
}

@test "grpc: OTEL_EXPORTER_OTLP_INSECURE=true makes a scheme-less endpoint cleartext" {
    start_grpc_receiver
    EXTRA_ENV+=("OTEL_EXPORTER_OTLP_ENDPOINT=127.0.0.1:$RECEIVER_PORT" OTEL_EXPORTER_OTLP_INSECURE=true)
    curl_x insecure
    wait_spans 1 --service insecure
}
