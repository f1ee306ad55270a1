/* The crash capture's fixed-buffer OTLP encoder (see crash_encoder.h). Field
 * numbers: proto/opentelemetry/proto/{collector/trace,trace,common,
 * resource}/v1, written backwards (base/protobuf_back.h), last field first. */
#include "export/crash_encoder.h"
#include "base/protobuf_back.h"
#include "base/utf8_text.h"
#include "export/otlp/otlp_span_back.h"
#include "export/otlp/otlp_span_flags.h"

#define EVENT_NAME "exception"
/* tags, length prefixes and fixed fields of one span, its status and its
 * event, less their texts (a generous bound) */
#define SPAN_FIXED 512
#define ATTR_FIXED 32

/* s[0..len) before p, invalid UTF-8 (and NUL) replaced by U+FFFD as the
 * exporter's encoder does: at most 3 * len bytes */
static uint8_t *back_utf8(uint8_t *p, const char *s, size_t len)
{
    p -= oa_utf8_sanitised_len(s, len);
    oa_utf8_sanitised_put((char *)p, s, len);
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

static uint8_t *back_cstr_field(uint8_t *p, unsigned field, const char *s)
{
    return back_text_field(p, field, s, text_len(s));
}

/* KeyValue (as field `field`): key (1), value (2: AnyValue, always) */
static uint8_t *back_attr(uint8_t *p, unsigned field, const struct oa_attr *a)
{
    uint8_t *end = p;
    p = back_any_value(p, 2, a, back_utf8);
    p = back_text_field(p, 1, a->key, text_len(a->key));
    return back_len_prefix(p, field, end);
}

/* a replaced byte takes the 3 of U+FFFD */
#define GROWTH 3

static size_t attr_bound(const struct oa_attr *a)
{
    return ATTR_FIXED + GROWTH * (text_len(a->key) + (a->type == OA_VALUE_STRING ? a->v.str.len : 0));
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
    size_t n = SPAN_FIXED + GROWTH * (text_len(s->trace_state) + text_len(s->name) + 2 * text_len(ev->message) +
                                      text_len(ev->type) + ev->stacktrace_len + 64) +
               3 * ATTR_FIXED;
    for (uint32_t i = 0; i < attr_count(s); i++)
        n += attr_bound(&s->attrs[i]);
    return n;
}

/* Span.Event (field 11): time (1), name (2), attributes (3) */
static uint8_t *back_event(uint8_t *p, const struct oa_crash_event *ev)
{
    uint8_t *end = p;
    if (ev->stacktrace_len > 0)
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
    p = back_span_identity(p, s, back_cstr_field);
    enc->p = back_len_prefix(p, 2, end);
    enc->n_spans++;
    return true;
}

const uint8_t *oa_crash_encoder_finish(struct oa_crash_encoder *enc, const struct oa_resource *r, size_t *len)
{
    size_t n_res = r == NULL ? 0 : (r->n_attrs < OA_RESOURCE_MAX_ATTRS ? r->n_attrs : OA_RESOURCE_MAX_ATTRS);
    size_t need = SPAN_FIXED + sizeof OA_OTLP_SCOPE_NAME + sizeof OA_VERSION;
    for (size_t i = 0; i < n_res; i++)
        need += attr_bound(&r->attrs[i]);
    if ((size_t)(enc->p - enc->buf) < need)
        return NULL;
    uint8_t *end = enc->end;
    uint8_t *p = enc->p;
    /* ResourceSpans: resource (1), scope_spans (2); ScopeSpans: scope (1), spans (2) */
    p = back_scope_spans(p, end);
    uint8_t *resource_end = p;
    for (size_t i = n_res; i-- > 0;)
        p = back_attr(p, 1, &r->attrs[i]);
    p = back_len_prefix(p, 1, resource_end);
    p = back_len_prefix(p, 1, end);
    *len = (size_t)(end - p);
    return p;
}
