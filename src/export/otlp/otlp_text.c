/* Text shared by the encoders of libotelauto-otlp.so (see otlp_text.h).
 *
 * Strings go out with invalid UTF-8 replaced by U+FFFD (base/utf8_text.h). */
#include <string.h>

#include "export/otlp/otlp_text.h"
#include "base/utf8_text.h"

size_t oa_otlp_utf8_sequence_len(const unsigned char *p, size_t avail)
{
    return oa_utf8_sequence_len(p, avail);
}

size_t oa_otlp_utf8_len(const char *s, size_t len)
{
    return oa_utf8_sanitised_len(s, len);
}

char *oa_otlp_utf8_put(char *out, const char *s, size_t len)
{
    return oa_utf8_sanitised_put(out, s, len);
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

