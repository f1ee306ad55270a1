/* HTTP/2 connections: frames become streams, streams spans, and the
 * program's outgoing request heads get trace context (see h2_connection.h).
 * Called with the connection locked; never blocks. */
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "base/log.h"
#include "base/pool.h"
#include "config/config.h"
#include "protocols/common/outgoing.h"
#include "protocols/common/conn_peer.h"
#include "protocols/common/pending.h"
#include "protocols/http1/http_metrics.h"
#include "protocols/common/pending_handover.h"
#include "protocols/common/unanswered.h"
#include "protocols/http2/grpc_metrics.h"
#include "protocols/http1/http_span.h"
#include "protocols/http2/h2_connection.h"
#include "protocols/http2/h2_frames.h"
#include "protocols/http2/h2_head.h"
#include "protocols/http2/h2_raw_span.h"
#include "protocols/http2/h2_span.h"
#include "protocols/http2/hpack_decoder.h"
#include "trace/baggage.h"
#include "trace/span.h"
#include "trace/span_start.h"
#include "trace/thread_context.h"
#include "trace/traceparent.h"
#include "trace/tracestate.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN 24

#define DEFAULT_TABLE 4096
#define DEFAULT_MAX_FRAME 16384
#define NO_LIMIT UINT32_MAX
/* SETTINGS frames a side may have unacknowledged (grpc sends one per
 * flow-control estimate): more give the connection up */
#define UNACKED_MAX 16

enum { OUT = 0, IN = 1 };

/* A stream in flight: the common part, then what its end needs. */
struct h2_stream {
    struct oa_pending p;   /* first; p.status: the final :status */
    int16_t grpc_status;   /* -1: none yet */
    uint8_t kind;          /* enum oa_span_kind of its span */
    bool grpc;
    bool handed;           /* stream 1 of an upgrade: `handover` is its entry */
    /* recorded whether sampled or not: a gRPC call's duration, else the
     * HTTP duration (and a server's active count) */
    union {
        struct oa_http_metric_request metric;
        struct oa_grpc_metric_call rpc;
        struct oa_pending_handover *handover; /* its connection's */
    };
};
_Static_assert(sizeof(struct h2_stream) <= OA_PENDING_ENTRY_MAX, "the crash capture copies an entry whole");

/* One direction of the connection: its frames, its HPACK state, and the
 * settings its sender advertised (which govern the other direction). */
struct h2_side {
    struct oa_h2_reader reader;
    struct oa_hpack_decoder dec;
    uint8_t preface_left;          /* client preface octets still to check */
    bool frame_table_set;          /* the SETTINGS frame being read names HEADER_TABLE_SIZE */
    uint32_t frame_table;
    /* HEADER_TABLE_SIZE of each of this side's SETTINGS frames the other
     * has not acknowledged yet (NO_LIMIT: the frame named none) */
    uint32_t unacked[UNACKED_MAX];
    uint8_t unacked_first, unacked_n;
    uint32_t max_frame;            /* what this side accepts (SETTINGS_MAX_FRAME_SIZE) */
    uint32_t max_header_list;      /* NO_LIMIT: not advertised */
};

struct h2_conn {
    struct oa_proto_conn base;     /* first: what the wire layer reads */
    uint8_t role;                  /* enum oa_conn_role */
    struct h2_side side[2];
    struct h2_stream streams[OA_H2_TABLE_SLOTS];
    struct oa_pending_table pending;
    /* stream 1 of a connection upgraded from HTTP/1 (Upgrade: h2c): the
     * HTTP/1 request's entry, finished through HTTP/1's operations */
    struct oa_pending_handover handed;
    /* the HTTP duration series (and a server's active-requests one) its
     * streams found last: most streams of a connection share them */
    struct oa_http_metrics_series_memo series_memo;
    /* the splice ring's slots beyond every connection's own (splice.h) */
    struct oa_injection splice_more[OA_SPLICE_MAX - OA_SPLICE_INLINE];
};

/* The events' argument: the connection and the direction being read. */
struct feed_ctx {
    struct oa_conn *c;
    struct h2_conn *x;
    int dir;
    uint64_t chunk_end;    /* stream offset just past the octets being read */
};

/* From a lock-free pool, as the other protocols' states (a first send may
 * come from a signal handler that interrupted malloc). */
static struct oa_pool conn_pool = OA_POOL_INIT(sizeof(struct h2_conn), 4, 1024);

static inline struct h2_conn *conn_of(struct oa_conn *c)
{
    return (struct h2_conn *)c->proto;
}

static inline int request_dir(const struct h2_conn *x)
{
    return x->role == OA_ROLE_CLIENT ? OUT : IN;
}

/* ---- what the pending requests' common code asks of HTTP/2 ---- */

static void outcome_of(const struct oa_pending *e, struct oa_h2_outcome *o)
{
    const struct h2_stream *st = (const struct h2_stream *)e;
    o->status = e->status;
    o->grpc_status = st->grpc_status;
    o->grpc = st->grpc;
    o->error = e->error;
}

