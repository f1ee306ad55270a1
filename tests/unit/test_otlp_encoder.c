/* oa_otlp_encode_traces: every span field reaches the wire, checked twice:
 * with the protobuf-c code generated from our .proto files, and with a
 * wire-format walker below that knows the OTLP field numbers and wire types by
 * itself, so a wrong number or type in proto/ cannot hide behind a decoder
 * generated from the same mistake.
 *
 * Also a driver for tests/lib/test_receiver.sh (no TAP output then):
 *   test_otlp_encoder --write FILE      write the fixture request to FILE
 *   test_otlp_encoder --send URL [--gzip] [--timeout-ms N] [--header "K: V"]...
 *                                       send it with the OTLP exporter and
 *                                       print "result=... retry_after_ms=..." */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "export/otlp/otlp_exporter.h"
#include "oa_test.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_request;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_key_value;

/* The exporter's entry points, normally found with dlsym (oa_otlp.h only
 * has their pointer types); the test links the OTLP objects directly. */
struct oa_otlp_exporter *oa_otlp_exporter_create(const struct oa_otlp_env *env);
enum oa_otlp_result oa_otlp_exporter_send(struct oa_otlp_exporter *e, struct oa_span *const *spans,
                                          size_t n, long *retry_after_ms);
void oa_otlp_exporter_destroy(struct oa_otlp_exporter *e);

#define UNPACK(buf, len) \
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, (len), (buf))
#define FREE_UNPACKED(r) \
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked((r), NULL)

/* ---------- fixture ---------- */

/* Bytes placed right before an inaccessible page: reading one byte past a
 * pointer+length string taken from here crashes the test. */
static char *guarded_bytes(const char *bytes, size_t len)
{
    long page = sysconf(_SC_PAGESIZE);
    char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    if (mprotect(map + page, (size_t)page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
    char *at = map + page - len;
    memcpy(at, bytes, len);
    return at;
}

static const char *arena_store(struct oa_span *s, const char *str)
{
    size_t len = strlen(str);
    char *at = s->arena + s->arena_used;
    memcpy(at, str, len + 1);
    s->arena_used += (uint32_t)len + 1;
    return at;
}

static void attr_str(struct oa_attr *a, const char *key, const char *ptr, uint32_t len)
{
    a->key = key;
    a->type = OA_VALUE_STRING;
    a->v.str.ptr = ptr;
    a->v.str.len = len;
}

static void attr_int(struct oa_attr *a, const char *key, int64_t v)
{
    a->key = key;
    a->type = OA_VALUE_INT;
    a->v.i = v;
}

static void attr_bool(struct oa_attr *a, const char *key, bool v)
{
    a->key = key;
    a->type = OA_VALUE_BOOL;
    a->v.b = v;
}

static void attr_double(struct oa_attr *a, const char *key, double v)
{
    a->key = key;
    a->type = OA_VALUE_DOUBLE;
    a->v.d = v;
}

static void fill_ids(struct oa_span *s, uint8_t trace_seed, uint8_t span_seed)
{
    for (int i = 0; i < 16; i++)
        s->trace_id[i] = (uint8_t)(trace_seed + i);
    for (int i = 0; i < 8; i++)
        s->span_id[i] = (uint8_t)(span_seed + i);
}

#define START_NS 1700000000123456789ull
#define RAW_TAIL "abcdefgh"

/* Root server span: every attribute type, tracestate, error status. */
static struct oa_span *fixture_root(void)
{
    struct oa_span *s = calloc(1, sizeof *s);
    fill_ids(s, 0x01, 0xa1);
    s->trace_flags = 0x01;
    s->kind = OA_SPAN_KIND_SERVER;
    s->status_code = OA_STATUS_ERROR;
    s->start_unix_nano = START_NS;
    s->end_unix_nano = START_NS + 5000000;
    s->name = arena_store(s, "GET /users/:id");
    s->trace_state = arena_store(s, "vendor=abc,other=x");
    s->status_message = arena_store(s, "boom");
    const char *method = arena_store(s, "GET");
    attr_str(&s->attrs[0], "http.request.method", method, 3);
    attr_int(&s->attrs[1], "http.response.status_code", 500);
    attr_int(&s->attrs[2], "test.negative", -1234567890123ll);
    attr_bool(&s->attrs[3], "test.flag", true);
    attr_double(&s->attrs[4], "test.ratio", 0.25);
    /* Latin-1 e-acute: not UTF-8, must come out as U+FFFD */
    const char *latin1 = arena_store(s, "/caf\xe9");
    attr_str(&s->attrs[5], "url.path", latin1, 5);
    attr_bool(&s->attrs[6], "test.false", false);
    attr_int(&s->attrs[7], "test.zero", 0);
    s->n_attrs = 8;
    s->dropped_attrs = 3;
    return s;
}

/* Client child of the root, local parent; a string not NUL-terminated. */
static struct oa_span *fixture_child(const struct oa_span *parent)
{
    struct oa_span *s = calloc(1, sizeof *s);
    memcpy(s->trace_id, parent->trace_id, 16);
    for (int i = 0; i < 8; i++)
        s->span_id[i] = (uint8_t)(0xb1 + i);
    memcpy(s->parent_span_id, parent->span_id, 8);
    s->has_parent = true;
    s->parent_is_remote = false;
    s->trace_flags = 0x03;
    s->kind = OA_SPAN_KIND_CLIENT;
    s->status_code = OA_STATUS_UNSET;
    s->start_unix_nano = START_NS + 1000;
    s->end_unix_nano = START_NS + 2000;
    s->name = arena_store(s, "GET");
    const char *tail = guarded_bytes(RAW_TAIL, 8);
    attr_str(&s->attrs[0], "server.address", tail + 5, 3); /* "fgh", last byte before PROT_NONE */
    attr_str(&s->attrs[1], "test.prefix", tail, 3);        /* "abc" */
    attr_str(&s->attrs[2], "test.empty", tail, 0);
    s->n_attrs = 3;
    return s;
}

/* Server span continuing a remote trace; no attributes. */
static struct oa_span *fixture_remote(void)
{
    struct oa_span *s = calloc(1, sizeof *s);
    fill_ids(s, 0x41, 0xc1);
    for (int i = 0; i < 8; i++)
        s->parent_span_id[i] = (uint8_t)(0xd1 + i);
    s->has_parent = true;
    s->parent_is_remote = true;
    s->trace_flags = 0x00;
    s->kind = OA_SPAN_KIND_SERVER;
    s->status_code = OA_STATUS_OK;
    s->start_unix_nano = 1;
    s->end_unix_nano = UINT64_MAX;
    s->name = arena_store(s, "POST /orders");
    return s;
}

static void resource_add(struct oa_resource *r, struct oa_attr a)
{
    r->attrs[r->n_attrs++] = a;
}

static void fixture_resource(struct oa_resource *r)
{
    struct oa_attr a;
    memset(r, 0, sizeof *r);
    /* "checkout" immediately followed by other bytes, not by NUL */
    static const char packed[] = "checkoutstaging";
    attr_str(&a, "service.name", packed, 8);
    resource_add(r, a);
    attr_str(&a, "deployment.environment", packed + 8, 7);
    resource_add(r, a);
    attr_int(&a, "process.pid", 4242);
    resource_add(r, a);
    attr_bool(&a, "test.resource.bool", true);
    resource_add(r, a);
    attr_double(&a, "test.resource.double", -1.5);
    resource_add(r, a);
}

/* ---------- independent wire-format walker ---------- */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

struct wire {
    const uint8_t *p;
    const uint8_t *end;
    bool bad;
};

static uint64_t wire_varint(struct wire *w)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (w->p >= w->end) {
            w->bad = true;
            return 0;
        }
        uint8_t b = *w->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    w->bad = true;
    return 0;
}

static uint64_t wire_fixed(struct wire *w, int bytes)
{
    uint64_t v = 0;
    if (w->end - w->p < bytes) {
        w->bad = true;
        return 0;
    }
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)w->p[i] << (8 * i);
    w->p += bytes;
    return v;
}

