/* MySQL / MariaDB client connections (src/protocols/mysql/) as
 * conversations (conversation.h): the server's greeting, the login, commands
 * and their replies, played through the real wire layer whole, split at
 * every byte and against partial writes; each case states the spans they
 * must give. The packets are built here, from the protocol's layouts. The
 * client's bytes reach the wire untouched, but in the sqlcommenter cases
 * (OTELAUTO_DB_SQLCOMMENTER on). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "conversation.h"
#include "oa_test.h"
#include "protocols/mysql/mysql_exchange.h"
#include "protocols/mysql/mysql_parser.h"

#define C OA_ROLE_CLIENT
#define CLIENT_SPAN OA_SPAN_KIND_CLIENT

/* capability flags */
#define LONG_PASSWORD 0x00000001u
#define CONNECT_WITH_DB 0x00000008u
#define COMPRESS 0x00000020u
#define PROTOCOL_41 0x00000200u
#define SSL 0x00000800u
#define TRANSACTIONS 0x00002000u
#define SECURE_CONNECTION 0x00008000u
#define MULTI_STATEMENTS 0x00010000u
#define MULTI_RESULTS 0x00020000u
#define PLUGIN_AUTH 0x00080000u
#define DEPRECATE_EOF 0x01000000u
#define BASE_CAPS (LONG_PASSWORD | PROTOCOL_41 | TRANSACTIONS | SECURE_CONNECTION | MULTI_STATEMENTS | MULTI_RESULTS | PLUGIN_AUTH)

/* status flags */
#define AUTOCOMMIT 0x0002u
#define MORE_RESULTS 0x0008u

#define MARIADB_VERSION "5.5.5-10.11.6-MariaDB-0+deb12u1"
#define MYSQL_VERSION "8.0.36"
/* what must never reach a span */
#define AUTH_DATA "PASSWORDHASH01234567"

static const struct oa_protocol *const mysql_only[] = {&oa_mysql_protocol, NULL};

/* ---- building packets ---- */

struct bytes {
    unsigned char b[1024];
    size_t n;
};

