#!/usr/bin/env bats
# Child processes join the trace: a program started while a request is
# handled gets the request's context in TRACEPARENT (and TRACESTATE,
# BAGGAGE), and the child's shim makes it the parent of its spans. A child
# started outside any request gets none of these variables.

load test_helper
load arch_helper

setup() {
    common_setup
    start_receiver
    start_backend backend backend
    local child="curl -sS"
    [[ $SUBSTITUTE_CURL == 0 ]] || child="$PY $PY_PROGRAMS/mini_curl.py -sS"
    start_arch spawner spawner spawn --backend "http://127.0.0.1:$BACKEND_PORT" --child "$child" \
        --startup-env "$T/startup.env"
    SPAWN_PORT=$ARCH_PORT
}

teardown() {
    common_teardown
}

# The handler of GET /spawn/HOW runs curl BACKEND/status/200?id=HOW in a
# child started the HOW way: the child's client span is the server span's
# child, and the backend's span the child of the child's.
child_joins_trace() {
    local how=$1
    run traced client curl -sS -H 'baggage: tenant=t1' -H 'tracestate: vendor=v1' \
        "http://127.0.0.1:$SPAWN_PORT/spawn/$how?id=$how"
    assert_ok
    [[ $output == "status 200" ]] || fail_now "spawner answered: $output"
    wait_spans 1 --service backend --kind server
    wait_spans 1 --service spawner --kind server
    check_spans "$CHAIN_CHECK
s = one(service='spawner', kind='server', url__path='/spawn/$how')
# the child inherits OTEL_SERVICE_NAME: it is told apart by its process id
kids = [c for c in sel(kind='client') if str(attr(c, 'url.full')).endswith('/status/200?id=$how')
        and c['resource'].get('process.pid') != s['resource'].get('process.pid')]
b = one(service='backend', kind='server', url__query='id=$how')
if expect_eq(len(kids), 1, 'one client span from the child process'):
    c = kids[0]
    expect_chain([one(service='client', kind='client'), s, c, b], 'client -> spawner -> child -> backend')
    expect_eq(c.get('trace_state'), 'vendor=v1', 'the child span keeps the tracestate')
"
}

@test "child started with subprocess (vfork + execve) while a request is handled: its client span is the server span's child" {
    child_joins_trace subprocess
}

@test "child started with system(): its client span is the server span's child" {
    child_joins_trace system
}

@test "child started with posix_spawn: its client span is the server span's child" {
    child_joins_trace posix_spawn
}

@test "child started with fork + execv: its client span is the server span's child" {
    child_joins_trace forkexec
}

@test "environment of a child: TRACEPARENT/TRACESTATE/BAGGAGE of the request inside it, none outside any request" {
    run traced client curl -sS -H 'baggage: tenant=t1' -H 'tracestate: vendor=v1' \
        "http://127.0.0.1:$SPAWN_PORT/env/subprocess"
    assert_ok
    local env_in_request=$output
    wait_spans 1 --service spawner --kind server
    check_spans "
s = one(service='spawner', kind='server', url__path='/env/subprocess')
env = dict(l.split('=', 1) for l in '''$env_in_request'''.splitlines() if '=' in l)
expect_eq(env.get('TRACEPARENT'), '00-%s-%s-%02x' % (s['trace_id'], s['span_id'], s['flags'] & 0xff),
          'TRACEPARENT names the server span')
expect_eq(env.get('TRACESTATE'), 'vendor=v1', 'TRACESTATE')
expect_eq(env.get('BAGGAGE'), 'tenant=t1', 'BAGGAGE')
"
    [[ -s $T/startup.env ]] || fail_now "the start-up child wrote nothing"
    if grep -E '^(TRACEPARENT|TRACESTATE|BAGGAGE)=' "$T/startup.env"; then
        fail_now "a child started outside any request got trace variables"
    fi
}

@test "a process started with TRACEPARENT: its client spans are that span's children, in its trace" {
    local tp=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
    run traced cli TRACEPARENT=$tp TRACESTATE=vendor=v2 curl -sS "http://127.0.0.1:$BACKEND_PORT/status/200?id=cli"
    assert_ok
    wait_spans 1 --service backend --kind server
    check_spans "
c = one(service='cli', kind='client')
expect_eq(c.get('trace_id'), '0af7651916cd43dd8448eb211c80319c', 'the trace of TRACEPARENT')
expect_eq(c.get('parent_span_id'), 'b7ad6b7169203331', 'the parent named by TRACEPARENT')
expect_eq(c.get('trace_state'), 'vendor=v2', 'TRACESTATE kept')
b = one(service='backend', kind='server', url__query='id=cli')
expect_eq(b.get('parent_span_id'), c.get('span_id'), 'and the trace goes on downstream')
"
}
