/* PostgreSQL client connections (src/protocols/postgres/pg_connection.c) as
 * conversations (conversation.h): each case states the messages each way
 * and the spans they must give; the harness plays them whole, split at
 * every byte and against partial writes, through the real wire layer. The
 * client's bytes reach the wire untouched (no injection), but for the
 * sqlcommenter cases (OTELAUTO_DB_SQLCOMMENTER on): a simple Query whole in
 * one send carries its span's traceparent, its length patched. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "conversation.h"
#include "protocols/postgres/pg_connection.h"
#include "protocols/postgres/pg_statements.h"
#include "oa_test.h"

#define C OA_ROLE_CLIENT
#define CLIENT_SPAN OA_SPAN_KIND_CLIENT

/* A string literal with its NULs: its bytes and their count. */
#define S(lit) lit, sizeof(lit) - 1

/* The bytes of one step, built message by message. */
struct wire {
    char b[8192];
    size_t n;
};

static void put32(struct wire *w, uint32_t v)
{
    w->b[w->n++] = (char)(v >> 24);
    w->b[w->n++] = (char)(v >> 16);
    w->b[w->n++] = (char)(v >> 8);
    w->b[w->n++] = (char)v;
}

/* A message: its type (0: untyped), length, body. */
static struct wire *msg(struct wire *w, char type, const char *body, size_t len)
{
    if (type != 0)
        w->b[w->n++] = type;
    put32(w, (uint32_t)len + 4);
    memcpy(w->b + w->n, body, len);
    w->n += len;
    return w;
}

static void reset(struct wire *w)
{
    w->n = 0;
}

#define OUT(w, ...) {.conn = 0, .dir = CONV_SEND, .bytes = (w).b, .len = (w).n, __VA_ARGS__}
#define IN(w) {.conn = 0, .dir = CONV_RECV, .bytes = (w).b, .len = (w).n}

static const struct oa_protocol *const postgres_only[] = {&oa_postgres_protocol, NULL};

/* The startup every case begins with: user alice, database shop, trust
 * authentication; the first 8 bytes are decided on in one call. */
static struct wire startup, startup_ok;

static void build_startup(void)
{
    msg(&startup, 0, S("\0\3\0\0user\0alice\0database\0shop\0application_name\0psql\0\0"));
    msg(&startup_ok, 'R', S("\0\0\0\0"));
    msg(&startup_ok, 'S', S("server_version\0" "15.0\0"));
    msg(&startup_ok, 'K', S("\0\0\0\1\0\0\0\2"));
    msg(&startup_ok, 'Z', S("I"));
}

#define STARTUP_STEPS OUT(startup, .unsplit = startup.b, .unsplit_len = 8), IN(startup_ok)

#define PEER "server.address=10.0.0.1", "server.port=8080"

static void run(const char *name, const struct conv_step *steps, const struct conv_span *spans)
{
    struct conversation cv = {
        .name = name,
        .roles = {C},
        .steps = steps,
        .spans = spans,
        .protocols = postgres_only,
    };
    CONV_CHECK(cv);
}

static void simple_query(void)
{
    struct wire q = {0}, r = {0};
    msg(&q, 'Q', S("SELECT * FROM orders WHERE id = 42 AND note = 'private'\0"));
    msg(&r, 'T', S("\0\1id\0\0\0\0\0\0\1\0\0\0\0\27\0\4\377\377\377\377\0\0"));
    msg(&r, 'D', S("\0\1\0\0\0\00242"));
    msg(&r, 'C', S("SELECT 1\0"));
    msg(&r, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, FINISHED(0), OUT(q), IN(r), FINISHED(1), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT orders", false, CONV_ROOT, "db.system.name=postgresql", "db.namespace=shop",
             "db.operation.name=SELECT", "db.collection.name=orders",
             "db.query.text=SELECT * FROM orders WHERE id = ? AND note = ?", PEER, "!error.type",
             "!db.response.status_code"),
        SPANS_DONE};
    run("startup, then a simple query: one span at ReadyForQuery", steps, spans);
}

