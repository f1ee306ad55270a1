#!/usr/bin/env bats
# Event-loop servers: one thread reads several requests before answering
# them. An outgoing request is the child of the one request its thread has
# read and not answered; with several such requests the parent is ambiguous
# and the outgoing request starts a trace of its own (a root span) rather
# than join the wrong one. The server is python's asyncio: one thread, one
# event loop, downstream calls with asyncio streams.

load test_helper
load arch_helper

setup() {
    common_setup
    start_receiver
    start_backend backend backend
    start_arch loop loop asyncio --backend "http://127.0.0.1:$BACKEND_PORT"
    LOOP_PORT=$ARCH_PORT
}

teardown() {
    common_teardown
}

@test "event loop, one request at a time: the downstream call is the child of the request being handled" {
    local i
    for i in 1 2 3; do
        run traced curl curl -sS "http://127.0.0.1:$LOOP_PORT/call/seq$i"
        assert_ok
        [[ $output == "seq$i 200 "* ]] || fail_now "server answered: $output"
    done
    wait_spans 3 --service backend --kind server
    check_spans "$CHAIN_CHECK
for i in (1, 2, 3):
    ident = 'seq%d' % i
    chain = ([s for s in sel(service='curl', kind='client') if str(attr(s, 'url.full')).endswith('/call/' + ident)]
             + sel(service='loop', kind='server', url__path='/call/' + ident)
             + [s for s in sel(service='loop', kind='client') if str(attr(s, 'url.full')).endswith('id=' + ident)]
             + sel(service='backend', kind='server', url__query='id=' + ident))
    if expect_eq(len(chain), 4, ident + ': four spans'):
        expect_chain(chain, ident)
"
}

@test "event loop, two requests in flight on its one thread: both downstream calls are roots, never the other request's child" {
    # each handler waits until both heads have been read, then calls the
    # backend: at that moment two requests are open on the loop's thread
    traced_env curl
    local pids=() i
    for i in 1 2; do
        traced_command curl -sS -o "$T/out.$i" "http://127.0.0.1:$LOOP_PORT/call/both$i?overlap=2"
        env "${TRACED_ENV[@]}" "${TRACED_CMD[@]}" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i"
    done
    grep -q "^both1 200 " "$T/out.1" && grep -q "^both2 200 " "$T/out.2" || fail_now "answers: $(cat "$T"/out.*)"
    wait_spans 2 --service backend --kind server
    wait_spans 2 --service loop --kind client
    check_spans "
servers = sel(service='loop', kind='server')
expect_eq(len(servers), 2, 'two server spans')
expect(max(s['start'] for s in servers) < min(s['end'] for s in servers), 'the two requests overlapped')
server_ids = {s.get('span_id') for s in servers}
for i in (1, 2):
    ident = 'both%d' % i
    c = one(service='loop', kind='client', url__full='http://127.0.0.1:$BACKEND_PORT/status/200?id=' + ident)
    expect(c.get('parent_span_id') not in server_ids, ident + ': not parented to a server span (the choice is ambiguous)')
    expect_eq(c.get('parent_span_id'), '', ident + ': the downstream call is a root')
    b = one(service='backend', kind='server', url__query='id=' + ident)
    expect_eq(b.get('parent_span_id'), c.get('span_id'), ident + ': the backend span is still the child of the call')
"
}

@test "event loop: after overlapping requests are answered, the next request gets its parent again" {
    traced_env curl
    local pids=() i
    for i in 1 2; do
        traced_command curl -sS -o /dev/null "http://127.0.0.1:$LOOP_PORT/call/first$i?overlap=2"
        env "${TRACED_ENV[@]}" "${TRACED_CMD[@]}" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i"
    done
    run traced curl curl -sS "http://127.0.0.1:$LOOP_PORT/call/after?overlap=0"
    assert_ok
    wait_spans 3 --service backend --kind server
    check_spans "
s = one(service='loop', kind='server', url__path='/call/after')
c = one(service='loop', kind='client', url__full='http://127.0.0.1:$BACKEND_PORT/status/200?id=after')
expect_eq(c.get('parent_span_id'), s.get('span_id'), 'the call is the child of the one open request')
expect_eq(c.get('trace_id'), s.get('trace_id'), 'same trace')
"
}
