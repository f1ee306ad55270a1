/* PostgreSQL client connections (pg_connection.h): frontend messages begin
 * operations, backend messages end them, in order. The client's bytes are
 * only read, but for the sqlcommenter comment a simple Query may carry when
 * OTELAUTO_DB_SQLCOMMENTER is on. Called with the connection locked; never
 * blocks, never allocates but from its pool. */
#include <string.h>

#include "base/pool.h"
#include "config/config.h"
#include "protocols/common/outgoing.h"
#include "protocols/common/pending.h"
#include "protocols/db/db_operation.h"
#include "protocols/db/sql_comment.h"
#include "protocols/db/sql_text.h"
#include "protocols/postgres/pg_connection.h"
#include "protocols/postgres/pg_framer.h"
#include "protocols/postgres/pg_messages.h"
#include "protocols/postgres/pg_statements.h"
#include "trace/span.h"

/* Operations, Syncs and the like waiting for their replies: a power of
 * two (struct oa_pending_fifo). A longer pipeline gives the connection up. */
#define PG_MAX_PENDING 32
/* Body bytes kept of a frontend message (Query, Parse: the text read for
 * the span), of a backend one (ErrorResponse: its SQLSTATE comes early). */
#define PG_OUT_KEEP 2048
#define PG_IN_KEEP 256
#define PG_NAMESPACE_MAX 63

/* What an entry waits for */
enum pg_kind {
    PG_STARTUP = 0, /* the startup: its first ReadyForQuery */
    PG_QUERY,       /* a simple Query: ReadyForQuery (a span) */
    PG_EXECUTE,     /* an Execute: CommandComplete, EmptyQuery, PortalSuspended (a span) */
    PG_SYNC,        /* a Sync: ReadyForQuery */
    PG_FUNCTION,    /* a FunctionCall: ReadyForQuery */
};

struct pg_pending {
    struct oa_db_op op; /* first: the common entry (no span for the kinds without one) */
    uint8_t kind;       /* enum pg_kind */
};

struct pg_conn {
    struct oa_proto_conn base; /* first: what the wire layer reads */
    struct oa_pg_framer out;   /* what the program sends */
    struct oa_pg_framer in;    /* what it receives */
    bool awaiting_ssl_reply;   /* an SSLRequest or GSSENCRequest went out: one octet answers */
    uint8_t namespace_len;
    char namespace_[PG_NAMESPACE_MAX + 1]; /* db.namespace: the database */
    struct oa_pending_fifo pending;
    struct pg_pending slots[PG_MAX_PENDING];
    struct oa_pg_statements statements;
    char out_buf[PG_OUT_KEEP];
    char in_buf[PG_IN_KEEP];
};

_Static_assert((PG_MAX_PENDING & (PG_MAX_PENDING - 1)) == 0, "a FIFO's capacity is a power of two");

/* Connection states come from a lock-free pool: the first send may be in a
 * signal handler that interrupted malloc (see http_exchange.c). */
static struct oa_pool pg_pool = OA_POOL_INIT(sizeof(struct pg_conn), 4, 256);

static inline struct pg_conn *pg_of(struct oa_conn *c)
{
    return (struct pg_conn *)c->proto;
}

_Static_assert(sizeof(struct pg_pending) <= OA_PENDING_ENTRY_MAX, "the crash capture copies an entry whole");

/* ---- the life of a connection's state ---- */

static struct oa_proto_conn *pg_open(enum oa_conn_role role)
{
    if (role != OA_ROLE_CLIENT)
        return NULL;
    struct pg_conn *x = oa_pool_get(&pg_pool);
    if (x == NULL)
        return NULL;
    memset(x, 0, offsetof(struct pg_conn, out_buf));
    oa_pg_framer_init(&x->out, x->out_buf, sizeof x->out_buf, true);
    static const char keep_out[] = {'Q', 'P', 'B', 'E', 'C'};
    for (size_t i = 0; i < sizeof keep_out; i++)
        oa_pg_framer_keep(&x->out, keep_out[i]);
    oa_pg_framer_init(&x->in, x->in_buf, sizeof x->in_buf, false);
    oa_pg_framer_keep(&x->in, 'E');
    oa_pending_fifo_init(&x->pending, x->slots, sizeof x->slots[0], PG_MAX_PENDING);
    oa_pg_statements_init(&x->statements);
    return &x->base;
}

