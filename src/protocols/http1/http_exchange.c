/* HTTP/1.x exchanges on one connection: parser events become spans, and
 * outgoing requests get their trace headers. Called with the connection
 * locked; never blocks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "protocols/common/outgoing.h"
#include "protocols/common/pending_handover.h"
#include "protocols/http1/http_exchange.h"
#include "protocols/http1/http_hint.h"
#include "protocols/common/unanswered.h"
#include "protocols/http1/http_raw_span.h"
#include "protocols/http1/http_span.h"
#include "base/log.h"
#include "base/pool.h"
#include "trace/traceparent.h"
#include "trace/tracestate.h"
#include "trace/baggage.h"
#include "trace/propagation.h"
#include "trace/span.h"
#include "trace/span_start.h"
#include "trace/thread_context.h"

#define TRACESTATE_JOIN_MAX 2048

enum stream { OUTGOING, INCOMING };

_Static_assert(sizeof(struct oa_inflight) <= OA_PENDING_ENTRY_MAX, "the crash capture copies an entry whole");

/* Exchanges come from a lock-free pool, not malloc: the first send or
 * receive on a connection creates one, and that may be a call from a signal
 * handler that interrupted malloc (the program may write() there; malloc
 * would wait for the lock its own thread holds). Beyond the bound (that many
 * connections with HTTP traffic at once), malloc. */
static struct oa_pool exchange_pool = OA_POOL_INIT(sizeof(struct oa_http_exchange), 16, 1024);

static struct oa_proto_conn *exchange_open(enum oa_conn_role role)
{
    struct oa_http_exchange *x = oa_pool_get(&exchange_pool);
    if (x == NULL)
        return NULL;
    memset(x, 0, sizeof(*x));
    x->role = role;
    /* LIGHT: header lines this code never reads are skipped, left for the
     * exporter's FULL parse to check. Except on the one stream we add bytes
     * to, a client's requests: there a line LIGHT does not look into could
     * hide where the head ends
     * for the receiver (a bare CR before "Content-Length" in an unread
     * header, which some receivers take as a line break), and header lines
     * would go into what the receiver reads as a body. FULL rejects such a
     * head, and the connection is passed through untouched. */
    oa_http1_init_mode(&x->out, role == OA_ROLE_CLIENT ? OA_HTTP1_REQUESTS : OA_HTTP1_RESPONSES,
                       role == OA_ROLE_CLIENT ? OA_HTTP1_FULL : OA_HTTP1_LIGHT);
    oa_http1_init_mode(&x->in, role == OA_ROLE_CLIENT ? OA_HTTP1_RESPONSES : OA_HTTP1_REQUESTS, OA_HTTP1_LIGHT);
    /* a server's requests: nothing is inserted into them */
    if (role == OA_ROLE_SERVER)
        oa_http1_without_head_end(&x->in);
    oa_pending_fifo_init(&x->pending, NULL, sizeof(struct oa_inflight), OA_HTTP_MAX_INFLIGHT);
    return &x->base;
}

/* The busy areas: lock-free (a head's first byte on the program's thread
 * takes one without waiting), the same bound as the exchanges. */
static struct oa_pool busy_pool = OA_POOL_INIT(sizeof(struct oa_http_busy), 16, 1024);

/* Before bytes are parsed: the connection's busy area, its parsers' work
 * areas attached. false when none can be had (the connection is given up). */
static inline __attribute__((always_inline)) bool exchange_wake(struct oa_http_exchange *x)
{
    if (__builtin_expect(x->busy != NULL, 1))
        return true;
    struct oa_http_busy *b = oa_pool_get(&busy_pool);
    if (b == NULL)
        return false;
    x->busy = b;
    oa_http1_attach(&x->out, &b->out_work);
    oa_http1_attach(&x->in, &b->in_work);
    /* empty: nothing to move */
    x->pending.slots = (unsigned char *)b->fl;
    x->pending.first = 0;
    return true;
}

/* After: the busy area goes back once nothing needs it. */
static inline __attribute__((always_inline)) void exchange_rest(struct oa_http_exchange *x)
{
    if (x->busy == NULL || x->pending.count != 0 || oa_http1_in_head(&x->out) || oa_http1_in_head(&x->in))
        return;
    oa_http1_detach(&x->out);
    oa_http1_detach(&x->in);
    x->pending.slots = NULL;
    oa_pool_put(&busy_pool, x->busy);
    x->busy = NULL;
}

/* The exchange of a connection HTTP/1 claimed. */
static inline struct oa_http_exchange *exchange_of(struct oa_conn *c)
{
    return (struct oa_http_exchange *)c->proto;
}

_Static_assert((OA_HTTP_MAX_INFLIGHT & (OA_HTTP_MAX_INFLIGHT - 1)) == 0, "a FIFO's capacity is a power of two");

