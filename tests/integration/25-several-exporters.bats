#!/usr/bin/env bats
# OTEL_TRACES_EXPORTER=otlp,console: every exporter listed gets each span
# once. The span reaches the collector and is printed on stderr once; when
# the collector answers 503 twice and then 200, only the collector's export
# is retried: the console still prints the span once, and the collector
# accepts it once.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
    common_setup
    mkdir -p "$T/www"
    printf 'x\n' >"$T/www/x.txt"
    start_http_server plain "" "$T/www"
}

teardown() {
    common_teardown
}

# curl_both SERVICE [NAME=VALUE...]: a traced curl exporting to otlp and the
# console; its stderr in $stderr.
curl_both() {
    local service=$1
    shift
    run --separate-stderr traced "$service" OTEL_TRACES_EXPORTER=otlp,console "$@" \
        curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
}

# console_spans: the number of spans the console printed
console_spans() {
    printf '%s\n' "$stderr" | grep -c '^otelauto span ' || true
}

# collector_counts: traces requests answered 200, the spans in them, and 503 answers
collector_counts() {
    "$PY" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rs = [r for r in rs if r["path"] == "/v1/traces"]
print(sum(1 for r in rs if r["status"] == 200), sum(r["spans"] for r in rs if r["status"] == 200),
      sum(1 for r in rs if r["status"] == 503))
' "$SPANS.requests"
}

@test "otlp,console: the span reaches the collector and is printed on stderr once" {
    start_receiver
    curl_both both
    wait_spans 1 --service both
    [[ $(console_spans) == 1 ]] || fail_now "console printed $(console_spans) span(s), want 1: $stderr"
    [[ $(collector_counts) == "1 1 0" ]] || fail_now "collector (200s, spans, 503s): $(collector_counts)"
}

@test "otlp,console with the collector answering 503 twice then 200: console prints once, collector gets it once" {
    start_receiver --mode 503 --fail-count 2 --retry-after 0
    # the receiver's failures count every path: metrics must not take them
    curl_both retried OTEL_METRICS_EXPORTER=none
    wait_spans 1 --service retried
    [[ $(console_spans) == 1 ]] || fail_now "console printed $(console_spans) span(s), want 1: $stderr"
    [[ $(collector_counts) == "1 1 2" ]] || fail_now "collector (200s, spans, 503s): $(collector_counts), want 1 1 2"
}

@test "unknown names in the list are warned about once and skipped; none alone exports nothing" {
    start_receiver
    run --separate-stderr traced skip OTEL_LOG_LEVEL=warn OTEL_TRACES_EXPORTER=zipkin2,console,zipkin2 \
        curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    [[ $(printf '%s\n' "$stderr" | grep -c 'OTEL_TRACES_EXPORTER: unknown or unsupported value "zipkin2" skipped') == 1 ]] ||
        fail_now "want one warning for the unknown name listed twice: $stderr"
    [[ $(console_spans) == 1 ]] || fail_now "console printed $(console_spans) span(s): $stderr"
    run --separate-stderr traced nothing OTEL_TRACES_EXPORTER=none \
        curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    [[ $(console_spans) == 0 ]] || fail_now "none printed spans"
    ! grep -q '"/v1/traces"' "$SPANS.requests" 2>/dev/null || fail_now "none sent spans: $(cat "$SPANS.requests")"
}
