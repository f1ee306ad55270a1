/* The pure parts of the crash capture: the fixed-buffer encoder
 * (src/export/crash_encoder.c), decoded with protobuf-c from proto/, a span
 * copy made without allocation (oa_span_copy_full), the frame lines and the
 * /proc/self/maps lookup of src/lifecycle/crash_stack.c, the runtimes that
 * handle their own faults (src/lifecycle/crash_runtime.c), the request
 * rewritten as JSON (src/export/otlp/otlp_json_transcode.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/crash_encoder.h"
#include "export/otlp/otlp_json_transcode.h"
#include "lifecycle/crash_runtime.h"
#include "lifecycle/crash_stack.h"
#include "oa_test.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_request;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_key_value;

static const pb_key_value *find_kv(pb_key_value **kvs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(kvs[i]->key, key) == 0)
            return kvs[i];
    }
    return NULL;
}

static const char *kv_string(pb_key_value **kvs, size_t n, const char *key)
{
    const pb_key_value *kv = find_kv(kvs, n, key);
    return kv != NULL && kv->value != NULL && kv->value->value_case ==
                             OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
               ? kv->value->string_value
               : NULL;
}

static struct oa_span *fixture_span(uint8_t kind, const char *name)
{
    struct oa_span *s = oa_span_new();
    if (s == NULL)
        exit(2);
    memset(s->trace_id, 0x11, 16);
    memset(s->span_id, 0x22, 8);
    memset(s->parent_span_id, 0x33, 8);
    s->has_parent = true;
    s->trace_flags = 1;
    s->kind = kind;
    s->start_unix_nano = 1000;
    oa_span_set_name(s, name, strlen(name));
    oa_span_attr_str(s, "url.path", "/caf\xc3\xa9\xff", 7);
    oa_span_attr_int(s, "server.port", 8080);
    return s;
}

static void test_encoder(void)
{
    struct oa_resource r;
    memset(&r, 0, sizeof r);
    r.attrs[0] = (struct oa_attr){.key = "service.name", .type = OA_VALUE_STRING, .v.str = {"svc", 3}};
    r.n_attrs = 1;

    struct oa_span *server = fixture_span(OA_SPAN_KIND_SERVER, "GET /a");
    struct oa_span *client = fixture_span(OA_SPAN_KIND_CLIENT, "GET");
    /* the capture encodes copies: the copy's strings are its own */
    static struct oa_span copy;
    oa_span_copy_full(&copy, client);
    memset(client->arena, 'x', client->arena_used);
    oa_span_attr_str(&copy, "error.type", "SIGSEGV", 7);
    copy.end_unix_nano = 2000;

    const char stack[] = "#0 f+0x1 (/lib/a.so)\n#1 main+0x2 (/bin/p)\n";
    struct oa_crash_event ev = {.time_unix_nano = 1500, .type = "SIGSEGV",
                                .message = "Segmentation fault at address 0x0",
                                .stacktrace = stack, .stacktrace_len = sizeof stack - 1};
    static uint8_t buf[65536];
    struct oa_crash_encoder enc;
    oa_crash_encoder_begin(&enc, buf, sizeof buf);
    CHECK(oa_crash_encoder_add(&enc, server, &ev) && oa_crash_encoder_add(&enc, &copy, &ev), "two spans added");
    size_t len = 0;
    const uint8_t *p = oa_crash_encoder_finish(&enc, &r, &len);
    CHECK(p != NULL && p >= buf && p + len == buf + sizeof buf, "a request at the end of the buffer (%zu bytes)", len);

    pb_request *req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len, p);
    CHECK(req != NULL, "protobuf-c decodes it");
    if (req == NULL)
        return;
    CHECK(req->n_resource_spans == 1 && req->resource_spans[0]->n_scope_spans == 1, "one resource, one scope");
    const char *service = kv_string(req->resource_spans[0]->resource->attributes,
                                    req->resource_spans[0]->resource->n_attributes, "service.name");
    CHECK(service != NULL && strcmp(service, "svc") == 0, "service.name");
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = req->resource_spans[0]->scope_spans[0];
    CHECK(strcmp(ss->scope->name, "otelauto") == 0, "scope otelauto");
    CHECK(ss->n_spans == 2, "two spans (%zu)", ss->n_spans);
    for (size_t i = 0; i < ss->n_spans; i++) {
        pb_span *s = ss->spans[i];
        bool is_client = s->kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
        CHECK(s->trace_id.len == 16 && s->trace_id.data[0] == 0x11 && s->span_id.len == 8 &&
                  s->parent_span_id.len == 8 && s->parent_span_id.data[7] == 0x33,
              "span %zu: ids", i);
        CHECK(s->flags == 0x101, "span %zu: flags 0x%x", i, s->flags);
        CHECK(strcmp(s->name, is_client ? "GET" : "GET /a") == 0, "span %zu: name %s", i, s->name);
        CHECK(s->status != NULL && s->status->code == OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR &&
                  strcmp(s->status->message, ev.message) == 0,
              "span %zu: status Error with the message", i);
        const char *path = kv_string(s->attributes, s->n_attributes, "url.path");
        CHECK(path != NULL && strcmp(path, "/caf\xc3\xa9\xef\xbf\xbd") == 0, "span %zu: invalid UTF-8 replaced: %s", i,
              path ? path : "(none)");
        const pb_key_value *port = find_kv(s->attributes, s->n_attributes, "server.port");
        CHECK(port != NULL && port->value->int_value == 8080, "span %zu: int attribute", i);
        if (is_client) {
            const char *err = kv_string(s->attributes, s->n_attributes, "error.type");
            CHECK(err != NULL && strcmp(err, "SIGSEGV") == 0 && s->end_time_unix_nano == 2000,
                  "the copy keeps its own strings, error.type and end");
        }
        CHECK(s->n_events == 1 && strcmp(s->events[0]->name, "exception") == 0 &&
                  s->events[0]->time_unix_nano == 1500,
              "span %zu: one exception event", i);
        if (s->n_events == 1) {
            Opentelemetry__Proto__Trace__V1__Span__Event *e = s->events[0];
            const char *type = kv_string(e->attributes, e->n_attributes, "exception.type");
            const char *msg = kv_string(e->attributes, e->n_attributes, "exception.message");
            const char *st = kv_string(e->attributes, e->n_attributes, "exception.stacktrace");
            CHECK(type && msg && st && strcmp(type, "SIGSEGV") == 0 && strcmp(msg, ev.message) == 0 &&
                      strcmp(st, stack) == 0,
                  "span %zu: exception.type, .message, .stacktrace", i);
        }
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);

    /* the same request as JSON, for an http/json collector (sent by the
     * exporter thread): the mapping's names, ids in hex, 64-bit integers
     * as strings, enums as numbers, the event */
    size_t json_len = 0;
    char *json = (char *)oa_otlp_json_transcode_traces(p, len, &json_len);
    CHECK(json != NULL && json_len == strlen(json), "transcoded to JSON");
    if (json != NULL) {
        static const char *const want[] = {
            "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc\"}}]}",
            "\"scopeSpans\":[{\"scope\":{\"name\":\"otelauto\"",
            "\"traceId\":\"11",
            "\"parentSpanId\":\"",
            "\"kind\":2,",
            "\"kind\":3,",
            "\"endTimeUnixNano\":\"2000\"",
            "{\"key\":\"server.port\",\"value\":{\"intValue\":\"8080\"}}",
            "\"events\":[{\"timeUnixNano\":\"1500\",\"name\":\"exception\",\"attributes\":[{\"key\":\"exception.type\",\"value\":{\"stringValue\":\"SIGSEGV\"}}",
            "\"status\":{\"message\":\"Segmentation fault at address 0x0\",\"code\":2}",
            "\"flags\":257",
        };
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
            CHECK(strstr(json, want[i]) != NULL, "JSON has %s: %s", want[i], json);
        free(json);
    }
    CHECK(oa_otlp_json_transcode_traces((const uint8_t *)"\xff\xff", 2, &json_len) == NULL, "not protobuf: NULL");

    /* without a stack trace: no exception.stacktrace attribute */
    struct oa_crash_event lite = ev;
    lite.stacktrace_len = 0;
    oa_crash_encoder_begin(&enc, buf, sizeof buf);
    oa_crash_encoder_add(&enc, server, &lite);
    p = oa_crash_encoder_finish(&enc, &r, &len);
    req = p ? opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len, p) : NULL;
    CHECK(req != NULL && req->resource_spans[0]->scope_spans[0]->spans[0]->n_events == 1 &&
              req->resource_spans[0]->scope_spans[0]->spans[0]->events[0]->n_attributes == 2,
          "no stack trace: exception.type and .message only");
    if (req != NULL)
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);

    /* no room: nothing written, false */
    uint8_t small[300];
    oa_crash_encoder_begin(&enc, small, sizeof small);
    CHECK(!oa_crash_encoder_add(&enc, server, &ev) && enc.p == small + sizeof small && enc.n_spans == 0,
          "a span that does not fit is left out");
    oa_span_free(server);
    oa_span_free(client);
}

