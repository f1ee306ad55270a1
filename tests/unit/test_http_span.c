/* HTTP span attributes: semantic-convention names and values, redaction. */
#include <arpa/inet.h>
#include <string.h>

#include "oa_conn.h"
#include "oa_http1_parser.h"
#include "oa_http_span.h"
#include "oa_test.h"

static const struct oa_http1_head *parse_request(struct oa_http1_parser *p, const char *req)
{
    oa_http1_init(p, OA_HTTP1_REQUESTS);
    size_t len = strlen(req);
    const char *b = req;
    while (len > 0) {
        enum oa_http1_event ev;
        size_t n = oa_http1_feed(p, b, len, &ev);
        b += n;
        len -= n;
        if (ev == OA_HTTP1_HEAD_DONE)
            return oa_http1_head(p);
    }
    return NULL;
}

static bool attr_is(const struct oa_span *s, const char *key, const char *want)
{
    const struct oa_attr *a = oa_span_find_attr(s, key);
    return a != NULL && a->type == OA_VALUE_STRING && a->v.str.len == strlen(want) &&
           memcmp(a->v.str.ptr, want, a->v.str.len) == 0;
}

static bool attr_int_is(const struct oa_span *s, const char *key, int64_t want)
{
    const struct oa_attr *a = oa_span_find_attr(s, key);
    return a != NULL && a->type == OA_VALUE_INT && a->v.i == want;
}

static void peer_v4(struct oa_conn *c, const char *ip, int port)
{
    memset(c, 0, sizeof(*c));
    struct sockaddr_in *in = (struct sockaddr_in *)&c->peer;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &in->sin_addr);
    c->peer_len = sizeof(*in);
}

