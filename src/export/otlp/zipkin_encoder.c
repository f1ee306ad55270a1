/* Spans as Zipkin v2 JSON (see zipkin_exporter.h), following the
 * specification's OpenTelemetry-to-Zipkin mapping (trace/sdk_exporters/
 * zipkin.md): ids in lower-case hex, times in whole microseconds, INTERNAL
 * spans without a kind, every attribute a string tag, the status as the
 * otel.status_code and error tags, the instrumentation scope as
 * otel.scope.name and otel.scope.version, service.name as the local
 * endpoint's service name and, for CLIENT and PRODUCER spans, the peer
 * attributes as the remote endpoint. Fields that would be empty are left
 * out, as the specification asks. Our spans have no events, so there are
 * never annotations.
 *
 * Written by hand into one growing block: a batch is one string, and no
 * JSON library is worth a dependency for output this regular. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp/otlp_text.h"
#include "export/otlp/zipkin_exporter.h"

/* The same scope the OTLP encoder names in every request. */
#define SCOPE_NAME "otelauto"

/* OTLP's SpanKind numbers past those our spans use (trace/span.h). */
#define KIND_PRODUCER 4
#define KIND_CONSUMER 5

/* Zipkin spans are a few hundred bytes each: this covers most batches of a
 * few spans without growing. */
#define INITIAL_CAPACITY 4096

struct json {
    char *p;
    size_t len;
    size_t cap;
    bool failed; /* out of memory: everything after is ignored */
};

static bool reserve(struct json *j, size_t more)
{
    if (j->failed)
        return false;
    if (j->cap - j->len > more)
        return true;
    size_t cap = j->cap ? j->cap : INITIAL_CAPACITY;
    while (cap - j->len <= more) {
        if (cap > SIZE_MAX / 2) {
            j->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(j->p, cap);
    if (!p) {
        j->failed = true;
        return false;
    }
    j->p = p;
    j->cap = cap;
    return true;
}

static void put(struct json *j, const char *s, size_t len)
{
    if (!reserve(j, len))
        return;
    memcpy(j->p + j->len, s, len);
    j->len += len;
}

#define PUT_LITERAL(j, lit) put((j), (lit), sizeof(lit) - 1)

static void put_hex(struct json *j, const uint8_t *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    if (!reserve(j, 2 * n + 2))
        return;
    j->p[j->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        j->p[j->len++] = digits[bytes[i] >> 4];
        j->p[j->len++] = digits[bytes[i] & 15];
    }
    j->p[j->len++] = '"';
}

static void put_u64(struct json *j, uint64_t v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    put(j, digits, (size_t)n);
}

/* Escapes valid UTF-8 s[0..len) into the block, which has room for it. */
static void escape_into(struct json *j, const char *s, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char *o = j->p + j->len;
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o = (char)c;
            j->len++;
            continue;
        }
        o[0] = '\\';
        switch (c) {
        case '"':
        case '\\':
            o[1] = (char)c;
            break;
        case '\n':
            o[1] = 'n';
            break;
        case '\r':
            o[1] = 'r';
            break;
        case '\t':
            o[1] = 't';
            break;
        case '\b':
            o[1] = 'b';
            break;
        case '\f':
            o[1] = 'f';
            break;
        default:
            memcpy(o + 1, "u00", 3);
            o[4] = digits[c >> 4];
            o[5] = digits[c & 15];
            j->len += 6;
            continue;
        }
        j->len += 2;
    }
}

/* A JSON string. Invalid UTF-8 (and NUL) becomes U+FFFD first, as in the
 * OTLP encoders: a JSON parser may refuse the whole batch for one bad byte,
 * and header values captured from the wire are not promised to be UTF-8. */
