#!/usr/bin/env bats
# Pre-fork servers: worker processes forked after start-up export their own
# spans (the exporter restarts lazily in each child), nothing the parent had
# queued is sent twice, and a fork while other threads trace never leaves a
# child stuck on a lock.

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

@test "nginx with worker_processes 2: both workers' spans are exported, each chain correct" {
    start_nginx_proxy nginx nginx "$BACKEND_PORT" 2
    local i
    for i in $(seq 1 20); do
        run traced curl curl -sS -o /dev/null "http://127.0.0.1:$NGINX_PORT/status/200?n=$i"
        assert_ok
    done
    wait_spans 20 --service nginx --kind server --timeout 20
    wait_spans 20 --service backend --kind server --timeout 20
    local workers
    workers=$(pgrep -P "$(cat "$T/nginx/nginx.pid")" | tr '\n' ' ')
    check_spans "
servers = sel(service='nginx', kind='server')
expect_eq(len(servers), 20, 'one nginx server span per request')
pids = {(s.get('resource') or {}).get('process.pid') for s in sel(service='nginx')}
workers = {int(p) for p in '$workers'.split()}
expect_eq(len(workers), 2, 'two worker processes')
expect(pids <= workers, 'every nginx span comes from a worker: %r, workers %r' % (pids, workers))
expect_eq(len(pids), 2, 'both workers exported spans')
for s in servers:
    calls = children_of(s)
    if expect_eq(len(calls), 1, 'one upstream call per request'):
        expect_eq(len(children_of(calls[0])), 1, 'the backend span is the child of the upstream call')
expect_eq(len({s.get('span_id') for s in spans}), len(spans), 'no span twice')
"
}

@test "gunicorn-style python pre-fork server: spans from each worker, the master's queued span sent once" {
    # the master's own span is still queued when it forks (long schedule
    # delay): workers must not send it again; everything is flushed at exit
    EXTRA_ENV=(OTEL_BSP_SCHEDULE_DELAY=600000)
    start_arch pf prefork prefork --backend "http://127.0.0.1:$BACKEND_PORT" --workers 2 --delay-ms 100
    local master=$BG_PID port=$ARCH_PORT workers
    workers=$(<"$T/pf.port.workers")
    run timeout 60 "$PY" -c '
import sys, threading, urllib.request
port = int(sys.argv[1])
answers = []
def fetch(i):
    with urllib.request.urlopen("http://127.0.0.1:%d/call/w%d" % (port, i), timeout=30) as r:
        answers.append(r.read().decode().split())
ts = [threading.Thread(target=fetch, args=(i,)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join(sorted({a[2] for a in answers})))
sys.exit(0 if len(answers) == 8 else 1)
' "$port"
    assert_ok
    local served=$output
    # TERM to the master, which passes it on once to each worker: they exit
    # normally (flushing), then the master. (A second TERM during a
    # worker's exit would find Python's default handler back and kill it
    # before its flush.) Slow under ASan: wait before killing anything.
    kill -TERM "$master"
    local i
    for ((i = 0; i < 300; i++)); do
        pid_alive "$master" || break
        sleep 0.1
    done
    if pid_alive "$master"; then
        show_bg_output pf
        fail_now "the master did not exit after SIGTERM"
    fi
    wait_spans 9 --service prefork --kind client --timeout 20
    check_spans "
master = $master
workers = {int(p) for p in '$workers'.split()}
served = {int(p) for p in '$served'.split()}
expect_eq(len(served), 2, 'both workers answered requests')
def pid(s):
    return (s.get('resource') or {}).get('process.pid')
servers = sel(service='prefork', kind='server')
expect_eq(len(servers), 8, 'eight server spans')
expect_eq({pid(s) for s in servers}, served, 'server spans come from the workers that served')
expect(served <= workers, 'served by forked workers')
for s in servers:
    calls = children_of(s)
    if expect_eq(len(calls), 1, 'one call per request'):
        expect_eq(pid(calls[0]), pid(s), 'the call is made by the same worker')
own = [s for s in sel(service='prefork', kind='client') if str(attr(s, 'url.full')).endswith('id=prefork')]
expect_eq(len(own), 1, 'the master span queued at fork time is exported exactly once')
expect_eq([pid(s) for s in own], [master], 'by the master')
expect_eq(len({s.get('span_id') for s in spans}), len(spans), 'no span twice')
"
}

@test "fork while three threads trace: 20 children each trace a request and exit, none hangs, no span twice" {
    # gcc 12's ASan allocator takes no lock around fork: a child forked
    # while another thread allocates can hang inside ASan, shim or not
    skip_if_sanitized "the ASan runtime (gcc 12) is not fork-safe while other threads allocate"
    run traced forker "$PY" "$PY_PROGRAMS/fork_storm.py" "$BACKEND_PORT" 20
    assert_ok
    [[ $output == *"hung=0 failed=0"* ]] || fail_now "$output"
    wait_spans 20 --service backend --kind server --timeout 20
    check_spans "
def pid(s):
    return (s.get('resource') or {}).get('process.pid')
children = [s for s in sel(service='forker', kind='client') if 'id=child' in str(attr(s, 'url.full'))]
expect_eq(len(children), 20, 'each child exported its span')
expect_eq(len({pid(s) for s in children}), 20, 'from twenty processes')
expect_eq(len({s.get('span_id') for s in spans}), len(spans), 'no span twice')
expect_eq(len({s.get('trace_id') for s in children}), 20, 'twenty traces (the children are not inside a request)')
"
}
