/* HTTP span attributes: semantic-convention names and values, redaction;
 * raw spans built on the exporter thread carry exactly the same. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "wire/fd_table.h"
#include "protocols/common/conn_peer.h"
#include "protocols/http1/http1_parser.h"
#include "protocols/http1/http_exchange.h"
#include "wire/protocol.h"
#include "protocols/http1/http_metrics.h"
#include "protocols/http1/http_raw_span.h"
#include "protocols/http1/http_span.h"
#include "config/config.h"
#include "oa_test.h"
#include "span_difference.h"

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

/* ---- raw spans (src/protocols/http1/http_raw_span.c) ----
 * What the program's thread records and the exporter thread builds must be
 * exactly the span the program's thread would have built itself: same
 * name, kind, status, ids, times, tracestate, and the same attributes in the
 * same order. Heads over the bound are built on the program's thread. */


/* The head as the exchange sees it: a request we send at HEAD_END_NEXT
 * (where the trace headers go), parsed FULL; one we receive at HEAD_DONE,
 * parsed LIGHT. */
static bool parse_as(struct oa_http1_parser *p, const char *req, enum oa_span_kind kind)
{
    enum oa_http1_event want = kind == OA_SPAN_KIND_CLIENT ? OA_HTTP1_HEAD_END_NEXT : OA_HTTP1_HEAD_DONE;
    size_t len = strlen(req);

    oa_http1_init_mode(p, OA_HTTP1_REQUESTS, kind == OA_SPAN_KIND_CLIENT ? OA_HTTP1_FULL : OA_HTTP1_LIGHT);
    while (len > 0) {
        enum oa_http1_event ev;
        size_t n = oa_http1_feed(p, req, len, &ev);
        req += n;
        len -= n;
        if (ev == want)
            return true;
        if (ev == OA_HTTP1_ERROR || ev == OA_HTTP1_NOT_HTTP)
            return false;
    }
    return false;
}

/* One request both ways. */
static struct pair both_ways(enum oa_span_kind kind, const char *req, struct oa_conn *c, const char *tracestate,
                             int status, const char *error)
{
    struct pair out = {0};
    struct oa_http1_parser p;

    if (!parse_as(&p, req, kind))
        return out;
    out.direct = oa_span_new();
    give_ids(out.direct);
    if (tracestate != NULL && tracestate[0] != '\0')
        out.direct->trace_state = oa_span_store(out.direct, tracestate, strlen(tracestate));
    if (kind == OA_SPAN_KIND_SERVER)
        oa_http_span_server_start(out.direct, oa_http1_head(&p), c);
    else
        oa_http_span_client_start(out.direct, oa_http1_head(&p), c);
    oa_http_span_finish_at(out.direct, status, error, END);

    struct oa_span *raw = oa_http_raw_span_new(kind, &p, c, tracestate);
    /* the parser moves on to the next message: the raw span must not need it */
    oa_http1_release(&p);
    memset(&p, 0xa5, sizeof(p));
    if (raw != NULL) {
        give_ids(raw);
        oa_http_raw_span_finish(raw, status, error);
        raw->end_unix_nano = END;
        out.crash = oa_span_new();
        if (!raw->raw.ops->build_into(out.crash, raw)) {
            oa_span_free(out.crash);
            out.crash = NULL;
        }
        out.built = oa_http_raw_span_materialize(raw);
    }
    return out;
}

