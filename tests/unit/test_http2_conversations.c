/* HTTP/2 connections (src/protocols/http2/) as conversations
 * (conversation.h): frames sent and received, the spans they must give and
 * the trace context spliced into outgoing HEADERS, played whole, split at
 * every byte and against partial writes through the real wire layer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "conversation.h"
#include "oa_test.h"
#include "protocols/http1/http_exchange.h"
#include "protocols/http2/h2_connection.h"

#define C OA_ROLE_CLIENT
#define S OA_ROLE_SERVER
#define CLIENT_SPAN OA_SPAN_KIND_CLIENT
#define SERVER_SPAN OA_SPAN_KIND_SERVER

/* what the life cycle registers, in its order */
static const struct oa_protocol *const protocols[] = {&oa_http2_protocol, &oa_http1_protocol, NULL};

/* bytes with NULs: their length from the literal */
#define B(s) .bytes = (s), .len = sizeof(s) - 1
#define SENDS_B(c, s, ...) {.conn = (c), .dir = CONV_SEND, B(s), __VA_ARGS__}
#define RECEIVES_B(c, s, ...) {.conn = (c), .dir = CONV_RECV, B(s), __VA_ARGS__}
/* the preface is claimed on its first 4 octets ("PRI "): a first call
 * shorter than that is passed through (not tried) */
#define RECEIVES_PREFACE(c, s) {.conn = (c), .dir = CONV_RECV, B(CLIENT_START s), .unsplit = "PRI "}
/* a frame split by the program inside its header block gets nothing (its
 * header may be out already: see client_header_apart) */
#define UNSPLIT(s) .unsplit = (s), .unsplit_len = sizeof(s) - 1
/* what must reach connection 0's (or 1's) wire: a template (conversation.h) */
#define WIRE_0(s) .wire = {s}, .wire_len = {sizeof(s) - 1}
#define WIRE_1(s) .wire = {NULL, s}, .wire_len = {0, sizeof(s) - 1}

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define SETTINGS_EMPTY "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
#define SETTINGS_ACK "\x00\x00\x00\x04\x01\x00\x00\x00\x00"
#define CLIENT_START PREFACE SETTINGS_EMPTY
#define SERVER_START SETTINGS_EMPTY SETTINGS_ACK

/* HPACK: :method GET, :scheme http, :path /, :authority localhost:8080
 * (literal without indexing, static name 1) */
#define GET_BLOCK "\x82\x86\x84\x01\x0elocalhost:8080"
#define GET_BLOCK_LEN 19
/* :method POST, :scheme http, :path /pkg.Echo/Say, :authority, content-type application/grpc */
#define GRPC_BLOCK "\x83\x86\x04\x0d/pkg.Echo/Say\x01\x0elocalhost:8080\x0f\x10\x10" "application/grpc"
#define GRPC_BLOCK_LEN (2 + 15 + 16 + 19)
/* our literal: without indexing, new name, no Huffman (69 octets) */
#define TP_FIELD "\x00\x0btraceparent\x37{tp:0}"
#define TP_LEN 69
#define STATUS_200 "\x88"
#define RESP_200_END(id) "\x00\x00\x01\x01\x05\x00\x00\x00" id STATUS_200

/* GET / on stream id (one octet), as the program sends it, and with our
 * field appended (the traceparent of captured span n) */
#define GET_FRAME(id) "\x00\x00\x13\x01\x05\x00\x00\x00" id GET_BLOCK
#define GET_FRAME_TP(id, n) "\x00\x00\x58\x01\x05\x00\x00\x00" id GET_BLOCK "\x00\x0btraceparent\x37{tp:" #n "}"

#define HTTP_CLIENT(port) "server.address=localhost", "server.port=" port, "network.protocol.version=2"

static const struct conversation client_get = {
    .name = "client: one GET stream, traceparent appended to its HEADERS, the length patched",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, SETTINGS_ACK GET_FRAME("\x01"), UNSPLIT(GET_FRAME("\x01"))),
        RECEIVES_B(0, RESP_200_END("\x01")),
        FINISHED(1),
        CLOSES(0),
        CONV_DONE},
    WIRE_0(CLIENT_START SETTINGS_ACK GET_FRAME_TP("\x01", 0)),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.request.method=GET", "url.full=http://localhost:8080/", "!url.path",
             HTTP_CLIENT("8080"), "http.response.status_code=200", "!error.type", "!rpc.system"),
        SPANS_DONE},
};