static struct wire wire_sub(struct wire *w)
{
    struct wire sub = {w->p, w->p, false};
    uint64_t len = wire_varint(w);
    if (w->bad || len > (uint64_t)(w->end - w->p)) {
        w->bad = true;
        sub.bad = true;
        return sub;
    }
    sub.p = w->p;
    sub.end = w->p + len;
    w->p += len;
    return sub;
}

/* Reads one tag; false at the end of the message. */
static bool wire_tag(struct wire *w, uint32_t *field, uint32_t *type)
{
    if (w->bad || w->p >= w->end)
        return false;
    uint64_t tag = wire_varint(w);
    *field = (uint32_t)(tag >> 3);
    *type = (uint32_t)(tag & 7);
    return !w->bad;
}

static void wire_skip(struct wire *w, uint32_t type)
{
    switch (type) {
    case WT_VARINT:
        wire_varint(w);
        break;
    case WT_I64:
        wire_fixed(w, 8);
        break;
    case WT_LEN:
        wire_sub(w);
        break;
    case WT_I32:
        wire_fixed(w, 4);
        break;
    default:
        w->bad = true;
    }
}

static bool wire_eq(struct wire s, const void *bytes, size_t len)
{
    return !s.bad && (size_t)(s.end - s.p) == len && memcmp(s.p, bytes, len) == 0;
}

struct walked_attr {
    struct wire key;
    uint32_t value_field;   /* AnyValue oneof field number */
    uint32_t value_type;    /* its wire type */
    uint64_t raw;           /* varint or fixed64 bits */
    struct wire str;
};

struct walked_span {
    uint32_t seen;          /* bit per field number present */
    uint32_t wrong_type;    /* bit per field number with an unexpected wire type */
    uint32_t unknown;       /* fields outside the Span schema */
    struct wire trace_id, span_id, trace_state, parent_span_id, name;
    uint64_t kind, start, end, dropped_attrs, flags;
    uint64_t status_code;
    struct wire status_message;
    uint32_t status_seen;
    uint32_t n_attrs;
    struct walked_attr attrs[32];
};

static void walk_any_value(struct wire v, struct walked_attr *a)
{
    uint32_t field, type;
    while (wire_tag(&v, &field, &type)) {
        a->value_field = field;
        a->value_type = type;
        if (type == WT_VARINT)
            a->raw = wire_varint(&v);
        else if (type == WT_I64)
            a->raw = wire_fixed(&v, 8);
        else if (type == WT_LEN)
            a->str = wire_sub(&v);
        else
            wire_skip(&v, type);
    }
}

