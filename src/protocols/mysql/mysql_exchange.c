/* MySQL / MariaDB client connections: the parser's events become database
 * CLIENT spans (see mysql_exchange.h).
 *
 * Traced: COM_QUERY and COM_STMT_EXECUTE (with the text its COM_STMT_PREPARE
 * carried), a COM_STMT_PREPARE the server refuses, and COM_INIT_DB (`USE
 * db`, which also changes db.namespace for the spans after it). Other commands (PING, STMT_RESET, ...) are followed,
 * so that their replies are told apart, but make no span. With
 * OTELAUTO_DB_SQLCOMMENTER on, a COM_QUERY carries its span's traceparent
 * in a sqlcommenter comment (sql_comment.h). */
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "base/pool.h"
#include "config/config.h"
#include "protocols/db/db_operation.h"
#include "protocols/db/sql_comment.h"
#include "protocols/db/sql_text.h"
#include "protocols/mysql/mysql_exchange.h"
#include "protocols/mysql/mysql_parser.h"
#include "protocols/mysql/mysql_statements.h"

/* a power of two (struct oa_pending_fifo), as many as the parser follows */
#define MYSQL_MAX_OPS OA_MYSQL_MAX_INFLIGHT
_Static_assert((MYSQL_MAX_OPS & (MYSQL_MAX_OPS - 1)) == 0, "a FIFO's capacity is a power of two");

/* db.namespace bound (bytes): database names are at most 64 characters */
#define MYSQL_NAMESPACE_MAX 192

struct mysql_exchange {
    struct oa_proto_conn base;      /* first: what the wire layer reads */
    struct oa_mysql_parser parser;
    enum oa_db_system system;
    uint64_t command_start;         /* unix ns of the current command's first byte */
    uint16_t namespace_len;
    uint16_t next_namespace_len;    /* of the COM_INIT_DB in flight */
    char namespace_[MYSQL_NAMESPACE_MAX];
    char next_namespace[MYSQL_NAMESPACE_MAX];
    struct oa_db_op ops[MYSQL_MAX_OPS]; /* the slots of `pending` */
    struct oa_pending_fifo pending;     /* the traced commands in flight */
    struct oa_mysql_statements statements;
};

/* From a lock-free pool, not malloc: a connection's first bytes may be read
 * in a signal handler that interrupted malloc (see http_exchange.c). */
static struct oa_pool exchange_pool = OA_POOL_INIT(sizeof(struct mysql_exchange), 8, 512);

static inline struct mysql_exchange *exchange_of(struct oa_conn *c)
{
    return (struct mysql_exchange *)c->proto;
}

_Static_assert(sizeof(struct oa_db_op) <= OA_PENDING_ENTRY_MAX, "the crash capture copies an entry whole");

static struct mysql_exchange *exchange_new(void)
{
    struct mysql_exchange *x = oa_pool_get(&exchange_pool);
    if (x == NULL)
        return NULL;
    memset(&x->base, 0, sizeof(x->base));
    oa_mysql_parser_init(&x->parser);
    x->system = OA_DB_MYSQL;
    x->command_start = 0;
    x->namespace_len = 0;
    x->next_namespace_len = 0;
    oa_pending_fifo_init(&x->pending, x->ops, sizeof(x->ops[0]), MYSQL_MAX_OPS);
    oa_mysql_statements_init(&x->statements);
    return x;
}

static struct oa_proto_conn *exchange_open(enum oa_conn_role role)
{
    (void)role;
    struct mysql_exchange *x = exchange_new();
    return x != NULL ? &x->base : NULL;
}

/* ---- the parser's events ---- */

struct feed_ctx {
    struct oa_conn *c;
    struct mysql_exchange *x;
};

static void on_greeting(void *ctx, const char *version, size_t len)
{
    struct mysql_exchange *x = ((struct feed_ctx *)ctx)->x;
    /* MariaDB says so in its version ("5.5.5-10.11.6-MariaDB-...") */
    x->system = memmem(version, len, "MariaDB", 7) != NULL ? OA_DB_MARIADB : OA_DB_MYSQL;
}

static void set_namespace(char *to, uint16_t *to_len, const char *db, size_t len)
{
    if (db == NULL || len > MYSQL_NAMESPACE_MAX)
        len = 0; /* a cut name is a wrong name */
    if (len > 0)
        memcpy(to, db, len);
    *to_len = (uint16_t)len;
}

static void on_handshake(void *ctx, const char *db, size_t len)
{
    struct mysql_exchange *x = ((struct feed_ctx *)ctx)->x;
    set_namespace(x->namespace_, &x->namespace_len, db, len);
}

/* The SQL text of a COM_QUERY body: after the query attributes when the
 * connection negotiated them (only an empty set is stepped over). */
