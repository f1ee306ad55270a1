/* Runtime hints (src/protocols/http1/http_hint.c): the placeholder
 * traceparent's grammar, then conversations (conversation.h) in which a
 * client request carries one: the server request it names is the parent,
 * or none when it is answered or unknown, and the placeholder never reaches
 * the wire. */
#include <stdio.h>
#include <string.h>

#include "conversation.h"
#include "oa_test.h"
#include "protocols/http1/http_hint.h"

#define C OA_ROLE_CLIENT
#define S OA_ROLE_SERVER
#define CLIENT_SPAN OA_SPAN_KIND_CLIENT
#define SERVER_SPAN OA_SPAN_KIND_SERVER
#define REMOTE_TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define OK_EMPTY "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

#define ZEROS "00000000000000000000000000000000"
/* The harness's server connection 0: fd 900 (0x384), peer port 40000 (0x9c40). */
#define HINT(seq6) "00-" ZEROS "-0003849c40" seq6 "-00"

static bool parse(const char *v, struct oa_http_hint *h)
{
    return oa_http_hint_parse(v, strlen(v), h);
}

static void grammar(void)
{
    struct oa_http_hint h;
    CHECK(parse("00-" ZEROS "-0003849c40000001-00", &h) && h.fd == 900 && h.port == 40000 && h.seq == 1,
          "a hint: fd, port and number read");
    CHECK(parse("00-" ZEROS "-0000000000000000-00", &h) && h.fd == -1 && h.seq == 0, "made for no request");
    CHECK(parse("00-" ZEROS "-ffffffffffffffff-00", &h) && h.fd == 0xffffff && h.port == 0xffff && h.seq == 0xffffff,
          "the widest values");
    const char *not_hints[] = {
        REMOTE_TP,                                    /* a real context */
        "00-" ZEROS "-0003849c40000000-00",           /* number 0: requests count from 1 */
        "00-" ZEROS "-0003849C40000001-00",           /* uppercase */
        "00-" ZEROS "-0003849c40000001-01",           /* other flags */
        "01-" ZEROS "-0003849c40000001-00",           /* other version */
        "00-" ZEROS "1-0003849c40000001-00",          /* long */
        "00-" ZEROS "-0003849c4000001-00",            /* short */
        "00-" ZEROS "-0003849c40000001-00 ",          /* trailing */
        "00-0000000000000000000000000000000a-0003849c40000001-00", /* a trace id */
        "00-" ZEROS "-0003849c4000000g-00",
        "",
    };
    for (size_t i = 0; i < sizeof(not_hints) / sizeof(not_hints[0]); i++)
        CHECK(!parse(not_hints[i], &h), "not a hint: \"%s\"", not_hints[i]);
}

/* The request a handler is making for the server request numbered 1 on
 * connection 0, which is still open: that request is its parent (not the
 * remote caller), and our traceparent takes the placeholder's place. */
static const struct conversation named = {
    .name = "hint: the open server request it names is the parent",
    .roles = {S, C},
    .steps = (const struct conv_step[]){
        RECEIVES(0, "GET /in HTTP/1.1\r\nHost: me\r\ntraceparent: " REMOTE_TP "\r\ntracestate: k=v\r\n\r\n"),
        SENDS(1, "GET /out HTTP/1.1\r\ntraceparent: " HINT("000001") "\r\nHost: up\r\n\r\n",
              .unsplit = HINT("000001") "\r\nHost: up\r\n\r\n"),
        RECEIVES(1, OK_EMPTY),
        FINISHED(1),
        SENDS(0, OK_EMPTY),
        FINISHED(2),
        CONV_DONE},
    .wire = {NULL, "GET /out HTTP/1.1\r\ntraceparent: {tp:0}\r\nHost: up\r\ntracestate: k=v\r\n\r\n"},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, 1, "url.full=http://up/out"),
        SPAN_OF(SERVER_SPAN, "GET", false, CONV_REMOTE, REMOTE_TP, "url.path=/in"),
        SPANS_DONE},
};

/* Keep-alive: the first request is answered and the second is open when a
 * call names the first (a job it left behind): no parent, although the
 * thread holds exactly one open request; a call naming the second is its
 * child. */
