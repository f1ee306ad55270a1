#!/usr/bin/env bats
# The OTLP exporter's own options, observed at the collector: what a real
# export request looks like on the wire with compression and extra headers.

load test_helper

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

@test "OTEL_EXPORTER_OTLP_COMPRESSION=gzip: export requests are gzip-compressed and decode to the spans" {
    run traced gz OTEL_EXPORTER_OTLP_COMPRESSION=gzip curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    wait_spans 1 --service gz
    export_requests "
traces = [r for r in requests if r['path'] == '/v1/traces']
expect(len(traces) >= 1, 'at least one export request')
expect(all(r['content_encoding'] == 'gzip' for r in traces), 'every export request is gzip-encoded')
expect(all(r['status'] == 200 for r in traces), 'every export request decoded (status 200)')
expect(sum(r['spans'] for r in traces) == 1, 'the one span arrived once')
"
}

@test "no OTEL_EXPORTER_OTLP_COMPRESSION: export requests are not compressed" {
    run traced plain curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    wait_spans 1 --service plain
    export_requests "
traces = [r for r in requests if r['path'] == '/v1/traces']
expect(len(traces) >= 1 and all(r['content_encoding'] == '' for r in traces), 'no Content-Encoding')
expect(all(r['content_type'] == 'application/x-protobuf' for r in traces), 'protobuf content type')
"
}

@test "OTEL_EXPORTER_OTLP_HEADERS and ..._TRACES_HEADERS: extra headers on every export request, traces ones win" {
    run traced hdr "OTEL_EXPORTER_OTLP_HEADERS=api-key=secret%20one,x-team=a" \
        curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    run traced hdr2 "OTEL_EXPORTER_OTLP_HEADERS=x-team=a" "OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-team=b" \
        curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    wait_spans 1 --service hdr
    wait_spans 1 --service hdr2
    export_requests "
traces = [r for r in requests if r['path'] == '/v1/traces']
expect(len(traces) == 2, 'two export requests, got %d' % len(traces))
first, second = traces
expect(first['headers'].get('api-key') == 'secret one', 'percent-decoded api-key header')
expect(first['headers'].get('x-team') == 'a', 'x-team from the generic variable')
expect(second['headers'].get('x-team') == 'b', 'the traces variable replaces the generic one')
expect('api-key' not in second['headers'], 'headers do not leak between processes')
"
}
