/* Encodes finished spans as one OTLP ExportTraceServiceRequest, written
 * straight to the protobuf wire format from the field numbers of
 * proto/opentelemetry/proto/{collector/trace,trace,common,resource}/v1.
 *
 * The buffer is filled from its end towards its start: a protobuf length
 * prefix comes before its bytes, and writing backwards a message's bytes are
 * all there when its prefix is written, so one pass over the spans does it
 * (a forward writer needs a measuring pass first, which cost as much as the
 * writing). A cheap pass before each group of spans only bounds their size,
 * from the string lengths, and grows the buffer if they might not fit. No intermediate message objects, no per-string copies: this is
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

#include "export/otlp/otlp_exporter.h"
#include "export/otlp/otlp_span_flags.h"
#include "base/protobuf_back.h"
#include "export/otlp/otlp_span_back.h"
#include "export/otlp/otlp_text.h"

#define SCOPE_NAME OA_OTLP_SCOPE_NAME

/* True when every byte is printable-or-control ASCII other than NUL: then
 * the string is valid UTF-8 as it is. Eight bytes at a time, a short
 * string in overlapping words or bytes. */
static inline __attribute__((always_inline)) bool plain_ascii(const char *s, size_t len)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    uint64_t x;
    for (; i + 8 <= len; i += 8) {
        memcpy(&x, s + i, 8);
        if (((x | ((x - ones) & ~x)) & highs) != 0)
            return false;
    }
    if (len >= 8) {
        if (i == len)
            return true;
        /* the last bytes as the eight ending the string */
        memcpy(&x, s + len - 8, 8);
        return ((x | ((x - ones) & ~x)) & highs) == 0;
    }
    if (len >= 4) {
        /* four to seven bytes: two overlapping words */
        const uint32_t ones4 = 0x01010101u, highs4 = 0x80808080u;
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + len - 4, 4);
        return (((a | ((a - ones4) & ~a)) | (b | ((b - ones4) & ~b))) & highs4) == 0;
    }
    if (len > 0) {
        /* one to three bytes: the first, the middle and the last */
        unsigned char a = (unsigned char)s[0], b = (unsigned char)s[len / 2], c = (unsigned char)s[len - 1];
        return a != 0 && b != 0 && c != 0 && ((a | b | c) & 0x80) == 0;
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

/* A span's keys are literals of the shim's code whose length the setter
 * stored (struct oa_attr's key_len); any other key is measured. */
static inline __attribute__((always_inline)) size_t key_length(const struct oa_attr *a)
{
    return a->key_len != 0 ? a->key_len : oa_strlen_or_0(a->key);
}

/* Which keys are known to be plain ASCII: a span's are semantic-convention
 * names, string literals of the shim's own code (oa_span_attr_*); a
 * resource's come from OTEL_RESOURCE_ATTRIBUTES and are checked. */
enum key_origin { KEYS_CHECKED, KEYS_LITERAL };

/* Room for n attributes: literal keys are written as they are, checked keys
 * and string values may grow. A value's length is counted whether or not it
 * is written (a NULL string is not): a bound, without a branch. */
static size_t attributes_bound(const struct oa_attr *attrs, size_t n, enum key_origin keys)
{
    size_t key_growth = keys == KEYS_LITERAL ? 1 : TEXT_GROWTH;
    size_t total = n * ATTR_OVERHEAD;
    for (size_t i = 0; i < n; i++) {
        size_t value = attrs[i].type == OA_VALUE_STRING ? attrs[i].v.str.len : 0;
        total += key_growth * key_length(&attrs[i]) + TEXT_GROWTH * value;
    }
    return total;
}

/* ---- wire format, written backwards: base/protobuf_back.h ---- */

static __attribute__((noinline)) uint8_t *back_sanitised(uint8_t *p, const char *s, size_t len)
{
    p -= oa_otlp_utf8_len(s, len);
    oa_otlp_utf8_put((char *)p, s, len);
    return p;
}

/* The sanitised text of s[0..len), without prefix. */
BACK back_text(uint8_t *p, const char *s, size_t len)
{
    if (__builtin_expect(plain_ascii(s, len), 1))
        return back_copy(p, s, len);
    return back_sanitised(p, s, len);
}

/* proto3 string field: left out when empty (sanitising never empties a
 * string: a bad byte becomes U+FFFD) */
BACK back_string_field(uint8_t *p, unsigned field, const char *s, size_t len)
{
    if (s == NULL || len == 0)
        return p;
    uint8_t *end = p;
    return back_len_prefix(back_text(p, s, len), field, end);
}

BACK back_cstr_field(uint8_t *p, unsigned field, const char *s)
{
    return back_string_field(p, field, s, oa_strlen_or_0(s));
}

/* ---- common.v1 KeyValue / AnyValue ---- */

/* KeyValue: key (1, left out when empty), value (2, always: a message whose
 * oneof member is written even when it is empty or 0) */
BACK back_key_value(uint8_t *p, unsigned field, const struct oa_attr *a, enum key_origin keys)
{
    uint8_t *end = p;
    p = back_any_value(p, 2, a, back_text);
    if (keys == KEYS_LITERAL) {
        size_t len = key_length(a);
        if (len > 0) {
            uint8_t *key_end = p;
            p = back_len_prefix(back_copy(p, a->key, len), 1, key_end);
        }
    } else {
        p = back_cstr_field(p, 1, a->key);
    }
    return back_len_prefix(p, field, end);
}

/* repeated KeyValue: the last first, so that they read in order; a span's
 * (literal keys) and a resource's (checked keys) apart, so that each loop
 * has its own inlined writer */
static uint8_t *back_span_attributes(uint8_t *p, unsigned field, const struct oa_attr *attrs, size_t n)
{
    for (size_t i = n; i-- > 0;)
        p = back_key_value(p, field, &attrs[i], KEYS_LITERAL);
    return p;
}

static uint8_t *back_checked_attributes(uint8_t *p, unsigned field, const struct oa_attr *attrs, size_t n)
{
    for (size_t i = n; i-- > 0;)
        p = back_key_value(p, field, &attrs[i], KEYS_CHECKED);
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

static size_t span_bound(const struct oa_span *s)
{
    size_t text = oa_strlen_or_0(s->trace_state) + oa_strlen_or_0(s->name) + oa_strlen_or_0(s->status_message);
    return SPAN_OVERHEAD + TEXT_GROWTH * text + attributes_bound(s->attrs, span_attr_count(s), KEYS_LITERAL);
}

/* Span (field 2 of ScopeSpans), fields 16 down to 1. */
static uint8_t *back_span(uint8_t *p, const struct oa_span *s)
{
    uint8_t *end = p;
    uint32_t flags = oa_otlp_span_flags(s);

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
    p = back_span_attributes(p, 9, s->attrs, span_attr_count(s));
    p = back_span_identity(p, s, back_cstr_field);
    return back_len_prefix(p, 2, end);
}

/* ---- the request ---- */

/* The spans are bounded and written a group at a time, from the last group
 * to the first: a group's spans, touched by the bounding, are still in this
 * core's first-level cache when they are written. Bounding the whole batch
 * first, as before, meant touching every span twice with the whole batch
 * (~360 KiB of spans for 512, beyond the second-level cache) in between:
 * at a steady rate the spans come cold from the program's cores, and the
 * second touch missed again (a quarter of the encoder's time). */
#define GROUP_SPANS 16
/* The first guess at a batch's size, per span: a span of the shim's (a
 * dozen attributes) takes ~400 bytes; more takes a larger buffer. */
#define GUESS_PER_SPAN 512

/* The buffer being written backwards: p (where the bytes so far begin) to
 * buf + cap. */
struct back_buffer {
    uint8_t *buf;
    size_t cap;
};

/* p, with at least need bytes of room before it: the buffer grown (at
 * least doubled, the bytes so far moved to its end) if there are fewer.
 * NULL, the buffer freed, when it cannot grow. */
static uint8_t *room_before(struct back_buffer *b, uint8_t *p, size_t need)
{
    if ((size_t)(p - b->buf) >= need)
        return p;
    size_t written = (size_t)(b->buf + b->cap - p);
    size_t cap = b->cap * 2;
    while (cap - written < need)
        cap *= 2;
    uint8_t *grown = malloc(cap);
    if (grown != NULL)
        memcpy(grown + cap - written, p, written);
    free(b->buf);
    b->buf = grown;
    b->cap = cap;
    return grown != NULL ? grown + cap - written : NULL;
}

uint8_t *oa_otlp_encode_traces_at(const struct oa_resource *resource, struct oa_span *const *spans,
                                  size_t n, const uint8_t **out, size_t *out_len)
{
    *out_len = 0;
    /* An empty request is valid and encodes to zero bytes; the exporter does
     * not send it, but callers get a buffer they can free like any other. */
    if (n == 0) {
        uint8_t *empty = malloc(1);
        *out = empty;
        return empty;
    }

    size_t n_res_attrs = resource_attr_count(resource);
    const struct oa_attr *res_attrs = resource ? resource->attrs : NULL;
    size_t outer = SPAN_OVERHEAD + TEXT_GROWTH * (sizeof SCOPE_NAME + sizeof OA_VERSION) +
                   attributes_bound(res_attrs, n_res_attrs, KEYS_CHECKED);
    struct back_buffer b = {.cap = outer + n * GUESS_PER_SPAN};
    b.buf = malloc(b.cap);
    if (b.buf == NULL)
        return NULL;
    uint8_t *p = b.buf + b.cap;

    /* ResourceSpans: resource (1), scope_spans (2); ScopeSpans: scope (1),
     * spans (2); written from the last span back, the room for what comes
     * before the spans kept for them */
    for (size_t group_end = n; group_end > 0;) {
        size_t group_start = group_end > GROUP_SPANS ? group_end - GROUP_SPANS : 0;
        size_t need = outer;
        for (size_t i = group_start; i < group_end; i++)
            need += span_bound(spans[i]);
        p = room_before(&b, p, need);
        if (p == NULL)
            return NULL;
        for (size_t i = group_end; i-- > group_start;)
            p = back_span(p, spans[i]);
        group_end = group_start;
    }
    uint8_t *end = b.buf + b.cap;
    p = back_scope_spans(p, end);
    uint8_t *resource_end = p;
    p = back_checked_attributes(p, 1, res_attrs, n_res_attrs);
    p = back_len_prefix(p, 1, resource_end);
    /* the request: resource_spans (1) */
    p = back_len_prefix(p, 1, end);

    *out_len = (size_t)(end - p);
    *out = p;
    return b.buf;
}

uint8_t *oa_otlp_encode_traces(const struct oa_resource *resource,
                               struct oa_span *const *spans, size_t n, size_t *out_len)
{
    const uint8_t *at;
    uint8_t *buf = oa_otlp_encode_traces_at(resource, spans, n, &at, out_len);
    if (buf != NULL)
        memmove(buf, at, *out_len);
    return buf;
}
