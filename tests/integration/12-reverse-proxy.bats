#!/usr/bin/env bats
# Reverse proxies continue the trace: curl -> proxy -> backend, all under
# the shim, is one trace of four spans, each the child of the one before.
# The proxies forward the client's traceparent header as they received it;
# the shim gives its place to the proxy's own client span.

load test_helper
load arch_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'hello through the proxy\n' >"$T/www/hello.txt"
    start_backend backend backend
}

teardown() {
    common_teardown
}

# Two requests through the proxy at PORT (a new curl each time), then the
# checks: two traces of four spans each, in a chain; the backend served both
# over one upstream connection (keep-alive). PROXY is the proxy's service.
two_chains_through() {
    local port=$1 proxy=$2 i
    for i in 1 2; do
        run traced curl curl -sS "http://127.0.0.1:$port/hello.txt?n=$i"
        assert_ok
        [[ $output == "hello through the proxy" ]] || fail_now "proxy answered: $output"
    done
    wait_spans 2 --service backend --kind server
    wait_spans 2 --service "$proxy" --kind client
    check_spans "$CHAIN_CHECK
expect_eq(len(spans), 8, 'four spans per request')
for n in (1, 2):
    q = 'n=%d' % n
    curl_span = [s for s in sel(service='curl', kind='client') if str(attr(s, 'url.full')).endswith(q)]
    proxy_server = sel(service='$proxy', kind='server', url__query=q)
    proxy_client = [s for s in sel(service='$proxy', kind='client') if str(attr(s, 'url.full')).endswith(q)]
    backend_server = sel(service='backend', kind='server', url__query=q)
    found = curl_span + proxy_server + proxy_client + backend_server
    if expect_eq(len(found), 4, 'request %d: curl client, proxy server, proxy client, backend server' % n):
        expect_chain(found, 'request %d' % n)
        expect_eq(attr(found[3], 'http.response.status_code'), 200, 'backend status')
        expect_eq(attr(found[2], 'http.response.status_code'), 200, 'proxy client status')
ports = {attr(s, 'network.peer.port') for s in sel(service='backend', kind='server')}
expect_eq(len(ports), 1, 'both requests reached the backend over one upstream keep-alive connection')
expect(len({s.get('trace_id') for s in spans}) == 2, 'two traces')
"
}

@test "curl -> nginx (master + worker, proxy_pass, upstream keep-alive) -> python backend: four spans in a chain" {
    start_nginx_proxy nginx nginx "$BACKEND_PORT"
    two_chains_through "$NGINX_PORT" nginx
    check_spans "
pids = {str((s.get('resource') or {}).get('process.pid')) for s in sel(service='nginx')}
expect(len(pids) == 1 and pids != {'$NGINX_PID'}, 'the nginx spans come from the worker, not the master: %r' % pids)
"
}

@test "curl -> node http proxy (node's own http module) -> python backend: four spans in a chain" {
    local node
    node=$(node_bin) || skip "node is not installed"
    start_traced_bg proxy node-proxy "$node" "$PY_PROGRAMS/node_proxy.js" "http://127.0.0.1:$BACKEND_PORT" "$T/proxy.port"
    wait_file "$T/proxy.port" 20 "$BG_PID" proxy
    local port
    port=$(<"$T/proxy.port")
    two_chains_through "${port//[^0-9]/}" node-proxy
}

@test "a proxy that forwards traceparent while two requests are in flight on its one thread: each upstream call still has its own parent" {
    local node
    node=$(node_bin) || skip "node is not installed"
    start_traced_bg proxy node-proxy "$node" "$PY_PROGRAMS/node_proxy.js" "http://127.0.0.1:$BACKEND_PORT" "$T/proxy.port"
    wait_file "$T/proxy.port" 20 "$BG_PID" proxy
    local port
    port=$(<"$T/proxy.port")
    port=${port//[^0-9]/}
    # the backend holds each answer 400 ms: both requests are read by the
    # proxy's event loop before either upstream call is answered
    traced_env curl
    traced_command curl -sS -o /dev/null "http://127.0.0.1:$port/slow?ms=400&n=1"
    env "${TRACED_ENV[@]}" "${TRACED_CMD[@]}" &
    local first=$!
    traced_command curl -sS -o /dev/null "http://127.0.0.1:$port/slow?ms=400&n=2"
    env "${TRACED_ENV[@]}" "${TRACED_CMD[@]}" &
    local second=$!
    wait "$first"
    wait "$second"
    wait_spans 2 --service backend --kind server
    wait_spans 2 --service node-proxy --kind client
    check_spans "$CHAIN_CHECK
for n in (1, 2):
    q = 'ms=400&n=%d' % n
    found = ([s for s in sel(service='curl', kind='client') if str(attr(s, 'url.full')).endswith(q)]
             + sel(service='node-proxy', kind='server', url__query=q)
             + [s for s in sel(service='node-proxy', kind='client') if str(attr(s, 'url.full')).endswith(q)]
             + sel(service='backend', kind='server', url__query=q))
    if expect_eq(len(found), 4, 'request %d: four spans' % n):
        expect_chain(found, 'request %d' % n)
ps = sel(service='node-proxy', kind='server')
expect(len(ps) == 2 and max(s['start'] for s in ps) < min(s['end'] for s in ps), 'the two proxy requests overlapped')
"
}

@test "a forwarded traceparent split across the buffers of one sendmsg: replaced byte for byte, the rest of the head intact" {
    start_recording_server recorder
    RECORDS=$T/recorder.records
    start_traced_bg fwd forwarder "$PY" "$PY_PROGRAMS/split_forwarder.py" --ready-file "$T/fwd.port" \
        --upstream "$RECORDER_PORT"
    wait_file "$T/fwd.port" 10 "$BG_PID" fwd
    local port
    port=$(<"$T/fwd.port")
    run traced curl curl -sS -H 'X-Probe: kept' "http://127.0.0.1:${port//[^0-9]/}/split"
    assert_ok
    [[ $output == "received 0" ]] || fail_now "forwarder answered: $output"
    wait_spans 1 --service forwarder --kind client
    local tp
    tp=$(check_spans "
c = one(service='forwarder', kind='client')
print('00-%s-%s-%02x' % (c['trace_id'], c['span_id'], c['flags'] & 0xff))
s = one(service='forwarder', kind='server')
expect_eq(c.get('parent_span_id'), s.get('span_id'), 'the forwarder call is the child of its server span')
")
    recorded "
expect(len(records) == 1, 'one request recorded')
r = records[0]
expect(r['traceparent'] == ['$tp'], 'the upstream sees the forwarder client span: %r' % r['traceparent'])
expect('X-Probe: kept' in r['head'] and r['head'].startswith('GET /split HTTP/1.1'), 'the rest of the head intact')
expect(r['head'].count('traceparent') == 1, 'one traceparent line')
"
}