/* The HTTP/1 entry a pending request begins. */
static inline struct oa_inflight *inflight_of(struct oa_pending *e)
{
    return (struct oa_inflight *)e;
}

/* The FIFO's slots are x->busy->fl (held while a request is in flight): an
 * entry's address from the array, its stride a constant here. The oldest,
 * or NULL. */
static inline struct oa_inflight *inflight_front(struct oa_http_exchange *x)
{
    if (x->pending.count == 0)
        return NULL;
    return inflight_of(oa_pending_fifo_at_in(&x->pending, x->busy->fl, sizeof(x->busy->fl[0]), 0));
}

/* ---- what the pending requests' common code asks of HTTP/1 ---- */

static void inflight_end_span(struct oa_span *s, const struct oa_pending *e, uint64_t end)
{
    if (oa_span_is_raw(s))
        oa_http_raw_span_finish_at(s, e->status, e->error, end);
    else
        oa_http_span_finish_at(s, e->status, e->error, end);
}

static void inflight_metric_finish(struct oa_pending *e, uint64_t end, void *owner)
{
    /* owner NULL: the request was handed to HTTP/2 (Upgrade: h2c) */
    struct oa_http_exchange *x = owner;
    oa_http_metrics_finish_at(&inflight_of(e)->metric, e->status, e->error, end, x != NULL ? &x->series_memo : NULL);
}

static void inflight_metric_abandon(struct oa_pending *e)
{
    oa_http_metrics_abandon(&inflight_of(e)->metric);
}

static void inflight_metric_disown(struct oa_pending *e)
{
    oa_http_metrics_disown(&inflight_of(e)->metric);
}

static const struct oa_pending_ops inflight_ops = {
    .end_span = inflight_end_span,
    .metric_finish = inflight_metric_finish,
    .metric_abandon = inflight_metric_abandon,
    .metric_disown = inflight_metric_disown,
};

/* The splice's buffers are freed by the wire layer (oa_protocol_free). */
static void exchange_free(struct oa_proto_conn *p)
{
    struct oa_http_exchange *x = (struct oa_http_exchange *)p;
    oa_pending_fifo_drop_all(&x->pending, &inflight_ops);
    oa_http1_release(&x->out);
    oa_http1_release(&x->in);
    oa_pool_put(&busy_pool, x->busy);
    oa_pool_put(&exchange_pool, x);
}

static void exchange_crash(const struct oa_proto_conn *p, const struct oa_crash_walk *w)
{
    const struct oa_http_exchange *x = (const struct oa_http_exchange *)p;
    /* the FIFO's slots must be this exchange's own (a recycled or half
     * opened state may not have them yet) */
    if (x->busy == NULL || x->pending.slots != (const unsigned char *)x->busy->fl ||
        x->pending.size != sizeof(x->busy->fl[0]) ||
        x->pending.mask != OA_HTTP_MAX_INFLIGHT - 1)
        return;
    oa_pending_fifo_crash_copy_all(&x->pending, &inflight_ops, w);
}

/* Parsing stops (oa_protocol_give_up, which also keeps of the splice only
 * what began): the requests in flight are dropped. */
static void exchange_give_up(struct oa_conn *c)
{
    oa_pending_fifo_drop_all(&exchange_of(c)->pending, &inflight_ops);
}

/* A runtime hint by peer port (http_hint.h): the server requests in
 * flight, those whose response is not complete. */
static void exchange_unanswered(struct oa_conn *c, struct oa_unanswered_query *q)
{
    struct oa_http_exchange *x = exchange_of(c);
    if (x->role != OA_ROLE_SERVER)
        return;
    for (unsigned i = 0; i < x->pending.count && q->count < 2; i++)
        oa_unanswered_offer(q, oa_pending_fifo_at(&x->pending, i)->ctx);
}

/* ---- propagation helpers ---- */

static size_t join_headers(const struct oa_http1_head *h, enum oa_http1_known name, char *out, size_t cap, bool *overflow)
{
    size_t pos = 0;
    *overflow = false;
    /* most requests carry none: no walk over their headers */
    size_t left = h->known_count[name];
    for (size_t i = 0; i < h->n_headers && left > 0; i++) {
        if (h->known[i] != name)
            continue;
        left--;
        struct oa_http1_header hd = oa_http1_header_at(h, i);
        size_t need = hd.value_len + (pos > 0 ? 1 : 0);
        if (pos + need + 1 > cap) {
            *overflow = true;
            return 0;
        }
        if (pos > 0)
            out[pos++] = ',';
        memcpy(out + pos, hd.value, hd.value_len);
        pos += hd.value_len;
    }
    if (cap > 0)
        out[pos] = '\0';
    return pos;
}

/* The tracestate headers of a request whose traceparent is its context,
 * joined and normalised into out (OA_TRACESTATE_MAX + 1 bytes; "" when
 * there is none or it is invalid). */
