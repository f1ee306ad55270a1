/* Redis client connections (src/protocols/redis/) as conversations
 * (conversation.h): commands sent, replies received, the spans they must
 * give, played whole, split at every byte and against partial writes
 * through the real wire layer (a byte at a time too). */
#include <errno.h>
#include <stdio.h>

#include "conversation.h"
#include "oa_test.h"
#include "protocols/http1/http_exchange.h"
#include "protocols/redis/redis_exchange.h"

#define C OA_ROLE_CLIENT
#define CLIENT_SPAN OA_SPAN_KIND_CLIENT

/* what the life cycle registers, in its order */
static const struct oa_protocol *const protocols[] = {&oa_http1_protocol, &oa_redis_protocol, NULL};

#define REDIS "db.system.name=redis", "server.address=10.0.0.1", "server.port=8080"

static const struct conversation single = {
    .name = "one command, one reply; the value never shown",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*3\r\n$3\r\nSET\r\n$6\r\nuser:1\r\n$6\r\nsecret\r\n"),
        RECEIVES(0, "+OK\r\n"),
        FINISHED(1), /* at its reply, not at the close */
        CLOSES(0),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "SET", false, CONV_ROOT, REDIS, "db.operation.name=SET", "db.query.text=SET user:1 ?",
             "db.namespace=0", "!error.type", "!db.response.status_code"),
        SPANS_DONE},
};

static const struct conversation pipeline = {
    .name = "a pipeline of 3 in one write, the replies in one read, matched in order",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*3\r\n$3\r\nset\r\n$1\r\na\r\n$5\r\nhello\r\n*2\r\n$3\r\nget\r\n$1\r\na\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"),
        RECEIVES(0, "+OK\r\n$5\r\nhello\r\n:7\r\n"),
        FINISHED(3),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "SET", false, CONV_ROOT, REDIS, "db.query.text=SET a ?"),
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, REDIS, "db.query.text=GET a"),
        SPAN(CLIENT_SPAN, "INCR", false, CONV_ROOT, REDIS, "db.query.text=INCR n"),
        SPANS_DONE},
};

static const struct conversation error_reply = {
    .name = "error replies: the error's first word is the status code and error.type",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*3\r\n$5\r\nLPUSH\r\n$1\r\ns\r\n$1\r\nx\r\n"),
        RECEIVES(0, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        SENDS(0, "*1\r\n$4\r\nNOPE\r\n"),
        RECEIVES(0, "-ERR unknown command 'NOPE', with args beginning with: \r\n"),
        SENDS(0, "*1\r\n$4\r\nPING\r\n"),
        RECEIVES(0, "+PONG\r\n"),
        FINISHED(3),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "LPUSH", true, CONV_ROOT, REDIS, "db.response.status_code=WRONGTYPE", "error.type=WRONGTYPE"),
        SPAN(CLIENT_SPAN, "NOPE", true, CONV_ROOT, REDIS, "db.operation.name=NOPE", "db.query.text=NOPE",
             "db.response.status_code=ERR", "error.type=ERR"),
        SPAN(CLIENT_SPAN, "PING", false, CONV_ROOT, REDIS, "!error.type"),
        SPANS_DONE},
};

static const struct conversation nested_and_nulls = {
    .name = "a nested array reply, a null bulk string, a null array",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*4\r\n$6\r\nXRANGE\r\n$1\r\nx\r\n$1\r\n-\r\n$1\r\n+\r\n"),
        RECEIVES(0, "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-0\r\n*0\r\n"),
        SENDS(0, "*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n1\r\n"),
        RECEIVES(0, "$-1\r\n*-1\r\n"),
        FINISHED(3),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "XRANGE", false, CONV_ROOT, REDIS, "db.query.text=XRANGE x ? ?"),
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, REDIS, "db.query.text=GET missing"),
        SPAN(CLIENT_SPAN, "BLPOP", false, CONV_ROOT, REDIS, "db.query.text=BLPOP q ?"),
        SPANS_DONE},
};

