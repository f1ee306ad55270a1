#!/usr/bin/env bats
# MySQL / MariaDB client spans from the wire (src/protocols/mysql/): real
# clients (the mariadb command-line client, python3-pymysql) traced against
# a real MariaDB server (untraced), in plain TCP, TLS and compressed.

load test_helper
load mysql_helper

setup_file() {
    start_mariadb
}

teardown_file() {
    stop_mariadb
}

setup() {
    common_setup
    start_receiver
    mariadb_client_words
}

teardown() {
    common_teardown
}

@test "mariadb client, plain TCP: USE, CREATE, INSERT, SELECT give CLIENT spans with the database attributes; no literal, no password reaches the receiver" {
    run traced mysql-cli "${MARIADB_CLIENT[@]}" --skip-ssl -e "USE shop;
        CREATE TABLE items (id INT, name VARCHAR(40));
        INSERT INTO items VALUES (1, 'literal-must-not-leak');
        SELECT name FROM items WHERE name = 'literal-must-not-leak' AND id = 1;
        DROP TABLE items"
    assert_ok
    [[ $output == *literal-must-not-leak* ]] # the program's own output is untouched

    wait_spans 1 --service mysql-cli --name "DROP items"
    check_spans "
port = $MARIADB_PORT
use = one(service='mysql-cli', name='USE')
expect_attrs(use, {'db.system.name': 'mariadb', 'db.namespace': 'shop', 'db.operation.name': 'USE'})
for name, op, text in (('CREATE items', 'CREATE', 'CREATE TABLE items (id INT, name VARCHAR(?))'),
                       ('INSERT items', 'INSERT', 'INSERT INTO items VALUES (?, ?)'),
                       ('SELECT items', 'SELECT', 'SELECT name FROM items WHERE name = ? AND id = ?'),
                       ('DROP items', 'DROP', 'DROP TABLE items')):
    s = one(service='mysql-cli', name=name)
    expect_eq(s.get('kind'), 3, name + ': kind CLIENT')
    expect_attrs(s, {'db.system.name': 'mariadb', 'db.namespace': 'shop', 'db.operation.name': op,
                     'db.collection.name': 'items', 'db.query.text': text, 'server.address': '127.0.0.1',
                     'server.port': port, 'db.response.status_code': None, 'error.type': None})
    expect(s.get('status_code') in (None, 0, 'STATUS_CODE_UNSET'), name + ': status unset')
# in the order the client sent them
order = [s.get('name') for s in sorted(sel(service='mysql-cli'), key=lambda s: s.get('start_time_unix_nano', 0))]
want = ['USE', 'CREATE items', 'INSERT items', 'SELECT items', 'DROP items']
expect_eq([n for n in order if n in want], want, 'span order')
"
    ! grep -q 'literal-must-not-leak' "$SPANS"
    ! grep -q "$MARIADB_PASSWORD" "$SPANS"
}

@test "mariadb client over the server's Unix socket (--socket): the same span, network.transport unix and the socket's path; no server.address" {
    run traced mysql-cli mariadb --no-defaults -S "$MARIADB_DIR/sock" -uroot "$MARIADB_DB" \
        -e "SELECT 'literal-must-not-leak' AS x"
    assert_ok
    [[ $output == *literal-must-not-leak* ]]
    wait_spans 1 --service mysql-cli --name SELECT
    check_spans "
s = one(service='mysql-cli', name='SELECT')
expect_attrs(s, {'db.system.name': 'mariadb', 'db.namespace': '$MARIADB_DB', 'db.query.text': 'SELECT ? AS x',
                 'network.transport': 'unix', 'network.peer.address': '$MARIADB_DIR/sock', 'server.address': None,
                 'server.port': None, 'network.peer.port': None})
"
    ! grep -q 'literal-must-not-leak' "$SPANS"
}

@test "mariadb client: a missing table is an error span (db.response.status_code 1146), the client's exit status unchanged" {
    run traced mysql-cli "${MARIADB_CLIENT[@]}" --skip-ssl shop -e "SELECT * FROM no_such_table"
    [ "$status" -eq 1 ]
    [[ $output == *"ERROR 1146 (42S02)"* ]]
    wait_spans 1 --service mysql-cli --name "SELECT no_such_table"
    check_spans "
s = one(service='mysql-cli', name='SELECT no_such_table')
expect_attrs(s, {'db.system.name': 'mariadb', 'db.namespace': 'shop', 'db.collection.name': 'no_such_table',
                 'db.response.status_code': '1146', 'error.type': '1146'})
expect(s.get('status_code') in (2, 'STATUS_CODE_ERROR', 'ERROR'), 'status Error: %r' % s.get('status_code'))
"
}

