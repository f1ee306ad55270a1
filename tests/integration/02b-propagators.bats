#!/usr/bin/env bats
# OTEL_PROPAGATORS b3, b3multi and jaeger on the wire, both ways.
# Injection: a traced client (curl, whose libcurl easy handle gets the
# headers from hooks/libcurl.c, and Python's http.client, whose request head
# gets them spliced in at the socket) calls an untraced server that records
# every request head as it arrived (recording_server.py): the exact headers
# it got, and their ids those of the client span. Extraction: an untraced
# curl sends the headers to a traced python http.server, whose server span
# continues the trace they name.

load test_helper

TRACE_ID=4bf92f3577b34da6a3ce929d0e0e4736
PARENT_ID=00f067aa0ba902b7
OTHER_TRACE=0af7651916cd43dd8448eb211c80319c
OTHER_PARENT=b7ad6b7169203331

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'propagators\n' >"$T/www/index.txt"
}

teardown() {
    common_teardown
}

# send_traced CLIENT PROPAGATORS [HEADER...]: one traced request (CLIENT
# curl or python) to the recording server with OTEL_PROPAGATORS set, the
# program adding the given header lines itself.
send_traced() {
    local client=$1 propagators=$2 args=() h
    shift 2
    start_recording_server recorder
    RECORDS=$T/recorder.records
    for h in "$@"; do
        args+=(-H "$h")
    done
    local url="http://127.0.0.1:$RECORDER_PORT/p"
    EXTRA_ENV=("OTEL_PROPAGATORS=$propagators")
    if [[ $client == curl ]]; then
        run traced "$client" curl -sS -o /dev/null "${args[@]}" "$url"
    else
        run traced "$client" "$PY" "$PY_PROGRAMS/mini_curl.py" -sS -o /dev/null "${args[@]}" "$url"
    fi
    assert_ok
    wait_spans 1 --service "$client" --kind client
}

# check_received SERVICE 'PYTHON': runs the assertions with `hdrs`, the
# header lines of the one request recorded as (lowercase name, value) in
# order, `named(n)` the values of those called n, and `c`, SERVICE's one
# client span.
check_received() {
    check_spans "
records = [json.loads(l) for l in open('$RECORDS') if l.strip()]
expect_eq(len(records), 1, 'one request recorded')
hdrs = []
for line in records[0]['head'].split('\r\n')[1:] if records else []:
    name, _, value = line.partition(':')
    hdrs.append((name.lower(), value.strip()))
def named(n):
    return [v for k, v in hdrs if k == n]
c = one(service='$1', kind='client')
$2
"
}

# the headers of the formats not asked for are not sent
NONE_OF='
def none_of(*names):
    for n in names:
        expect_eq(named(n), [], "no %s header" % n)
'

b3_single() {
    send_traced "$1" b3
    check_received "$1" "$NONE_OF
expect_eq(named('b3'), ['%s-%s-1' % (c['trace_id'], c['span_id'])], 'the b3 header')
none_of('traceparent', 'tracestate', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'x-b3-flags', 'uber-trace-id')
"
}

b3_multi() {
    send_traced "$1" b3multi
    check_received "$1" "$NONE_OF
expect_eq(named('x-b3-traceid'), [c['trace_id']], 'X-B3-TraceId')
expect_eq(named('x-b3-spanid'), [c['span_id']], 'X-B3-SpanId')
expect_eq(named('x-b3-sampled'), ['1'], 'X-B3-Sampled')
expect('X-B3-TraceId' in [l.partition(':')[0] for l in records[0]['head'].split('\r\n')], 'spelt X-B3-TraceId')
none_of('traceparent', 'b3', 'x-b3-flags', 'x-b3-parentspanid', 'uber-trace-id')
"
}

jaeger_header() {
    send_traced "$1" jaeger
    check_received "$1" "$NONE_OF
expect_eq(named('uber-trace-id'), ['%s:%s:0:1' % (c['trace_id'], c['span_id'])], 'uber-trace-id')
none_of('traceparent', 'b3', 'x-b3-traceid', 'baggage')
expect(not any(k.startswith('uberctx-') for k, v in hdrs), 'no baggage outside a request that had some')
"
}

tracecontext_and_b3multi() {
    send_traced "$1" tracecontext,b3multi
    check_received "$1" "$NONE_OF
# sampled; the level-2 'random trace id' bit (0x02) may be set too
expect(named('traceparent') in (['00-%s-%s-%s' % (c['trace_id'], c['span_id'], f)] for f in ('01', '03')),
       'traceparent %r names the client span' % named('traceparent'))
expect_eq(named('x-b3-traceid'), [c['trace_id']], 'X-B3-TraceId')
expect_eq(named('x-b3-spanid'), [c['span_id']], 'X-B3-SpanId')
expect_eq(named('x-b3-sampled'), ['1'], 'X-B3-Sampled')
none_of('b3', 'uber-trace-id')
"
}