/* Stream 1 of an upgraded connection: the HTTP/1 request's entry, its
 * outcome so far copied in from the stream's; NULL for any other stream. */
static struct oa_pending *handed_entry(const struct oa_pending *e)
{
    const struct h2_stream *st = (const struct h2_stream *)e;
    if (!st->handed)
        return NULL;
    struct oa_pending *h = &st->handover->entry.p;
    h->status = e->status;
    h->error = e->error;
    return h;
}

static void stream_end_span(struct oa_span *s, const struct oa_pending *e, uint64_t end)
{
    struct oa_pending *h = handed_entry(e);
    if (h != NULL) {
        ((const struct h2_stream *)e)->handover->ops->end_span(s, h, end);
        return;
    }
    struct oa_h2_outcome o;
    outcome_of(e, &o);
    if (oa_span_is_raw(s))
        oa_h2_raw_span_finish_at(s, &o, end);
    else
        oa_h2_span_finish_at(s, &o, end);
}

/* series: the connection's memo, or NULL */
static void stream_metric_finish_at(struct oa_http_metrics_series_memo *series, struct h2_stream *st, uint64_t end)
{
    struct oa_pending *h = handed_entry(&st->p);
    if (h != NULL)
        st->handover->ops->metric_finish(h, end, NULL);
    else if (st->grpc)
        oa_grpc_metrics_finish_at(&st->rpc, st->grpc_status, st->p.error, end);
    else
        oa_http_metrics_finish_at(&st->metric, st->p.status, st->p.error, end, series);
}

/* owner: the connection (oa_pending_table_finish_all's), or NULL */
static void stream_metric_finish(struct oa_pending *e, uint64_t end, void *owner)
{
    struct h2_conn *x = owner;
    stream_metric_finish_at(x != NULL ? &x->series_memo : NULL, (struct h2_stream *)e, end);
}

static void stream_metric_abandon(struct oa_pending *e)
{
    struct h2_stream *st = (struct h2_stream *)e;
    struct oa_pending *h = handed_entry(e);
    if (h != NULL)
        st->handover->ops->metric_abandon(h);
    else if (st->grpc)
        oa_grpc_metrics_abandon(&st->rpc);
    else
        oa_http_metrics_abandon(&st->metric);
}

static void stream_metric_disown(struct oa_pending *e)
{
    struct h2_stream *st = (struct h2_stream *)e;
    struct oa_pending *h = handed_entry(e);
    if (h != NULL)
        st->handover->ops->metric_disown(h);
    else if (st->grpc)
        oa_grpc_metrics_abandon(&st->rpc);
    else
        oa_http_metrics_disown(&st->metric);
}

static const struct oa_pending_ops stream_ops = {
    .end_span = stream_end_span,
    .metric_finish = stream_metric_finish,
    .metric_abandon = stream_metric_abandon,
    .metric_disown = stream_metric_disown,
};

/* ---- the state ---- */

static void side_init(struct h2_side *s, bool sends_preface)
{
    oa_h2_reader_init(&s->reader);
    s->preface_left = sends_preface ? PREFACE_LEN : 0;
    s->frame_table_set = false;
    s->unacked_first = 0;
    s->unacked_n = 0;
    s->max_frame = DEFAULT_MAX_FRAME;
    s->max_header_list = NO_LIMIT;
}

static struct oa_proto_conn *conn_open(enum oa_conn_role role)
{
    struct h2_conn *x = oa_pool_get(&conn_pool);
    if (x == NULL)
        return NULL;
    memset(&x->base, 0, sizeof(x->base));
    memset(&x->series_memo, 0, sizeof(x->series_memo));
    oa_splice_lend(&x->base.out, x->splice_more);
    x->role = (uint8_t)role;
    side_init(&x->side[OUT], role == OA_ROLE_CLIENT);
    side_init(&x->side[IN], role != OA_ROLE_CLIENT);
    if (oa_hpack_decoder_init(&x->side[OUT].dec, DEFAULT_TABLE) != 0) {
        oa_pool_put(&conn_pool, x);
        return NULL;
    }
    if (oa_hpack_decoder_init(&x->side[IN].dec, DEFAULT_TABLE) != 0) {
        oa_hpack_decoder_release(&x->side[OUT].dec);
        oa_pool_put(&conn_pool, x);
        return NULL;
    }
    oa_pending_table_init(&x->pending, x->streams, sizeof(x->streams[0]), OA_H2_TABLE_SLOTS);
    return &x->base;
}

static void conn_free(struct oa_proto_conn *p)
{
    struct h2_conn *x = (struct h2_conn *)p;
    oa_pending_table_drop_all(&x->pending, &stream_ops);
    for (int d = OUT; d <= IN; d++) {
        oa_h2_reader_release(&x->side[d].reader);
        oa_hpack_decoder_release(&x->side[d].dec);
    }
    oa_pool_put(&conn_pool, x);
}

static void conn_give_up(struct oa_conn *c)
{
    oa_pending_table_drop_all(&conn_of(c)->pending, &stream_ops);
}

/* ---- streams ---- */

