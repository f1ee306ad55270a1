/* Text shared by the encoders of libotelauto-otlp.so (see otlp_text.h).
 *
 * Strings go out with invalid UTF-8 replaced by U+FFFD: receivers that
 * decode proto3 strings strictly (the Go collector does) reject the whole
 * request for one bad byte, and HTTP header values are not guaranteed to be
 * UTF-8. */
#include <string.h>

#include "export/otlp/otlp_text.h"

/* U+FFFD REPLACEMENT CHARACTER */
static const char utf8_replacement[3] = {'\xef', '\xbf', '\xbd'};

/* Length of the well-formed UTF-8 sequence starting at p (RFC 3629 table:
 * no overlongs, no surrogates, nothing above U+10FFFF), or 0 if the bytes at
 * p do not start one. NUL counts as invalid because protobuf-c measures
 * strings with strlen and would silently cut the value there. */
size_t oa_otlp_utf8_sequence_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (avail < need)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    }
    return need;
}

size_t oa_otlp_utf8_len(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t out = 0;
    size_t i = 0;

    while (i < len) {
        size_t seq = oa_otlp_utf8_sequence_len(p + i, len - i);
        if (seq == 0) {
            out += sizeof utf8_replacement;
            i++;
        } else {
            out += seq;
            i += seq;
        }
    }
    return out;
}

char *oa_otlp_utf8_put(char *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        size_t seq = oa_otlp_utf8_sequence_len(p + i, len - i);
        if (seq == 0) {
            memcpy(out, utf8_replacement, sizeof utf8_replacement);
            out += sizeof utf8_replacement;
            i++;
        } else {
            memcpy(out, s + i, seq);
            out += seq;
            i += seq;
        }
    }
    return out;
}

size_t oa_otlp_text_write(char *out, const char *s, size_t len)
{
    char *end = oa_otlp_utf8_put(out, s, len);
    *end = '\0';
    return (size_t)(end - out) + 1;
}

size_t oa_otlp_text_size(const char *s, size_t len)
{
    return oa_otlp_utf8_len(s, len) + 1;
}

static const char *nonnull(const char *s)
{
    return s ? s : "";
}

size_t oa_otlp_attr_text_size(const struct oa_attr *a)
{
    size_t bytes = oa_otlp_utf8_len(nonnull(a->key), strlen(nonnull(a->key))) + 1;
    if (a->type == OA_VALUE_STRING && a->v.str.ptr)
        bytes += oa_otlp_utf8_len(a->v.str.ptr, a->v.str.len);
    return bytes + 1;
}

size_t oa_otlp_key_value_fill(Opentelemetry__Proto__Common__V1__KeyValue *kv,
                              Opentelemetry__Proto__Common__V1__AnyValue *v, const struct oa_attr *a, char *text)
{
    size_t used = 0;

    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    kv->key = text;
    used += oa_otlp_text_write(text, nonnull(a->key), strlen(nonnull(a->key)));
    kv->value = v;
    switch (a->type) {
    case OA_VALUE_STRING:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        v->string_value = text + used;
        used += a->v.str.ptr ? oa_otlp_text_write(text + used, a->v.str.ptr, a->v.str.len)
                             : oa_otlp_text_write(text + used, "", 0);
        break;
    case OA_VALUE_INT:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
        v->int_value = a->v.i;
        break;
    case OA_VALUE_BOOL:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
        v->bool_value = a->v.b;
        break;
    case OA_VALUE_DOUBLE:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
        v->double_value = a->v.d;
        break;
    }
    return used;
}

