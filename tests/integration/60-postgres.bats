#!/usr/bin/env bats
# PostgreSQL clients traced from the wire: psql, psycopg2 and pgbench
# (libpq underneath, its own code untouched) against a real server started
# for this file (tests/integration/db_helper.bash), over TCP, in the clear
# and over TLS.

load test_helper
load metrics_helper
load db_helper

setup_file() {
    export PG_ROOT=$BATS_FILE_TMPDIR/pg
    pg_init "$PG_ROOT"
    pg_start "$PG_ROOT" ssl
    export PG_DIR PG_PORT PG_PID
    pg_psql -c "CREATE DATABASE shop" >/dev/null
    psql "host=$PG_DIR port=$PG_PORT user=postgres dbname=shop" -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE items (id serial PRIMARY KEY, name text, secret text, price numeric);
INSERT INTO items (name, secret, price) VALUES ('hammer', 'tell-no-one-42', 9.5), ('saw', 'x', 12);
CREATE TABLE orders (id serial PRIMARY KEY, item int, qty int);
SQL
    pgbench -i -s 1 -q "host=$PG_DIR port=$PG_PORT user=postgres dbname=postgres" >/dev/null 2>&1
}

teardown_file() {
    pg_stop
}

setup() {
    common_setup
    start_receiver
}

teardown() {
    common_teardown
}

# The connection string of a traced client: TCP to 127.0.0.1.
conninfo() {
    echo "host=127.0.0.1 port=$PG_PORT user=postgres dbname=${1:-shop} sslmode=${2:-disable}"
}

# Fails if the text reached the receiver in any form it stored.
assert_never_exported() {
    if grep -rqF -- "$1" "$T"/spans.jsonl*; then
        echo "'$1' reached the collector:" >&2
        grep -rF -- "$1" "$T"/spans.jsonl* | head -5 >&2
        return 1
    fi
}

# psql_select CONNINFO PEER_ATTRS: a query with a literal through psql traced
# and not, the same output; its one CLIENT span with the attributes of any
# connection and PEER_ATTRS (python dict items); the literal never exported.
psql_select() {
    local conninfo=$1 peer=$2
    local sql="SELECT name FROM items WHERE secret = 'tell-no-one-42'"
    run psql "$conninfo" -X -A -t -c "$sql"
    assert_ok
    local untraced=$output
    [ "$untraced" = hammer ]
    run traced psql psql "$conninfo" -X -A -t -c "$sql"
    assert_ok
    [ "$output" = "$untraced" ]
    wait_spans 1 --service psql
    check_spans "
expect_eq(len(spans), 1, 'one span: the startup is none')
s = one(service='psql', kind='client')
expect_eq(s.get('name'), 'SELECT items', 'span name')
expect_attrs(s, {'db.system.name': 'postgresql', 'db.namespace': 'shop', 'db.operation.name': 'SELECT',
                 'db.collection.name': 'items', 'db.query.text': 'SELECT name FROM items WHERE secret = ?',
                 'error.type': None, $peer})
expect(s.get('status_code') != 2, 'status not Error')
expect(not s.get('parent_span_id'), 'a root span')
"
    assert_never_exported tell-no-one-42
}

@test "psql: a simple query is one CLIENT span; its literal never leaves the process" {
    skip_unless_libpq_tools_start
    psql_select "$(conninfo)" "'server.address': '127.0.0.1', 'server.port': $PG_PORT"
}

@test "psql over the server's Unix socket (host=DIR): the same span, network.transport unix and the socket's path; no server.address" {
    skip_unless_libpq_tools_start
    psql_select "host=$PG_DIR port=$PG_PORT user=postgres dbname=shop" \
        "'network.transport': 'unix', 'network.peer.address': '$PG_DIR/.s.PGSQL.$PG_PORT', 'server.address': None,
         'server.port': None, 'network.peer.port': None"
}