static const struct conversation resp3 = {
    .name = "HELLO 3: maps, sets, doubles, verbatim strings, blob errors; pushes answer nothing",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$6\r\nsesame\r\n"),
        RECEIVES(0, "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n"),
        SENDS(0, "*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n*2\r\n$8\r\nSMEMBERS\r\n$1\r\ns\r\n"),
        /* a push before the first reply, another between the two */
        RECEIVES(0, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n%1\r\n$1\r\nf\r\n,3.5\r\n"
                    ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n~2\r\n#t\r\n(12345678901234567890\r\n"),
        SENDS(0, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n*1\r\n$4\r\nOOPS\r\n"),
        RECEIVES(0, "_\r\n=15\r\ntxt:hello world\r\n!13\r\nSYNTAX broken\r\n"),
        FINISHED(6),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "HELLO", false, CONV_ROOT, REDIS, "db.query.text=HELLO"),
        SPAN(CLIENT_SPAN, "HGETALL", false, CONV_ROOT, REDIS, "db.query.text=HGETALL h"),
        SPAN(CLIENT_SPAN, "SMEMBERS", false, CONV_ROOT, REDIS, "db.query.text=SMEMBERS s"),
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, REDIS, "db.query.text=GET k"),
        SPAN(CLIENT_SPAN, "INFO", false, CONV_ROOT, REDIS, "db.query.text=INFO server"),
        SPAN(CLIENT_SPAN, "OOPS", true, CONV_ROOT, REDIS, "db.response.status_code=SYNTAX", "error.type=SYNTAX"),
        SPANS_DONE},
};

static const struct conversation transaction = {
    .name = "MULTI, queued commands, EXEC: each its own span",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*1\r\n$5\r\nMULTI\r\n"),
        RECEIVES(0, "+OK\r\n"),
        SENDS(0, "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"),
        RECEIVES(0, "+QUEUED\r\n"),
        SENDS(0, "*2\r\n$4\r\nINCR\r\n$1\r\na\r\n"),
        RECEIVES(0, "+QUEUED\r\n"),
        SENDS(0, "*1\r\n$4\r\nEXEC\r\n"),
        RECEIVES(0, "*2\r\n+OK\r\n:2\r\n"),
        FINISHED(4),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "MULTI", false, CONV_ROOT, REDIS, "db.query.text=MULTI"),
        SPAN(CLIENT_SPAN, "SET", false, CONV_ROOT, REDIS, "db.query.text=SET a ?"),
        SPAN(CLIENT_SPAN, "INCR", false, CONV_ROOT, REDIS, "db.query.text=INCR a"),
        SPAN(CLIENT_SPAN, "EXEC", false, CONV_ROOT, REDIS, "db.query.text=EXEC"),
        SPANS_DONE},
};

#define CONFIRM(kind, ch, n) "*3\r\n$" #kind "\r\n" ch ":" #n "\r\n"

static const struct conversation subscriber = {
    .name = "RESP2 SUBSCRIBE to 2 channels: confirmations and messages are no replies; after the last UNSUBSCRIBE an "
            "array starting with \"message\" is one",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n"),
        RECEIVES(0, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"),
        FINISHED(1),
        RECEIVES(0, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$3\r\nbye\r\n"),
        SENDS(0, "*1\r\n$4\r\nPING\r\n"),
        RECEIVES(0, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n"),
        SENDS(0, "*1\r\n$11\r\nUNSUBSCRIBE\r\n"),
        RECEIVES(0, "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"),
        SENDS(0, "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n"),
        RECEIVES(0, "*2\r\n$7\r\nmessage\r\n$1\r\nz\r\n"),
        FINISHED(4),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "SUBSCRIBE", false, CONV_ROOT, REDIS, "db.query.text=SUBSCRIBE a ?"),
        SPAN(CLIENT_SPAN, "PING", false, CONV_ROOT, REDIS),
        SPAN(CLIENT_SPAN, "UNSUBSCRIBE", false, CONV_ROOT, REDIS, "db.query.text=UNSUBSCRIBE"),
        SPAN(CLIENT_SPAN, "LRANGE", false, CONV_ROOT, REDIS, "db.query.text=LRANGE l ? ?"),
        SPANS_DONE},
};

static const struct conversation attributes = {
    .name = "RESP3 attributes before a reply and inside one are not part of it",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n*2\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n"),
        RECEIVES(0, "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n$5\r\nhello\r\n"
                    "|1\r\n+k\r\n+v\r\n-ERR bad\r\n"
                    "*2\r\n|1\r\n+ttl\r\n:3\r\n$1\r\nx\r\n$1\r\ny\r\n"),
        FINISHED(3),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, REDIS, "!error.type"),
        SPAN(CLIENT_SPAN, "GET", true, CONV_ROOT, REDIS, "error.type=ERR"),
        SPAN(CLIENT_SPAN, "LRANGE", false, CONV_ROOT, REDIS, "!error.type"),
        SPANS_DONE},
};

