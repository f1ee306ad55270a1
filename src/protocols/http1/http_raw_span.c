/* Raw HTTP spans: recorded on the program's thread, given their name and
 * attributes on the exporter thread (see include/oa_http_raw_span.h). */
#include <string.h>

#include "protocols/http1/http_raw_span.h"
#include "protocols/http1/http_span.h"

static bool build_into(struct oa_span *dst, const struct oa_span *s);

static const struct oa_span_raw_ops http_raw_ops = {
    .materialize = oa_http_raw_span_materialize,
    .build_into = build_into,
};

struct oa_span *oa_http_raw_span_new(enum oa_span_kind kind, const struct oa_http1_parser *p,
                                     const struct oa_conn *c, const char *tracestate)
{
    size_t ts_len = oa_strlen_or_0(tracestate);
    size_t head_len = p->head_len;

    /* The exporter parses the head again in its parser's inline buffer:
     * a longer head is built here, as it always was. */
    if (p->head_buf == NULL || head_len > OA_HTTP1_HEAD_INLINE ||
        (size_t)c->peer_len > sizeof(((struct oa_span_raw *)0)->peer))
        return NULL;
    struct oa_span *s = oa_span_new_raw(ts_len + 1 + head_len);
    if (s == NULL)
        return NULL;
    struct oa_span_raw *r = &s->raw;
    s->kind = (uint8_t)kind;
    r->ops = &http_raw_ops;
    /* all of it (c->peer is larger): a copy of known size is a few moves;
     * only peer_len bytes are ever read */
    memcpy(&r->peer, &c->peer, sizeof(r->peer));
    r->peer_len = c->peer_len;
    r->tls = c->tls;
    r->status = 0;
    r->error = NULL;
    r->trace_state_len = (uint16_t)ts_len;
    r->head_len = (uint16_t)head_len;
    if (ts_len > 0)
        memcpy(r->bytes, tracestate, ts_len);
    r->bytes[ts_len] = '\0';
    memcpy(r->bytes + ts_len + 1, p->head_buf, head_len);
    return s;
}

void oa_http_raw_span_finish_at(struct oa_span *s, int status, const char *error, uint64_t end_unix_nano)
{
    s->raw.status = status;
    s->raw.error = error;
    s->end_unix_nano = end_unix_nano;
}

void oa_http_raw_span_finish(struct oa_span *s, int status, const char *error)
{
    oa_http_raw_span_finish_at(s, status, error, oa_now_unix_nano());
}

/* ---- the exporter's side ---- */

/* A parser (large: a head's 100 header slots and its inline buffer, not on
 * a thread's stack) and the head given back its empty line. */
struct reparse {
    struct oa_http1_parser parser;
    char whole[OA_HTTP1_HEAD_INLINE + 2];
};

/* The exporter's, used by one thread at a time; the crash capture has its
 * own (it may interrupt the exporter in the middle of a parse). */
static struct reparse exporter_reparse, crash_reparse;

/* The head stored without its empty line, parsed again: given back its
 * empty line and fed in one piece, so that the parser takes its one-pass
 * path for a whole head (a head fed in two pieces goes the general way,
 * about twice the instructions). */
static const struct oa_http1_head *parse_head(struct reparse *rp, const char *head, size_t len)
{
    if (len > OA_HTTP1_HEAD_INLINE)
        return NULL;
    char *whole = rp->whole;
    struct oa_http1_parser *reparser = &rp->parser;
    memcpy(whole, head, len);
    memcpy(whole + len, "\r\n", 2);
    oa_http1_reset(reparser, OA_HTTP1_REQUESTS, OA_HTTP1_FULL);
    const char *b = whole;
    size_t n = len + 2;
    /* each call consumes a byte or reports an event; HEAD_END_NEXT comes
     * once, before the empty line */
    while (n > 0) {
        enum oa_http1_event ev;
        size_t used = oa_http1_feed(reparser, b, n, &ev);
        b += used;
        n -= used;
        if (ev == OA_HTTP1_HEAD_DONE)
            return oa_http1_head(reparser);
        if (ev == OA_HTTP1_NOT_HTTP || ev == OA_HTTP1_ERROR || ev == OA_HTTP1_MESSAGE_DONE)
            return NULL;
    }
    return NULL;
}