@test "a crash (SIGSEGV) while psql waits for a query's result: its CLIENT span arrives with Error and the signal; same death" {
    skip_unless_libpq_tools_start
    segv_default_under_asan
    start_traced_bg psql-crash psql-crash psql "$(conninfo)" -X -A -t -c "SELECT pg_sleep(30), 'tell-no-one-43'"
    local pid=$BG_PID i active=0
    # the server runs the query: psql waits for its result
    for ((i = 0; i < 400; i++)); do
        active=$(pg_psql -X -A -t -c "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%tell-no-one-43%' AND pid <> pg_backend_pid()")
        [[ $active == 1 ]] && break
        sleep 0.05
    done
    [ "$active" = 1 ]
    segv_dies_as_untraced "$pid"
    wait_spans 1 --service psql-crash
    check_spans "
expect_eq(len(spans), 1, 'one span: the pending query')
s = one(service='psql-crash', kind='client')
expect_eq(s.get('name'), 'SELECT', 'span name')
expect_eq(s.get('status_code'), 2, 'status Error')
expect_attrs(s, {'db.system.name': 'postgresql', 'db.query.text': 'SELECT pg_sleep(?), ?', 'error.type': 'SIGSEGV',
                 'db.response.status_code': None})
ev = s['event_list']
expect(len(ev) == 1 and ev[0]['attributes'].get('exception.type') == 'SIGSEGV', 'one SIGSEGV event: %r' % ev)
"
    assert_never_exported tell-no-one-43
    # the server's backend ends its sleep on its own; the next tests use others
}

@test "psql: a missing table is SQLSTATE 42P01 on an Error span; psql says and exits as untraced" {
    skip_unless_libpq_tools_start
    run psql "$(conninfo)" -X -c "SELECT * FROM no_such_table"
    local untraced_status=$status untraced_output=$output
    [ "$untraced_status" -ne 0 ]
    run traced psql psql "$(conninfo)" -X -c "SELECT * FROM no_such_table"
    [ "$status" -eq "$untraced_status" ]
    [ "$output" = "$untraced_output" ]
    wait_spans 1 --service psql
    check_spans "
s = one(service='psql', kind='client')
expect_eq(s.get('name'), 'SELECT no_such_table', 'span name')
expect_eq(s.get('status_code'), 2, 'status Error')
expect_attrs(s, {'db.response.status_code': '42P01', 'error.type': '42P01', 'db.collection.name': 'no_such_table'})
"
}

@test "TLS (sslmode=require): the same span, from the session's plaintext; the negotiation untouched" {
    skip_unless_libpq_tools_start
    local sql="SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND 'tls-literal' <> ''"
    run traced psql-tls psql "$(conninfo shop require)" -X -A -t -c "$sql"
    assert_ok
    [ "$output" = t ]
    wait_spans 1 --service psql-tls
    check_spans "
expect_eq(len(spans), 1, 'one span: nothing from the ciphertext')
s = one(service='psql-tls', kind='client')
expect_eq(s.get('name'), 'SELECT pg_stat_ssl', 'span name')
expect_attrs(s, {'db.namespace': 'shop', 'db.query.text': 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ? <> ?',
                 'server.port': $PG_PORT})
"
    assert_never_exported tls-literal
}

