/* Raw HTTP/2 spans: recorded on the program's thread, given their name and
 * attributes on the exporter thread (see h2_raw_span.h). */
#include <string.h>

#include "base/short_copy.h"
#include "protocols/http2/h2_raw_span.h"

static bool build_into(struct oa_span *dst, const struct oa_span *s);

static const struct oa_span_raw_ops h2_raw_ops = {
    .materialize = oa_h2_raw_span_materialize,
    .build_into = build_into,
};

/* What raw.bytes hold after the tracestate (raw.trace_state_len, then a
 * NUL): these facts (copied in and out with memcpy: no alignment after
 * the tracestate), then the method, scheme, path, authority, user-agent
 * and peer text, one after the other; raw.head_len counts facts and
 * strings. The outcome's gRPC part is written into the facts at the end
 * (raw.status and raw.error hold the rest). */
struct h2_facts {
    uint16_t method_len, scheme_len, path_len, authority_len, user_agent_len, peer_len;
    int32_t peer_port;
    int16_t grpc_status; /* the outcome's, -1: none */
    bool grpc;           /* the request's content-type */
    bool outcome_grpc;
    bool tls;
};

/* The octets of q's strings, in the order they are stored. */
static size_t strings_len(const struct h2_facts *f)
{
    return (size_t)f->method_len + f->scheme_len + f->path_len + f->authority_len + f->user_agent_len +
           f->peer_len;
}

struct oa_span *oa_h2_raw_span_new(enum oa_span_kind kind, const struct oa_h2_request *q, const char *tracestate)
{
    size_t ts_len = oa_strlen_or_0(tracestate);
    /* (a peer's text is short; the bound keeps its length 16 bits) */
    if (q->peer_len > OA_SPAN_RAW_BYTES)
        return NULL;
    struct h2_facts f = {
        .method_len = q->method_len,
        .scheme_len = q->scheme_len,
        .path_len = q->path_len,
        .authority_len = q->authority_len,
        .user_agent_len = q->user_agent_len,
        .peer_len = (uint16_t)q->peer_len,
        .peer_port = q->peer_port,
        .grpc_status = -1,
        .grpc = q->grpc,
        .outcome_grpc = false,
        .tls = q->tls,
    };
    size_t strings = strings_len(&f);
    struct oa_span *s = oa_span_new_raw(ts_len + 1 + sizeof f + strings);
    if (s == NULL)
        return NULL;
    struct oa_span_raw *r = &s->raw;
    s->kind = (uint8_t)kind;
    r->ops = &h2_raw_ops;
    r->peer_len = 0; /* the peer travels as text */
    r->tls = q->tls;
    r->status = 0;
    r->error = NULL;
    char *at = oa_span_raw_put_head(s, tracestate, ts_len, sizeof f + strings);
    memcpy(at, &f, sizeof f);
    at += sizeof f;
    /* (short strings mostly: copied without a call each) */
    oa_record_put(&at, q->method, q->method_len);
    oa_record_put(&at, q->scheme, q->scheme_len);
    oa_record_put(&at, q->path, q->path_len);
    oa_record_put(&at, q->authority, q->authority_len);
    oa_record_put(&at, q->user_agent, q->user_agent_len);
    oa_record_put(&at, q->peer, q->peer_len);
    return s;
}

void oa_h2_raw_span_finish_at(struct oa_span *s, const struct oa_h2_outcome *o, uint64_t end)
{
    struct oa_span_raw *r = &s->raw;
    char *facts = r->bytes + r->trace_state_len + 1;
    int16_t grpc_status = (int16_t)(o->grpc_status > 32767 ? 32767 : o->grpc_status < -1 ? -1 : o->grpc_status);
    bool grpc = o->grpc;
    memcpy(facts + offsetof(struct h2_facts, grpc_status), &grpc_status, sizeof grpc_status);
    memcpy(facts + offsetof(struct h2_facts, outcome_grpc), &grpc, sizeof grpc);
    r->status = o->status;
    r->error = o->error;
    s->end_unix_nano = end;
}

/* ---- the exporter's side ---- */

/* The request and outcome of the raw span s, pointing into its bytes;
 * false when its facts do not hold together (only a span read while it is
 * being written, by the crash capture, can have such). */
static bool request_of(struct oa_h2_request *q, struct oa_h2_outcome *o, const struct oa_span *s)
{
    const struct oa_span_raw *r = &s->raw;
    struct h2_facts f;
    const char *at = oa_span_raw_head(s, sizeof f);
    if (at == NULL)
        return false;
    memcpy(&f, at, sizeof f);
    if (strings_len(&f) != r->head_len - sizeof f)
        return false;
    at += sizeof f;
    q->method_len = f.method_len;
    q->method = oa_record_take(&at, f.method_len);
    q->scheme_len = f.scheme_len;
    q->scheme = oa_record_take(&at, f.scheme_len);
    q->path_len = f.path_len;
    q->path = oa_record_take(&at, f.path_len);
    q->authority_len = f.authority_len;
    q->authority = oa_record_take(&at, f.authority_len);
    q->user_agent_len = f.user_agent_len;
    q->user_agent = oa_record_take(&at, f.user_agent_len);
    q->peer_len = f.peer_len;
    q->peer = oa_record_take(&at, f.peer_len);
    q->peer_port = f.peer_port;
    q->grpc = f.grpc;
    q->tls = f.tls;
    o->status = r->status;
    o->grpc_status = f.grpc_status;
    o->grpc = f.outcome_grpc;
    o->error = r->error;
    return true;
}

/* What build() reads: the request and outcome, and whether to end the span
 * (the crash capture ends its copy itself). */
struct parts {
    struct oa_h2_request q;
    struct oa_h2_outcome o;
    bool finish;
};

/* m's name and attributes from the raw span s, in the order the program's
 * thread fills the arena: tracestate, attributes, then the finish. */
static bool build(struct oa_span *m, const struct oa_span *s, void *arg)
{
    const struct parts *p = arg;

    /* ids, flags, parent, kind, times and tracestate */
    oa_span_take_raw_context(m, s);
    oa_h2_span_request(m, &p->q);
    if (p->finish)
        oa_h2_span_finish_at(m, &p->o, s->end_unix_nano);
    return true;
}

struct oa_span *oa_h2_raw_span_materialize(struct oa_span *s)
{
    if (s == NULL || !oa_span_is_raw(s))
        return s;
    struct parts p = {.finish = true};
    if (!request_of(&p.q, &p.o, s)) {
        oa_span_free(s);
        return NULL;
    }
    return oa_span_build_from_raw(s, build, &p);
}

/* The crash capture's side (struct oa_span_raw_ops' build_into): the span
 * as it stands, not ended (the capture ends it with the stream's outcome). */
static bool build_into(struct oa_span *dst, const struct oa_span *s)
{
    struct parts p = {.finish = false};
    if (!request_of(&p.q, &p.o, s))
        return false;
    oa_span_clear_full(dst);
    return build(dst, s, &p);
}