@test "mariadb client with --ssl: the login and the queries inside TLS give the same spans" {
    run traced mysql-tls "${MARIADB_CLIENT[@]}" --ssl --skip-ssl-verify-server-cert shop \
        -e "SELECT 7 AS seven FROM DUAL WHERE 1 = 1; SHOW SESSION STATUS LIKE 'Ssl_cipher'"
    assert_ok
    [[ $output == *TLS* ]] # the session was encrypted
    wait_spans 2 --service mysql-tls
    check_spans "
s = one(service='mysql-tls', name='SELECT DUAL')
expect_attrs(s, {'db.system.name': 'mariadb', 'db.namespace': 'shop',
                 'db.query.text': 'SELECT ? AS seven FROM DUAL WHERE ? = ?', 'server.port': $MARIADB_PORT})
one(service='mysql-tls', name='SHOW')
"
}

@test "mariadb client with --compress: the program works, the connection is passed through after the login (no spans)" {
    run traced mysql-zip "${MARIADB_CLIENT[@]}" --compress --skip-ssl shop -e "SELECT 'compressed-ok'"
    assert_ok
    [[ $output == *compressed-ok* ]]
    # a span of a later, uncompressed client shows that spans do arrive
    run traced mysql-plain "${MARIADB_CLIENT[@]}" --skip-ssl shop -e "SELECT 'plain-ok'"
    assert_ok
    wait_spans 1 --service mysql-plain --name SELECT
    check_spans "expect_eq(len(sel(service='mysql-zip')), 0, 'no span from the compressed connection')"
}

@test "a python web handler querying through pymysql: each DB span is the child of its request's SERVER span" {
    cat >"$T/app.py" <<'PY'
import http.server, sys, pymysql

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        db = pymysql.connect(host="127.0.0.1", port=int(sys.argv[2]), user="app", password=sys.argv[3],
                             database="shop", ssl_disabled=True, autocommit=True)
        with db.cursor() as c:
            c.execute("SELECT %s AS v FROM DUAL", (self.path,))
            body = (str(c.fetchone()[0]) + "\n").encode()
        db.close()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

srv = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_port))
srv.serve_forever()
PY
    start_listener web web "$PY" "$T/app.py" "$T/web.port" "$MARIADB_PORT" "$MARIADB_PASSWORD"
    local port=$LISTENER_PORT
    run curl -sS "http://127.0.0.1:$port/a"
    assert_ok
    [ "$output" = "/a" ]
    run curl -sS "http://127.0.0.1:$port/b"
    assert_ok
    wait_spans 2 --service web --kind server
    wait_spans 2 --service web --name "SELECT DUAL"
    check_spans "
for path in ('/a', '/b'):
    srv = one(service='web', kind='server', url__path=path)
    kids = [s for s in children_of(srv) if s.get('name') == 'SELECT DUAL']
    expect_eq(len(kids), 1, path + ': one DB span under the server span')
    for k in kids:
        expect_eq(k.get('kind'), 3, 'kind CLIENT')
        expect_attrs(k, {'db.system.name': 'mariadb', 'db.namespace': 'shop',
                         'db.query.text': 'SELECT ? AS v FROM DUAL'})
"
}

@test "perl DBD::MariaDB with server-side prepared statements: COM_STMT_EXECUTE spans carry the prepared text; a refused prepare is an error span" {
    perl -MDBD::MariaDB -e 1 2>/dev/null || skip "perl DBD::MariaDB (libdbd-mariadb-perl) is not installed"
    cat >"$T/ps.pl" <<'PL'
use strict; use DBI;
my ($port, $pw) = @ARGV;
my $dbh = DBI->connect("DBI:MariaDB:database=shop;host=127.0.0.1;port=$port;mariadb_server_prepare=1",
                       "app", $pw, {RaiseError => 1, PrintError => 0});
$dbh->do("CREATE TABLE ps_items (id INT, name VARCHAR(40))");
my $ins = $dbh->prepare("INSERT INTO ps_items VALUES (?, ?)");
$ins->execute(1, "bound-literal-one");
$ins->execute(2, "bound-literal-two");
undef $ins;
my $sel = $dbh->prepare("SELECT name FROM ps_items WHERE id = ? AND name <> 'inline-literal'");
$sel->execute(2);
while (my @r = $sel->fetchrow_array) { print "row: @r\n"; }
undef $sel;
eval { $dbh->prepare("SELECT * FROM ps_missing WHERE id = ?")->execute(1) };
print "error: $DBI::err\n";
$dbh->do("DROP TABLE ps_items");
$dbh->disconnect;
PL
    run traced perl-ps perl "$T/ps.pl" "$MARIADB_PORT" "$MARIADB_PASSWORD"
    assert_ok
    [[ $output == *"row: bound-literal-two"* ]]
    [[ $output == *"error: 1146"* ]]
    wait_spans 1 --service perl-ps --name "DROP ps_items"
    check_spans "
ins = sel(service='perl-ps', name='INSERT ps_items')
expect_eq(len(ins), 2, 'one span per execution of the prepared INSERT')
for s in ins:
    expect_attrs(s, {'db.system.name': 'mariadb', 'db.namespace': 'shop', 'db.operation.name': 'INSERT',
                     'db.query.text': 'INSERT INTO ps_items VALUES (?, ?)'})
s = one(service='perl-ps', name='SELECT ps_items')
expect_attrs(s, {'db.query.text': 'SELECT name FROM ps_items WHERE id = ? AND name <> ?', 'error.type': None})
bad = one(service='perl-ps', name='SELECT ps_missing')
expect_attrs(bad, {'db.response.status_code': '1146', 'error.type': '1146',
                   'db.query.text': 'SELECT * FROM ps_missing WHERE id = ?'})
"
    ! grep -q 'literal' "$SPANS"
}