static void walk_key_value(struct wire kv, struct walked_attr *a)
{
    uint32_t field, type;
    memset(a, 0, sizeof *a);
    while (wire_tag(&kv, &field, &type)) {
        if (field == 1 && type == WT_LEN)
            a->key = wire_sub(&kv);
        else if (field == 2 && type == WT_LEN)
            walk_any_value(wire_sub(&kv), a);
        else
            wire_skip(&kv, type);
    }
}

static void walk_status(struct wire st, struct walked_span *out)
{
    uint32_t field, type;
    while (wire_tag(&st, &field, &type)) {
        out->status_seen |= 1u << field;
        if (field == 2 && type == WT_LEN)
            out->status_message = wire_sub(&st);
        else if (field == 3 && type == WT_VARINT)
            out->status_code = wire_varint(&st);
        else
            wire_skip(&st, type);
    }
}

/* Expected wire type of each Span field (opentelemetry-proto trace.proto) */
static int span_field_type(uint32_t field)
{
    switch (field) {
    case 1: case 2: case 3: case 4: case 5: case 9: case 11: case 13: case 15:
        return WT_LEN;
    case 6: case 10: case 12: case 14:
        return WT_VARINT;
    case 7: case 8:
        return WT_I64;
    case 16:
        return WT_I32;
    default:
        return -1;
    }
}

static void walk_span(struct wire sp, struct walked_span *out)
{
    uint32_t field, type;
    memset(out, 0, sizeof *out);
    while (wire_tag(&sp, &field, &type)) {
        int expected = span_field_type(field);
        if (expected < 0) {
            out->unknown++;
            wire_skip(&sp, type);
            continue;
        }
        out->seen |= 1u << field;
        if ((int)type != expected) {
            out->wrong_type |= 1u << field;
            wire_skip(&sp, type);
            continue;
        }
        switch (field) {
        case 1: out->trace_id = wire_sub(&sp); break;
        case 2: out->span_id = wire_sub(&sp); break;
        case 3: out->trace_state = wire_sub(&sp); break;
        case 4: out->parent_span_id = wire_sub(&sp); break;
        case 5: out->name = wire_sub(&sp); break;
        case 6: out->kind = wire_varint(&sp); break;
        case 7: out->start = wire_fixed(&sp, 8); break;
        case 8: out->end = wire_fixed(&sp, 8); break;
        case 9:
            if (out->n_attrs < 32)
                walk_key_value(wire_sub(&sp), &out->attrs[out->n_attrs++]);
            else
                wire_skip(&sp, type);
            break;
        case 10: out->dropped_attrs = wire_varint(&sp); break;
        case 15: walk_status(wire_sub(&sp), out); break;
        case 16: out->flags = wire_fixed(&sp, 4); break;
        default: wire_skip(&sp, type); break;
        }
    }
}

struct walked_request {
    int n_resource_spans;
    int n_scope_spans;
    struct wire resource;
    struct wire scope;
    int n_spans;
    struct walked_span spans[4];
    bool bad;
};

static void walk_request(const uint8_t *buf, size_t len, struct walked_request *out)
{
    struct wire req = {buf, buf + len, false};
    uint32_t field, type;

    memset(out, 0, sizeof *out);
    while (wire_tag(&req, &field, &type)) {
        if (field != 1 || type != WT_LEN) {
            out->bad = true;
            wire_skip(&req, type);
            continue;
        }
        out->n_resource_spans++;
        struct wire rs = wire_sub(&req);
        while (wire_tag(&rs, &field, &type)) {
            if (field == 1 && type == WT_LEN) {
                out->resource = wire_sub(&rs);
            } else if (field == 2 && type == WT_LEN) {
                out->n_scope_spans++;
                struct wire ss = wire_sub(&rs);
                while (wire_tag(&ss, &field, &type)) {
                    if (field == 1 && type == WT_LEN) {
                        out->scope = wire_sub(&ss);
                    } else if (field == 2 && type == WT_LEN) {
                        struct wire sp = wire_sub(&ss);
                        if (out->n_spans < 4)
                            walk_span(sp, &out->spans[out->n_spans]);
                        out->n_spans++;
                    } else {
                        out->bad = true;
                        wire_skip(&ss, type);
                    }
                }
                out->bad |= ss.bad;
            } else {
                out->bad = true;
                wire_skip(&rs, type);
            }
        }
        out->bad |= rs.bad;
    }
    out->bad |= req.bad;
}

static const struct walked_attr *walked_find(const struct walked_span *s, const char *key)
{
    for (uint32_t i = 0; i < s->n_attrs; i++) {
        if (wire_eq(s->attrs[i].key, key, strlen(key)))
            return &s->attrs[i];
    }
    return NULL;
}

/* The scope message: name "otelauto" (field 1), version OA_VERSION (field 2). */
static bool walked_scope_ok(struct wire scope)
{
    uint32_t field, type;
    bool name = false, version = false;
    while (wire_tag(&scope, &field, &type)) {
        if (field == 1 && type == WT_LEN)
            name = wire_eq(wire_sub(&scope), "otelauto", 8);
        else if (field == 2 && type == WT_LEN)
            version = wire_eq(wire_sub(&scope), OA_VERSION, strlen(OA_VERSION));
        else
            wire_skip(&scope, type);
    }
    return name && version && !scope.bad;
}

