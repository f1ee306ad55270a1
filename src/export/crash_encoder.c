/* The crash capture's fixed-buffer OTLP encoder (see crash_encoder.h). Field
 * numbers: proto/opentelemetry/proto/{collector/trace,trace,common,
 * resource}/v1, written backwards (base/protobuf_back.h), last field first. */
#include "export/crash_encoder.h"
#include "base/protobuf_back.h"
#include "export/otlp/otlp_span_flags.h"

#define SCOPE_NAME "otelauto"
#define EVENT_NAME "exception"
/* tags, length prefixes and fixed fields of one span, its status and its
 * event, less their texts (a generous bound) */
#define SPAN_FIXED 512
#define ATTR_FIXED 32

/* The length of the UTF-8 sequence that starts at s[i] (len bytes in all)
 * when it is valid (no overlong form, no surrogate, at most U+10FFFF), else 0. */
static size_t utf8_sequence(const unsigned char *s, size_t i, size_t len)
{
    unsigned char b = s[i];
    if (b < 0x80)
        return b != 0 ? 1 : 0;
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
        n = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        if (b == 0xe0)
            lo = 0xa0;
        else if (b == 0xed)
            hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (i + n > len || s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++) {
        if (s[i + k] < 0x80 || s[i + k] > 0xbf)
            return 0;
    }
    return n;
}

/* s[0..len) before p, each byte that starts no valid sequence as '?':
 * exactly len bytes. */
static uint8_t *back_utf8(uint8_t *p, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    p -= len;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence(u, i, len);
        if (n == 0) {
            p[i++] = '?';
            continue;
        }
        memcpy(p + i, u + i, n);
        i += n;
    }
    return p;
}

static uint8_t *back_text_field(uint8_t *p, unsigned field, const char *s, size_t len)
{
    if (s == NULL || len == 0)
        return p;
    uint8_t *end = p;
    return back_len_prefix(back_utf8(p, s, len), field, end);
}

static size_t text_len(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

/* KeyValue (as field `field`): key (1), value (2: AnyValue, always) */
static uint8_t *back_attr(uint8_t *p, unsigned field, const struct oa_attr *a)
{
    uint8_t *end = p;
    uint8_t *value_end = p;
    switch (a->type) {
    case OA_VALUE_STRING: {
        uint8_t *text_end = p;
        if (a->v.str.ptr != NULL)
            p = back_utf8(p, a->v.str.ptr, a->v.str.len);
        p = back_len_prefix(p, 1, text_end);
        break;
    }
    case OA_VALUE_BOOL:
        *--p = a->v.b ? 1 : 0;
        p = back_tag(p, 2, WT_VARINT);
        break;
    case OA_VALUE_INT:
        p = back_tag(back_varint(p, (uint64_t)a->v.i), 3, WT_VARINT);
        break;
    case OA_VALUE_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, &a->v.d, sizeof bits);
        p = back_fixed64(p, 4, bits);
        break;
    }
    }
    p = back_len_prefix(p, 2, value_end);
    p = back_text_field(p, 1, a->key, text_len(a->key));
    return back_len_prefix(p, field, end);
}

static size_t attr_bound(const struct oa_attr *a)
{
    return ATTR_FIXED + text_len(a->key) + (a->type == OA_VALUE_STRING ? a->v.str.len : 0);
}

/* A string-valued KeyValue of the event */
static uint8_t *back_str_attr(uint8_t *p, unsigned field, const char *key, const char *value, size_t len)
{
    struct oa_attr a = {.key = key, .type = OA_VALUE_STRING, .v.str = {.ptr = value, .len = (uint32_t)len}};
    return back_attr(p, field, &a);
}

void oa_crash_encoder_begin(struct oa_crash_encoder *enc, uint8_t *buf, size_t cap)
{
    enc->buf = buf;
    enc->end = buf + cap;
    enc->p = enc->end;
    enc->n_spans = 0;
}

static uint32_t attr_count(const struct oa_span *s)
{
    return s->n_attrs < OA_SPAN_MAX_ATTRS ? s->n_attrs : OA_SPAN_MAX_ATTRS;
}

static size_t span_bound(const struct oa_span *s, const struct oa_crash_event *ev)
{
    size_t n = SPAN_FIXED + text_len(s->trace_state) + text_len(s->name) + 2 * text_len(ev->message) +
               text_len(ev->type) + ev->stacktrace_len + 3 * ATTR_FIXED + 64;
    for (uint32_t i = 0; i < attr_count(s); i++)
        n += attr_bound(&s->attrs[i]);
    return n;
}