static bool query_text(const struct mysql_exchange *x, const unsigned char *body, size_t len, const char **sql,
                       size_t *sql_len)
{
    if (x->parser.caps & OA_MYSQL_CLIENT_QUERY_ATTRIBUTES) {
        /* parameter_count, parameter_set_count (both length-encoded, 1 byte when small) */
        if (len < 2 || body[0] != 0)
            return false;
        body += 2;
        len -= 2;
    }
    *sql = (const char *)body;
    *sql_len = len;
    return true;
}

/* Begins the span of a traced command (its span context into *own unless
 * own is NULL); false when no slot is left. text is sanitized, or the
 * statement as sent when unsanitized (sanitized where the span is built). */
static bool begin_in(struct feed_ctx *f, const char *namespace_, size_t namespace_len, const char *operation,
                     size_t operation_len, const char *collection, size_t collection_len, const char *text,
                     size_t text_len, bool unsanitized, struct oa_span_context *own)
{
    struct mysql_exchange *x = f->x;
    struct oa_db_op *op =
        (struct oa_db_op *)oa_pending_fifo_push_in(&x->pending, x->ops, sizeof(x->ops[0]), x->command_start);
    if (op == NULL)
        return false;
    /* unknown: empty rather than NULL (the metric key copies them) */
    struct oa_db_request r = {
        .system = x->system,
        .namespace_ = namespace_,
        .namespace_len = namespace_len,
        .operation = operation != NULL ? operation : "",
        .operation_len = operation_len,
        .collection = collection != NULL ? collection : "",
        .collection_len = collection_len,
        .query_text = text,
        .query_text_len = text_len,
        .query_unsanitized = unsanitized,
        .query_dialect = OA_SQL_MYSQL,
    };
    if (own != NULL)
        oa_db_op_begin_context(op, f->c, &r, x->command_start, own);
    else
        oa_db_op_begin(op, f->c, &r, x->command_start);
    return true;
}

/* The same in the connection's current database. */
static bool begin(struct feed_ctx *f, const char *operation, size_t operation_len, const char *collection,
                  size_t collection_len, const char *text, size_t text_len)
{
    return begin_in(f, f->x->namespace_, f->x->namespace_len, operation, operation_len, collection, collection_len,
                    text, text_len, false, NULL);
}

/* A single packet's payload is below this (0xFFFFFF: continued in the next) */
#define MYSQL_PACKET_MAX 0xFFFFFFu

/* sqlcommenter: the comment of span context own goes into the COM_QUERY
 * just parsed (its body[0..len) after the command byte, all of it kept;
 * its text sql[0..sql_len) within), and the packet's length counts it. Only
 * when the whole packet is still to be sent (the length must change before
 * its bytes leave), it stays one packet, the text is one we may comment
 * (sql_comment.h), and the splice has room for both changes. */
static void comment_query(struct mysql_exchange *x, const unsigned char *body, size_t len, const char *sql,
                          size_t sql_len, const struct oa_span_context *own)
{
    struct oa_splice *sp = &x->base.out;
    size_t payload = 1 + len;
    uint64_t start = x->parser.out.offset - 4 - payload; /* the packet's header */
    uint64_t text_at = start + 5 + (uint64_t)(sql - (const char *)body);
    size_t at;
    if (start < sp->sent || payload + OA_SQL_COMMENT_LEN >= MYSQL_PACKET_MAX ||
        !oa_sql_comment_place(sql, sql_len, OA_SQL_MYSQL, &at))
        return;
    /* At the text's very end (nothing after it in the packet), an insertion
     * would follow the program's last byte, and go out only with its next
     * send: its last byte moves into the insertion, and the comment's last
     * takes its place. */
    bool at_end = at == sql_len;
    if (sp->count + (at_end ? 3 : 2) > oa_splice_capacity(sp))
        return;
    uint32_t n = (uint32_t)(payload + OA_SQL_COMMENT_LEN);
    char le[3] = {(char)n, (char)(n >> 8), (char)(n >> 16)};
    char comment[1 + OA_SQL_COMMENT_LEN];
    comment[0] = at_end ? sql[sql_len - 1] : ' ';
    oa_sql_comment_format(own, comment + 1);
    if (!oa_splice_replace(sp, start, le, sizeof le))
        return;
    /* cannot fail: room was checked and the comment fits a splice's inline buffer */
    bool queued = at_end ? oa_splice_insert(sp, text_at + at - 1, comment, OA_SQL_COMMENT_LEN)
                         : oa_splice_insert(sp, text_at + at, comment + 1, OA_SQL_COMMENT_LEN);
    if (queued)
        oa_splice_bind_last(sp);
    if (queued && at_end) {
        queued = oa_splice_replace(sp, text_at + at - 1, comment + OA_SQL_COMMENT_LEN, 1);
        if (queued)
            oa_splice_bind_last(sp);
    }
    if (!queued)
        oa_splice_drop_unsent(sp);
}

