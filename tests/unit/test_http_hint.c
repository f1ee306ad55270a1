/* Runtime hints (src/protocols/http1/http_hint.c): the placeholder
 * traceparent's grammar, then conversations (conversation.h) in which a
 * client request carries one: the server request it names is the parent,
 * or none when it is answered or unknown, and the placeholder never reaches
 * the wire. */
#include <stdio.h>
#include <string.h>

#include "conversation.h"
#include "oa_test.h"
#include "protocols/http1/http_exchange.h"
#include "protocols/http1/http_hint.h"
#include "protocols/http2/h2_connection.h"

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
    CHECK(parse("00-" ZEROS "-feffffffffffffff-00", &h) && !h.by_peer && h.fd == 0xfeffff && h.port == 0xffff &&
              h.seq == 0xffffff,
          "the widest fd form");
    CHECK(parse("00-" ZEROS "-ff9c400000000000-00", &h) && h.by_peer && !h.by_parent && h.port == 40000 &&
              h.fd == -1 && h.seq == 0,
          "by peer port, no traceparent");
    CHECK(parse("00-" ZEROS "-ff9c40f169203331-00", &h) && h.by_peer && h.by_parent && h.port == 40000 &&
              h.parent_low == 0x7169203331,
          "by peer port and the parent id's low 39 bits");
    CHECK(parse("00-" ZEROS "-ffffffffffffffff-00", &h) && h.by_peer && h.by_parent && h.port == 0xffff &&
              h.parent_low == 0x7fffffffff,
          "the widest by peer port");
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
        "00-" ZEROS "-ff00000000000000-00",           /* by peer port 0 */
        "00-" ZEROS "-ff9c400000000001-00",           /* a discriminator without its mark */
        "00-" ZEROS "-ff9c407fffffffff-00",
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

/* ---- by peer port: a gRPC server's handler on a thread pool ---- */

static const struct oa_protocol *const h2_first[] = {&oa_http2_protocol, &oa_http1_protocol, NULL};

/* bytes with NULs: their length from the literal */
#define B(s) .bytes = (s), .len = sizeof(s) - 1
#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define SETTINGS_EMPTY "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
#define SETTINGS_ACK "\x00\x00\x00\x04\x01\x00\x00\x00\x00"
/* the client's preface then its gRPC HEADERS (the preface is claimed on
 * its first 4 octets: a first call shorter than that is not tried) */
#define RECEIVES_GRPC(c, s) {.conn = (c), .dir = CONV_RECV, B(PREFACE SETTINGS_EMPTY s), .unsplit = "PRI "}
/* :method POST, :scheme http, :path /pkg.Echo/Say, :authority, content-type application/grpc */
#define GRPC_BLOCK "\x83\x86\x04\x0d/pkg.Echo/Say\x01\x0elocalhost:8080\x0f\x10\x10" "application/grpc"
/* its HEADERS (END_HEADERS) on stream id (one octet), without and with a traceparent */
#define GRPC_CALL(id) "\x00\x00\x34\x01\x04\x00\x00\x00" id GRPC_BLOCK
#define GRPC_CALL_TP(id, tp) "\x00\x00\x79\x01\x04\x00\x00\x00" id GRPC_BLOCK "\x00\x0btraceparent\x37" tp
/* the server's preface, then a trailers-only OK on stream id */
#define H2_SERVER_START SETTINGS_EMPTY SETTINGS_ACK
#define GRPC_OK(id) "\x00\x00\x10\x01\x05\x00\x00\x00" id "\x88\x00\x0bgrpc-status\x01" "0"
/* the callers of the two calls: parent ids ...aa0ba902b7 and ...7169203331 */
#define TP_A "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define TP_B "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
/* server connection 0's peer port is 40000 (9c40): the low 39 bits of a
 * parent id, marked; or 0 */