static void pg_free(struct oa_proto_conn *p)
{
    struct pg_conn *x = (struct pg_conn *)p;
    oa_pending_fifo_drop_all(&x->pending, &oa_db_op_pending_ops);
    oa_pool_put(&pg_pool, x);
}

static void pg_give_up(struct oa_conn *c)
{
    oa_pending_fifo_drop_all(&pg_of(c)->pending, &oa_db_op_pending_ops);
}

static void pg_crash(const struct oa_proto_conn *p, const struct oa_crash_walk *w)
{
    const struct pg_conn *x = (const struct pg_conn *)p;
    oa_db_op_crash_walk(&x->pending, x->slots, sizeof(x->slots[0]), PG_MAX_PENDING, w);
}

static void pg_disown(struct oa_proto_conn *p)
{
    oa_pending_fifo_disown_all(&((struct pg_conn *)p)->pending, &oa_db_op_pending_ops);
}

/* ---- operations ---- */

static struct pg_pending *front(struct pg_conn *x)
{
    if (x->pending.count == 0)
        return NULL;
    return (struct pg_pending *)oa_pending_fifo_at_in(&x->pending, x->slots, sizeof x->slots[0], 0);
}

/* A new newest entry, without span or metric; NULL when the bound is reached. */
static struct pg_pending *push(struct pg_conn *x, enum pg_kind kind, uint64_t start)
{
    struct oa_pending *e = oa_pending_fifo_push_in(&x->pending, x->slots, sizeof x->slots[0], start);
    if (e == NULL)
        return NULL;
    struct pg_pending *p = (struct pg_pending *)e;
    p->kind = (uint8_t)kind;
    p->op.metric_recording = false;
    p->op.status_is_error = false;
    p->op.status_len = 0;
    return p;
}

/* An operation with a span: from its statement's summary and text (text
 * NULL: none), sanitized already or, when unsanitized, the statement as
 * sent; its span context into *own. memo: the statement's metric memo, or
 * NULL. */
static bool begin_operation(struct oa_conn *c, struct pg_conn *x, enum pg_kind kind,
                            const struct oa_sql_summary *summary, const char *text, size_t text_len,
                            bool unsanitized, struct oa_db_metric_memo *memo, struct oa_span_context *own)
{
    uint64_t start = oa_now_unix_nano();
    struct pg_pending *p = push(x, kind, start);
    if (p == NULL)
        return false;
    struct oa_db_request r = {
        .system = OA_DB_POSTGRESQL,
        .namespace_ = x->namespace_,
        .namespace_len = x->namespace_len,
        .metric_memo = memo,
    };
    if (summary != NULL) {
        r.operation = summary->operation;
        r.operation_len = summary->operation_len;
        r.collection = summary->collection;
        r.collection_len = summary->collection_len;
        if (!summary->secret) {
            r.query_text = text;
            r.query_text_len = text_len;
            r.query_unsanitized = unsanitized;
            r.query_dialect = OA_SQL_POSTGRES;
        }
    }
    if (own != NULL)
        oa_db_op_begin_context(&p->op, c, &r, start, own);
    else
        oa_db_op_begin(&p->op, c, &r, start);
    return true;
}

static void finish_front(struct pg_conn *x, uint64_t end)
{
    struct pg_pending *p = front(x);
    oa_db_op_finish_at(&p->op, end);
    oa_pending_fifo_pop(&x->pending);
}

/* ---- frontend messages ---- */

/* StartupMessage: db.namespace is the database, nothing else is read. */
static bool on_untyped(struct pg_conn *x, const char *b, size_t n)
{
    uint32_t code;
    if (!oa_pg_untyped_code(b, n, &code))
        return false;
    if (code == OA_PG_SSL_REQUEST || code == OA_PG_GSSENC_REQUEST) {
        /* one octet answers; a refusal is followed by a StartupMessage */
        x->awaiting_ssl_reply = true;
        oa_pg_framer_expect_untyped(&x->out);
        return true;
    }
    if (code >> 16 != OA_PG_PROTOCOL_MAJOR)
        return false;
    struct oa_pg_text db;
    if (oa_pg_startup_database(b, n, &db) && db.len <= PG_NAMESPACE_MAX) {
        memcpy(x->namespace_, db.s, db.len);
        x->namespace_[db.len] = '\0';
        x->namespace_len = (uint8_t)db.len;
    }
    return push(x, PG_STARTUP, oa_now_unix_nano()) != NULL;
}

