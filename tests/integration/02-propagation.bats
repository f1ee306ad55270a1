#!/usr/bin/env bats
# Extraction of W3C traceparent by a traced server (python http.server),
# called by an untraced curl that sends the header itself: a valid header is
# continued, every invalid form starts a new trace.

load test_helper

TRACE_ID=4bf92f3577b34da6a3ce929d0e0e4736
PARENT_ID=00f067aa0ba902b7

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'propagation\n' >"$T/www/index.txt"
    start_http_server server py-server "$T/www"
}

teardown() {
    common_teardown
}

# The server span must start a new trace: no parent, and not the trace id
# that was offered (in any letter case).
assert_new_root() {
    wait_spans 1 --service py-server --kind server
    check_spans "
s = one(service='py-server', kind='server')
expect_eq(s.get('parent_span_id'), '', 'parent span id of a new root')
tid = s.get('trace_id', '')
expect(len(tid) == 32 and tid != '0' * 32, 'a valid new trace id, got %r' % tid)
expect(tid.lower() != '$TRACE_ID', 'the invalid header\'s trace id must not be reused')
"
}

@test "traceparent: a valid header is continued (same trace id, parent = given span id)" {
    request_with "traceparent: 00-$TRACE_ID-$PARENT_ID-01"
    wait_spans 1 --service py-server --kind server
    check_spans "
s = one(service='py-server', kind='server')
expect_eq(s.get('trace_id'), '$TRACE_ID', 'trace id continued')
expect_eq(s.get('parent_span_id'), '$PARENT_ID', 'parent span id')
expect(s.get('span_id') not in ('$PARENT_ID', '0' * 16), 'a fresh span id for the server span')
"
}

@test "traceparent: header name is case-insensitive and surrounding blanks are ignored" {
    request_with "TraceParent:    00-$TRACE_ID-$PARENT_ID-01  "
    wait_spans 1 --service py-server --kind server
    check_spans "
s = one(service='py-server', kind='server')
expect_eq(s.get('trace_id'), '$TRACE_ID', 'trace id continued')
expect_eq(s.get('parent_span_id'), '$PARENT_ID', 'parent span id')
"
}

@test "traceparent: all-zero trace id starts a new trace" {
    request_with "traceparent: 00-00000000000000000000000000000000-$PARENT_ID-01"
    assert_new_root
}

@test "traceparent: all-zero parent id starts a new trace" {
    request_with "traceparent: 00-$TRACE_ID-0000000000000000-01"
    assert_new_root
}

@test "traceparent: uppercase hex starts a new trace" {
    request_with "traceparent: 00-${TRACE_ID^^}-${PARENT_ID^^}-01"
    assert_new_root
}

@test "traceparent: version ff starts a new trace" {
    request_with "traceparent: ff-$TRACE_ID-$PARENT_ID-01"
    assert_new_root
}

@test "traceparent: extra fields after a version-00 header start a new trace" {
    request_with "traceparent: 00-$TRACE_ID-$PARENT_ID-01-extra"
    assert_new_root
}

@test "traceparent: garbage starts a new trace" {
    request_with "traceparent: garbage-not-a-trace-context"
    assert_new_root
}

@test "traceparent: a short trace id starts a new trace" {
    request_with "traceparent: 00-${TRACE_ID:0:31}-$PARENT_ID-01"
    assert_new_root
}

@test "traceparent: two traceparent headers start a new trace" {
    request_with "traceparent: 00-$TRACE_ID-$PARENT_ID-01" "traceparent: 00-$TRACE_ID-$PARENT_ID-01"
    assert_new_root
}
