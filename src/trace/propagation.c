/* The composite of the configured context propagators (see propagation.h). */
#include <string.h>

#include "config/config.h"
#include "trace/b3.h"
#include "trace/jaeger.h"
#include "trace/propagation.h"

const char *const oa_context_header_names[OA_CH_N] = {
    [OA_CH_TRACEPARENT] = "traceparent",   [OA_CH_B3] = "b3",
    [OA_CH_X_B3_TRACEID] = "x-b3-traceid", [OA_CH_X_B3_SPANID] = "x-b3-spanid",
    [OA_CH_X_B3_SAMPLED] = "x-b3-sampled", [OA_CH_X_B3_FLAGS] = "x-b3-flags",
    [OA_CH_UBER_TRACE_ID] = "uber-trace-id",
};

/* one uberctx line at most this long; a longer member is not injected */
#define UBERCTX_LINE_MAX 1024

bool oa_propagation_other_present(const struct oa_context_headers *h)
{
    if (oa_config_propagates(&oa_config, OA_PROPAGATOR_B3) || oa_config_propagates(&oa_config, OA_PROPAGATOR_B3MULTI)) {
        for (int i = OA_CH_B3; i <= OA_CH_X_B3_FLAGS; i++)
            if (h->count[i] > 0)
                return true;
    }
    return oa_config_propagates(&oa_config, OA_PROPAGATOR_JAEGER) && h->count[OA_CH_UBER_TRACE_ID] > 0;
}

bool oa_propagation_program_sends_other(const struct oa_context_headers *h, struct oa_span_context *parent)
{
    if (!oa_propagation_other_present(h))
        return false;
    if (oa_propagation_extract(h, parent) >= 0)
        parent->remote = false;
    return true;
}

/* B3 extraction, single header first, then the multiple ones (both
 * propagators read both) */
static bool extract_b3(const struct oa_context_headers *h, struct oa_span_context *out)
{
    if (h->count[OA_CH_B3] > 0 && oa_b3_parse(h->value[OA_CH_B3], h->len[OA_CH_B3], out))
        return true;
    struct oa_b3_multi m = {
        h->value[OA_CH_X_B3_TRACEID], h->value[OA_CH_X_B3_SPANID], h->value[OA_CH_X_B3_SAMPLED],
        h->value[OA_CH_X_B3_FLAGS],   h->len[OA_CH_X_B3_TRACEID],  h->len[OA_CH_X_B3_SPANID],
        h->len[OA_CH_X_B3_SAMPLED],   h->len[OA_CH_X_B3_FLAGS],
    };
    return oa_b3_multi_parse(&m, out);
}

static bool extract_one(enum oa_propagator p, const struct oa_context_headers *h, struct oa_span_context *out)
{
    switch (p) {
    case OA_PROPAGATOR_TRACECONTEXT:
        return h->count[OA_CH_TRACEPARENT] == 1 &&
               oa_traceparent_parse(h->value[OA_CH_TRACEPARENT], h->len[OA_CH_TRACEPARENT], out);
    case OA_PROPAGATOR_B3:
    case OA_PROPAGATOR_B3MULTI:
        return extract_b3(h, out);
    case OA_PROPAGATOR_JAEGER:
        return h->count[OA_CH_UBER_TRACE_ID] > 0 &&
               oa_jaeger_parse(h->value[OA_CH_UBER_TRACE_ID], h->len[OA_CH_UBER_TRACE_ID], out);
    default:
        return false;
    }
}

int oa_propagation_extract(const struct oa_context_headers *h, struct oa_span_context *out)
{
    int winner = -1;
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < oa_config.n_context_propagators; i++) {
        struct oa_span_context sc;
        enum oa_propagator p = (enum oa_propagator)oa_config.context_propagators[i];
        if (extract_one(p, h, &sc)) {
            *out = sc;
            winner = (int)p;
        }
    }
    return winner;
}