static void put(struct bytes *o, const void *p, size_t n)
{
    if (o->n + n > sizeof(o->b)) {
        fprintf(stderr, "test packet too long\n");
        return;
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put1(struct bytes *o, unsigned v)
{
    unsigned char b = (unsigned char)v;
    put(o, &b, 1);
}

static void put2(struct bytes *o, unsigned v)
{
    put1(o, v & 0xff);
    put1(o, v >> 8);
}

static void put4(struct bytes *o, uint32_t v)
{
    put2(o, v & 0xffff);
    put2(o, v >> 16);
}

static void puts0(struct bytes *o, const char *s)
{
    put(o, s, strlen(s) + 1);
}

/* one packet: its header, then payload */
static void packet(struct bytes *o, unsigned seq, const struct bytes *payload)
{
    put1(o, payload->n & 0xff);
    put1(o, (payload->n >> 8) & 0xff);
    put1(o, payload->n >> 16);
    put1(o, seq);
    put(o, payload->b, payload->n);
}

static void greeting(struct bytes *o, const char *version, uint32_t caps)
{
    struct bytes p = {.n = 0};
    put1(&p, 10);
    puts0(&p, version);
    put4(&p, 42);              /* connection id */
    put(&p, "abcdefgh", 8);    /* scramble, first part */
    put1(&p, 0);
    put2(&p, caps & 0xffff);
    put1(&p, 0x21);            /* character set */
    put2(&p, AUTOCOMMIT);
    put2(&p, caps >> 16);
    put1(&p, 21);              /* scramble length */
    put(&p, "\0\0\0\0\0\0\0\0\0\0", 10);
    put(&p, "ijklmnopqrst", 13);
    puts0(&p, "mysql_native_password");
    packet(o, 0, &p);
}

/* HandshakeResponse41 (db NULL: none) */
static void login(struct bytes *o, unsigned seq, uint32_t caps, const char *db)
{
    struct bytes p = {.n = 0};
    put4(&p, caps | (db != NULL ? CONNECT_WITH_DB : 0));
    put4(&p, 1u << 24);
    put1(&p, 0x21);
    put(&p, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 23);
    puts0(&p, "appuser");
    put1(&p, 20);
    put(&p, AUTH_DATA, 20);
    if (db != NULL)
        puts0(&p, db);
    puts0(&p, "mysql_native_password");
    packet(o, seq, &p);
}

static void ssl_request(struct bytes *o, uint32_t caps)
{
    struct bytes p = {.n = 0};
    put4(&p, caps | SSL);
    put4(&p, 1u << 24);
    put1(&p, 0x21);
    put(&p, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 23);
    packet(o, 1, &p);
}

static void command(struct bytes *o, unsigned cmd, const void *body, size_t n)
{
    struct bytes p = {.n = 0};
    put1(&p, cmd);
    put(&p, body, n);
    packet(o, 0, &p);
}

static void query(struct bytes *o, const char *sql)
{
    command(o, OA_MYSQL_COM_QUERY, sql, strlen(sql));
}

static void ok(struct bytes *o, unsigned seq, unsigned affected, unsigned status)
{
    struct bytes p = {.n = 0};
    put1(&p, 0x00);
    put1(&p, affected);
    put1(&p, 0); /* last insert id */
    put2(&p, status);
    put2(&p, 0); /* warnings */
    packet(o, seq, &p);
}

/* a result set's end with CLIENT_DEPRECATE_EOF: OK with 0xFE */
static void ok_fe(struct bytes *o, unsigned seq, unsigned status)
{
    struct bytes p = {.n = 0};
    put1(&p, 0xfe);
    put1(&p, 0);
    put1(&p, 0);
    put2(&p, status);
    put2(&p, 0);
    packet(o, seq, &p);
}

static void eof(struct bytes *o, unsigned seq, unsigned status)
{
    struct bytes p = {.n = 0};
    put1(&p, 0xfe);
    put2(&p, 0);
    put2(&p, status);
    packet(o, seq, &p);
}

static void err(struct bytes *o, unsigned seq, unsigned code, const char *sqlstate, const char *message)
{
    struct bytes p = {.n = 0};
    put1(&p, 0xff);
    put2(&p, code);
    put1(&p, '#');
    put(&p, sqlstate, 5);
    put(&p, message, strlen(message));
    packet(o, seq, &p);
}

static void column_count(struct bytes *o, unsigned seq, unsigned n)
{
    struct bytes p = {.n = 0};
    put1(&p, n);
    packet(o, seq, &p);
}

static void column(struct bytes *o, unsigned seq, const char *name)
{
    struct bytes p = {.n = 0};
    put1(&p, 3);
    put(&p, "def", 3);
    put1(&p, 4);
    put(&p, "shop", 4);
    put1(&p, 1);
    put(&p, "t", 1);
    put1(&p, 1);
    put(&p, "t", 1);
    put1(&p, (unsigned)strlen(name));
    put(&p, name, strlen(name));
    put1(&p, (unsigned)strlen(name));
    put(&p, name, strlen(name));
    put1(&p, 0x0c);
    put(&p, "\x21\x00\x0b\x00\x00\x00\x03\x00\x00\x00\x00\x00", 12);
    packet(o, seq, &p);
}

/* a text row of one value */
static void row(struct bytes *o, unsigned seq, const char *value)
{
    struct bytes p = {.n = 0};
    put1(&p, (unsigned)strlen(value));
    put(&p, value, strlen(value));
    packet(o, seq, &p);
}

static void raw_packet(struct bytes *o, unsigned seq, const void *payload, size_t n)
{
    struct bytes p = {.n = 0};
    put(&p, payload, n);
    packet(o, seq, &p);
}

/* ---- building conversations ---- */

#define MAX_STEPS 24

struct script {
    struct conv_step steps[MAX_STEPS + 1];
    struct bytes data[MAX_STEPS];
    int n;
};

static struct bytes *step(struct script *s, enum conv_dir dir)
{
    if (s->n >= MAX_STEPS) {
        fprintf(stderr, "too many steps\n");
        s->n = MAX_STEPS - 1;
    }
    int i = s->n++;
    s->steps[i] = (struct conv_step){.conn = 0, .dir = dir};
    s->data[i].n = 0;
    return &s->data[i];
}

#define SEND(s) step((s), CONV_SEND)
#define RECV(s) step((s), CONV_RECV)

static void mark(struct script *s, enum conv_dir dir, int spans)
{
    step(s, dir)->n = 0;
    s->steps[s->n - 1].spans = spans;
}

static const struct conv_step *done(struct script *s)
{
    for (int i = 0; i < s->n; i++) {
        if (s->steps[i].dir == CONV_SEND || s->steps[i].dir == CONV_RECV) {
            s->steps[i].bytes = (const char *)s->data[i].b;
            s->steps[i].len = s->data[i].n;
        }
    }
    s->steps[s->n] = (struct conv_step){.dir = CONV_END};
    return s->steps;
}

/* greeting, login (db may be NULL), OK */
static void logged_in(struct script *s, const char *version, uint32_t caps, const char *db)
{
    greeting(RECV(s), version, caps);
    login(SEND(s), 1, caps, db);
    ok(RECV(s), 2, 0, AUTOCOMMIT);
}

/* ---- the cases ---- */

static struct script s_basic;
static void basic(void)
{
    struct script *s = &s_basic;
    logged_in(s, MARIADB_VERSION, BASE_CAPS | CONNECT_WITH_DB, "shop");
    query(SEND(s), "SELECT a FROM t WHERE a = 42");
    struct bytes *r = RECV(s);
    column_count(r, 1, 1);
    column(r, 2, "a");
    eof(r, 3, AUTOCOMMIT);
    row(r, 4, "42");
    row(r, 5, "43");
    eof(r, 6, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 1);
    query(SEND(s), "INSERT INTO t VALUES (7, 'secret')");
    ok(RECV(s), 1, 1, AUTOCOMMIT);
    query(SEND(s), "SELECT * FROM nope");
    err(RECV(s), 1, 1146, "42S02", "Table 'shop.nope' doesn't exist");
    mark(s, CONV_FINISHED, 3);
    command(SEND(s), OA_MYSQL_COM_QUIT, "", 0);
    mark(s, CONV_CLOSE, 0);
}

static const struct conv_span basic_spans[] = {
    SPAN(CLIENT_SPAN, "SELECT t", false, CONV_ROOT, "db.system.name=mariadb", "db.namespace=shop",
         "db.operation.name=SELECT", "db.collection.name=t", "db.query.text=SELECT a FROM t WHERE a = ?",
         "server.address=10.0.0.1", "server.port=8080", "!db.response.status_code", "!error.type"),
    SPAN(CLIENT_SPAN, "INSERT t", false, CONV_ROOT, "db.system.name=mariadb", "db.namespace=shop",
         "db.operation.name=INSERT", "db.query.text=INSERT INTO t VALUES (?, ?)"),
    SPAN(CLIENT_SPAN, "SELECT nope", true, CONV_ROOT, "db.system.name=mariadb", "db.collection.name=nope",
         "db.response.status_code=1146", "error.type=1146"),
    SPANS_DONE};

static struct script s_deprecate;
static void deprecate(void)
{
    struct script *s = &s_deprecate;
    /* caching_sha2_password: an auth switch, the client's answer, more
     * data (fast auth), then OK */
    greeting(RECV(s), MYSQL_VERSION, BASE_CAPS | DEPRECATE_EOF);
    login(SEND(s), 1, BASE_CAPS | DEPRECATE_EOF, NULL);
    raw_packet(RECV(s), 2, "\xfe" "caching_sha2_password\0" "0123456789abcdefghij\0", 43);
    raw_packet(SEND(s), 3, AUTH_DATA AUTH_DATA, 40);
    struct bytes *auth = RECV(s);
    raw_packet(auth, 4, "\x01\x03", 2);
    ok(auth, 5, 0, AUTOCOMMIT);
    query(SEND(s), "select 1");
    struct bytes *r = RECV(s);
    column_count(r, 1, 1);
    column(r, 2, "1");
    row(r, 3, "1");
    ok_fe(r, 4, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 1);
    query(SEND(s), "SELECT a, b FROM `orders` o");
    r = RECV(s);
    column_count(r, 1, 2);
    column(r, 2, "a");
    column(r, 3, "b");
    /* rows whose first byte looks like an EOF's are rows: long enough */
    raw_packet(r, 4, "\xfe\x01\x00\x00\x00\x00\x00\x00\x00x\x01y", 12);
    row(r, 5, "2");
    ok_fe(r, 6, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 2);
}

static const struct conv_span deprecate_spans[] = {
    SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT, "db.system.name=mysql", "!db.namespace",
         "db.operation.name=SELECT", "db.query.text=select ?"),
    SPAN(CLIENT_SPAN, "SELECT `orders`", false, CONV_ROOT, "db.system.name=mysql", "db.operation.name=SELECT",
         "db.collection.name=`orders`"),
    SPANS_DONE};

static struct script s_prepared;
static void prepared(void)
{
    struct script *s = &s_prepared;
    logged_in(s, MARIADB_VERSION, BASE_CAPS, "shop");
    const char *sql = "SELECT name FROM items WHERE id = ? AND tag = 'x'";
    command(SEND(s), OA_MYSQL_COM_STMT_PREPARE, sql, strlen(sql));
    struct bytes *r = RECV(s);
    raw_packet(r, 1, "\x00\x07\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00", 12); /* id 7, 1 column, 1 parameter */
    column(r, 2, "?");
    eof(r, 3, AUTOCOMMIT);
    column(r, 4, "name");
    eof(r, 5, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 0);
    /* id 7, no cursor, iteration 1, null bitmap, new types: LONGLONG, the value */
    command(SEND(s), OA_MYSQL_COM_STMT_EXECUTE, "\x07\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00\x05\x00\x00\x00\x00\x00\x00\x00", 21);
    r = RECV(s);
    column_count(r, 1, 1);
    column(r, 2, "name");
    eof(r, 3, AUTOCOMMIT);
    raw_packet(r, 4, "\x00\x00\x03pen", 6); /* a binary row */
    eof(r, 5, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 1);
    command(SEND(s), OA_MYSQL_COM_STMT_CLOSE, "\x07\x00\x00\x00", 4);
    /* the statement is gone: an execution of id 7 has no text */
    command(SEND(s), OA_MYSQL_COM_STMT_EXECUTE, "\x07\x00\x00\x00\x00\x01\x00\x00\x00", 9);
    err(RECV(s), 1, 1243, "HY000", "Unknown prepared statement handler");
    query(SEND(s), "DO 1");
    ok(RECV(s), 1, 0, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 3);
    /* a statement the server refuses: its prepare's span shows the error */
    sql = "SELECT * FROM missing WHERE id = ?";
    command(SEND(s), OA_MYSQL_COM_STMT_PREPARE, sql, strlen(sql));
    err(RECV(s), 1, 1146, "42S02", "Table 'shop.missing' doesn't exist");
    mark(s, CONV_FINISHED, 4);
}

static const struct conv_span prepared_spans[] = {
    SPAN(CLIENT_SPAN, "SELECT items", false, CONV_ROOT, "db.system.name=mariadb", "db.namespace=shop",
         "db.operation.name=SELECT", "db.collection.name=items",
         "db.query.text=SELECT name FROM items WHERE id = ? AND tag = ?"),
    SPAN(CLIENT_SPAN, "mariadb", true, CONV_ROOT, "!db.query.text", "!db.operation.name", "db.response.status_code=1243"),
    SPAN(CLIENT_SPAN, "DO", false, CONV_ROOT, "db.query.text=DO ?"),
    SPAN(CLIENT_SPAN, "SELECT missing", true, CONV_ROOT, "db.query.text=SELECT * FROM missing WHERE id = ?",
         "db.response.status_code=1146", "error.type=1146"),
    SPANS_DONE};

static struct script s_multi;
static void multi(void)
{
    struct script *s = &s_multi;
    logged_in(s, MARIADB_VERSION, BASE_CAPS, "shop");
    query(SEND(s), "CALL report(3)");
    struct bytes *r = RECV(s);
    column_count(r, 1, 1);
    column(r, 2, "n");
    eof(r, 3, AUTOCOMMIT);
    row(r, 4, "1");
    eof(r, 5, AUTOCOMMIT | MORE_RESULTS);
    mark(s, CONV_FINISHED, 0); /* more results follow: not ended yet */
    r = RECV(s);
    column_count(r, 6, 1);
    column(r, 7, "m");
    eof(r, 8, AUTOCOMMIT | MORE_RESULTS);
    eof(r, 9, AUTOCOMMIT | MORE_RESULTS); /* an empty result set */
    mark(s, CONV_FINISHED, 0);
    ok(RECV(s), 10, 0, AUTOCOMMIT); /* CALL's own status */
    mark(s, CONV_FINISHED, 1);
    query(SEND(s), "UPDATE t SET a = 1; SELECT 2");
    r = RECV(s);
    ok(r, 1, 3, AUTOCOMMIT | MORE_RESULTS);
    column_count(r, 2, 1);
    column(r, 3, "2");
    eof(r, 4, AUTOCOMMIT);
    row(r, 5, "2");
    eof(r, 6, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 2);
}

static const struct conv_span multi_spans[] = {
    SPAN(CLIENT_SPAN, "CALL", false, CONV_ROOT, "db.operation.name=CALL", "db.query.text=CALL report(?)"),
    SPAN(CLIENT_SPAN, "UPDATE t", false, CONV_ROOT, "db.operation.name=UPDATE"),
    SPANS_DONE};

static struct script s_init_db;
static void init_db(void)
{
    struct script *s = &s_init_db;
    logged_in(s, MYSQL_VERSION, BASE_CAPS, NULL);
    query(SEND(s), "SELECT 1 FROM t");
    err(RECV(s), 1, 1046, "3D000", "No database selected");
    command(SEND(s), OA_MYSQL_COM_INIT_DB, "shop", 4);
    ok(RECV(s), 1, 0, AUTOCOMMIT);
    query(SEND(s), "DELETE FROM t");
    ok(RECV(s), 1, 2, AUTOCOMMIT);
    command(SEND(s), OA_MYSQL_COM_INIT_DB, "nope", 4);
    err(RECV(s), 1, 1049, "42000", "Unknown database 'nope'");
    command(SEND(s), 0x0e, "", 0); /* COM_PING: followed, no span */
    ok(RECV(s), 1, 0, AUTOCOMMIT);
    query(SEND(s), "DELETE FROM t");
    ok(RECV(s), 1, 0, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 5);
}

static const struct conv_span init_db_spans[] = {
    SPAN(CLIENT_SPAN, "SELECT t", true, CONV_ROOT, "!db.namespace", "db.response.status_code=1046"),
    SPAN(CLIENT_SPAN, "USE", false, CONV_ROOT, "db.system.name=mysql", "db.namespace=shop", "db.operation.name=USE",
         "!db.query.text"),
    SPAN(CLIENT_SPAN, "DELETE t", false, CONV_ROOT, "db.namespace=shop"),
    SPAN(CLIENT_SPAN, "USE", true, CONV_ROOT, "db.namespace=nope", "db.response.status_code=1049", "error.type=1049"),
    SPAN(CLIENT_SPAN, "DELETE t", false, CONV_ROOT, "db.namespace=shop"),
    SPANS_DONE};

/* SSLRequest, TLS, the login, an UPDATE (the third send) and its OK */
static void tls_script(struct script *s)
{
    greeting(RECV(s), MARIADB_VERSION, BASE_CAPS | SSL);
    ssl_request(SEND(s), BASE_CAPS);
    mark(s, CONV_TLS, 0);
    login(SEND(s), 2, BASE_CAPS | SSL, "shop");
    ok(RECV(s), 3, 0, AUTOCOMMIT);
    query(SEND(s), "UPDATE t SET a = 'b'");
    ok(RECV(s), 1, 1, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 1);
}

static struct script s_tls;
static void tls(void)
{
    tls_script(&s_tls);
}

static const struct conv_span tls_spans[] = {
    SPAN(CLIENT_SPAN, "UPDATE t", false, CONV_ROOT, "db.system.name=mariadb", "db.namespace=shop",
         "db.query.text=UPDATE t SET a = ?", "server.address=10.0.0.1", "server.port=8080"),
    SPANS_DONE};

static struct script s_compress;
static void compress(void)
{
    struct script *s = &s_compress;
    logged_in(s, MARIADB_VERSION, BASE_CAPS | COMPRESS, "shop");
    /* compressed framing: 3-byte compressed length, sequence, 3-byte
     * uncompressed length (0: not compressed), then a packet */
    struct bytes *q = SEND(s);
    put(q, "\x0d\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x03SELECT 1", 16);
    struct bytes *r = RECV(s);
    put(r, "\x0b\x00\x00\x01\x00\x00\x00\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00", 18);
    mark(s, CONV_FINISHED, 0);
}

static struct script s_infile;
static void infile(void)
{
    struct script *s = &s_infile;
    logged_in(s, MARIADB_VERSION, BASE_CAPS, "shop");
    query(SEND(s), "LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE t");
    raw_packet(RECV(s), 1, "\xfb/tmp/x.csv", 11);
    struct bytes *d = SEND(s);
    raw_packet(d, 2, "1\n2\n", 4);
    raw_packet(d, 3, "", 0);
    mark(s, CONV_FINISHED, 0);
    ok(RECV(s), 4, 2, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 1);
}

static const struct conv_span infile_spans[] = {
    SPAN(CLIENT_SPAN, "LOAD t", false, CONV_ROOT, "db.operation.name=LOAD", "db.collection.name=t"),
    SPANS_DONE};

static struct script s_closed;
static void closed_early(void)
{
    struct script *s = &s_closed;
    logged_in(s, MARIADB_VERSION, BASE_CAPS, "shop");
    query(SEND(s), "SELECT SLEEP(100)");
    struct bytes *r = RECV(s);
    column_count(r, 1, 1);
    mark(s, CONV_EOF, 0);
    mark(s, CONV_FINISHED, 1);
}

static const struct conv_span closed_spans[] = {
    SPAN(CLIENT_SPAN, "SELECT", true, CONV_ROOT, "error.type=connection_closed"),
    SPANS_DONE};

#define CASE(fn, script, spans_, title)                                                            \
    do {                                                                                          \
        fn();                                                                                     \
        struct conversation cv = {.name = (title), .roles = {C}, .steps = done(&(script)),        \
                                  .spans = (spans_), .protocols = mysql_only};                    \
        CONV_CHECK(cv);                                                                           \
    } while (0)

/* ---- sqlcommenter ---- */

/* The comment, 74 bytes on the wire, its space included ({tp:N} stands for
 * the 55 of span N's traceparent in the template). */
#define COMMENT(n) " /*traceparent='{tp:" #n "}'*/"
#define COMMENT_WIRE_LEN 74

/* A COM_QUERY whose text is before, the comment (a template), after; its
 * packet length counts the comment's real size. */
static void commented_query(struct bytes *o, const char *before, const char *comment, const char *after)
{
    size_t payload = 1 + strlen(before) + strlen(after) + COMMENT_WIRE_LEN;
    put1(o, payload & 0xff);
    put1(o, (payload >> 8) & 0xff);
    put1(o, payload >> 16);
    put1(o, 0);
    put1(o, OA_MYSQL_COM_QUERY);
    put(o, before, strlen(before));
    put(o, comment, strlen(comment));
    put(o, after, strlen(after));
}

/* What a script's sends put on the wire, in order, but for the COM_QUERY
 * steps listed in commented (by their index among the sends, -1 ends),
 * whose bytes are taken from instead[] in that order. */
static void wire_of(const struct script *s, const int *commented, const struct bytes *instead, struct bytes *o)
{
    int send = 0, k = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->steps[i].dir != CONV_SEND)
            continue;
        if (commented[k] == send)
            put(o, instead[k].b, instead[k].n), k++;
        else
            put(o, s->data[i].b, s->data[i].n);
        send++;
    }
}