static inline __attribute__((always_inline)) void read_tracestate(const struct oa_http1_head *h, char *out)
{
    /* most requests carry none: out stays "" without a call (join_headers
     * would find nothing) */
    if (h->known_count[OA_HTTP1_H_TRACESTATE] == 0)
        return;
    char joined[TRACESTATE_JOIN_MAX];
    bool overflow;
    size_t len = join_headers(h, OA_HTTP1_H_TRACESTATE, joined, sizeof(joined), &overflow);
    if (len > 0 && !overflow && oa_tracestate_normalize(joined, len, out, OA_TRACESTATE_MAX + 1) < 0)
        out[0] = '\0';
}

/* The header a context propagator reads, by its index in the head. */
static const uint8_t context_header_known[OA_CH_N] = {
    [OA_CH_TRACEPARENT] = OA_HTTP1_H_TRACEPARENT, [OA_CH_B3] = OA_HTTP1_H_B3,
    [OA_CH_X_B3_TRACEID] = OA_HTTP1_H_X_B3_TRACEID, [OA_CH_X_B3_SPANID] = OA_HTTP1_H_X_B3_SPANID,
    [OA_CH_X_B3_SAMPLED] = OA_HTTP1_H_X_B3_SAMPLED, [OA_CH_X_B3_FLAGS] = OA_HTTP1_H_X_B3_FLAGS,
    [OA_CH_UBER_TRACE_ID] = OA_HTTP1_H_UBER_TRACE_ID,
};

/* What a head carries of the headers the context propagators read. */
static void context_headers_of(const struct oa_http1_head *h, struct oa_context_headers *ch)
{
    for (int i = 0; i < OA_CH_N; i++) {
        size_t n;
        const struct oa_http1_header *f = oa_http1_find_known(h, (enum oa_http1_known)context_header_known[i], &n);
        ch->count[i] = n;
        ch->value[i] = f != NULL ? f->value : NULL;
        ch->len[i] = f != NULL ? f->value_len : 0;
    }
}

/* Client: whether the program sends a header of a configured format other
 * than tracecontext itself (it propagates by itself, and nothing is added);
 * then *parent_sc is the context those headers name, valid if they name
 * one. Apart from the common path, which never comes here (its frame
 * stays small). */
__attribute__((noinline)) static bool program_sends_other_format(const struct oa_http1_head *h,
                                                                 struct oa_span_context *parent_sc)
{
    struct oa_context_headers ch;
    context_headers_of(h, &ch);
    return oa_propagation_program_sends_other(&ch, parent_sc);
}

/* Server: the context a request carries by the configured propagators, in
 * their order (the last one that finds one wins), tracestate with it when
 * traceparent won. Whether there is one. */
__attribute__((noinline)) static bool extract_formats(const struct oa_http1_head *h, struct oa_span_context *parent_sc,
                                                      char *tracestate)
{
    struct oa_context_headers ch;
    context_headers_of(h, &ch);
    int winner = oa_propagation_extract(&ch, parent_sc);
    if (winner == OA_PROPAGATOR_TRACECONTEXT)
        read_tracestate(h, tracestate);
    return winner >= 0;
}

/* Jaeger's uberctx-{key} headers of a head as W3C baggage members appended
 * to buf[0, *len) (cap bytes). */
static void append_uberctx(const struct oa_http1_head *h, char *buf, size_t *len, size_t cap)
{
    size_t left = h->known_count[OA_HTTP1_H_UBERCTX];
    for (size_t i = 0; i < h->n_headers && left > 0; i++) {
        if (h->known[i] != OA_HTTP1_H_UBERCTX)
            continue;
        left--;
        struct oa_http1_header hd = oa_http1_header_at(h, i);
        oa_propagation_append_uberctx(hd.name, hd.name_len, hd.value, hd.value_len, buf, len, cap);
    }
}

/* The span of the request head p has just parsed: raw, its name and
 * attributes left to the exporter thread, unless the head is too long for
 * that; then built now, as the other paths do. Inlined in both request
 * handlers (a call each cost more than it saved in code). */
static inline __attribute__((always_inline)) struct oa_span *
request_span(enum oa_span_kind kind, const struct oa_http1_parser *p, struct oa_conn *c,
             const struct oa_span_context *own, const struct oa_span_context *parent, uint64_t start,
             const char *tracestate)
{
    struct oa_span *s = oa_http_raw_span_new(kind, p, c, tracestate);
    if (s != NULL) {
        oa_span_set_context(s, own, parent, start);
        return s;
    }
    s = oa_span_begin(kind, own, parent, start, tracestate);
    if (s != NULL && kind == OA_SPAN_KIND_SERVER)
        oa_http_span_server_start(s, oa_http1_head(p), c);
    else if (s != NULL)
        oa_http_span_client_start(s, oa_http1_head(p), c);
    return s;
}

