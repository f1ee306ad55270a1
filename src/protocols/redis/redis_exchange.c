/* Redis client connections: commands become database CLIENT spans, ended
 * by their replies in order (see redis_exchange.h). Called with the
 * connection locked; never blocks, never allocates but from its pool. */
#include <string.h>

#include "base/common.h"
#include "base/pool.h"
#include "config/config.h"
#include "protocols/common/outgoing.h"
#include "protocols/db/db_operation.h"
#include "protocols/redis/redis_commands.h"
#include "protocols/redis/redis_exchange.h"
#include "protocols/redis/resp_command.h"
#include "protocols/redis/resp_reply.h"

/* db.namespace: a database index, at most 5 digits (databases is an int;
 * a longer index is not shown) */
#define NAMESPACE_MAX 5

/* Pub/sub arrays: the kind their first element names (replies spell it in
 * lower case, commands in any case). */
enum pubsub_kind {
    PS_NONE = 0,
    PS_SUBSCRIBE,
    PS_PSUBSCRIBE,
    PS_SSUBSCRIBE,
    PS_UNSUBSCRIBE,
    PS_PUNSUBSCRIBE,
    PS_SUNSUBSCRIBE,
    PS_CONFIRMATIONS = PS_SUNSUBSCRIBE, /* the kinds up to here confirm a command */
    PS_MESSAGE,
    PS_PMESSAGE,
    PS_SMESSAGE,
};

static const char *const pubsub_names[] = {
    [PS_SUBSCRIBE] = "subscribe",     [PS_PSUBSCRIBE] = "psubscribe",     [PS_SSUBSCRIBE] = "ssubscribe",
    [PS_UNSUBSCRIBE] = "unsubscribe", [PS_PUNSUBSCRIBE] = "punsubscribe", [PS_SUNSUBSCRIBE] = "sunsubscribe",
    [PS_MESSAGE] = "message",         [PS_PMESSAGE] = "pmessage",         [PS_SMESSAGE] = "smessage",
};

/* The kind named by s[0..len) compared without case, or PS_NONE. */
static enum pubsub_kind pubsub_kind(const char *s, size_t len)
{
    for (unsigned k = PS_SUBSCRIBE; k <= PS_SMESSAGE; k++) {
        if (strlen(pubsub_names[k]) == len && strncasecmp(pubsub_names[k], s, len) == 0)
            return (enum pubsub_kind)k;
    }
    return PS_NONE;
}

static inline bool is_sharded(enum pubsub_kind k)
{
    return k == PS_SSUBSCRIBE || k == PS_SUNSUBSCRIBE || k == PS_SMESSAGE;
}

/* What a command's reply does to the connection besides ending its span. */
enum op_effect {
    FX_NONE,
    FX_SELECT,   /* an error undoes the namespace it set */
    FX_HELLO,    /* success: the protocol version `hello` */
    FX_MONITOR,  /* success: a stream of events follows, no replies */
    FX_RESET,    /* the connection's state is a new one's */
};

struct redis_op {
    struct oa_db_op op;            /* first: span, metric, outcome */
    uint8_t effect;                /* enum op_effect */
    uint8_t confirmed_by;          /* enum pubsub_kind: answered by that confirmation */
    uint8_t hello;                 /* FX_HELLO: 2, 3, or 0 (unchanged) */
    uint8_t prev_namespace_len;    /* FX_SELECT: the namespace it replaced */
    char prev_namespace[NAMESPACE_MAX];
};

/* What on_command needs of a command's name, looked up when the name
 * changes: pipelines and loops repeat a command. */
enum command_kind {
    K_OTHER,
    K_MULTI,
    K_EXEC,      /* EXEC, DISCARD */
    K_SELECT,
    K_HELLO,
    K_MONITOR,
    K_RESET,
    K_CLIENT,
    K_SYNC,      /* SYNC, PSYNC: a replication stream follows */
};