/* Resource.attributes is field 1; finds a string attribute's value. */
static bool walked_resource_has_string(struct wire res, const char *key, const char *val)
{
    uint32_t field, type;
    while (wire_tag(&res, &field, &type)) {
        if (field == 1 && type == WT_LEN) {
            struct walked_attr a;
            walk_key_value(wire_sub(&res), &a);
            if (wire_eq(a.key, key, strlen(key)))
                return a.value_field == 1 && wire_eq(a.str, val, strlen(val));
        } else {
            wire_skip(&res, type);
        }
    }
    return false;
}

/* ---------- checks through the generated decoder ---------- */

static const pb_key_value *find_kv(pb_key_value **kvs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (kvs[i]->key && strcmp(kvs[i]->key, key) == 0)
            return kvs[i];
    }
    return NULL;
}

#define VC(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

static bool kv_is_string(const pb_key_value *kv, const char *val)
{
    return kv && kv->value && kv->value->value_case == VC(STRING_VALUE) &&
           strcmp(kv->value->string_value, val) == 0;
}

static bool kv_is_int(const pb_key_value *kv, int64_t val)
{
    return kv && kv->value && kv->value->value_case == VC(INT_VALUE) && kv->value->int_value == val;
}

static bool kv_is_bool(const pb_key_value *kv, bool val)
{
    return kv && kv->value && kv->value->value_case == VC(BOOL_VALUE) && kv->value->bool_value == val;
}

static bool kv_is_double(const pb_key_value *kv, double val)
{
    return kv && kv->value && kv->value->value_case == VC(DOUBLE_VALUE) && kv->value->double_value == val;
}

static bool bin_eq(ProtobufCBinaryData b, const uint8_t *bytes, size_t len)
{
    return b.len == len && memcmp(b.data, bytes, len) == 0;
}

static void check_decoded(const pb_request *req, struct oa_span *const *spans)
{
    CHECK(req->n_resource_spans == 1, "one ResourceSpans");
    if (req->n_resource_spans != 1)
        return;
    const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[0];
    CHECK(rs->resource != NULL, "resource present");
    if (!rs->resource)
        return;
    pb_key_value **ra = rs->resource->attributes;
    size_t nra = rs->resource->n_attributes;
    CHECK(nra == 5, "resource has 5 attributes (%zu)", nra);
    CHECK(kv_is_string(find_kv(ra, nra, "service.name"), "checkout"),
          "resource service.name, cut at its length");
    CHECK(kv_is_string(find_kv(ra, nra, "deployment.environment"), "staging"), "resource string attr");
    CHECK(kv_is_int(find_kv(ra, nra, "process.pid"), 4242), "resource int attr");
    CHECK(kv_is_bool(find_kv(ra, nra, "test.resource.bool"), true), "resource bool attr");
    CHECK(kv_is_double(find_kv(ra, nra, "test.resource.double"), -1.5), "resource double attr");

    CHECK(rs->n_scope_spans == 1, "one ScopeSpans");
    if (rs->n_scope_spans != 1)
        return;
    const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[0];
    CHECK(ss->scope && strcmp(ss->scope->name, "otelauto") == 0, "scope name otelauto");
    CHECK(ss->scope && strcmp(ss->scope->version, OA_VERSION) == 0, "scope version is OA_VERSION");
    CHECK(ss->n_spans == 3, "three spans (%zu)", ss->n_spans);
    if (ss->n_spans != 3)
        return;

    /* root server span */
    const pb_span *a = ss->spans[0];
    CHECK(bin_eq(a->trace_id, spans[0]->trace_id, 16), "root trace_id");
    CHECK(bin_eq(a->span_id, spans[0]->span_id, 8), "root span_id");
    CHECK(a->parent_span_id.len == 0, "root has no parent_span_id");
    CHECK(strcmp(a->trace_state, "vendor=abc,other=x") == 0, "root trace_state");
    CHECK(strcmp(a->name, "GET /users/:id") == 0, "root name");
    CHECK(a->kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER, "root kind SERVER");
    CHECK(a->start_time_unix_nano == START_NS, "root start time");
    CHECK(a->end_time_unix_nano == START_NS + 5000000, "root end time");
    CHECK(a->flags == 0x01, "root flags: W3C flags only (0x%x)", a->flags);
    CHECK(a->dropped_attributes_count == 3, "root dropped_attributes_count");
    CHECK(a->status && a->status->code == OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR,
          "root status ERROR");
    CHECK(a->status && strcmp(a->status->message, "boom") == 0, "root status message");
    CHECK(a->n_attributes == 8, "root has 8 attributes");
    CHECK(kv_is_string(find_kv(a->attributes, a->n_attributes, "http.request.method"), "GET"), "string attribute");
    CHECK(kv_is_int(find_kv(a->attributes, a->n_attributes, "http.response.status_code"), 500), "int attribute");
    CHECK(kv_is_int(find_kv(a->attributes, a->n_attributes, "test.negative"), -1234567890123ll),
          "negative int attribute");
    CHECK(kv_is_bool(find_kv(a->attributes, a->n_attributes, "test.flag"), true), "bool attribute true");
    CHECK(kv_is_bool(find_kv(a->attributes, a->n_attributes, "test.false"), false), "bool attribute false");
    CHECK(kv_is_int(find_kv(a->attributes, a->n_attributes, "test.zero"), 0), "int attribute zero keeps its type");
    CHECK(kv_is_double(find_kv(a->attributes, a->n_attributes, "test.ratio"), 0.25), "double attribute");
    CHECK(kv_is_string(find_kv(a->attributes, a->n_attributes, "url.path"), "/caf\xef\xbf\xbd"),
          "invalid UTF-8 byte replaced by U+FFFD");
    CHECK(a->attributes[0]->key && strcmp(a->attributes[0]->key, "http.request.method") == 0 &&
              strcmp(a->attributes[7]->key, "test.zero") == 0,
          "attribute order preserved");

    /* client child, local parent */
    const pb_span *b = ss->spans[1];
    CHECK(bin_eq(b->trace_id, spans[0]->trace_id, 16), "child shares the trace_id");
    CHECK(bin_eq(b->parent_span_id, spans[0]->span_id, 8), "child parent_span_id is the root's span_id");
    CHECK(b->kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT, "child kind CLIENT");
    CHECK(b->flags == 0x103, "local parent: flags 0x103 (0x%x)", b->flags);
    CHECK(b->trace_state[0] == '\0', "NULL trace_state encodes as empty");
    CHECK(b->status && b->status->code == 0 && b->status->message[0] == '\0', "unset status, no message");
    CHECK(kv_is_string(find_kv(b->attributes, b->n_attributes, "server.address"), "fgh"),
          "string ending at a guard page, not NUL-terminated");
    CHECK(kv_is_string(find_kv(b->attributes, b->n_attributes, "test.prefix"), "abc"),
          "string cut at its length");
    CHECK(kv_is_string(find_kv(b->attributes, b->n_attributes, "test.empty"), ""), "empty string attribute");

    /* remote parent */
    const pb_span *c = ss->spans[2];
    CHECK(bin_eq(c->parent_span_id, spans[2]->parent_span_id, 8), "remote parent_span_id");
    CHECK(c->flags == 0x300, "remote parent, not sampled: flags 0x300 (0x%x)", c->flags);
    CHECK(c->status && c->status->code == OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK,
          "status OK");
    CHECK(c->start_time_unix_nano == 1 && c->end_time_unix_nano == UINT64_MAX, "extreme timestamps");
    CHECK(c->n_attributes == 0, "no attributes");
}