static void multi_statement(void)
{
    struct wire q = {0}, r = {0};
    msg(&q, 'Q', S("BEGIN; UPDATE stock SET n = n - 1 WHERE id = 7; COMMIT\0"));
    msg(&r, 'C', S("BEGIN\0"));
    msg(&r, 'C', S("UPDATE 1\0"));
    msg(&r, 'C', S("COMMIT\0"));
    msg(&r, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(q), IN(r), FINISHED(1), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "BEGIN", false, CONV_ROOT, "db.operation.name=BEGIN", "!db.collection.name",
             "db.query.text=BEGIN; UPDATE stock SET n = n - ? WHERE id = ?; COMMIT"),
        SPANS_DONE};
    run("three statements in one Query: one span, named from the first", steps, spans);
}

static void error_42p01(void)
{
    struct wire q = {0}, r = {0}, q2 = {0}, r2 = {0};
    msg(&q, 'Q', S("SELECT * FROM missing\0"));
    msg(&r, 'E', S("SERROR\0VERROR\0C42P01\0Mrelation \"missing\" does not exist\0P15\0\0"));
    msg(&r, 'Z', S("I"));
    msg(&q2, 'Q', S("SELECT 1\0"));
    msg(&r2, 'T', S("\0\1?column?\0\0\0\0\0\0\0\0\0\27\0\4\377\377\377\377\0\0"));
    msg(&r2, 'D', S("\0\1\0\0\0\1" "1"));
    msg(&r2, 'C', S("SELECT 1\0"));
    msg(&r2, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(q), IN(r), FINISHED(1), OUT(q2), IN(r2), FINISHED(2), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT missing", true, CONV_ROOT, "db.response.status_code=42P01", "error.type=42P01",
             "db.collection.name=missing"),
        SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT, "db.query.text=SELECT ?", "!error.type"),
        SPANS_DONE};
    run("an ErrorResponse 42P01: the query's span fails with its SQLSTATE; the next one is fine", steps, spans);
}

static void extended(void)
{
    struct wire a = {0}, ra = {0}, b = {0}, rb = {0}, c = {0}, rc = {0};
    /* named statement s1, unnamed portal */
    msg(&a, 'P', S("s1\0SELECT name FROM users WHERE id = $1\0\0\0"));
    msg(&a, 'B', S("\0s1\0\0\0\0\1\0\0\0\0017\0\0"));
    msg(&a, 'D', S("P\0"));
    msg(&a, 'E', S("\0\0\0\0\0"));
    msg(&a, 'S', S(""));
    msg(&ra, '1', S(""));
    msg(&ra, '2', S(""));
    msg(&ra, 'T', S("\0\1name\0\0\0\0\0\0\0\0\0\31\377\377\377\377\377\377\0\0"));
    msg(&ra, 'D', S("\0\1\0\0\0\3bob"));
    msg(&ra, 'C', S("SELECT 1\0"));
    msg(&ra, 'Z', S("I"));
    /* the unnamed statement, a literal in its text */
    msg(&b, 'P', S("\0INSERT INTO log VALUES ($1, 'x')\0\0\0"));
    msg(&b, 'B', S("\0\0\0\0\0\0\0\0"));
    msg(&b, 'E', S("\0\0\0\0\0"));
    msg(&b, 'S', S(""));
    msg(&rb, '1', S(""));
    msg(&rb, '2', S(""));
    msg(&rb, 'C', S("INSERT 0 1\0"));
    msg(&rb, 'Z', S("I"));
    /* s1 again, bound to a named portal and executed twice (suspended) */
    msg(&c, 'B', S("cur\0s1\0\0\0\0\0\0\0"));
    msg(&c, 'E', S("cur\0\0\0\0\1"));
    msg(&c, 'E', S("cur\0\0\0\0\1"));
    msg(&c, 'C', S("Pcur\0"));
    msg(&c, 'C', S("Ss1\0"));
    msg(&c, 'B', S("\0s1\0\0\0\0\0\0\0"));
    msg(&c, 'E', S("\0\0\0\0\0"));
    msg(&c, 'S', S(""));
    msg(&rc, '2', S(""));
    msg(&rc, 'D', S("\0\1\0\0\0\3bob"));
    msg(&rc, 's', S(""));
    msg(&rc, 'D', S("\0\1\0\0\0\3eve"));
    msg(&rc, 'C', S("SELECT 2\0"));
    msg(&rc, '3', S(""));
    msg(&rc, '3', S(""));
    msg(&rc, 'E', S("SERROR\0VERROR\0C26000\0Mprepared statement \"s1\" does not exist\0\0"));
    msg(&rc, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(a), IN(ra), FINISHED(1), OUT(b), IN(rb), FINISHED(2),
                                OUT(c), IN(rc), FINISHED(5), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT users", false, CONV_ROOT, "db.namespace=shop", "db.operation.name=SELECT",
             "db.collection.name=users", "db.query.text=SELECT name FROM users WHERE id = $1", "!error.type"),
        SPAN(CLIENT_SPAN, "INSERT log", false, CONV_ROOT, "db.operation.name=INSERT", "db.collection.name=log",
             "db.query.text=INSERT INTO log VALUES ($1, ?)"),
        SPAN(CLIENT_SPAN, "SELECT users", false, CONV_ROOT, "db.query.text=SELECT name FROM users WHERE id = $1"),
        SPAN(CLIENT_SPAN, "SELECT users", false, CONV_ROOT, "db.query.text=SELECT name FROM users WHERE id = $1"),
        /* s1 was closed: the Execute of a statement we no longer know */
        SPAN(CLIENT_SPAN, "postgresql", true, CONV_ROOT, "!db.operation.name", "!db.query.text",
             "db.response.status_code=26000", "error.type=26000"),
        SPANS_DONE};
    run("extended query: named and unnamed statements, a named portal suspended, a closed statement", steps, spans);
}