struct command_class {
    uint8_t name_len;              /* 0: none looked up yet */
    char name[OA_RESP_NAME_MAX + 1];
    uint8_t flags;                 /* oa_redis_command_flags */
    uint8_t pubsub;                /* enum pubsub_kind */
    uint8_t kind;                  /* enum command_kind */
    /* the series of this name's successes: a command's metric key is its
     * name (Redis has no collection), but for the outcome */
    struct oa_db_metric_memo memo;
};

struct redis_exchange {
    struct oa_proto_conn base;     /* first: what the wire layer reads */
    struct oa_resp_command_parser out;
    struct oa_resp_reply_parser in;
    uint64_t command_start;        /* unix ns of the current command's first byte */
    uint64_t replies_at;           /* unix ns the replies of this read arrived, 0: not read yet */
    struct command_class last;     /* the last command's name, looked up */
    bool resp3;                    /* HELLO 3 succeeded */
    bool in_multi;                 /* MULTI sent, not EXEC / DISCARD yet */
    bool first_seen;               /* the first command was whole (and known) */
    int64_t subscriptions;         /* channels and patterns, as RESP2 confirmations count them */
    int64_t shard_subscriptions;
    uint8_t namespace_len;
    char namespace_[NAMESPACE_MAX]; /* db.namespace: SELECT's index */
    struct redis_op ops[OA_REDIS_MAX_PENDING]; /* the slots of `pending` */
    struct oa_pending_fifo pending;
};

_Static_assert((OA_REDIS_MAX_PENDING & (OA_REDIS_MAX_PENDING - 1)) == 0, "a FIFO's capacity is a power of two");

/* From a lock-free pool, as HTTP/1's exchanges (a first send may come from
 * a signal handler that interrupted malloc). */
static struct oa_pool exchange_pool = OA_POOL_INIT(sizeof(struct redis_exchange), 4, 1024);

static inline struct redis_exchange *exchange_of(struct oa_conn *c)
{
    return (struct redis_exchange *)c->proto;
}

static void reset_session(struct redis_exchange *x)
{
    x->resp3 = false;
    x->in_multi = false;
    x->subscriptions = 0;
    x->shard_subscriptions = 0;
    x->namespace_[0] = '0';
    x->namespace_len = 1;
}

_Static_assert(sizeof(struct redis_op) <= OA_PENDING_ENTRY_MAX, "the crash capture copies an entry whole");

static struct oa_proto_conn *exchange_open(enum oa_conn_role role)
{
    (void)role;
    struct redis_exchange *x = oa_pool_get(&exchange_pool);
    if (x == NULL)
        return NULL;
    memset(&x->base, 0, sizeof(x->base));
    oa_resp_command_init(&x->out);
    oa_resp_reply_init(&x->in);
    x->command_start = 0;
    x->last.name_len = 0;
    memset(&x->last.memo, 0, sizeof x->last.memo);
    x->first_seen = false;
    reset_session(x);
    oa_pending_fifo_init(&x->pending, x->ops, sizeof(x->ops[0]), OA_REDIS_MAX_PENDING);
    return &x->base;
}

static struct redis_op *front(struct redis_exchange *x)
{
    if (x->pending.count == 0)
        return NULL;
    return (struct redis_op *)oa_pending_fifo_at_in(&x->pending, x->ops, sizeof(x->ops[0]), 0);
}

static void exchange_free(struct oa_proto_conn *p)
{
    struct redis_exchange *x = (struct redis_exchange *)p;
    oa_pending_fifo_drop_all(&x->pending, &oa_db_op_pending_ops);
    oa_pool_put(&exchange_pool, x);
}

static void exchange_give_up(struct oa_conn *c)
{
    oa_pending_fifo_drop_all(&exchange_of(c)->pending, &oa_db_op_pending_ops);
}

/* ---- commands ---- */

/* SELECT's index, when it is one (digits only). */
static bool select_index(const struct oa_resp_command *cmd)
{
    if (cmd->argc != 1 || cmd->arg1_len == 0 || cmd->arg1_len > NAMESPACE_MAX)
        return false;
    for (size_t i = 0; i < cmd->arg1_len; i++) {
        if (cmd->arg1[i] < '0' || cmd->arg1[i] > '9')
            return false;
    }
    return true;
}