static void check_walked(const uint8_t *buf, size_t len, struct oa_span *const *spans)
{
    struct walked_request w;
    walk_request(buf, len, &w);
    CHECK(!w.bad, "wire: request is well formed and only has the expected fields");
    CHECK(w.n_resource_spans == 1 && w.n_scope_spans == 1 && w.n_spans == 3,
          "wire: ExportTraceServiceRequest.1 / ResourceSpans.2 / ScopeSpans.2 nesting");
    CHECK(walked_scope_ok(w.scope), "wire: ScopeSpans.1 scope name (1) and version (2)");
    CHECK(walked_resource_has_string(w.resource, "service.name", "checkout"),
          "wire: ResourceSpans.1 resource, Resource.1 attributes");
    if (w.n_spans != 3)
        return;

    const struct walked_span *a = &w.spans[0];
    CHECK(a->wrong_type == 0, "wire: every root span field has its OTLP wire type (mask 0x%x)", a->wrong_type);
    CHECK(a->unknown == 0, "wire: no field outside the Span schema");
    CHECK(wire_eq(a->trace_id, spans[0]->trace_id, 16), "wire: Span.1 trace_id");
    CHECK(wire_eq(a->span_id, spans[0]->span_id, 8), "wire: Span.2 span_id");
    CHECK(wire_eq(a->trace_state, "vendor=abc,other=x", 18), "wire: Span.3 trace_state");
    CHECK(!(a->seen & (1u << 4)), "wire: Span.4 parent_span_id absent on a root");
    CHECK(wire_eq(a->name, "GET /users/:id", 14), "wire: Span.5 name");
    CHECK(a->kind == 2, "wire: Span.6 kind varint 2");
    CHECK(a->start == START_NS, "wire: Span.7 start fixed64");
    CHECK(a->end == START_NS + 5000000, "wire: Span.8 end fixed64");
    CHECK(a->n_attrs == 8, "wire: Span.9 attributes repeated");
    CHECK(a->dropped_attrs == 3, "wire: Span.10 dropped_attributes_count");
    CHECK(a->status_code == 2 && wire_eq(a->status_message, "boom", 4) && !(a->status_seen & 2),
          "wire: Span.15 status: code 3, message 2, nothing in reserved 1");
    CHECK(a->flags == 0x01, "wire: Span.16 flags fixed32");

    const struct walked_attr *at = walked_find(a, "http.request.method");
    CHECK(at && at->value_field == 1 && at->value_type == WT_LEN && wire_eq(at->str, "GET", 3),
          "wire: AnyValue.1 string_value");
    at = walked_find(a, "test.flag");
    CHECK(at && at->value_field == 2 && at->value_type == WT_VARINT && at->raw == 1, "wire: AnyValue.2 bool_value");
    at = walked_find(a, "test.negative");
    CHECK(at && at->value_field == 3 && at->value_type == WT_VARINT &&
              (int64_t)at->raw == -1234567890123ll,
          "wire: AnyValue.3 int_value (int64, two's complement varint)");
    at = walked_find(a, "test.ratio");
    double d = 0;
    if (at)
        memcpy(&d, &at->raw, sizeof d);
    CHECK(at && at->value_field == 4 && at->value_type == WT_I64 && d == 0.25, "wire: AnyValue.4 double_value");

    const struct walked_span *b = &w.spans[1];
    CHECK(b->wrong_type == 0 && b->unknown == 0, "wire: child span fields well typed");
    CHECK(wire_eq(b->parent_span_id, spans[0]->span_id, 8), "wire: Span.4 parent_span_id on a child");
    CHECK(b->kind == 3 && b->flags == 0x103, "wire: child kind 3, flags 0x103");

    const struct walked_span *c = &w.spans[2];
    CHECK(c->flags == 0x300 && c->start == 1 && c->end == UINT64_MAX, "wire: remote span flags and times");
}