static void pipeline_error(void)
{
    struct wire p = {0}, r = {0}, again = {0}, r2 = {0};
    msg(&p, 'P', S("a\0SELECT v FROM t1 WHERE k = $1\0\0\0"));
    msg(&p, 'B', S("\0a\0\0\0\0\0\0\0"));
    msg(&p, 'E', S("\0\0\0\0\0"));
    msg(&p, 'P', S("b\0SELECT 1/0 FROM t2\0\0\0"));
    msg(&p, 'B', S("\0b\0\0\0\0\0\0\0"));
    msg(&p, 'E', S("\0\0\0\0\0"));
    msg(&p, 'B', S("\0a\0\0\0\0\0\0\0"));
    msg(&p, 'E', S("\0\0\0\0\0"));
    msg(&p, 'S', S(""));
    msg(&r, '1', S(""));
    msg(&r, '2', S(""));
    msg(&r, 'D', S("\0\1\0\0\0\1x"));
    msg(&r, 'C', S("SELECT 1\0"));
    msg(&r, '1', S(""));
    msg(&r, '2', S(""));
    msg(&r, 'E', S("SERROR\0VERROR\0C22012\0Mdivision by zero\0\0"));
    msg(&r, 'Z', S("I"));
    /* after the Sync the connection is usable again */
    msg(&again, 'B', S("\0a\0\0\0\0\0\0\0"));
    msg(&again, 'E', S("\0\0\0\0\0"));
    msg(&again, 'S', S(""));
    msg(&r2, '2', S(""));
    msg(&r2, 'C', S("SELECT 0\0"));
    msg(&r2, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(p), IN(r), FINISHED(3), OUT(again), IN(r2), FINISHED(4), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT t1", false, CONV_ROOT, "!error.type"),
        SPAN(CLIENT_SPAN, "SELECT t2", true, CONV_ROOT, "db.response.status_code=22012", "error.type=22012",
             "db.query.text=SELECT ?/? FROM t2"),
        SPAN(CLIENT_SPAN, "SELECT t1", true, CONV_ROOT, "error.type=pipeline_aborted", "!db.response.status_code"),
        SPAN(CLIENT_SPAN, "SELECT t1", false, CONV_ROOT, "!error.type"),
        SPANS_DONE};
    run("pipeline: an error aborts the Executes before the Sync (ended, Error, pipeline_aborted)", steps, spans);
}