/* no :authority: url.full names the peer (10.0.0.1:8080 in the harness) */
static const struct conversation client_no_authority = {
    .name = "client: a request head without :authority: url.full from the peer's address and port",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, SETTINGS_ACK "\x00\x00\x03\x01\x05\x00\x00\x00\x01\x82\x86\x84",
                UNSPLIT("\x00\x00\x03\x01\x05\x00\x00\x00\x01\x82\x86\x84")),
        RECEIVES_B(0, RESP_200_END("\x01")),
        FINISHED(1),
        CONV_DONE},
    WIRE_0(CLIENT_START SETTINGS_ACK "\x00\x00\x48\x01\x05\x00\x00\x00\x01\x82\x86\x84" TP_FIELD),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "url.full=http://10.0.0.1:8080/", "server.address=10.0.0.1",
             "server.port=8080", "http.response.status_code=200"),
        SPANS_DONE},
};

/* the HEADERS frame's header in one write, its payload in the next: the
 * header may be out already, so nothing is added (the span is made) */
static const struct conversation client_header_apart = {
    .name = "client: a HEADERS frame header written apart from its payload: nothing added",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, "\x00\x00\x13\x01\x05\x00\x00\x00\x01"),
        SENDS_B(0, GET_BLOCK),
        RECEIVES_B(0, RESP_200_END("\x01")),
        FINISHED(1),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200"), SPANS_DONE},
};

/* HEADERS (PADDED, PRIORITY; no END_HEADERS) then CONTINUATION: the field
 * goes at the end of the CONTINUATION; HEADERS is untouched */
static const struct conversation client_continuation = {
    .name = "client: PADDED+PRIORITY HEADERS, then CONTINUATION: into the last fragment",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, "\x00\x00\x0c\x01\x29\x00\x00\x00\x01" "\x03" "\x80\x00\x00\x00\x0f" "\x82\x86\x84" "\x00\x00\x00"
                   "\x00\x00\x10\x09\x04\x00\x00\x00\x01" "\x01\x0elocalhost:8080",
                UNSPLIT("\x00\x00\x10\x09\x04\x00\x00\x00\x01" "\x01\x0elocalhost:8080")),
        RECEIVES_B(0, RESP_200_END("\x01")),
        FINISHED(1),
        CONV_DONE},
    WIRE_0(CLIENT_START "\x00\x00\x0c\x01\x29\x00\x00\x00\x01" "\x03" "\x80\x00\x00\x00\x0f" "\x82\x86\x84" "\x00\x00\x00"
           "\x00\x00\x55\x09\x04\x00\x00\x00\x01" "\x01\x0elocalhost:8080" TP_FIELD),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, HTTP_CLIENT("8080"), "http.response.status_code=200"), SPANS_DONE},
};

/* PADDED and PRIORITY on the one HEADERS frame: the field goes before the
 * padding, which stays as it was */
static const struct conversation client_padded = {
    .name = "client: PADDED+PRIORITY HEADERS with END_HEADERS: the field before the padding",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, "\x00\x00\x1d\x01\x2d\x00\x00\x00\x01" "\x04" "\x00\x00\x00\x00\x10" GET_BLOCK "PAD!",
                UNSPLIT("\x00\x00\x1d\x01\x2d\x00\x00\x00\x01" "\x04" "\x00\x00\x00\x00\x10" GET_BLOCK)),
        RECEIVES_B(0, RESP_200_END("\x01")),
        FINISHED(1),
        CONV_DONE},
    WIRE_0(CLIENT_START "\x00\x00\x62\x01\x2d\x00\x00\x00\x01" "\x04" "\x00\x00\x00\x00\x10" GET_BLOCK TP_FIELD "PAD!"),
    .spans = (const struct conv_span[]){SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200"),
                                        SPANS_DONE},
};

/* two streams' HEADERS in one write, answered in the reverse order, each
 * a span with its own traceparent */
static const struct conversation client_two_streams = {
    .name = "client: two HEADERS frames in one write, responses out of order",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, GET_FRAME("\x01") GET_FRAME("\x03"),
                UNSPLIT(GET_FRAME("\x01") GET_FRAME("\x03"))),
        RECEIVES_B(0, "\x00\x00\x01\x01\x05\x00\x00\x00\x03" "\x8d"),
        RECEIVES_B(0, RESP_200_END("\x01")),
        FINISHED(2),
        CONV_DONE},
    WIRE_0(CLIENT_START GET_FRAME_TP("\x01", 1) GET_FRAME_TP("\x03", 0)),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", true, CONV_ROOT, "http.response.status_code=404", "error.type=404"),
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200"),
        SPANS_DONE},
};

