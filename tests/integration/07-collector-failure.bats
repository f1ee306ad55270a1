#!/usr/bin/env bats
# When the collector is down or stuck, the traced program must not notice:
# its requests are all answered while every export is refused or held open,
# the spans it holds stay bounded (the rest dropped and counted), and its
# exit does not wait for the collector beyond the export timeout.
#
# Nothing here measures time: the program's side is counted (requests
# answered, the shim's counters read by `otelauto doctor PID` or printed at
# exit), and a wait is bounded only to turn a hang into a failure.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
    common_setup
    mkdir -p "$T/www"
    printf 'ok\n' >"$T/www/ok.txt"
}

teardown() {
    common_teardown
}

# requests_unhindered: a traced backend answers 300 requests while no export
# gets through (the collector as the caller set RECEIVER_PORT). An export
# held by a hung collector lasts a minute (OTEL_EXPORTER_OTLP_TIMEOUT): a
# request that waited for one would not be answered within the probe's 10 s
# and fail it. The counters then show every request's span submitted and not
# one exported: the requests did not wait for the exporter.
requests_unhindered() {
    local n=300
    EXTRA_ENV=(OTEL_EXPORTER_OTLP_TIMEOUT=60000)
    start_backend traced-backend backend
    local pid=$BG_PID
    process_has_shim "$pid" || fail_now "the shim is not loaded in the traced backend"
    probe "$BACKEND_PORT" "$n" || fail_now "the traced backend did not answer all $n requests"
    pid_alive "$pid" || fail_now "the traced backend died"
    shim_counters "$pid"
    ((SUBMITTED >= n)) || fail_now "spans submitted: $SUBMITTED, want one per request ($n)"
    ((EXPORTED == 0)) || fail_now "spans exported: $EXPORTED, but the collector took none"
}

@test "collector unreachable (connection refused): a traced server answers every request, none waits for the exporter" {
    RECEIVER_PORT=$(closed_port)
    requests_unhindered
}

@test "collector accepts but never answers: a traced server answers every request, none waits for the exporter" {
    start_receiver --mode hang
    requests_unhindered
    # the exporter did send, and was held: the collector got the request
    wait_file "$SPANS.requests" 30
}

@test "collector never answers: a traced nginx holds at most a queue and a batch of spans over 9000 requests, the rest dropped and counted" {
    start_receiver --mode hang
    local pid queue=64 batch=16
    EXTRA_ENV=(OTEL_BSP_MAX_QUEUE_SIZE=$queue OTEL_BSP_MAX_EXPORT_BATCH_SIZE=$batch OTEL_EXPORTER_OTLP_TIMEOUT=1000)
    start_nginx nginx nginx "$T/www"
    pid=$NGINX_PID
    process_has_shim "$pid" || fail_now "the shim is not loaded in nginx"
    probe "$NGINX_PORT" 1000
    probe "$NGINX_PORT" 8000
    pid_alive "$pid"
    shim_counters "$pid"
    ((SUBMITTED == 9000)) || fail_now "spans submitted: $SUBMITTED, want one per request (9000)"
    ((EXPORTED == 0)) || fail_now "spans exported: $EXPORTED, but the collector took none"
    # buffering without a bound would hold (nearly) every span
    ((HELD <= queue + batch)) || fail_now "the shim holds $HELD spans, more than the queue ($queue) and a batch ($batch)"
    ((DROPPED > 0)) || fail_now "nothing dropped"
}

# exit_unhindered: a short-lived traced curl exits with its request done and
# its span not exported (given up or still in flight), the collector having
# taken nothing. Without the export timeout's bound on the exit, it would
# wait for the collector (forever, or the minute of retries): the command's
# limit, ten times the export timeout, turns that hang into a failure.
exit_unhindered() {
    start_backend plain
    OTELAUTO_TEST_CMD_TIMEOUT=10 run --separate-stderr traced curl-client OTEL_EXPORTER_OTLP_TIMEOUT=1000 \
        OTEL_LOG_LEVEL=debug curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BACKEND_PORT/ok.txt"
    grep -E 'shutdown: submitted=' <<<"$stderr" >&2 || true
    [[ $status -ne 124 ]] || fail_now "the traced curl did not exit (killed after 10 s)"
    assert_ok
    [ "$output" = 200 ]
    grep -qE 'shutdown: submitted=1 exported=0 dropped=0 failed=[01]$' <<<"$stderr"
}

@test "collector unreachable: a short-lived traced curl exits with its span unsent, not waiting for the collector" {
    RECEIVER_PORT=$(closed_port)
    exit_unhindered
}

@test "collector never answers: a short-lived traced curl exits with its span unsent, not waiting for the collector" {
    start_receiver --mode hang
    exit_unhindered
    # the exporter did try: the request reached the receiver
    wait_file "$SPANS.requests" 30
}