/* The connection as the attribute code reads it: peer and TLS. The peer's
 * text is kept for the next spans from the same peer: a few views, one per
 * hash of the address, so that the client and server spans of one program
 * (or the spans of a few connections taking turns) do not evict each other. */
#define VIEWS 64 /* hash >> 26 picks one: few collisions among the dozens of
                  * connections a benchmark (or a busy server) keeps open */
static struct oa_conn views[VIEWS];

/* view as the peer of r */
static void view_peer(struct oa_conn *view, const struct oa_span_raw *r)
{
    memset(&view->peer, 0, sizeof(view->peer));
    memcpy(&view->peer, &r->peer, r->peer_len);
    view->peer_len = r->peer_len;
    view->peer_port = 0; /* not formatted yet */
}

static struct oa_conn *conn_view(const struct oa_span_raw *r)
{
    /* the port and the address's last word tell peers apart well enough */
    uint32_t hash = 0;
    if (r->peer.sa.sa_family == AF_INET)
        hash = r->peer.in.sin_addr.s_addr ^ r->peer.in.sin_port;
    else if (r->peer.sa.sa_family == AF_INET6)
        hash = r->peer.in6.sin6_addr.s6_addr32[3] ^ r->peer.in6.sin6_port;
    hash *= 2654435761u;
    struct oa_conn *view = &views[hash >> 26];
    if (view->peer_len != r->peer_len || memcmp(&view->peer, &r->peer, r->peer_len) != 0)
        view_peer(view, r);
    view->tls = r->tls;
    return view;
}

/* m's name and attributes from the raw span s and its parsed head h, in the
 * order the program's thread fills the arena: tracestate, attributes, then
 * the finish. */
static void build(struct oa_span *m, const struct oa_span *s, const struct oa_http1_head *h, struct oa_conn *view)
{
    const struct oa_span_raw *r = &s->raw;

    /* ids, flags, parent, kind and times */
    uint8_t form = m->form;
    memcpy(m, s, offsetof(struct oa_span, attrs));
    m->form = form;
    if (r->trace_state_len > 0)
        m->trace_state = oa_span_store(m, r->bytes, r->trace_state_len);
    if (s->kind == OA_SPAN_KIND_SERVER)
        oa_http_span_server_start(m, h, view);
    else
        oa_http_span_client_start(m, h, view);
    oa_http_span_finish_at(m, r->status, r->error, s->end_unix_nano);
}

/* build() for oa_span_build_from_raw: arg is the parsed head */
static bool build_parsed(struct oa_span *m, const struct oa_span *s, void *arg)
{
    build(m, s, arg, conn_view(&s->raw));
    return true;
}

struct oa_span *oa_http_raw_span_materialize(struct oa_span *s)
{
    if (s == NULL || !oa_span_is_raw(s))
        return s;
    const struct oa_span_raw *r = &s->raw;
    const struct oa_http1_head *h = parse_head(&exporter_reparse, r->bytes + r->trace_state_len + 1, r->head_len);
    if (h == NULL) {
        /* the program's thread parses LIGHT: a forbidden byte in a value it
         * does not read is found only here. Dropped (and counted failed). */
        oa_span_free(s);
        return NULL;
    }
    return oa_span_build_from_raw(s, build_parsed, (void *)h);
}

/* The crash capture's side (struct oa_span_raw_ops' build_into): its own
 * parser and a connection view of its own on the stack (the exporter's
 * views may be half written). */
static bool build_into(struct oa_span *dst, const struct oa_span *s)
{
    const struct oa_span_raw *r = &s->raw;
    if (r->head_len > OA_HTTP1_HEAD_INLINE || r->trace_state_len > OA_SPAN_RAW_BYTES ||
        r->peer_len > sizeof(r->peer))
        return false;
    const struct oa_http1_head *h = parse_head(&crash_reparse, r->bytes + r->trace_state_len + 1, r->head_len);
    if (h == NULL)
        return false;
    struct oa_conn view;
    memset(&view, 0, sizeof(view));
    view_peer(&view, r);
    view.tls = r->tls;
    memset(dst, 0, offsetof(struct oa_span, attrs));
    dst->form = OA_SPAN_FULL;
    dst->arena_used = 0;
    build(dst, s, h, &view);
    return true;
}