static void parse_error(void)
{
    struct wire p = {0}, r = {0};
    msg(&p, 'P', S("\0SELECT * FROM nowhere\0\0\0"));
    msg(&p, 'B', S("\0\0\0\0\0\0\0\0"));
    msg(&p, 'D', S("P\0"));
    msg(&p, 'E', S("\0\0\0\0\0"));
    msg(&p, 'S', S(""));
    msg(&r, 'E', S("SERROR\0VERROR\0C42P01\0Mrelation \"nowhere\" does not exist\0\0"));
    msg(&r, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(p), IN(r), FINISHED(1), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT nowhere", true, CONV_ROOT, "db.response.status_code=42P01", "error.type=42P01"),
        SPANS_DONE};
    run("extended: the Parse fails (42P01): the Execute after it carries the error", steps, spans);
}

static void copy(void)
{
    struct wire q = {0}, g = {0}, data = {0}, done = {0}, q2 = {0}, r2 = {0};
    msg(&q, 'Q', S("COPY items FROM STDIN\0"));
    msg(&g, 'G', S("\0\0\2\0\0\0\0"));
    msg(&data, 'd', S("1\tsecret row\n"));
    msg(&data, 'd', S("2\tother\n"));
    msg(&data, 'c', S(""));
    msg(&done, 'C', S("COPY 2\0"));
    msg(&done, 'Z', S("I"));
    msg(&q2, 'Q', S("COPY items TO STDOUT\0"));
    msg(&r2, 'H', S("\0\0\2\0\0\0\0"));
    msg(&r2, 'd', S("1\tsecret row\n"));
    msg(&r2, 'd', S("2\tother\n"));
    msg(&r2, 'c', S(""));
    msg(&r2, 'C', S("COPY 2\0"));
    msg(&r2, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(q), IN(g), OUT(data), IN(done), FINISHED(1),
                                OUT(q2), IN(r2), FINISHED(2), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "COPY items", false, CONV_ROOT, "db.query.text=COPY items FROM STDIN"),
        SPAN(CLIENT_SPAN, "COPY items", false, CONV_ROOT, "db.query.text=COPY items TO STDOUT"),
        SPANS_DONE};
    run("COPY in and out: the data is no reply", steps, spans);
}

static void notices(void)
{
    struct wire q = {0}, r = {0}, idle = {0}, q2 = {0}, r2 = {0};
    msg(&q, 'Q', S("LISTEN ch\0"));
    msg(&r, 'C', S("LISTEN\0"));
    msg(&r, 'Z', S("I"));
    /* between queries: a notification, a parameter change */
    msg(&idle, 'A', S("\0\0\0\7ch\0payload\0"));
    msg(&idle, 'S', S("TimeZone\0UTC\0"));
    msg(&q2, 'Q', S("DROP TABLE IF EXISTS gone\0"));
    msg(&r2, 'N', S("SNOTICE\0VNOTICE\0C00000\0Mtable \"gone\" does not exist, skipping\0\0"));
    msg(&r2, 'A', S("\0\0\0\7ch\0more\0"));
    msg(&r2, 'C', S("DROP TABLE\0"));
    msg(&r2, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(q), IN(r), FINISHED(1), IN(idle), OUT(q2), IN(r2), FINISHED(2),
                                CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "LISTEN", false, CONV_ROOT, "db.query.text=LISTEN ch"),
        SPAN(CLIENT_SPAN, "DROP gone", false, CONV_ROOT, "!error.type", "!db.response.status_code"),
        SPANS_DONE};
    run("notices, notifications and parameter changes are no replies", steps, spans);
}

static void ssl_refused(void)
{
    struct wire req = {0}, no = {0}, q = {0}, r = {0};
    msg(&req, 0, S("\x04\xd2\x16\x2f"));
    no.b[no.n++] = 'N';
    msg(&q, 'Q', S("SELECT 1\0"));
    msg(&r, 'C', S("SELECT 1\0"));
    msg(&r, 'Z', S("I"));
    struct conv_step steps[] = {OUT(req, .unsplit = req.b, .unsplit_len = 8), IN(no), OUT(startup), IN(startup_ok),
                                OUT(q), IN(r), FINISHED(1), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT, "db.namespace=shop"),
        SPANS_DONE};
    run("SSLRequest answered N: the StartupMessage follows in the clear", steps, spans);

    /* the same with the N and the server's first messages in one read */
    struct wire no_ok = {0};
    no_ok.b[no_ok.n++] = 'N';
    memcpy(no_ok.b + no_ok.n, startup_ok.b, startup_ok.n);
    no_ok.n += startup_ok.n;
    struct conv_step steps2[] = {OUT(req, .unsplit = req.b, .unsplit_len = 8), OUT(startup), IN(no_ok), OUT(q), IN(r), FINISHED(1), CONV_DONE};
    run("SSLRequest answered N, the StartupMessage sent before reading the answer", steps2, spans);
}