/* A header line's "name: " and its "\r\n", around its value. */
static inline __attribute__((always_inline)) void append_name(char *buf, size_t *pos, const char *name, size_t nl)
{
    memcpy(buf + *pos, name, nl);
    *pos += nl;
    buf[(*pos)++] = ':';
    buf[(*pos)++] = ' ';
}

static inline __attribute__((always_inline)) void append_end(char *buf, size_t *pos)
{
    buf[(*pos)++] = '\r';
    buf[(*pos)++] = '\n';
}

/* name: a string literal (its length known when compiling) */
#define append_line(buf, pos, name, value, len) append_named_line(buf, pos, name, sizeof(name) - 1, value, len)

static inline __attribute__((always_inline)) void append_named_line(char *buf, size_t *pos, const char *name, size_t nl,
                                                                    const char *value, size_t len)
{
    append_name(buf, pos, name, nl);
    memcpy(buf + *pos, value, len);
    *pos += len;
    append_end(buf, pos);
}

/* Queues the header lines to insert at stream offset `at` of the request
 * head h: W3C's, and those of the other configured propagators, baggage as
 * baggage and uberctx-{key} lines. None the program sent itself is added
 * again (tracestate, baggage or uberctx-{key} lines); no traceparent line
 * when the head has one that is being replaced (a runtime hint's). */
static bool queue_injection(struct oa_http_exchange *x, uint64_t at, const struct oa_http1_head *h,
                            const struct oa_span_context *own, const char *tracestate, const char *baggage,
                            bool traceparent_line)
{
    if (oa_http1_find_known(h, OA_HTTP1_H_TRACESTATE, NULL) != NULL)
        tracestate = NULL;
    size_t ts_len = oa_strlen_or_0(tracestate);
    size_t bg_len = oa_strlen_or_0(baggage);
    size_t need = 0;
    /* read once: the writes below could alias the configuration */
    unsigned propagators = oa_config.propagators;
    bool tracecontext = propagators & 1u << OA_PROPAGATOR_TRACECONTEXT;
    bool w3c_baggage = (propagators & 1u << OA_PROPAGATOR_BAGGAGE) && bg_len > 0 &&
                       oa_http1_find_known(h, OA_HTTP1_H_BAGGAGE, NULL) == NULL;
    bool others = propagators & ~(1u << OA_PROPAGATOR_TRACECONTEXT | 1u << OA_PROPAGATOR_BAGGAGE);
    const char *jaeger_baggage = others && oa_http1_find_known(h, OA_HTTP1_H_UBERCTX, NULL) == NULL ? baggage : NULL;
    if (tracecontext) {
        if (traceparent_line)
            need += sizeof("traceparent: \r\n") + OA_TRACEPARENT_LEN;
        if (ts_len > 0)
            need += sizeof("tracestate: \r\n") + ts_len;
    }
    if (w3c_baggage)
        need += sizeof("baggage: \r\n") + bg_len;
    if (others)
        need += oa_propagation_other_lines(own, jaeger_baggage, NULL);
    if (need == 0)
        return true;
    struct oa_injection *inj = oa_splice_reserve(&x->base.out, need);
    if (inj == NULL)
        return false;
    size_t pos = 0;
    if (tracecontext) {
        if (traceparent_line) {
            /* formatted in place, not into a copy: its NUL falls on the
             * '\r' written after it (need counts one byte more per line) */
            append_name(inj->bytes, &pos, "traceparent", sizeof("traceparent") - 1);
            oa_traceparent_format(own, inj->bytes + pos);
            pos += OA_TRACEPARENT_LEN;
            append_end(inj->bytes, &pos);
        }
        if (ts_len > 0)
            append_line(inj->bytes, &pos, "tracestate", tracestate, ts_len);
    }
    if (w3c_baggage)
        append_line(inj->bytes, &pos, "baggage", baggage, bg_len);
    if (others)
        pos += oa_propagation_other_lines(own, jaeger_baggage, inj->bytes + pos);
    oa_splice_commit(&x->base.out, inj, at, pos, false);
    return true;
}

/* Stream offset of a request header's value in the outgoing head that ends
 * at `at`, if it is a version-00 traceparent not sent yet. */
static bool forwarded_value_offset(const struct oa_http_exchange *x, const struct oa_http1_header *tp,
                                   uint64_t at, uint64_t *value_at)
{
    const struct oa_http1_parser *p = &x->out;
    if (tp->value_len != OA_TRACEPARENT_LEN || p->head_buf == NULL || tp->value < p->head_buf ||
        tp->value + tp->value_len > p->head_buf + p->head_len || at < p->head_len)
        return false;
    *value_at = at - p->head_len + (uint64_t)(tp->value - p->head_buf);
    return *value_at >= x->base.out.sent;
}