static void test_frames(void)
{
    char out[256];
    size_t n = oa_crash_frame_format(out, sizeof out, 3, "handle_request", 0x2a, 0x7f00, "/usr/lib/libfoo.so", 18);
    CHECK(n == strlen("#3 handle_request+0x2a (/usr/lib/libfoo.so)\n") &&
              memcmp(out, "#3 handle_request+0x2a (/usr/lib/libfoo.so)\n", n) == 0,
          "named frame: %.*s", (int)n, out);
    n = oa_crash_frame_format(out, sizeof out, 12, "", 0, 0x7f001234abcd, NULL, 0);
    CHECK(n == strlen("#12 0x7f001234abcd (?)\n") && memcmp(out, "#12 0x7f001234abcd (?)\n", n) == 0,
          "unnamed frame, unknown module: %.*s", (int)n, out);
    n = oa_crash_frame_format(out, 10, 1, "a_long_function_name", 1, 1, "/m", 2);
    CHECK(n == 10, "cut to the room");

    const char maps[] =
        "55d0c0000000-55d0c0001000 r--p 00000000 08:01 123   /usr/bin/python3.11\n"
        "7f0000000000-7f0000100000 r-xp 00001000 08:01 456                      /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        "7f0000200000-7f0000300000 rw-p 00000000 00:00 0 \n"
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n";
    const char *path;
    size_t len;
    CHECK(oa_crash_maps_module(maps, sizeof maps - 1, 0x7f0000000abc, &path, &len) &&
              len == strlen("/usr/lib/x86_64-linux-gnu/libc.so.6") && memcmp(path, "/usr/lib/x86_64-linux-gnu/libc.so.6", len) == 0,
          "the module of an address");
    CHECK(oa_crash_maps_module(maps, sizeof maps - 1, 0x55d0c0000000, &path, &len) && len == strlen("/usr/bin/python3.11"),
          "the first byte of a mapping");
    CHECK(!oa_crash_maps_module(maps, sizeof maps - 1, 0x7f0000100000, &path, &len), "one past the end: none");
    CHECK(!oa_crash_maps_module(maps, sizeof maps - 1, 0x7f0000200010, &path, &len), "anonymous: none");
    CHECK(!oa_crash_maps_module(maps, sizeof maps - 1, 0x7ffd00000010, &path, &len), "[stack]: none");
}