static void test_raw_server(void)
{
    struct oa_conn c;
    struct pair sp;

    peer_v4(&c, "10.1.2.3", 5555);
    sp = both_ways(OA_SPAN_KIND_SERVER,
                   "GET /items/7?q=1&sig=secret HTTP/1.1\r\nHost: shop.example:8080\r\nUser-Agent: curl/8\r\n\r\n",
                   &c, "vendor=abc", 200, NULL);
    check_same(sp, "server, IPv4, Host, query");
    CHECK(sp.built && strcmp(sp.built->name, "GET") == 0 && attr_is(sp.built, "url.query", "q=1&sig=REDACTED") &&
              attr_is(sp.built, "client.address", "10.1.2.3") && attr_is(sp.built, "url.scheme", "http") &&
              same_str(sp.built->trace_state, "vendor=abc"),
          "server: name, redacted query, peer, scheme and tracestate built on the exporter's side");
    drop(sp);

    peer_v6(&c, "2001:db8::7", 44321);
    c.tls = true;
    sp = both_ways(OA_SPAN_KIND_SERVER, "PURGE http://cache.example/a/b?x=1 HTTP/1.0\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2\r\n\r\n",
                   &c, NULL, 503, NULL);
    check_same(sp, "server, IPv6, TLS, no Host, unknown method, status 503");
    CHECK(sp.built && strcmp(sp.built->name, "HTTP") == 0 && attr_is(sp.built, "url.scheme", "https") &&
              attr_is(sp.built, "network.peer.address", "2001:db8::7") &&
              attr_is(sp.built, "client.address", "1.1.1.1") && attr_is(sp.built, "error.type", "503") &&
              sp.built->status_code == OA_STATUS_ERROR && oa_span_find_attr(sp.built, "server.address") == NULL,
          "server: https, IPv6 peer, X-Forwarded-For, 5xx error.type, no server.address without Host");
    drop(sp);

    /* the peer's text is cached by the exporter: a new peer is formatted anew */
    peer_v4(&c, "192.0.2.9", 80);
    sp = both_ways(OA_SPAN_KIND_SERVER, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", &c, NULL, 0, "connection_closed");
    check_same(sp, "server, another peer, no response");
    CHECK(sp.built && attr_is(sp.built, "network.peer.address", "192.0.2.9") &&
              attr_is(sp.built, "error.type", "connection_closed"),
          "server: the new peer, and error.type at finish");
    drop(sp);
}

static void test_raw_client(void)
{
    struct oa_conn c;
    struct pair sp;

    peer_v4(&c, "10.9.8.7", 8080);
    sp = both_ways(OA_SPAN_KIND_CLIENT, "GET /nohost?Signature=s&a=1 HTTP/1.1\r\nAccept: */*\r\n\r\n", &c, NULL, 200, NULL);
    check_same(sp, "client, IPv4, no Host");
    CHECK(sp.built && attr_is(sp.built, "url.full", "http://10.9.8.7:8080/nohost?Signature=REDACTED&a=1") &&
              attr_is(sp.built, "server.address", "10.9.8.7"),
          "client: url.full from the peer, signature redacted");
    drop(sp);

    peer_v6(&c, "::1", 8443);
    c.tls = true;
    sp = both_ways(OA_SPAN_KIND_CLIENT, "POST /api HTTP/1.1\r\nHost: api.example\r\nAuthorization: Bearer x\r\n\r\n", &c,
                   "a=1,b=2", 404, NULL);
    check_same(sp, "client, IPv6, TLS, Host, status 404");
    CHECK(sp.built && attr_is(sp.built, "url.full", "https://api.example/api") &&
              attr_is(sp.built, "error.type", "404") && sp.built->status_code == OA_STATUS_ERROR,
          "client: https url.full, 4xx error.type");
    drop(sp);

    sp = both_ways(OA_SPAN_KIND_CLIENT, "GET / HTTP/1.1\r\n\r\n", &c, NULL, 0, "ECONNRESET");
    check_same(sp, "client, IPv6 peer without Host, connection reset");
    CHECK(sp.built && attr_is(sp.built, "url.full", "https://[::1]:8443/") && attr_is(sp.built, "error.type", "ECONNRESET"),
          "client: bracketed IPv6 peer in url.full, error.type ECONNRESET");
    drop(sp);

    peer_v4(&c, "10.9.8.7", 3128);
    sp = both_ways(OA_SPAN_KIND_CLIENT, "GET http://user:pw@proxy.example:81/x?sig=1 HTTP/1.1\r\nHost: proxy.example:81\r\n\r\n",
                   &c, NULL, 302, NULL);
    check_same(sp, "client, absolute-form target with credentials");
    CHECK(sp.built && attr_is(sp.built, "url.full", "http://REDACTED:REDACTED@proxy.example:81/x?sig=REDACTED"),
          "client: URL credentials and signature redacted");
    drop(sp);
}

/* Heads whose spans read more than the plain case: repeated and empty
 * headers, names in any case, OWS around values, long targets and queries
 * with keys to mask, odd Host values, absolute and asterisk forms. The
 * exporter builds each from the parts the program's thread recorded, both
 * as a server's (parsed LIGHT) and as a client's (parsed FULL). */
static void test_raw_odd_heads(void)
{
    static char long_target[1024];
    size_t at = (size_t)snprintf(long_target, sizeof long_target, "GET /long/");
    memset(long_target + at, 'p', 500);
    at += 500;
    at += (size_t)snprintf(long_target + at, sizeof long_target - at,
                           "?a=1&X-Amz-Signature=zz&b=&sig=s&=v&c HTTP/1.1\r\nHost: h\r\n\r\n");
    const char *const heads[] = {
        "GET /dup HTTP/1.1\r\nHost: a:1\r\nHost: b:2\r\nUser-Agent: one\r\nUser-Agent: two\r\n"
        "X-Forwarded-For: 9.9.9.9\r\nX-Forwarded-For: 8.8.8.8\r\n\r\n",
        "GET /empty HTTP/1.1\r\nHost:\r\nUser-Agent: \r\nX-Forwarded-For:  \r\n\r\n",
        "get /case HTTP/1.1\r\nhOST: \t h:8 \t\r\nuser-AGENT:\tua x\t\r\nx-forwarded-FOR: 7.7.7.7 ,6.6.6.6\r\n\r\n",
        long_target,
        "DELETE /q?&sig=&=v&a&Signature=x&sig HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
        "GET https://example.com:8443 HTTP/1.1\r\nHost: example.com:8443\r\n\r\n",
        "GET http://u:p@example.com/p?sig=1 HTTP/1.1\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: h:99999\r\n\r\n",
        "PUT /h HTTP/1.1\r\nHost: h:\r\nAccept: */*\r\nCookie: c=secret\r\n\r\n",
        "PATCH /v6 HTTP/1.1\r\nHost: [::1]\r\n\r\n",
        "POST /at HTTP/1.1\r\nHost: u@h\r\n\r\n",
        "TRACE /old HTTP/1.0\r\n\r\n",
        "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
        "HEAD /x-forwarded HTTP/1.1\r\nX-Forwarded-For: ,1.1.1.1\r\nUser-Agent: a\r\nUser-Agent: b\r\n\r\n",
    };
    struct oa_conn c;
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        for (int k = 0; k < 2; k++) {
            enum oa_span_kind kind = k == 0 ? OA_SPAN_KIND_SERVER : OA_SPAN_KIND_CLIENT;
            peer_v4(&c, "10.3.3.3", 3333);
            c.tls = i % 2 == 1;
            struct pair sp = both_ways(kind, heads[i], &c, i % 3 == 0 ? "t=1" : NULL, 200 + (int)i * 30, NULL);
            check_same(sp, "odd head %zu as a %s", i, k == 0 ? "server's" : "client's");
            drop(sp);
        }
    }
}

