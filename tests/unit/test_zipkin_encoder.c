/* oa_zipkin_encode_spans: the exact JSON of known spans, compared byte for
 * byte, so that every rule of the OpenTelemetry-to-Zipkin mapping is pinned:
 * ids, parentId only with a parent, kind (none for INTERNAL), microseconds,
 * localEndpoint from service.name, remoteEndpoint for CLIENT from the
 * ranked peer attributes, every attribute a string tag, status and scope
 * tags, escaping and invalid UTF-8. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp/zipkin_exporter.h"
#include "oa_test.h"

static void attr_str(struct oa_span *s, const char *key, const char *value)
{
    struct oa_attr *a = &s->attrs[s->n_attrs++];
    a->key = key;
    a->type = OA_VALUE_STRING;
    a->v.str.ptr = value;
    a->v.str.len = (uint32_t)strlen(value);
}

static void attr_int(struct oa_span *s, const char *key, int64_t v)
{
    struct oa_attr *a = &s->attrs[s->n_attrs++];
    a->key = key;
    a->type = OA_VALUE_INT;
    a->v.i = v;
}

static void attr_bool(struct oa_span *s, const char *key, bool v)
{
    struct oa_attr *a = &s->attrs[s->n_attrs++];
    a->key = key;
    a->type = OA_VALUE_BOOL;
    a->v.b = v;
}

static void attr_double(struct oa_span *s, const char *key, double v)
{
    struct oa_attr *a = &s->attrs[s->n_attrs++];
    a->key = key;
    a->type = OA_VALUE_DOUBLE;
    a->v.d = v;
}

static struct oa_resource resource;

static void set_service(const char *name)
{
    memset(&resource, 0, sizeof resource);
    resource.attrs[0].key = "telemetry.sdk.name";
    resource.attrs[0].type = OA_VALUE_STRING;
    resource.attrs[0].v.str.ptr = "otelauto";
    resource.attrs[0].v.str.len = 8;
    resource.attrs[1].key = "service.name";
    resource.attrs[1].type = OA_VALUE_STRING;
    resource.attrs[1].v.str.ptr = name;
    resource.attrs[1].v.str.len = (uint32_t)strlen(name);
    resource.n_attrs = 2;
}

static struct oa_span *new_span(uint8_t kind, uint8_t span_seed)
{
    struct oa_span *s = calloc(1, sizeof *s);
    for (int i = 0; i < 16; i++)
        s->trace_id[i] = (uint8_t)(0x01 + i);
    for (int i = 0; i < 8; i++)
        s->span_id[i] = (uint8_t)(span_seed + i);
    s->kind = kind;
    s->start_unix_nano = 1700000000123456789ull;
    s->end_unix_nano = 1700000000123456789ull + 5001234;
    return s;
}

static char *encode(struct oa_span *const *spans, size_t n)
{
    size_t len = 0;
    char *json = oa_zipkin_encode_spans(&resource, spans, n, &len);
    if (json && strlen(json) != len) {
        printf("# length %zu, but strlen %zu\n", len, strlen(json));
        free(json);
        return NULL;
    }
    return json;
}

static void check_json(const char *got, const char *want, const char *what)
{
    CHECK(got && strcmp(got, want) == 0, "%s", what);
    if (!got || strcmp(got, want) != 0)
        printf("# want %s\n#  got %s\n", want, got ? got : "(null)");
}

#define SCOPE_TAGS "\"otel.scope.name\":\"otelauto\",\"otel.scope.version\":\"" OA_VERSION "\""

int main(void)
{
    set_service("front \"end\"");

    /* A SERVER span with a remote parent, an error status, an attribute of
     * each type, and strings needing every kind of escape. */
    struct oa_span *server = new_span(OA_SPAN_KIND_SERVER, 0xa1);
    server->has_parent = true;
    server->parent_is_remote = true;
    for (int i = 0; i < 8; i++)
        server->parent_span_id[i] = (uint8_t)(0xf0 + i);
    server->name = "GET /a\"b\\c";
    server->status_code = OA_STATUS_ERROR;
    server->status_message = "bad\nthing\t\x01";
    attr_str(server, "http.request.method", "GET");
    attr_int(server, "http.response.status_code", 500);
    attr_int(server, "test.negative", -1234567890123ll);
    attr_bool(server, "test.flag", true);
    attr_bool(server, "test.off", false);
    attr_double(server, "test.ratio", 0.25);
    attr_double(server, "test.tenth", 0.1);
    attr_str(server, "url.path", "/caf\xe9/\xc3\xa9");
    attr_str(server, "client.address", "10.0.0.7");
    attr_str(server, "error", "stale");
    server->dropped_attrs = 2;

    char *json = encode(&server, 1);
    check_json(json,
               "[{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"parentId\":\"f0f1f2f3f4f5f6f7\","
               "\"id\":\"a1a2a3a4a5a6a7a8\",\"kind\":\"SERVER\",\"name\":\"GET /a\\\"b\\\\c\","
               "\"timestamp\":1700000000123456,\"duration\":5001,"
               "\"localEndpoint\":{\"serviceName\":\"front \\\"end\\\"\"},"
               "\"tags\":{\"http.request.method\":\"GET\",\"http.response.status_code\":\"500\","
               "\"test.negative\":\"-1234567890123\",\"test.flag\":\"true\",\"test.off\":\"false\","
               "\"test.ratio\":\"0.25\",\"test.tenth\":\"0.1\",\"url.path\":\"/caf\xef\xbf\xbd/\xc3\xa9\","
               "\"client.address\":\"10.0.0.7\"," SCOPE_TAGS ",\"otel.status_code\":\"ERROR\","
               "\"error\":\"bad\\nthing\\t\\u0001\",\"otel.dropped_attributes_count\":\"2\"}}]",
               "SERVER span with a parent, error status, every attribute type, escapes, bad UTF-8; "
               "no remoteEndpoint for SERVER, the span's own error tag replaces the attribute");
    free(json);

    /* A CLIENT root span, status OK: remoteEndpoint from server.address (an
     * IPv4 address) and server.port, ahead of network.peer.address. */
    struct oa_span *client = new_span(OA_SPAN_KIND_CLIENT, 0x11);
    client->name = "GET";
    client->status_code = OA_STATUS_OK;
    client->status_message = "ignored for OK";
    attr_str(client, "http.request.method", "GET");
    attr_str(client, "server.address", "127.0.0.1");
    attr_int(client, "server.port", 8080);
    attr_str(client, "network.peer.address", "::1");
    attr_int(client, "network.peer.port", 9);
    attr_str(client, "url.full", "http://127.0.0.1:8080/x?q=\"1\"");
    json = encode(&client, 1);
    check_json(json,
               "[{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"id\":\"1112131415161718\","
               "\"kind\":\"CLIENT\",\"name\":\"GET\",\"timestamp\":1700000000123456,\"duration\":5001,"
               "\"localEndpoint\":{\"serviceName\":\"front \\\"end\\\"\"},"
               "\"remoteEndpoint\":{\"ipv4\":\"127.0.0.1\",\"port\":8080},"
               "\"tags\":{\"http.request.method\":\"GET\",\"server.address\":\"127.0.0.1\","
               "\"server.port\":\"8080\",\"network.peer.address\":\"::1\",\"network.peer.port\":\"9\","
               "\"url.full\":\"http://127.0.0.1:8080/x?q=\\\"1\\\"\"," SCOPE_TAGS
               ",\"otel.status_code\":\"OK\"}}]",
               "CLIENT root span: no parentId, remoteEndpoint ipv4+port from server.address, status OK "
               "without an error tag");
    free(json);

    /* The remote endpoint's other shapes: a host name is a serviceName,
     * an IPv6 address (in brackets or not) is ipv6, peer.service wins. */
    set_service("svc");
    struct oa_span *named = new_span(OA_SPAN_KIND_CLIENT, 0x21);
    named->name = "GET";
    named->start_unix_nano = 2000;
    named->end_unix_nano = 2500; /* under a microsecond: 1, not 0 */
    attr_str(named, "server.address", "api.example.com");
    attr_int(named, "server.port", 443);
    struct oa_span *v6 = new_span(OA_SPAN_KIND_CLIENT, 0x31);
    v6->name = "GET";
    v6->start_unix_nano = 2000;
    v6->end_unix_nano = 2000; /* no duration at all: left out */
    attr_str(v6, "network.peer.address", "[2001:db8::1]");
    attr_int(v6, "network.peer.port", 8443);
    struct oa_span *peer = new_span(OA_SPAN_KIND_CLIENT, 0x41);
    peer->name = "GET";
    peer->start_unix_nano = 2000;
    peer->end_unix_nano = 3999;
    attr_str(peer, "server.address", "10.1.2.3");
    attr_str(peer, "peer.service", "Billing");
    struct oa_span *internal = new_span(OA_SPAN_KIND_INTERNAL, 0x51);
    internal->name = "work";
    internal->start_unix_nano = 2000;
    internal->end_unix_nano = 1002000;
    attr_str(internal, "server.address", "10.1.2.3");
    struct oa_span *batch[] = {named, v6, peer, internal};
    json = encode(batch, 4);
    check_json(json,
               "[{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"id\":\"2122232425262728\","
               "\"kind\":\"CLIENT\",\"name\":\"GET\",\"timestamp\":2,\"duration\":1,"
               "\"localEndpoint\":{\"serviceName\":\"svc\"},"
               "\"remoteEndpoint\":{\"serviceName\":\"api.example.com\",\"port\":443},"
               "\"tags\":{\"server.address\":\"api.example.com\",\"server.port\":\"443\"," SCOPE_TAGS "}},"
               "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"id\":\"3132333435363738\","
               "\"kind\":\"CLIENT\",\"name\":\"GET\",\"timestamp\":2,"
               "\"localEndpoint\":{\"serviceName\":\"svc\"},"
               "\"remoteEndpoint\":{\"ipv6\":\"2001:db8::1\",\"port\":8443},"
               "\"tags\":{\"network.peer.address\":\"[2001:db8::1]\",\"network.peer.port\":\"8443\","
               SCOPE_TAGS "}},"
               "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"id\":\"4142434445464748\","
               "\"kind\":\"CLIENT\",\"name\":\"GET\",\"timestamp\":2,\"duration\":1,"
               "\"localEndpoint\":{\"serviceName\":\"svc\"},"
               "\"remoteEndpoint\":{\"serviceName\":\"Billing\"},"
               "\"tags\":{\"server.address\":\"10.1.2.3\",\"peer.service\":\"Billing\"," SCOPE_TAGS "}},"
               "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"id\":\"5152535455565758\","
               "\"name\":\"work\",\"timestamp\":2,\"duration\":1000,"
               "\"localEndpoint\":{\"serviceName\":\"svc\"},"
               "\"tags\":{\"server.address\":\"10.1.2.3\"," SCOPE_TAGS "}}]",
               "a batch of four: host name, bracketed IPv6, peer.service first, INTERNAL without kind "
               "or remoteEndpoint; sub-microsecond duration is 1, none is left out");
    free(json);

    /* ERROR without a description: the error tag is there, empty; a false
     * "error" attribute on an unset status is dropped (Zipkin would mark
     * the span failed). */
    struct oa_span *bare = new_span(OA_SPAN_KIND_SERVER, 0x61);
    bare->name = "GET";
    bare->start_unix_nano = 1000;
    bare->end_unix_nano = 3000;
    bare->status_code = OA_STATUS_ERROR;
    struct oa_span *unset = new_span(OA_SPAN_KIND_SERVER, 0x71);
    unset->name = "GET";
    unset->start_unix_nano = 1000;
    unset->end_unix_nano = 3000;
    attr_bool(unset, "error", false);
    struct oa_span *pair[] = {bare, unset};
    json = encode(pair, 2);
    check_json(json,
               "[{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"id\":\"6162636465666768\","
               "\"kind\":\"SERVER\",\"name\":\"GET\",\"timestamp\":1,\"duration\":2,"
               "\"localEndpoint\":{\"serviceName\":\"svc\"},"
               "\"tags\":{" SCOPE_TAGS ",\"otel.status_code\":\"ERROR\",\"error\":\"\"}},"
               "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"id\":\"7172737475767778\","
               "\"kind\":\"SERVER\",\"name\":\"GET\",\"timestamp\":1,\"duration\":2,"
               "\"localEndpoint\":{\"serviceName\":\"svc\"},"
               "\"tags\":{" SCOPE_TAGS "}}]",
               "ERROR without a description gives error \"\"; a false error attribute is dropped");
    free(json);

    json = encode(NULL, 0);
    check_json(json, "[]", "no spans: an empty array");
    free(json);

    free(server);
    free(client);
    free(named);
    free(v6);
    free(peer);
    free(internal);
    free(bare);
    free(unset);
    TEST_DONE();
}
