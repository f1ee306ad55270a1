/* TLS plaintext streams (src/wire/tls_io.c) against a scripted fake of the TLS
 * library's write: header injection into one buffer, the same buffer given
 * again after a refusal, partial writes, and the program's byte counts. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lifecycle/library.h"
#include "protocols/http1/http_span.h"
#include "sys/real_libc.h"
#include "wire/tls_io.h"
#include "oa_test.h"

/* The engine's only links to the libc hooks, not wanted here. */
struct oa_libc oa_libc;
void oa_libc_bind(void)
{
}

/* What the fake TLS library does on each call. */
static struct {
    int refuse;           /* refuse this many calls first (want write) */
    size_t chunk;         /* accept at most this many bytes per call (0: all) */
    const void *last_ptr; /* the last buffer offered */
    size_t last_len;
    int calls;
    char wire[4096];      /* everything accepted, in order */
    size_t wire_len;
} fake;

static int fake_write(void *session, const void *buf, size_t n, size_t *written)
{
    (void)session;
    fake.calls++;
    fake.last_ptr = buf;
    fake.last_len = n;
    if (fake.refuse > 0) {
        fake.refuse--;
        return -1;
    }
    size_t take = fake.chunk > 0 && fake.chunk < n ? fake.chunk : n;
    if (fake.wire_len + take <= sizeof(fake.wire)) {
        memcpy(fake.wire + fake.wire_len, buf, take);
        fake.wire_len += take;
    }
    *written = take;
    return 1;
}

static void fake_reset(void)
{
    memset(&fake, 0, sizeof(fake));
}

static const char REQUEST[] = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";

/* The request as it must reach the wire: a traceparent line before the empty line. */
static bool wire_is_request_with_traceparent(char *tp_out)
{
    const char *head = "GET /x HTTP/1.1\r\nHost: h\r\ntraceparent: ";
    size_t hl = strlen(head);
    if (fake.wire_len != sizeof(REQUEST) - 1 + strlen("traceparent: \r\n") + 55)
        return false;
    if (memcmp(fake.wire, head, hl) != 0 || memcmp(fake.wire + hl + 55, "\r\n\r\n", 4) != 0)
        return false;
    memcpy(tp_out, fake.wire + hl, 55);
    tp_out[55] = '\0';
    return true;
}