/* Queues our traceparent value in place of the forwarded one at `at`. */
static bool queue_replacement(struct oa_http_exchange *x, uint64_t at, const struct oa_span_context *own)
{
    char tp[OA_TRACEPARENT_LEN + 1];
    oa_traceparent_format(own, tp);
    return oa_splice_replace(&x->base.out, at, tp, OA_TRACEPARENT_LEN);
}

/* Client: whether the head's one traceparent is a runtime module's
 * placeholder (http_hint.h): -1 not; 0 it is, and names no parent; 1 it
 * is, and *parent_sc (with *tracestate and *baggage) is the parent. The
 * request it names is the parent; when it names none, or one answered or
 * unknown, the process's own context or none, never the requests this
 * thread holds. *hinted: the request, with a reference the caller drops.
 * The placeholder is always replaced, by our span's own value (*replace,
 * at *replace_at). Apart from the common path (its frame stays small). */
__attribute__((noinline)) static int read_hint(struct oa_http_exchange *x, const struct oa_http1_header *tp, uint64_t at,
                                               struct oa_span_context *parent_sc, const char **tracestate,
                                               const char **baggage, uint64_t *replace_at, bool *replace,
                                               struct oa_server_context **hinted)
{
    struct oa_http_hint hint;
    if (!oa_http_hint_parse(tp->value, tp->value_len, &hint))
        return -1;
    *hinted = oa_http_hint_resolve(&hint);
    const struct oa_server_context *from = *hinted != NULL ? *hinted : oa_thread_context_process();
    *replace = forwarded_value_offset(x, tp, at, replace_at);
    if (from == NULL)
        return 0;
    *parent_sc = from->sc;
    *tracestate = from->tracestate;
    *baggage = from->baggage;
    return 1;
}

/* inlined in both request handlers, as request_span below */
static inline __attribute__((always_inline)) struct oa_inflight *inflight_push(struct oa_http_exchange *x,
                                                                               const struct oa_http1_head *h,
                                                                               uint64_t start)
{
    struct oa_pending *e = oa_pending_fifo_push_in(&x->pending, x->busy->fl, sizeof(x->busy->fl[0]), start);
    if (e == NULL)
        return NULL;
    struct oa_inflight *f = inflight_of(e);
    /* field by field, not a memset of the whole slot (its metric key is
     * ~100 bytes that oa_http_metrics_start_client writes anyway) */
    f->metric.recording = false;
    f->metric.active = NULL;
    f->is_head = h->method_len == 4 && memcmp(h->method, "HEAD", 4) == 0;
    f->is_connect = h->method_len == 7 && memcmp(h->method, "CONNECT", 7) == 0;
    return f;
}

/* ---- the events ---- */

/* Client: the head of a request we send is complete but for its empty line,
 * which starts at stream offset `at`: the place for our header lines. */
__attribute__((noinline)) static bool on_client_request_head(struct oa_conn *c, uint64_t at)
{
    struct oa_http_exchange *x = exchange_of(c);
    const struct oa_http1_head *h = oa_http1_head(&x->out);
    struct oa_inflight *f = inflight_push(x, h, x->out_message_start);
    if (f == NULL)
        return false;

    size_t own_tp_count = 0;
    const struct oa_http1_header *own_tp = oa_http1_find_known(h, OA_HTTP1_H_TRACEPARENT, &own_tp_count);
    bool others = oa_config_propagates_other_formats(&oa_config);
    bool own_other = false;
    struct oa_span_context parent_sc;
    const struct oa_span_context *parent = NULL;
    const char *tracestate = NULL;
    const char *baggage = NULL;
    uint64_t forwarded_at = 0;
    bool forwarded = false;
    struct oa_server_context *hinted = NULL;
    bool is_hint = false;
    if (own_tp_count > 0) {
        /* The program propagates by itself (or a runtime module asks for
         * a parent, read_hint). If it forwards the traceparent
         * of a request this thread is handling (a proxy), our client span
         * is that server span's child and takes the header's place, so the
         * next hop is our child. Otherwise its bytes are left alone, and
         * our span joins the trace it announces. */
        int hint = own_tp_count == 1 ? read_hint(x, own_tp, at, &parent_sc, &tracestate, &baggage, &forwarded_at,
                                                 &forwarded, &hinted)
                                     : -1;
        is_hint = hint >= 0;
        if (hint > 0)
            parent = &parent_sc;
        else if (!is_hint && own_tp_count == 1 && oa_traceparent_parse(own_tp->value, own_tp->value_len, &parent_sc)) {
            struct oa_server_context *fwd = oa_thread_context_forwarded(&parent_sc);
            if (fwd != NULL && forwarded_value_offset(x, own_tp, at, &forwarded_at)) {
                forwarded = true;
                parent_sc = fwd->sc;
                tracestate = fwd->tracestate;
            } else {
                parent_sc.remote = false;
            }
            parent = &parent_sc;
        }
    } else if (others && (own_other = program_sends_other_format(h, &parent_sc))) {
        /* so does a program that sends a header of another configured
         * format: its bytes are left alone; our span joins the trace they
         * name */
        if (parent_sc.valid)
            parent = &parent_sc;
    } else if (oa_thread_context_parent(&parent_sc, &tracestate, &baggage)) {
        parent = &parent_sc;
    }
    oa_http_metrics_start_client(&f->metric, h, c, x->out_message_start, &x->server_memo);
    struct oa_span_context own;
    bool sampled = oa_span_context_start(&own, parent);
    if (sampled)
        f->p.span = request_span(OA_SPAN_KIND_CLIENT, &x->out, c, &own, parent, x->out_message_start, tracestate);
    if (forwarded && !queue_replacement(x, forwarded_at, &own))
        OA_DEBUG("fd %d: no room to replace the forwarded traceparent", c->fd);
    if (own_tp_count == 0 ? !own_other : is_hint) {
        if (!queue_injection(x, at, h, &own, tracestate, baggage, own_tp_count == 0))
            OA_DEBUG("fd %d: no room to inject trace headers", c->fd);
    }
    if (hinted != NULL)
        oa_server_context_unref(hinted);
    return true;
}