/* the program's own traceparent, in a literal with incremental indexing
 * (then indexed from the dynamic table on the next stream): never a second */
#define OWN_TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
static const struct conversation client_own_traceparent = {
    .name = "client: a program-sent traceparent (indexed and from the dynamic table) not duplicated",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, "\x00\x00\x58\x01\x05\x00\x00\x00\x01" GET_BLOCK "\x40\x0btraceparent\x37" OWN_TP),
        SENDS_B(0, "\x00\x00\x14\x01\x05\x00\x00\x00\x03" GET_BLOCK "\xbe"),
        RECEIVES_B(0, RESP_200_END("\x01") RESP_200_END("\x03")),
        FINISHED(2),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN_OF(CLIENT_SPAN, "GET", false, CONV_NAMED, OWN_TP, "http.response.status_code=200"),
        SPAN_OF(CLIENT_SPAN, "GET", false, CONV_NAMED, OWN_TP, "http.response.status_code=200"),
        SPANS_DONE},
};

/* gRPC: headers, a message, trailers with grpc-status NOT_FOUND: the
 * client span is an error */
static const struct conversation client_grpc = {
    .name = "client: a gRPC call ending in grpc-status 5 (NOT_FOUND): an error",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, "\x00\x00\x34\x01\x04\x00\x00\x00\x01" GRPC_BLOCK "\x00\x00\x07\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x02hi",
                UNSPLIT("\x00\x00\x34\x01\x04\x00\x00\x00\x01" GRPC_BLOCK)),
        RECEIVES_B(0, "\x00\x00\x01\x01\x04\x00\x00\x00\x01" STATUS_200
                      "\x00\x00\x05\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00"
                      "\x00\x00\x0f\x01\x05\x00\x00\x00\x01" "\x00\x0bgrpc-status\x01" "5"),
        FINISHED(1),
        CONV_DONE},
    WIRE_0(CLIENT_START "\x00\x00\x79\x01\x04\x00\x00\x00\x01" GRPC_BLOCK TP_FIELD "\x00\x00\x07\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x02hi"),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "pkg.Echo/Say", true, CONV_ROOT, "rpc.system=grpc", "rpc.service=pkg.Echo", "rpc.method=Say",
             "rpc.grpc.status_code=5", "error.type=NOT_FOUND", "http.response.status_code=200", HTTP_CLIENT("8080")),
        SPANS_DONE},
};

/* RST_STREAM and GOAWAY end streams as errors */
static const struct conversation client_reset = {
    .name = "client: RST_STREAM (CANCEL) ends stream 1, GOAWAY(last 1) fails stream 3",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, GET_FRAME("\x01"), UNSPLIT(GET_FRAME("\x01"))),
        SENDS_B(0, GET_FRAME("\x03"), UNSPLIT(GET_FRAME("\x03"))),
        RECEIVES_B(0, "\x00\x00\x04\x03\x00\x00\x00\x00\x01\x00\x00\x00\x08"),
        FINISHED(1),
        RECEIVES_B(0, "\x00\x00\x08\x07\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00"),
        FINISHED(2),
        CONV_DONE},
    WIRE_0(CLIENT_START GET_FRAME_TP("\x01", 0) GET_FRAME_TP("\x03", 1)),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", true, CONV_ROOT, "error.type=CANCEL", "!http.response.status_code"),
        SPAN(CLIENT_SPAN, "GET", true, CONV_ROOT, "error.type=GOAWAY"),
        SPANS_DONE},
};

/* server: the incoming HEADERS carry a traceparent; the response's
 * END_STREAM ends the span */
#define REMOTE_TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
static const struct conversation server_get = {
    .name = "server: a stream carrying traceparent, answered by HEADERS + DATA(END_STREAM)",
    .roles = {S},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        RECEIVES_PREFACE(0, "\x00\x00\x62\x01\x05\x00\x00\x00\x01" "\x82\x86\x04\x09/a?sig=xy\x01\x0elocalhost:8080"
                      "\x00\x0btraceparent\x37" REMOTE_TP),
        SENDS_B(0, SERVER_START "\x00\x00\x01\x01\x04\x00\x00\x00\x01" "\x8e" "\x00\x00\x02\x00\x01\x00\x00\x00\x01ok"),
        FINISHED(1),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN_OF(SERVER_SPAN, "GET", true, CONV_REMOTE, REMOTE_TP, "http.request.method=GET", "url.path=/a",
                "url.query=sig=REDACTED", "server.address=localhost", "server.port=8080",
                "http.response.status_code=500", "error.type=500", "network.protocol.version=2"),
        SPANS_DONE},
};

