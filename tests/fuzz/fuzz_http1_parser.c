/* libFuzzer target for the incremental HTTP/1 parser.
 *
 * The first input byte picks the direction (requests or responses) and the
 * mode (FULL or LIGHT); the rest is one stream. It is parsed twice in that
 * mode: whole, and in pieces whose sizes come
 * from the stream itself (1 to 16 bytes). Both runs must report the same
 * events at the same stream offsets with the same parsed heads: the parser is
 * incremental, so where a stream is cut must not change what it sees (and a
 * head that arrives whole takes its one-pass path, one in pieces the general
 * path). The parser's own contract is
 * checked on every call: it consumes at most what it was given, and consumes
 * nothing only together with an event. A run stops at the first ERROR or
 * NOT_HTTP (the stream is dead after that). ASan catches any read outside
 * the given bytes: each piece is copied into a buffer of exactly its size.
 * Across modes: LIGHT checks a subset of what FULL checks, so parsed whole in
 * each, LIGHT reports the same events at the same offsets (and statuses) as
 * FULL up to FULL's first ERROR, if any, and at each of them what the
 * program's threads read of the head is the same: start line, framing, and
 * the headers of enum oa_http1_known (in order, with their counts and first
 * ones). After FULL's first ERROR LIGHT may go on: it does not check lines
 * that cannot be a header the shim reads, nor their values.
 * A third bit of the first byte parses requests set oa_http1_without_head_end
 * (a server's): then every event but HEAD_END_NEXT, at the same offsets with
 * the same heads, as a default parser reports them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http1/http1_parser.h"

#define MAX_EVENTS 4096

struct trace {
    size_t n;
    uint8_t ev[MAX_EVENTS];
    size_t at[MAX_EVENTS];
    int status[MAX_EVENTS];   /* responses: the status of each HEAD_DONE */
    uint64_t head[MAX_EVENTS]; /* a digest of the parsed head at each head event */
    uint64_t known[MAX_EVENTS]; /* a digest of what the shim reads of it */
};

/* FNV-1a over bytes (the fields of a head). */
static uint64_t digest_bytes(uint64_t d, const void *bytes, size_t n)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++)
        d = (d ^ b[i]) * 0x100000001b3ull;
    return d;
}

/* What the program's threads read of a head, the same in both modes. */
static uint64_t known_digest(const struct oa_http1_head *h)
{
    uint64_t d = 0xcbf29ce484222325ull;
    uint64_t nums[] = { h->method_len, h->target_len, (uint64_t)h->status, (uint64_t)h->version_minor,
                        h->chunked, h->has_content_length, h->content_length, h->connection_close };
    d = digest_bytes(d, nums, sizeof(nums));
    if (h->method_len)
        d = digest_bytes(d, h->method, h->method_len);
    if (h->target_len)
        d = digest_bytes(d, h->target, h->target_len);
    for (size_t i = 0; i < h->n_headers && i < OA_HTTP1_MAX_HEADERS; i++) {
        if (h->known[i] == OA_HTTP1_H_OTHER)
            continue;
        struct oa_http1_header f = oa_http1_header_at(h, i);
        d = digest_bytes(d, &h->known[i], 1);
        d = digest_bytes(d, &f.value_len, sizeof(f.value_len));
        d = digest_bytes(d, f.value, f.value_len);
    }
    d = digest_bytes(d, h->known_count, sizeof(h->known_count));
    for (int id = 0; id < OA_HTTP1_H_KNOWN_N; id++) {
        const struct oa_http1_header *f = oa_http1_find_known(h, (enum oa_http1_known)id, NULL);
        if (f != NULL) {
            d = digest_bytes(d, f->name, f->name_len);
            d = digest_bytes(d, f->value, f->value_len);
        }
    }
    return d;
}

/* FNV-1a over every field of a head, so that a head parsed whole (one pass)
 * and in pieces (the general path) must agree on every field. */
static uint64_t head_digest(const struct oa_http1_head *h)
{
    uint64_t d = known_digest(h);
    d = digest_bytes(d, &h->n_headers, sizeof(h->n_headers));
    for (size_t i = 0; i < h->n_headers && i < OA_HTTP1_MAX_HEADERS; i++) {
        struct oa_http1_header f = oa_http1_header_at(h, i);
        d = digest_bytes(d, &f.name_len, sizeof(f.name_len));
        d = digest_bytes(d, f.name, f.name_len);
        d = digest_bytes(d, &f.value_len, sizeof(f.value_len));
        d = digest_bytes(d, f.value, f.value_len);
        d = digest_bytes(d, &h->known[i], 1);
    }
    return d;
}

static void record(struct trace *t, enum oa_http1_event ev, size_t at,
                   const struct oa_http1_parser *p)
{
    if (t->n == MAX_EVENTS)
        return;
    t->ev[t->n] = (uint8_t)ev;
    t->at[t->n] = at;
    t->status[t->n] = ev == OA_HTTP1_HEAD_DONE ? oa_http1_head(p)->status : 0;
    t->head[t->n] = ev == OA_HTTP1_HEAD_DONE || ev == OA_HTTP1_HEAD_END_NEXT ? head_digest(oa_http1_head(p)) : 0;
    t->known[t->n] = ev == OA_HTTP1_HEAD_DONE || ev == OA_HTTP1_HEAD_END_NEXT ? known_digest(oa_http1_head(p)) : 0;
    t->n++;
}

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_http1_parser: %s\n", what);
    abort();
}