/* Summary and sanitized text of sql into s and out (cap bytes). */
static size_t summarize(const char *sql, size_t len, struct oa_sql_summary *s, char *out, size_t cap)
{
    oa_sql_summarize(sql, len, OA_SQL_MYSQL, s);
    if (!oa_config.db_query_text)
        return 0;
    return oa_sql_sanitize(sql, len, OA_SQL_MYSQL, out, cap);
}

static inline uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static bool on_command(void *ctx, uint8_t command, const unsigned char *body, size_t len, bool cut)
{
    /* cut text is safe to sanitize (sql_text.h); only whole text is commented */
    struct feed_ctx *f = ctx;
    struct mysql_exchange *x = f->x;
    const char *sql;
    size_t sql_len;
    struct oa_sql_summary s;
    switch (command) {
    case OA_MYSQL_COM_QUERY: {
        if (!query_text(x, body, len, &sql, &sql_len))
            return begin(f, NULL, 0, NULL, 0, NULL, 0);
        /* sanitized where the span is built (the exporter thread), not here */
        oa_sql_summarize(sql, sql_len, OA_SQL_MYSQL, &s);
        size_t n = oa_config.db_query_text && !s.secret ? sql_len : 0;
        struct oa_span_context own;
        if (!begin_in(f, x->namespace_, x->namespace_len, s.operation, s.operation_len, s.collection,
                      s.collection_len, sql, n, true, &own))
            return false;
        if (oa_config.db_sqlcommenter && !cut)
            comment_query(x, body, len, sql, sql_len, &own);
        return true;
    }
    case OA_MYSQL_COM_STMT_PREPARE: {
        struct oa_mysql_statement *st = oa_mysql_statements_prepare(&x->statements);
        st->text_len = (uint16_t)summarize((const char *)body, len, &st->summary, st->text, sizeof(st->text));
        /* a span in case the statement is refused (it shows the error);
         * one the server accepts is dropped: its executions have spans */
        return begin(f, st->summary.operation, st->summary.operation_len, st->summary.collection,
                     st->summary.collection_len, st->text, st->text_len);
    }
    case OA_MYSQL_COM_STMT_EXECUTE: {
        if (len < 4)
            return false;
        struct oa_mysql_statement *st = oa_mysql_statements_find(&x->statements, le32(body));
        if (st == NULL)
            return begin(f, NULL, 0, NULL, 0, NULL, 0);
        return begin(f, st->summary.operation, st->summary.operation_len, st->summary.collection,
                     st->summary.collection_len, st->text, st->text_len);
    }
    case OA_MYSQL_COM_STMT_CLOSE:
        if (len >= 4)
            oa_mysql_statements_close(&x->statements, le32(body));
        return false;
    case OA_MYSQL_COM_INIT_DB:
        set_namespace(x->next_namespace, &x->next_namespace_len, (const char *)body, cut ? 0 : len);
        /* the span names the database it switches to */
        return begin_in(f, x->next_namespace, x->next_namespace_len, "USE", 3, NULL, 0, NULL, 0, false, NULL);
    default:
        return false;
    }
}

static void on_reply(void *ctx, const struct oa_mysql_reply *r)
{
    struct mysql_exchange *x = ((struct feed_ctx *)ctx)->x;
    if (r->command == OA_MYSQL_COM_STMT_PREPARE)
        oa_mysql_statements_answered(&x->statements, !r->error, r->statement_id);
    if (r->command == OA_MYSQL_COM_INIT_DB && !r->error)
        set_namespace(x->namespace_, &x->namespace_len, x->next_namespace, x->next_namespace_len);
    if (!r->traced || x->pending.count == 0)
        return;
    struct oa_db_op *op = (struct oa_db_op *)oa_pending_fifo_at_in(&x->pending, x->ops, sizeof(x->ops[0]), 0);
    if (r->command == OA_MYSQL_COM_STMT_PREPARE && !r->error) {
        oa_pending_drop(&op->p, &oa_db_op_pending_ops);
        oa_pending_fifo_pop(&x->pending);
        return;
    }
    if (r->error) {
        /* the conventions' db.response.status_code for MySQL: the error number */
        char code[8];
        int n = snprintf(code, sizeof(code), "%u", (unsigned)r->error_code);
        oa_db_op_fail(op, code, (size_t)n);
    }
    oa_db_op_finish_at(op, oa_now_unix_nano());
    oa_pending_fifo_pop(&x->pending);
}

