#!/usr/bin/env bats
# OTEL_TRACES_EXPORTER=zipkin: spans reach a Zipkin receiver
# (tests/lib/zipkin_receiver.py, which refuses anything that is not a JSON
# array of well-formed Zipkin v2 spans) as the specification maps them, and
# a batch the receiver cannot take yet is retried and arrives once.

load test_helper

ZIPKIN_RECEIVER_PY=$REPO_ROOT/tests/lib/zipkin_receiver.py

setup() {
    common_setup
    mkdir -p "$T/www"
    printf 'hello\n' >"$T/www/x.txt"
}

teardown() {
    common_teardown
}

# start_zipkin_receiver [ARGS...]: on a free port; spans land in $SPANS (one
# Zipkin span per line), requests in $SPANS.requests. Every traced program
# started after this exports to it.
start_zipkin_receiver() {
    start_bg zipkin "$PY" "$ZIPKIN_RECEIVER_PY" --port 0 --out "$SPANS" --ready-file "$T/zipkin.port" "$@"
    wait_file "$T/zipkin.port" 10 "$BG_PID" zipkin || return 1
    ZIPKIN_PORT=$(<"$T/zipkin.port")
    ZIPKIN_PORT=${ZIPKIN_PORT//[^0-9]/}
    EXTRA_ENV+=(OTEL_TRACES_EXPORTER=zipkin "OTEL_EXPORTER_ZIPKIN_ENDPOINT=http://127.0.0.1:$ZIPKIN_PORT/api/v2/spans"
        OTEL_METRICS_EXPORTER=none)
}

# wait_zipkin_spans COUNT [TIMEOUT_SEC]: until the receiver kept COUNT spans,
# then a moment more, so that surplus spans would show up too.
wait_zipkin_spans() {
    local count=$1 timeout=${2:-10} i
    for ((i = 0; i < timeout * 20; i++)); do
        if [[ -f $SPANS ]] && (($(wc -l <"$SPANS") >= count)); then
            sleep 0.3
            return 0
        fi
        sleep 0.05
    done
    echo "timed out waiting for $count Zipkin span(s); requests:" >&2
    cat "$SPANS.requests" >&2 2>/dev/null
    show_bg_output zipkin
    return 1
}

# zipkin_check 'PYTHON': runs code over `spans` (the Zipkin spans kept) and
# `requests` (every request the receiver saw), with expect(cond, message).
zipkin_check() {
    "$PY" -c "
import json, os, sys
def lines(path):
    return [json.loads(l) for l in open(path) if l.strip()] if os.path.exists(path) else []
spans = lines(sys.argv[1])
requests = lines(sys.argv[2])
failed = []
def expect(cond, message):
    if not cond:
        failed.append(message)
def of(service, kind):
    found = [s for s in spans if s.get('localEndpoint', {}).get('serviceName') == service and s.get('kind') == kind]
    expect(len(found) == 1, 'one %s span of %s, found %d' % (kind, service, len(found)))
    return found[0] if found else {}
$1
if failed:
    for m in failed:
        print('FAIL: ' + m, file=sys.stderr)
    for s in spans:
        print('span: %s' % json.dumps(s), file=sys.stderr)
    for r in requests:
        print('request: %s' % json.dumps(r), file=sys.stderr)
    sys.exit(1)
" "$SPANS" "$SPANS.requests"
}

@test "traced curl to a traced python http.server: CLIENT and SERVER Zipkin spans of one trace" {
    start_zipkin_receiver
    start_http_server web zk-server "$T/www"
    run traced zk-client curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    wait_zipkin_spans 2
    zipkin_check "
port = $HTTP_SERVER_PORT
client = of('zk-client', 'CLIENT')
server = of('zk-server', 'SERVER')
expect(len(spans) == 2, 'two spans in all, got %d' % len(spans))
expect(len(client.get('traceId', '')) == 32, 'a 32-digit traceId')
expect(client.get('traceId') == server.get('traceId'), 'one trace')
expect('parentId' not in client, 'the client span is the root')
expect(server.get('parentId') == client.get('id'), 'the server span is the client span\'s child')
expect(client.get('name') == 'GET' and server.get('name', '').startswith('GET'), 'span names')
for s in (client, server):
    tags = s.get('tags', {})
    expect(tags.get('http.request.method') == 'GET', 'http.request.method tag as a string')
    expect(tags.get('http.response.status_code') == '200', 'status code tag, an int as a string')
    expect(tags.get('otel.scope.name') == 'otelauto', 'the scope as a tag')
    expect('otel.status_code' not in tags and 'error' not in tags, 'an unset status gives no status tags')
    expect(isinstance(s.get('timestamp'), int) and s['timestamp'] > 1600000000000000, 'timestamp in microseconds')
    expect(isinstance(s.get('duration'), int) and 1 <= s['duration'] < 60000000, 'duration in microseconds')
expect(server['timestamp'] >= client['timestamp'], 'the server span starts within the client one')
expect(client.get('remoteEndpoint') == {'ipv4': '127.0.0.1', 'port': port},
       'the client span\'s remoteEndpoint: %r' % client.get('remoteEndpoint'))
expect('remoteEndpoint' not in server, 'no remoteEndpoint on the SERVER span')
expect(client.get('tags', {}).get('server.port') == str(port), 'server.port tag')
expect(server.get('tags', {}).get('url.path') == '/x.txt', 'url.path tag')
expect(len(requests) >= 2, 'one request per process at least')
expect(all(r['status'] == 202 and r['content_type'] == 'application/json' for r in requests),
       'every request was valid Zipkin v2 JSON, sent as application/json')
"
}

@test "a Zipkin receiver answering 503 once: the batch is retried and the span arrives once" {
    start_zipkin_receiver --fail-count 1 --fail-status 503
    start_http_server web "" "$T/www"
    run traced zk-retry OTEL_LOG_LEVEL=warn curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    wait_zipkin_spans 1 15
    zipkin_check "
of('zk-retry', 'CLIENT')
expect(len(spans) == 1, 'the span arrived once, got %d' % len(spans))
expect([r['status'] for r in requests] == [503, 202], 'a 503, then a 202: %r' % [r['status'] for r in requests])
expect(all(r['spans'] == 1 for r in requests), 'the same one-span batch both times')
"
    grep -q "Zipkin exporter: .* is unavailable (HTTP 503)" <<<"$output"
}

@test "a Zipkin receiver answering 400: the batch is dropped, not retried" {
    start_zipkin_receiver --fail-count 1 --fail-status 400
    start_http_server web "" "$T/www"
    run traced zk-drop OTEL_LOG_LEVEL=error curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/x.txt"
    assert_ok
    grep -q "Zipkin exporter: .* answered HTTP 400, dropping 1 span(s)" <<<"$output"
    zipkin_check "
expect(len(spans) == 0, 'nothing kept')
expect([r['status'] for r in requests] == [400], 'one request only: %r' % [r['status'] for r in requests])
"
}
