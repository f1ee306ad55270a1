#!/usr/bin/env bats
# Standard OTEL_* switches, observed from outside: what reaches an untraced
# recording server, and what reaches the collector.

load test_helper
bats_require_minimum_version 1.5.0

setup() {
    common_setup
    start_receiver
    start_recording_server recorder
    RECORDS=$T/recorder.records
}

teardown() {
    common_teardown
}

# A traced control request after the one under test: once its span has
# arrived, anything the earlier (already exited) program exported would have
# arrived too.
control_span_arrived() {
    traced control curl -sS -o /dev/null "http://127.0.0.1:$RECORDER_PORT/control"
    wait_spans 1 --service control
}

@test "OTEL_SDK_DISABLED=true: no traceparent injected and no span exported" {
    run traced disabled OTEL_SDK_DISABLED=true curl -sS "http://127.0.0.1:$RECORDER_PORT/disabled"
    assert_ok
    [ "$output" = "received 0" ]
    control_span_arrived
    recorded "
expect(records[0]['head'].startswith('GET /disabled '), 'first request is the one under test')
expect(records[0]['traceparent'] == [], 'no traceparent with the SDK disabled, got %r' % records[0]['traceparent'])
expect(len(records[1]['traceparent']) == 1, 'the control request has one')
"
    check_spans "expect_eq(len(sel(service='disabled')), 0, 'spans with the SDK disabled')"
}

@test "OTEL_TRACES_SAMPLER=always_off: traceparent still injected with the sampled flag clear, no span exported" {
    run traced unsampled OTEL_TRACES_SAMPLER=always_off curl -sS "http://127.0.0.1:$RECORDER_PORT/unsampled"
    assert_ok
    control_span_arrived
    recorded "
tp = records[0]['traceparent']
expect(len(tp) == 1, 'one traceparent, got %r' % tp)
expect(all(TRACEPARENT_RE.match(v) for v in tp), 'well-formed %r' % tp)
# sampled bit clear (the level-2 'random trace id' bit 0x02 may be set)
expect(all(int(v[-2:], 16) & 1 == 0 for v in tp), 'sampled flag clear in %r' % tp)
"
    check_spans "expect_eq(len(sel(service='unsampled')), 0, 'spans with always_off')"
}

@test "OTEL_TRACES_SAMPLER=always_off in a server: an incoming sampled parent does not make it record" {
    EXTRA_ENV=(OTEL_TRACES_SAMPLER=always_off)
    start_backend backend unsampled-server
    local server_pid=$BG_PID
    EXTRA_ENV=()
    run curl -sS -o /dev/null -w '%{http_code}' -H "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" \
        "http://127.0.0.1:$BACKEND_PORT/status/200"
    [ "$output" = 200 ]
    control_span_arrived
    # not a span recorded: the server's counters (no waiting for an export
    # that should not come)
    shim_counters "$server_pid"
    ((SUBMITTED == 0)) || fail_now "the always_off server submitted $SUBMITTED span(s)"
    check_spans "expect_eq(len(sel(service='unsampled-server')), 0, 'spans with always_off')"
}

@test "OTEL_TRACES_EXPORTER=console: the span is printed on stderr, nothing sent to the collector" {
    run --separate-stderr traced console OTEL_TRACES_EXPORTER=console curl -sS "http://127.0.0.1:$RECORDER_PORT/console"
    assert_ok
    [ "$output" = "received 0" ]
    local trace_id
    trace_id=$("$PY" -c "import json, sys; print(json.loads(open(sys.argv[1]).readline())['traceparent'][0].split('-')[1])" "$RECORDS")
    echo "stderr: $stderr" >&2
    [[ $stderr == *"$trace_id"* ]]
    [[ $stderr == *GET* ]]
    control_span_arrived
    check_spans "expect_eq(len(sel(service='console')), 0, 'spans sent to the collector by the console exporter')"
}

@test "OTEL_TRACES_EXPORTER=none: traceparent injected, nothing exported, nothing printed" {
    run --separate-stderr traced quiet OTEL_TRACES_EXPORTER=none curl -sS "http://127.0.0.1:$RECORDER_PORT/none"
    assert_ok
    [ "$stderr" = "" ]
    control_span_arrived
    recorded "expect(len(records[0]['traceparent']) == 1, 'traceparent still injected')"
    check_spans "expect_eq(len(sel(service='quiet')), 0, 'spans with exporter none')"
}

@test "OTEL_SERVICE_NAME unset (empty): service.name defaults to unknown_service:<executable>" {
    traced_env ignored
    run timeout 60 env "${TRACED_ENV[@]/OTEL_SERVICE_NAME=*/OTEL_SERVICE_NAME=}" \
        "$PROGRAMS_DIR/slow_writer_client" 127.0.0.1 "$RECORDER_PORT" /unnamed
    assert_ok
    wait_spans 1 --service unknown_service:slow_writer_client
}