/* sqlcommenter: the comment of span context own goes into the Query just
 * parsed (its text b[0..n), NUL included, all of it kept), and its length
 * field counts it. Only when the whole message is still to be sent (the
 * length must change before its bytes leave), the text is one we may
 * comment (sql_comment.h), and the splice has room for both changes. */
static void comment_query(struct pg_conn *x, const char *b, size_t n, const struct oa_span_context *own)
{
    struct oa_splice *sp = &x->base.out;
    uint64_t start = sp->parsed - 5 - n; /* the message's type octet */
    size_t at;
    if (n == 0 || b[n - 1] != '\0' || start < sp->sent || sp->count + 2 > oa_splice_capacity(sp) ||
        n + 4 + OA_SQL_COMMENT_LEN > OA_PG_MESSAGE_MAX || !oa_sql_comment_place(b, n - 1, OA_SQL_POSTGRES, &at))
        return;
    uint32_t len = (uint32_t)(n + 4 + OA_SQL_COMMENT_LEN);
    char be[4] = {(char)(len >> 24), (char)(len >> 16), (char)(len >> 8), (char)len};
    char comment[OA_SQL_COMMENT_LEN];
    oa_sql_comment_format(own, comment);
    if (!oa_splice_replace(sp, start + 1, be, sizeof be))
        return;
    /* cannot fail: room was checked and the comment fits a splice's inline buffer */
    if (!oa_splice_insert(sp, start + 5 + at, comment, sizeof comment)) {
        oa_splice_drop_unsent(sp);
        return;
    }
    oa_splice_bind_last(sp);
}

static bool on_query(struct oa_conn *c, struct pg_conn *x, const char *b, size_t n)
{
    struct oa_pg_text sql = oa_pg_query_text(b, n);
    struct oa_sql_summary summary;
    oa_sql_summarize(sql.s, sql.len, OA_SQL_POSTGRES, &summary);
    /* sanitized where the span is built (the exporter thread), not here */
    struct oa_span_context own;
    if (!begin_operation(c, x, PG_QUERY, &summary, sql.s, oa_config.db_query_text ? sql.len : 0, true, NULL, &own))
        return false;
    if (oa_config.db_sqlcommenter && x->out.kept == x->out.len)
        comment_query(x, b, n, &own);
    return true;
}

/* Parse: a statement's summary and text, kept for its Executes. A name too
 * long to keep is executed without them. */
static void on_parse(struct pg_conn *x, const char *b, size_t n)
{
    struct oa_pg_text name, sql;
    if (!oa_pg_parse(b, n, &name, &sql))
        return;
    struct oa_pg_statement *st = oa_pg_statement_define(&x->statements, name.s, name.len);
    if (st == NULL)
        return;
    oa_sql_summarize(sql.s, sql.len, OA_SQL_POSTGRES, &st->summary);
    if (oa_config.db_query_text && !st->summary.secret)
        st->text_len = (uint16_t)oa_sql_sanitize(sql.s, sql.len, OA_SQL_POSTGRES, st->text, sizeof st->text);
}

static void on_bind(struct pg_conn *x, const char *b, size_t n)
{
    struct oa_pg_text portal, statement;
    if (oa_pg_bind(b, n, &portal, &statement))
        oa_pg_portal_bind(&x->statements, portal.s, portal.len, statement.s, statement.len);
}

static bool on_execute(struct oa_conn *c, struct pg_conn *x, const char *b, size_t n)
{
    struct oa_pg_text portal;
    struct oa_pg_statement *st = NULL;
    if (oa_pg_execute(b, n, &portal))
        st = oa_pg_portal_statement(&x->statements, portal.s, portal.len);
    if (st == NULL)
        return begin_operation(c, x, PG_EXECUTE, NULL, NULL, 0, false, NULL, NULL);
    return begin_operation(c, x, PG_EXECUTE, &st->summary, st->text, st->text_len, false, &st->memo, NULL);
}

