/* Encodes finished spans as one OTLP ExportTraceServiceRequest with the
 * protobuf-c code generated from proto/.
 *
 * Every message of a request lives in one block sized before anything is
 * filled in: one malloc per call, whatever the number of spans and
 * attributes, freed as soon as the request is packed. All strings are copied
 * into that block, NUL-terminated (protobuf-c takes char *) and with invalid
 * UTF-8 replaced by U+FFFD: receivers that decode proto3 strings strictly
 * (the Go collector does) reject the whole request for one bad byte, and HTTP
 * header values are not guaranteed to be UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "oa_otlp.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp_text.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_request;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Status pb_status;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_key_value;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any_value;

#define SCOPE_NAME "otelauto"

#define SPAN_FLAGS_HAS_IS_REMOTE 0x100u
#define SPAN_FLAGS_IS_REMOTE 0x200u

/* U+FFFD REPLACEMENT CHARACTER */
static const char utf8_replacement[3] = {'\xef', '\xbf', '\xbd'};

/* Length of the well-formed UTF-8 sequence starting at p (RFC 3629 table:
 * no overlongs, no surrogates, nothing above U+10FFFF), or 0 if the bytes at
 * p do not start one. NUL counts as invalid because protobuf-c measures
 * strings with strlen and would silently cut the value there. */
static size_t utf8_sequence_len(const unsigned char *p, size_t avail)
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