/* The class of cmd's (usable) name: x->last, looked up again when the
 * name is not the last one's. */
static const struct command_class *command_class(struct redis_exchange *x, const struct oa_resp_command *cmd)
{
    struct command_class *k = &x->last;
    if (k->name_len == cmd->name_len && memcmp(k->name, cmd->name, cmd->name_len) == 0)
        return k;
    static const struct {
        const char *name;
        enum command_kind kind;
    } kinds[] = {
        {"MULTI", K_MULTI},    {"EXEC", K_EXEC},   {"DISCARD", K_EXEC}, {"SELECT", K_SELECT}, {"HELLO", K_HELLO},
        {"MONITOR", K_MONITOR}, {"RESET", K_RESET}, {"CLIENT", K_CLIENT}, {"SYNC", K_SYNC},   {"PSYNC", K_SYNC},
    };
    memcpy(k->name, cmd->name, cmd->name_len + 1u);
    k->name_len = cmd->name_len;
    oa_db_metric_memo_forget(&k->memo);
    k->flags = (uint8_t)oa_redis_command_flags(cmd->name, cmd->name_len);
    k->pubsub = (uint8_t)pubsub_kind(cmd->name, cmd->name_len);
    k->kind = K_OTHER;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(cmd->name, kinds[i].name) == 0)
            k->kind = (uint8_t)kinds[i].kind;
    }
    return k;
}

static bool arg1_is(const struct oa_resp_command *cmd, const char *word)
{
    size_t len = strlen(word);
    return cmd->arg1_len == len && strncasecmp(cmd->arg1, word, len) == 0;
}

/* What the command does to the connection when it is sent, and what its
 * reply will; false when the protocol cannot follow the connection past it. */
static bool command_effects(struct redis_exchange *x, const struct oa_resp_command *cmd,
                            const struct command_class *k, struct redis_op *r)
{
    r->effect = FX_NONE;
    r->confirmed_by = PS_NONE;
    if (k == NULL)
        return true;
    if (k->pubsub != PS_NONE && k->pubsub <= PS_CONFIRMATIONS) {
        /* inside MULTI its confirmations would come inside EXEC's reply */
        if (x->in_multi)
            return false;
        r->confirmed_by = k->pubsub;
        return true;
    }
    switch (k->kind) {
    case K_MULTI:
        x->in_multi = true;
        break;
    case K_EXEC:
        x->in_multi = false;
        break;
    case K_SELECT:
        if (select_index(cmd)) {
            r->effect = FX_SELECT;
            memcpy(r->prev_namespace, x->namespace_, x->namespace_len);
            r->prev_namespace_len = x->namespace_len;
            memcpy(x->namespace_, cmd->arg1, cmd->arg1_len);
            x->namespace_len = (uint8_t)cmd->arg1_len;
        }
        break;
    case K_HELLO:
        r->effect = FX_HELLO;
        r->hello = arg1_is(cmd, "3") ? 3 : arg1_is(cmd, "2") ? 2 : 0;
        break;
    case K_MONITOR:
        r->effect = FX_MONITOR;
        break;
    case K_RESET:
        r->effect = FX_RESET;
        x->in_multi = false;
        break;
    case K_CLIENT:
        return !arg1_is(cmd, "REPLY");
    case K_SYNC:
        return false;
    default:
        break;
    }
    return true;
}