/* Server: a request head arrived: continue its trace or start one. */
static bool on_server_request_head(struct oa_conn *c)
{
    struct oa_http_exchange *x = exchange_of(c);
    const struct oa_http1_head *h = oa_http1_head(&x->in);
    x->heads_read = (x->heads_read + 1) & OA_HTTP_HINT_SEQ_MASK;
    struct oa_inflight *f = inflight_push(x, h, x->in_message_start);
    if (f == NULL)
        return false;

    struct oa_span_context parent_sc;
    const struct oa_span_context *parent = NULL;
    /* only the string is read, never the bytes after its NUL: no need to
     * clear all 513 bytes for every request */
    char tracestate[OA_TRACESTATE_MAX + 1];
    tracestate[0] = '\0';
    unsigned propagators = oa_config.propagators;
    if (propagators & ~(1u << OA_PROPAGATOR_TRACECONTEXT | 1u << OA_PROPAGATOR_BAGGAGE)) {
        if (extract_formats(h, &parent_sc, tracestate))
            parent = &parent_sc;
    } else if (propagators & 1u << OA_PROPAGATOR_TRACECONTEXT) {
        size_t n = 0;
        const struct oa_http1_header *tp = oa_http1_find_known(h, OA_HTTP1_H_TRACEPARENT, &n);
        if (n == 1 && oa_traceparent_parse(tp->value, tp->value_len, &parent_sc)) {
            parent = &parent_sc;
            read_tracestate(h, tracestate);
        }
    }
    char *baggage = NULL;
    size_t baggage_len = 0;
    bool w3c_baggage = (propagators & 1u << OA_PROPAGATOR_BAGGAGE) &&
                       oa_http1_find_known(h, OA_HTTP1_H_BAGGAGE, NULL) != NULL;
    bool jaeger_baggage = (propagators & 1u << OA_PROPAGATOR_JAEGER) &&
                          oa_http1_find_known(h, OA_HTTP1_H_UBERCTX, NULL) != NULL;
    if (w3c_baggage || jaeger_baggage) {
        /* joined input, then the sanitised copy; only requests that carry
         * baggage pay for this */
        char *buf = malloc(2 * (OA_BAGGAGE_MAX + 1));
        if (buf != NULL) {
            bool overflow = false;
            size_t len = 0;
            buf[0] = '\0';
            if (w3c_baggage)
                len = join_headers(h, OA_HTTP1_H_BAGGAGE, buf, OA_BAGGAGE_MAX + 1, &overflow);
            if (jaeger_baggage && !overflow)
                append_uberctx(h, buf, &len, OA_BAGGAGE_MAX + 1);
            char *clean = buf + OA_BAGGAGE_MAX + 1;
            if (!overflow)
                baggage_len = oa_baggage_sanitize(buf, len, clean, OA_BAGGAGE_MAX + 1);
            if (baggage_len > 0) {
                memmove(buf, clean, baggage_len + 1);
                baggage = buf;
            } else {
                free(buf);
            }
        }
    }

    oa_http_metrics_start_server(&f->metric, h, x->in_message_start, &x->series_memo);
    struct oa_span_context own;
    bool sampled = oa_span_context_start(&own, parent);
    f->p.ctx = oa_thread_context_enter_new(&own, parent, tracestate, oa_strlen_or_0(tracestate),
                                         baggage != NULL ? baggage : "", baggage_len);
    if (baggage != NULL)
        free(baggage);
    if (sampled)
        f->p.span = request_span(OA_SPAN_KIND_SERVER, &x->in, c, &own, parent, x->in_message_start, tracestate);
    return true;
}

/* inlined in the two feed loops that read responses: a call per response
 * cost as much as its few tests */