/* server gRPC: NOT_FOUND is no server error, INTERNAL is; trailers-only */
static const struct conversation server_grpc = {
    .name = "server: gRPC trailers-only NOT_FOUND (no error) and INTERNAL (error)",
    .roles = {S},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        RECEIVES_PREFACE(0, "\x00\x00\x34\x01\x04\x00\x00\x00\x01" GRPC_BLOCK
                      "\x00\x00\x34\x01\x04\x00\x00\x00\x03" GRPC_BLOCK),
        SENDS_B(0, SERVER_START "\x00\x00\x10\x01\x05\x00\x00\x00\x01" STATUS_200 "\x00\x0bgrpc-status\x01" "5"),
        SENDS_B(0, "\x00\x00\x11\x01\x05\x00\x00\x00\x03" STATUS_200 "\x00\x0bgrpc-status\x02" "13"),
        FINISHED(2),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(SERVER_SPAN, "pkg.Echo/Say", false, CONV_ROOT, "rpc.system=grpc", "rpc.grpc.status_code=5", "!error.type"),
        SPAN(SERVER_SPAN, "pkg.Echo/Say", true, CONV_ROOT, "rpc.grpc.status_code=13", "error.type=INTERNAL"),
        SPANS_DONE},
};

/* parents: a client stream opened while one server stream is handled is
 * its child; while two are (one event-loop turn), a root */
static const struct conversation parent_one = {
    .name = "parents: a client stream while one server stream is handled: its child",
    .roles = {S, C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        RECEIVES_PREFACE(0, GET_FRAME("\x01")),
        SENDS_B(1, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(1, SERVER_START),
        SENDS_B(1, GET_FRAME("\x01"), UNSPLIT(GET_FRAME("\x01"))),
        RECEIVES_B(1, RESP_200_END("\x01")),
        SENDS_B(0, SERVER_START RESP_200_END("\x01")),
        FINISHED(2),
        CONV_DONE},
    WIRE_1(CLIENT_START GET_FRAME_TP("\x01", 0)),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, 1, "http.response.status_code=200"),
        SPAN(SERVER_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200"),
        SPANS_DONE},
};

static const struct conversation parent_many = {
    .name = "parents: a client stream while two server streams are handled (one turn): no parent",
    .roles = {S, C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        RECEIVES_PREFACE(0, GET_FRAME("\x01") GET_FRAME("\x03")),
        SENDS_B(1, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(1, SERVER_START),
        SENDS_B(1, GET_FRAME("\x01"), UNSPLIT(GET_FRAME("\x01"))),
        RECEIVES_B(1, RESP_200_END("\x01")),
        SENDS_B(0, SERVER_START RESP_200_END("\x01") RESP_200_END("\x03")),
        FINISHED(3),
        CONV_DONE},
    WIRE_1(CLIENT_START GET_FRAME_TP("\x01", 0)),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200"),
        SPAN(SERVER_SPAN, "GET", false, CONV_ROOT),
        SPAN(SERVER_SPAN, "GET", false, CONV_ROOT),
        SPANS_DONE},
};

/* the server's SETTINGS before the client's preface, in both roles: the
 * connection is claimed on that frame, the preface checked after */
static const struct conversation server_speaks_first = {
    .name = "server SETTINGS first: a client that reads before it writes, a server that writes before it reads",
    .roles = {C, S},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        RECEIVES_B(0, SETTINGS_EMPTY, UNSPLIT(SETTINGS_EMPTY)), /* claimed on a whole frame header */
        SENDS_B(0, CLIENT_START SETTINGS_ACK GET_FRAME("\x01"),
                UNSPLIT(CLIENT_START SETTINGS_ACK GET_FRAME("\x01"))),
        RECEIVES_B(0, SETTINGS_ACK RESP_200_END("\x01")),
        FINISHED(1),
        SENDS_B(1, SETTINGS_EMPTY, UNSPLIT(SETTINGS_EMPTY)),
        RECEIVES_PREFACE(1, GET_FRAME("\x01")),
        SENDS_B(1, SETTINGS_ACK RESP_200_END("\x01")),
        FINISHED(2),
        CONV_DONE},
    WIRE_0(CLIENT_START SETTINGS_ACK GET_FRAME_TP("\x01", 0)),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200"),
        SPAN(SERVER_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200"),
        SPANS_DONE},
};