/* ---------- other cases ---------- */

/* Every string of a span and of the resource made of bytes that are not
 * UTF-8: each grows threefold (U+FFFD), the most any string can. The
 * encoder writes backwards into a buffer it sized from the string lengths;
 * under ASan a bound one byte short would be caught here. */
static void check_worst_case_growth(void)
{
    static char bad[OA_SPAN_MAX_VALUE_LEN];
    memset(bad, 0xff, sizeof bad);
    struct oa_span *s = calloc(1, sizeof *s);
    fill_ids(s, 0x07, 0xb7);
    s->kind = OA_SPAN_KIND_CLIENT;
    s->status_code = OA_STATUS_ERROR;
    s->name = oa_span_store(s, bad, 300);
    s->trace_state = oa_span_store(s, bad, 200);
    s->status_message = oa_span_store(s, bad, 100);
    for (int i = 0; i < OA_SPAN_MAX_ATTRS; i++)
        attr_str(&s->attrs[i], "test.bad", bad, (uint32_t)(i == 0 ? sizeof bad : 40));
    s->n_attrs = OA_SPAN_MAX_ATTRS;
    struct oa_resource res;
    memset(&res, 0, sizeof res);
    for (int i = 0; i < 5; i++) {
        char *key = res.storage + res.storage_used;
        memset(key, 0xff, 20);
        key[20] = '\0';
        res.storage_used += 21;
        attr_str(&res.attrs[res.n_attrs++], key, bad, 50);
    }

    size_t len = 0;
    uint8_t *buf = oa_otlp_encode_traces(&res, &s, 1, &len);
    pb_request *req = buf ? UNPACK(buf, len) : NULL;
    const pb_span *d = req && req->n_resource_spans == 1 && req->resource_spans[0]->n_scope_spans == 1 &&
                               req->resource_spans[0]->scope_spans[0]->n_spans == 1
                           ? req->resource_spans[0]->scope_spans[0]->spans[0]
                           : NULL;
    CHECK(d != NULL, "worst-case growth: the request decodes");
    if (d) {
        CHECK(strlen(d->name) == 900 && memcmp(d->name, "\xef\xbf\xbd", 3) == 0,
              "worst-case growth: 300 bad bytes in the name became 300 U+FFFD (%zu bytes)", strlen(d->name));
        CHECK(d->n_attributes == OA_SPAN_MAX_ATTRS && d->attributes[0]->value->string_value &&
                  strlen(d->attributes[0]->value->string_value) == 3 * sizeof bad,
              "worst-case growth: every attribute, the longest value tripled");
        CHECK(req->resource_spans[0]->resource->n_attributes == 5 &&
                  strlen(req->resource_spans[0]->resource->attributes[4]->key) == 60,
              "worst-case growth: resource keys are checked and tripled too");
    }
    if (req)
        FREE_UNPACKED(req);
    free(buf);
    free(s);
}

static void check_empty_batch(void)
{
    struct oa_resource res;
    size_t len = 123;
    fixture_resource(&res);
    uint8_t *buf = oa_otlp_encode_traces(&res, NULL, 0, &len);
    CHECK(buf != NULL, "empty batch: a buffer is returned");
    CHECK(len == 0, "empty batch: empty request (%zu bytes)", len);
    pb_request *req = UNPACK(buf, len);
    CHECK(req && req->n_resource_spans == 0, "empty batch decodes as a request without ResourceSpans");
    if (req)
        FREE_UNPACKED(req);
    free(buf);
}

static void check_null_resource(void)
{
    struct oa_span *s = fixture_remote();
    size_t len = 0;
    uint8_t *buf = oa_otlp_encode_traces(NULL, &s, 1, &len);
    pb_request *req = buf ? UNPACK(buf, len) : NULL;
    CHECK(req && req->n_resource_spans == 1 && req->resource_spans[0]->resource &&
              req->resource_spans[0]->resource->n_attributes == 0 &&
              req->resource_spans[0]->scope_spans[0]->n_spans == 1,
          "no resource: empty Resource, span still encoded");
    if (req)
        FREE_UNPACKED(req);
    free(buf);
    free(s);
}

#define MANY 700