/* A head the program's thread's LIGHT parse accepts with a byte a FULL
 * parse refuses in a line the shim does not read: its span is built from
 * the parts LIGHT read (exactly as FULL reads them), as the program's
 * thread would build it (it used to be dropped when the exporter parsed the
 * head again, FULL). */
static void test_raw_light_only(void)
{
    static const char bad[] = "GET /b HTTP/1.1\r\nHost: h\r\nAccept: te\x01xt\r\n\r\n";
    struct oa_http1_parser p;
    struct oa_conn c;

    CHECK(parse_request(&p, bad) == NULL, "a FULL parse refuses the control byte in Accept");
    oa_http1_release(&p);
    peer_v4(&c, "10.4.4.4", 4444);
    struct pair sp = both_ways(OA_SPAN_KIND_SERVER, bad, &c, NULL, 200, NULL);
    check_same(sp, "LIGHT-only head: built as the program's thread builds it");
    CHECK(sp.built != NULL && attr_is(sp.built, "url.path", "/b") && attr_is(sp.built, "server.address", "h"),
          "LIGHT-only head: url.path and server.address");
    drop(sp);

    /* facts that do not hold together (a span read half written by the
     * crash capture) are refused, not read */
    CHECK(parse_as(&p, "GET /t HTTP/1.1\r\nHost: h\r\n\r\n", OA_SPAN_KIND_SERVER), "parsed");
    struct oa_span *raw = oa_http_raw_span_new(OA_SPAN_KIND_SERVER, &p, &c, NULL);
    oa_http1_release(&p);
    CHECK(raw != NULL, "recorded raw");
    if (raw != NULL) {
        struct oa_span *copy = oa_span_new();
        uint16_t len = raw->raw.head_len;
        raw->raw.head_len = 3;
        CHECK(!raw->raw.ops->build_into(copy, raw), "crash capture: a record shorter than its facts is refused");
        raw->raw.head_len = (uint16_t)(len - 10);
        CHECK(!raw->raw.ops->build_into(copy, raw), "crash capture: a part beyond the head's end is refused");
        raw->raw.head_len = 3;
        CHECK(oa_http_raw_span_materialize(raw) == NULL, "exporter: such a record is dropped");
        oa_span_free(copy);
    }
}

