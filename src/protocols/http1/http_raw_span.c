/* Raw HTTP spans: recorded on the program's thread, given their name and
 * attributes on the exporter thread (see http_raw_span.h). */
#include <string.h>

#include "protocols/http1/http_raw_span.h"
#include "protocols/http1/http_span.h"

static bool build_into(struct oa_span *dst, const struct oa_span *s);

static const struct oa_span_raw_ops http_raw_ops = {
    .materialize = oa_http_raw_span_materialize,
    .build_into = build_into,
};

/* Where in the copy of the head the parts of struct oa_http_request are:
 * raw.bytes hold the tracestate (raw.trace_state_len, then a NUL), these
 * facts (copied in and out with memcpy: no alignment after the tracestate),
 * then the head's bytes; raw.head_len counts facts and head. */
struct http_facts {
    uint16_t method_at, method_len;
    uint16_t target_at, target_len;
    uint16_t host_at, host_len;
    uint16_t user_agent_at, user_agent_len;
    uint16_t forwarded_for_at, forwarded_for_len;
    uint8_t present; /* HAS_* */
    uint8_t version_minor;
};
enum { HAS_HOST = 1, HAS_USER_AGENT = 2, HAS_FORWARDED_FOR = 4 };

/* A known header's part of the head at base: its first value, or nothing
 * (its at and len 0, its bit in present clear). */
static inline void header_at(const struct oa_http1_head *h, enum oa_http1_known id, uintptr_t base, uint16_t *at,
                             uint16_t *len, uint8_t *present, uint8_t bit)
{
    bool has = h->known_count[id] != 0;
    *at = has ? (uint16_t)((uintptr_t)h->known_first[id].value - base) : 0;
    *len = has ? (uint16_t)h->known_first[id].value_len : 0;
    *present |= has ? bit : 0;
}

