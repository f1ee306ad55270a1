#!/usr/bin/env bats
# The exporter lives inside the traced process but must stay invisible to
# the shim (no spans about its own requests, no traceparent in them), and
# its heavy dependencies (libcurl, protobuf-c) are loaded only once there is
# something to export.

load test_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'x\n' >"$T/www/x.txt"
}

teardown() {
    common_teardown
}

@test "the exporter's own requests are not traced: no span about the collector, no traceparent sent to it" {
    start_backend backend backend
    local i
    # several export rounds from a long-running process and from short-lived ones
    for i in 1 2 3; do
        traced curl-client curl -sS -o /dev/null "http://127.0.0.1:$BACKEND_PORT/x.txt"
        sleep 0.25
    done
    wait_spans 3 --service backend --settle 1
    wait_spans 3 --service curl-client
    check_spans "
expect_eq(len(spans), 6, 'exactly the six spans of the three requests')
for s in spans:
    for key in ('server.port', 'network.peer.port'):
        expect(attr(s, key) != $RECEIVER_PORT, 'a span about the collector (%s = $RECEIVER_PORT): %s' % (key, s.get('name')))
    expect(':$RECEIVER_PORT' not in str(attr(s, 'url.full') or ''), 'a span whose url.full is the collector')
    expect(attr(s, 'url.path') != '/v1/traces', 'a span for /v1/traces')
"
    [ -s "$SPANS.requests" ]
    run grep -ci traceparent "$SPANS.requests"
    [ "$output" = 0 ]
}

@test "the OTLP exporter calls libcurl's own functions, never the shim's libcurl or libc hooks (witness preload before the shim)" {
    with_hook_witness
    start_backend backend backend
    local i
    for i in 1 2 3; do
        curl -sS -o /dev/null "http://127.0.0.1:$BACKEND_PORT/x.txt"
    done
    wait_spans 3 --service backend --settle 1
    assert_no_hook_reentry
}

@test "nothing traced: libcurl, protobuf-c and the exporter object are never loaded" {
    run traced idle "$PY" -c 'import time; time.sleep(0.3); print(open("/proc/self/maps").read())'
    assert_ok
    # the shim itself is there...
    [[ $output == *"$(basename "$SHIM_LIB")"* ]]
    # ...and none of the exporter's dependencies
    [[ $output != *libcurl* ]]
    [[ $output != *libprotobuf-c* ]]
    [[ $output != *libotelauto-otlp* ]]
}

@test "something traced: the exporter object is loaded once there is a span to send" {
    start_backend backend backend
    local pid=$BG_PID
    [[ $(cat "/proc/$pid/maps") != *libotelauto-otlp* ]]
    curl -sS -o /dev/null "http://127.0.0.1:$BACKEND_PORT/x.txt"
    wait_spans 1 --service backend
    grep -q libotelauto-otlp "/proc/$pid/maps"
}

@test "a traced program that does no networking runs normally" {
    run traced idle sh -c 'echo hello | tr a-z A-Z; ls "$1" >/dev/null; exec 3>"$1/f"; echo x >&3; exec 3>&-; cat "$1/f"' sh "$T"
    assert_ok
    [ "$output" = "$(printf 'HELLO\nx')" ]
}