static inline __attribute__((always_inline)) bool on_response_head(struct oa_http_exchange *x,
                                                                   struct oa_http1_parser *p)
{
    const struct oa_http1_head *h = oa_http1_head(p);
    struct oa_inflight *f = inflight_front(x);
    if (f == NULL)
        return false; /* a response to nothing: we lost the thread */
    x->interim = h->status >= 100 && h->status < 200 && h->status != 101;
    if (x->interim)
        return true;
    if (h->status == 101) {
        const struct oa_http1_header *up = oa_http1_find_known(h, OA_HTTP1_H_UPGRADE, NULL);
        x->h2c_switch = up != NULL && up->value_len == 3 && strncasecmp(up->value, "h2c", 3) == 0;
    }
    f->p.status = h->status;
    if (f->is_head)
        oa_http1_response_has_no_body(p, false);
    else if (f->is_connect && h->status >= 200 && h->status < 300)
        oa_http1_response_has_no_body(p, true);
    return true;
}

static void on_response_done(struct oa_http_exchange *x)
{
    if (x->interim) {
        x->interim = false;
        return;
    }
    struct oa_inflight *f = inflight_front(x);
    if (f == NULL)
        return;
    /* oa_pending_finish with HTTP/1's own operations called directly (the
     * per-response path): one clock read ends the metric and the span */
    uint64_t end = oa_now_unix_nano();
    oa_http_metrics_finish_at(&f->metric, f->p.status, f->p.error, end, &x->series_memo);
    if (f->p.span != NULL)
        inflight_end_span(f->p.span, &f->p, end);
    oa_pending_finished(&f->p);
    oa_pending_fifo_pop(&x->pending);
}

/* A 101 to `Upgrade: h2c` is complete, `at` octets into the buffer being
 * read (incoming; outgoing: where out.parsed is): the connection goes on
 * in HTTP/2 (oa_protocol_switch), its request handed over as stream 1,
 * whose response is the request's. False: not switched (the 101 then
 * ends the request, the rest passes through as before). */
static bool switch_to_h2c(struct oa_conn *c, struct oa_http_exchange *x, size_t at)
{
    x->h2c_switch = false;
    struct oa_inflight *f = inflight_front(x);
    if (f == NULL || x->pending.count != 1)
        return false;
    _Static_assert(sizeof(struct oa_inflight) <= OA_PENDING_HANDOVER_MAX, "a request fits a handover");
    struct oa_pending_handover h;
    h.ops = &inflight_ops;
    h.size = sizeof(*f);
    memcpy(h.entry.bytes, f, sizeof(*f));
    h.entry.p.status = 0; /* the 101 is not its response: stream 1's is */
    if (!oa_protocol_switch(c, "http2", &h, at))
        return false;
    /* the entry is HTTP/2's now: dropped here without being finished */
    oa_pending_fifo_pop(&x->pending);
    return true;
}

/* Feeds one piece of one stream and acts on its events, the busy area held.
 * Inlined for each stream and role (client: whether x->role is
 * OA_ROLE_CLIENT), so that each copy knows which of its parser's events it
 * acts on without a test per event: a client's outgoing stream and any
 * other role's incoming one carry requests (exchange_open). */
static inline __attribute__((always_inline)) bool feed_events(struct oa_conn *c, enum stream s, bool client,
                                                              const char *p, size_t n)
{
    struct oa_http_exchange *x = exchange_of(c);
    bool out = s == OUTGOING;
    struct oa_http1_parser *pr = out ? &x->out : &x->in;
    bool requests = out == client;
    /* only a request's start is read (its span's and metric's start) */
    uint64_t *message_start = out ? &x->out_message_start : &x->in_message_start;
    enum oa_http1_event ev;
    size_t n0 = n;
    if (n == 0)
        return true;
    /* after an event the parser may have another one due without more bytes
     * (MESSAGE_DONE of a bodiless message), so ask until it says NEED_MORE;
     * after MESSAGE_DONE it waits for the next message's bytes (it would say
     * NEED_MORE for none): no call to learn that */
    do {
        if (requests && n > 0 && pr->state == OA_HTTP1_S_START)
            *message_start = oa_now_unix_nano();
        size_t used = oa_http1_feed(pr, p, n, &ev);
        p += used;
        n -= used;
        if (out)
            x->base.out.parsed += used;
        switch (ev) {
        case OA_HTTP1_NEED_MORE:
        case OA_HTTP1_MESSAGE_DONE:
            if (ev == OA_HTTP1_MESSAGE_DONE && !requests) {
                if (x->h2c_switch && switch_to_h2c(c, x, n0 - n))
                    return true; /* the rest is HTTP/2's */
                on_response_done(x);
            }
            break;
        case OA_HTTP1_HEAD_END_NEXT:
            if (client && out && !on_client_request_head(c, x->base.out.parsed))
                return false;
            break;
        case OA_HTTP1_HEAD_DONE:
            if (requests) {
                if (x->role == OA_ROLE_SERVER && !on_server_request_head(c))
                    return false;
                /* a request with no body (nearly every one) is complete:
                 * its MESSAGE_DONE, due now with no byte, acts on nothing
                 * here; taken without going round the loop */
                if (pr->state == OA_HTTP1_S_BODY_LENGTH && pr->body_remaining == 0)
                    oa_http1_feed(pr, p, 0, &ev);
            } else if (!on_response_head(x, pr)) {
                return false;
            }
            break;
        case OA_HTTP1_NOT_HTTP:
        case OA_HTTP1_ERROR:
            return false;
        }
    } while (n > 0 || (ev != OA_HTTP1_NEED_MORE && ev != OA_HTTP1_MESSAGE_DONE));
    return true;
}

