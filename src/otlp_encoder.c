/* Encodes finished spans as one OTLP ExportTraceServiceRequest, written
 * straight to the protobuf wire format from the field numbers of
 * proto/opentelemetry/proto/{collector/trace,trace,common,resource}/v1.
 *
 * The buffer is filled from its end towards its start: a protobuf length
 * prefix comes before its bytes, and writing backwards a message's bytes are
 * all there when its prefix is written, so one pass over the spans does it
 * (a forward writer needs a measuring pass first, which cost as much as the
 * writing). A cheap pass before it only bounds the size, from the string
 * lengths. No intermediate message objects, no per-string copies: this is
 * what lets one core export well over a million spans a second (protobuf-c,
 * which builds and walks a struct per message, managed about 350 000). The
 * bytes are those protobuf-c would pack: fields in number order (written last
 * to first), proto3 defaults (empty strings, zero numbers) left out, oneof
 * members and sub-messages always written; the unit tests decode them with
 * protobuf-c and with an independent wire walker.
 *
 * Strings are written with invalid UTF-8 replaced by U+FFFD: receivers that
 * decode proto3 strings strictly (the Go collector does) reject the whole
 * request for one bad byte, and HTTP header values are not guaranteed to be
 * UTF-8. NUL is replaced too, as before. */
#include <stdlib.h>
#include <string.h>

#include "oa_otlp.h"
#include "otlp_text.h"

#define SCOPE_NAME "otelauto"
#define SPAN_FLAGS_HAS_IS_REMOTE 0x100u
#define SPAN_FLAGS_IS_REMOTE 0x200u

/* True when every byte is printable-or-control ASCII other than NUL: then
 * the string is valid UTF-8 as it is. Eight bytes at a time. */
static bool plain_ascii(const char *s, size_t len)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    uint64_t x;
    for (; i + 8 <= len; i += 8) {
        memcpy(&x, s + i, 8);
        if (((x | ((x - ones) & ~x)) & highs) != 0)
            return false;
    }
    if (i < len && len >= 8) {
        /* the last bytes as the eight ending the string */
        memcpy(&x, s + len - 8, 8);
        return ((x | ((x - ones) & ~x)) & highs) == 0;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0 || c >= 0x80)
            return false;
    }
    return true;
}

/* ---- bounds ---- */

/* Sanitising replaces a byte by at most the three of U+FFFD. */
#define TEXT_GROWTH 3
/* Everything of a string field but its text: tag and length prefix. */
#define FIELD_OVERHEAD 16
/* A KeyValue and its AnyValue, less the key and string value texts. */
#define ATTR_OVERHEAD (4 * FIELD_OVERHEAD + 16)
/* A span less its attributes and strings: ids, times, kind, status, flags,
 * and its own prefix. */
#define SPAN_OVERHEAD 256

static size_t cstr_len(const char *s)
{
    return s ? strlen(s) : 0;
}

static size_t attributes_bound(const struct oa_attr *attrs, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t text = cstr_len(attrs[i].key);
        if (attrs[i].type == OA_VALUE_STRING && attrs[i].v.str.ptr != NULL)
            text += attrs[i].v.str.len;
        total += ATTR_OVERHEAD + TEXT_GROWTH * text;
    }
    return total;
}

/* ---- wire format, written backwards ---- */

