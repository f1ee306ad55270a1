#!/usr/bin/env bats
# Request shapes at the edges of the HTTP/1 parser, in real processes: heads
# beyond the parse bound (64 KiB) pass through byte-identical and untraced;
# HTTP/1.0; several requests pipelined in one write; a head that arrives one
# byte at a time. The server is tests/programs/recording_server.py, traced
# (service "recorder") or not, which records each head exactly as received.

load test_helper

setup() {
    common_setup
    start_receiver
    RECORDS=$T/recorder.records
}

teardown() {
    common_teardown
}

# big_head FILE PATH: a GET whose head is about 70 KiB (one 70000-byte header).
big_head() {
    "$PY" -c "
import sys
sys.stdout.buffer.write(b'GET $2 HTTP/1.1\r\nHost: big\r\nX-Big: ' + b'b' * 70000 + b'\r\nConnection: close\r\n\r\n')" >"$1"
}

@test "a traced server receiving a 70 KiB request head: answered, head byte-identical, no span for it; the next connection is traced" {
    start_recording_server recorder recorder
    big_head "$T/big.req" /too-big
    run "$PY" "$PY_PROGRAMS/raw_client.py" "$RECORDER_PORT" "$T/big.req"
    assert_ok
    [ "$output" = "HTTP/1.1 200 OK" ]
    printf 'GET /small HTTP/1.1\r\nHost: small\r\nConnection: close\r\n\r\n' >"$T/small.req"
    run "$PY" "$PY_PROGRAMS/raw_client.py" "$RECORDER_PORT" "$T/small.req"
    assert_ok
    "$PY" - "$RECORDS" "$T/big.req" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
sent = open(sys.argv[2], 'rb').read().decode('latin-1')
assert len(records) == 2, records
assert records[0]['head'] + '\r\n\r\n' == sent, 'the big head arrived changed'
PY
    wait_spans 1 --service recorder --kind server
    check_spans "
expect_eq(len(sel(service='recorder')), 1, 'spans of the server')
one(service='recorder', kind='server', path='/small')
"
}

@test "a traced client sending a 70 KiB request head: the head arrives byte-identical without traceparent, the response comes back" {
    start_recording_server recorder
    big_head "$T/big.req" /too-big-out
    run traced big-client "$PY" "$PY_PROGRAMS/raw_client.py" "$RECORDER_PORT" "$T/big.req"
    assert_ok
    [ "$output" = "HTTP/1.1 200 OK" ]
    "$PY" - "$RECORDS" "$T/big.req" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
sent = open(sys.argv[2], 'rb').read().decode('latin-1')
assert len(records) == 1, records
assert records[0]['traceparent'] == [], records[0]['traceparent']
assert records[0]['head'] + '\r\n\r\n' == sent, 'the big head arrived changed'
PY
    # the client has exited: its flush at exit sent any span it had, and the
    # receiver writes spans before it answers
    check_spans "expect_eq(len(sel(service='big-client', path='/too-big-out')), 0, 'spans for the big request')"
}

@test "HTTP/1.0: traced curl --http1.0 to a traced server: one traceparent, client and server spans linked, protocol version 1.0" {
    start_recording_server recorder recorder
    run traced curl10 curl -sS --http1.0 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RECORDER_PORT/ten"
    [[ $SUBSTITUTE_CURL == 1 ]] && skip "mini_curl.py has no --http1.0"
    assert_ok
    [ "$output" = 200 ]
    recorded "
expect(len(records) == 1 and records[0]['head'].startswith('GET /ten HTTP/1.0\r\n'), 'an HTTP/1.0 request')
expect(len(records[0]['traceparent']) == 1, 'one traceparent')
"
    wait_spans 2
    check_spans "
c = one(service='curl10', kind='client', path='/ten')
s = one(service='recorder', kind='server', path='/ten')
expect_attrs(c, {'network.protocol.version': '1.0', 'http.response.status_code': 200})
expect_attrs(s, {'network.protocol.version': '1.0', 'http.response.status_code': 200})
expect_eq(s.get('parent_span_id'), c.get('span_id'), 'server parent')
expect_eq(s.get('trace_id'), c.get('trace_id'), 'trace id')
"
}

@test "HTTP/1.0 without Host to a traced server: answered, one server span with version 1.0" {
    start_recording_server recorder recorder
    printf 'GET /old HTTP/1.0\r\n\r\n' >"$T/old.req"
    run "$PY" "$PY_PROGRAMS/raw_client.py" "$RECORDER_PORT" "$T/old.req"
    assert_ok
    [ "$output" = "HTTP/1.1 200 OK" ]
    wait_spans 1 --service recorder
    check_spans "
s = one(service='recorder', kind='server', path='/old')
expect_attrs(s, {'network.protocol.version': '1.0', 'http.request.method': 'GET', 'http.response.status_code': 200})
"
}