static struct h2_stream *stream_find(struct h2_conn *x, uint32_t id)
{
    return (struct h2_stream *)oa_pending_table_find(&x->pending, id);
}

/* The stream ends now, error: error.type (static) or NULL. */
static void stream_finish(struct h2_conn *x, struct h2_stream *st, const char *error)
{
    if (error != NULL && st->p.error == NULL)
        st->p.error = error;
    uint64_t end = oa_now_unix_nano();
    stream_metric_finish_at(&x->series_memo, st, end);
    if (st->p.span != NULL)
        stream_end_span(st->p.span, &st->p, end);
    oa_pending_finished(&st->p);
    oa_pending_table_remove(&x->pending, &st->p);
}

/* RFC 9113 §7's error codes, as error.type of a stream reset or refused. */
static const char *h2_error_name(uint32_t code)
{
    static const char *const names[] = {
        "NO_ERROR",        "PROTOCOL_ERROR", "INTERNAL_ERROR",     "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",   "FRAME_SIZE_ERROR", "REFUSED_STREAM",   "CANCEL",             "COMPRESSION_ERROR",
        "CONNECT_ERROR",   "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
    };
    return code < sizeof(names) / sizeof(names[0]) ? names[code] : "_OTHER";
}

/* ---- propagation ---- */

/* Where the literal fields of a request head go: out (cap octets), pos of
 * them written, added to the peer's header list (§6.5.2: name, value and
 * 32 octets each). */
struct literals {
    uint8_t *out;
    size_t cap, pos;
    uint64_t added;
};

/* An HPACK literal without indexing appended; false when it does not fit.
 * (oa_propagation_field_fn, for the other propagators' fields) */
static bool append_literal(void *arg, const char *name, size_t name_len, const char *value, size_t len)
{
    struct literals *l = arg;
    size_t n = oa_hpack_literal_without_indexing(l->out + l->pos, l->cap - l->pos, name, name_len, value, len);
    l->pos += n;
    l->added += name_len + len + 32;
    return n > 0;
}

/* The literal fields a request head gets, into out (cap octets): their
 * length, 0 when they do not fit; *list_size grows by what they add to the
 * peer's header list. The W3C fields when their propagators are configured
 * and the head has none of its own (NULL tracestate or baggage: none);
 * then the b3, b3multi and jaeger propagators' fields (others), named in
 * lowercase as HTTP/2 requires, handed over as name and value. */
static size_t context_fields(uint8_t *out, size_t cap, const struct oa_span_context *own, bool traceparent,
                             const char *tracestate, const char *baggage, bool others, const char *jaeger_baggage,
                             uint64_t *list_size)
{
    struct literals l = {.out = out, .cap = cap, .pos = 0, .added = 0};
    if (traceparent) {
        char tp[OA_TRACEPARENT_LEN + 1];
        oa_traceparent_format(own, tp);
        if (!append_literal(&l, "traceparent", 11, tp, OA_TRACEPARENT_LEN))
            return 0;
    }
    size_t ts_len = oa_strlen_or_0(tracestate);
    if (ts_len > 0 && !append_literal(&l, "tracestate", 10, tracestate, ts_len))
        return 0;
    size_t bg_len = oa_strlen_or_0(baggage);
    if (bg_len > 0 && !append_literal(&l, "baggage", 7, baggage, bg_len))
        return 0;
    if (others && !oa_propagation_other_fields(own, jaeger_baggage, true, append_literal, &l))
        return 0;
    *list_size += l.added;
    return l.pos;
}

/* Queues the fields (n octets) at the end of the block's last fragment, or
 * in a CONTINUATION of their own after it; false when it cannot be done.
 * Two splices: the frame's length (or flags) patched, and the insertion;
 * a third when the insertion would follow the last octet the program
 * hands over (the frame's last, at the end of the buffer being read): an
 * insertion after the program's last byte would go out only with its next
 * send, so that octet moves to the insertion's start and the insertion's
 * last octet takes its place (as MySQL's comment at a query's end). */