static const struct conversation select_db = {
    .name = "SELECT: its index is db.namespace of itself and later commands; a failed one is undone",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
        RECEIVES(0, "+OK\r\n$-1\r\n"),
        SENDS(0, "*2\r\n$6\r\nSELECT\r\n$3\r\n999\r\n"),
        RECEIVES(0, "-ERR DB index is out of range\r\n"),
        SENDS(0, "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n"),
        RECEIVES(0, ":0\r\n"),
        FINISHED(4),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT, REDIS, "db.namespace=2", "db.query.text=SELECT 2"),
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, REDIS, "db.namespace=2"),
        SPAN(CLIENT_SPAN, "SELECT", true, CONV_ROOT, REDIS, "db.namespace=999", "error.type=ERR"),
        SPAN(CLIENT_SPAN, "DEL", false, CONV_ROOT, REDIS, "db.namespace=2"),
        SPANS_DONE},
};

static const struct conversation secrets = {
    .name = "AUTH shows its name alone; ECHO's message is masked; binary keys are a ?",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n$6\r\nsesame\r\n"),
        RECEIVES(0, "+OK\r\n"),
        SENDS(0, "*2\r\n$4\r\nECHO\r\n$6\r\nprivet\r\n*3\r\n$3\r\nSET\r\n$3\r\na b\r\n$1\r\nv\r\n"),
        RECEIVES(0, "$6\r\nprivet\r\n+OK\r\n"),
        FINISHED(3),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "AUTH", false, CONV_ROOT, REDIS, "db.query.text=AUTH"),
        SPAN(CLIENT_SPAN, "ECHO", false, CONV_ROOT, REDIS, "db.query.text=ECHO ?"),
        SPAN(CLIENT_SPAN, "SET", false, CONV_ROOT, REDIS, "db.query.text=SET ? ?"),
        SPANS_DONE},
};

/* keys of 8 bytes and more are checked a word at a time: a space, DEL
 * (0x7f) or a byte above 0x7f anywhere in a word masks the key */
static const struct conversation long_keys = {
    .name = "long keys: shown when printable without spaces, masked by a space, DEL or a high byte in any word",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*2\r\n$3\r\nGET\r\n$17\r\nkey:0000000012345\r\n"
                 "*2\r\n$3\r\nGET\r\n$16\r\nkey:000000 00123\r\n"
                 "*2\r\n$3\r\nGET\r\n$13\r\nkey:00\x7f""000000\r\n"
                 "*2\r\n$3\r\nGET\r\n$17\r\nkey:0000000\xc3\xa9""0012\r\n"
                 "*2\r\n$3\r\nGET\r\n$8\r\n~!azAZ09\r\n"),
        RECEIVES(0, "$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
        FINISHED(5),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, REDIS, "db.query.text=GET key:0000000012345"),
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, REDIS, "db.query.text=GET ?"),
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, REDIS, "db.query.text=GET ?"),
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, REDIS, "db.query.text=GET ?"),
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, REDIS, "db.query.text=GET ~!azAZ09"),
        SPANS_DONE},
};

static const struct conversation closed_early = {
    .name = "the server closes with a command pending: its span fails",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"),
        PEER_CLOSES(0),
        FINISHED(1),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", true, CONV_ROOT, REDIS, "error.type=connection_closed"),
        SPANS_DONE},
};

static const struct conversation out_of_step = {
    .name = "a reply with no command waiting: given up, the earlier span kept, no more spans",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"),
        RECEIVES(0, "$1\r\nx\r\n+OK\r\n"),
        SENDS(0, "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n"),
        RECEIVES(0, "$1\r\ny\r\n"),
        CLOSES(0),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "GET", false, CONV_ROOT, REDIS, "db.query.text=GET a"),
        SPANS_DONE},
};

static const struct conversation not_redis = {
    .name = "an unknown first command, an inline command: not Redis, passed through",
    .roles = {C, C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*2\r\n$5\r\nHELLX\r\n$1\r\n3\r\n"),
        RECEIVES(0, "+OK\r\n"),
        SENDS(1, "PING\r\n"),
        RECEIVES(1, "+PONG\r\n"),
        CLOSES(0),
        CLOSES(1),
        CONV_DONE},
};