static void on_close(struct pg_conn *x, const char *b, size_t n)
{
    char what;
    struct oa_pg_text name;
    if (!oa_pg_close(b, n, &what, &name))
        return;
    if (what == 'S')
        oa_pg_statement_close(&x->statements, name.s, name.len);
    else if (what == 'P')
        oa_pg_portal_close(&x->statements, name.s, name.len);
}

/* One complete frontend message; false: not PostgreSQL as we know it. */
static bool on_frontend(struct oa_conn *c, struct pg_conn *x)
{
    const char *b = x->out.buf;
    size_t n = x->out.kept;
    switch (x->out.type) {
    case 0:
        return on_untyped(x, b, n);
    case 'Q':
        return on_query(c, x, b, n);
    case 'P':
        on_parse(x, b, n);
        return true;
    case 'B':
        on_bind(x, b, n);
        return true;
    case 'E':
        return on_execute(c, x, b, n);
    case 'S':
        return push(x, PG_SYNC, oa_now_unix_nano()) != NULL;
    case 'F':
        return push(x, PG_FUNCTION, oa_now_unix_nano()) != NULL;
    case 'C':
        on_close(x, b, n);
        return true;
    case 'D': /* Describe */
    case 'H': /* Flush */
    case 'X': /* Terminate */
    case 'p': /* password and SASL responses: never read */
    case 'd': /* CopyData */
    case 'c': /* CopyDone */
    case 'f': /* CopyFail */
        return true;
    default:
        return false;
    }
}

/* ---- backend messages ---- */

static bool on_error(struct pg_conn *x)
{
    struct pg_pending *p = front(x);
    if (p == NULL)
        return true; /* answers nothing (a FATAL at shutdown) */
    struct oa_pg_text code = {NULL, 0};
    oa_pg_error_sqlstate(x->in.buf, x->in.kept, &code);
    switch ((enum pg_kind)p->kind) {
    case PG_STARTUP: /* authentication failed: the server closes */
        oa_pending_fifo_pop(&x->pending);
        return true;
    case PG_QUERY: /* ends at ReadyForQuery */
        oa_db_op_fail(&p->op, code.s, code.len);
        return true;
    case PG_EXECUTE: {
        uint64_t end = oa_now_unix_nano();
        oa_db_op_fail(&p->op, code.s, code.len);
        finish_front(x, end);
        /* the server skips to the Sync: the Executes before it never run */
        while ((p = front(x)) != NULL && p->kind == PG_EXECUTE) {
            oa_db_op_fail_type(&p->op, "pipeline_aborted");
            finish_front(x, end);
        }
        return true;
    }
    case PG_SYNC:     /* a Parse, Bind, Describe or Close failed: no Execute waits */
    case PG_FUNCTION:
        return true;
    }
    return false;
}

/* One complete backend message; false: we lost the thread. */
static bool on_backend(struct pg_conn *x)
{
    struct pg_pending *p;
    switch (x->in.type) {
    case 'Z': /* ReadyForQuery */
        p = front(x);
        if (p == NULL || p->kind == PG_EXECUTE)
            return false;
        finish_front(x, oa_now_unix_nano());
        return true;
    case 'C': /* CommandComplete */
    case 'I': /* EmptyQueryResponse */
    case 's': /* PortalSuspended */
        p = front(x);
        if (p == NULL)
            return false;
        if (p->kind == PG_QUERY)
            return x->in.type != 's'; /* one statement of the Query done */
        if (p->kind != PG_EXECUTE)
            return false;
        finish_front(x, oa_now_unix_nano());
        return true;
    case 'E':
        return on_error(x);
    case 'T': /* RowDescription */
    case 'D': /* DataRow */
    case '1': /* ParseComplete */
    case '2': /* BindComplete */
    case '3': /* CloseComplete */
    case 't': /* ParameterDescription */
    case 'n': /* NoData */
    case 'N': /* NoticeResponse */
    case 'A': /* NotificationResponse */
    case 'S': /* ParameterStatus */
    case 'K': /* BackendKeyData */
    case 'R': /* Authentication */
    case 'V': /* FunctionCallResponse */
    case 'v': /* NegotiateProtocolVersion */
    case 'G': /* CopyInResponse */
    case 'H': /* CopyOutResponse */
    case 'W': /* CopyBothResponse */
    case 'd': /* CopyData */
    case 'c': /* CopyDone */
        return true;
    default:
        return false;
    }
}

