#!/usr/bin/env bats
# Header injection under stress, seen from an untraced server that records
# every request exactly as it arrived (tests/programs/recording_server.py):
# exactly one well-formed traceparent per request, whatever the program's
# write pattern, and return values that only ever count the program's bytes.

load test_helper

setup() {
    common_setup
    start_receiver
    start_recording_server recorder
    RECORDS=$T/recorder.records
}

teardown() {
    common_teardown
}

@test "slow writer (one byte per write): exactly one valid traceparent, every write() returns 1" {
    run traced slow-writer "$PROGRAMS_DIR/slow_writer_client" 127.0.0.1 "$RECORDER_PORT" /slow-path
    echo "$output" | tail -5
    assert_ok
    [[ $output == *"HTTP/1.1 200 OK"* ]]
    [[ $output == *"received 0"* ]]
    [[ $output =~ write_returns:\ 1(,1)*$'\n' ]]
    recorded "
expect(len(records) == 1, 'one request recorded, got %d' % len(records))
for r in records:
    expect(len(r['traceparent']) == 1, 'exactly one traceparent, got %r' % r['traceparent'])
    expect(all(TRACEPARENT_RE.match(v) for v in r['traceparent']), 'well-formed traceparent %r' % r['traceparent'])
    expect(r['head'].startswith('GET /slow-path HTTP/1.1\r\nHost: 127.0.0.1:$RECORDER_PORT\r\n'), 'request line and Host intact')
    for line in ('User-Agent: slow-writer/1.0', 'Accept: */*', 'Connection: close'):
        expect(line in r['head'].split('\r\n'), 'header line %r intact' % line)
"
    assert_traceparents_match_client_spans slow-writer 1
}

@test "slow writer, three requests on one keep-alive connection: one traceparent in each head" {
    run traced slow-writer "$PROGRAMS_DIR/slow_writer_client" 127.0.0.1 "$RECORDER_PORT" /again 3
    assert_ok
    [[ $output =~ write_returns:\ 1(,1)*$'\n' ]]
    [ "$(grep -c '^HTTP/1.1 200 OK' <<<"$output")" -eq 3 ]
    recorded "
expect(len(records) == 3, 'three requests recorded, got %d' % len(records))
expect(len({r['peer_port'] for r in records}) == 1, 'all on one connection')
for r in records:
    expect(len(r['traceparent']) == 1, 'exactly one traceparent, got %r' % r['traceparent'])
    expect(all(TRACEPARENT_RE.match(v) for v in r['traceparent']), 'well-formed %r' % r['traceparent'])
expect(len({tuple(r['traceparent']) for r in records}) == 3, 'a different traceparent for each request')
"
    assert_traceparents_match_client_spans slow-writer 3
}

# nonblocking_client checks its own return values and totals (exit 3 if not).
run_nonblocking() {
    run traced nb-client "$PROGRAMS_DIR/nonblocking_client" 127.0.0.1 "$RECORDER_PORT" 1048576 "$@"
    echo "$output" | tail -5
    assert_ok
    [[ $output == *"received 1048576"* ]]
    [[ $output =~ writes=[0-9]+\ eagain=[1-9][0-9]*\ sent=([0-9]+)\ expected=([0-9]+) ]]
    [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
    local body_sha
    body_sha=$("$PY" -c 'import hashlib; print(hashlib.sha256(bytes((i * 7 + 3) & 0xff for i in range(1048576))).hexdigest())')
    recorded "
expect(len(records) == 1, 'one request recorded, got %d' % len(records))
r = records[0]
expect(len(r['traceparent']) == 1, 'exactly one traceparent, got %r' % r['traceparent'])
expect(all(TRACEPARENT_RE.match(v) for v in r['traceparent']), 'well-formed %r' % r['traceparent'])
expect(r['body_length'] == 1048576, 'complete body, got %d bytes' % r['body_length'])
expect(r['body_sha256'] == '$body_sha', 'body bytes intact')
pad = ''.join(chr(ord('a') + i % 26) for i in range(16384))
expect('X-Pad: ' + pad in r['head'].split('\r\n'), 'the 16 KiB X-Pad header intact')
expect(r['head'].startswith('POST /upload HTTP/1.1\r\n'), 'request line intact')
"
    assert_traceparents_match_client_spans nb-client 1
}

@test "non-blocking client, tiny send buffer, 1 MiB POST with write(): one traceparent, body complete, sane return values" {
    run_nonblocking
}

@test "non-blocking client, tiny send buffer, 1 MiB POST with writev(): one traceparent, body complete, sane return values" {
    run_nonblocking --writev
}

@test "a traceparent sent by the program itself is kept and not duplicated" {
    local tp=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
    run traced curl-client curl -sS -H "traceparent: $tp" "http://127.0.0.1:$RECORDER_PORT/own"
    assert_ok
    recorded "
expect(len(records) == 1, 'one request')
expect(records[0]['traceparent'] == ['$tp'], 'only the program\\'s own traceparent, got %r' % records[0]['traceparent'])
"
}

@test "curl -> untraced server: the injected traceparent names curl's client span" {
    run traced curl-client curl -sS "http://127.0.0.1:$RECORDER_PORT/plain"
    assert_ok
    recorded "
expect(len(records) == 1 and len(records[0]['traceparent']) == 1, 'one request with one traceparent')
"
    assert_traceparents_match_client_spans curl-client 1
}