/* Whether a client span's url.full is oa_http_redact_url of scheme,
 * authority (the Host value, else the peer) and target put together (as
 * they were before url.full was written in one pass). */
static bool url_is_redacted_url(struct oa_conn *c, const char *host, const char *target)
{
    struct oa_http_request r = {.method = "GET", .method_len = 3, .target = target, .target_len = strlen(target),
                                .host = host, .host_len = host ? strlen(host) : 0, .version_minor = 1};
    const char *addr;
    c->peer_port = 0;
    int port = oa_conn_peer_text(c, &addr);
    const char *scheme = c->tls ? "https://" : "http://";
    char raw[4096], want[OA_SPAN_MAX_VALUE_LEN];
    int n;
    if (r.host_len > 0)
        n = snprintf(raw, sizeof raw, "%s%s", scheme, host);
    else if (c->peer.ss_family == AF_INET6)
        n = snprintf(raw, sizeof raw, "%s[%s]:%d", scheme, addr, port);
    else
        n = snprintf(raw, sizeof raw, "%s%s:%d", scheme, addr, port);
    size_t len = (size_t)n < OA_SPAN_MAX_VALUE_LEN - 1 ? (size_t)n : OA_SPAN_MAX_VALUE_LEN - 1;
    size_t tl = r.target_len < OA_SPAN_MAX_VALUE_LEN - 1 - len ? r.target_len : OA_SPAN_MAX_VALUE_LEN - 1 - len;
    memcpy(raw + len, target, tl);
    size_t want_len = oa_http_redact_url(raw, len + tl, want, sizeof want);

    struct oa_span *s = oa_span_new();
    oa_http_span_client_start_request(s, &r, c);
    const struct oa_attr *a = oa_span_find_attr(s, "url.full");
    bool same = a != NULL && a->v.str.len == want_len && memcmp(a->v.str.ptr, want, want_len) == 0;
    if (!same)
        printf("# host %s target %.40s: %.*s, want %s\n", host ? host : "(none)", target, a ? (int)a->v.str.len : 0,
               a ? a->v.str.ptr : "", want);
    oa_span_free(s);
    return same;
}

/* ... for Host values redact_url would cut at '@', '/' or '?', targets that
 * are not paths, peers with no Host, URLs at the buffer's end. */
static void test_client_url_is_redacted_url(void)
{
    const char *const hosts[] = {NULL, "h", "h:81", "u:p@h", "h/x", "h?q=1&sig=2", "[::1]:8080", ""};
    const char *const targets[] = {"/", "/p?sig=s&a=1", "/p?Signature=&=&&x", "*", "h:443", "p@q/r?X-Amz-Credential=k",
                                   "/a@b?c"};
    struct oa_conn peers[3];
    peer_v4(&peers[0], "10.5.5.5", 5555);
    peer_v6(&peers[1], "2001:db8::5", 443);
    peers[1].tls = true;
    memset(&peers[2], 0, sizeof peers[2]); /* a peer not known */
    bool same = true;
    for (size_t pi = 0; pi < 3; pi++)
        for (size_t hi = 0; hi < sizeof hosts / sizeof hosts[0]; hi++)
            for (size_t ti = 0; ti < sizeof targets / sizeof targets[0]; ti++)
                same &= url_is_redacted_url(&peers[pi], hosts[hi], targets[ti]);
    CHECK(same, "client url.full: oa_http_redact_url of the URL put together, for every host, target and peer");

    /* "/ppp...?sig=123456" whose URL ends around the buffer's last byte */
    char target[1100];
    same = true;
    for (size_t len = 990; len < 1030; len++) {
        memset(target, 'p', len);
        target[0] = '/';
        memcpy(target + len - 11, "?sig=123456", 11);
        target[len] = '\0';
        same &= url_is_redacted_url(&peers[0], "host", target);
        same &= url_is_redacted_url(&peers[0], NULL, target);
    }
    CHECK(same, "client url.full: the same for URLs at the buffer's end");
}