static bool runtime(const char *path)
{
    return oa_crash_runtime_object(path, strlen(path));
}

/* a function of this program's own: not in a runtime */
static void not_a_runtime(void)
{
}

static void test_runtimes(void)
{
    CHECK(runtime("/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so"), "HotSpot");
    CHECK(runtime("/usr/lib/libmonosgen-2.0.so.1") && runtime("/usr/lib/libmonosgen-2.0.so") &&
              runtime("/usr/lib/libmono-2.0.so.1.0.0"),
          "Mono, versioned or not");
    CHECK(runtime("/apex/com.android.art/lib64/libart.so"), "ART");
    CHECK(runtime("/usr/lib/x86_64-linux-gnu/libnode.so.108") && runtime("/usr/local/bin/node") &&
              runtime("/usr/bin/nodejs"),
          "node: libnode or the executable");
    CHECK(runtime("libjvm.so"), "a bare name");
    CHECK(!runtime("/usr/lib/libjvm.so.bak/libc.so.6") && !runtime("/opt/libjvm.sox") && !runtime("/usr/lib/mylibjvm.so") &&
              !runtime("/usr/bin/node2") && !runtime("/usr/lib/libnode.sodium") && !runtime("/usr/lib/libjvm.so (deleted)"),
          "other names are not");
    CHECK(!oa_crash_handler_in_runtime((const void *)not_a_runtime), "a handler of the test's own");
    CHECK(!oa_crash_handler_in_runtime((const void *)memcpy), "a handler in libc");
    CHECK(!oa_crash_handler_in_runtime(NULL), "none");
}

int main(void)
{
    test_encoder();
    test_frames();
    test_runtimes();
    TEST_DONE();
}