static bool queue_fields(struct h2_conn *x, const struct oa_h2_block *b, const uint8_t *fields, size_t n,
                         uint64_t chunk_end)
{
    struct oa_splice *sp = &x->base.out;
    const struct oa_h2_fragment *f = &b->last;
    uint32_t max_frame = x->side[IN].max_frame;
    bool fits = (uint64_t)f->len + n <= max_frame;
    uint64_t frame_end = f->frame_at + OA_H2_FRAME_HEADER + f->len;
    uint64_t at = fits ? frame_end - f->pad : frame_end;
    /* before the frame's end, the frame's own octets follow in this or a
     * later send of the program */
    bool at_end = at == frame_end && at >= chunk_end;
    /* the frame's last octet is the block's last when it ends the frame */
    if (sp->count + (at_end ? 3 : 2) > oa_splice_capacity(sp) || f->frame_at < sp->sent ||
        (at_end && (f->pad > 0 || f->len - f->pre == 0 || b->len == 0)) || n + OA_H2_FRAME_HEADER > max_frame)
        return false;
    uint8_t patch[3];
    size_t patch_len;
    uint64_t patch_at;
    uint8_t head[OA_H2_FRAME_HEADER];
    size_t head_len = 0;
    if (fits) {
        uint32_t len = f->len + (uint32_t)n;
        patch[0] = (uint8_t)(len >> 16);
        patch[1] = (uint8_t)(len >> 8);
        patch[2] = (uint8_t)len;
        patch_len = 3;
        patch_at = f->frame_at;
    } else {
        /* END_HEADERS moves to the frame we add */
        patch[0] = (uint8_t)(f->flags & ~OA_H2_END_HEADERS);
        patch_len = 1;
        patch_at = f->frame_at + 4;
        head[0] = (uint8_t)(n >> 16);
        head[1] = (uint8_t)(n >> 8);
        head[2] = (uint8_t)n;
        head[3] = OA_H2_CONTINUATION;
        head[4] = OA_H2_END_HEADERS;
        head[5] = (uint8_t)(b->stream >> 24 & 0x7f);
        head[6] = (uint8_t)(b->stream >> 16);
        head[7] = (uint8_t)(b->stream >> 8);
        head[8] = (uint8_t)b->stream;
        head_len = OA_H2_FRAME_HEADER;
    }
    if (!oa_splice_replace(sp, patch_at, patch, patch_len))
        return false;
    struct oa_injection *inj = oa_splice_reserve(sp, head_len + n);
    if (inj == NULL) {
        oa_splice_cancel_last(sp);
        return false;
    }
    uint8_t *out = (uint8_t *)inj->bytes;
    size_t k = 0;
    if (at_end)
        out[k++] = b->bytes[b->len - 1];
    memcpy(out + k, head, head_len);
    k += head_len;
    /* at_end: all but the last field octet, which replaces the frame's last */
    size_t body = at_end ? n - 1 : n;
    memcpy(out + k, fields, body);
    k += body;
    oa_splice_commit(sp, inj, at_end ? at - 1 : at, k, false);
    oa_splice_bind_last(sp);
    if (at_end) {
        /* cannot fail: room was checked, one octet is inline, the octet is unsent */
        oa_splice_replace(sp, at - 1, fields + n - 1, 1);
        oa_splice_bind_last(sp);
    }
    return true;
}

/* Client: the program's request head h of a new stream is about to go out. */
static void inject(struct h2_conn *x, const struct oa_h2_block *b, const struct oa_h2_head *h,
                   const struct oa_span_context *own, const char *tracestate, const char *baggage, uint64_t chunk_end)
{
    /* read once: the writes below could alias the configuration */
    unsigned propagators = oa_config.propagators;
    bool traceparent = propagators & 1u << OA_PROPAGATOR_TRACECONTEXT;
    if (!traceparent || h->tracestate_len > 0 || h->tracestate_cut)
        tracestate = NULL;
    bool others = propagators & (1u << OA_PROPAGATOR_B3 | 1u << OA_PROPAGATOR_B3MULTI | 1u << OA_PROPAGATOR_JAEGER);
    /* jaeger forwards baggage as uberctx-{key}, unless the program sends its own */
    const char *jaeger_baggage = others && h->uberctx == NULL ? baggage : NULL;
    if (!(propagators & 1u << OA_PROPAGATOR_BAGGAGE) || h->baggage != NULL || h->baggage_cut)
        baggage = NULL;
    size_t other_len = others ? oa_propagation_other_lines(own, jaeger_baggage, NULL) : 0;
    if (!traceparent && oa_strlen_or_0(baggage) == 0 && other_len == 0)
        return;
    /* a literal is at most 2 octets longer than its "Name: value\r\n" line
     * (5 octets of lengths and flags against 4 of separators) */
    size_t cap = 128 + oa_strlen_or_0(tracestate) + oa_strlen_or_0(baggage) + 2 * other_len;
    uint8_t small[768];
    uint8_t *buf = cap <= sizeof(small) ? small : malloc(cap);
    if (buf == NULL)
        return;
    uint64_t added = 0;
    size_t n = context_fields(buf, cap, own, traceparent, tracestate, baggage, other_len > 0, jaeger_baggage, &added);
    uint32_t max_list = x->side[IN].max_header_list;
    if (n == 0 || (max_list != NO_LIMIT && h->list_size + added > max_list) || !queue_fields(x, b, buf, n, chunk_end))
        OA_DEBUG("http2 stream %u: trace context not added", b->stream);
    if (buf != small)
        free(buf);
}

/* Client: whether the program's head h sends a header of a configured
 * format other than tracecontext (oa_propagation_program_sends_other). */
static bool program_sends_other_format(const struct oa_h2_head *h, struct oa_span_context *parent_sc)
{
    struct oa_context_headers ch;
    oa_h2_head_context_headers(h, &ch);
    return oa_propagation_program_sends_other(&ch, parent_sc);
}

/* ---- request heads ---- */