#define BY_PEER_A "00-" ZEROS "-ff9c40aa0ba902b7-00"
#define BY_PEER_B "00-" ZEROS "-ff9c40f169203331-00"
#define BY_PEER_NONE "00-" ZEROS "-ff9c400000000000-00"
#define HANDLER_GET(hint) "GET /out HTTP/1.1\r\ntraceparent: " hint "\r\nHost: up\r\n\r\n"
#define HANDLER_SENDS(hint) SENDS(1, HANDLER_GET(hint), .unsplit = hint "\r\nHost: up\r\n\r\n")
/* the handler's request carrying hint, answered: the n-th span finished */
#define HANDLER_CALLS(hint, n) HANDLER_SENDS(hint), RECEIVES(1, OK_EMPTY), FINISHED(n)
#define HANDLER_WIRE "GET /out HTTP/1.1\r\ntraceparent: {tp:0}\r\nHost: up\r\n\r\n"
#define HANDLER_SPAN(parent) SPAN(CLIENT_SPAN, "GET", false, parent, "url.full=http://up/out")

/* Two calls in flight on one connection, each from its own caller: the
 * hint carrying the second's caller's parent id names it, whatever the
 * thread holds. */
static const struct conversation by_parent = {
    .name = "hint by peer port: the call whose traceparent's parent id it carries is the parent",
    .roles = {S, C},
    .protocols = h2_first,
    .steps = (const struct conv_step[]){
        RECEIVES_GRPC(0, GRPC_CALL_TP("\x01", TP_A) GRPC_CALL_TP("\x03", TP_B)),
        HANDLER_CALLS(BY_PEER_B, 1),
        {.conn = 0, .dir = CONV_SEND, B(H2_SERVER_START GRPC_OK("\x01") GRPC_OK("\x03"))},
        FINISHED(3),
        CONV_DONE},
    .wire = {NULL, HANDLER_WIRE},
    .spans = (const struct conv_span[]){
        HANDLER_SPAN(2),
        SPAN_OF(SERVER_SPAN, "pkg.Echo/Say", false, CONV_REMOTE, TP_A, "rpc.system=grpc"),
        SPAN_OF(SERVER_SPAN, "pkg.Echo/Say", false, CONV_REMOTE, TP_B, "rpc.system=grpc"),
        SPANS_DONE},
};

/* The call it names is answered already (its handler goes on after the
 * response): no parent, not the other call, which is the only one the
 * thread holds and whose caller differs. */
static const struct conversation by_parent_answered = {
    .name = "hint by peer port: the named call answered: no parent, not the other one open",
    .roles = {S, C},
    .protocols = h2_first,
    .steps = (const struct conv_step[]){
        RECEIVES_GRPC(0, GRPC_CALL_TP("\x01", TP_A) GRPC_CALL_TP("\x03", TP_B)),
        {.conn = 0, .dir = CONV_SEND, B(H2_SERVER_START GRPC_OK("\x01"))},
        FINISHED(1),
        HANDLER_CALLS(BY_PEER_A, 2),
        {.conn = 0, .dir = CONV_SEND, B(GRPC_OK("\x03"))},
        FINISHED(3),
        CONV_DONE},
    .wire = {NULL, "GET /out HTTP/1.1\r\ntraceparent: {tp:1}\r\nHost: up\r\n\r\n"},
    .spans = (const struct conv_span[]){
        SPAN_OF(SERVER_SPAN, "pkg.Echo/Say", false, CONV_REMOTE, TP_A),
        HANDLER_SPAN(CONV_ROOT),
        SPAN_OF(SERVER_SPAN, "pkg.Echo/Say", false, CONV_REMOTE, TP_B),
        SPANS_DONE},
};

/* Calls without a traceparent: 0 names the connection's one call in
 * flight; with two in flight, none. */
static const struct conversation by_peer_only = {
    .name = "hint by peer port, no traceparent: the one call in flight is the parent",
    .roles = {S, C},
    .protocols = h2_first,
    .steps = (const struct conv_step[]){
        RECEIVES_GRPC(0, GRPC_CALL("\x01")),
        HANDLER_CALLS(BY_PEER_NONE, 1),
        {.conn = 0, .dir = CONV_SEND, B(H2_SERVER_START GRPC_OK("\x01"))},
        FINISHED(2),
        CONV_DONE},
    .wire = {NULL, HANDLER_WIRE},
    .spans = (const struct conv_span[]){
        HANDLER_SPAN(1),
        SPAN(SERVER_SPAN, "pkg.Echo/Say", false, CONV_ROOT, "rpc.system=grpc"),
        SPANS_DONE},
};