/* Runs a script with sqlcommenter on, each send whole in one call (a
 * COM_QUERY in two sends is a case of its own); wire NULL: the program's
 * bytes. */
static void run_commenting(struct script *s, const struct conv_span *spans, const struct bytes *wire,
                           bool sends_whole, const char *title)
{
    const struct conv_step *steps = done(s);
    for (int i = 0; i < s->n && sends_whole; i++) {
        if (s->steps[i].dir == CONV_SEND) {
            s->steps[i].unsplit = s->steps[i].bytes;
            s->steps[i].unsplit_len = s->steps[i].len;
        }
    }
    struct conversation cv = {.name = title, .roles = {C}, .steps = steps, .spans = spans,
                              .protocols = mysql_only,
                              .wire = {wire != NULL ? (const char *)wire->b : NULL},
                              .wire_len = {wire != NULL ? wire->n : 0}};
    oa_config.db_sqlcommenter = true;
    CONV_CHECK(cv);
    oa_config.db_sqlcommenter = false;
}

static struct script s_commented;
static void commented(void)
{
    struct script *s = &s_commented;
    logged_in(s, MARIADB_VERSION, BASE_CAPS | CONNECT_WITH_DB, "shop");
    query(SEND(s), "SELECT a FROM t WHERE b = 'x;y';");
    ok(RECV(s), 1, 0, AUTOCOMMIT);
    query(SEND(s), "DELETE FROM t\n");
    ok(RECV(s), 1, 1, AUTOCOMMIT);
    /* the text ends the packet: the comment still goes out in the same send */
    query(SEND(s), "SELECT 1");
    ok(RECV(s), 1, 0, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 3);
    struct bytes instead[3] = {{.n = 0}, {.n = 0}, {.n = 0}}, wire = {.n = 0};
    commented_query(&instead[0], "SELECT a FROM t WHERE b = 'x;y'", COMMENT(0), ";");
    commented_query(&instead[1], "DELETE FROM t", COMMENT(1), "\n");
    commented_query(&instead[2], "SELECT 1", COMMENT(2), "");
    static const int which[] = {1, 2, 3, -1};
    wire_of(s, which, instead, &wire);
    static const struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT t", false, CONV_ROOT, "db.query.text=SELECT a FROM t WHERE b = ?;"),
        SPAN(CLIENT_SPAN, "DELETE t", false, CONV_ROOT, "db.query.text=DELETE FROM t"),
        SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT, "db.query.text=SELECT ?"), SPANS_DONE};
    run_commenting(s, spans, &wire, true,
                   "sqlcommenter: each COM_QUERY carries its own span's traceparent, before a trailing ';', "
                   "its packet length patched");
}

