#!/usr/bin/env bats
# Redis CLIENT spans from the wire (src/protocols/redis/): a real
# redis-server (untraced) and real clients under the shim (redis-cli,
# python3-redis, redis-benchmark, a raw RESP3 client). Each command is one
# span with the database conventions' attributes; replies are matched in
# order through pipelines, transactions, pub/sub and RESP3 pushes; values
# and credentials never reach the collector.

load test_helper
load tls_helper
load metrics_helper

setup() {
    common_setup
    [[ -x /usr/bin/redis-server ]] || skip "redis-server not installed"
    start_receiver
}

teardown() {
    common_teardown
}

# start_redis [ARGS...]: redis-server on a free port, REDIS_PORT.
start_redis() {
    REDIS_PORT=$(free_port)
    start_bg redis /usr/bin/redis-server --save '' --appendonly no --port "$REDIS_PORT" --bind 127.0.0.1 \
        --daemonize no --dir "$T" "$@"
    wait_port "$REDIS_PORT" 10 "$BG_PID" redis
}

# rcli ARGS...: untraced redis-cli on the test's server
rcli() {
    redis-cli -p "$REDIS_PORT" "$@"
}

@test "redis-cli SET and GET: a span each with the database attributes; the value never reaches the collector" {
    start_redis
    run traced cli redis-cli -p "$REDIS_PORT" SET user:1 TopSecretValue42
    assert_ok
    [ "$output" = OK ]
    run traced cli redis-cli -p "$REDIS_PORT" GET user:1
    assert_ok
    [ "$output" = TopSecretValue42 ]
    wait_spans 2 --service cli
    check_spans "
expect_eq(len(sel(service='cli')), 2, 'spans')
s = one(service='cli', kind='client', name='SET')
expect_attrs(s, {'db.system.name': 'redis', 'db.operation.name': 'SET', 'db.query.text': 'SET user:1 ?',
                 'db.namespace': '0', 'server.address': '127.0.0.1', 'server.port': $REDIS_PORT})
expect_eq(s['status_code'], 0, 'SET status')
g = one(service='cli', kind='client', name='GET')
expect_attrs(g, {'db.operation.name': 'GET', 'db.query.text': 'GET user:1'})
expect(attr(g, 'error.type') is None, 'GET without error.type')
"
    ! grep -q TopSecretValue42 "$SPANS"
}

@test "redis-cli over a Unix socket (unixsocket): the same span, network.transport unix and the socket's path; no server.address" {
    # redis-cli -s calls strerror (TCP_NODELAY refused on a Unix socket):
    # under libasan, glibc's gettext lock starts in a state that this call
    # turns into one where GnuTLS's constructor, when the OTLP exporter
    # loads libcurl at exit, waits forever (gdb: _nl_state_lock's readers
    # are garbage before main; see skip_unless_libpq_tools_start)
    [[ $SANITIZED != 1 ]] || skip "redis-cli -s then GnuTLS under libasan: glibc's gettext lock hangs"
    # a short path: sun_path holds 107 bytes
    local dir
    dir=$(mktemp -d /tmp/oa-redis.XXXXXX)
    start_redis --unixsocket "$dir/r.sock" --unixsocketperm 700
    run traced cli redis-cli -s "$dir/r.sock" SET user:1 TopSecretValue42
    local st=$status out=$output
    rm -rf "$dir"
    [ "$st" -eq 0 ]
    [ "$out" = OK ]
    wait_spans 1 --service cli
    check_spans "
expect_eq(len(sel(service='cli')), 1, 'spans')
s = one(service='cli', kind='client', name='SET')
expect_attrs(s, {'db.system.name': 'redis', 'db.operation.name': 'SET', 'db.query.text': 'SET user:1 ?',
                 'network.transport': 'unix', 'network.peer.address': '$dir/r.sock', 'server.address': None,
                 'server.port': None, 'network.peer.port': None})
"
    ! grep -q TopSecretValue42 "$SPANS"
}