/* the peer's SETTINGS_MAX_HEADER_LIST_SIZE (250) leaves no room for the
 * field (179 + 98 octets as RFC 9113 counts them): nothing added */
static const struct conversation client_header_list_limit = {
    .name = "client: the peer's MAX_HEADER_LIST_SIZE would be exceeded: nothing added, the span made",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, "\x00\x00\x06\x04\x00\x00\x00\x00\x00" "\x00\x06\x00\x00\x00\xfa" SETTINGS_ACK),
        SENDS_B(0, SETTINGS_ACK GET_FRAME("\x01")),
        RECEIVES_B(0, RESP_200_END("\x01")),
        FINISHED(1),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200"), SPANS_DONE},
};

/* the peer's SETTINGS_HEADER_TABLE_SIZE (8192) bounds the decoder of the
 * program's blocks once the program acknowledged it: its block may then
 * start with a size update to 8192 (above the default 4096, which would
 * give the connection up) */
#define GET_BLOCK_8K "\x3f\xe1\x3f" GET_BLOCK
static const struct conversation header_table_size = {
    .name = "SETTINGS_HEADER_TABLE_SIZE applies to the other direction's decoder once acknowledged",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, "\x00\x00\x06\x04\x00\x00\x00\x00\x00" "\x00\x01\x00\x00\x20\x00" SETTINGS_ACK),
        SENDS_B(0, SETTINGS_ACK "\x00\x00\x16\x01\x05\x00\x00\x00\x01" GET_BLOCK_8K,
                UNSPLIT("\x00\x00\x16\x01\x05\x00\x00\x00\x01" GET_BLOCK_8K)),
        RECEIVES_B(0, RESP_200_END("\x01")),
        FINISHED(1),
        CONV_DONE},
    WIRE_0(CLIENT_START SETTINGS_ACK "\x00\x00\x5b\x01\x05\x00\x00\x00\x01" GET_BLOCK_8K TP_FIELD),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200"), SPANS_DONE},
};

/* a server stream's tracestate goes on with its child's traceparent */
static const struct conversation tracestate_carried = {
    .name = "parents: the server stream's tracestate added after the child stream's traceparent",
    .roles = {S, C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        RECEIVES_PREFACE(0, "\x00\x00\x6d\x01\x05\x00\x00\x00\x01" GET_BLOCK "\x00\x0btraceparent\x37" REMOTE_TP
                            "\x00\x0atracestate\x08vendor=x"),
        SENDS_B(1, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(1, SERVER_START),
        SENDS_B(1, GET_FRAME("\x01"), UNSPLIT(GET_FRAME("\x01"))),
        RECEIVES_B(1, RESP_200_END("\x01")),
        SENDS_B(0, SERVER_START RESP_200_END("\x01")),
        FINISHED(2),
        CONV_DONE},
    WIRE_1(CLIENT_START "\x00\x00\x6d\x01\x05\x00\x00\x00\x01" GET_BLOCK TP_FIELD "\x00\x0atracestate\x08vendor=x"),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, 1, "http.response.status_code=200"),
        SPAN_OF(SERVER_SPAN, "GET", false, CONV_REMOTE, REMOTE_TP, "http.response.status_code=200"),
        SPANS_DONE},
};

/* not HTTP/2: a stream that starts "PRI" but is not the preface */
static const struct conversation not_preface = {
    .name = "a cleartext stream starting \"PRI\" that is not the preface: untouched, no span",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "PRIVMSG #chan :hello there, this is irc\r\n"),
        RECEIVES(0, ":server NOTICE me :ok\r\n"),
        CLOSES(0),
        CONV_DONE},
    .spans = (const struct conv_span[]){SPANS_DONE},
};

/* a block that does not decode gives the connection up: no span, and the
 * bytes that follow pass untouched */
static const struct conversation bad_block = {
    .name = "a header block HPACK cannot decode: given up, nothing added",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, "\x00\x00\x01\x01\x05\x00\x00\x00\x01\xff"),
        SENDS_B(0, GET_FRAME("\x03")),
        RECEIVES_B(0, RESP_200_END("\x03")),
        CONV_DONE},
    .spans = (const struct conv_span[]){SPANS_DONE},
};

/* ---- at the peer's MAX_FRAME_SIZE (16384): built at run time ---- */