static struct script s_not_commented;
static void not_commented(void)
{
    struct script *s = &s_not_commented;
    logged_in(s, MARIADB_VERSION, BASE_CAPS | CONNECT_WITH_DB, "shop");
    static const char *const texts[] = {"SELECT 1 # app", "SELECT 1 -- app", "SELECT 1 /* app */", "SELECT '#'",
                                        "SELECT 'it\\'s", " ; "};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        query(SEND(s), texts[i]);
        ok(RECV(s), 1, 0, AUTOCOMMIT);
    }
    /* a prepared statement's text is not run as sent: never commented */
    command(SEND(s), OA_MYSQL_COM_STMT_PREPARE, "SELECT * FROM nope", 18);
    err(RECV(s), 1, 1146, "42S02", "Table 'shop.nope' doesn't exist");
    mark(s, CONV_FINISHED, 7);
    static const struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT), SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT),
        SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT), SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT),
        SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT), SPAN(CLIENT_SPAN, "mariadb", false, CONV_ROOT),
        SPAN(CLIENT_SPAN, "SELECT nope", true, CONV_ROOT, "error.type=1146"), SPANS_DONE};
    run_commenting(s, spans, NULL, false,
                   "sqlcommenter: a text with a comment ('#', '--', '/*', even in a literal), an open literal, "
                   "only spaces; COM_STMT_PREPARE: untouched");
}