static struct h2_stream *stream_open(struct oa_conn *c, struct h2_conn *x, uint32_t id, const struct oa_h2_head *h,
                                     enum oa_span_kind kind)
{
    struct h2_stream *st = (struct h2_stream *)oa_pending_table_push(&x->pending, id, oa_now_unix_nano());
    if (st == NULL)
        return NULL;
    st->grpc_status = -1;
    st->grpc = h->grpc;
    st->handed = false;
    st->kind = (uint8_t)kind;
    bool server = kind == OA_SPAN_KIND_SERVER;
    const char *host = "";
    size_t host_len = 0;
    int port = -1;
    if (!server) {
        /* server.address and server.port: :authority, else the peer */
        port = oa_conn_peer_text(c, &host);
        host_len = port >= 0 ? strlen(host) : 0;
        if (h->authority_len > 0) {
            int p = oa_http_split_host(h->authority, h->authority_len, &host, &host_len);
            port = p >= 0 ? p : c->tls ? 443 : 80;
        }
    }
    if (h->grpc) {
        const char *service, *method;
        size_t service_len, method_len;
        oa_h2_grpc_path(h->path, h->path_len, &service, &service_len, &method, &method_len);
        oa_grpc_metrics_start(&st->rpc, server, service, service_len, method, method_len, host, host_len, port,
                              st->p.start);
        return st;
    }
    st->metric.recording = false;
    st->metric.active = NULL;
    oa_http_metrics_start_request(&st->metric, server, h->method, h->method_len, OA_METRIC_HTTP_2, host, host_len,
                                  port, st->p.start, &x->series_memo);
    return st;
}

/* The span of a stream whose request head is h: raw, its name and
 * attributes left to the exporter thread, unless its parts are too long
 * for that; then built now. */
static struct oa_span *stream_span(enum oa_span_kind kind, const struct oa_span_context *own,
                                   const struct oa_span_context *parent, uint64_t start, const char *tracestate,
                                   const struct oa_h2_head *h, struct oa_conn *c)
{
    struct oa_h2_request q;
    oa_h2_request_of(&q, h, c);
    struct oa_span *s = oa_h2_raw_span_new(kind, &q, tracestate);
    if (s != NULL) {
        oa_span_set_context(s, own, parent, start);
        return s;
    }
    s = oa_span_begin(kind, own, parent, start, tracestate);
    if (s != NULL)
        oa_h2_span_request(s, &q);
    return s;
}

/* Client: the program opens stream b->stream with request head h. */
static void client_request(struct oa_conn *c, struct h2_conn *x, const struct oa_h2_block *b,
                           const struct oa_h2_head *h, uint64_t chunk_end)
{
    struct h2_stream *st = stream_open(c, x, b->stream, h, OA_SPAN_KIND_CLIENT);
    if (st == NULL)
        return;
    struct oa_span_context parent_sc;
    const struct oa_span_context *parent = NULL;
    const char *tracestate = NULL;
    const char *baggage = NULL;
    bool own_other = false;
    if (h->traceparent_count > 0) {
        /* the program propagates by itself: its bytes are left alone, our
         * span joins the trace it announces */
        if (h->traceparent_count == 1 && oa_traceparent_parse(h->traceparent, h->traceparent_len, &parent_sc)) {
            parent_sc.remote = false;
            parent = &parent_sc;
        }
    } else if (oa_config_propagates_other_formats(&oa_config) &&
               (own_other = program_sends_other_format(h, &parent_sc))) {
        /* so does a program that sends a header of another configured format */
        if (parent_sc.valid)
            parent = &parent_sc;
    } else if (oa_thread_context_parent(&parent_sc, &tracestate, &baggage)) {
        parent = &parent_sc;
    }
    struct oa_span_context own;
    if (oa_span_context_start(&own, parent))
        st->p.span = stream_span(OA_SPAN_KIND_CLIENT, &own, parent, st->p.start, tracestate, h, c);
    if (h->traceparent_count == 0 && !own_other)
        inject(x, b, h, &own, tracestate, baggage, chunk_end);
}