/* The exporter keeps the text of the peers it saw last, two ways per slot:
 * many peers taking turns (slots shared, texts moved beside) still each
 * get their own address and port. */
static void test_raw_peer_views(void)
{
    bool right = true;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 300; i++) {
            int n = round == 1 ? 299 - i : i; /* every order: hits, misses, moves */
            char ip[32];
            snprintf(ip, sizeof ip, "10.%d.%d.%d", n % 7, n % 251, n % 13);
            struct oa_conn c;
            peer_v4(&c, ip, 1000 + n * 7);
            struct pair sp = both_ways(OA_SPAN_KIND_SERVER, "GET /v HTTP/1.1\r\nHost: h\r\n\r\n", &c, NULL, 200, NULL);
            if (sp.built == NULL || !attr_is(sp.built, "network.peer.address", ip) ||
                !attr_int_is(sp.built, "network.peer.port", 1000 + n * 7))
                right = false;
            drop(sp);
        }
    }
    CHECK(right, "peer views: 300 peers in turn, each span with its own peer's address and port");
}

/* A request head of `len` bytes (a long User-Agent pads it). */
static char *head_of(size_t len)
{
    static const char pre[] = "GET /big HTTP/1.1\r\nHost: h\r\nUser-Agent: ";
    char *req = malloc(len + 3);
    size_t ua = len - (sizeof(pre) - 1) - 2;
    memcpy(req, pre, sizeof(pre) - 1);
    memset(req + sizeof(pre) - 1, 'u', ua);
    memcpy(req + len - 2, "\r\n\r\n", 5);
    return req;
}

static void test_raw_bound(void)
{
    struct oa_conn c;
    struct oa_http1_parser p;
    char *req;
    char ts[513];

    peer_v4(&c, "10.0.0.1", 1000);
    req = head_of(OA_HTTP1_HEAD_INLINE);
    struct pair sp = both_ways(OA_SPAN_KIND_SERVER, req, &c, NULL, 200, NULL);
    check_same(sp, "a head of exactly 1 KiB (a large raw block)");
    drop(sp);
    free(req);

    /* the edge between the small and the large raw blocks: tracestate, its
     * NUL, the parts' offsets and the head take 512 bytes for one of these */
    for (size_t len = OA_SPAN_RAW_SMALL_BYTES - 40; len <= OA_SPAN_RAW_SMALL_BYTES - 3; len++) {
        req = head_of(len);
        sp = both_ways(OA_SPAN_KIND_CLIENT, req, &c, "k=v", 200, NULL);
        check_same(sp, "a head of %zu bytes with a tracestate", len);
        drop(sp);
        free(req);
    }

    req = head_of(OA_HTTP1_HEAD_INLINE + 1);
    parse_as(&p, req, OA_SPAN_KIND_SERVER);
    CHECK(p.head_len == OA_HTTP1_HEAD_INLINE + 1 && oa_http_raw_span_new(OA_SPAN_KIND_SERVER, &p, &c, NULL) == NULL,
          "a head over 1 KiB is not recorded raw");
    oa_http1_release(&p);
    free(req);

    memset(ts, 't', 512);
    ts[0] = 'k';
    ts[1] = '=';
    ts[512] = '\0';
    req = head_of(OA_SPAN_RAW_BYTES - 512);
    parse_as(&p, req, OA_SPAN_KIND_SERVER);
    CHECK(oa_http_raw_span_new(OA_SPAN_KIND_SERVER, &p, &c, ts) == NULL,
          "a head that fits, with a tracestate that does not, is not recorded raw");
    oa_http1_release(&p);
    free(req);
}

/* The exchange records spans raw, and builds a span over the bound at once. */
static struct oa_span *exchange_span(const char *req, struct oa_conn *c, struct oa_http_exchange **x)
{
    struct iovec iov = {(void *)req, strlen(req)};

