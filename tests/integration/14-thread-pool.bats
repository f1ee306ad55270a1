#!/usr/bin/env bats
# Thread-per-request servers under concurrency: every handler thread's
# downstream call is the child of the request that thread handles, however
# many requests are in flight in the process at once.

load test_helper
load arch_helper

setup() {
    common_setup
    start_receiver
    start_backend backend backend
}

teardown() {
    common_teardown
}

@test "ThreadingHTTPServer, 50 concurrent requests each making one downstream call: 50 correct parent/child pairs, no cross-links" {
    # every handler waits at a barrier until all 50 requests are in
    # flight, so the 50 calls really overlap
    start_arch pool pool threads --backend "http://127.0.0.1:$BACKEND_PORT" --barrier 50
    local port=$ARCH_PORT
    run timeout 60 "$PY" -c '
import sys, threading, urllib.request
port = int(sys.argv[1])
answers = {}
def fetch(i):
    with urllib.request.urlopen("http://127.0.0.1:%d/call/r%d" % (port, i), timeout=40) as r:
        answers[i] = r.read().decode()
threads = [threading.Thread(target=fetch, args=(i,)) for i in range(50)]
for t in threads: t.start()
for t in threads: t.join()
bad = [i for i in range(50) if not answers.get(i, "").startswith("r%d 200 " % i)]
print("%d answers, bad: %r" % (len(answers), bad))
sys.exit(1 if bad else 0)
' "$port"
    assert_ok
    wait_spans 50 --service backend --kind server --timeout 20
    wait_spans 50 --service pool --kind client --timeout 20
    check_spans "
servers = sel(service='pool', kind='server')
clients = sel(service='pool', kind='client')
leaves = sel(service='backend', kind='server')
expect_eq(len(servers), 50, 'server spans')
expect_eq(len(clients), 50, 'client spans')
expect_eq(len(leaves), 50, 'backend spans')
expect(max(s['start'] for s in servers) < min(s['end'] for s in servers), 'all 50 requests were in flight at once')
by_id = {s.get('span_id'): s for s in spans}
good = 0
for i in range(50):
    ident = 'r%d' % i
    s = one(service='pool', kind='server', url__path='/call/' + ident)
    c = one(service='pool', kind='client', url__full='http://127.0.0.1:$BACKEND_PORT/status/200?id=' + ident)
    b = one(service='backend', kind='server', url__query='id=' + ident)
    ok = (c.get('parent_span_id') == s.get('span_id') and c.get('trace_id') == s.get('trace_id')
          and b.get('parent_span_id') == c.get('span_id') and b.get('trace_id') == c.get('trace_id'))
    if not ok:
        p = by_id.get(c.get('parent_span_id'), {})
        expect(False, '%s: call parented to %s %s' % (ident, p.get('name'), attr(p, 'url.path')))
    good += ok
expect_eq(good, 50, 'correct server -> call -> backend chains')
expect_eq(len({s.get('trace_id') for s in servers}), 50, 'fifty traces, none shared')
"
}
