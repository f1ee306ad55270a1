/* One decoded header block's kept fields (see h2_head.h). */
#include <stdlib.h>
#include <string.h>

#include "protocols/http2/h2_head.h"
#include "trace/baggage.h"

void oa_h2_head_init(struct oa_h2_head *h)
{
    memset(h, 0, offsetof(struct oa_h2_head, method));
    h->grpc_status = -1;
}

void oa_h2_head_release(struct oa_h2_head *h)
{
    free(h->baggage);
    h->baggage = NULL;
    free(h->uberctx);
    h->uberctx = NULL;
}

void oa_h2_head_context_headers(const struct oa_h2_head *h, struct oa_context_headers *ch)
{
    for (int i = 0; i < OA_CH_N; i++) {
        ch->count[i] = h->other_count[i];
        ch->value[i] = h->other_count[i] > 0 ? h->other[i] : NULL;
        ch->len[i] = h->other_len[i];
    }
    ch->count[OA_CH_TRACEPARENT] = h->traceparent_count;
    ch->value[OA_CH_TRACEPARENT] = h->traceparent_count > 0 ? h->traceparent : NULL;
    ch->len[OA_CH_TRACEPARENT] = h->traceparent_len;
}

static inline bool is(const struct oa_hpack_field *f, const char *name, size_t len)
{
    return f->name_len == len && memcmp(f->name, name, len) == 0;
}
#define IS(f, lit) is((f), (lit), sizeof(lit) - 1)

/* Copies a value, cut to cap octets. */
#define KEEP(dst, dst_len, f)                                                         \
    do {                                                                              \
        size_t n_ = (f)->value_len < sizeof(dst) ? (f)->value_len : sizeof(dst);      \
        memcpy((dst), (f)->value, n_);                                                \
        (dst_len) = n_;                                                               \
    } while (0)

/* Appends a value to a comma-joined list; false when it does not fit. */
static bool join(char *buf, size_t cap, size_t *len, const char *v, size_t n)
{
    size_t need = n + (*len > 0 ? 1 : 0);
    if (*len + need > cap)
        return false;
    if (*len > 0)
        buf[(*len)++] = ',';
    memcpy(buf + *len, v, n);
    *len += n;
    return true;
}

static int decimal(const char *v, size_t n)
{
    if (n == 0 || n > 6)
        return -1;
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    return x;
}

/* A field of another context propagator (b3, x-b3-*, uber-trace-id: names
 * are lowercase in HTTP/2), kept as the HTTP/1 code finds them; false when
 * f is none of them. */
static bool other_context_field(struct oa_h2_head *h, const struct oa_hpack_field *f)
{
    for (int i = OA_CH_B3; i < OA_CH_N; i++) {
        const char *name = oa_context_header_names[i];
        if (!is(f, name, strlen(name)))
            continue;
        if (h->other_count[i] < UINT8_MAX)
            h->other_count[i]++;
        if (h->other_count[i] == 1) {
            bool fits = f->value_len < OA_H2_OTHER_CONTEXT_MAX;
            h->other_len[i] = fits ? (uint8_t)f->value_len : 0;
            if (fits)
                memcpy(h->other[i], f->value, f->value_len);
        }
        return true;
    }
    return false;
}

/* uberctx-{key}: a jaeger baggage item, appended as a W3C member */
static void uberctx_field(struct oa_h2_head *h, const struct oa_hpack_field *f)
{
    if (h->uberctx == NULL && (h->uberctx = malloc(OA_BAGGAGE_MAX + 1)) == NULL)
        return;
    if (h->uberctx_len == 0)
        h->uberctx[0] = '\0';
    oa_propagation_append_uberctx(f->name, f->name_len, f->value, f->value_len, h->uberctx, &h->uberctx_len,
                                  OA_BAGGAGE_MAX + 1);
}

bool oa_h2_head_wants(void *arg, const char *name, size_t name_len)
{
    const struct oa_h2_head *h = arg;
    if (h->exact_list_size || name_len == 0)
        return true;
    /* the first letters of every name oa_h2_head_field reads: pseudo-fields,
     * baggage and b3, content-type, grpc-status, traceparent and
     * tracestate, user-agent and uber-trace-id and uberctx-*, x-b3-*; a
     * few more (content-length, date) are decoded for nothing */
    switch (name[0]) {
    case ':':
    case 'b':
    case 'g':
    case 't':
    case 'u':
    case 'x':
        return true;
    case 'c':
        return name_len == 12 && memcmp(name, "content-type", 12) == 0;
    default:
        return false;
    }
}

void oa_h2_head_field(void *arg, const struct oa_hpack_field *f)
{
    struct oa_h2_head *h = arg;
    uint64_t size = (uint64_t)h->list_size + f->name_len + f->value_len + f->skipped_len + 32;
    h->list_size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    if (f->name_len == 0)
        return;
    if (f->name[0] == ':') {
        if (IS(f, ":method"))
            KEEP(h->method, h->method_len, f);
        else if (IS(f, ":path"))
            KEEP(h->path, h->path_len, f);
        else if (IS(f, ":authority"))
            KEEP(h->authority, h->authority_len, f);
        else if (IS(f, ":scheme"))
            KEEP(h->scheme, h->scheme_len, f);
        else if (IS(f, ":status"))
            h->status = decimal(f->value, f->value_len) > 0 ? decimal(f->value, f->value_len) : 0;
        return;
    }
    switch (f->name[0]) {
    case 'b':
        if (IS(f, "baggage")) {
            if (h->baggage == NULL && !h->baggage_cut) {
                h->baggage = malloc(OA_BAGGAGE_MAX + 1);
                h->baggage_cut = h->baggage == NULL;
            }
            if (h->baggage != NULL && !h->baggage_cut &&
                !join(h->baggage, OA_BAGGAGE_MAX, &h->baggage_len, f->value, f->value_len))
                h->baggage_cut = true;
        } else {
            other_context_field(h, f);
        }
        break;
    case 'c':
        if (IS(f, "content-type"))
            h->grpc = f->value_len >= 16 && memcmp(f->value, "application/grpc", 16) == 0 &&
                      (f->value_len == 16 || f->value[16] == '+' || f->value[16] == ';');
        break;
    case 'g':
        if (IS(f, "grpc-status"))
            h->grpc_status = decimal(f->value, f->value_len);
        break;
    case 't':
        if (IS(f, "traceparent")) {
            h->traceparent_count++;
            KEEP(h->traceparent, h->traceparent_len, f);
        } else if (IS(f, "tracestate")) {
            size_t len = h->tracestate_len;
            if (!h->tracestate_cut && join(h->tracestate, sizeof(h->tracestate), &len, f->value, f->value_len))
                h->tracestate_len = (uint16_t)len;
            else
                h->tracestate_cut = true;
        }
        break;
    case 'u':
        if (IS(f, "user-agent"))
            KEEP(h->user_agent, h->user_agent_len, f);
        else if (f->name_len > 8 && memcmp(f->name, "uberctx-", 8) == 0)
            uberctx_field(h, f);
        else
            other_context_field(h, f);
        break;
    case 'x':
        other_context_field(h, f);
        break;
    default:
        break;
    }
}