/* A whole command is about to be sent: its span begins. */
static bool on_command(struct oa_conn *c, struct redis_exchange *x)
{
    const struct oa_resp_command *cmd = &x->out.cmd;
    const struct command_class *k = cmd->name_unusable ? NULL : command_class(x, cmd);
    /* detection may have seen only the start of the first command's name */
    if (!x->first_seen) {
        if (k == NULL || !(k->flags & OA_REDIS_KNOWN))
            return false;
        x->first_seen = true;
    }
    struct redis_op *r = (struct redis_op *)oa_pending_fifo_push_in(&x->pending, x->ops, sizeof(x->ops[0]),
                                                                    x->command_start);
    if (r == NULL)
        return false; /* a pipeline deeper than the bound */
    if (!command_effects(x, cmd, k, r)) {
        /* nothing was begun: forget the entry */
        x->pending.count--;
        return false;
    }
    /* empty strings, not NULL: the metric key copies them (memcpy of 0
     * bytes from NULL is undefined) */
    struct oa_db_request req = {
        .system = OA_DB_REDIS,
        .namespace_ = x->namespace_,
        .namespace_len = x->namespace_len,
        .operation = "",
        .collection = "",
    };
    if (!cmd->name_unusable) {
        req.operation = cmd->name;
        req.operation_len = cmd->name_len;
        req.metric_memo = &x->last.memo;
        if (oa_config.db_query_text) {
            /* the text is written where the span is built: here only
             * what it is made of (the key, the count of arguments) */
            req.query_is_command = true;
            req.query_arg = oa_redis_query_facts(cmd, k->flags, &req.query_text, &req.query_text_len);
        }
    }
    oa_db_op_begin(&r->op, c, &req, x->command_start);
    return true;
}

/* ---- replies ---- */

static void finish_front(struct redis_exchange *x, struct redis_op *r)
{
    /* the replies of one read arrived together: one clock read for them */
    if (x->replies_at == 0)
        x->replies_at = oa_now_unix_nano();
    oa_db_op_finish_at(&r->op, x->replies_at);
    oa_pending_fifo_pop(&x->pending);
}

/* A RESP2 array or RESP3 push that answers no command; false when it is
 * not one. A confirmation ends the command that awaits it. */
static bool skipped_push(struct redis_exchange *x, const struct oa_resp_reply *rp, struct redis_op *r)
{
    enum pubsub_kind k = PS_NONE;
    if (rp->type == '>' || (rp->type == '*' && !x->resp3))
        k = pubsub_kind(rp->head, rp->head_len);
    if (rp->type == '*') {
        bool subscribed = x->subscriptions > 0 || x->shard_subscriptions > 0;
        if (x->resp3 || k == PS_NONE || !(subscribed || (r != NULL && r->confirmed_by != PS_NONE)))
            return false;
    } else if (rp->type != '>') {
        return false;
    }
    if (k != PS_NONE && k <= PS_CONFIRMATIONS) {
        if (rp->has_int) {
            if (is_sharded(k))
                x->shard_subscriptions = rp->last_int;
            else
                x->subscriptions = rp->last_int;
        }
        if (r != NULL && r->confirmed_by == k)
            finish_front(x, r);
    }
    return true;
}

/* The first word of an error reply: its code (ERR, WRONGTYPE, NOAUTH);
 * 0 when it is not printable ASCII (error.type is then _OTHER). */
static size_t error_code(const struct oa_resp_reply *rp)
{
    size_t n = 0;
    while (n < rp->head_len && rp->head[n] != ' ') {
        unsigned char c = (unsigned char)rp->head[n];
        if (c <= 0x20 || c >= 0x7f)
            return 0;
        n++;
    }
    return n;
}

/* A whole reply was received. */
static bool on_reply(struct oa_conn *c, struct redis_exchange *x)
{
    const struct oa_resp_reply *rp = &x->in.reply;
    struct redis_op *r = front(x);
    if (skipped_push(x, rp, r))
        return true;
    if (r == NULL)
        return false; /* a reply to nothing: out of step */
    bool monitor = false;
    if (rp->is_error) {
        oa_db_op_fail(&r->op, rp->head, error_code(rp));
        if (r->effect == FX_SELECT) {
            memcpy(x->namespace_, r->prev_namespace, r->prev_namespace_len);
            x->namespace_len = r->prev_namespace_len;
        }
    } else if (rp->type != '+' || rp->head_len != 6 || memcmp(rp->head, "QUEUED", 6) != 0) {
        switch (r->effect) {
        case FX_HELLO:
            if (r->hello != 0)
                x->resp3 = r->hello == 3;
            break;
        case FX_MONITOR:
            monitor = true;
            break;
        case FX_RESET:
            reset_session(x);
            break;
        default:
            break;
        }
    }
    finish_front(x, r);
    (void)c;
    return !monitor;
}