static void ssl_accepted(void)
{
    struct wire req = {0}, yes = {0};
    msg(&req, 0, S("\x04\xd2\x16\x2f"));
    yes.b[yes.n++] = 'S';
    /* what follows is TLS (a ClientHello's first bytes): not parsed */
    static const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    static const char server_hello[] = "\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03";
    struct conv_step steps[] = {OUT(req, .unsplit = req.b, .unsplit_len = 8), IN(yes),
                                {.conn = 0, .dir = CONV_SEND, .bytes = hello, .len = sizeof hello - 1},
                                {.conn = 0, .dir = CONV_RECV, .bytes = server_hello, .len = sizeof server_hello - 1},
                                CLOSES(0), CONV_DONE};
    struct conv_span spans[] = {SPANS_DONE};
    run("SSLRequest answered S: the socket carries TLS, left alone", steps, spans);
}

static void auth_failure(void)
{
    struct wire ask = {0}, pw = {0}, fail = {0};
    msg(&ask, 'R', S("\0\0\0\3"));
    msg(&pw, 'p', S("hunter2\0"));
    msg(&fail, 'E', S("SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user \"alice\"\0\0"));
    struct conv_step steps[] = {OUT(startup, .unsplit = startup.b, .unsplit_len = 8), IN(ask), OUT(pw), IN(fail),
                                 PEER_CLOSES(0), CLOSES(0), FINISHED(0), CONV_DONE};
    struct conv_span spans[] = {SPANS_DONE};
    run("a failed password authentication: no span, the password never read", steps, spans);
}

static void secret_statement(void)
{
    struct wire q = {0}, r = {0};
    msg(&q, 'Q', S("ALTER ROLE bob PASSWORD 'hunter2'\0"));
    msg(&r, 'C', S("ALTER ROLE\0"));
    msg(&r, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(q), IN(r), FINISHED(1), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "ALTER", false, CONV_ROOT, "db.operation.name=ALTER", "!db.query.text",
             "!db.collection.name"),
        SPANS_DONE};
    run("a password-setting statement: its operation only, never its text", steps, spans);
}

