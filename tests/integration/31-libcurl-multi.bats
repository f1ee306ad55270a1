#!/usr/bin/env bats
# A C program using the libcurl multi interface: one client span per
# transfer, made at the libcurl level (not again at the socket level), each
# request with its own traceparent, and the program's header lists intact.

load test_helper
load tls_helper

setup() {
    common_setup
    start_receiver
    start_recording_server recorder
    RECORDS=$T/recorder.records
}

teardown() {
    common_teardown
}

@test "libcurl multi, 10 parallel transfers: 10 client spans, each request with its own traceparent, header lists unchanged" {
    run traced curl-multi "$PROGRAMS_DIR/curl_multi" "http://127.0.0.1:$RECORDER_PORT/multi" 10
    assert_ok
    [[ $output == *"lists unchanged"* ]]
    [ "$(grep -c ': status 200$' <<<"$output")" = 10 ]

    wait_spans 10 --service curl-multi --kind client --settle 0.5
    recorded "
expect(len(records) == 10, '10 requests recorded, got %d' % len(records))
for r in records:
    expect(len(r['traceparent']) == 1, 'exactly one traceparent, got %r' % r['traceparent'])
    expect(all(TRACEPARENT_RE.match(v) for v in r['traceparent']), 'well-formed traceparent %r' % r['traceparent'])
    lines = r['head'].split('\r\n')
    expect('X-Program: curl_multi' in lines, 'the program header is sent')
    expect(sum(l.startswith('X-Transfer: ') for l in lines) == 1, 'one X-Transfer header')
expect(len(set(r['traceparent'][0] for r in records if r['traceparent'])) == 10, 'ten distinct traceparents')
"
    local tps
    tps=$("$PY" -c "
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    i = [x for x in r['head'].split('\r\n') if x.startswith('X-Transfer: ')][0].split(': ')[1]
    print(i + '=' + r['traceparent'][0])" "$RECORDS" | tr '\n' ' ')
    check_spans "
clients = sel(service='curl-multi', kind='client')
expect_eq(len(spans), 10, 'ten spans, all of them libcurl client spans (nothing traced twice)')
by_id = {(c['trace_id'], c['span_id']): c for c in clients}
for pair in '$tps'.split():
    i, tp = pair.split('=')
    _, trace, span, flags = tp.split('-')
    c = by_id.get((trace, span))
    if expect(c is not None, 'transfer %s: its traceparent names a client span' % i):
        expect_attrs(c, {'url.full': 'http://127.0.0.1:$RECORDER_PORT/multi?i=' + i, 'http.request.method': 'GET',
                         'http.response.status_code': 200, 'network.protocol.version': '1.1',
                         'server.address': '127.0.0.1', 'server.port': $RECORDER_PORT})
        expect_eq(c.get('parent_span_id'), '', 'a root span')
"
}