/* Server: the peer opens stream b->stream with request head h. */
static void server_request(struct oa_conn *c, struct h2_conn *x, const struct oa_h2_block *b,
                           const struct oa_h2_head *h)
{
    struct h2_stream *st = stream_open(c, x, b->stream, h, OA_SPAN_KIND_SERVER);
    if (st == NULL)
        return;
    unsigned propagators = oa_config.propagators;
    struct oa_span_context parent_sc;
    const struct oa_span_context *parent = NULL;
    char tracestate[OA_TRACESTATE_MAX + 1];
    tracestate[0] = '\0';
    bool w3c = false;
    if (oa_config_propagates_other_formats(&oa_config)) {
        /* the configured formats in their order, the last that finds one winning */
        struct oa_context_headers ch;
        oa_h2_head_context_headers(h, &ch);
        int winner = oa_propagation_extract(&ch, &parent_sc);
        if (winner >= 0)
            parent = &parent_sc;
        w3c = winner == OA_PROPAGATOR_TRACECONTEXT;
    } else if ((propagators & 1u << OA_PROPAGATOR_TRACECONTEXT) && h->traceparent_count == 1 &&
               oa_traceparent_parse(h->traceparent, h->traceparent_len, &parent_sc)) {
        parent = &parent_sc;
        w3c = true;
    }
    if (w3c && h->tracestate_len > 0 && !h->tracestate_cut &&
        oa_tracestate_normalize(h->tracestate, h->tracestate_len, tracestate, sizeof(tracestate)) < 0)
        tracestate[0] = '\0';
    char *baggage = NULL; /* the sanitised list (malloc'd, with room to join in), or NULL */
    size_t baggage_len = 0;
    bool w3c_baggage = (propagators & 1u << OA_PROPAGATOR_BAGGAGE) && h->baggage != NULL && !h->baggage_cut;
    bool jaeger_baggage = (propagators & 1u << OA_PROPAGATOR_JAEGER) && h->uberctx_len > 0;
    if ((w3c_baggage || jaeger_baggage) && (baggage = malloc(2 * (OA_BAGGAGE_MAX + 1))) != NULL) {
        /* the W3C list, then jaeger's items when they fit: joined only
         * when both came, then sanitised */
        const char *in = w3c_baggage ? h->baggage : "";
        size_t len = w3c_baggage ? h->baggage_len : 0;
        if (jaeger_baggage && len + 1 + h->uberctx_len <= OA_BAGGAGE_MAX) {
            char *joined = baggage + OA_BAGGAGE_MAX + 1;
            memcpy(joined, in, len);
            if (len > 0)
                joined[len++] = ',';
            memcpy(joined + len, h->uberctx, h->uberctx_len);
            in = joined;
            len += h->uberctx_len;
        }
        baggage_len = oa_baggage_sanitize(in, len, baggage, OA_BAGGAGE_MAX + 1);
    }
    struct oa_span_context own;
    bool sampled = oa_span_context_start(&own, parent);
    st->p.ctx = oa_thread_context_enter_new(&own, parent, tracestate, strlen(tracestate),
                                           baggage_len > 0 ? baggage : "", baggage_len);
    free(baggage);
    if (sampled)
        st->p.span = stream_span(OA_SPAN_KIND_SERVER, &own, parent, st->p.start, tracestate, h, c);
}

/* A response head or trailers of a stream in flight. */
static void response_block(struct h2_conn *x, const struct oa_h2_block *b, const struct oa_h2_head *h)
{
    struct h2_stream *st = stream_find(x, b->stream);
    if (st == NULL)
        return;
    if (h->status >= 200)
        st->p.status = h->status;
    if (h->grpc_status >= 0)
        st->grpc_status = (int16_t)(h->grpc_status > 32767 ? 32767 : h->grpc_status);
    if (b->end_stream)
        stream_finish(x, st, NULL);
}

/* ---- the frame layer's events ---- */

static bool on_block(void *arg, const struct oa_h2_block *b)
{
    struct feed_ctx *fc = arg;
    struct h2_conn *x = fc->x;
    struct oa_h2_head h;
    oa_h2_head_init(&h);
    /* a request the program sends may get our fields: its size must be
     * exact (the peer's MAX_HEADER_LIST_SIZE); other blocks' values are
     * decoded only for the fields a head keeps */
    h.exact_list_size = x->role == OA_ROLE_CLIENT && fc->dir == request_dir(x);
    if (oa_hpack_decode_block_wanted(&x->side[fc->dir].dec, b->bytes, b->len, oa_h2_head_field, oa_h2_head_wants,
                                     &h) != 0) {
        oa_h2_head_release(&h);
        return false;
    }
    if (b->type == OA_H2_HEADERS) {
        if (fc->dir == request_dir(x)) {
            /* a new stream the client opens (odd ids); a second block of a
             * stream in flight is its request's trailers */
            if ((b->stream & 1) && stream_find(x, b->stream) == NULL && h.method_len > 0) {
                if (x->role == OA_ROLE_CLIENT)
                    client_request(fc->c, x, b, &h, fc->chunk_end);
                else
                    server_request(fc->c, x, b, &h);
            }
        } else {
            response_block(x, b, &h);
        }
    }
    oa_h2_head_release(&h);
    return true;
}

static bool on_data_end(void *arg, uint32_t stream, bool end_stream)
{
    struct feed_ctx *fc = arg;
    if (end_stream && fc->dir != request_dir(fc->x)) {
        struct h2_stream *st = stream_find(fc->x, stream);
        if (st != NULL)
            stream_finish(fc->x, st, NULL);
    }
    return true;
}

static bool on_rst_stream(void *arg, uint32_t stream, uint32_t code)
{
    struct feed_ctx *fc = arg;
    struct h2_stream *st = stream_find(fc->x, stream);
    if (st != NULL)
        stream_finish(fc->x, st, h2_error_name(code));
    return true;
}

/* The streams above last_stream were not processed (§6.8): they fail. */
static bool on_goaway(void *arg, uint32_t last_stream, uint32_t code)
{
    struct feed_ctx *fc = arg;
    struct h2_conn *x = fc->x;
    (void)code;
    bool again = true;
    while (again) {
        again = false;
        for (unsigned i = 0; i < OA_H2_TABLE_SLOTS; i++) {
            struct h2_stream *st = &x->streams[i];
            if (st->p.used && st->p.id > last_stream) {
                stream_finish(x, st, "GOAWAY");
                again = true; /* the removal may have moved entries */
                break;
            }
        }
    }
    return true;
}