static struct script s_split_query;
static void split_query(void)
{
    /* the packet's length goes out in an earlier send than its end: too
     * late to patch, untouched */
    struct script *s = &s_split_query;
    logged_in(s, MARIADB_VERSION, BASE_CAPS | CONNECT_WITH_DB, "shop");
    struct bytes q = {.n = 0};
    query(&q, "SELECT 1");
    put(SEND(s), q.b, 6);
    put(SEND(s), q.b + 6, q.n - 6);
    ok(RECV(s), 1, 0, AUTOCOMMIT);
    mark(s, CONV_FINISHED, 1);
    static const struct conv_span spans[] = {SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT), SPANS_DONE};
    run_commenting(s, spans, NULL, false, "sqlcommenter: a COM_QUERY in two sends: untouched");
}

static struct script s_tls_commented;
static void tls_commented(void)
{
    struct script *s = &s_tls_commented;
    tls_script(s);
    struct bytes instead[1] = {{.n = 0}}, wire = {.n = 0};
    commented_query(&instead[0], "UPDATE t SET a = 'b'", COMMENT(0), "");
    static const int which[] = {2, -1};
    wire_of(s, which, instead, &wire);
    static const struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "UPDATE t", false, CONV_ROOT, "db.query.text=UPDATE t SET a = ?"), SPANS_DONE};
    run_commenting(s, spans, &wire, true, "sqlcommenter: a COM_QUERY inside TLS is commented in the plaintext");
}

