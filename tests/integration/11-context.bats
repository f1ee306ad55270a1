#!/usr/bin/env bats
# Context across a service: the requests a server makes while it handles a
# request are that request's children, and the trace context it received
# (traceparent, tracestate, baggage) travels on with them.

load test_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'hello\n' >"$T/www/hello.txt"
}

teardown() {
    common_teardown
}

start_frontend() {
    local service=$1 backend_url=$2
    start_traced_bg frontend "$service" "$PY" "$PY_PROGRAMS/demo_frontend.py" --port 0 \
        --ready-file "$T/frontend.port" --backend "$backend_url"
    wait_file "$T/frontend.port" 10 "$BG_PID" frontend || return 1
    FRONTEND_PORT=$(<"$T/frontend.port")
    FRONTEND_PORT=${FRONTEND_PORT//[^0-9]/}
}

@test "curl -> frontend -> backend: one trace, every span the child of the one that caused it" {
    start_http_server backend backend "$T/www"
    start_frontend frontend "http://127.0.0.1:$HTTP_SERVER_PORT"
    run traced curl curl -sS "http://127.0.0.1:$FRONTEND_PORT/page"
    assert_ok
    [[ $output == *"frontend /page"* ]]

    wait_spans 2 --service backend --kind server
    wait_spans 2 --service frontend --kind client
    wait_spans 1 --service curl --kind client
    check_spans "
root = one(service='curl', kind='client')
fserver = one(service='frontend', kind='server')
fclients = sel(service='frontend', kind='client')
bservers = sel(service='backend', kind='server')
expect_eq(len(spans), 6, 'six spans: curl, frontend server, 2 frontend clients, 2 backend servers')
expect_eq(root.get('parent_span_id'), '', 'curl starts the trace')
expect(all(s.get('trace_id') == root.get('trace_id') for s in spans), 'one trace id for all')
expect_eq(fserver.get('parent_span_id'), root.get('span_id'), 'frontend server span is the child of curl')
expect_eq(len(fclients), 2, 'two frontend client spans')
for c in fclients:
    expect_eq(c.get('parent_span_id'), fserver.get('span_id'), 'frontend call is the child of its server span')
    expect(fserver['start'] <= c['start'] and c['end'] <= fserver['end'], 'the call lies within the server span')
expect_eq(sorted(s.get('parent_span_id') for s in bservers), sorted(c.get('span_id') for c in fclients),
          'each backend server span is the child of one frontend call')
"
}

@test "two requests in a row through the frontend: two traces, each call in the trace of the request it served" {
    start_http_server backend backend "$T/www"
    # curl makes two independent requests: two separate traces, and each
    # frontend call lands in the trace of the request it served
    start_frontend frontend "http://127.0.0.1:$HTTP_SERVER_PORT"
    run traced curl curl -sS "http://127.0.0.1:$FRONTEND_PORT/a"
    assert_ok
    run traced curl curl -sS "http://127.0.0.1:$FRONTEND_PORT/b"
    assert_ok
    wait_spans 4 --service backend --kind server
    check_spans "
roots = sel(service='curl', kind='client')
expect_eq(len(roots), 2, 'two curl spans')
expect(roots[0]['trace_id'] != roots[1]['trace_id'], 'two traces')
servers = {s['span_id']: s for s in sel(service='frontend', kind='server')}
expect_eq(len(servers), 2, 'two frontend server spans')
for s in sel(service='frontend', kind='client'):
    parent = servers.get(s['parent_span_id'])
    expect(parent is not None and parent['trace_id'] == s['trace_id'], 'frontend call is the child of a frontend server span of its trace')
for trace in (roots[0]['trace_id'], roots[1]['trace_id']):
    expect_eq(len([s for s in spans if s['trace_id'] == trace]), 6, 'six spans in each trace')
"
}

@test "incoming tracestate and baggage are forwarded on the calls made for that request" {
    start_recording_server recorder
    RECORDS=$T/recorder.records
    start_frontend frontend "http://127.0.0.1:$RECORDER_PORT"
    local tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
    run curl -sS -H "traceparent: $tp" -H 'tracestate: vendor=abc,other=1' \
        -H 'baggage: user=alice, tenant=t1;prop' -H 'baggage: bad key=x' \
        "http://127.0.0.1:$FRONTEND_PORT/page"
    assert_ok
    wait_spans 1 --service frontend --kind server
    wait_file "$RECORDS" 5
    recorded "
expect(len(records) >= 1, 'the frontend called the recorder')
for r in records:
    lines = r['head'].lower().split('\r\n')
    expect_one = len(r['traceparent']) == 1
    expect(expect_one, 'one traceparent per request')
    if expect_one:
        expect(r['traceparent'][0].startswith('00-4bf92f3577b34da6a3ce929d0e0e4736-'), 'same trace id as the incoming request')
        expect(not r['traceparent'][0].endswith('-00f067aa0ba902b7-01'), 'a new parent id (the frontend call)')
    expect(lines.count('tracestate: vendor=abc,other=1') == 1, 'tracestate forwarded once: %r' % lines)
    expect(lines.count('baggage: user=alice,tenant=t1;prop') == 1, 'valid baggage members forwarded, the invalid one dropped: %r' % lines)
"
}

@test "OTEL_PROPAGATORS=tracecontext: baggage is not forwarded" {
    start_recording_server recorder
    RECORDS=$T/recorder.records
    EXTRA_ENV=(OTEL_PROPAGATORS=tracecontext)
    start_frontend frontend "http://127.0.0.1:$RECORDER_PORT"
    run curl -sS -H 'baggage: user=alice' "http://127.0.0.1:$FRONTEND_PORT/page"
    assert_ok
    wait_file "$RECORDS" 5
    recorded "
for r in records:
    expect(len(r['traceparent']) == 1, 'traceparent still injected')
    expect('baggage' not in r['head'].lower(), 'no baggage header')
"
}