/* ---- the streams ---- */

static inline __attribute__((always_inline)) bool feed_out(struct oa_conn *c, const char *b, size_t n)
{
    struct pg_conn *x = pg_of(c);
    while (n > 0) {
        enum oa_pg_frame_event ev;
        size_t used = oa_pg_framer_feed(&x->out, b, n, &ev);
        b += used;
        n -= used;
        x->base.out.parsed += used;
        if (ev == OA_PG_BAD || (ev == OA_PG_MESSAGE && !on_frontend(c, x)))
            return false;
    }
    return true;
}

/* Parses what the program is about to send (each byte once). */
static void pg_outgoing(struct oa_conn *c, const struct iovec *iov, int iovcnt)
{
    oa_parse_outgoing(c, iov, iovcnt, feed_out);
}

static void pg_incoming(struct oa_conn *c, const char *b, size_t n)
{
    struct pg_conn *x = pg_of(c);
    if (x->awaiting_ssl_reply && oa_pg_framer_at_boundary(&x->in)) {
        x->awaiting_ssl_reply = false;
        if (b[0] == 'S' || b[0] == 'G') {
            /* TLS or GSSAPI encryption follows: this view sees ciphertext
             * (a TLS session's plaintext is a connection of its own) */
            oa_protocol_give_up(c);
            return;
        }
        if (b[0] == 'N') {
            b++;
            n--;
        }
        /* else an ErrorResponse (a server before protocol 3) */
    }
    while (n > 0) {
        enum oa_pg_frame_event ev;
        size_t used = oa_pg_framer_feed(&x->in, b, n, &ev);
        b += used;
        n -= used;
        if (ev == OA_PG_BAD || (ev == OA_PG_MESSAGE && !on_backend(x))) {
            oa_protocol_give_up(c);
            return;
        }
    }
}

/* sendfile: a client never sends its queries that way */
static void pg_skipped(struct oa_conn *c, size_t n)
{
    (void)n;
    oa_protocol_give_up(c);
}

/* The connection ends: operations still waiting failed. */
static void pg_end(struct oa_conn *c, int err)
{
    struct pg_conn *x = pg_of(c);
    if (x->pending.count > 0)
        oa_pending_fifo_finish_all(&x->pending, &oa_db_op_pending_ops, oa_pending_error_type(err), x);
}

/* The server closed: no reply will come. */
static void pg_eof(struct oa_conn *c)
{
    pg_end(c, c->proto->io_error);
}

/* A client's first message: StartupMessage (protocol 3), SSLRequest or
 * GSSENCRequest, whole in its first send (libpq's, and every driver's). A
 * CancelRequest's connection carries nothing else: passed through. */
static bool pg_detect(enum oa_conn_role role, bool outgoing, const unsigned char *b, size_t n)
{
    if (role != OA_ROLE_CLIENT || !outgoing || n < 8)
        return false;
    uint32_t len, code;
    oa_pg_untyped_code((const char *)b, 4, &len);
    oa_pg_untyped_code((const char *)b + 4, 4, &code);
    if (code == OA_PG_SSL_REQUEST || code == OA_PG_GSSENC_REQUEST)
        return len == 8;
    return code >> 16 == OA_PG_PROTOCOL_MAJOR && (code & 0xffff) < 0x100 && len > 8 && len <= OA_PG_STARTUP_MAX &&
           (len > n || b[len - 1] == '\0');
}

const struct oa_protocol oa_postgres_protocol = {
    .name = "postgres",
    .detect = pg_detect,
    .open = pg_open,
    .outgoing = pg_outgoing,
    .incoming = pg_incoming,
    .skipped = pg_skipped,
    .eof = pg_eof,
    .end = pg_end,
    .give_up = pg_give_up,
    .disown = pg_disown,
    .free = pg_free,
    .crash = pg_crash,
    .unix_sockets = true,
};

void oa_postgres_register(void)
{
    oa_protocol_register(&oa_postgres_protocol);
}