static void detection(void)
{
    struct bytes g = {.n = 0};
    greeting(&g, MARIADB_VERSION, BASE_CAPS);
    bool every_prefix = true;
    for (size_t n = 1; n <= g.n; n++)
        every_prefix &= oa_mysql_could_be_greeting(g.b, n);
    CHECK(every_prefix, "every prefix of a greeting could be one");
    CHECK(!oa_mysql_could_be_greeting((const unsigned char *)"SSH-2.0-OpenSSH_9.2\r\n", 21), "not SSH");
    CHECK(!oa_mysql_could_be_greeting((const unsigned char *)"220 mail ESMTP\r\n", 16), "not SMTP");
    CHECK(!oa_mysql_could_be_greeting((const unsigned char *)"HTTP/1.1 200 OK\r\n", 17), "not HTTP");
    CHECK(!oa_mysql_could_be_greeting((const unsigned char *)"\x4a\x00\x00\x00\x09" "5.0", 8), "not protocol 9");
    CHECK(!oa_mysql_could_be_greeting((const unsigned char *)"\x4a\x00\x00\x01\x0a" "5.0", 8), "not sequence 1");
    CHECK(!oa_mysql_could_be_greeting((const unsigned char *)"\x08\x00\x00\x00\x0a" "5.0.0.0.0", 14),
          "not a version running past the packet");
}