    c->role = OA_ROLE_SERVER;
    c->mode = OA_MODE_PARSING;
    c->proto = oa_http1_protocol.open(OA_ROLE_SERVER);
    c->proto->protocol = &oa_http1_protocol;
    *x = (struct oa_http_exchange *)c->proto;
    oa_http1_protocol.incoming(c, iov.iov_base, iov.iov_len);
    if (c->proto->gave_up || (*x)->pending.count != 1)
        return NULL;
    return oa_pending_fifo_front(&(*x)->pending)->span;
}

static void test_raw_exchange(void)
{
    struct oa_conn c;
    struct oa_http_exchange *x;
    struct oa_span *s;

    peer_v4(&c, "10.0.0.2", 2000);
    s = exchange_span("GET /small HTTP/1.1\r\nHost: h\r\n\r\n", &c, &x);
    CHECK(s != NULL && oa_span_is_raw(s) && s->n_attrs == 0 && s->name == NULL && s->kind == OA_SPAN_KIND_SERVER &&
              s->start_unix_nano != 0,
          "exchange: a request's span is recorded raw, no attribute built on the program's thread");
    oa_protocol_free(&x->base);

    char *req = head_of(OA_HTTP1_HEAD_INLINE + 200);
    peer_v4(&c, "10.0.0.2", 2000);
    s = exchange_span(req, &c, &x);
    CHECK(s != NULL && s->form == OA_SPAN_FULL && s->name != NULL && strcmp(s->name, "GET") == 0 &&
              attr_is(s, "url.path", "/big") && attr_is(s, "client.address", "10.0.0.2"),
          "exchange: a head over the bound gets its span built on the program's thread, as before");
    oa_protocol_free(&x->base);
    free(req);
}

/* A raw span of a head of len bytes freed and taken again: its block is
 * recycled by its pool. Returns the form, or -1 if not recycled. */
static int raw_recycled(size_t len)
{
    struct oa_conn c;
    struct oa_http1_parser p;
    char *req = head_of(len);

    peer_v4(&c, "10.0.0.3", 3000);
    parse_as(&p, req, OA_SPAN_KIND_SERVER);
    struct oa_span *a = oa_http_raw_span_new(OA_SPAN_KIND_SERVER, &p, &c, NULL);
    int form = a != NULL ? a->form : -1;
    oa_span_free(a);
    struct oa_span *b = oa_http_raw_span_new(OA_SPAN_KIND_SERVER, &p, &c, NULL);
    oa_span_free(b);
    oa_http1_release(&p);
    free(req);
    return a != NULL && b == a ? form : -1;
}

static void test_raw_memory(void)
{
    CHECK(raw_recycled(100) == OA_SPAN_RAW_SMALL, "a short head takes a small raw block, recycled when freed unbuilt");
    CHECK(raw_recycled(900) == OA_SPAN_RAW, "a long head takes a large raw block, recycled when freed unbuilt");

    struct oa_span *full = oa_span_new();
    CHECK(oa_http_raw_span_materialize(full) == full && full->form == OA_SPAN_FULL,
          "materializing a span that is not raw leaves it alone");
    oa_span_free(full);

    size_t raw_bytes = offsetof(struct oa_span, raw) + sizeof(struct oa_span_raw);
    size_t small_bytes = offsetof(struct oa_span, raw.bytes) + OA_SPAN_RAW_SMALL_BYTES;
    size_t compact_bytes = offsetof(struct oa_span, arena) + 640;
    printf("# queued bytes per span: raw %zu (head + tracestate up to %d), small raw %zu (up to %d), "
           "compact %zu, full %zu\n",
           raw_bytes, OA_SPAN_RAW_BYTES, small_bytes, OA_SPAN_RAW_SMALL_BYTES, compact_bytes, sizeof(struct oa_span));
    CHECK(raw_bytes <= compact_bytes, "a raw span takes no more queue memory than a compact one");
}

/* The server.address/port memo of a client connection's metrics: used
 * again for the next request with the same Host value, worked out again
 * when the Host value changes, when there is none (the peer), and when the
 * connection is reused (a new generation) for another peer. */