enum wire_type { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* p is where the bytes written so far begin; each writer puts its bytes
 * just before p and returns where they begin. */
static uint8_t *back_varint(uint8_t *p, uint64_t v)
{
    if (v < 0x80) {
        *--p = (uint8_t)v;
        return p;
    }
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    p -= n;
    memcpy(p, tmp, n);
    return p;
}

static uint8_t *back_tag(uint8_t *p, unsigned field, enum wire_type wt)
{
    return back_varint(p, (uint64_t)field << 3 | wt);
}

/* The tag and length prefix of a length-delimited field whose body is the
 * bytes from p to end. */
static uint8_t *back_len_prefix(uint8_t *p, unsigned field, const uint8_t *end)
{
    return back_tag(back_varint(p, (uint64_t)(end - p)), field, WT_LEN);
}

static uint8_t *back_bytes_field(uint8_t *p, unsigned field, const uint8_t *bytes, size_t n)
{
    uint8_t *end = p;
    p -= n;
    memcpy(p, bytes, n);
    return back_len_prefix(p, field, end);
}

static uint8_t *back_fixed64(uint8_t *p, unsigned field, uint64_t v)
{
    for (int i = 7; i >= 0; i--)
        *--p = (uint8_t)(v >> (8 * i));
    return back_tag(p, field, WT_I64);
}

static uint8_t *back_fixed32(uint8_t *p, unsigned field, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        *--p = (uint8_t)(v >> (8 * i));
    return back_tag(p, field, WT_I32);
}

/* The sanitised text of s[0..len), without prefix. */
static uint8_t *back_text(uint8_t *p, const char *s, size_t len)
{
    if (plain_ascii(s, len)) {
        p -= len;
        memcpy(p, s, len);
        return p;
    }
    p -= oa_otlp_utf8_len(s, len);
    oa_otlp_utf8_put((char *)p, s, len);
    return p;
}

/* proto3 string field: left out when empty (sanitising never empties a
 * string: a bad byte becomes U+FFFD) */
static uint8_t *back_string_field(uint8_t *p, unsigned field, const char *s, size_t len)
{
    if (s == NULL || len == 0)
        return p;
    uint8_t *end = p;
    return back_len_prefix(back_text(p, s, len), field, end);
}

static uint8_t *back_cstr_field(uint8_t *p, unsigned field, const char *s)
{
    return back_string_field(p, field, s, cstr_len(s));
}

/* ---- common.v1 KeyValue / AnyValue ---- */

/* Which keys are known to be plain ASCII: a span's are semantic-convention
 * names, string literals of the shim's own code (oa_span_attr_*); a
 * resource's come from OTEL_RESOURCE_ATTRIBUTES and are checked. */
enum key_origin { KEYS_CHECKED, KEYS_LITERAL };

/* KeyValue: key (1, left out when empty), value (2, always: a message whose
 * oneof member is written even when it is empty or 0) */
static uint8_t *back_key_value(uint8_t *p, unsigned field, const struct oa_attr *a, enum key_origin keys)
{
    uint8_t *end = p;
    uint8_t *value_end = p;
    switch (a->type) {
    case OA_VALUE_STRING: {
        uint8_t *text_end = p;
        if (a->v.str.ptr != NULL)
            p = back_text(p, a->v.str.ptr, a->v.str.len);
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
    if (keys == KEYS_LITERAL && a->key != NULL && a->key[0] != '\0') {
        uint8_t *key_end = p;
        size_t len = strlen(a->key);
        p -= len;
        memcpy(p, a->key, len);
        p = back_len_prefix(p, 1, key_end);
    } else {
        p = back_cstr_field(p, 1, a->key);
    }
    return back_len_prefix(p, field, end);
}

/* repeated KeyValue: the last first, so that they read in order */
static uint8_t *back_attributes(uint8_t *p, unsigned field, const struct oa_attr *attrs, size_t n,
                                enum key_origin keys)
{
    for (size_t i = n; i-- > 0;)
        p = back_key_value(p, field, &attrs[i], keys);
    return p;
}

/* ---- trace.v1 Span ---- */

static uint32_t span_attr_count(const struct oa_span *s)
{
    return s->n_attrs < OA_SPAN_MAX_ATTRS ? s->n_attrs : OA_SPAN_MAX_ATTRS;
}

static size_t resource_attr_count(const struct oa_resource *r)
{
    if (!r)
        return 0;
    return r->n_attrs < OA_RESOURCE_MAX_ATTRS ? r->n_attrs : OA_RESOURCE_MAX_ATTRS;
}

static uint32_t span_flags(const struct oa_span *s)
{
    uint32_t flags = s->trace_flags;
    if (s->has_parent) {
        flags |= SPAN_FLAGS_HAS_IS_REMOTE;
        if (s->parent_is_remote)
            flags |= SPAN_FLAGS_IS_REMOTE;
    }
    return flags;
}

static size_t span_bound(const struct oa_span *s)
{
    size_t text = cstr_len(s->trace_state) + cstr_len(s->name) + cstr_len(s->status_message);
    return SPAN_OVERHEAD + TEXT_GROWTH * text + attributes_bound(s->attrs, span_attr_count(s));
}

/* Span (field 2 of ScopeSpans), fields 16 down to 1. */
static uint8_t *back_span(uint8_t *p, const struct oa_span *s)
{
    uint8_t *end = p;
    uint32_t flags = span_flags(s);

    if (flags)
        p = back_fixed32(p, 16, flags);
    /* Status: message (2), code (3); the message itself always written */
    uint8_t *status_end = p;
    if (s->status_code)
        p = back_tag(back_varint(p, s->status_code), 3, WT_VARINT);
    p = back_cstr_field(p, 2, s->status_message);
    p = back_len_prefix(p, 15, status_end);
    if (s->dropped_attrs)
        p = back_tag(back_varint(p, s->dropped_attrs), 10, WT_VARINT);
    p = back_attributes(p, 9, s->attrs, span_attr_count(s), KEYS_LITERAL);
    if (s->end_unix_nano)
        p = back_fixed64(p, 8, s->end_unix_nano);
    if (s->start_unix_nano)
        p = back_fixed64(p, 7, s->start_unix_nano);
    if (s->kind)
        p = back_tag(back_varint(p, s->kind), 6, WT_VARINT);
    p = back_cstr_field(p, 5, s->name);
    if (s->has_parent)
        p = back_bytes_field(p, 4, s->parent_span_id, sizeof s->parent_span_id);
    p = back_cstr_field(p, 3, s->trace_state);
    p = back_bytes_field(p, 2, s->span_id, sizeof s->span_id);
    p = back_bytes_field(p, 1, s->trace_id, sizeof s->trace_id);
    return back_len_prefix(p, 2, end);
}

/* ---- the request ---- */

uint8_t *oa_otlp_encode_traces(const struct oa_resource *resource,
                               struct oa_span *const *spans, size_t n, size_t *out_len)
{
    *out_len = 0;
    /* An empty request is valid and encodes to zero bytes; the exporter does
     * not send it, but callers get a buffer they can free like any other. */
    if (n == 0)
        return malloc(1);

    size_t n_res_attrs = resource_attr_count(resource);
    const struct oa_attr *res_attrs = resource ? resource->attrs : NULL;
    size_t cap = SPAN_OVERHEAD + TEXT_GROWTH * (sizeof SCOPE_NAME + sizeof OA_VERSION) +
                 attributes_bound(res_attrs, n_res_attrs);
    for (size_t i = 0; i < n; i++)
        cap += span_bound(spans[i]);

    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    uint8_t *end = buf + cap;
    uint8_t *p = end;

    /* ResourceSpans: resource (1), scope_spans (2); ScopeSpans: scope (1),
     * spans (2); written from the last span back */
    uint8_t *scope_spans_end = p;
    for (size_t i = n; i-- > 0;)
        p = back_span(p, spans[i]);
    uint8_t *scope_end = p;
    p = back_cstr_field(p, 2, OA_VERSION);
    p = back_cstr_field(p, 1, SCOPE_NAME);
    p = back_len_prefix(p, 1, scope_end);
    p = back_len_prefix(p, 2, scope_spans_end);
    uint8_t *resource_end = p;
    p = back_attributes(p, 1, res_attrs, n_res_attrs, KEYS_CHECKED);
    p = back_len_prefix(p, 1, resource_end);
    /* the request: resource_spans (1) */
    p = back_len_prefix(p, 1, end);

    *out_len = (size_t)(end - p);
    memmove(buf, p, *out_len);
    return buf;
}
