/* libFuzzer target for the Redis parsers (src/protocols/redis/): the RESP
 * command parser, the RESP2/RESP3 reply parser, db.query.text and
 * detection.
 *
 * The first input byte picks the stream (commands or replies); the rest is
 * one stream, parsed whole and in pieces whose sizes come from the stream
 * itself (1 to 16 bytes), each piece copied into a buffer of exactly its
 * size (ASan catches a read beyond it). Both runs must report the same
 * events at the same offsets with the same summaries (commands: name,
 * argument count, first argument; replies: type, error, null, head, last
 * integer): the parsers are incremental, so where the stream is cut must
 * not change what they see. Checked on every call: a parser consumes at
 * most what it was given, and all of it unless it reports an event; after
 * ERROR the stream is dead. Every command's db.query.text is NUL-terminated
 * printable ASCII within its bound, and the same when written from the facts
 * a span records. Detection is checked on every prefix
 * of the stream: a prefix of a start it accepts is accepted too (a client
 * may send less in its first write). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/redis/redis_commands.h"
#include "protocols/redis/resp_command.h"
#include "protocols/redis/resp_reply.h"

#define MAX_EVENTS 4096

struct trace {
    size_t n;
    uint8_t ev[MAX_EVENTS];
    size_t at[MAX_EVENTS];
    uint64_t digest[MAX_EVENTS];
};

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_redis: %s\n", what);
    abort();
}

static uint64_t digest_bytes(uint64_t d, const void *bytes, size_t n)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++)
        d = (d ^ b[i]) * 0x100000001b3ull;
    return d;
}

static uint64_t command_digest(const struct oa_resp_command *c)
{
    uint64_t d = 0xcbf29ce484222325ull;
    uint64_t nums[] = {c->name_len, c->name_unusable, c->argc, c->arg1_len};
    d = digest_bytes(d, nums, sizeof(nums));
    if (!c->name_unusable)
        d = digest_bytes(d, c->name, c->name_len);
    size_t a = c->arg1_len < OA_RESP_ARG1_MAX ? c->arg1_len : OA_RESP_ARG1_MAX;
    return digest_bytes(d, c->arg1, a);
}

static uint64_t reply_digest(const struct oa_resp_reply *r)
{
    uint64_t d = 0xcbf29ce484222325ull;
    int64_t nums[] = {r->type, r->is_error, r->is_null, r->has_int, r->head_len, r->has_int ? r->last_int : 0};
    d = digest_bytes(d, nums, sizeof(nums));
    if (r->head_len > OA_RESP_HEAD_MAX)
        fail("head beyond its bound");
    return digest_bytes(d, r->head, r->head_len);
}

static void record(struct trace *t, uint8_t ev, size_t at, uint64_t digest)
{
    if (t->n == MAX_EVENTS)
        return;
    t->ev[t->n] = ev;
    t->at[t->n] = at;
    t->digest[t->n] = digest;
    t->n++;
}

static void check_query_text(const struct oa_resp_command *c)
{
    char text[OA_REDIS_TEXT_MAX];
    size_t n = oa_redis_query_text(c, text, sizeof(text));
    if (n >= sizeof(text) || text[n] != '\0' || strlen(text) != n)
        fail("db.query.text not terminated within its bound");
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
            fail("db.query.text not printable ASCII");
    }
    /* the same text in two steps: the facts recorded, the text written
     * from them where the span is built */
    if (c->name_unusable)
        return;
    const char *key;
    size_t key_len;
    uint32_t args = oa_redis_query_facts(c, oa_redis_command_flags(c->name, c->name_len), &key, &key_len);
    char built[OA_REDIS_TEXT_MAX];
    size_t m = oa_db_command_text(c->name, c->name_len, key, key_len, args, built, sizeof(built));
    if (m != n || memcmp(built, text, n + 1) != 0)
        fail("db.query.text written from the recorded facts differs");
}

struct parsers {
    bool replies;
    struct oa_resp_command_parser cmd;
    struct oa_resp_reply_parser reply;
};

/* Feeds one piece; false once the stream is dead. */
static bool feed_piece(struct parsers *p, const uint8_t *src, size_t len, size_t *offset, struct trace *t)
{
    char *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    memcpy(buf, src, len);
    const char *cur = buf;
    size_t left = len;
    bool alive = true;
    while (left > 0) {
        size_t used = 0;
        int ev;
        uint64_t digest = 0;
        if (p->replies) {
            ev = oa_resp_reply_feed(&p->reply, cur, left, &used);
            if (ev == OA_RESP_REPLY_DONE)
                digest = reply_digest(&p->reply.reply);
            if (p->reply.depth > OA_RESP_MAX_DEPTH || p->reply.attributes > p->reply.depth)
                fail("frames beyond their bound");
        } else {
            ev = oa_resp_command_feed(&p->cmd, cur, left, &used);
            if (ev == OA_RESP_CMD_DONE) {
                digest = command_digest(&p->cmd.cmd);
                check_query_text(&p->cmd.cmd);
            }
        }
        if (used > left)
            fail("consumed more bytes than given");
        if (used < left && ev == 0)
            fail("NEED_MORE with bytes left");
        if (used == 0 && ev != 2)
            fail("an event without consuming a byte");
        cur += used;
        left -= used;
        *offset += used;
        if (ev != 0)
            record(t, (uint8_t)ev, *offset, digest);
        if (ev == 2) {
            alive = false;
            break;
        }
    }
    free(buf);
    return alive;
}

static void run(bool replies, const uint8_t *data, size_t size, bool pieces, struct trace *t)
{
    static struct parsers p;
    memset(&p, 0, sizeof(p));
    p.replies = replies;
    oa_resp_command_init(&p.cmd);
    oa_resp_reply_init(&p.reply);
    size_t offset = 0, pos = 0;
    t->n = 0;
    while (pos < size) {
        size_t len = pieces ? (size_t)(data[pos] % 16) + 1 : size - pos;
        if (len > size - pos)
            len = size - pos;
        if (!feed_piece(&p, data + pos, len, &offset, t))
            break;
        pos += len;
    }
}

static void check_detection(const uint8_t *data, size_t size)
{
    size_t n = size < 64 ? size : 64;
    bool longer = false;
    for (size_t k = n; k > 0; k--) {
        unsigned char *b = malloc(k);
        if (!b)
            abort();
        memcpy(b, data, k);
        bool yes = oa_resp_command_starts(b, k, oa_redis_command_begins);
        free(b);
        if (longer && !yes)
            fail("detection refuses a prefix of a start it accepts");
        longer = yes;
    }
}

static struct trace whole, split;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool replies = data[0] & 1;
    data++;
    size--;
    run(replies, data, size, false, &whole);
    run(replies, data, size, true, &split);
    if (whole.n != split.n)
        fail("whole and split runs report different event counts");
    for (size_t i = 0; i < whole.n; i++) {
        if (whole.ev[i] != split.ev[i] || whole.at[i] != split.at[i] || whole.digest[i] != split.digest[i])
            fail("whole and split runs differ");
    }
    if (!replies)
        check_detection(data, size);
    return 0;
}