static bool key_is(const struct oa_http_metric_key *k, const char *address, int port)
{
    return k->address_len == strlen(address) && memcmp(k->address, address, k->address_len) == 0 && k->port == port;
}

static void client_server_key(struct oa_http_metric_key *k, const char *req, struct oa_conn *c,
                              struct oa_http_metrics_server_memo *memo)
{
    struct oa_http1_parser p;
    const struct oa_http1_head *h = parse_request(&p, req);
    oa_http_metric_key_init(k, OA_HTTP_CLIENT_DURATION);
    oa_http_metrics_client_server(k, h, c, memo);
    oa_http1_release(&p);
}

static void test_server_memo(void)
{
    struct oa_conn c;
    struct oa_http_metrics_server_memo memo;
    struct oa_http_metric_key k;
    memset(&memo, 0, sizeof(memo));
    peer_v4(&c, "10.1.2.3", 5555);
    c.generation = 7;

    client_server_key(&k, "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", &c, &memo);
    CHECK(key_is(&k, "a.example", 8080) && memo.valid, "memo: made from the Host header");
    /* marked, to see that the next request takes it rather than the head */
    memcpy(memo.address, "marked", 6);
    memo.address_len = 6;
    client_server_key(&k, "GET /next HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", &c, &memo);
    CHECK(key_is(&k, "marked", 8080), "memo: the next request with the same Host uses it");
    uint32_t stamp = memo.stamp;
    client_server_key(&k, "GET / HTTP/1.1\r\nHost: a.example:8081\r\n\r\n", &c, &memo);
    CHECK(key_is(&k, "a.example", 8081), "memo: another Host value is worked out again");
    CHECK(stamp == 1 && memo.stamp == 2, "memo: its stamp names each working out, not a use");
    client_server_key(&k, "GET / HTTP/1.1\r\nHost: c.example:8081\r\n\r\n", &c, &memo);
    CHECK(key_is(&k, "c.example", 8081), "memo: a Host value of the same length differing in its first word");
    client_server_key(&k, "GET / HTTP/1.1\r\n\r\n", &c, &memo);
    CHECK(key_is(&k, "10.1.2.3", 5555), "memo: no Host gives the peer");
    client_server_key(&k, "GET / HTTP/1.1\r\nHost: b.example\r\n\r\n", &c, &memo);
    CHECK(key_is(&k, "b.example", 80), "memo: Host without port, the scheme's default");

    client_server_key(&k, "GET / HTTP/1.1\r\n\r\n", &c, &memo);
    peer_v4(&c, "10.9.9.9", 6000);
    c.generation = 8;
    client_server_key(&k, "GET / HTTP/1.1\r\n\r\n", &c, &memo);
    CHECK(key_is(&k, "10.9.9.9", 6000), "memo: a reused connection to another peer is worked out again");

    char req[256];
    char host[80];
    memset(host, 'h', 70);
    host[70] = '\0';
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s:1\r\n\r\n", host);
    client_server_key(&k, req, &c, &memo);
    CHECK(!memo.valid && k.port == 1 && k.address_len == OA_METRIC_ADDRESS_MAX,
          "memo: a Host value too long to keep is not kept; the address is cut at the bound");
    client_server_key(&k, "GET / HTTP/1.1\r\n\r\n", &c, NULL);
    CHECK(key_is(&k, "10.9.9.9", 6000), "no memo: worked out");
}

/* Every known method maps to its own index; near misses (case, length, a
 * prefix, the other name of the same length) are _OTHER. */
static void test_method_index(void)
{
    int ok = 1;
    for (int i = 0; i < OA_HTTP_KNOWN_METHODS; i++) {
        const char *m = oa_http_known_methods[i];
        size_t len = strlen(m);
        char buf[16];
        EXPECT(ok, oa_http_method_index(m, len) == i, "%s", m);
        EXPECT(ok, oa_http_method_index(m, len - 1) == OA_HTTP_METHOD_OTHER, "%s shortened", m);
        memcpy(buf, m, len);
        buf[len] = 'X';
        EXPECT(ok, oa_http_method_index(buf, len + 1) == OA_HTTP_METHOD_OTHER, "%s extended", m);
        buf[len - 1] = (char)(buf[len - 1] | 0x20);
        EXPECT(ok, oa_http_method_index(buf, len) == OA_HTTP_METHOD_OTHER, "%s in lower case", m);
    }
    CHECK(ok, "each known method has its index, near misses are _OTHER");
    CHECK(oa_http_method_index("", 0) == OA_HTTP_METHOD_OTHER && oa_http_method_index("PROPFIND", 8) == OA_HTTP_METHOD_OTHER,
          "empty and unknown methods are _OTHER");
}