static bool on_setting(void *arg, uint16_t id, uint32_t value)
{
    struct feed_ctx *fc = arg;
    struct h2_side *s = &fc->x->side[fc->dir];
    switch (id) {
    case OA_H2_SETTINGS_HEADER_TABLE_SIZE:
        s->frame_table_set = true;
        s->frame_table = value;
        break;
    case OA_H2_SETTINGS_MAX_FRAME_SIZE:
        if (value < DEFAULT_MAX_FRAME || value > 0xffffff)
            return false;
        s->max_frame = value;
        break;
    case OA_H2_SETTINGS_MAX_HEADER_LIST_SIZE:
        s->max_header_list = value;
        break;
    default:
        break;
    }
    return true;
}

/* A SETTINGS frame of this direction ended. Its HEADER_TABLE_SIZE bounds
 * the decoder of the other direction once that direction acknowledges it
 * (§6.5.3): an ACK here applies the other side's oldest unacknowledged one
 * to this direction's decoder. */
static bool on_settings_end(void *arg, bool ack)
{
    struct feed_ctx *fc = arg;
    struct h2_side *s = &fc->x->side[fc->dir];
    if (!ack) {
        if (s->unacked_n == UNACKED_MAX)
            return false; /* a peer that never acknowledges: not followed */
        s->unacked[(s->unacked_first + s->unacked_n) % UNACKED_MAX] = s->frame_table_set ? s->frame_table : NO_LIMIT;
        s->unacked_n++;
        s->frame_table_set = false;
        return true;
    }
    struct h2_side *other = &fc->x->side[!fc->dir];
    if (other->unacked_n == 0)
        return false; /* an ACK of nothing */
    uint32_t table = other->unacked[other->unacked_first];
    other->unacked_first = (uint8_t)((other->unacked_first + 1) % UNACKED_MAX);
    other->unacked_n--;
    if (table != NO_LIMIT && oa_hpack_decoder_set_limit(&s->dec, table) != 0)
        return false;
    return true;
}

static const struct oa_h2_events events = {
    .block = on_block,
    .data_end = on_data_end,
    .rst_stream = on_rst_stream,
    .goaway = on_goaway,
    .setting = on_setting,
    .settings_end = on_settings_end,
};

/* ---- the wire layer's calls ---- */

/* Octets of one direction: the client preface checked, then frames. */
static bool feed_dir(struct oa_conn *c, int dir, const uint8_t *p, size_t n)
{
    struct h2_conn *x = conn_of(c);
    struct h2_side *s = &x->side[dir];
    if (s->preface_left > 0) {
        size_t k = n < s->preface_left ? n : s->preface_left;
        if (memcmp(p, preface + (PREFACE_LEN - s->preface_left), k) != 0)
            return false;
        s->preface_left = (uint8_t)(s->preface_left - k);
        s->reader.offset += k;
        p += k;
        n -= k;
    }
    struct feed_ctx fc = {.c = c, .x = x, .dir = dir, .chunk_end = s->reader.offset + n};
    return n == 0 || oa_h2_reader_feed(&s->reader, p, n, &events, &fc);
}

static bool feed_outgoing(struct oa_conn *c, const char *p, size_t n)
{
    bool ok = feed_dir(c, OUT, (const uint8_t *)p, n);
    c->proto->out.parsed += n;
    return ok;
}

static void conn_outgoing(struct oa_conn *c, const struct iovec *iov, int iovcnt)
{
    oa_parse_outgoing(c, iov, iovcnt, feed_outgoing);
}

static void conn_incoming(struct oa_conn *c, const char *b, size_t n)
{
    if (!feed_dir(c, IN, (const uint8_t *)b, n))
        oa_protocol_give_up(c);
}

/* Bytes sent unseen (sendfile): a DATA frame's payload can be, the frame
 * header written before; anything else cannot be followed. */
static void conn_skipped(struct oa_conn *c, size_t n)
{
    struct h2_conn *x = conn_of(c);
    struct h2_side *s = &x->side[OUT];
    struct feed_ctx fc = {.c = c, .x = x, .dir = OUT, .chunk_end = s->reader.offset + n};
    if (x->base.out.parsed != x->base.out.sent || s->preface_left > 0 ||
        !oa_h2_reader_skip(&s->reader, n, &events, &fc)) {
        oa_protocol_give_up(c);
        return;
    }
    oa_splice_skip(&x->base.out, n);
}

static void conn_eof(struct oa_conn *c)
{
    struct h2_conn *x = conn_of(c);
    if (x->role == OA_ROLE_CLIENT && oa_pending_table_count(&x->pending) > 0)
        oa_pending_table_finish_all(&x->pending, &stream_ops, oa_pending_error_type(x->base.io_error), x);
}