static const struct conversation monitor = {
    .name = "MONITOR: its +OK ends its span, then the connection is given up (events are no replies)",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*1\r\n$7\r\nMONITOR\r\n"),
        RECEIVES(0, "+OK\r\n+1700000000.000000 [0 127.0.0.1:1] \"GET\" \"k\"\r\n"),
        SENDS(0, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
        RECEIVES(0, "$-1\r\n"),
        CLOSES(0),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "MONITOR", false, CONV_ROOT, REDIS),
        SPANS_DONE},
};

static const struct conversation client_reply = {
    .name = "CLIENT REPLY (replies suppressed) and a subscribe inside MULTI give the connection up",
    .roles = {C, C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*2\r\n$4\r\nPING\r\n$1\r\na\r\n"),
        RECEIVES(0, "$1\r\na\r\n"),
        SENDS(0, "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n*1\r\n$4\r\nPING\r\n"),
        SENDS(1, "*1\r\n$5\r\nMULTI\r\n"),
        RECEIVES(1, "+OK\r\n"),
        SENDS(1, "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\n"),
        RECEIVES(1, "+QUEUED\r\n"),
        CLOSES(0),
        CLOSES(1),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "PING", false, CONV_ROOT, REDIS, "db.query.text=PING ?"),
        SPAN(CLIENT_SPAN, "MULTI", false, CONV_ROOT, "db.system.name=redis", "server.address=10.0.0.2"),
        SPANS_DONE},
};

/* 65 GETs in one write: one more than the FIFO holds */
#define GET8 "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" \
             "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" \
             "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
#define NIL8 "$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"

static const struct conversation too_deep = {
    .name = "a pipeline deeper than 64: given up, nothing exported, the bytes untouched",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, GET8 GET8 GET8 GET8 GET8 GET8 GET8 GET8 "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
        RECEIVES(0, NIL8 NIL8 NIL8 NIL8 NIL8 NIL8 NIL8 NIL8 "$-1\r\n"),
        CLOSES(0),
        CONV_DONE},
    .max_k = 64,
};

static const struct conversation reset_and_shards = {
    .name = "sharded and plain subscriptions counted apart; RESET ends subscriber mode and the namespace",
    .roles = {C},
    .protocols = protocols,
    .steps = (const struct conv_step[]){
        SENDS(0, "*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n*2\r\n$10\r\nSSUBSCRIBE\r\n$1\r\ns\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\n"),
        RECEIVES(0, "+OK\r\n*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"),
        SENDS(0, "*2\r\n$11\r\nUNSUBSCRIBE\r\n$1\r\nc\r\n"),
        /* no plain subscription left, a sharded one still: smessage is a push */
        RECEIVES(0, "*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nm\r\n"),
        SENDS(0, "*1\r\n$5\r\nRESET\r\n"),
        RECEIVES(0, "+RESET\r\n"),
        SENDS(0, "*2\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n"),
        RECEIVES(0, "*2\r\n$8\r\nsmessage\r\n$1\r\nz\r\n"),
        FINISHED(6),
        CONV_DONE},
    .spans = (const struct conv_span[]){
        SPAN(CLIENT_SPAN, "SELECT", false, CONV_ROOT, REDIS, "db.namespace=5"),
        SPAN(CLIENT_SPAN, "SSUBSCRIBE", false, CONV_ROOT, REDIS, "db.namespace=5"),
        SPAN(CLIENT_SPAN, "SUBSCRIBE", false, CONV_ROOT, REDIS, "db.namespace=5"),
        SPAN(CLIENT_SPAN, "UNSUBSCRIBE", false, CONV_ROOT, REDIS, "db.namespace=5"),
        SPAN(CLIENT_SPAN, "RESET", false, CONV_ROOT, REDIS, "db.namespace=5"),
        SPAN(CLIENT_SPAN, "LRANGE", false, CONV_ROOT, REDIS, "db.namespace=0", "!error.type"),
        SPANS_DONE},
};

int main(void)
{
    const struct conversation *all[] = {
        &single,     &pipeline,  &error_reply, &nested_and_nulls, &resp3,        &transaction, &subscriber,
        &attributes, &select_db, &secrets, &long_keys,     &closed_early,     &out_of_step, &not_redis,   &monitor,
        &client_reply, &too_deep, &reset_and_shards,
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        CONV_CHECK(*all[i]);
    printf("# %ld runs\n", conv_total_runs);
    TEST_DONE();
}