/* a HEADERS frame of `len` payload octets: GET_BLOCK and an x-fill field */
static size_t big_headers(char *out, uint32_t len, uint32_t stream)
{
    uint32_t fill = len - GET_BLOCK_LEN - 1 - 1 - 6 - 3; /* literal, name len, "x-fill", 3-octet value length */
    size_t k = 0;
    out[k++] = (char)(len >> 16);
    out[k++] = (char)(len >> 8);
    out[k++] = (char)len;
    out[k++] = 1;
    out[k++] = 5;
    out[k++] = 0;
    out[k++] = 0;
    out[k++] = 0;
    out[k++] = (char)stream;
    memcpy(out + k, GET_BLOCK, GET_BLOCK_LEN);
    k += GET_BLOCK_LEN;
    out[k++] = 0x00;
    out[k++] = 6;
    memcpy(out + k, "x-fill", 6);
    k += 6;
    /* fill >= 127: 7-bit prefix 127, then the rest in 7-bit groups */
    uint32_t v = fill - 127;
    out[k++] = 0x7f;
    out[k++] = (char)(0x80 | (v & 0x7f));
    out[k++] = (char)(v >> 7);
    memset(out + k, 'f', fill);
    k += fill;
    return k;
}

static char big_send[17000], big_wire[17200], at_send[17000], at_wire[17200];

static size_t wire_with(char *out, const char *send, size_t n, bool continuation)
{
    size_t k = 0;
    memcpy(out, CLIENT_START, sizeof(CLIENT_START) - 1);
    k += sizeof(CLIENT_START) - 1;
    memcpy(out + k, send, n);
    if (continuation) {
        out[k + 4] = 1; /* END_HEADERS moved */
        k += n;
        memcpy(out + k, "\x00\x00\x45\x09\x04\x00\x00\x00\x01", 9);
        k += 9;
    } else {
        uint32_t len = (uint32_t)(n - 9 + TP_LEN);
        out[k] = (char)(len >> 16);
        out[k + 1] = (char)(len >> 8);
        out[k + 2] = (char)len;
        k += n;
    }
    memcpy(out + k, TP_FIELD, sizeof(TP_FIELD) - 1);
    return k + sizeof(TP_FIELD) - 1;
}

/* Upgrade: h2c (RFC 7540 §3.2): the HTTP/1 request answered 101 is stream
 * 1, its span HTTP/1's (version 1.1) ended by stream 1's HTTP/2 response;
 * the connection is HTTP/2 from the octet after the 101, whichever call
 * that octet arrives or leaves in */
#define UPGRADE_REQUEST "GET /up HTTP/1.1\r\nHost: localhost:8080\r\nConnection: Upgrade, HTTP2-Settings\r\n" \
                        "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"
#define SWITCHING "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
static const struct conversation server_upgrade = {
    .name = "server: Upgrade: h2c answered 101 (and SETTINGS in the same write): stream 1 ends the HTTP/1 span, stream 3 is HTTP/2's",
    .roles = {S},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        RECEIVES_B(0, UPGRADE_REQUEST),
        SENDS_B(0, SWITCHING SETTINGS_EMPTY),
        RECEIVES_B(0, CLIENT_START SETTINGS_ACK GET_FRAME("\x03")),
        SENDS_B(0, SETTINGS_ACK RESP_200_END("\x01")),
        FINISHED(1),
        SENDS_B(0, RESP_200_END("\x03")),
        FINISHED(2),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(SERVER_SPAN, "GET", false, CONV_ROOT, "url.path=/up", "http.response.status_code=200",
             "network.protocol.version=1.1"),
        SPAN(SERVER_SPAN, "GET", false, CONV_ROOT, "url.path=/", "http.response.status_code=200",
             "network.protocol.version=2"),
        SPANS_DONE},
};

static const struct conversation client_upgrade = {
    .name = "client: Upgrade: h2c, the 101 and the server's first frames in one read: stream 1 ends the HTTP/1 span",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, UPGRADE_REQUEST),
        RECEIVES_B(0, SWITCHING SETTINGS_EMPTY RESP_200_END("\x01")),
        FINISHED(1),
        SENDS_B(0, CLIENT_START SETTINGS_ACK GET_FRAME("\x03"), UNSPLIT(GET_FRAME("\x03"))),
        RECEIVES_B(0, RESP_200_END("\x03")),
        FINISHED(2),
        CONV_DONE},
    /* HTTP/1 injects into the upgrade request, HTTP/2 into stream 3 */
    WIRE_0("GET /up HTTP/1.1\r\nHost: localhost:8080\r\nConnection: Upgrade, HTTP2-Settings\r\n"
           "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\ntraceparent: {tp:0}\r\n\r\n"
           CLIENT_START SETTINGS_ACK GET_FRAME_TP("\x03", 1)),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200", "network.protocol.version=1.1"),
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200", "network.protocol.version=2"),
        SPANS_DONE},
};

