/* HTTP/2 stream spans recorded raw on the program's thread and built on the
 * exporter's (src/protocols/http2/h2_raw_span.c) carry exactly what the
 * span built at once carries: name, attributes in order, status, ids,
 * times and tracestate; the crash capture's copy too. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common/conn_peer.h"
#include "protocols/http2/h2_head.h"
#include "protocols/http2/h2_raw_span.h"
#include "protocols/http2/h2_span.h"
#include "wire/fd_table.h"
#include "oa_test.h"
#include "span_difference.h"

/* A request head as the HPACK callback leaves it (NULL: field absent). */
static void head(struct oa_h2_head *h, const char *method, const char *scheme, const char *path,
                 const char *authority, const char *user_agent, bool grpc)
{
    oa_h2_head_init(h);
#define PUT(field, v)                                   \
    do {                                                \
        if ((v) != NULL) {                              \
            h->field##_len = (uint16_t)strlen(v);       \
            memcpy(h->field, (v), h->field##_len);      \
        }                                               \
    } while (0)
    PUT(scheme, scheme);
    PUT(path, path);
    PUT(authority, authority);
    PUT(user_agent, user_agent);
#undef PUT
    h->method_len = (uint8_t)strlen(method);
    memcpy(h->method, method, h->method_len);
    h->grpc = grpc;
}

static struct pair both_ways(enum oa_span_kind kind, struct oa_h2_head *h, struct oa_conn *c, const char *tracestate,
                             const struct oa_h2_outcome *o)
{
    struct pair out = {0};
    struct oa_h2_request q;
    oa_h2_request_of(&q, h, c);

    out.direct = oa_span_new();
    give_ids(out.direct);
    out.direct->kind = (uint8_t)kind;
    if (tracestate != NULL && tracestate[0] != '\0')
        out.direct->trace_state = oa_span_store(out.direct, tracestate, strlen(tracestate));
    oa_h2_span_request(out.direct, &q);
    oa_h2_span_finish_at(out.direct, o, END);

    struct oa_span *raw = oa_h2_raw_span_new(kind, &q, tracestate);
    /* the head is the HPACK callback's, gone after the block: the raw span
     * must not need it, nor the connection's text */
    memset(h, 0xa5, sizeof(*h));
    memset(c->peer_text, 0x5a, sizeof(c->peer_text));
    if (raw != NULL) {
        give_ids(raw);
        CHECK(oa_span_is_raw(raw) && raw->kind == kind, "recorded raw, of its kind");
        out.crash = oa_span_new();
        if (raw->raw.ops->build_into(out.crash, raw)) {
            /* the capture ends its copy with the stream's outcome */
            oa_h2_span_finish_at(out.crash, o, END);
        } else {
            oa_span_free(out.crash);
            out.crash = NULL;
        }
        oa_h2_raw_span_finish_at(raw, o, END);
        out.built = oa_span_materialize(raw);
    }
    return out;
}

static const struct oa_h2_outcome ok200 = {.status = 200, .grpc_status = -1, .grpc = false, .error = NULL};

static bool attr_is(const struct oa_span *s, const char *key, const char *want)
{
    const struct oa_attr *a = oa_span_find_attr(s, key);
    return a != NULL && a->type == OA_VALUE_STRING && a->v.str.len == strlen(want) &&
           memcmp(a->v.str.ptr, want, a->v.str.len) == 0;
}

static void test_server(void)
{
    struct oa_conn c;
    struct oa_h2_head h;
    peer_v4(&c, "10.1.2.3", 5555);
    head(&h, "POST", "https", "/items/7?q=1&sig=secret", "shop.example:8443", "grpc-go/1.2", false);
    struct pair sp = both_ways(OA_SPAN_KIND_SERVER, &h, &c, "k=v,a=b", &ok200);
    check_same(sp, "server: the raw span built is the direct one");
    CHECK(sp.built && attr_is(sp.built, "url.query", "q=1&sig=REDACTED") &&
              attr_is(sp.built, "user_agent.original", "grpc-go/1.2") &&
              attr_is(sp.built, "client.address", "10.1.2.3") && strcmp(sp.built->trace_state, "k=v,a=b") == 0,
          "server: redacted query, user agent, client address and tracestate");
    drop(sp);

    struct oa_h2_outcome fail = {.status = 503, .grpc_status = -1, .error = NULL};
    peer_v4(&c, "10.1.2.3", 5555);
    head(&h, "GET", "http", "/", NULL, NULL, false);
    sp = both_ways(OA_SPAN_KIND_SERVER, &h, &c, NULL, &fail);
    check_same(sp, "server, no authority, 503");
    CHECK(sp.built && sp.built->status_code == OA_STATUS_ERROR && attr_is(sp.built, "error.type", "503"),
          "server 503: an error");
    drop(sp);
}

static void test_client(void)
{
    struct oa_conn c;
    struct oa_h2_head h;
    peer_v4(&c, "127.0.0.1", 8080);
    head(&h, "GET", "http", "/a?token=x", "api.example", "curl/8", false);
    struct pair sp = both_ways(OA_SPAN_KIND_CLIENT, &h, &c, NULL, &ok200);
    check_same(sp, "client with :authority");
    CHECK(sp.built && attr_is(sp.built, "url.full", "http://api.example/a?token=x") &&
              attr_is(sp.built, "server.address", "api.example"),
          "client: url.full and server.address from :authority");
    drop(sp);

    /* no :authority: the peer, an IPv6 address in brackets */
    peer_v6(&c, "2001:db8::1", 50051);
    head(&h, "GET", "https", "/x", NULL, NULL, false);
    struct oa_h2_outcome reset = {.status = 0, .grpc_status = -1, .error = "CANCEL"};
    sp = both_ways(OA_SPAN_KIND_CLIENT, &h, &c, NULL, &reset);
    check_same(sp, "client without :authority, reset");
    CHECK(sp.built && attr_is(sp.built, "url.full", "https://[2001:db8::1]:50051/x") &&
              attr_is(sp.built, "error.type", "CANCEL"),
          "client: url.full from the IPv6 peer, error.type of the reset");
    drop(sp);

    /* no peer known */
    memset(&c, 0, sizeof(c));
    head(&h, "DELETE", "http", "/y", NULL, NULL, false);
    sp = both_ways(OA_SPAN_KIND_CLIENT, &h, &c, NULL, &ok200);
    check_same(sp, "client, peer unknown");
    drop(sp);
}

static void test_grpc(void)
{
    struct oa_conn c;
    struct oa_h2_head h;
    peer_v4(&c, "10.0.0.9", 50051);
    head(&h, "POST", "http", "/helloworld.Greeter/SayHello", "10.0.0.9:50051", NULL, true);
    struct oa_h2_outcome unavailable = {.status = 200, .grpc_status = 14, .grpc = true, .error = NULL};
    struct pair sp = both_ways(OA_SPAN_KIND_CLIENT, &h, &c, "t=1", &unavailable);
    check_same(sp, "gRPC client, UNAVAILABLE");
    CHECK(sp.built && strcmp(sp.built->name, "helloworld.Greeter/SayHello") == 0 &&
              attr_is(sp.built, "rpc.method", "SayHello") && attr_is(sp.built, "error.type", "UNAVAILABLE"),
          "gRPC client: name, rpc.method and the status as error.type");
    drop(sp);

    peer_v4(&c, "10.0.0.9", 40000);
    head(&h, "POST", "http", "/helloworld.Greeter/SayHello", NULL, NULL, true);
    struct oa_h2_outcome none = {.status = 200, .grpc_status = -1, .grpc = true, .error = NULL};
    sp = both_ways(OA_SPAN_KIND_CLIENT, &h, &c, NULL, &none);
    check_same(sp, "gRPC client without a status");
    drop(sp);

    head(&h, "POST", "http", "/notgrpc", NULL, NULL, true);
    struct oa_h2_outcome odd = {.status = 200, .grpc_status = 99, .grpc = true, .error = NULL};
    sp = both_ways(OA_SPAN_KIND_SERVER, &h, &c, NULL, &odd);
    check_same(sp, "gRPC server, a path not of the form, a status past the table");
    drop(sp);
}

/* Parts too long for a raw block: none recorded (the caller builds the span
 * at once); a record whose lengths do not add up is refused. */
static void test_limits(void)
{
    struct oa_conn c;
    struct oa_h2_head h;
    struct oa_h2_request q;
    peer_v4(&c, "10.1.2.3", 5555);
    head(&h, "GET", "http", "/", NULL, NULL, false);
    memset(h.path, 'p', sizeof(h.path));
    h.path_len = sizeof(h.path);
    char tracestate[600];
    memset(tracestate, 'k', sizeof(tracestate) - 1);
    tracestate[sizeof(tracestate) - 1] = '\0';
    oa_h2_request_of(&q, &h, &c);
    CHECK(oa_h2_raw_span_new(OA_SPAN_KIND_SERVER, &q, tracestate) == NULL, "path and tracestate over a raw block");

    h.path_len = 1;
    oa_h2_request_of(&q, &h, &c);
    struct oa_span *raw = oa_h2_raw_span_new(OA_SPAN_KIND_SERVER, &q, NULL);
    CHECK(raw != NULL && raw->form == OA_SPAN_RAW_SMALL, "a short request: a small raw block");
    if (raw != NULL) {
        struct oa_span *copy = oa_span_new();
        raw->raw.head_len = (uint16_t)(raw->raw.head_len - 1);
        CHECK(!raw->raw.ops->build_into(copy, raw), "crash capture: lengths that do not add up are refused");
        raw->raw.head_len = 3;
        CHECK(!raw->raw.ops->build_into(copy, raw), "crash capture: a record shorter than its facts is refused");
        CHECK(oa_span_materialize(raw) == NULL, "exporter: such a record is dropped");
        oa_span_free(copy);
    }
}

int main(void)
{
    test_server();
    test_client();
    test_grpc();
    test_limits();
    TEST_DONE();
}
