#!/usr/bin/env bats
# A grpcio server hands each call from the thread that read it (grpc's I/O
# thread, where the shim makes the call's SERVER span) to its thread pool,
# whose handler GETs the backend with urllib (?id=N): a thread that read
# nothing. The python runtime hint (README "Runtime hints") names the call
# on the handler's request by the peer's port and the parent id of the
# traceparent the call carried; the shim finds that HTTP/2 stream, and the
# handler's call is its child. Counted from the spans received as in
# 37-event-loop-concurrency.bats: "right" (the server span of the call with
# the same N is the parent), "wrong" (another parent), "root" (none).

load test_helper
load arch_helper

setup() {
    common_setup
    "$PY" -c 'import grpc' 2>/dev/null || skip "python3-grpcio not installed"
    start_receiver
    start_loop_backend
}

teardown() {
    common_teardown
}

# start_service [ARGS...]: the grpcio service under the shim, as "svc".
start_service() {
    LISTENER_TIMEOUT=30 start_listener svc svc "$PY" "$PY_PROGRAMS/grpc_handoff.py" serve \
        "http://127.0.0.1:$BACKEND_PORT" "$T/svc.port" "$@"
    SVC_PORT=$LISTENER_PORT
}

# load TRACED CHANNELS CALLS PREFIX PER_CHANNEL: the calls (TRACED yes: the
# client under the shim, its calls carry traceparent), all answered right.
load() {
    local how=(traced load)
    [[ $1 == yes ]] || how=()
    run "${how[@]}" "$PY" "$PY_PROGRAMS/grpc_handoff.py" load "$SVC_PORT" "$2" "$3" "$4" --per-channel "$5"
    assert_ok
    [[ $output == "ok $3" ]] || fail_now "load: $output"
    CHANNELS=$2
    wait_spans "$3" --service svc --kind server
    wait_spans "$3" --service svc --kind client
    wait_spans "$3" --service backend --kind server
}

# expect_shares CALLS PREFIX MAX_WRONG_PER_MILLE [MIN_BG]: >= 99% right, at
# most MAX_WRONG per thousand wrong; every backend request the child of a
# handler's call (the placeholder never reached the wire); at least MIN_BG
# background calls, all roots.
expect_shares() {
    local n=$1 prefix=$2 max_wrong=$3 min_bg=${4:-0}
    SHARES=$("$PY" "$REPO_ROOT/tests/lib/parent_shares.py" "$SPANS" svc "$prefix" --rpc)
    echo "# shares: $SHARES" >&3
    check_spans "
shares = json.loads('''$SHARES''')
n = $n
expect_eq(shares['servers'], n, 'one server span per call')
ports = {attr(s, 'network.peer.port') for s in sel(service='svc', kind='server')}
expect_eq(len(ports), $CHANNELS, 'one connection per channel')
expect_eq(shares['missing'], 0, 'every call made its request')
expect(shares['right'] * 100 >= 99 * n, '>= 99%% right: %r' % shares)
expect(shares['wrong'] * 1000 <= $max_wrong * n, '<= $max_wrong per mille wrong: %r' % shares)
expect(shares['bg_root'] >= $min_bg, 'background calls: %r' % shares)
expect_eq(shares['bg_parented'], 0, 'background calls are roots')
calls = {s['span_id'] for s in sel(service='svc', kind='client')}
backend = [s for s in sel(service='backend', kind='server') if str(attr(s, 'url.query')).startswith('id=$prefix')]
expect_eq(len(backend), n, 'the backend served every call')
orphans = [s for s in backend if s.get('parent_span_id') not in calls]
expect_eq(len(orphans), 0, 'each backend request is the child of a handler call of svc')
"
}

@test "grpcio, 1 channel, 4 calls in flight: every handler's call is the child of its call" {
    start_service
    load yes 1 200 a 4
    expect_shares 200 a 1
}

@test "grpcio, 8 channels, 4 calls in flight on each: >= 99% right, <= 0.1% wrong" {
    start_service
    load yes 8 200 b 4
    expect_shares 200 b 1
}

@test "grpcio, 64 channels, 2 calls in flight on each: >= 99% right, <= 0.1% wrong" {
    start_service
    load yes 64 200 c 2
    expect_shares 200 c 1
}

@test "grpcio, a client without the shim (no traceparent), 8 channels one call at a time: >= 99% right, none wrong" {
    start_service
    load no 8 200 d 1
    expect_shares 200 d 0
}

@test "grpcio: a background thread's calls while calls are open are roots" {
    start_service --background-ms 3
    load yes 8 200 e 4
    expect_shares 200 e 1 1
}

@test "grpcio: a handler that sends its own traceparent: the backend gets it byte for byte, the call's span joins its trace" {
    start_service
    local own=00-11111111111111111111111111111111-2222222222222222-01
    run traced load "$PY" "$PY_PROGRAMS/grpc_handoff.py" call "$SVC_PORT" own1
    assert_ok
    [[ $output == "ok /?id=own1 $own" ]] || fail_now "the backend saw: $output"
    wait_spans 1 --service svc --kind client
    check_spans "
c = one(service='svc', kind='client')
expect_eq((c['trace_id'], c.get('parent_span_id')), ('1' * 32, '2' * 16), 'the span joins the trace the program named')
"
}

@test "grpcio server-streaming: a call made while the response's iterator runs is the child of its call" {
    start_service
    run traced load "$PY" "$PY_PROGRAMS/grpc_handoff.py" call "$SVC_PORT" stream1
    assert_ok
    [[ $output == $'first\nstream1 200' ]] || fail_now "answer: $output"
    wait_spans 1 --service svc --kind server
    wait_spans 1 --service svc --kind client
    wait_spans 1 --service backend --kind server
    check_spans "
s = one(service='svc', kind='server', name='demo.Handoff/stream1')
c = one(service='svc', kind='client')
b = one(service='backend', kind='server')
expect_eq((c['trace_id'], c.get('parent_span_id')), (s['trace_id'], s['span_id']), 'the call: a child of the streaming call')
expect_eq(b.get('parent_span_id'), c['span_id'], 'the backend request: a child of the call')
"
}