/* a 101 to another protocol: passed through after it, as before */
static const struct conversation upgrade_other = {
    .name = "a 101 to websocket: the request ends at the 101, the rest passes through",
    .roles = {S},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        RECEIVES_B(0, "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
        SENDS_B(0, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n" SETTINGS_EMPTY),
        FINISHED(1),
        RECEIVES_B(0, CLIENT_START GET_FRAME("\x01")),
        SENDS_B(0, RESP_200_END("\x01")),
        FINISHED(1),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(SERVER_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=101"),
        SPANS_DONE},
};

/* ---- the other propagators (OTEL_PROPAGATORS b3, b3multi, jaeger) ---- */

/* REMOTE_TP's context in their forms */
#define REMOTE_B3 "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"
#define REMOTE_UBER "4bf92f3577b34da6a3ce929d0e0e4736%3A00f067aa0ba902b7%3A0%3A1"
#define B3_FIELD(v) "\x00\x02" "b3\x33" v

static const struct conversation server_b3 = {
    .name = "server, b3: the b3 field continues the trace",
    .roles = {S},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        RECEIVES_PREFACE(0, "\x00\x00\x4b\x01\x05\x00\x00\x00\x01" GET_BLOCK B3_FIELD(REMOTE_B3)),
        SENDS_B(0, SERVER_START RESP_200_END("\x01")),
        FINISHED(1),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN_OF(SERVER_SPAN, "GET", false, CONV_REMOTE, REMOTE_TP, "http.response.status_code=200"), SPANS_DONE},
};

static const struct conversation server_b3multi = {
    .name = "server, b3multi: the x-b3-* fields continue the trace",
    .roles = {S},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        RECEIVES_PREFACE(0, "\x00\x00\x70\x01\x05\x00\x00\x00\x01" GET_BLOCK
                            "\x00\x0cx-b3-traceid\x20" "4bf92f3577b34da6a3ce929d0e0e4736"
                            "\x00\x0bx-b3-spanid\x10" "00f067aa0ba902b7" "\x00\x0cx-b3-sampled\x01" "1"),
        SENDS_B(0, SERVER_START RESP_200_END("\x01")),
        FINISHED(1),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN_OF(SERVER_SPAN, "GET", false, CONV_REMOTE, REMOTE_TP, "http.response.status_code=200"), SPANS_DONE},
};

static const struct conversation client_b3_both = {
    .name = "client, tracecontext,b3,b3multi: every format added as literal fields, lowercase names, the same ids",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, SETTINGS_ACK GET_FRAME("\x01"), UNSPLIT(GET_FRAME("\x01"))),
        RECEIVES_B(0, RESP_200_END("\x01")),
        FINISHED(1),
        CONV_DONE},
    WIRE_0(CLIENT_START SETTINGS_ACK "\x00\x00\xed\x01\x05\x00\x00\x00\x01" GET_BLOCK TP_FIELD B3_FIELD("{tid:0}-{sid:0}-1")
           "\x00\x0cx-b3-traceid\x20{tid:0}" "\x00\x0bx-b3-spanid\x10{sid:0}" "\x00\x0cx-b3-sampled\x01" "1"),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200"), SPANS_DONE},
};

static const struct conversation client_own_b3 = {
    .name = "client, b3: a program that sends its own b3 field is left alone, its span joins that trace",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(0, SERVER_START),
        SENDS_B(0, SETTINGS_ACK "\x00\x00\x4b\x01\x05\x00\x00\x00\x01" GET_BLOCK B3_FIELD(REMOTE_B3)),
        RECEIVES_B(0, RESP_200_END("\x01")),
        FINISHED(1),
        CONV_DONE},
    WIRE_0(CLIENT_START SETTINGS_ACK "\x00\x00\x4b\x01\x05\x00\x00\x00\x01" GET_BLOCK B3_FIELD(REMOTE_B3)),
    .spans = (const struct conv_span[]){
        SPAN_OF(CLIENT_SPAN, "GET", false, CONV_NAMED, REMOTE_TP, "http.response.status_code=200"), SPANS_DONE},
};

/* a jaeger server stream calls out: the trace, and the baggage received as
 * uberctx-{key}, go on in jaeger's fields */