/* A span whose strings fit a compact block is built in one, at once; one
 * whose strings do not is built again in a full block and is the very span
 * the program's thread builds (values cut at the same place, not sooner). */
static void test_raw_compact(void)
{
    struct oa_conn c;
    struct pair sp;
    char req[1024];

    peer_v4(&c, "10.9.8.7", 4242);
    sp = both_ways(OA_SPAN_KIND_SERVER, "GET /small HTTP/1.1\r\nHost: h\r\n\r\n", &c, NULL, 200, NULL);
    check_same(sp, "compact: a small server span");
    CHECK(sp.built != NULL && sp.built->form == OA_SPAN_COMPACT && !sp.built->arena_short,
          "compact: a small span is built in a compact block");
    drop(sp);

    /* user agents around the compact arena's size: the last ones fit only
     * a full block */
    for (size_t ua = OA_SPAN_COMPACT_ARENA - 40; ua <= OA_SPAN_COMPACT_ARENA + 10; ua += 5) {
        int n = snprintf(req, sizeof req, "GET /big HTTP/1.1\r\nHost: h\r\nUser-Agent: ");
        memset(req + n, 'u', ua);
        memcpy(req + n + ua, "\r\n\r\n", 5);
        sp = both_ways(OA_SPAN_KIND_SERVER, req, &c, "k=v", 200, NULL);
        check_same(sp, "compact: a user agent of %zu bytes", ua);
        const struct oa_attr *a = sp.built ? oa_span_find_attr(sp.built, "user_agent.original") : NULL;
        CHECK(a != NULL && a->v.str.len == ua, "compact: the user agent of %zu bytes whole", ua);
        if (ua > OA_SPAN_COMPACT_ARENA)
            CHECK(sp.built && sp.built->form == OA_SPAN_FULL, "compact: %zu bytes need a full block", ua);
        drop(sp);
    }
}

int main(void)
{
    char out[256];
    oa_http_redact_url("http://user:pw@h:1/p?a=1", 24, out, sizeof(out));
    CHECK(strcmp(out, "http://REDACTED:REDACTED@h:1/p?a=1") == 0, "userinfo redacted: %s", out);
    oa_http_redact_url("https://h/p?sig=abc&x=1&Signature=zz", 36, out, sizeof(out));
    CHECK(strcmp(out, "https://h/p?sig=REDACTED&x=1&Signature=REDACTED") == 0, "signature params redacted: %s", out);
    {
        static const char aws[] = "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F"
                                  "us&X-Amz-Security-Token=tok&X-Amz-Signature=abc&token=t1";
        oa_http_redact_url(aws, sizeof aws - 1, out, sizeof(out));
        CHECK(strcmp(out, "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED"
                          "&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED&token=t1") == 0,
              "AWS SigV4 presigned-URL keys redacted, others kept: %s", out);
        snprintf(oa_config.url_sensitive_query_keys, sizeof oa_config.url_sensitive_query_keys, " api_key , token");
        static const char mine[] = "http://h/p?token=t1&tokens=t2&api_key=k&Token=t3&=x";
        oa_http_redact_url(mine, sizeof mine - 1, out, sizeof(out));
        CHECK(strcmp(out, "http://h/p?token=REDACTED&tokens=t2&api_key=REDACTED&Token=t3&=x") == 0,
              "OTELAUTO_URL_SENSITIVE_QUERY_KEYS adds exact keys: %s", out);
        oa_config.url_sensitive_query_keys[0] = '\0';
    }
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

    test_method_index();
    test_server_memo();
    test_raw_server();
    test_raw_client();
    test_raw_bound();
    test_raw_odd_heads();
    test_raw_peer_views();
    test_client_url_is_redacted_url();
    test_raw_light_only();
    test_raw_compact();
    test_raw_exchange();
    test_raw_memory();
    TEST_DONE();
}