/* ---- the wire layer's calls ---- */

static bool feed_commands(struct oa_conn *c, struct redis_exchange *x, const char *p, size_t n)
{
    uint64_t now = 0; /* the commands of one write begin together: one clock read */
    while (n > 0) {
        if (x->out.state == 0) {
            if (now == 0)
                now = oa_now_unix_nano();
            x->command_start = now;
        }
        size_t used = 0;
        enum oa_resp_command_event ev = oa_resp_command_feed(&x->out, p, n, &used);
        p += used;
        n -= used;
        x->base.out.parsed += used;
        if (ev == OA_RESP_CMD_ERROR)
            return false;
        if (ev == OA_RESP_CMD_DONE && !on_command(c, x))
            return false;
    }
    return true;
}

/* Parses bytes the program is about to send, skipping any it already parsed
 * in an earlier, partly refused attempt. */
static bool feed_outgoing(struct oa_conn *c, const char *p, size_t n)
{
    return feed_commands(c, exchange_of(c), p, n);
}

static void exchange_outgoing(struct oa_conn *c, const struct iovec *iov, int iovcnt)
{
    oa_parse_outgoing(c, iov, iovcnt, feed_outgoing);
}

static void exchange_incoming(struct oa_conn *c, const char *b, size_t n)
{
    struct redis_exchange *x = exchange_of(c);
    x->replies_at = 0;
    while (n > 0) {
        size_t used = 0;
        enum oa_resp_reply_event ev = oa_resp_reply_feed(&x->in, b, n, &used);
        b += used;
        n -= used;
        if (ev == OA_RESP_REPLY_ERROR || (ev == OA_RESP_REPLY_DONE && !on_reply(c, x))) {
            oa_protocol_give_up(c);
            return;
        }
    }
}

/* Bytes sent unseen (sendfile): the commands cannot be followed. */
static void exchange_skipped(struct oa_conn *c, size_t n)
{
    (void)n;
    oa_protocol_give_up(c);
}

/* The server closed: the commands still waiting failed. */
static void exchange_eof(struct oa_conn *c)
{
    struct redis_exchange *x = exchange_of(c);
    if (x->pending.count > 0)
        oa_pending_fifo_finish_all(&x->pending, &oa_db_op_pending_ops, oa_pending_error_type(x->base.io_error), x);
}

static void exchange_end(struct oa_conn *c, int err)
{
    struct redis_exchange *x = exchange_of(c);
    if (x->pending.count > 0)
        oa_pending_fifo_finish_all(&x->pending, &oa_db_op_pending_ops, oa_pending_error_type(err), x);
}

static void exchange_disown(struct oa_proto_conn *p)
{
    struct redis_exchange *x = (struct redis_exchange *)p;
    oa_pending_fifo_disown_all(&x->pending, &oa_db_op_pending_ops);
}

static void exchange_crash(const struct oa_proto_conn *p, const struct oa_crash_walk *w)
{
    const struct redis_exchange *x = (const struct redis_exchange *)p;
    oa_db_op_crash_walk(&x->pending, x->ops, sizeof(x->ops[0]), OA_REDIS_MAX_PENDING, w);
}

static bool exchange_detect(enum oa_conn_role role, bool outgoing, const unsigned char *b, size_t n)
{
    return outgoing && role == OA_ROLE_CLIENT && oa_resp_command_starts(b, n, oa_redis_command_begins);
}

const struct oa_protocol oa_redis_protocol = {
    .name = "redis",
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
    .crash = exchange_crash,
    .unix_sockets = true,
};

void oa_redis_register(void)
{
    oa_protocol_register(&oa_redis_protocol);
}