@test "three requests pipelined in one write to a traced server: three server spans, in order, each with its own status" {
    start_recording_server recorder recorder
    printf 'GET /p1 HTTP/1.1\r\nHost: p\r\n\r\nPOST /p2 HTTP/1.1\r\nHost: p\r\nContent-Length: 5\r\n\r\nhelloGET /p3 HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n' >"$T/pipe.req"
    run "$PY" "$PY_PROGRAMS/raw_client.py" "$RECORDER_PORT" "$T/pipe.req" --responses 3
    assert_ok
    [ "$(grep -c '^HTTP/1.1 200 OK$' <<<"$output")" -eq 3 ]
    wait_spans 3 --service recorder
    check_spans "
srv = sorted(sel(service='recorder', kind='server'), key=lambda s: s['start'])
expect_eq([attr(s, 'url.path') for s in srv], ['/p1', '/p2', '/p3'], 'paths in order')
expect_eq([s['name'] for s in srv], ['GET', 'POST', 'GET'], 'methods')
for s in srv:
    expect_attrs(s, {'http.response.status_code': 200})
expect_eq(len({s['trace_id'] for s in srv}), 3, 'three traces')
"
}

@test "three requests pipelined in one write by a traced client: a traceparent in each head, three client spans" {
    start_recording_server recorder
    printf 'GET /q1 HTTP/1.1\r\nHost: q\r\n\r\nGET /q2 HTTP/1.1\r\nHost: q\r\n\r\nGET /q3 HTTP/1.1\r\nHost: q\r\nConnection: close\r\n\r\n' >"$T/pipe.req"
    run traced pipeliner "$PY" "$PY_PROGRAMS/raw_client.py" "$RECORDER_PORT" "$T/pipe.req" --responses 3
    assert_ok
    recorded "
expect([r['head'].split(' ')[1] for r in records] == ['/q1', '/q2', '/q3'], 'three requests in order')
for r in records:
    expect(len(r['traceparent']) == 1, 'one traceparent in %r' % r['head'])
"
    assert_traceparents_match_client_spans pipeliner 3
    check_spans "
for p in ('/q1', '/q2', '/q3'):
    expect_attrs(one(service='pipeliner', kind='client', path=p), {'http.response.status_code': 200})
"
}

@test "a request head arriving one byte at a time at a traced server: one server span with every attribute, the incoming traceparent continued" {
    start_recording_server recorder recorder
    printf 'GET /drip?x=1 HTTP/1.1\r\nHost: drip.example:8080\r\nUser-Agent: drip/1\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\nConnection: close\r\n\r\n' >"$T/drip.req"
    run "$PY" "$PY_PROGRAMS/raw_client.py" "$RECORDER_PORT" "$T/drip.req" --bytewise
    assert_ok
    [ "$output" = "HTTP/1.1 200 OK" ]
    wait_spans 1 --service recorder
    check_spans "
s = one(service='recorder', kind='server', path='/drip')
expect_attrs(s, {'url.query': 'x=1', 'server.address': 'drip.example', 'server.port': 8080,
                 'user_agent.original': 'drip/1', 'http.response.status_code': 200})
expect_eq(s.get('trace_id'), '0af7651916cd43dd8448eb211c80319c', 'trace id continued')
expect_eq(s.get('parent_span_id'), 'b7ad6b7169203331', 'parent')
"
}

@test "a traced client's request with a bare CR before Content-Length in another header: passed through untouched, nothing injected" {
    # "X-A: b\rContent-Length: 28": a receiver that takes the bare CR for a
    # line break reads a 28-byte body, which here looks like a request; header
    # lines added where the shim thinks the heads end would land in that body.
    start_recording_server recorder
    printf 'POST / HTTP/1.1\r\nHost: a\r\nX-A: b\rContent-Length: 28\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n' >"$T/cr.req"
    run traced cr-client "$PY" "$PY_PROGRAMS/raw_client.py" "$RECORDER_PORT" "$T/cr.req"
    assert_ok
    "$PY" - "$RECORDS" "$T/cr.req" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
sent = open(sys.argv[2], 'rb').read().decode('latin-1')
assert records, 'nothing recorded'
assert all(r['traceparent'] == [] for r in records), [r['traceparent'] for r in records]
assert ''.join(r['head'] + '\r\n\r\n' for r in records) == sent[:sum(len(r['head']) + 4 for r in records)], 'bytes changed'
PY
}
