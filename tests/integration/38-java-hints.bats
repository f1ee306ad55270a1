#!/usr/bin/env bats
# Java's runtime hint (README "Runtime hints"): a com.sun.net.httpserver
# service whose handler (on the server's executor) calls a backend through
# java.net.http.HttpClient.send, which writes the request from the client's
# own threads: the shim cannot tell from the thread which request a call is
# for. The agent names it, and the call is that request's child. Counted
# as in 37-event-loop-concurrency.bats (tests/lib/parent_shares.py). The
# JVM's "Picked up JAVA_TOOL_OPTIONS" line for the shim's option never
# reaches the program's stderr.

load test_helper
load arch_helper
load shares_helper

JAVA_CLASSES=$PROGRAMS_DIR/java
HINT_JAR=$(dirname "$SHIM_LIB")/hints/java/otelauto-hint.jar

# The JDK, the agent and the program built (make lib programs with a javac),
# and a JVM that starts with the shim's preload prefix (libasan).
skip_unless_java() {
    command -v java >/dev/null 2>&1 || skip "no java (openjdk-17-jdk-headless)"
    [[ -f $JAVA_CLASSES/JavaLoopService.class && -f $HINT_JAR ]] ||
        skip "the Java agent or test program is not built (no javac at make time)"
    runs_under_prefix java 20 java -version || skip "the JVM does not start with $SHIM_PREFIX preloaded"
}

setup() {
    skip_unless_java
    loop_setup
}

teardown() {
    common_teardown
}

# start_service [ARGS...]: the Java service under the shim, as "svc".
start_service() {
    LISTENER_TIMEOUT=30 start_listener svc svc java -cp "$JAVA_CLASSES" JavaLoopService service \
        "http://127.0.0.1:$BACKEND_PORT" "$T/svc.port" "$@"
    SVC_PORT=$LISTENER_PORT
}

@test "java HttpServer + HttpClient, 1 connection: every call is the child of its request" {
    skip_if_sanitized "the Java side varies, not the shim's: the 8-connection case runs under ASan"
    start_service
    load 1 100 a
    expect_shares 100 a
}

@test "java HttpServer + HttpClient, 8 connections: >= 99% right, <= 0.1% wrong" {
    start_service
    load 8 200 b
    expect_shares 200 b
}

@test "java HttpServer + HttpClient, 64 connections: >= 99% right, <= 0.1% wrong" {
    skip_if_sanitized "the Java side varies, not the shim's: the 8-connection case runs under ASan"
    start_service
    load 64 200 c
    expect_shares 200 c
}

@test "java, HttpClient.newHttpClient() (HTTP/2 preferred: HTTP/1.1 asking for h2c), 8 connections: >= 99% right" {
    skip_if_sanitized "the Java side varies, not the shim's: the 8-connection case runs under ASan"
    EXTRA_ENV=(JAVA_LOOP_CLIENT=default)
    start_service
    load 8 200 f
    expect_shares 200 f
}

@test "java: a scheduled job's calls while requests are open are roots" {
    skip_if_sanitized "the Java side varies, not the shim's: the 8-connection case runs under ASan"
    start_service --background-ms 50
    load 8 200 d
    expect_shares 200 d 1
}

@test "OTELAUTO_RUNTIME_HINTS=false: no agent, no JAVA_TOOL_OPTIONS of ours; calls the thread cannot attribute are roots, none wrong" {
    EXTRA_ENV=(OTELAUTO_RUNTIME_HINTS=false)
    start_service
    load 8 200 e
    expect_no_wrong e
    run traced env OTELAUTO_RUNTIME_HINTS=false java -cp "$JAVA_CLASSES" JavaLoopService env
    assert_ok
    [[ ${lines[0]} == "JAVA_TOOL_OPTIONS=null" ]] || fail_now "the JVM saw: ${lines[0]}"
}

@test "a java program that serves no request: nothing of the hint on its request; the agent is in JAVA_TOOL_OPTIONS" {
    run traced cli java -cp "$JAVA_CLASSES" JavaLoopService get "http://127.0.0.1:$BACKEND_PORT/status/200?id=cli"
    assert_ok
    expect_plain_call cli
    run traced env java -cp "$JAVA_CLASSES" JavaLoopService env
    assert_ok
    [[ ${lines[0]} == "JAVA_TOOL_OPTIONS=-javaagent:$HINT_JAR" ]] || fail_now "JAVA_TOOL_OPTIONS: ${lines[0]}"
}

@test "the agent in a JVM without the shim (a child that lost LD_PRELOAD but kept the variable) does nothing" {
    # serving, so that with the shim a call made for no request would carry
    # the placeholder that says so
    run java "-javaagent:$HINT_JAR" -cp "$JAVA_CLASSES" JavaLoopService get \
        "http://127.0.0.1:$BACKEND_PORT/status/200?id=cli" --serving
    assert_ok
    [[ $output == "ok /status/200?id=cli -" ]] || fail_now "backend saw: $output"
    # with the shim, that placeholder became our client span's traceparent
    run traced cli java -cp "$JAVA_CLASSES" JavaLoopService get "http://127.0.0.1:$BACKEND_PORT/status/200?id=cli" --serving
    assert_ok
    expect_plain_call cli
}

@test "java: stderr and exit status identical with and without the shim, with and without a JAVA_TOOL_OPTIONS of the program's own" {
    local own
    for own in "" "-Dotelauto.test=1 -Xss2m"; do
        local vars=()
        [[ -z $own ]] || vars=("JAVA_TOOL_OPTIONS=$own")
        env "${vars[@]}" java -cp "$JAVA_CLASSES" JavaLoopService env >"$T/plain.out" 2>"$T/plain.err"
        local plain_status=$?
        traced env "${vars[@]}" java -cp "$JAVA_CLASSES" JavaLoopService env >"$T/traced.out" 2>"$T/traced.err"
        local traced_status=$?
        [[ $traced_status == "$plain_status" ]] || fail_now "exit status $traced_status, without the shim $plain_status"
        cmp "$T/plain.err" "$T/traced.err" ||
            fail_now "stderr differs (own options: '$own'): $(diff "$T/plain.err" "$T/traced.err")"
        # the agent was there: the program sees the variable with it
        grep -q -- "-javaagent:$HINT_JAR" "$T/traced.out" || fail_now "no agent: $(cat "$T/traced.out")"
    done
    grep -q "Picked up JAVA_TOOL_OPTIONS: -Dotelauto.test=1 -Xss2m" "$T/traced.err"
}

@test "another JVM launcher (javac) started by a traced java with its JAVA_TOOL_OPTIONS: stderr as without the shim's option" {
    command -v javac >/dev/null 2>&1 || skip "no javac"
    javac -version >"$T/plain.out" 2>"$T/plain.err"
    traced jc "JAVA_TOOL_OPTIONS=-javaagent:$HINT_JAR" javac -version >"$T/traced.out" 2>"$T/traced.err"
    cmp "$T/plain.out" "$T/traced.out"
    cmp "$T/plain.err" "$T/traced.err" || fail_now "stderr differs: $(diff "$T/plain.err" "$T/traced.err")"
    env JAVA_TOOL_OPTIONS=-Dx=y javac -version >/dev/null 2>"$T/plain.err"
    traced jc "JAVA_TOOL_OPTIONS=-javaagent:$HINT_JAR -Dx=y" javac -version >/dev/null 2>"$T/traced.err"
    cmp "$T/plain.err" "$T/traced.err" || fail_now "stderr differs: $(diff "$T/plain.err" "$T/traced.err")"
}