static const struct conversation by_peer_two = {
    .name = "hint by peer port, no traceparent, two calls in flight: no parent",
    .roles = {S, C},
    .protocols = h2_first,
    .steps = (const struct conv_step[]){
        RECEIVES_GRPC(0, GRPC_CALL("\x01") GRPC_CALL("\x03")),
        HANDLER_CALLS(BY_PEER_NONE, 1),
        {.conn = 0, .dir = CONV_SEND, B(H2_SERVER_START GRPC_OK("\x01") GRPC_OK("\x03"))},
        FINISHED(3),
        CONV_DONE},
    .wire = {NULL, HANDLER_WIRE},
    .spans = (const struct conv_span[]){
        HANDLER_SPAN(CONV_ROOT),
        SPAN(SERVER_SPAN, "pkg.Echo/Say", false, CONV_ROOT),
        SPAN(SERVER_SPAN, "pkg.Echo/Say", false, CONV_ROOT),
        SPANS_DONE},
};

/* Another peer port, or a parent id no call carried: no parent, although
 * the thread holds exactly one call. */
static const struct conversation by_peer_unknown = {
    .name = "hint by peer port: another port, or no such caller: no parent",
    .roles = {S, C},
    .protocols = h2_first,
    .steps = (const struct conv_step[]){
        RECEIVES_GRPC(0, GRPC_CALL_TP("\x01", TP_A)),
        HANDLER_CALLS("00-" ZEROS "-ff9c41aa0ba902b7-00", 1),
        HANDLER_CALLS("00-" ZEROS "-ff9c40aa0ba902b6-00", 2),
        HANDLER_CALLS(BY_PEER_A, 3),
        {.conn = 0, .dir = CONV_SEND, B(H2_SERVER_START GRPC_OK("\x01"))},
        FINISHED(4),
        CONV_DONE},
    .wire = {NULL, "GET /out HTTP/1.1\r\ntraceparent: {tp:0}\r\nHost: up\r\n\r\n"
                   "GET /out HTTP/1.1\r\ntraceparent: {tp:1}\r\nHost: up\r\n\r\n"
                   "GET /out HTTP/1.1\r\ntraceparent: {tp:2}\r\nHost: up\r\n\r\n"},
    .spans = (const struct conv_span[]){
        HANDLER_SPAN(CONV_ROOT),
        HANDLER_SPAN(CONV_ROOT),
        HANDLER_SPAN(3),
        SPAN_OF(SERVER_SPAN, "pkg.Echo/Say", false, CONV_REMOTE, TP_A),
        SPANS_DONE},
};

/* An HTTP/1 server request handed to another thread is named the same way:
 * the request whose caller's parent id it carries, the other one in
 * flight on the connection (pipelined) left alone. */
static const struct conversation by_parent_http1 = {
    .name = "hint by peer port on an HTTP/1 server connection: the request whose caller it names",
    .roles = {S, C},
    .steps = (const struct conv_step[]){
        RECEIVES(0, "GET /a HTTP/1.1\r\nHost: me\r\ntraceparent: " TP_A "\r\n\r\n"
                    "GET /b HTTP/1.1\r\nHost: me\r\ntraceparent: " TP_B "\r\n\r\n"),
        HANDLER_CALLS(BY_PEER_B, 1),
        SENDS(0, OK_EMPTY OK_EMPTY),
        FINISHED(3),
        CONV_DONE},
    .wire = {NULL, HANDLER_WIRE},
    .spans = (const struct conv_span[]){
        HANDLER_SPAN(2),
        SPAN_OF(SERVER_SPAN, "GET", false, CONV_REMOTE, TP_A, "url.path=/a"),
        SPAN_OF(SERVER_SPAN, "GET", false, CONV_REMOTE, TP_B, "url.path=/b"),
        SPANS_DONE},
};

int main(void)
{
    grammar();
    CONV_CHECK(named);
    CONV_CHECK(numbered);
    CONV_CHECK(other_peer);
    CONV_CHECK(for_none);
    CONV_CHECK(by_parent);
    CONV_CHECK(by_parent_answered);
    CONV_CHECK(by_peer_only);
    CONV_CHECK(by_peer_two);
    CONV_CHECK(by_peer_unknown);
    CONV_CHECK(by_parent_http1);
    printf("# %ld runs\n", conv_total_runs);
    TEST_DONE();
}
