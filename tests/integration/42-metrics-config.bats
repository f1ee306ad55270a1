#!/usr/bin/env bats
# OTEL_METRICS_EXPORTER=console and none, and what metrics cost a process
# that never sees an HTTP request: nothing (no thread, no library).

bats_require_minimum_version 1.5.0

load test_helper
load metrics_helper

setup() {
    common_setup
    start_receiver
}

teardown() {
    common_teardown
}

@test "OTEL_METRICS_EXPORTER=console: the client histogram is printed on stderr at exit, nothing sent to /v1/metrics" {
    start_backend backend
    run --separate-stderr traced console-client OTEL_METRICS_EXPORTER=console OTEL_TRACES_EXPORTER=none \
        curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BACKEND_PORT/status/204"
    assert_ok
    [ "$output" = 204 ]
    echo "stderr: $stderr" >&2
    [[ $stderr == *'otelauto metric http.client.request.duration histogram unit=s cumulative'* ]]
    [[ $stderr == *'count=1 '* ]]
    [[ $stderr == *'http.response.status_code=204'* ]]
    [[ $stderr == *"server.port=$BACKEND_PORT"* ]]
    [ "$(grep -c '"/v1/metrics"' "$SPANS.requests" || true)" = 0 ]
}

@test "OTEL_METRICS_EXPORTER=none: nothing sent to /v1/metrics, spans still exported" {
    start_backend backend
    run traced quiet OTEL_METRICS_EXPORTER=none curl -sS -o /dev/null "http://127.0.0.1:$BACKEND_PORT/status/200"
    assert_ok
    wait_spans 1 --service quiet
    [ "$(grep -c '"/v1/metrics"' "$SPANS.requests" || true)" = 0 ]
}

@test "a traced process that makes no HTTP request starts no metrics thread" {
    run traced idle P="$RECEIVER_PORT" "$PY" -c '
import os, socket, time
s = socket.create_connection(("127.0.0.1", int(os.environ["P"])))  # TCP, but no HTTP
s.close()
time.sleep(0.3)
print(len(os.listdir("/proc/self/task")))
'
    assert_ok
    [ "$output" = 1 ]
}

@test "a traced process that serves HTTP has one metrics thread, whatever the number of requests" {
    mkdir -p "$T/www"
    printf 'x\n' >"$T/www/x.txt"
    start_http_server server threads "$T/www"
    local pid=$BG_PID
    http_requests "$HTTP_SERVER_PORT" /x.txt /x.txt /x.txt
    wait_metric http.server.request.duration 3 --timeout 1 || true
    # python's main thread, the span exporter, the metrics thread
    [ "$(ls "/proc/$pid/task" | wc -l)" = 3 ]
}

@test "short-lived traced clients started together all exit cleanly (the exporter is set up during the exit flush)" {
    start_recording_server recorder
    local i pids=() failed=0
    for i in $(seq 32); do
        traced "short-$i" "$PROGRAMS_DIR/slow_writer_client" 127.0.0.1 "$RECORDER_PORT" "/short/$i" \
            >"$T/short-$i.out" 2>&1 &
        pids+=($!)
        ((i % 8 == 0)) && { wait "${pids[@]}" || failed=1; pids=(); }
    done
    [ "$failed" = 0 ]
    wait_metric http.client.request.duration 32 --timeout 15
}