@test "SSLRequest refused (server without TLS), sslmode=prefer: the startup follows in the clear, same span" {
    skip_unless_libpq_tools_start
    pg_psql -c "ALTER SYSTEM SET ssl = off" -c "SELECT pg_reload_conf()" >/dev/null
    local i
    for ((i = 0; i < 100; i++)); do
        [[ $(psql "$(conninfo shop prefer)" -X -A -t -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == f ]] && break
        sleep 0.05
    done
    run traced psql-prefer psql "$(conninfo shop prefer)" -X -A -t -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    pg_psql -c "ALTER SYSTEM RESET ssl" -c "SELECT pg_reload_conf()" >/dev/null
    assert_ok
    [ "$output" = f ]
    wait_spans 1 --service psql-prefer
    check_spans "
s = one(service='psql-prefer', kind='client')
expect_eq(s.get('name'), 'SELECT pg_stat_ssl', 'span name')
expect_attrs(s, {'db.namespace': 'shop'})
"
}

@test "psycopg2: values the driver interpolates are masked; a transaction is BEGIN, SELECT, INSERT, COMMIT" {
    cat >"$T/client.py" <<PY
import psycopg2
conn = psycopg2.connect("$(conninfo)")
cur = conn.cursor()
cur.execute("SELECT id FROM items WHERE name = %s AND price > %s", ("hammer", 3.25))
print(cur.fetchone()[0])
cur.execute("INSERT INTO orders (item, qty) VALUES (%s, %s)", (1, 31337))
conn.commit()
conn.close()
PY
    run traced py-client "$PY" "$T/client.py"
    assert_ok
    [ "$output" = 1 ]
    wait_spans 4 --service py-client
    check_spans "
got = [s.get('name') for s in sorted(sel(service='py-client'), key=lambda s: s.get('start', 0))]
expect_eq(got, ['BEGIN', 'SELECT items', 'INSERT orders', 'COMMIT'], 'spans in order')
expect_attrs(one(service='py-client', name='SELECT items'),
             {'db.query.text': 'SELECT id FROM items WHERE name = ? AND price > ?'})
expect_attrs(one(service='py-client', name='INSERT orders'),
             {'db.query.text': 'INSERT INTO orders (item, qty) VALUES (?, ?)', 'db.operation.name': 'INSERT'})
"
    assert_never_exported 31337
    assert_never_exported "'hammer'"
}

# The lines of a pgbench report that do not depend on timing.
pgbench_results() {
    grep -E '^(transaction type|scaling factor|query mode|number of clients|number of threads|number of transactions per client|number of transactions actually processed|number of failed transactions)'
}

@test "pgbench -S, simple, extended and prepared: the results of an untraced run, exactly one span per query" {
    skip_unless_libpq_tools_start
    local mode
    for mode in simple extended prepared; do
        local untraced traced_out
        untraced=$(pgbench -c 4 -t 50 -M "$mode" -S "$(conninfo postgres)" 2>/dev/null | pgbench_results)
        [ "$(echo "$untraced" | grep -c .)" -ge 7 ]
        traced_out=$(traced "pgbench-$mode" pgbench -c 4 -t 50 -M "$mode" -S "$(conninfo postgres)" 2>/dev/null |
            pgbench_results)
        [ "$traced_out" = "$untraced" ]
        # 200 transactions of one SELECT each, plus what pgbench asks before
        # it starts on its first connection: whether pgbench_branches exists
        # (pg_catalog.pg_class), the scale (SELECT count(*) FROM
        # pgbench_branches), two VACUUMs and a TRUNCATE of pgbench_history.
        wait_spans 205 --service "pgbench-$mode" --timeout 20 --settle 1
    done
    check_spans "
for mode in ('simple', 'extended', 'prepared'):
    mine = sel(service='pgbench-' + mode)
    expect_eq(len(mine), 205, mode + ': spans')
    names = {}
    for s in mine:
        names[s.get('name')] = names.get(s.get('name'), 0) + 1
    expect_eq(names, {'SELECT pgbench_accounts': 200, 'SELECT pg_catalog.pg_class': 1, 'SELECT pgbench_branches': 1,
                      'VACUUM': 2, 'TRUNCATE pgbench_history': 1}, mode + ': spans by name')
    text = {attr(s, 'db.query.text') for s in mine if s.get('name') == 'SELECT pgbench_accounts'}
    want = 'SELECT abalance FROM pgbench_accounts WHERE aid = ' + ('?' if mode == 'simple' else '\$1') + ';'
    expect_eq(text, {want}, mode + ': query text')
    expect_eq([s for s in mine if s.get('status_code') == 2], [], mode + ': no error')
"
}

@test "a python web handler querying postgres per request: the DB spans are children of its SERVER span" {
    cat >"$T/web.py" <<PY
import http.server, psycopg2, sys
conn = psycopg2.connect("$(conninfo)")
conn.autocommit = True
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM items WHERE name = %s", (self.path.strip("/"),))
        body = ("%d\n" % cur.fetchone()[0]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_address[1]))
srv.serve_forever()
PY
    start_listener web web "$PY" "$T/web.py" "$T/web.port"
    [ "$(curl -s "http://127.0.0.1:$LISTENER_PORT/hammer")" = 1 ]
    [ "$(curl -s "http://127.0.0.1:$LISTENER_PORT/drill")" = 0 ]
    wait_spans 4 --service web
    check_spans "
servers = sel(service='web', kind='server')
expect_eq(len(servers), 2, 'two requests served')
for srv in servers:
    kids = children_of(srv)
    expect_eq(len(kids), 1, 'one child of ' + str(attr(srv, 'url.path')))
    for k in kids:
        expect_eq(k.get('kind'), 3, 'a CLIENT span')
        expect_eq(k.get('name'), 'SELECT items', 'its name')
        expect_attrs(k, {'db.query.text': 'SELECT count(*) FROM items WHERE name = ?'})
expect_eq(len(sel(service='web', kind='client')), 2, 'no other database span')
"
}

@test "OTELAUTO_DB_QUERY_TEXT=false: no query text at all; the operation and the table still recorded" {
    skip_unless_libpq_tools_start
    EXTRA_ENV=(OTELAUTO_DB_QUERY_TEXT=false)
    run traced psql psql "$(conninfo)" -X -A -t -c "SELECT price FROM items WHERE name = 'saw'"
    assert_ok
    wait_spans 1 --service psql
    check_spans "
s = one(service='psql', kind='client')
expect_eq(s.get('name'), 'SELECT items', 'span name')
expect_attrs(s, {'db.query.text': None, 'db.operation.name': 'SELECT', 'db.collection.name': 'items'})
"
}

@test "db.client.operation.duration over OTLP: the conventions' buckets, one series per operation and outcome" {
    skip_unless_libpq_tools_start
    EXTRA_ENV=(OTEL_METRIC_EXPORT_INTERVAL=200)
    run traced psql psql "$(conninfo)" -X -c "SELECT 1 FROM items" -c "SELECT 1 FROM items" -c "SELECT * FROM nope"
    [ "$status" -ne 0 ]
    wait_metric db.client.operation.duration 3
    check_metrics "
ok = latest('db.client.operation.duration', db__collection__name='items')
bad = latest('db.client.operation.duration', db__collection__name='nope')
expect_eq(len(ok), 1, 'one series for the two good queries')
expect_eq(len(bad), 1, 'one series for the failed one')
if ok:
    p = ok[0]
    expect_eq(p['count'], 2, 'count')
    expect_eq(p['unit'], 's', 'unit')
    expect_eq(p['explicit_bounds'], [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0], 'bucket boundaries')
    expect_eq(p['attributes'], {'db.system.name': 'postgresql', 'db.operation.name': 'SELECT',
                                'db.collection.name': 'items'}, 'attributes')
if bad:
    expect_eq(bad[0]['attributes'].get('error.type'), '42P01', 'error.type')
    expect_eq(bad[0]['attributes'].get('db.response.status_code'), '42P01', 'status code')
"
}

@test "db.client.operation.duration on the prometheus endpoint" {
    local prom_port
    prom_port=$(free_port)
    EXTRA_ENV=(OTEL_METRICS_EXPORTER=prometheus "OTEL_EXPORTER_PROMETHEUS_PORT=$prom_port")
    cat >"$T/scraped.py" <<PY
import psycopg2, sys, time, urllib.request
conn = psycopg2.connect("$(conninfo)")
conn.autocommit = True
cur = conn.cursor()
for _ in range(3):
    cur.execute("SELECT 1 FROM items")
# the endpoint is served by the shim's metrics thread, which may still be
# starting: wait for it as long as it takes (no time is asserted)
for _ in range(600):
    try:
        print(urllib.request.urlopen("http://127.0.0.1:$prom_port/metrics").read().decode())
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("the prometheus endpoint never answered")
PY
    run traced scraped "$PY" "$T/scraped.py"
    assert_ok
    local series='db_client_operation_duration_seconds_count{db_system_name="postgresql",db_operation_name="SELECT",db_collection_name="items"}'
    [ "$(prometheus_value "$output" "$series")" = 3 ]
    prometheus_value "$output" 'db_client_operation_duration_seconds_bucket{db_system_name="postgresql",db_operation_name="SELECT",db_collection_name="items",le="0.001"}' >/dev/null
}

# The server's log lines (log_statement=all for this client's session:
# PGOPTIONS, a superuser's setting) that hold the marker.
pg_logged() {
    grep -F -- "$1" "$PG_DIR/server.log" || true
}

# The server logged the statement with the marker carrying the CLIENT span
# of service $1, named $3, in the sqlcommenter comment.
check_commented() {
    pg_logged "$2" >"$T/logged.txt"
    check_sql_commented "$1" "$3" "$T/logged.txt"
}

@test "OTELAUTO_DB_SQLCOMMENTER=true: the server sees the query's CLIENT span in a trailing comment; psql's output unchanged" {
    skip_unless_libpq_tools_start
    local sql="SELECT name FROM items WHERE id = 1 AND 'sqlc-on' <> '';"
    run psql "$(conninfo)" -X -A -t -c "$sql"
    assert_ok
    local untraced=$output
    [ "$untraced" = hammer ]
    EXTRA_ENV=(OTELAUTO_DB_SQLCOMMENTER=true "PGOPTIONS=-c log_statement=all")
    run traced psql-sqlc psql "$(conninfo)" -X -A -t -c "$sql"
    assert_ok
    [ "$output" = "$untraced" ]
    wait_spans 1 --service psql-sqlc
    check_commented psql-sqlc sqlc-on "SELECT items"
    check_spans "expect_attrs(one(service='psql-sqlc'), {'db.query.text': 'SELECT name FROM items WHERE id = ? AND ? <> ?;'})"
}

@test "OTELAUTO_DB_SQLCOMMENTER=true over TLS: the comment goes into the session's plaintext" {
    skip_unless_libpq_tools_start
    EXTRA_ENV=(OTELAUTO_DB_SQLCOMMENTER=true "PGOPTIONS=-c log_statement=all")
    run traced psql-sqlc-tls psql "$(conninfo shop require)" -X -A -t \
        -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND 'sqlc-tls' <> ''"
    assert_ok
    [ "$output" = t ]
    wait_spans 1 --service psql-sqlc-tls
    check_commented psql-sqlc-tls sqlc-tls "SELECT pg_stat_ssl"
}

@test "sqlcommenter is off by default; a commented statement and a prepared one are never touched" {
    skip_unless_libpq_tools_start
    EXTRA_ENV=("PGOPTIONS=-c log_statement=all")
    run traced psql psql "$(conninfo)" -X -A -t -c "SELECT 'sqlc-off'"
    assert_ok
    [ "$output" = sqlc-off ]
    EXTRA_ENV=(OTELAUTO_DB_SQLCOMMENTER=true "PGOPTIONS=-c log_statement=all")
    run traced psql psql "$(conninfo)" -X -A -t -c "SELECT 'sqlc-own' /* app */"
    assert_ok
    echo "SELECT 'sqlc-prep' AS v;" >"$T/prep.sql"
    run traced pgbench pgbench -n -t 1 -M prepared -f "$T/prep.sql" "$(conninfo)"
    assert_ok
    wait_spans 2 --service psql
    run pg_logged sqlc-off
    [[ $output == *"statement: SELECT 'sqlc-off'"* ]]
    [[ $output != *traceparent* ]]
    run pg_logged sqlc-own
    [[ $output == *"statement: SELECT 'sqlc-own' /* app */"* ]]
    [[ $output != *traceparent* ]]
    # a Parse: logged at its execution
    run pg_logged sqlc-prep
    [[ $output == *"SELECT 'sqlc-prep' AS v;"* ]]
    [[ $output != *traceparent* ]]
}