static void closed_waiting(void)
{
    struct wire q = {0}, part = {0};
    msg(&q, 'Q', S("SELECT pg_sleep(10)\0"));
    msg(&part, 'T', S("\0\1pg_sleep\0\0\0\0\0\0\0\0\10\346\0\4\377\377\377\377\0\0"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(q), IN(part), PEER_CLOSES(0), FINISHED(1), CLOSES(0), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT", true, CONV_ROOT, "error.type=connection_closed"),
        SPANS_DONE};
    run("the server closes while a query waits: its span fails (connection_closed)", steps, spans);
}

static void long_query(void)
{
    static struct wire q, r;
    reset(&q);
    reset(&r);
    char text[3100];
    size_t n = (size_t)snprintf(text, sizeof text, "SELECT * FROM big WHERE a IN (");
    while (n < 3000)
        n += (size_t)snprintf(text + n, sizeof text - n, "'v%zu', ", n);
    n += (size_t)snprintf(text + n, sizeof text - n, "'last')");
    text[n++] = '\0';
    msg(&q, 'Q', text, n);
    msg(&r, 'C', S("SELECT 0\0"));
    msg(&r, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(q), IN(r), FINISHED(1), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT big", false, CONV_ROOT, "db.collection.name=big"),
        SPANS_DONE};
    run("a Query longer than what is kept: skipped by counting, its span from the kept part", steps, spans);
}

static void garbage(void)
{
    struct wire q = {0}, r = {0}, bad = {0};
    msg(&q, 'Q', S("SELECT 1\0"));
    msg(&r, 'C', S("SELECT 1\0"));
    msg(&r, 'Z', S("I"));
    msg(&bad, 'Q', S("SELECT 2\0"));
    msg(&bad, '!', S("??"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(q), IN(r), FINISHED(1), OUT(bad), CLOSES(0), CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT, "db.query.text=SELECT ?"),
        SPANS_DONE};
    run("an unknown message type: given up, nothing guessed (the pending query dropped)", steps, spans);
}

/* A CancelRequest's connection, and bytes that are no PostgreSQL. */
static void not_postgres(void)
{
    struct wire cancel = {0};
    msg(&cancel, 0, S("\x04\xd2\x16\x2e\0\0\0\1\0\0\0\2"));
    struct conv_step steps[] = {OUT(cancel), CLOSES(0), CONV_DONE};
    struct conv_span spans[] = {SPANS_DONE};
    run("a CancelRequest: passed through", steps, spans);
}

/* ---- sqlcommenter ---- */

/* The comment, 74 bytes on the wire (its space included) ({tp:N} stands for the 55 of span N's
 * traceparent in the template). */
#define COMMENT(n) " /*traceparent='{tp:" #n "}'*/"
#define COMMENT_WIRE_LEN 74

/* Appends to w a Query whose text is before, the comment (a template),
 * after; its length counts the comment's real size. */
static void expect_commented(struct wire *w, const char *before, const char *comment, const char *after)
{
    size_t text = strlen(before) + strlen(after) + 1;
    w->b[w->n++] = 'Q';
    put32(w, (uint32_t)(4 + text + COMMENT_WIRE_LEN));
    memcpy(w->b + w->n, before, strlen(before));
    w->n += strlen(before);
    memcpy(w->b + w->n, comment, strlen(comment));
    w->n += strlen(comment);
    memcpy(w->b + w->n, after, strlen(after) + 1);
    w->n += strlen(after) + 1;
}

static void put(struct wire *w, const struct wire *from)
{
    memcpy(w->b + w->n, from->b, from->n);
    w->n += from->n;
}

/* Runs with sqlcommenter on: what must reach the wire (NULL: the
 * program's bytes). */
static void run_commenting(const char *name, const struct conv_step *steps, const struct conv_span *spans,
                           const struct wire *wire)
{
    struct conversation cv = {
        .name = name,
        .roles = {C},
        .steps = steps,
        .spans = spans,
        .protocols = postgres_only,
        .wire = {wire != NULL ? wire->b : NULL},
        .wire_len = {wire != NULL ? wire->n : 0},
    };
    oa_config.db_sqlcommenter = true;
    CONV_CHECK(cv);
    oa_config.db_sqlcommenter = false;
}

/* A send whose split points inside are not tried: the Query is whole in
 * one send (in two, it is a case of its own). */
#define OUT_WHOLE(w) OUT(w, .unsplit = (w).b, .unsplit_len = (w).n)

static void commented(void)
{
    struct wire q = {0}, r = {0}, q2 = {0}, r2 = {0}, wire = {0};
    msg(&q, 'Q', S("SELECT * FROM orders WHERE note = 'a;b' ;\0"));
    msg(&r, 'C', S("SELECT 0\0"));
    msg(&r, 'Z', S("I"));
    msg(&q2, 'Q', S("BEGIN; UPDATE stock SET n = n - 1; COMMIT\n\0"));
    msg(&r2, 'C', S("BEGIN\0"));
    msg(&r2, 'C', S("UPDATE 1\0"));
    msg(&r2, 'C', S("COMMIT\0"));
    msg(&r2, 'Z', S("I"));
    put(&wire, &startup);
    expect_commented(&wire, "SELECT * FROM orders WHERE note = 'a;b'", COMMENT(0), " ;");
    expect_commented(&wire, "BEGIN; UPDATE stock SET n = n - 1; COMMIT", COMMENT(1), "\n");
    struct conv_step steps[] = {STARTUP_STEPS, OUT_WHOLE(q), IN(r), FINISHED(1), OUT_WHOLE(q2), IN(r2), FINISHED(2),
                                CONV_DONE};
    struct conv_span spans[] = {
        SPAN(CLIENT_SPAN, "SELECT orders", false, CONV_ROOT, "db.query.text=SELECT * FROM orders WHERE note = ? ;"),
        SPAN(CLIENT_SPAN, "BEGIN", false, CONV_ROOT, "db.query.text=BEGIN; UPDATE stock SET n = n - ?; COMMIT"),
        SPANS_DONE};
    run_commenting("sqlcommenter: each Query carries its own span's traceparent, before a trailing ';', "
                   "its length patched",
                   steps, spans, &wire);
}

static void commented_pipelined(void)
{
    /* more Queries in one send than the splice holds comments for (a
     * length and an insertion each): those beyond go untouched */
    enum { COMMENTED = OA_SPLICE_INLINE / 2, QUERIES = COMMENTED + 1 };
    _Static_assert(QUERIES <= CONV_MAX_SPANS, "a span per Query");
    static const char *const comments[] = {COMMENT(0), COMMENT(1), COMMENT(2),  COMMENT(3),  COMMENT(4),  COMMENT(5),
                                           COMMENT(6), COMMENT(7), COMMENT(8),  COMMENT(9),  COMMENT(10), COMMENT(11),
                                           COMMENT(12), COMMENT(13), COMMENT(14), COMMENT(15)};
    _Static_assert(COMMENTED <= sizeof comments / sizeof comments[0], "a comment template per commented Query");
    struct wire q = {0}, r = {0}, wire = {0};
    char text[QUERIES][16];
    for (unsigned i = 0; i < QUERIES; i++) {
        snprintf(text[i], sizeof text[i], "SELECT %u", (i + 1) % 100);
        msg(&q, 'Q', text[i], strlen(text[i]) + 1);
        msg(&r, 'C', S("SELECT 1\0"));
        msg(&r, 'Z', S("I"));
    }
    put(&wire, &startup);
    for (int i = 0; i < COMMENTED; i++)
        expect_commented(&wire, text[i], comments[i], "");
    msg(&wire, 'Q', text[COMMENTED], strlen(text[COMMENTED]) + 1);
    struct conv_step steps[] = {STARTUP_STEPS, OUT_WHOLE(q), IN(r), FINISHED(QUERIES), CONV_DONE};
    struct conv_span spans[QUERIES + 1];
    for (int i = 0; i < QUERIES; i++)
        spans[i] = (struct conv_span)SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT, "db.query.text=SELECT ?");
    spans[QUERIES] = (struct conv_span)SPANS_DONE;
    run_commenting("sqlcommenter: more Queries in one send than comments the splice holds", steps, spans, &wire);
}