program_sends_b3() {
    send_traced "$1" b3,jaeger "B3: $TRACE_ID-$PARENT_ID-1"
    check_received "$1" "$NONE_OF
expect_eq(named('b3'), ['$TRACE_ID-$PARENT_ID-1'], 'the program\\'s b3 header alone')
none_of('uber-trace-id', 'traceparent')
expect_eq(c['trace_id'], '$TRACE_ID', 'client span in the trace the program named')
expect_eq(c['parent_span_id'], '$PARENT_ID', 'its parent the span the program named')
"
}

program_sends_b3multi_and_jaeger() {
    send_traced "$1" b3multi,jaeger "X-B3-TraceId: $TRACE_ID" "X-B3-SpanId: $PARENT_ID" "X-B3-Sampled: 1" \
        "uber-trace-id: $TRACE_ID:$PARENT_ID:0:1"
    check_received "$1" "
expect_eq(named('x-b3-traceid'), ['$TRACE_ID'], 'one X-B3-TraceId, the program\\'s')
expect_eq(named('x-b3-spanid'), ['$PARENT_ID'], 'one X-B3-SpanId')
expect_eq(named('x-b3-sampled'), ['1'], 'one X-B3-Sampled')
expect_eq(named('uber-trace-id'), ['$TRACE_ID:$PARENT_ID:0:1'], 'one uber-trace-id')
expect_eq(c['trace_id'], '$TRACE_ID', 'client span in the trace the program named')
"
}

@test "curl (libcurl), OTEL_PROPAGATORS=b3: exactly one b3 {trace}-{span}-1 naming the client span, nothing else" {
    b3_single curl
}

@test "python, OTEL_PROPAGATORS=b3: exactly one b3 {trace}-{span}-1 naming the client span, nothing else" {
    b3_single python
}

@test "curl (libcurl), OTEL_PROPAGATORS=b3multi: X-B3-TraceId, X-B3-SpanId, X-B3-Sampled: 1, once each" {
    b3_multi curl
}

@test "python, OTEL_PROPAGATORS=b3multi: X-B3-TraceId, X-B3-SpanId, X-B3-Sampled: 1, once each" {
    b3_multi python
}

@test "curl (libcurl), OTEL_PROPAGATORS=jaeger: uber-trace-id {trace}:{span}:0:1" {
    jaeger_header curl
}

@test "python, OTEL_PROPAGATORS=jaeger: uber-trace-id {trace}:{span}:0:1" {
    jaeger_header python
}

@test "curl (libcurl), OTEL_PROPAGATORS=tracecontext,b3multi: traceparent and X-B3-*, the same ids" {
    tracecontext_and_b3multi curl
}

@test "python, OTEL_PROPAGATORS=tracecontext,b3multi: traceparent and X-B3-*, the same ids" {
    tracecontext_and_b3multi python
}

@test "curl (libcurl), b3 sent by the program itself: not added again, the client span joins its trace" {
    program_sends_b3 curl
}

@test "python, b3 sent by the program itself: not added again, the client span joins its trace" {
    program_sends_b3 python
}

@test "curl (libcurl), X-B3-* and uber-trace-id sent by the program itself: not added again" {
    program_sends_b3multi_and_jaeger curl
}

@test "python, X-B3-* and uber-trace-id sent by the program itself: not added again" {
    program_sends_b3multi_and_jaeger python
}

@test "jaeger through a traced service: uberctx baggage and the trace go on to the next hop" {
    start_recording_server recorder
    RECORDS=$T/recorder.records
    EXTRA_ENV=(OTEL_PROPAGATORS=jaeger)
    start_traced_bg frontend frontend "$PY" "$PY_PROGRAMS/demo_frontend.py" --port 0 \
        --ready-file "$T/frontend.port" --backend "http://127.0.0.1:$RECORDER_PORT"
    wait_file "$T/frontend.port" 10 "$BG_PID" frontend
    local port
    port=$(<"$T/frontend.port")
    run curl -sS -o /dev/null -w '%{http_code}' -H "uber-trace-id: ${TRACE_ID:4}%3A${PARENT_ID:2}%3A0%3A1" \
        -H 'uberctx-user: 42' -H 'Uberctx-Note: a%20b+c' "http://127.0.0.1:${port//[^0-9]/}/page"
    assert_ok
    [ "$output" = 200 ]
    wait_spans 1 --service frontend --kind server
    wait_spans 2 --service frontend --kind client
    check_spans "
s = one(service='frontend', kind='server')
expect_eq(s['trace_id'], '0000${TRACE_ID:4}', 'short trace id left-padded')
expect_eq(s['parent_span_id'], '00${PARENT_ID:2}', 'short span id left-padded')
records = [json.loads(l) for l in open('$RECORDS') if l.strip()]
expect_eq(len(records), 2, 'two backend requests')
clients = {c['span_id']: c for c in sel(service='frontend', kind='client')}
for r in records:
    hdrs = [(l.partition(':')[0].lower(), l.partition(':')[2].strip()) for l in r['head'].split('\r\n')[1:]]
    ut = [v for k, v in hdrs if k == 'uber-trace-id']
    expect(len(ut) == 1 and ut[0].split(':')[1] in clients, 'one uber-trace-id naming a client span: %r' % ut)
    expect(ut and ut[0].startswith('0000${TRACE_ID:4}:'), 'in the trace received')
    ctx = sorted((k, v) for k, v in hdrs if k.startswith('uberctx-'))
    expect_eq(ctx, [('uberctx-note', 'a%20b%20c'), ('uberctx-user', '42')], 'the baggage received, URL-encoded')
    expect_eq([v for k, v in hdrs if k in ('traceparent', 'baggage')], [], 'no W3C headers')
"
}

# ---- extraction ----

# serve PROPAGATORS: the traced python http.server, OTEL_PROPAGATORS set
serve() {
    EXTRA_ENV=("OTEL_PROPAGATORS=$1")
    start_http_server server py-server "$T/www"
}

# assert_continued TRACE PARENT: the server span's trace and parent
assert_continued() {
    wait_spans 1 --service py-server --kind server
    check_spans "
s = one(service='py-server', kind='server')
expect_eq(s.get('trace_id'), '$1', 'trace id continued')
expect_eq(s.get('parent_span_id'), '$2', 'parent span id')
expect(s.get('span_id') != '$2', 'a fresh span id for the server span')
"
}

assert_new_root() {
    wait_spans 1 --service py-server --kind server
    check_spans "
s = one(service='py-server', kind='server')
expect_eq(s.get('parent_span_id'), '', 'a new root')
expect(s.get('trace_id') not in ('$TRACE_ID', '0000000000000000${TRACE_ID:16}'), 'not the offered trace')
"
}

@test "b3 extracted: the server span continues the trace (name in any case)" {
    serve b3
    request_with "B3: $TRACE_ID-$PARENT_ID-1-05e3ac9a4f6e3b90"
    assert_continued "$TRACE_ID" "$PARENT_ID"
}

@test "b3 with a 16-digit trace id: left-padded to 32" {
    serve b3multi
    request_with "b3: ${TRACE_ID:16}-$PARENT_ID-d"
    assert_continued "0000000000000000${TRACE_ID:16}" "$PARENT_ID"
}

@test "X-B3-* extracted (b3 configured: both read both forms)" {
    serve b3
    request_with "x-b3-traceid: $TRACE_ID" "X-B3-SPANID: $PARENT_ID" "X-B3-Sampled: 1"
    assert_continued "$TRACE_ID" "$PARENT_ID"
}

@test "b3: 0 alone (a sampling decision without ids): no parent" {
    serve b3
    request_with "b3: 0"
    assert_new_root
}

@test "an invalid b3 (uppercase hex): no parent" {
    serve b3
    request_with "b3: ${TRACE_ID^^}-$PARENT_ID-1"
    assert_new_root
}

@test "uber-trace-id extracted, debug flag" {
    serve jaeger
    request_with "Uber-Trace-Id: $TRACE_ID:$PARENT_ID:0:2"
    assert_continued "$TRACE_ID" "$PARENT_ID"
}

@test "b3 headers are not read when only tracecontext is configured" {
    serve tracecontext
    request_with "b3: $TRACE_ID-$PARENT_ID-1" "uber-trace-id: $TRACE_ID:$PARENT_ID:0:1"
    assert_new_root
}

@test "order: the last configured propagator that finds a context wins (tracecontext,b3 -> b3)" {
    serve tracecontext,b3
    request_with "traceparent: 00-$OTHER_TRACE-$OTHER_PARENT-01" "b3: $TRACE_ID-$PARENT_ID-1"
    assert_continued "$TRACE_ID" "$PARENT_ID"
}

@test "order: b3,tracecontext -> traceparent wins" {
    serve b3,tracecontext
    request_with "traceparent: 00-$OTHER_TRACE-$OTHER_PARENT-01" "b3: $TRACE_ID-$PARENT_ID-1"
    assert_continued "$OTHER_TRACE" "$OTHER_PARENT"
}

@test "order: b3,tracecontext with an invalid traceparent: b3's context" {
    serve b3,tracecontext
    request_with "traceparent: 00-${OTHER_TRACE^^}-$OTHER_PARENT-01" "b3: $TRACE_ID-$PARENT_ID-1"
    assert_continued "$TRACE_ID" "$PARENT_ID"
}