/* Span.Event (field 11): time (1), name (2), attributes (3) */
static uint8_t *back_event(uint8_t *p, const struct oa_crash_event *ev)
{
    uint8_t *end = p;
    p = back_str_attr(p, 3, "exception.stacktrace", ev->stacktrace, ev->stacktrace_len);
    p = back_str_attr(p, 3, "exception.message", ev->message, text_len(ev->message));
    p = back_str_attr(p, 3, "exception.type", ev->type, text_len(ev->type));
    p = back_literal_field(p, 2, EVENT_NAME, sizeof EVENT_NAME - 1);
    p = back_fixed64(p, 1, ev->time_unix_nano);
    return back_len_prefix(p, 11, end);
}

bool oa_crash_encoder_add(struct oa_crash_encoder *enc, const struct oa_span *s, const struct oa_crash_event *ev)
{
    if ((size_t)(enc->p - enc->buf) < span_bound(s, ev))
        return false;
    uint8_t *p = enc->p;
    uint8_t *end = p;
    uint32_t flags = oa_otlp_span_flags(s);
    if (flags)
        p = back_fixed32(p, 16, flags);
    /* Status: message (2), code (3) Error */
    uint8_t *status_end = p;
    p = back_tag(back_varint(p, OA_STATUS_ERROR), 3, WT_VARINT);
    p = back_text_field(p, 2, ev->message, text_len(ev->message));
    p = back_len_prefix(p, 15, status_end);
    p = back_event(p, ev);
    if (s->dropped_attrs)
        p = back_tag(back_varint(p, s->dropped_attrs), 10, WT_VARINT);
    for (uint32_t i = attr_count(s); i-- > 0;)
        p = back_attr(p, 9, &s->attrs[i]);
    if (s->end_unix_nano)
        p = back_fixed64(p, 8, s->end_unix_nano);
    if (s->start_unix_nano)
        p = back_fixed64(p, 7, s->start_unix_nano);
    if (s->kind)
        p = back_tag(back_varint(p, s->kind), 6, WT_VARINT);
    p = back_text_field(p, 5, s->name, text_len(s->name));
    if (s->has_parent)
        p = back_bytes_field(p, 4, s->parent_span_id, sizeof s->parent_span_id);
    p = back_text_field(p, 3, s->trace_state, text_len(s->trace_state));
    p = back_bytes_field(p, 2, s->span_id, sizeof s->span_id);
    p = back_bytes_field(p, 1, s->trace_id, sizeof s->trace_id);
    enc->p = back_len_prefix(p, 2, end);
    enc->n_spans++;
    return true;
}

const uint8_t *oa_crash_encoder_finish(struct oa_crash_encoder *enc, const struct oa_resource *r, size_t *len)
{
    size_t n_res = r == NULL ? 0 : (r->n_attrs < OA_RESOURCE_MAX_ATTRS ? r->n_attrs : OA_RESOURCE_MAX_ATTRS);
    size_t need = SPAN_FIXED + sizeof SCOPE_NAME + sizeof OA_VERSION;
    for (size_t i = 0; i < n_res; i++)
        need += attr_bound(&r->attrs[i]);
    if ((size_t)(enc->p - enc->buf) < need)
        return NULL;
    uint8_t *end = enc->end;
    uint8_t *p = enc->p;
    /* ResourceSpans: resource (1), scope_spans (2); ScopeSpans: scope (1), spans (2) */
    uint8_t *scope_spans_end = end;
    uint8_t *scope_end = p;
    p = back_literal_field(p, 2, OA_VERSION, sizeof OA_VERSION - 1);
    p = back_literal_field(p, 1, SCOPE_NAME, sizeof SCOPE_NAME - 1);
    p = back_len_prefix(p, 1, scope_end);
    p = back_len_prefix(p, 2, scope_spans_end);
    uint8_t *resource_end = p;
    for (size_t i = n_res; i-- > 0;)
        p = back_attr(p, 1, &r->attrs[i]);
    p = back_len_prefix(p, 1, resource_end);
    p = back_len_prefix(p, 1, end);
    *len = (size_t)(end - p);
    return p;
}