@test "a crash (SIGSEGV) while BLPOP waits for its reply: the command's CLIENT span arrives with Error and the signal; same death" {
    start_redis
    segv_default_under_asan
    start_traced_bg blpop crash-cli redis-cli -p "$REDIS_PORT" BLPOP crash:queue 0
    local pid=$BG_PID i
    # the server holds the command: the client waits for its reply
    for ((i = 0; i < 400; i++)); do
        rcli CLIENT LIST | grep -q 'cmd=blpop' && break
        sleep 0.05
    done
    rcli CLIENT LIST | grep -q 'cmd=blpop'
    segv_dies_as_untraced "$pid"
    wait_spans 1 --service crash-cli
    check_spans "
spans = sel(service='crash-cli')
expect_eq(len(spans), 1, 'one span: the pending BLPOP')
s = one(service='crash-cli', kind='client', name='BLPOP')
expect_eq(s.get('status_code'), 2, 'status Error')
expect_attrs(s, {'db.system.name': 'redis', 'db.query.text': 'BLPOP crash:queue ?', 'error.type': 'SIGSEGV'})
ev = s['event_list']
expect(len(ev) == 1 and ev[0]['attributes'].get('exception.type') == 'SIGSEGV', 'one SIGSEGV event: %r' % ev)
"
}

@test "HTTP over a Unix socket is left alone: the request's bytes as sent (no traceparent), no span; the same over TCP is traced" {
    local dir
    dir=$(mktemp -d /tmp/oa-http.XXXXXX)
    cat >"$T/unix_http.py" <<'PY'
import socket, sys, threading
def exchange(family, address, path):
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.bind(address)
    srv.listen(1)
    seen = []
    def serve():
        c, _ = srv.accept()
        data = b''
        while not data.endswith(b'\r\n\r\n'):
            data += c.recv(4096)
        seen.append(data)
        c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok')
        c.close()
    t = threading.Thread(target=serve)
    t.start()
    cl = socket.socket(family, socket.SOCK_STREAM)
    cl.connect(srv.getsockname())
    req = b'GET ' + path + b' HTTP/1.1\r\nHost: docker\r\n\r\n'
    cl.sendall(req)
    reply = b''
    while True:
        b = cl.recv(4096)
        if not b:
            break
        reply += b
    t.join()
    return seen[0] == req, b'traceparent' in seen[0], reply.endswith(b'ok')
print(*exchange(socket.AF_UNIX, sys.argv[1], b'/v1/containers'), *exchange(socket.AF_INET, ('127.0.0.1', 0), b'/tcp'))
PY
    run traced unix-http "$PY" "$T/unix_http.py" "$dir/h.sock"
    rm -rf "$dir"
    assert_ok
    # Unix: as sent, no traceparent; TCP: a traceparent added
    [ "$output" = "True False True False True True" ]
    wait_spans 2 --service unix-http
    check_spans "
spans = sel(service='unix-http')
expect_eq(sorted((s['kind'], attr(s, 'url.path') or attr(s, 'url.full')) for s in spans),
          [(2, '/tcp'), (3, 'http://docker/tcp')], 'the TCP exchange only')
"
}

@test "an error reply (LPUSH on a string): status_code and error.type WRONGTYPE, status Error" {
    start_redis
    rcli SET s x >/dev/null
    run traced cli redis-cli -p "$REDIS_PORT" LPUSH s y
    [[ $output == *WRONGTYPE* ]]
    wait_spans 1 --service cli
    check_spans "
s = one(service='cli', name='LPUSH')
expect_attrs(s, {'db.response.status_code': 'WRONGTYPE', 'error.type': 'WRONGTYPE', 'db.query.text': 'LPUSH s ?'})
expect_eq(s['status_code'], 2, 'status Error')
"
}