static void put_string(struct json *j, const char *s, size_t len)
{
    size_t clean_len = s ? oa_otlp_utf8_len(s, len) : 0;
    char *clean = NULL;

    /* each bad byte grows by two, so an unchanged length means valid */
    if (clean_len != len) {
        clean = malloc(clean_len);
        if (!clean) {
            j->failed = true;
            return;
        }
        oa_otlp_utf8_put(clean, s, len);
        s = clean;
    }
    /* six bytes (\u00XX) for a control character at most */
    if (clean_len > (SIZE_MAX - 2) / 6 || !reserve(j, clean_len * 6 + 2)) {
        j->failed = true;
        free(clean);
        return;
    }
    j->p[j->len++] = '"';
    escape_into(j, s, clean_len);
    j->p[j->len++] = '"';
    free(clean);
}

static void put_cstring(struct json *j, const char *s)
{
    put_string(j, s ? s : "", s ? strlen(s) : 0);
}

/* A double as the specification asks of tags ("en-US": '.' as the decimal
 * point, whatever the program's locale), as short as still reads back the
 * same; the non-finite ones as JavaScript and Java spell them. */
static void put_double_string(struct json *j, double d)
{
    char text[40];

    if (isnan(d)) {
        PUT_LITERAL(j, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        if (d < 0)
            PUT_LITERAL(j, "\"-Infinity\"");
        else
            PUT_LITERAL(j, "\"Infinity\"");
        return;
    }
    /* printf and strtod share this thread's locale, so the round trip is
     * checked in it; only then is its decimal point (whatever character
     * that is: %g writes nothing else but digits, sign and exponent) made
     * a '.' */
    snprintf(text, sizeof text, "%.15g", d);
    if (strtod(text, NULL) != d)
        snprintf(text, sizeof text, "%.17g", d);
    for (char *c = text; *c; c++) {
        if (!(*c >= '0' && *c <= '9') && *c != '-' && *c != '+' && *c != 'e')
            *c = '.';
    }
    put_cstring(j, text);
}

static size_t key_len(const struct oa_attr *a)
{
    return a->key_len ? a->key_len : strlen(a->key);
}

static bool key_is(const struct oa_attr *a, const char *key)
{
    size_t len = strlen(key);
    return key_len(a) == len && memcmp(a->key, key, len) == 0;
}

/* The attribute's value as a tag value: Zipkin tags are strings only. */
static void put_attr_value(struct json *j, const struct oa_attr *a)
{
    char digits[24];
    int n;

    switch (a->type) {
    case OA_VALUE_STRING:
        put_string(j, a->v.str.ptr, a->v.str.ptr ? a->v.str.len : 0);
        break;
    case OA_VALUE_INT:
        n = snprintf(digits, sizeof digits, "%lld", (long long)a->v.i);
        put_string(j, digits, (size_t)n);
        break;
    case OA_VALUE_BOOL:
        if (a->v.b)
            PUT_LITERAL(j, "\"true\"");
        else
            PUT_LITERAL(j, "\"false\"");
        break;
    case OA_VALUE_DOUBLE:
        put_double_string(j, a->v.d);
        break;
    default:
        PUT_LITERAL(j, "\"\"");
        break;
    }
}

static const struct oa_attr *find_attr(const struct oa_span *s, const char *key)
{
    for (uint32_t i = 0; i < s->n_attrs && i < OA_SPAN_MAX_ATTRS; i++) {
        if (key_is(&s->attrs[i], key))
            return &s->attrs[i];
    }
    return NULL;
}

/* The service name: the resource's service.name (the resource always has
 * one; "unknown_service" is the specification's default otherwise). */
static void put_local_endpoint(struct json *j, const struct oa_resource *resource)
{
    PUT_LITERAL(j, ",\"localEndpoint\":{\"serviceName\":");
    for (size_t i = 0; resource && i < resource->n_attrs && i < OA_RESOURCE_MAX_ATTRS; i++) {
        const struct oa_attr *a = &resource->attrs[i];
        if (key_is(a, "service.name") && a->type == OA_VALUE_STRING) {
            put_string(j, a->v.str.ptr, a->v.str.len);
            PUT_LITERAL(j, "}");
            return;
        }
    }
    PUT_LITERAL(j, "\"unknown_service\"}");
}

/* The peer attributes in the specification's order of preference, each with
 * the attribute that holds its port, if any. */
static const struct {
    const char *key;
    const char *port_key;
} remote_ranking[] = {
    {"peer.service", NULL},
    {"server.address", "server.port"},
    {"net.peer.name", "net.peer.port"},
    {"network.peer.address", "network.peer.port"},
    {"server.socket.domain", NULL},
    {"server.socket.address", "server.socket.port"},
    {"net.sock.peer.name", NULL},
    {"net.sock.peer.addr", "net.sock.peer.port"},
    {"peer.hostname", NULL},
    {"peer.address", NULL},
    {"db.name", NULL},
};

static long port_of(const struct oa_span *s, const char *port_key)
{
    const struct oa_attr *a = port_key ? find_attr(s, port_key) : NULL;
    long port = 0;

    if (!a)
        return 0;
    if (a->type == OA_VALUE_INT)
        port = a->v.i > 0 && a->v.i <= 65535 ? (long)a->v.i : 0;
    if (a->type == OA_VALUE_STRING) {
        for (uint32_t i = 0; i < a->v.str.len && port <= 65535; i++) {
            char c = a->v.str.ptr[i];
            if (c < '0' || c > '9')
                return 0;
            port = port * 10 + (c - '0');
        }
    }
    return port <= 65535 ? port : 0;
}

/* Whether the value is an IP address (then "ipv4" or "ipv6") rather than a
 * name ("serviceName"); an IPv6 literal may come in brackets. */
static const char *address_field(const char *v, size_t len)
{
    char text[INET6_ADDRSTRLEN + 2];
    struct in6_addr addr;

    if (len >= sizeof text)
        return NULL;
    if (len > 2 && v[0] == '[' && v[len - 1] == ']') {
        v++;
        len -= 2;
    }
    memcpy(text, v, len);
    text[len] = '\0';
    if (inet_pton(AF_INET, text, &addr) == 1)
        return "ipv4";
    if (inet_pton(AF_INET6, text, &addr) == 1)
        return "ipv6";
    return NULL;
}

/* CLIENT and PRODUCER spans only: Zipkin draws a dependency from them to
 * the remote service. The first attribute of the ranking present decides. */
static void put_remote_endpoint(struct json *j, const struct oa_span *s)
{
    if (s->kind != OA_SPAN_KIND_CLIENT && s->kind != KIND_PRODUCER)
        return;
    for (size_t r = 0; r < sizeof remote_ranking / sizeof remote_ranking[0]; r++) {
        const struct oa_attr *a = find_attr(s, remote_ranking[r].key);
        if (!a || a->type != OA_VALUE_STRING || !a->v.str.ptr || a->v.str.len == 0)
            continue;
        const char *v = a->v.str.ptr;
        size_t len = a->v.str.len;
        const char *field = r == 0 ? NULL : address_field(v, len);
        long port = port_of(s, remote_ranking[r].port_key);

        PUT_LITERAL(j, ",\"remoteEndpoint\":{\"");
        if (field) {
            if (v[0] == '[') {
                v++;
                len -= 2;
            }
            put(j, field, strlen(field));
        } else {
            PUT_LITERAL(j, "serviceName");
        }
        PUT_LITERAL(j, "\":");
        put_string(j, v, len);
        if (port > 0) {
            PUT_LITERAL(j, ",\"port\":");
            put_u64(j, (uint64_t)port);
        }
        PUT_LITERAL(j, "}");
        return;
    }
}

/* Tags written from the span's own fields, which an attribute of the same
 * name must not repeat (a JSON object's keys are unique). An "error"
 * attribute is left out too when it says false: Zipkin marks any span with
 * an error tag as failed, whatever its value. */
static bool attr_left_out(const struct oa_span *s, const struct oa_attr *a)
{
    if (key_is(a, "otel.scope.name") || key_is(a, "otel.scope.version"))
        return true;
    if (key_is(a, "otel.status_code"))
        return s->status_code != OA_STATUS_UNSET;
    if (key_is(a, "otel.dropped_attributes_count"))
        return s->dropped_attrs > 0;
    if (key_is(a, "error")) {
        if (s->status_code == OA_STATUS_ERROR)
            return true;
        if (a->type == OA_VALUE_BOOL)
            return !a->v.b;
        return a->type == OA_VALUE_STRING && a->v.str.len == 5 && memcmp(a->v.str.ptr, "false", 5) == 0;
    }
    return false;
}

static void put_tags(struct json *j, const struct oa_span *s)
{
    PUT_LITERAL(j, ",\"tags\":{");
    for (uint32_t i = 0; i < s->n_attrs && i < OA_SPAN_MAX_ATTRS; i++) {
        const struct oa_attr *a = &s->attrs[i];
        if (attr_left_out(s, a))
            continue;
        put_string(j, a->key, key_len(a));
        PUT_LITERAL(j, ":");
        put_attr_value(j, a);
        PUT_LITERAL(j, ",");
    }
    PUT_LITERAL(j, "\"otel.scope.name\":\"" SCOPE_NAME "\",\"otel.scope.version\":\"" OA_VERSION "\"");
    if (s->status_code == OA_STATUS_OK) {
        PUT_LITERAL(j, ",\"otel.status_code\":\"OK\"");
    } else if (s->status_code == OA_STATUS_ERROR) {
        PUT_LITERAL(j, ",\"otel.status_code\":\"ERROR\",\"error\":");
        put_cstring(j, s->status_message);
    }
    if (s->dropped_attrs > 0) {
        PUT_LITERAL(j, ",\"otel.dropped_attributes_count\":\"");
        put_u64(j, s->dropped_attrs);
        PUT_LITERAL(j, "\"");
    }
    PUT_LITERAL(j, "}");
}

static const char *kind_name(uint8_t kind)
{
    switch (kind) {
    case OA_SPAN_KIND_SERVER:
        return "SERVER";
    case OA_SPAN_KIND_CLIENT:
        return "CLIENT";
    case KIND_PRODUCER:
        return "PRODUCER";
    case KIND_CONSUMER:
        return "CONSUMER";
    default:
        return NULL; /* INTERNAL: Zipkin has no kind for it */
    }
}

static void put_span(struct json *j, const struct oa_resource *resource, const struct oa_span *s)
{
    const char *kind = kind_name(s->kind);

    PUT_LITERAL(j, "{\"traceId\":");
    put_hex(j, s->trace_id, sizeof s->trace_id);
    if (s->has_parent) {
        PUT_LITERAL(j, ",\"parentId\":");
        put_hex(j, s->parent_span_id, sizeof s->parent_span_id);
    }
    PUT_LITERAL(j, ",\"id\":");
    put_hex(j, s->span_id, sizeof s->span_id);
    if (kind) {
        PUT_LITERAL(j, ",\"kind\":\"");
        put(j, kind, strlen(kind));
        PUT_LITERAL(j, "\"");
    }
    PUT_LITERAL(j, ",\"name\":");
    put_cstring(j, s->name);
    PUT_LITERAL(j, ",\"timestamp\":");
    put_u64(j, s->start_unix_nano / 1000);
    /* Whole microseconds, cut (the specification's 1234 ns is 1 µs); but a
     * span shorter than one is 1, not 0, which Zipkin reads as unknown. */
    if (s->end_unix_nano > s->start_unix_nano) {
        uint64_t us = (s->end_unix_nano - s->start_unix_nano) / 1000;
        PUT_LITERAL(j, ",\"duration\":");
        put_u64(j, us ? us : 1);
    }
    put_local_endpoint(j, resource);
    put_remote_endpoint(j, s);
    put_tags(j, s);
    PUT_LITERAL(j, "}");
}

char *oa_zipkin_encode_spans(const struct oa_resource *resource, struct oa_span *const *spans, size_t n,
                             size_t *out_len)
{
    struct json j = {0};

    PUT_LITERAL(&j, "[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            PUT_LITERAL(&j, ",");
        put_span(&j, resource, spans[i]);
    }
    PUT_LITERAL(&j, "]");
    /* reserve keeps one byte spare: room for the NUL */
    if (j.failed) {
        free(j.p);
        return NULL;
    }
    j.p[j.len] = '\0';
    *out_len = j.len;
    return j.p;
}