# sqlcommenter: the server's general log (to a file) shows what it received.
general_log_on() {
    mariadb_root "SET GLOBAL log_output = 'FILE'; SET GLOBAL general_log_file = '$MARIADB_DIR/general.log';
        SET GLOBAL general_log = 1"
}

# The general log's lines that hold the marker.
general_logged() {
    grep -F -- "$1" "$MARIADB_DIR/general.log" || true
}

# The server logged the statement with the marker carrying the CLIENT span
# of service $1, named $3, in the sqlcommenter comment.
check_commented() {
    general_logged "$2" >"$T/logged.txt"
    check_sql_commented "$1" "$3" "$T/logged.txt"
}

@test "OTELAUTO_DB_SQLCOMMENTER=true: the server sees each COM_QUERY's CLIENT span in a trailing comment; the client's output unchanged" {
    general_log_on
    local sql="SELECT 'sqlc-on' AS v FROM DUAL WHERE 1 = 1"
    run "${MARIADB_CLIENT[@]}" --skip-ssl shop -e "$sql"
    assert_ok
    local untraced=$output
    EXTRA_ENV=(OTELAUTO_DB_SQLCOMMENTER=true)
    run traced mysql-sqlc "${MARIADB_CLIENT[@]}" --skip-ssl shop -e "$sql"
    assert_ok
    [ "$output" = "$untraced" ]
    wait_spans 1 --service mysql-sqlc --name "SELECT DUAL"
    check_commented mysql-sqlc sqlc-on "SELECT DUAL"
}

@test "OTELAUTO_DB_SQLCOMMENTER=true with --ssl: the comment goes into the session's plaintext" {
    general_log_on
    EXTRA_ENV=(OTELAUTO_DB_SQLCOMMENTER=true)
    run traced mysql-sqlc-tls "${MARIADB_CLIENT[@]}" --ssl --skip-ssl-verify-server-cert shop \
        -e "SELECT 'sqlc-tls' AS v FROM DUAL; SHOW SESSION STATUS LIKE 'Ssl_cipher'"
    assert_ok
    [[ $output == *TLS* ]]
    wait_spans 2 --service mysql-sqlc-tls
    check_commented mysql-sqlc-tls sqlc-tls "SELECT DUAL"
}

@test "sqlcommenter is off by default; a statement with its own comment is never touched" {
    general_log_on
    run traced mysql-cli "${MARIADB_CLIENT[@]}" --skip-ssl shop -e "SELECT 'sqlc-off' AS v FROM DUAL"
    assert_ok
    EXTRA_ENV=(OTELAUTO_DB_SQLCOMMENTER=true)
    run traced mysql-cli "${MARIADB_CLIENT[@]}" --skip-ssl --comments shop -e "SELECT 'sqlc-own' AS v FROM DUAL /* app */"
    assert_ok
    [[ $output == *sqlc-own* ]]
    wait_spans 2 --service mysql-cli --name "SELECT DUAL"
    run general_logged sqlc-off
    [[ $output == *"SELECT 'sqlc-off' AS v FROM DUAL"* && $output != *traceparent* ]]
    run general_logged sqlc-own
    [[ $output == *"SELECT 'sqlc-own' AS v FROM DUAL /* app */"* && $output != *traceparent* ]]
}

@test "OTELAUTO_DB_SQLCOMMENTER=true: a server-side prepared statement (perl DBD::MariaDB) is never touched" {
    perl -MDBD::MariaDB -e 1 2>/dev/null || skip "perl DBD::MariaDB (libdbd-mariadb-perl) is not installed"
    general_log_on
    cat >"$T/ps.pl" <<'PL'
use strict; use DBI;
my ($port, $pw) = @ARGV;
my $dbh = DBI->connect("DBI:MariaDB:database=shop;host=127.0.0.1;port=$port;mariadb_server_prepare=1",
                       "app", $pw, {RaiseError => 1, PrintError => 0});
my $sel = $dbh->prepare("SELECT ? AS v FROM DUAL WHERE 'sqlc-prep' <> ''");
$sel->execute(2);
while (my @r = $sel->fetchrow_array) { print "row: @r\n"; }
undef $sel;
$dbh->disconnect;
PL
    EXTRA_ENV=(OTELAUTO_DB_SQLCOMMENTER=true)
    run traced perl-sqlc perl "$T/ps.pl" "$MARIADB_PORT" "$MARIADB_PASSWORD"
    assert_ok
    [[ $output == *"row: 2"* ]]
    wait_spans 1 --service perl-sqlc --name "SELECT DUAL"
    run general_logged sqlc-prep
    [[ $output == *Prepare* && $output != *traceparent* ]]
}