static const struct oa_mysql_events events = {
    .greeting = on_greeting,
    .handshake = on_handshake,
    .command = on_command,
    .reply = on_reply,
};

/* ---- the protocol interface ---- */

static void exchange_outgoing(struct oa_conn *c, const struct iovec *iov, int iovcnt)
{
    struct mysql_exchange *x = exchange_of(c);
    /* a write the kernel took in part is offered again from its start: the
     * bytes parsed already are skipped (nothing is spliced: parsed == sent
     * once a call completes) */
    uint64_t skip = x->base.out.parsed - x->base.out.sent;
    struct feed_ctx f = {c, x};
    for (int i = 0; i < iovcnt; i++) {
        size_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        const unsigned char *p = (const unsigned char *)iov[i].iov_base + skip;
        len -= (size_t)skip;
        skip = 0;
        if (oa_mysql_client_at_boundary(&x->parser))
            x->command_start = oa_now_unix_nano();
        x->base.out.parsed += len;
        if (!oa_mysql_parse_client(&x->parser, p, len, &events, &f)) {
            oa_protocol_give_up(c);
            return;
        }
    }
}

static void exchange_incoming(struct oa_conn *c, const char *b, size_t n)
{
    struct mysql_exchange *x = exchange_of(c);
    struct feed_ctx f = {c, x};
    if (!oa_mysql_parse_server(&x->parser, (const unsigned char *)b, n, &events, &f))
        oa_protocol_give_up(c);
}

/* sendfile: bytes of a command went by unseen */
static void exchange_skipped(struct oa_conn *c, size_t n)
{
    (void)n;
    oa_protocol_give_up(c);
}

/* Commands still waiting for their reply failed. */
static void replies_ended(struct mysql_exchange *x, int err)
{
    if (x->pending.count > 0)
        oa_pending_fifo_finish_all(&x->pending, &oa_db_op_pending_ops, oa_pending_error_type(err), x);
}

static void exchange_eof(struct oa_conn *c)
{
    struct mysql_exchange *x = exchange_of(c);
    replies_ended(x, x->base.io_error);
}

static void exchange_end(struct oa_conn *c, int err)
{
    replies_ended(exchange_of(c), err);
}

static void exchange_give_up(struct oa_conn *c)
{
    oa_pending_fifo_drop_all(&exchange_of(c)->pending, &oa_db_op_pending_ops);
}

static void exchange_crash(const struct oa_proto_conn *p, const struct oa_crash_walk *w)
{
    const struct mysql_exchange *x = (const struct mysql_exchange *)p;
    oa_db_op_crash_walk(&x->pending, x->ops, sizeof(x->ops[0]), MYSQL_MAX_OPS, w);
}

static void exchange_disown(struct oa_proto_conn *p)
{
    struct mysql_exchange *x = (struct mysql_exchange *)p;
    oa_pending_fifo_disown_all(&x->pending, &oa_db_op_pending_ops);
}

static void exchange_free(struct oa_proto_conn *p)
{
    struct mysql_exchange *x = (struct mysql_exchange *)p;
    oa_pending_fifo_drop_all(&x->pending, &oa_db_op_pending_ops);
    oa_pool_put(&exchange_pool, x);
}

/* The SSLRequest went out and TLS is up: the session's plaintext carries
 * the rest of the login and the commands. */
static struct oa_proto_conn *exchange_tls_follows(struct oa_conn *c)
{
    struct mysql_exchange *from = exchange_of(c);
    if (from->parser.phase != OA_MYSQL_TLS)
        return NULL;
    struct mysql_exchange *x = exchange_new();
    if (x == NULL)
        return NULL;
    oa_mysql_parser_after_tls(&x->parser, &from->parser);
    x->system = from->system;
    return &x->base;
}

/* The server speaks first: a client connection whose first incoming bytes
 * could be a greeting (the parser checks all of it, and gives the
 * connection up if it is not one). */
static bool exchange_detect(enum oa_conn_role role, bool outgoing, const unsigned char *b, size_t n)
{
    return role == OA_ROLE_CLIENT && !outgoing && oa_mysql_could_be_greeting(b, n);
}

const struct oa_protocol oa_mysql_protocol = {
    .name = "mysql",
    .detect = exchange_detect,
    .open = exchange_open,
    .outgoing = exchange_outgoing,
    .incoming = exchange_incoming,
    .skipped = exchange_skipped,
    .eof = exchange_eof,
    .end = exchange_end,
    .give_up = exchange_give_up,
    .disown = exchange_disown,
    .free = exchange_free,
    .tls_follows = exchange_tls_follows,
    .crash = exchange_crash,
    .unix_sockets = true,
};

void oa_mysql_register(void)
{
    oa_protocol_register(&oa_mysql_protocol);
}