@test "python redis pipeline of 40 commands in one write: 40 spans, replies matched in order (the errors are the LPUSHes)" {
    start_redis
    rcli SET str x >/dev/null
    run traced pyclient "$PY" -c "
import redis
r = redis.Redis(port=$REDIS_PORT)
p = r.pipeline(transaction=False)
for i in range(40):
    if i % 7 == 3:
        p.lpush('str', 'v')
    else:
        p.set('k%d' % i, 'value%d' % i)
out = p.execute(raise_on_error=False)
print(sum(1 for o in out if isinstance(o, Exception)))
"
    assert_ok
    [ "$output" = 6 ]
    wait_spans 40 --service pyclient
    check_spans "
ops = sorted(sel(service='pyclient', kind='client'), key=lambda s: s['start'])
expect_eq(len(ops), 40, 'spans')
for i, s in enumerate(ops):
    if i % 7 == 3:
        expect_attrs(s, {'db.query.text': 'LPUSH str ?', 'error.type': 'WRONGTYPE'})
    else:
        expect_attrs(s, {'db.query.text': 'SET k%d ?' % i})
        expect(attr(s, 'error.type') is None, 'SET k%d has no error' % i)
"
}

@test "a 5 MB value written and read back: counted, not held; the spans and the bytes are right" {
    start_redis
    run traced bigclient "$PY" -c "
import redis
r = redis.Redis(port=$REDIS_PORT)
v = b'BigSecret' * (5 * 1024 * 1024 // 9)
r.set('big', v)
assert r.get('big') == v
r.set('small', 'x')
print('ok')
"
    assert_ok
    [ "$output" = ok ]
    wait_spans 3 --service bigclient
    check_spans "
ops = sorted(sel(service='bigclient', kind='client'), key=lambda s: s['start'])
expect_eq([attr(s, 'db.query.text') for s in ops], ['SET big ?', 'GET big', 'SET small ?'], 'spans')
expect(all(s['status_code'] == 0 for s in ops), 'no errors')
"
    ! grep -q BigSecret "$SPANS"
}

@test "MULTI/EXEC: each command its own span, the queued ones ended by QUEUED, EXEC by its array" {
    start_redis
    run traced pyclient "$PY" -c "
import redis
r = redis.Redis(port=$REDIS_PORT)
p = r.pipeline(transaction=True)
p.set('a', 'secretA')
p.incr('n')
p.get('a')
print(p.execute())
r.set('after', 'v')
"
    assert_ok
    wait_spans 6 --service pyclient
    check_spans "
ops = sorted(sel(service='pyclient', kind='client'), key=lambda s: s['start'])
expect_eq([s['name'] for s in ops], ['MULTI', 'SET', 'INCRBY', 'GET', 'EXEC', 'SET'], 'spans in order')
expect(all(s['status_code'] == 0 for s in ops), 'no errors')
expect_eq(attr(ops[-1], 'db.query.text'), 'SET after ?', 'the command after EXEC')
"
    ! grep -q secretA "$SPANS"
}

@test "pub/sub: a traced subscriber's messages are no replies; PUBLISH spans on the publisher" {
    start_redis
    # subscribes to two channels, reads 3 messages, unsubscribes, then runs
    # a command whose reply is an array starting with "message"
    start_traced_bg sub subscriber "$PY" -c "
import redis, sys
r = redis.Redis(port=$REDIS_PORT)
r.rpush('l', 'message', 'x')
p = r.pubsub()
p.subscribe('news', 'sport')
got = 0
for m in p.listen():
    if m['type'] == 'message':
        got += 1
        if got == 3:
            break
p.unsubscribe()
for m in p.listen():
    if m['type'] == 'unsubscribe' and m['data'] == 0:
        break
print(p.connection.send_command('LRANGE', 'l', '0', '-1') or '', p.connection.read_response())
print('done', got)
sys.stdout.flush()
"
    local sub_pid=$BG_PID i
    for ((i = 0; i < 100; i++)); do
        [[ $(rcli PUBSUB NUMSUB news | tail -1) == 1 && $(rcli PUBSUB NUMSUB sport | tail -1) == 1 ]] && break
        sleep 0.05
    done
    run traced publisher redis-cli -p "$REDIS_PORT" PUBLISH news hello-secret-1
    assert_ok
    run traced publisher redis-cli -p "$REDIS_PORT" PUBLISH sport hello-secret-2
    run traced publisher redis-cli -p "$REDIS_PORT" PUBLISH news hello-secret-3
    for ((i = 0; i < 100; i++)); do
        grep -q '^done 3' "$T/sub.out" && break
        sleep 0.05
    done
    grep -q '^done 3' "$T/sub.out" || { show_bg_output sub; false; }
    wait_spans 3 --service publisher
    wait_spans 4 --service subscriber
    check_spans "
pubs = sel(service='publisher', kind='client')
expect_eq(sorted(attr(s, 'db.query.text') for s in pubs), ['PUBLISH news ?', 'PUBLISH news ?', 'PUBLISH sport ?'], 'publishes')
subs = sorted(sel(service='subscriber', kind='client'), key=lambda s: s['start'])
expect_eq([s['name'] for s in subs], ['RPUSH', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LRANGE'], 'subscriber spans')
expect(all(s['status_code'] == 0 for s in subs), 'no errors')
"
    ! grep -q hello-secret "$SPANS"
}

@test "RESP3 (HELLO 3): maps and pushes; a push before a reply is matched to nothing" {
    start_redis
    rcli HSET h f v >/dev/null
    rcli SET str x >/dev/null
    run traced cli3 redis-cli -3 -p "$REDIS_PORT" HGETALL h
    assert_ok
    # a raw RESP3 client: subscribed and running commands on one connection
    run traced raw3 "$PY" -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $REDIS_PORT))
def cmd(*args):
    out = b'*%d\r\n' % len(args)
    for a in args:
        a = a.encode()
        out += b'\$%d\r\n%s\r\n' % (len(a), a)
    return out
def read_until(marker):
    data = b''
    while marker not in data:
        data += s.recv(65536)
    return data
s.sendall(cmd('HELLO', '3'))
read_until(b'proto')
s.sendall(cmd('SUBSCRIBE', 'ch'))
read_until(b'subscribe')
pub = socket.create_connection(('127.0.0.1', $REDIS_PORT))
pub.sendall(cmd('PUBLISH', 'ch', 'pushed-secret'))
pub.recv(100)
# the push is on its way before these: taken for a reply, it would end
# LPUSH without its error and give GET the error
s.sendall(cmd('LPUSH', 'str', 'v') + cmd('GET', 'str'))
data = read_until(b'pushed-secret')
if not data.endswith(b'\$1\r\nx\r\n'):
    data += read_until(b'\$1\r\nx\r\n')
s.sendall(cmd('HGETALL', 'h'))
read_until(b'%1')
print('ok')
"
    assert_ok
    wait_spans 1 --service cli3
    wait_spans 6 --service raw3
    check_spans "
c = sel(service='cli3', kind='client')
expect_eq(sorted(s['name'] for s in c), ['HELLO', 'HGETALL'], 'redis-cli -3')
ops = sorted(sel(service='raw3', kind='client'), key=lambda s: s['start'])
expect_eq([s['name'] for s in ops], ['HELLO', 'SUBSCRIBE', 'PUBLISH', 'LPUSH', 'GET', 'HGETALL'], 'raw RESP3 client')
expect_eq([attr(s, 'error.type') for s in ops], [None, None, None, 'WRONGTYPE', None, None], 'errors')
"
}

@test "AUTH with requirepass: the password never reaches the collector; a wrong one is an error span" {
    start_redis --requirepass Sup3rSecretPw
    run traced cli redis-cli -p "$REDIS_PORT" --no-auth-warning -a Sup3rSecretPw SET k v
    assert_ok
    run traced cli redis-cli -p "$REDIS_PORT" --no-auth-warning --user default --pass WrongPw9 GET k
    run traced pyauth "$PY" -c "
import redis
r = redis.Redis(port=$REDIS_PORT, password='Sup3rSecretPw')
r.get('k')
"
    assert_ok
    wait_spans 4 --service cli
    wait_spans 2 --service pyauth
    check_spans "
auths = sel(service='cli', name='AUTH')
expect_eq(len(auths), 2, 'AUTH spans')
expect(all(attr(s, 'db.query.text') == 'AUTH' for s in auths), 'AUTH text is its name')
expect_eq(sorted(attr(s, 'error.type') or '' for s in auths), ['', 'WRONGPASS'], 'one AUTH failed')
"
    ! grep -q Sup3rSecretPw "$SPANS"
    ! grep -q WrongPw9 "$SPANS"
}

@test "SELECT: db.namespace of itself and of the commands after it" {
    start_redis
    run traced cli redis-cli -p "$REDIS_PORT" -n 3 SET k v
    assert_ok
    wait_spans 2 --service cli
    check_spans "
expect_attrs(one(service='cli', name='SELECT'), {'db.namespace': '3', 'db.query.text': 'SELECT 3'})
expect_attrs(one(service='cli', name='SET'), {'db.namespace': '3'})
"
}

@test "OTELAUTO_DB_QUERY_TEXT=false: no db.query.text" {
    start_redis
    EXTRA_ENV=(OTELAUTO_DB_QUERY_TEXT=false)
    run traced cli redis-cli -p "$REDIS_PORT" SET k v
    assert_ok
    wait_spans 1 --service cli
    check_spans "
s = one(service='cli', name='SET')
expect(attr(s, 'db.query.text') is None, 'no query text')
expect_attrs(s, {'db.operation.name': 'SET'})
"
}

@test "a web handler doing a Redis GET per request: the Redis span is the child of its SERVER span" {
    start_redis
    rcli SET greeting hi >/dev/null
    start_listener web web "$PY" -c "
import http.server, redis, socketserver
r = redis.Redis(port=$REDIS_PORT)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = r.get('greeting') or b''
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
open('$T/web.port', 'w').write(str(srv.server_address[1]))
srv.serve_forever()
"
    local port=$LISTENER_PORT
    run curl -sS "http://127.0.0.1:$port/a"
    [ "$output" = hi ]
    run curl -sS "http://127.0.0.1:$port/b"
    [ "$output" = hi ]
    wait_spans 2 --service web --kind server
    wait_spans 2 --service web --kind client
    check_spans "
for path in ('/a', '/b'):
    srv = one(service='web', kind='server', path=path)
    kids = children_of(srv)
    expect_eq([k['name'] for k in kids], ['GET'], 'children of ' + path)
    if kids:
        expect_attrs(kids[0], {'db.system.name': 'redis', 'db.query.text': 'GET greeting'})
"
}

@test "redis-benchmark -P 16: one span per command the server ran, none failed" {
    start_redis
    EXTRA_ENV=(OTEL_BSP_MAX_QUEUE_SIZE=20000 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048)
    rcli CONFIG RESETSTAT >/dev/null
    run traced bench redis-benchmark -p "$REDIS_PORT" -P 16 -n 2000 -t set,get -q
    assert_ok
    local stats sets gets
    stats=$(rcli INFO commandstats)
    sets=$(sed -n 's/^cmdstat_set:calls=\([0-9]*\),.*/\1/p' <<<"$stats")
    gets=$(sed -n 's/^cmdstat_get:calls=\([0-9]*\),.*/\1/p' <<<"$stats")
    [[ $sets -ge 2000 && $gets -ge 2000 ]]
    wait_spans $((sets + gets)) --service bench --timeout 30 --settle 1
    check_spans "
b = sel(service='bench', kind='client')
expect_eq(len(sel(service='bench', name='SET')), $sets, 'SET spans (the server ran $sets)')
expect_eq(len(sel(service='bench', name='GET')), $gets, 'GET spans (the server ran $gets)')
expect_eq([s['name'] for s in b if s['status_code'] != 0], [], 'failed spans')
expect_eq(sorted({s['name'] for s in b} - {'SET', 'GET'}), ['CONFIG'], 'other commands')
"
}

@test "Redis over TLS (tls-port): the plaintext through SSL_write/SSL_read gives the same spans" {
    make_cert redis
    local tls_port
    tls_port=$(free_port)
    start_redis --tls-port "$tls_port" --tls-cert-file "$T/redis.crt" --tls-key-file "$T/redis.key" \
        --tls-ca-cert-file "$T/redis.crt" --tls-auth-clients no
    wait_port "$tls_port" 10
    run traced tlscli redis-cli --tls --cacert "$T/redis.crt" -h 127.0.0.1 -p "$tls_port" SET tk TlsSecret77
    assert_ok
    [ "$output" = OK ]
    run traced tlspy "$PY" -c "
import redis, ssl
r = redis.Redis(host='127.0.0.1', port=$tls_port, ssl=True, ssl_ca_certs='$T/redis.crt')
p = r.pipeline(transaction=False)
p.get('tk')
p.lpush('tk', 'v')
p.get('tk')
print(p.execute(raise_on_error=False)[0])
"
    assert_ok
    [ "$output" = "b'TlsSecret77'" ]
    wait_spans 1 --service tlscli
    wait_spans 3 --service tlspy
    check_spans "
expect_attrs(one(service='tlscli', name='SET'), {'db.query.text': 'SET tk ?', 'server.port': $tls_port})
ops = sorted(sel(service='tlspy', kind='client'), key=lambda s: s['start'])
expect_eq([attr(s, 'db.query.text') for s in ops], ['GET tk', 'LPUSH tk ?', 'GET tk'], 'pipeline over TLS')
expect_eq([attr(s, 'error.type') for s in ops], [None, 'WRONGTYPE', None], 'errors')
"
    ! grep -q TlsSecret77 "$SPANS"
}

@test "db.client.operation.duration: one series per command and outcome, counting every command" {
    start_redis
    rcli SET str x >/dev/null
    EXTRA_ENV=(OTEL_METRIC_EXPORT_INTERVAL=200)
    run traced metered "$PY" -c "
import redis, time
r = redis.Redis(port=$REDIS_PORT)
for i in range(5):
    r.set('k%d' % i, 'v')
try:
    r.lpush('str', 'v')
except redis.ResponseError:
    pass
time.sleep(1)
"
    assert_ok
    wait_metric db.client.operation.duration 6
    check_metrics "
sets = latest('db.client.operation.duration', db__operation__name='SET')
errs = latest('db.client.operation.duration', db__operation__name='LPUSH')
expect_eq(len(sets), 1, 'one SET series')
expect_eq(len(errs), 1, 'one LPUSH series')
if sets:
    expect_eq(sets[0]['count'], 5, 'SET count')
    expect_eq(sets[0]['attributes'].get('db.system.name'), 'redis', 'db.system.name')
    expect_eq(sets[0]['unit'], 's', 'unit')
if errs:
    expect_eq(errs[0]['count'], 1, 'LPUSH count')
    expect_eq(errs[0]['attributes'].get('error.type'), 'WRONGTYPE', 'error.type')
    expect_eq(errs[0]['attributes'].get('db.response.status_code'), 'WRONGTYPE', 'db.response.status_code')
"
}

@test "db.client.operation.duration: a pipeline's commands counted under their own name and outcome" {
    # a connection remembers the series of its last command's successes: a
    # command of another name, or one that fails, is not counted there
    start_redis
    rcli SET str x >/dev/null
    EXTRA_ENV=(OTEL_METRIC_EXPORT_INTERVAL=200)
    run traced metered "$PY" -c "
import redis, time
r = redis.Redis(port=$REDIS_PORT)
p = r.pipeline(transaction=False)
p.set('a', '1'); p.get('a'); p.get('a')
p.incr('n'); p.incr('str'); p.incr('n'); p.incr('n')
p.get('a'); p.lpush('str', 'v'); p.get('a')
p.execute(raise_on_error=False)
time.sleep(1)
"
    assert_ok
    wait_metric db.client.operation.duration 10
    check_metrics "
def series(name):
    return latest('db.client.operation.duration', db__operation__name=name)
def count(rows, error):
    return sum(r['count'] for r in rows if r['attributes'].get('error.type') == error)
expect_eq(len(series('SET')), 1, 'one SET series')
expect_eq(count(series('SET'), None), 1, 'SET count')
expect_eq(len(series('GET')), 1, 'one GET series')
expect_eq(count(series('GET'), None), 4, 'GET count')
expect_eq(len(series('INCRBY')), 2, 'INCRBY: a success and an error series')
expect_eq(count(series('INCRBY'), None), 3, 'INCRBY successes')
expect_eq(count(series('INCRBY'), 'ERR'), 1, 'INCRBY errors')
expect_eq(count(series('LPUSH'), 'WRONGTYPE'), 1, 'LPUSH error')
"
}