/* Bytes text_copy will write for these bytes, without the NUL. */
static size_t sanitized_len(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t out = 0;
    size_t i = 0;

    while (i < len) {
        size_t seq = utf8_sequence_len(p + i, len - i);
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

/* The one block holding a request's messages, carved into typed arrays. */
struct request_storage {
    void *block;
    pb_span *spans;
    pb_span **span_ptrs;
    pb_status *statuses;
    pb_key_value *kvs;
    pb_key_value **kv_ptrs;
    pb_any_value *values;
    size_t kvs_used;
    char *text;
    size_t text_used;
};

/* Reserves count objects of size bytes at the next suitably aligned offset. */
static size_t layout_reserve(size_t *offset, size_t count, size_t size)
{
    size_t align = _Alignof(max_align_t);
    size_t start = (*offset + align - 1) & ~(align - 1);
    *offset = start + count * size;
    return start;
}

size_t oa_otlp_text_write(char *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;
    size_t i = 0;

    while (i < len) {
        size_t seq = utf8_sequence_len(p + i, len - i);
        if (seq == 0) {
            memcpy(out + w, utf8_replacement, sizeof utf8_replacement);
            w += sizeof utf8_replacement;
            i++;
        } else {
            memcpy(out + w, s + i, seq);
            w += seq;
            i += seq;
        }
    }
    out[w] = '\0';
    return w + 1;
}

size_t oa_otlp_text_size(const char *s, size_t len)
{
    return sanitized_len(s, len) + 1;
}

/* Copies the string into the block, sanitised and NUL-terminated. The block
 * was sized from the same strings, so room is always there. */
static char *text_copy(struct request_storage *st, const char *s, size_t len)
{
    char *out = st->text + st->text_used;
    st->text_used += oa_otlp_text_write(out, s, len);
    return out;
}

static const char *nonnull(const char *s)
{
    return s ? s : "";
}

size_t oa_otlp_attr_text_size(const struct oa_attr *a)
{
    size_t bytes = sanitized_len(nonnull(a->key), strlen(nonnull(a->key))) + 1;
    if (a->type == OA_VALUE_STRING && a->v.str.ptr)
        bytes += sanitized_len(a->v.str.ptr, a->v.str.len);
    return bytes + 1;
}

static size_t attr_text_bytes(const struct oa_attr *a)
{
    return oa_otlp_attr_text_size(a);
}

size_t oa_otlp_key_value_fill(pb_key_value *kv, pb_any_value *v, const struct oa_attr *a, char *text)
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

static size_t cstr_text_bytes(const char *s)
{
    return sanitized_len(nonnull(s), strlen(nonnull(s))) + 1;
}

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

static bool storage_alloc(struct request_storage *st, const struct oa_resource *resource,
                          struct oa_span *const *spans, size_t n)
{
    size_t n_kvs = resource_attr_count(resource);
    size_t text = 0;

    for (size_t i = 0; i < n_kvs; i++)
        text += attr_text_bytes(&resource->attrs[i]);
    for (size_t i = 0; i < n; i++) {
        const struct oa_span *s = spans[i];
        uint32_t na = span_attr_count(s);
        n_kvs += na;
        for (uint32_t j = 0; j < na; j++)
            text += attr_text_bytes(&s->attrs[j]);
        text += cstr_text_bytes(s->name) + cstr_text_bytes(s->trace_state) +
                cstr_text_bytes(s->status_message);
    }

    size_t off = 0;
    size_t off_spans = layout_reserve(&off, n, sizeof(pb_span));
    size_t off_span_ptrs = layout_reserve(&off, n, sizeof(pb_span *));
    size_t off_statuses = layout_reserve(&off, n, sizeof(pb_status));
    size_t off_kvs = layout_reserve(&off, n_kvs, sizeof(pb_key_value));
    size_t off_kv_ptrs = layout_reserve(&off, n_kvs, sizeof(pb_key_value *));
    size_t off_values = layout_reserve(&off, n_kvs, sizeof(pb_any_value));
    size_t off_text = layout_reserve(&off, text, 1);

    char *block = malloc(off ? off : 1);
    if (!block)
        return false;
    st->block = block;
    st->spans = (pb_span *)(void *)(block + off_spans);
    st->span_ptrs = (pb_span **)(void *)(block + off_span_ptrs);
    st->statuses = (pb_status *)(void *)(block + off_statuses);
    st->kvs = (pb_key_value *)(void *)(block + off_kvs);
    st->kv_ptrs = (pb_key_value **)(void *)(block + off_kv_ptrs);
    st->values = (pb_any_value *)(void *)(block + off_values);
    st->kvs_used = 0;
    st->text = block + off_text;
    st->text_used = 0;
    return true;
}

/* Fills count consecutive KeyValues from attrs; returns their pointer array. */
static pb_key_value **fill_attributes(struct request_storage *st, const struct oa_attr *attrs,
                                      size_t count)
{
    pb_key_value **ptrs = st->kv_ptrs + st->kvs_used;

    for (size_t i = 0; i < count; i++) {
        const struct oa_attr *a = &attrs[i];
        pb_key_value *kv = &st->kvs[st->kvs_used];
        pb_any_value *v = &st->values[st->kvs_used];
        st->kvs_used++;

        st->text_used += oa_otlp_key_value_fill(kv, v, a, st->text + st->text_used);
        ptrs[i] = kv;
    }
    return ptrs;
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

static void fill_span(struct request_storage *st, size_t i, struct oa_span *s)
{
    pb_span *out = &st->spans[i];
    pb_status *status = &st->statuses[i];

    opentelemetry__proto__trace__v1__span__init(out);
    out->trace_id.data = s->trace_id;
    out->trace_id.len = sizeof s->trace_id;
    out->span_id.data = s->span_id;
    out->span_id.len = sizeof s->span_id;
    if (s->has_parent) {
        out->parent_span_id.data = s->parent_span_id;
        out->parent_span_id.len = sizeof s->parent_span_id;
    }
    out->trace_state = text_copy(st, nonnull(s->trace_state), strlen(nonnull(s->trace_state)));
    out->name = text_copy(st, nonnull(s->name), strlen(nonnull(s->name)));
    out->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)s->kind;
    out->start_time_unix_nano = s->start_unix_nano;
    out->end_time_unix_nano = s->end_unix_nano;
    out->n_attributes = span_attr_count(s);
    out->attributes = fill_attributes(st, s->attrs, out->n_attributes);
    out->dropped_attributes_count = s->dropped_attrs;
    out->flags = span_flags(s);

    opentelemetry__proto__trace__v1__status__init(status);
    status->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)s->status_code;
    status->message = text_copy(st, nonnull(s->status_message), strlen(nonnull(s->status_message)));
    out->status = status;

    st->span_ptrs[i] = out;
}

uint8_t *oa_otlp_encode_traces(const struct oa_resource *resource,
                               struct oa_span *const *spans, size_t n, size_t *out_len)
{
    struct request_storage st;
    pb_request request = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    pb_resource_spans resource_spans = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    pb_resource pb_res = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    pb_scope_spans scope_spans = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    pb_scope scope = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
    pb_resource_spans *resource_spans_ptr = &resource_spans;
    pb_scope_spans *scope_spans_ptr = &scope_spans;

    *out_len = 0;
    /* An empty request is valid and encodes to zero bytes; the exporter does
     * not send it, but callers get a buffer they can free like any other. */
    if (n > 0) {
        if (!storage_alloc(&st, resource, spans, n))
            return NULL;
        pb_res.n_attributes = resource_attr_count(resource);
        pb_res.attributes = fill_attributes(&st, resource ? resource->attrs : NULL,
                                            pb_res.n_attributes);
        scope.name = (char *)SCOPE_NAME;
        scope.version = (char *)OA_VERSION;
        for (size_t i = 0; i < n; i++)
            fill_span(&st, i, spans[i]);
        scope_spans.scope = &scope;
        scope_spans.n_spans = n;
        scope_spans.spans = st.span_ptrs;
        resource_spans.resource = &pb_res;
        resource_spans.n_scope_spans = 1;
        resource_spans.scope_spans = &scope_spans_ptr;
        request.n_resource_spans = 1;
        request.resource_spans = &resource_spans_ptr;
    }

    size_t len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(&request);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf) {
        *out_len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&request, buf);
    }
    if (n > 0)
        free(st.block);
    return buf;
}