int main(void)
{
    detection();
    CASE(basic, s_basic, basic_spans,
         "MariaDB: login with a database, a result set (EOF), OK, ERR 1146 42S02, COM_QUIT");
    CASE(deprecate, s_deprecate, deprecate_spans, "MySQL 8: auth switch and more data until OK; CLIENT_DEPRECATE_EOF: result sets end with OK (0xFE)");
    CASE(prepared, s_prepared, prepared_spans, "COM_STMT_PREPARE, _EXECUTE (binary rows), _CLOSE; a refused prepare");
    CASE(multi, s_multi, multi_spans, "several result sets (CALL, multi-statements): one span, ended at the last");
    CASE(init_db, s_init_db, init_db_spans, "COM_INIT_DB: its own span; db.namespace of the spans after it");
    CASE(tls, s_tls, tls_spans, "SSLRequest, then the login and commands inside TLS");
    CASE(compress, s_compress, NULL, "CLIENT_COMPRESS: passed through after the login, no spans");
    CASE(infile, s_infile, infile_spans, "LOAD DATA LOCAL INFILE: the file's packets, then OK");
    CASE(closed_early, s_closed, closed_spans, "the server closes mid-reply: the span fails");
    CHECK(!oa_config.db_sqlcommenter, "sqlcommenter is off by default (the cases above: untouched)");
    commented();
    not_commented();
    split_query();
    tls_commented();
    printf("# %ld conversation runs\n", conv_total_runs);
    TEST_DONE();
}
