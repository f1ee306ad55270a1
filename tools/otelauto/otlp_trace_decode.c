/* Decoding with the protobuf-c code generated from the OTLP protos; only
 * the few attributes a tree line shows are kept, as sanitised text (the
 * sender is untrusted: no control characters reach the terminal). */
#include "otlp_trace_decode.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Trace__V1__Span Span;

#define TEXT_MAX 200 /* bytes kept of a name or an attribute value */

#define KIND_SERVER OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER
#define KIND_CLIENT OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT

/* Length of the valid UTF-8 sequence at s[0..len) that encodes a printable
 * character (not a C0/C1 control, not DEL), or 0. */
static size_t printable_utf8_length(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    if (c < 0x20 || c == 0x7f)
        return 0;
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n == 0 || n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    }
    if (c == 0xc2 && s[1] < 0xa0)
        return 0; /* U+0080..U+009F: C1 controls (0x9b is a CSI to some terminals) */
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f) ||
        (c == 0xed && s[1] > 0x9f))
        return 0; /* overlong, beyond U+10FFFF, or a surrogate */
    return n;
}

/* A copy of at most TEXT_MAX bytes in which anything but printable UTF-8
 * (control characters, terminal escapes, broken sequences) becomes '?'. */
static char *clean_copy(const char *s)
{
    if (s == NULL)
        s = "";
    size_t len = strnlen(s, TEXT_MAX);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
    const unsigned char *in = (const unsigned char *)s;
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        size_t n = printable_utf8_length(in + i, len - i);
        if (n == 0) {
            copy[out++] = '?';
            i++;
        } else {
            memcpy(copy + out, in + i, n);
            out += n;
            i += n;
        }
    }
    copy[out] = '\0';
    return copy;
}

static const AnyValue *find_attribute(KeyValue **attrs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (attrs[i] != NULL && attrs[i]->key != NULL && strcmp(attrs[i]->key, key) == 0)
            return attrs[i]->value;
    }
    return NULL;
}

static const char *string_attribute(KeyValue **attrs, size_t n, const char *key)
{
    const AnyValue *v = find_attribute(attrs, n, key);
    if (v != NULL && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
        return v->string_value;
    return NULL;
}

/* Appends " key=value" for a scalar attribute. */
static void append_attribute(char *out, size_t cap, size_t *used, KeyValue **attrs, size_t n, const char *key)
{
    const AnyValue *v = find_attribute(attrs, n, key);
    if (v == NULL || *used >= cap)
        return;
    char value[TEXT_MAX + 1];
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE: {
        char *clean = clean_copy(v->string_value);
        snprintf(value, sizeof value, "%s", clean != NULL ? clean : "");
        free(clean);
        break;
    }
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        snprintf(value, sizeof value, "%lld", (long long)v->int_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        snprintf(value, sizeof value, "%s", v->bool_value ? "true" : "false");
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        snprintf(value, sizeof value, "%g", v->double_value);
        break;
    default:
        return;
    }
    int n_written = snprintf(out + *used, cap - *used, "%s%s=%s", *used ? " " : "", key, value);
    if (n_written > 0)
        *used += (size_t)n_written < cap - *used ? (size_t)n_written : cap - *used - 1;
}

static char *span_details(const Span *span)
{
    char out[4 * TEXT_MAX];
    size_t used = 0;
    out[0] = '\0';
    if (span->kind == KIND_CLIENT) {
        append_attribute(out, sizeof out, &used, span->attributes, span->n_attributes, "server.address");
        append_attribute(out, sizeof out, &used, span->attributes, span->n_attributes, "server.port");
    }
    append_attribute(out, sizeof out, &used, span->attributes, span->n_attributes, "http.response.status_code");
    append_attribute(out, sizeof out, &used, span->attributes, span->n_attributes, "error.type");
    if (span->status != NULL &&
        span->status->code == OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR &&
        used < sizeof out) {
        char *message = clean_copy(span->status->message);
        snprintf(out + used, sizeof out - used, "%sstatus=ERROR%s%s", used ? " " : "",
                 message != NULL && message[0] ? ": " : "", message != NULL ? message : "");
        free(message);
    }
    return strdup(out);
}

/* The name shown: a server span's name is its method only; its path is
 * what tells the requests of a trace apart. */
static char *span_display_name(const Span *span)
{
    const char *path = string_attribute(span->attributes, span->n_attributes, "url.path");
    const char *name = span->name != NULL ? span->name : "";
    if (span->kind != KIND_SERVER || path == NULL || strchr(name, '/') != NULL)
        return clean_copy(name);
    char joined[2 * TEXT_MAX + 2];
    snprintf(joined, sizeof joined, "%.*s %.*s", TEXT_MAX, name, TEXT_MAX, path);
    return clean_copy(joined);
}

static bool all_zero(const uint8_t *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (bytes[i] != 0)
            return false;
    }
    return true;
}

static struct tree_span *convert_span(const Span *span, const char *service)
{
    if (span->trace_id.len != 16 || span->span_id.len != 8)
        return NULL;
    struct tree_span *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    memcpy(s->trace_id, span->trace_id.data, 16);
    memcpy(s->span_id, span->span_id.data, 8);
    if (span->parent_span_id.len == 8 && !all_zero(span->parent_span_id.data, 8)) {
        memcpy(s->parent_id, span->parent_span_id.data, 8);
        s->has_parent = true;
    }
    s->kind = (int)span->kind;
    s->start_ns = span->start_time_unix_nano;
    s->end_ns = span->end_time_unix_nano;
    s->service = clean_copy(service);
    s->name = span_display_name(span);
    s->details = span_details(span);
    if (s->service == NULL || s->name == NULL || s->details == NULL) {
        tree_span_free(s);
        return NULL;
    }
    return s;
}

long otlp_trace_decode(const uint8_t *body, size_t len, struct trace_store *store, uint64_t now_ms)
{
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *request =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len, body);
    if (request == NULL)
        return -1;
    long added = 0;
    for (size_t r = 0; r < request->n_resource_spans; r++) {
        const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = request->resource_spans[r];
        const char *service = NULL;
        if (rs->resource != NULL)
            service = string_attribute(rs->resource->attributes, rs->resource->n_attributes, "service.name");
        if (service == NULL)
            service = "unknown_service";
        for (size_t s = 0; s < rs->n_scope_spans; s++) {
            const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[s];
            for (size_t i = 0; i < ss->n_spans; i++) {
                struct tree_span *span = convert_span(ss->spans[i], service);
                if (span != NULL) {
                    trace_store_add(store, span, now_ms);
                    added++;
                }
            }
        }
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(request, NULL);
    return added;
}