/* b3multi's names as HTTP/1 writes them, then lowercase */
static const char *const b3multi_names[2][3] = {
    {"X-B3-TraceId", "X-B3-SpanId", "X-B3-Sampled"},
    {"x-b3-traceid", "x-b3-spanid", "x-b3-sampled"},
};

/* field() for a NUL-terminated name and value */
static inline bool field_str(oa_propagation_field_fn field, void *arg, const char *name, const char *value)
{
    return field(arg, name, strlen(name), value, strlen(value));
}

bool oa_propagation_other_fields(const struct oa_span_context *own, const char *baggage, bool lowercase,
                                 oa_propagation_field_fn field, void *arg)
{
    if (oa_config_propagates(&oa_config, OA_PROPAGATOR_B3)) {
        char v[OA_B3_LEN + 1];
        oa_b3_format(own, v);
        if (!field_str(field, arg, "b3", v))
            return false;
    }
    if (oa_config_propagates(&oa_config, OA_PROPAGATOR_B3MULTI)) {
        const char *const *names = b3multi_names[lowercase ? 1 : 0];
        char t[OA_B3_TRACE_ID_LEN + 1], s[OA_B3_SPAN_ID_LEN + 1];
        oa_b3_format_ids(own, t, s);
        if (!field_str(field, arg, names[0], t) || !field_str(field, arg, names[1], s) ||
            !field_str(field, arg, names[2], oa_b3_sampled_value(own)))
            return false;
    }
    if (oa_config_propagates(&oa_config, OA_PROPAGATOR_JAEGER)) {
        char v[OA_JAEGER_LEN + 1];
        oa_jaeger_format(own, v);
        if (!field_str(field, arg, "uber-trace-id", v))
            return false;
        const char *cursor = baggage != NULL ? baggage : "";
        /* a field with room for a line's ": " and "\r\n" */
        char buf[UBERCTX_LINE_MAX - 4];
        size_t n, name_len;
        while ((n = oa_jaeger_baggage_next_field(&cursor, buf, sizeof(buf), &name_len)) > 0) {
            for (size_t i = 0; lowercase && i < name_len; i++)
                buf[i] = (char)(buf[i] >= 'A' && buf[i] <= 'Z' ? buf[i] + ('a' - 'A') : buf[i]);
            if (!field(arg, buf, name_len, buf + name_len, n - name_len))
                return false;
        }
    }
    return true;
}

/* Where other_lines writes (NULL: measures only) and how far it is. */
struct lines {
    char *out;
    size_t pos;
};

/* A field as "name: value\r\n" */
static bool append_line(void *arg, const char *name, size_t name_len, const char *value, size_t value_len)
{
    struct lines *l = arg;
    if (l->out != NULL) {
        char *at = l->out + l->pos;
        memcpy(at, name, name_len);
        memcpy(at + name_len, ": ", 2);
        memcpy(at + name_len + 2, value, value_len);
        memcpy(at + name_len + 2 + value_len, "\r\n", 2);
    }
    l->pos += name_len + value_len + 4;
    return true;
}

size_t oa_propagation_other_lines(const struct oa_span_context *own, const char *baggage, char *out)
{
    struct lines l = {.out = out, .pos = 0};
    oa_propagation_other_fields(own, baggage, false, append_line, &l);
    return l.pos;
}

void oa_propagation_append_uberctx(const char *name, size_t name_len, const char *value, size_t value_len, char *out,
                                   size_t *len, size_t cap)
{
    size_t pos = *len;
    size_t sep = pos > 0 ? 1 : 0;
    if (name_len <= OA_JAEGER_BAGGAGE_PREFIX_LEN || pos + sep >= cap)
        return;
    size_t n = oa_jaeger_baggage_member(name + OA_JAEGER_BAGGAGE_PREFIX_LEN, name_len - OA_JAEGER_BAGGAGE_PREFIX_LEN,
                                        value, value_len, out + pos + sep, cap - pos - sep);
    if (n == 0) {
        out[pos] = '\0';
        return;
    }
    if (sep)
        out[pos] = ',';
    *len = pos + sep + n;
}