int main(void)
{
    char out[256];
    oa_http_redact_url("http://user:pw@h:1/p?a=1", 24, out, sizeof(out));
    CHECK(strcmp(out, "http://REDACTED:REDACTED@h:1/p?a=1") == 0, "userinfo redacted: %s", out);
    oa_http_redact_url("https://h/p?sig=abc&x=1&Signature=zz", 36, out, sizeof(out));
    CHECK(strcmp(out, "https://h/p?sig=REDACTED&x=1&Signature=REDACTED") == 0, "signature params redacted: %s", out);
    oa_http_redact_url("http://h/a@b?q=1", 16, out, sizeof(out));
    CHECK(strcmp(out, "http://h/a@b?q=1") == 0, "an @ in the path is not userinfo: %s", out);
    size_t n = oa_http_redact_url("http://h/abcdef", 15, out, 8);
    CHECK(n == 7 && strcmp(out, "http://") == 0, "truncated to the buffer");

    struct oa_conn c;
    peer_v4(&c, "10.1.2.3", 5555);
    struct oa_http1_parser p;
    const struct oa_http1_head *h = parse_request(&p,
        "GET /items/7?q=1&sig=secret HTTP/1.1\r\nHost: shop.example:8080\r\nUser-Agent: curl/8\r\n\r\n");
    CHECK(h != NULL, "request parsed");
    struct oa_span *s = oa_span_new();
    oa_http_span_server_start(s, h, &c);
    CHECK(strcmp(s->name, "GET") == 0, "server span named after the method only");
    CHECK(s->kind == OA_SPAN_KIND_SERVER, "server kind");
    CHECK(attr_is(s, "http.request.method", "GET"), "http.request.method");
    CHECK(attr_is(s, "url.path", "/items/7"), "url.path without query");
    CHECK(attr_is(s, "url.query", "q=1&sig=REDACTED"), "url.query redacted");
    CHECK(attr_is(s, "url.scheme", "http"), "url.scheme");
    CHECK(attr_is(s, "server.address", "shop.example"), "server.address from Host");
    CHECK(attr_int_is(s, "server.port", 8080), "server.port from Host");
    CHECK(attr_is(s, "client.address", "10.1.2.3"), "client.address = peer");
    CHECK(attr_is(s, "network.peer.address", "10.1.2.3"), "network.peer.address");
    CHECK(attr_int_is(s, "network.peer.port", 5555), "network.peer.port");
    CHECK(attr_is(s, "network.protocol.version", "1.1"), "network.protocol.version");
    CHECK(attr_is(s, "user_agent.original", "curl/8"), "user_agent.original");
    oa_http_span_finish(s, 404, NULL);
    CHECK(s->status_code == OA_STATUS_UNSET, "server 404 leaves status unset");
    CHECK(attr_int_is(s, "http.response.status_code", 404), "status code recorded");
    CHECK(oa_span_find_attr(s, "error.type") == NULL, "no error.type for server 4xx");
    oa_span_free(s);

    s = oa_span_new();
    oa_http_span_server_start(s, h, &c);
    oa_http_span_finish(s, 503, NULL);
    CHECK(s->status_code == OA_STATUS_ERROR && attr_is(s, "error.type", "503"), "server 5xx is an error");
    oa_span_free(s);
    oa_http1_release(&p);

    h = parse_request(&p, "PURGE /x HTTP/1.0\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2\r\n\r\n");
    s = oa_span_new();
    oa_http_span_server_start(s, h, &c);
    CHECK(strcmp(s->name, "HTTP") == 0, "unknown method names the span HTTP");
    CHECK(attr_is(s, "http.request.method", "_OTHER"), "unknown method is _OTHER");
    CHECK(attr_is(s, "http.request.method_original", "PURGE"), "method_original kept");
    CHECK(attr_is(s, "client.address", "1.1.1.1"), "client.address from X-Forwarded-For");
    CHECK(attr_is(s, "network.protocol.version", "1.0"), "HTTP/1.0");
    oa_span_free(s);
    oa_http1_release(&p);

    h = parse_request(&p, "POST /api?token=1 HTTP/1.1\r\nHost: backend\r\nAuthorization: Bearer x\r\n\r\n");
    s = oa_span_new();
    oa_http_span_client_start(s, h, &c);
    CHECK(s->kind == OA_SPAN_KIND_CLIENT && strcmp(s->name, "POST") == 0, "client span");
    CHECK(attr_is(s, "url.full", "http://backend/api?token=1"), "url.full from Host and target");
    CHECK(attr_is(s, "server.address", "backend"), "client server.address");
    CHECK(attr_int_is(s, "server.port", 80), "default port 80");
    bool no_secret = true;
    for (uint32_t i = 0; i < s->n_attrs; i++)
        if (s->attrs[i].type == OA_VALUE_STRING && memmem(s->attrs[i].v.str.ptr, s->attrs[i].v.str.len, "Bearer", 6))
            no_secret = false;
    CHECK(no_secret, "Authorization value never recorded");
    oa_http_span_finish(s, 404, NULL);
    CHECK(s->status_code == OA_STATUS_ERROR && attr_is(s, "error.type", "404"), "client 4xx is an error");
    oa_span_free(s);
    oa_http1_release(&p);

    h = parse_request(&p, "GET http://u:p@proxy.example/x HTTP/1.1\r\n\r\n");
    s = oa_span_new();
    oa_http_span_client_start(s, h, &c);
    CHECK(attr_is(s, "url.full", "http://REDACTED:REDACTED@proxy.example/x"), "absolute-form target redacted");
    oa_http_span_finish(s, 0, "ECONNRESET");
    CHECK(s->status_code == OA_STATUS_ERROR && attr_is(s, "error.type", "ECONNRESET"), "broken connection error");
    oa_span_free(s);
    oa_http1_release(&p);

    /* the peer's IPv4 text, written without inet_ntop, is inet_ntop's */
    static const char *const v4[] = {"0.0.0.0", "255.255.255.255", "10.0.100.9", "192.168.1.10", "1.20.3.199"};
    bool v4_same = true;
    h = parse_request(&p, "GET / HTTP/1.1\r\n\r\n");
    for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
        struct oa_conn pc;
        peer_v4(&pc, v4[i], 1);
        s = oa_span_new();
        oa_http_span_server_start(s, h, &pc);
        if (!attr_is(s, "network.peer.address", v4[i]))
            v4_same = false;
        oa_span_free(s);
    }
    CHECK(v4_same, "IPv4 peers formatted as inet_ntop does");
    oa_http1_release(&p);

    h = parse_request(&p, "GET /nohost HTTP/1.1\r\n\r\n");
    s = oa_span_new();
    oa_http_span_client_start(s, h, &c);
    CHECK(attr_is(s, "url.full", "http://10.1.2.3:5555/nohost"), "url.full from the peer without Host");
    oa_span_free(s);
    oa_http1_release(&p);
    TEST_DONE();
}