static void check_many_spans(void)
{
    struct oa_span **spans = calloc(MANY, sizeof *spans);
    struct oa_resource res;
    char name[32];
    int ok = 1;

    fixture_resource(&res);
    for (int i = 0; i < MANY; i++) {
        struct oa_span *s = calloc(1, sizeof *s);
        fill_ids(s, (uint8_t)i, (uint8_t)(i * 7));
        s->span_id[0] = (uint8_t)(i >> 8);
        s->kind = OA_SPAN_KIND_CLIENT;
        s->start_unix_nano = START_NS + (uint64_t)i;
        s->end_unix_nano = START_NS + (uint64_t)i * 2;
        snprintf(name, sizeof name, "span-%d", i);
        s->name = arena_store(s, name);
        for (int j = 0; j < OA_SPAN_MAX_ATTRS; j++) {
            if (j % 2) {
                attr_int(&s->attrs[j], "test.int", (int64_t)i * 1000 + j);
            } else {
                char v[32];
                snprintf(v, sizeof v, "v%d-%d", i, j);
                const char *stored = arena_store(s, v);
                attr_str(&s->attrs[j], "test.str", stored, (uint32_t)strlen(stored));
            }
        }
        s->n_attrs = OA_SPAN_MAX_ATTRS;
        spans[i] = s;
    }

    size_t len = 0;
    uint8_t *buf = oa_otlp_encode_traces(&res, spans, MANY, &len);
    CHECK(buf != NULL && len > (size_t)MANY * OA_SPAN_MAX_ATTRS * 10, "%d spans x %d attributes encoded (%zu bytes)",
          MANY, OA_SPAN_MAX_ATTRS, len);
    pb_request *req = buf ? UNPACK(buf, len) : NULL;
    CHECK(req && req->n_resource_spans == 1 && req->resource_spans[0]->n_scope_spans == 1 &&
              req->resource_spans[0]->scope_spans[0]->n_spans == MANY,
          "all %d spans decoded, in one ResourceSpans/ScopeSpans", MANY);
    if (req && req->resource_spans[0]->scope_spans[0]->n_spans == MANY) {
        pb_span **out = req->resource_spans[0]->scope_spans[0]->spans;
        for (int i = 0; i < MANY; i++) {
            snprintf(name, sizeof name, "span-%d", i);
            EXPECT(ok, strcmp(out[i]->name, name) == 0, "span %d name %s", i, out[i]->name);
            EXPECT(ok, bin_eq(out[i]->span_id, spans[i]->span_id, 8), "span %d id", i);
            EXPECT(ok, out[i]->start_time_unix_nano == START_NS + (uint64_t)i, "span %d start", i);
            EXPECT(ok, out[i]->n_attributes == OA_SPAN_MAX_ATTRS, "span %d attr count", i);
            if (out[i]->n_attributes != OA_SPAN_MAX_ATTRS)
                continue;
            for (int j = 0; j < OA_SPAN_MAX_ATTRS; j++) {
                const pb_key_value *kv = out[i]->attributes[j];
                if (j % 2) {
                    EXPECT(ok, kv_is_int(kv, (int64_t)i * 1000 + j), "span %d attr %d", i, j);
                } else {
                    char v[32];
                    snprintf(v, sizeof v, "v%d-%d", i, j);
                    EXPECT(ok, kv_is_string(kv, v), "span %d attr %d", i, j);
                }
            }
        }
    } else {
        ok = 0;
    }
    CHECK(ok, "every span and attribute of the big batch round-trips in order");
    if (req)
        FREE_UNPACKED(req);
    free(buf);
    for (int i = 0; i < MANY; i++)
        free(spans[i]);
    free(spans);
}

/* A span whose n_attrs claims more than the array holds must not be read past
 * the array. */
static void check_attr_count_clamped(void)
{
    struct oa_span *s = fixture_remote();
    for (int j = 0; j < OA_SPAN_MAX_ATTRS; j++)
        attr_int(&s->attrs[j], "test.i", j);
    s->n_attrs = OA_SPAN_MAX_ATTRS + 5;
    size_t len = 0;
    uint8_t *buf = oa_otlp_encode_traces(NULL, &s, 1, &len);
    pb_request *req = buf ? UNPACK(buf, len) : NULL;
    CHECK(req && req->resource_spans[0]->scope_spans[0]->spans[0]->n_attributes == OA_SPAN_MAX_ATTRS,
          "n_attrs beyond OA_SPAN_MAX_ATTRS is clamped");
    if (req)
        FREE_UNPACKED(req);
    free(buf);
    free(s);
}

/* ---------- driver modes for the receiver self-test ---------- */

static void fixture_spans(struct oa_span *spans[3])
{
    spans[0] = fixture_root();
    spans[1] = fixture_child(spans[0]);
    spans[2] = fixture_remote();
}

static int write_fixture(const char *path)
{
    struct oa_resource res;
    struct oa_span *spans[3];
    size_t len = 0;

    fixture_resource(&res);
    fixture_spans(spans);
    uint8_t *buf = oa_otlp_encode_traces(&res, spans, 3, &len);
    FILE *f = fopen(path, "wb");
    if (!buf || !f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        return 2;
    }
    free(buf);
    for (int i = 0; i < 3; i++)
        free(spans[i]);
    return 0;
}

static void driver_log(int level, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "exporter[%d]: ", level);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int send_fixture(int argc, char **argv)
{
    static struct oa_config cfg;
    static struct oa_resource res;
    struct oa_span *spans[3];
    int repeat = 1;

    struct oa_config_otlp *otlp = &cfg.traces_otlp;

    otlp->timeout_ms = 10000;
    cfg.log_level = 4;
    snprintf(otlp->endpoint, sizeof otlp->endpoint, "%s", argv[2]);
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--gzip") == 0) {
            otlp->compression_gzip = true;
        } else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
            otlp->timeout_ms = atol(argv[++i]);
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--header") == 0 && i + 1 < argc && otlp->n_headers < OA_CONFIG_MAX_HEADERS) {
            snprintf(otlp->headers[otlp->n_headers++], sizeof otlp->headers[0], "%s", argv[++i]);
        } else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    fixture_resource(&res);
    fixture_spans(spans);

    struct oa_otlp_env env = {OA_OTLP_ABI_VERSION, &cfg, &res, driver_log, otlp};
    struct oa_otlp_exporter *e = oa_otlp_exporter_create(&env);
    if (!e) {
        fprintf(stderr, "exporter creation failed\n");
        return 2;
    }
    static const char *names[] = {"ok", "retryable", "failed"};
    for (int i = 0; i < repeat; i++) {
        long retry_after = 0;
        uint64_t t0 = oa_now_mono_nano();
        enum oa_otlp_result r = oa_otlp_exporter_send(e, spans, 3, &retry_after);
        uint64_t elapsed_ms = (oa_now_mono_nano() - t0) / 1000000;
        printf("result=%s retry_after_ms=%ld elapsed_ms=%llu\n", names[r], retry_after,
               (unsigned long long)elapsed_ms);
        fflush(stdout);
    }
    oa_otlp_exporter_destroy(e);
    for (int i = 0; i < 3; i++)
        free(spans[i]);
    return 0;
}