int main(void)
{
    setenv("OTEL_TRACES_EXPORTER", "none", 1);
    /* what the shim's constructor registers: the set-up before the first
     * connection (configuration: propagators on) */
    oa_wire_setup = oa_library_configure;
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    CHECK(oa_tls_open(-1, false) == NULL, "no stream without a socket");

    /* refused, then retried: the same buffer and length both times */
    struct oa_conn *c = oa_tls_open(sv[0], false);
    CHECK(c != NULL && c->tls, "client stream opened");
    fake_reset();
    fake.refuse = 1;
    size_t written = 0;
    int r = oa_tls_send(c, NULL, fake_write, REQUEST, sizeof(REQUEST) - 1, &written);
    CHECK(r == -1, "a refusal is passed on as it is: %d", r);
    const void *first_ptr = fake.last_ptr;
    size_t first_len = fake.last_len;
    CHECK(first_ptr != REQUEST && first_len == sizeof(REQUEST) - 1 + 70, "spliced buffer offered: %zu bytes", first_len);
    r = oa_tls_send(c, NULL, fake_write, REQUEST, sizeof(REQUEST) - 1, &written);
    CHECK(r == 1 && written == sizeof(REQUEST) - 1, "the retry returns the program's count: %d %zu", r, written);
    CHECK(fake.last_ptr == first_ptr && fake.last_len == first_len, "the retry offers the same buffer and length");
    char tp1[56] = "";
    CHECK(wire_is_request_with_traceparent(tp1), "one traceparent line before the empty line");

    /* the next request on the stream, written 7 bytes at a time by a
     * library in partial-write mode */
    fake_reset();
    fake.chunk = 7;
    size_t off = 0, sum = 0;
    int calls = 0;
    bool each_within = true;
    while (off < sizeof(REQUEST) - 1 && calls < 100) {
        size_t asked = sizeof(REQUEST) - 1 - off;
        r = oa_tls_send(c, NULL, fake_write, REQUEST + off, asked, &written);
        calls++;
        if (r != 1 || written == 0 || written > asked)
            each_within = false;
        off += written;
        sum += written;
    }
    CHECK(each_within, "every partial write returned 1..asked program bytes");
    CHECK(sum == sizeof(REQUEST) - 1, "their sum is the request: %zu", sum);
    char tp2[56] = "";
    CHECK(wire_is_request_with_traceparent(tp2), "bytes on the wire: one traceparent");
    CHECK(strcmp(tp1, tp2) != 0 && memcmp(tp1, tp2, 36) != 0, "a new trace per root request");

    /* bodies and non-head bytes go straight through, from the program's buffer */
    static const char POST[] = "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
    fake_reset();
    r = oa_tls_send(c, NULL, fake_write, POST, sizeof(POST) - 1, &written);
    CHECK(r == 1 && written == sizeof(POST) - 1, "POST head written");
    fake_reset();
    r = oa_tls_send(c, NULL, fake_write, "hello", 5, &written);
    CHECK(r == 1 && written == 5 && fake.calls == 1 && fake.last_len == 5, "body passed through unchanged");
    oa_tls_close(c);

    /* a server stream: requests are read, responses written as they are */
    c = oa_tls_open(sv[1], true);
    CHECK(c != NULL, "server stream opened");
    static const char IN[] = "GET / HTTP/1.1\r\nHost: h\r\n"
                             "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n";
    oa_tls_received(c, IN, sizeof(IN) - 1);
    CHECK(c->mode == OA_MODE_PARSING, "the request is parsed");
    static const char OUT[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    fake_reset();
    r = oa_tls_send(c, NULL, fake_write, OUT, sizeof(OUT) - 1, &written);
    CHECK(r == 1 && written == sizeof(OUT) - 1 && fake.last_ptr == OUT, "a response goes out from the program's buffer");
    oa_tls_close(c);

    /* a session whose first bytes are not HTTP is left alone */
    c = oa_tls_open(sv[0], false);
    fake_reset();
    r = oa_tls_send(c, NULL, fake_write, "\x01\x02binary", 8, &written);
    CHECK(r == 1 && written == 8 && c->mode == OA_MODE_PASS, "non-HTTP stream passes");
    oa_tls_close(c);

    /* libcurl spans take url.full, server.address and server.port from the URL */
    struct oa_span *s = oa_span_new();
    static const char U1[] = "https://user:pw@[::1]/p?sig=x";
    oa_http_span_client_url(s, U1, sizeof(U1) - 1);
    const struct oa_attr *a = oa_span_find_attr(s, "url.full");
    CHECK(a != NULL && a->v.str.len == strlen("https://REDACTED:REDACTED@[::1]/p?sig=REDACTED") &&
              memcmp(a->v.str.ptr, "https://REDACTED:REDACTED@[::1]/p?sig=REDACTED", a->v.str.len) == 0,
          "url.full redacted");
    a = oa_span_find_attr(s, "server.address");
    CHECK(a != NULL && a->v.str.len == 3 && memcmp(a->v.str.ptr, "::1", 3) == 0, "IPv6 server.address without brackets");
    a = oa_span_find_attr(s, "server.port");
    CHECK(a != NULL && a->v.i == 443, "https default port 443");
    oa_span_free(s);
    s = oa_span_new();
    static const char U2[] = "http://example.test:8080";
    oa_http_span_client_url(s, U2, sizeof(U2) - 1);
    a = oa_span_find_attr(s, "server.port");
    CHECK(a != NULL && a->v.i == 8080, "explicit port");
    a = oa_span_find_attr(s, "server.address");
    CHECK(a != NULL && a->v.str.len == 12 && memcmp(a->v.str.ptr, "example.test", 12) == 0, "host without path");
    oa_span_free(s);

    close(sv[0]);
    close(sv[1]);
    TEST_DONE();
}