static void not_commented(void)
{
    /* texts that already hold a comment (or could start one), only spaces,
     * an unterminated literal; then a Parse, Bind, Execute, Sync */
    static const char *const texts[] = {
        "SELECT 1 /* app */", "SELECT 1 -- app", "SELECT '--'", "SELECT '/*'", "  ;  ", "SELECT 'open",
    };
    struct wire q = {0}, r = {0}, p = {0}, pr = {0};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        msg(&q, 'Q', texts[i], strlen(texts[i]) + 1);
        msg(&r, 'C', S("SELECT 1\0"));
        msg(&r, 'Z', S("I"));
    }
    msg(&p, 'P', S("\0SELECT 1\0\0\0"));
    msg(&p, 'B', S("\0\0\0\0\0\0\0\0"));
    msg(&p, 'E', S("\0\0\0\0\0"));
    msg(&p, 'S', S(""));
    msg(&pr, '1', S(""));
    msg(&pr, '2', S(""));
    msg(&pr, 'C', S("SELECT 1\0"));
    msg(&pr, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(q), IN(r), FINISHED(6), OUT(p), IN(pr), FINISHED(7), CONV_DONE};
    struct conv_span spans[] = {SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT),
                                SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT),
                                SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT),
                                SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT),
                                SPAN(CLIENT_SPAN, "postgresql", false, CONV_ROOT),
                                SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT),
                                SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT, "db.query.text=SELECT ?"),
                                SPANS_DONE};
    run_commenting("sqlcommenter: a text with a comment (or '--', '/*' in a literal), only spaces, an open "
                   "literal; a prepared statement: untouched",
                   steps, spans, NULL);
}