/* Keys and values of every length up to past 32 (the encoder copies short
 * strings and checks them for ASCII in words of 4, 8 and 16 bytes, with
 * overlapping ends), clean and with one bad byte (NUL, or Latin-1) at each
 * place: each comes out whole, the bad byte as U+FFFD. Keys with their
 * length stored (as the setters store it) and without (measured). */
static void check_short_strings(void)
{
    static char keys[41][41];
    bool all_ok = true;
    char failed[80] = "";
    for (size_t len = 1; len <= 40; len++) {
        for (int bad = -1; bad < (int)len; bad++) {
            for (int kind = 0; kind < 2; kind++) {
                char value[41], want[41 + 2];
                for (size_t i = 0; i < len; i++)
                    value[i] = (char)('a' + (i * 7 + len) % 26);
                memcpy(want, value, len);
                size_t want_len = len;
                if (bad >= 0) {
                    value[bad] = kind == 0 ? '\0' : '\xe9';
                    memmove(want + bad + 3, want + bad + 1, len - (size_t)bad - 1);
                    memcpy(want + bad, "\xef\xbf\xbd", 3);
                    want_len += 2;
                }
                memset(keys[len], 'k', len);
                keys[len][len - 1] = (char)('0' + len % 10);
                keys[len][len] = '\0';
                struct oa_span *sp = calloc(1, sizeof *sp);
                fill_ids(sp, 0x11, 0x22);
                sp->name = arena_store(sp, "n");
                attr_str(&sp->attrs[0], keys[len], value, (uint32_t)len);
                sp->attrs[0].key_len = kind == 0 ? (uint32_t)len : 0;
                sp->n_attrs = 1;
                size_t out_len = 0;
                uint8_t *buf = oa_otlp_encode_traces(NULL, &sp, 1, &out_len);
                pb_request *req = buf ? UNPACK(buf, out_len) : NULL;
                const pb_span *d = req && req->n_resource_spans == 1 &&
                                           req->resource_spans[0]->n_scope_spans == 1 &&
                                           req->resource_spans[0]->scope_spans[0]->n_spans == 1
                                       ? req->resource_spans[0]->scope_spans[0]->spans[0]
                                       : NULL;
                bool ok = d != NULL && d->n_attributes == 1 && strcmp(d->attributes[0]->key, keys[len]) == 0 &&
                          d->attributes[0]->value->string_value != NULL &&
                          strlen(d->attributes[0]->value->string_value) == want_len &&
                          memcmp(d->attributes[0]->value->string_value, want, want_len) == 0;
                if (!ok && all_ok)
                    snprintf(failed, sizeof failed, "length %zu, bad byte at %d (%s)", len, bad,
                             kind == 0 ? "NUL" : "Latin-1");
                all_ok = all_ok && ok;
                if (req)
                    FREE_UNPACKED(req);
                free(buf);
                free(sp);
            }
        }
    }
    CHECK(all_ok, "keys and values of 1 to 40 bytes, clean or with a bad byte anywhere, come out whole%s%s",
          failed[0] ? ": first wrong: " : "", failed);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write") == 0)
        return write_fixture(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "--send") == 0)
        return send_fixture(argc, argv);

    struct oa_resource res;
    struct oa_span *spans[3];
    size_t len = 0;

    fixture_resource(&res);
    fixture_spans(spans);
    uint8_t *buf = oa_otlp_encode_traces(&res, spans, 3, &len);
    CHECK(buf != NULL && len > 0, "fixture encodes (%zu bytes)", len);
    if (buf) {
        pb_request *req = UNPACK(buf, len);
        CHECK(req != NULL, "protobuf-c decodes the request");
        if (req) {
            check_decoded(req, spans);
            /* The encoder writes the wire format itself; protobuf-c packing
             * what it decoded must give back the very same bytes (field
             * order, defaults left out, lengths). */
            size_t repacked_len =
                opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(req);
            uint8_t *repacked = malloc(repacked_len + 1);
            if (repacked)
                opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(req, repacked);
            CHECK(repacked && repacked_len == len && memcmp(repacked, buf, len) == 0,
                  "the bytes are those protobuf-c packs for the same request (%zu vs %zu)", len,
                  repacked_len);
            free(repacked);
            FREE_UNPACKED(req);
        }
        check_walked(buf, len, spans);
    }
    free(buf);
    for (int i = 0; i < 3; i++)
        free(spans[i]);

    check_empty_batch();
    check_worst_case_growth();
    check_null_resource();
    check_many_spans();
    check_attr_count_clamped();
    check_short_strings();
    TEST_DONE();
}