struct oa_span *oa_http_raw_span_new(enum oa_span_kind kind, const struct oa_http1_parser *p,
                                     const struct oa_conn *c, const char *tracestate)
{
    size_t ts_len = oa_strlen_or_0(tracestate);
    size_t head_len = p->head_len;
    const char *base = p->head_buf;
    const struct oa_http1_head *h = oa_http1_head(p);
    struct http_facts f;

    /* (offsets are 16 bits: the bound keeps every one of them small) */
    if (base == NULL || head_len > OA_HTTP1_HEAD_INLINE ||
        (size_t)c->peer_len > sizeof(((struct oa_span *)0)->raw.peer))
        return NULL;
    /* The head's pointers refer into its buffer (http1_parser.h): their
     * offsets are checked where they are read (request_of), not here. */
    uintptr_t b = (uintptr_t)base;
    f.method_at = (uint16_t)((uintptr_t)h->method - b);
    f.method_len = (uint16_t)h->method_len;
    f.target_at = (uint16_t)((uintptr_t)h->target - b);
    f.target_len = (uint16_t)h->target_len;
    f.present = 0;
    header_at(h, OA_HTTP1_H_HOST, b, &f.host_at, &f.host_len, &f.present, HAS_HOST);
    header_at(h, OA_HTTP1_H_USER_AGENT, b, &f.user_agent_at, &f.user_agent_len, &f.present, HAS_USER_AGENT);
    header_at(h, OA_HTTP1_H_X_FORWARDED_FOR, b, &f.forwarded_for_at, &f.forwarded_for_len, &f.present,
              HAS_FORWARDED_FOR);
    f.version_minor = (uint8_t)h->version_minor;
    struct oa_span *s = oa_span_new_raw(ts_len + 1 + sizeof f + head_len);
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
    char *at = oa_span_raw_put_head(s, tracestate, ts_len, sizeof f + head_len);
    memcpy(at, &f, sizeof f);
    memcpy(at + sizeof f, base, head_len);
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

/* The request of the raw span s, pointing into its bytes; false when its
 * facts do not hold together (only a span read while it is being written,
 * by the crash capture, can have such). */
static bool request_of(struct oa_http_request *q, const struct oa_span *s)
{
    const struct oa_span_raw *r = &s->raw;
    struct http_facts f;
    const char *at = oa_span_raw_head(s, sizeof f);
    if (at == NULL)
        return false;
    memcpy(&f, at, sizeof f);
    const char *head = at + sizeof f;
    size_t len = r->head_len - sizeof f;
    /* each sum is of two 16-bit numbers: no overflow */
    if ((size_t)f.method_at + f.method_len > len || (size_t)f.target_at + f.target_len > len ||
        (size_t)f.host_at + f.host_len > len || (size_t)f.user_agent_at + f.user_agent_len > len ||
        (size_t)f.forwarded_for_at + f.forwarded_for_len > len)
        return false;
    q->method = head + f.method_at;
    q->method_len = f.method_len;
    q->target = head + f.target_at;
    q->target_len = f.target_len;
    q->host = f.present & HAS_HOST ? head + f.host_at : NULL;
    q->host_len = f.host_len;
    q->user_agent = f.present & HAS_USER_AGENT ? head + f.user_agent_at : NULL;
    q->user_agent_len = f.user_agent_len;
    q->forwarded_for = f.present & HAS_FORWARDED_FOR ? head + f.forwarded_for_at : NULL;
    q->forwarded_for_len = f.forwarded_for_len;
    q->version_minor = f.version_minor;
    return true;
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

/* Whether view holds r's peer: an IPv4 one (16 bytes) compared as two
 * words, without a call. */
static bool same_peer(const struct oa_conn *view, const struct oa_span_raw *r)
{
    if (view->peer_len != r->peer_len)
        return false;
    if (r->peer_len == sizeof(struct sockaddr_in)) {
        uint64_t a[2], b[2];
        memcpy(a, &view->peer, sizeof a);
        memcpy(b, &r->peer, sizeof b);
        return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
    }
    return memcmp(&view->peer, &r->peer, r->peer_len) == 0;
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
    /* two ways: a peer is looked for in its slot and the one beside it; a
     * new one takes its slot, whose peer moves beside it (so that two peers
     * whose hashes meet, a client's and a server's spans, say, keep their
     * text instead of taking turns formatting it) */
    size_t at = hash >> 26;
    struct oa_conn *view = &views[at];
    if (!same_peer(view, r)) {
        struct oa_conn *beside = &views[at ^ 1];
        if (same_peer(beside, r)) {
            view = beside;
        } else {
            *beside = *view;
            view_peer(view, r);
        }
    }
    view->tls = r->tls;
    return view;
}

/* m's name and attributes from the raw span s and its request q, in the
 * order the program's thread fills the arena: tracestate, attributes, then
 * the finish. */
static void build(struct oa_span *m, const struct oa_span *s, const struct oa_http_request *q, struct oa_conn *view)
{
    const struct oa_span_raw *r = &s->raw;

    /* ids, flags, parent, kind, times and tracestate */
    oa_span_take_raw_context(m, s);
    if (s->kind == OA_SPAN_KIND_SERVER)
        oa_http_span_server_start_request(m, q, view);
    else
        oa_http_span_client_start_request(m, q, view);
    oa_http_span_finish_at(m, r->status, r->error, s->end_unix_nano);
}

/* build() for oa_span_build_from_raw: arg is the request */
static bool build_request(struct oa_span *m, const struct oa_span *s, void *arg)
{
    build(m, s, arg, conn_view(&s->raw));
    return true;
}

struct oa_span *oa_http_raw_span_materialize(struct oa_span *s)
{
    if (s == NULL || !oa_span_is_raw(s))
        return s;
    struct oa_http_request q;
    if (!request_of(&q, s)) {
        oa_span_free(s);
        return NULL;
    }
    return oa_span_build_from_raw(s, build_request, &q);
}

/* The crash capture's side (struct oa_span_raw_ops' build_into): a
 * connection view of its own on the stack (the exporter's views may be
 * half written). */
static bool build_into(struct oa_span *dst, const struct oa_span *s)
{
    const struct oa_span_raw *r = &s->raw;
    struct oa_http_request q;
    if (r->peer_len > sizeof(r->peer) || !request_of(&q, s))
        return false;
    struct oa_conn view;
    memset(&view, 0, sizeof(view));
    view_peer(&view, r);
    view.tls = r->tls;
    oa_span_clear_full(dst);
    build(dst, s, &q, &view);
    return true;
}