static void commented_split_query(void)
{
    /* the Query's first bytes (its length) go out in an earlier send than
     * its end: too late to patch the length, untouched */
    struct wire q = {0}, r = {0}, head = {0}, rest = {0};
    msg(&q, 'Q', S("SELECT 1\0"));
    memcpy(head.b, q.b, 7);
    head.n = 7;
    memcpy(rest.b, q.b + 7, q.n - 7);
    rest.n = q.n - 7;
    msg(&r, 'C', S("SELECT 1\0"));
    msg(&r, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(head), OUT(rest), IN(r), FINISHED(1), CONV_DONE};
    struct conv_span spans[] = {SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT), SPANS_DONE};
    run_commenting("sqlcommenter: a Query in two sends: untouched", steps, spans, NULL);
}

static void not_commented_by_default(void)
{
    struct wire q = {0}, r = {0};
    msg(&q, 'Q', S("SELECT * FROM orders\0"));
    msg(&r, 'C', S("SELECT 0\0"));
    msg(&r, 'Z', S("I"));
    struct conv_step steps[] = {STARTUP_STEPS, OUT(q), IN(r), FINISHED(1), CONV_DONE};
    struct conv_span spans[] = {SPAN(CLIENT_SPAN, "SELECT orders", false, CONV_ROOT), SPANS_DONE};
    CHECK(!oa_config.db_sqlcommenter, "sqlcommenter is off by default");
    run("sqlcommenter off (the default): a Query goes out untouched", steps, spans);
}

/* A prepared statement's metric memo (its Executes' series, found once):
 * kept by Bind and Execute, forgotten whenever its slot gets another
 * statement (the same name parsed again, another name in its place), so
 * that no Execute of the new statement records into the old one's series
 * and an operation begun before sees the change (the epoch). */
static void statement_memo(void)
{
    struct oa_pg_statements s;
    oa_pg_statements_init(&s);
    struct oa_series *series = (struct oa_series *)(void *)&s; /* any series: only compared */
    struct oa_pg_statement *st = oa_pg_statement_define(&s, "q1", 2);
    CHECK(st != NULL && st->memo.success == NULL, "memo: none for a new statement");
    st->memo.success = series;
    uint32_t epoch = st->memo.epoch;
    oa_pg_portal_bind(&s, "", 0, "q1", 2);
    CHECK(oa_pg_portal_statement(&s, "", 0) == st && st->memo.success == series && st->memo.epoch == epoch,
          "memo: Bind and Execute keep it");
    CHECK(oa_pg_statement_define(&s, "q1", 2) == st && st->memo.success == NULL && st->memo.epoch != epoch,
          "memo: the name parsed again forgets it");

    /* every named slot taken: the least recently used one (q1, after the
     * unnamed statement) takes the next name */
    st->memo.success = series;
    epoch = st->memo.epoch;
    char name[8];
    for (int i = 2; i < OA_PG_STATEMENTS; i++) {
        int n = snprintf(name, sizeof name, "q%d", i);
        oa_pg_statement_define(&s, name, (size_t)n);
    }
    CHECK(st->memo.success == series, "memo: other statements leave it");
    struct oa_pg_statement *evicted = oa_pg_statement_define(&s, "new", 3);
    CHECK(evicted == st && st->memo.success == NULL && st->memo.epoch != epoch,
          "memo: another statement in its slot forgets it");
}

int main(void)
{
    build_startup();
    simple_query();
    multi_statement();
    error_42p01();
    extended();
    pipeline_error();
    parse_error();
    copy();
    notices();
    ssl_refused();
    ssl_accepted();
    auth_failure();
    secret_statement();
    closed_waiting();
    long_query();
    garbage();
    not_postgres();
    not_commented_by_default();
    commented();
    commented_pipelined();
    not_commented();
    commented_split_query();
    statement_memo();
    printf("# %ld runs\n", conv_total_runs);
    TEST_DONE();
}