/* Feeds one piece; returns false once the stream is dead. */
static bool feed_piece(struct oa_http1_parser *p, const uint8_t *src, size_t len, size_t *offset,
                       struct trace *t)
{
    char *buf = malloc(len ? len : 1);
    const char *cur = buf;
    size_t left = len;
    unsigned zero_rounds = 0;
    bool alive = true;

    if (!buf)
        abort();
    memcpy(buf, src, len);
    while (left > 0) {
        enum oa_http1_event ev = OA_HTTP1_NEED_MORE;
        size_t n = oa_http1_feed(p, cur, left, &ev);

        if (n > left)
            fail("consumed more bytes than given");
        if (n == 0 && ev == OA_HTTP1_NEED_MORE)
            fail("consumed nothing and reported nothing");
        /* A parser that keeps reporting events without consuming would
         * spin forever in the documented loop. */
        zero_rounds = n == 0 ? zero_rounds + 1 : 0;
        if (zero_rounds > 4)
            fail("reported events without consuming input, again and again");
        cur += n;
        left -= n;
        *offset += n;
        if (ev != OA_HTTP1_NEED_MORE)
            record(t, ev, *offset, p);
        if (ev == OA_HTTP1_HEAD_DONE) {
            const struct oa_http1_head *h = oa_http1_head(p);
            if (h->n_headers > OA_HTTP1_MAX_HEADERS)
                fail("more headers than the bound");
            for (size_t i = 0; i < h->n_headers; i++) {
                /* every header must point into memory ASan lets us read */
                volatile char c = 0;
                struct oa_http1_header f = oa_http1_header_at(h, i);
                if (f.name_len)
                    c ^= f.name[f.name_len - 1];
                if (f.value_len)
                    c ^= f.value[f.value_len - 1];
                (void)c;
            }
        }
        if (ev == OA_HTTP1_ERROR || ev == OA_HTTP1_NOT_HTTP) {
            alive = false;
            break;
        }
    }
    free(buf);
    return alive;
}

/* the runs' parsers are set oa_http1_without_head_end */
static bool without_head_end;

static void run(enum oa_http1_direction dir, enum oa_http1_mode mode, const uint8_t *data, size_t size,
                bool pieces, struct trace *t)
{
    struct oa_http1_parser p;
    size_t offset = 0;
    size_t pos = 0;

    oa_http1_init_mode(&p, dir, mode);
    if (without_head_end)
        oa_http1_without_head_end(&p);
    while (pos < size) {
        size_t len = pieces ? (size_t)(data[pos] % 16) + 1 : size - pos;
        if (len > size - pos)
            len = size - pos;
        if (!feed_piece(&p, data + pos, len, &offset, t))
            break;
        pos += len;
    }
    if (pos >= size) {
        enum oa_http1_event ev = oa_http1_eof(&p);
        if (ev != OA_HTTP1_NEED_MORE)
            record(t, ev, offset, &p);
    }
    oa_http1_release(&p);
}

static struct trace whole, split, other, plain;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum oa_http1_direction dir;
    enum oa_http1_mode mode;

    if (size < 1)
        return 0;
    dir = data[0] & 1 ? OA_HTTP1_RESPONSES : OA_HTTP1_REQUESTS;
    mode = data[0] & 2 ? OA_HTTP1_LIGHT : OA_HTTP1_FULL;
    without_head_end = (data[0] & 4) != 0;
    data++;
    size--;
    whole.n = 0;
    split.n = 0;
    other.n = 0;
    run(dir, mode, data, size, false, &whole);
    run(dir, mode, data, size, true, &split);
    run(dir, mode == OA_HTTP1_FULL ? OA_HTTP1_LIGHT : OA_HTTP1_FULL, data, size, false, &other);
    const struct trace *full = mode == OA_HTTP1_FULL ? &whole : &other;
    const struct trace *light = mode == OA_HTTP1_FULL ? &other : &whole;
    for (size_t i = 0; i < full->n && full->ev[i] != OA_HTTP1_ERROR; i++) {
        if (i >= light->n || full->ev[i] != light->ev[i] || full->at[i] != light->at[i] ||
            full->status[i] != light->status[i] || full->known[i] != light->known[i])
            fail("LIGHT differs from FULL before FULL's first error");
    }
    if (whole.n != split.n)
        fail("different number of events whole and in pieces");
    for (size_t i = 0; i < whole.n; i++) {
        if (whole.ev[i] != split.ev[i] || whole.at[i] != split.at[i] ||
            whole.status[i] != split.status[i] || whole.head[i] != split.head[i])
            fail("different events whole and in pieces");
    }
    if (without_head_end) {
        without_head_end = false;
        plain.n = 0;
        run(dir, mode, data, size, false, &plain);
        size_t k = 0;
        for (size_t i = 0; i < plain.n; i++) {
            if (plain.ev[i] == OA_HTTP1_HEAD_END_NEXT)
                continue;
            if (k == whole.n && whole.n == MAX_EVENTS)
                break; /* as many as a trace holds */
            if (k >= whole.n || whole.ev[k] != plain.ev[i] || whole.at[k] != plain.at[i] ||
                whole.status[k] != plain.status[i] || whole.head[k] != plain.head[i])
                fail("without HEAD_END_NEXT: other events than a default parser's");
            k++;
        }
        /* a default parser's trace, with its HEAD_END_NEXTs, may be the one
         * cut short */
        if (k != whole.n && plain.n < MAX_EVENTS)
            fail("without HEAD_END_NEXT: more events than a default parser's");
    }
    return 0;
}