/* Feeds one piece of one stream: the busy area taken for it, given back if
 * the connection is idle after it. */
static inline __attribute__((always_inline)) bool feed(struct oa_conn *c, enum stream s, const char *p, size_t n)
{
    struct oa_http_exchange *x = exchange_of(c);
    /* n == 0, or the connection switched protocols in an earlier piece
     * of this call */
    if (n == 0 || x->base.next != NULL)
        return true;
    if (!exchange_wake(x))
        return false;
    if (x->role == OA_ROLE_CLIENT ? !feed_events(c, s, true, p, n) : !feed_events(c, s, false, p, n))
        return false;
    exchange_rest(x);
    return true;
}

static inline __attribute__((always_inline)) bool feed_outgoing(struct oa_conn *c, const char *p, size_t n)
{
    return feed(c, OUTGOING, p, n);
}

/* Parses bytes the program is about to send, skipping any it already parsed
 * in an earlier, partly refused attempt (the wire layer calls it only while
 * the exchange has not given up). */
static void exchange_outgoing(struct oa_conn *c, const struct iovec *iov, int iovcnt)
{
    oa_parse_outgoing(c, iov, iovcnt, feed_outgoing);
}

/* Parses bytes received (one buffer's, n > 0). */
static void exchange_incoming(struct oa_conn *c, const char *b, size_t n)
{
    if (!feed(c, INCOMING, b, n))
        oa_protocol_give_up(c);
}

/* n body bytes sent by sendfile */
static void exchange_skipped(struct oa_conn *c, size_t n)
{
    struct oa_http_exchange *x = exchange_of(c);
    if (x->base.out.parsed != x->base.out.sent) {
        oa_protocol_give_up(c);
        return;
    }
    oa_splice_skip(&x->base.out, n);
    enum oa_http1_event ev = oa_http1_skip(&x->out, n);
    if (ev == OA_HTTP1_ERROR) {
        oa_protocol_give_up(c);
        return;
    }
    if (ev == OA_HTTP1_MESSAGE_DONE && x->out.direction == OA_HTTP1_RESPONSES)
        on_response_done(x);
    exchange_rest(x);
}

/* The responses stream ended: a response delimited by the close is complete;
 * requests still waiting for one failed. */
static void responses_ended(struct oa_http_exchange *x, int err)
{
    struct oa_http1_parser *responses = x->role == OA_ROLE_CLIENT ? &x->in : &x->out;
    if (oa_http1_eof(responses) == OA_HTTP1_MESSAGE_DONE)
        on_response_done(x);
    if (x->pending.count > 0)
        oa_pending_fifo_finish_all(&x->pending, &inflight_ops, oa_pending_error_type(err), x);
}

/* The peer closed its side (a receive returned 0). A server may still answer
 * after the client half-closed; a client's responses are over. */
static void exchange_eof(struct oa_conn *c)
{
    struct oa_http_exchange *x = exchange_of(c);
    if (x->role != OA_ROLE_CLIENT)
        return;
    responses_ended(x, x->base.io_error);
    exchange_rest(x);
}

/* The connection ends (close): every span in flight is finished. */
static void exchange_end(struct oa_conn *c, int err)
{
    responses_ended(exchange_of(c), err);
}

/* fork child: in-flight spans belong to the parent */
static void exchange_disown(struct oa_proto_conn *p)
{
    struct oa_http_exchange *x = (struct oa_http_exchange *)p;
    oa_pending_fifo_disown_all(&x->pending, &inflight_ops);
}

/* A client's first outgoing byte, or a server's first incoming one, could
 * start a request: one look at one byte, as before any protocol interface. */
static bool exchange_detect(enum oa_conn_role role, bool outgoing, const unsigned char *b, size_t n)
{
    (void)n;
    return (outgoing ? role == OA_ROLE_CLIENT : role == OA_ROLE_SERVER) && oa_http_could_start_request(b[0]);
}

const struct oa_protocol oa_http1_protocol = {
    .name = "http1",
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
    .unanswered = exchange_unanswered,
};

void oa_http1_register(void)
{
    oa_protocol_register(&oa_http1_protocol);
}