static void conn_end(struct oa_conn *c, int err)
{
    struct h2_conn *x = conn_of(c);
    if (oa_pending_table_count(&x->pending) > 0)
        oa_pending_table_finish_all(&x->pending, &stream_ops, oa_pending_error_type(err), x);
}

static void conn_disown(struct oa_proto_conn *p)
{
    oa_pending_table_disown_all(&((struct h2_conn *)p)->pending, &stream_ops);
}

static void conn_crash(const struct oa_proto_conn *p, const struct oa_crash_walk *w)
{
    const struct h2_conn *x = (const struct h2_conn *)p;
    if (x->pending.slots != (const unsigned char *)x->streams || x->pending.size != sizeof(x->streams[0]) ||
        x->pending.mask != OA_H2_TABLE_SLOTS - 1)
        return;
    for (unsigned i = 0; i < OA_H2_TABLE_SLOTS; i++) {
        if (x->streams[i].p.used)
            oa_pending_crash_copy(&x->streams[i].p, sizeof(x->streams[i]), &stream_ops, w);
    }
}

/* A runtime hint by peer port (http_hint.h): the server streams in flight.
 * A stream's entry stays in the table until its response ends (or it is
 * reset): every entry is a request not answered yet. */
static void conn_unanswered(struct oa_conn *c, struct oa_unanswered_query *q)
{
    struct h2_conn *x = conn_of(c);
    if (x->role != OA_ROLE_SERVER)
        return;
    for (unsigned i = 0; i < OA_H2_TABLE_SLOTS && q->count < 2; i++) {
        if (x->streams[i].p.used)
            oa_unanswered_offer(q, x->streams[i].p.ctx);
    }
}

/* An HTTP/1 connection upgraded (`Upgrade: h2c` answered 101): HTTP/2
 * from the octet after the 101, the client's preface still to come, the
 * upgrade request (handed over: HTTP/1's span and metric) stream 1, whose
 * response is HTTP/2's. The settings of the request's HTTP2-Settings
 * header are not read: the defaults stand for the server's directions
 * until the client's SETTINGS frame (a larger HEADER_TABLE_SIZE there gives
 * the connection up when the server uses it before). */
static struct oa_proto_conn *conn_switch_in(struct oa_conn *c, const void *arg)
{
    const struct oa_pending_handover *h = arg;
    struct oa_proto_conn *p = conn_open((enum oa_conn_role)c->role);
    if (p == NULL)
        return NULL;
    struct h2_conn *x = (struct h2_conn *)p;
    /* splice offsets continue the connection's outgoing stream */
    x->side[OUT].reader.offset = c->proto->out.parsed;
    x->handed.ops = NULL;
    if (h == NULL || h->ops == NULL || h->size > sizeof(x->handed.entry))
        return p;
    struct h2_stream *st = (struct h2_stream *)oa_pending_table_push(&x->pending, 1, h->entry.p.start);
    if (st == NULL)
        return p;
    memcpy(&x->handed, h, sizeof(x->handed));
    st->p.span = h->entry.p.span;
    st->p.ctx = h->entry.p.ctx;
    st->grpc_status = -1;
    st->grpc = false;
    st->kind = (uint8_t)(x->role == OA_ROLE_CLIENT ? OA_SPAN_KIND_CLIENT : OA_SPAN_KIND_SERVER);
    st->handed = true;
    st->handover = &x->handed;
    return p;
}

/* The side that opens the connection sends the preface first: claimed on
 * its first octets (all 24 when the call has them; a shorter first call is
 * claimed on what matches, the rest checked as it comes, and a mismatch
 * gives the connection up). A stream that starts "PRI" but is not the
 * preface is not HTTP/2. A server sends its own preface (a SETTINGS frame
 * on stream 0) without waiting for the client's (grpcio, nghttp2 do), and
 * its client may read it before it writes (grpcio's does): the first
 * octets from the server are claimed on that frame's header, the client's
 * preface then checked as it comes. */
static bool conn_detect(enum oa_conn_role role, bool outgoing, const unsigned char *b, size_t n)
{
    if (outgoing != (role == OA_ROLE_CLIENT))
        return n >= OA_H2_FRAME_HEADER && b[3] == OA_H2_SETTINGS && b[4] == 0 && b[0] == 0 &&
               ((unsigned)b[1] << 8 | b[2]) % 6 == 0 && (b[5] | b[6] | b[7] | b[8]) == 0;
    if (n < 4)
        return false;
    return memcmp(b, preface, n < PREFACE_LEN ? n : PREFACE_LEN) == 0;
}

const struct oa_protocol oa_http2_protocol = {
    .name = "http2",
    .detect = conn_detect,
    .open = conn_open,
    .outgoing = conn_outgoing,
    .incoming = conn_incoming,
    .skipped = conn_skipped,
    .eof = conn_eof,
    .end = conn_end,
    .give_up = conn_give_up,
    .disown = conn_disown,
    .free = conn_free,
    .crash = conn_crash,
    .switch_in = conn_switch_in,
    .unanswered = conn_unanswered,
};

void oa_http2_register(void)
{
    oa_protocol_register(&oa_http2_protocol);
}