static const struct conversation nested_jaeger = {
    .name = "server, jaeger: uber-trace-id continued, uberctx baggage forwarded on the child stream",
    .roles = {S, C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        RECEIVES_PREFACE(0, "\x00\x00\x72\x01\x05\x00\x00\x00\x01" GET_BLOCK "\x00\x0duber-trace-id\x3b" REMOTE_UBER
                            "\x00\x0cuberctx-user\x05" "4%202"),
        SENDS_B(1, CLIENT_START, .unsplit = "PRI "),
        RECEIVES_B(1, SERVER_START),
        SENDS_B(1, GET_FRAME("\x01"), UNSPLIT(GET_FRAME("\x01"))),
        RECEIVES_B(1, RESP_200_END("\x01")),
        SENDS_B(0, SERVER_START RESP_200_END("\x01")),
        FINISHED(2),
        CONV_DONE},
    WIRE_1(CLIENT_START "\x00\x00\x6c\x01\x05\x00\x00\x00\x01" GET_BLOCK "\x00\x0duber-trace-id\x35{tid:0}:{sid:0}:0:1"
                        "\x00\x0cuberctx-user\x05" "4%202"),
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, 1, "http.response.status_code=200"),
        SPAN_OF(SERVER_SPAN, "GET", false, CONV_REMOTE, REMOTE_TP, "http.response.status_code=200"),
        SPANS_DONE},
};

int main(void)
{
    CONV_CHECK(server_upgrade);
    CONV_CHECK(client_upgrade);
    CONV_CHECK(upgrade_other);
    CONV_CHECK(client_get);
    CONV_CHECK(client_no_authority);
    CONV_CHECK(client_header_apart);
    CONV_CHECK(client_continuation);
    CONV_CHECK(client_padded);
    CONV_CHECK(client_two_streams);
    CONV_CHECK(client_own_traceparent);
    CONV_CHECK(client_grpc);
    CONV_CHECK(client_reset);
    CONV_CHECK(server_get);
    CONV_CHECK(server_grpc);
    CONV_CHECK(parent_one);
    CONV_CHECK(parent_many);
    CONV_CHECK(server_speaks_first);
    CONV_CHECK(client_header_list_limit);
    CONV_CHECK(tracestate_carried);
    CONV_CHECK(header_table_size);
    CONV_CHECK(not_preface);
    CONV_CHECK(bad_block);

    /* one octet too many for the frame: a CONTINUATION of its own */
    size_t n = big_headers(big_send, 16384 - TP_LEN + 1, 1);
    size_t w = wire_with(big_wire, big_send, n, true);
    struct conv_step big_steps[] = {
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "), RECEIVES_B(0, SERVER_START),
        {.conn = 0, .dir = CONV_SEND, .bytes = big_send, .len = n, .unsplit = big_send, .unsplit_len = n},
        RECEIVES_B(0, RESP_200_END("\x01")), FINISHED(1), CONV_DONE};
    const struct conv_span one_get[] = {SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, "http.response.status_code=200"),
                                        SPANS_DONE};
    struct conversation big = {
        .name = "client: HEADERS at MAX_FRAME_SIZE - 68: the field in a new CONTINUATION, END_HEADERS moved",
        .roles = {C}, .protocols = protocols, .steps = big_steps,
        .wire = {big_wire}, .wire_len = {w}, .spans = one_get, .max_k = 64};
    CONV_CHECK(big);

    /* exactly the frame's limit: patched in place */
    n = big_headers(at_send, 16384 - TP_LEN, 1);
    w = wire_with(at_wire, at_send, n, false);
    struct conv_step at_steps[] = {
        SENDS_B(0, CLIENT_START, .unsplit = "PRI "), RECEIVES_B(0, SERVER_START),
        {.conn = 0, .dir = CONV_SEND, .bytes = at_send, .len = n, .unsplit = at_send, .unsplit_len = n},
        RECEIVES_B(0, RESP_200_END("\x01")), FINISHED(1), CONV_DONE};
    struct conversation at = {
        .name = "client: HEADERS at MAX_FRAME_SIZE - 69: the field fits, the length patched to 16384",
        .roles = {C}, .protocols = protocols, .steps = at_steps,
        .wire = {at_wire}, .wire_len = {w}, .spans = one_get, .max_k = 64};
    CONV_CHECK(at);

    conv_use_propagators("b3");
    CONV_CHECK(server_b3);
    CONV_CHECK(client_own_b3);
    conv_use_propagators("b3multi");
    CONV_CHECK(server_b3multi);
    conv_use_propagators("jaeger");
    CONV_CHECK(nested_jaeger);
    conv_use_propagators("tracecontext,b3,b3multi");
    CONV_CHECK(client_b3_both);
    printf("# %ld runs\n", conv_total_runs);
    TEST_DONE();
}