static const struct conversation numbered = {
    .name = "hint: an answered request is no parent; the request named by its number is",
    .roles = {S, C},
    .steps = (const struct conv_step[]){
        RECEIVES(0, "GET /a HTTP/1.1\r\nHost: me\r\n\r\n"),
        SENDS(0, OK_EMPTY),
        FINISHED(1),
        RECEIVES(0, "GET /b HTTP/1.1\r\nHost: me\r\n\r\n"),
        SENDS(1, "GET /late HTTP/1.1\r\ntraceparent: " HINT("000001") "\r\n\r\n", .unsplit = HINT("000001") "\r\n\r\n"),
        RECEIVES(1, OK_EMPTY),
        FINISHED(2),
        SENDS(1, "GET /now HTTP/1.1\r\ntraceparent: " HINT("000002") "\r\n\r\n", .unsplit = HINT("000002") "\r\n\r\n"),
        RECEIVES(1, OK_EMPTY),
        FINISHED(3),
        SENDS(0, OK_EMPTY),
        FINISHED(4),
        CONV_DONE},
    .wire = {NULL, "GET /late HTTP/1.1\r\ntraceparent: {tp:1}\r\n\r\nGET /now HTTP/1.1\r\ntraceparent: {tp:2}\r\n\r\n"},
    .spans = (const struct conv_span[]){
        SPAN(SERVER_SPAN, "GET", false, CONV_ROOT, "url.path=/a"),
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "url.full=http://10.0.0.2:8080/late"),
        SPAN(CLIENT_SPAN, "GET", false, 3, "url.full=http://10.0.0.2:8080/now"),
        SPAN(SERVER_SPAN, "GET", false, CONV_ROOT, "url.path=/b"),
        SPANS_DONE},
};

/* A hint whose peer port is not that connection's (the fd now serves
 * another client): no parent. */
static const struct conversation other_peer = {
    .name = "hint: another peer port on that fd: no parent",
    .roles = {S, C},
    .steps = (const struct conv_step[]){
        RECEIVES(0, "GET /in HTTP/1.1\r\nHost: me\r\n\r\n"),
        SENDS(1, "GET /out HTTP/1.1\r\ntraceparent: 00-" ZEROS "-0003849c41000001-00\r\n\r\n",
              .unsplit = "00-" ZEROS "-0003849c41000001-00\r\n\r\n"),
        RECEIVES(1, OK_EMPTY),
        FINISHED(1),
        SENDS(0, OK_EMPTY),
        FINISHED(2),
        CONV_DONE},
    .wire = {NULL, "GET /out HTTP/1.1\r\ntraceparent: {tp:0}\r\n\r\n"},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "url.full=http://10.0.0.2:8080/out"),
        SPAN(SERVER_SPAN, "GET", false, CONV_ROOT, "url.path=/in"),
        SPANS_DONE},
};

/* A call made for no request (a timer) while the thread holds exactly one
 * open request, which the thread's rule would take for its parent: none. */
static const struct conversation for_none = {
    .name = "hint: made for no request: no parent, not the one request the thread holds",
    .roles = {S, C},
    .steps = (const struct conv_step[]){
        RECEIVES(0, "GET /in HTTP/1.1\r\nHost: me\r\n\r\n"),
        SENDS(1, "GET /tick HTTP/1.1\r\ntraceparent: 00-" ZEROS "-0000000000000000-00\r\n\r\n",
              .unsplit = "00-" ZEROS "-0000000000000000-00\r\n\r\n"),
        RECEIVES(1, OK_EMPTY),
        FINISHED(1),
        SENDS(0, OK_EMPTY),
        FINISHED(2),
        CONV_DONE},
    .wire = {NULL, "GET /tick HTTP/1.1\r\ntraceparent: {tp:0}\r\n\r\n"},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "url.full=http://10.0.0.2:8080/tick"),
        SPAN(SERVER_SPAN, "GET", false, CONV_ROOT, "url.path=/in"),
        SPANS_DONE},
};

int main(void)
{
    grammar();
    CONV_CHECK(named);
    CONV_CHECK(numbered);
    CONV_CHECK(other_peer);
    CONV_CHECK(for_none);
    printf("# %ld runs\n", conv_total_runs);
    TEST_DONE();
}
