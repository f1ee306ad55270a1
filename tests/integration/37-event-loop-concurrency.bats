#!/usr/bin/env bats
# Event-loop services under concurrent load: node's http module (one event
# loop) and python's aiohttp (asyncio), each request GET /id/N making one
# downstream call with ?id=N, at 1, 8 and 64 connections. The handlers of
# many requests run interleaved on one thread, so the shim cannot tell from
# the thread which request a call is for; the runtime hints (README
# "Runtime hints") name it, and the call is that request's child. Counted
# from the spans received: "right" (the server span of the same N is the
# parent), "wrong" (another parent), "root" (none). A job on the event loop
# that runs for no request makes roots.

load test_helper
load arch_helper
load shares_helper

setup() {
    loop_setup
}

teardown() {
    common_teardown
}

# start_service RUNTIME [ARGS...]: the service under the shim, as "svc".
# RUNTIME node or aiohttp; ARGS go to the program.
start_service() {
    local runtime=$1
    shift
    if [[ $runtime == node ]]; then
        start_listener svc svc "$(node_bin)" "$PY_PROGRAMS/loop_service.js" service \
            "http://127.0.0.1:$BACKEND_PORT" "$T/svc.port" "$@"
    else
        start_listener svc svc "$PY" "$PY_PROGRAMS/loop_service_aiohttp.py" \
            "http://127.0.0.1:$BACKEND_PORT" "$T/svc.port" "$@"
    fi
    SVC_PORT=$LISTENER_PORT
}

@test "node http, 1 connection: every call is the child of its request" {
    start_service node
    load 1 100 a
    expect_shares 100 a
}

@test "node http, 8 connections: >= 99% of calls are the child of their own request, <= 0.1% wrong" {
    start_service node
    load 8 400 b
    expect_shares 400 b
}

@test "node http, 64 connections: >= 99% right, <= 0.1% wrong" {
    start_service node
    load 64 400 c
    expect_shares 400 c
}

@test "node http, a timer and a promise before the call, 1 connection: every call is the child of its request" {
    start_service node --async-step
    load 1 100 p
    expect_shares 100 p
}

@test "node http, a timer and a promise before the call, 8 connections: >= 99% right, <= 0.1% wrong" {
    start_service node --async-step
    load 8 400 q
    expect_shares 400 q
}

@test "node http, a timer and a promise before the call, 64 connections: >= 99% right" {
    start_service node --async-step
    load 64 400 d
    expect_shares 400 d
}

@test "node http: a timer's calls while requests are open are roots" {
    start_service node --background-ms 3
    load 8 400 e
    expect_shares 400 e 1
}

@test "aiohttp, 1 connection: every call is the child of its request" {
    start_service aiohttp
    load 1 100 f
    expect_shares 100 f
}

@test "aiohttp, 8 connections: >= 99% right, <= 0.1% wrong" {
    start_service aiohttp
    load 8 400 g
    expect_shares 400 g
}

@test "aiohttp, 64 connections: >= 99% right, <= 0.1% wrong" {
    start_service aiohttp
    load 64 400 h
    expect_shares 400 h
}

@test "aiohttp: a background task's calls while requests are open are roots" {
    start_service aiohttp --background-ms 3
    load 8 400 i
    expect_shares 400 i 1
}

@test "OTELAUTO_RUNTIME_HINTS=false: no module, calls the thread cannot attribute are roots, none wrong" {
    EXTRA_ENV=(OTELAUTO_RUNTIME_HINTS=false)
    start_service node
    load 8 200 j
    expect_no_wrong j
}

@test "a node or python program that serves no request: nothing of the hints on its requests, sys.path and the environment as without the shim" {
    run traced cli "$(node_bin)" "$PY_PROGRAMS/loop_service.js" get "http://127.0.0.1:$BACKEND_PORT/status/200?id=cli"
    assert_ok
    expect_plain_call cli
    # python: the hint folder is off sys.path again; the variables are set
    local code='import os, sys; print(sys.path); print("PYTHONPATH" in os.environ)'
    local plain
    plain=$("$PY" -c "$code" | head -1)
    run traced py "$PY" -c "$code"
    assert_ok
    [[ ${lines[0]} == "$plain" ]] || fail_now "sys.path under the shim: ${lines[0]}, without: $plain"
    [[ ${lines[1]} == True ]]
    run traced py OTELAUTO_RUNTIME_HINTS=false "$PY" -c 'import os; print(os.environ.get("PYTHONPATH"))'
    assert_ok
    [[ $output == None ]]
    run traced node "$(node_bin)" -e 'console.log(process.env.NODE_OPTIONS)'
    assert_ok
    [[ $output == "--require "*/hints/node/otelauto-hint.js ]] || fail_now "NODE_OPTIONS: $output"
}
