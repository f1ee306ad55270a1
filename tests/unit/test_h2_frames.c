/* The HTTP/2 frame layer's header blocks (src/protocols/http2/h2_frames.c):
 * the same block whether it comes whole, cut anywhere, padded, with a
 * priority or in CONTINUATION frames; a block that comes whole in one
 * frame of one feed is read where it lies (not copied), any other from the
 * reader's copy. */
#include <string.h>

#include "protocols/http2/h2_frames.h"
#include "oa_test.h"

struct seen {
    int blocks;
    uint8_t bytes[256];
    size_t len;
    uint32_t stream;
    bool end_stream;
    const uint8_t *at; /* where the block was handed over */
};

static bool on_block(void *arg, const struct oa_h2_block *b)
{
    struct seen *s = arg;
    s->blocks++;
    s->len = b->len < sizeof(s->bytes) ? b->len : sizeof(s->bytes);
    memcpy(s->bytes, b->bytes, s->len);
    s->stream = b->stream;
    s->end_stream = b->end_stream;
    s->at = b->bytes;
    return true;
}

static bool on_data_end(void *arg, uint32_t stream, bool end_stream)
{
    (void)arg, (void)stream, (void)end_stream;
    return true;
}

static bool on_rst(void *arg, uint32_t stream, uint32_t code)
{
    (void)arg, (void)stream, (void)code;
    return true;
}

static bool on_setting(void *arg, uint16_t id, uint32_t value)
{
    (void)arg, (void)id, (void)value;
    return true;
}

static bool on_settings_end(void *arg, bool ack)
{
    (void)arg, (void)ack;
    return true;
}

static const struct oa_h2_events events = {
    .block = on_block,
    .data_end = on_data_end,
    .rst_stream = on_rst,
    .goaway = on_rst,
    .setting = on_setting,
    .settings_end = on_settings_end,
};

#define BLOCK "\x82\x86\x84\x01\x09" "127.0.0.1"
#define BLOCK_LEN (sizeof(BLOCK) - 1)

/* HEADERS (END_STREAM, END_HEADERS) of stream 3 carrying BLOCK */
static const uint8_t plain[] = "\x00\x00\x0e\x01\x05\x00\x00\x00\x03" BLOCK;
/* the same padded (2 octets) with a priority */
static const uint8_t padded[] = "\x00\x00\x16\x01\x2d\x00\x00\x00\x03"
                                "\x02" "\x00\x00\x00\x01\x10" BLOCK "\x00\x00";
/* the same in HEADERS (5 octets, END_STREAM) then CONTINUATION (the rest, END_HEADERS) */
static const uint8_t continued[] = "\x00\x00\x05\x01\x01\x00\x00\x00\x03" "\x82\x86\x84\x01\x09"
                                   "\x00\x00\x09\x09\x04\x00\x00\x00\x03" "127.0.0.1";

/* Feeds msg (n octets) in pieces cut at `cut` (0: whole). */
static struct seen feed(const uint8_t *msg, size_t n, size_t cut)
{
    struct oa_h2_reader r;
    struct seen s = {0};
    oa_h2_reader_init(&r);
    bool ok = true;
    if (cut == 0) {
        ok = oa_h2_reader_feed(&r, msg, n, &events, &s);
    } else {
        ok = oa_h2_reader_feed(&r, msg, cut, &events, &s) && oa_h2_reader_feed(&r, msg + cut, n - cut, &events, &s);
    }
    if (!ok)
        s.blocks = -1;
    oa_h2_reader_release(&r);
    return s;
}

/* Whether the reader copied a frame header to its own room, msg fed in
 * pieces cut at `cut` (0: whole). */
static bool header_copied(const uint8_t *msg, size_t n, size_t cut)
{
    static const uint8_t zero[OA_H2_FRAME_HEADER];
    struct oa_h2_reader r;
    struct seen s = {0};
    oa_h2_reader_init(&r);
    if (cut == 0) {
        oa_h2_reader_feed(&r, msg, n, &events, &s);
    } else {
        oa_h2_reader_feed(&r, msg, cut, &events, &s);
        oa_h2_reader_feed(&r, msg + cut, n - cut, &events, &s);
    }
    bool copied = memcmp(r.hdr, zero, sizeof(zero)) != 0;
    oa_h2_reader_release(&r);
    return copied && s.blocks == 1;
}

static bool is_block(const struct seen *s)
{
    return s->blocks == 1 && s->len == BLOCK_LEN && memcmp(s->bytes, BLOCK, BLOCK_LEN) == 0 && s->stream == 3;
}

static bool inside(const uint8_t *at, const uint8_t *msg, size_t n)
{
    return at >= msg && at < msg + n;
}

int main(void)
{
    size_t n = sizeof(plain) - 1;
    struct seen s = feed(plain, n, 0);
    CHECK(is_block(&s) && s.end_stream, "whole: the block");
    CHECK(s.at == plain + 9, "whole: read where it lies, not copied");

    bool all = true, copied = true;
    for (size_t cut = 1; cut < n; cut++) {
        s = feed(plain, n, cut);
        all = all && is_block(&s) && s.end_stream;
        /* the block's octets came in two feeds: the reader's copy (a cut
         * in the frame header leaves the payload whole in the second) */
        copied = copied && (cut <= 9 ? s.at == plain + 9 : !inside(s.at, plain, n));
    }
    CHECK(all, "cut anywhere: the same block");
    CHECK(copied, "cut in the payload: the reader's copy; in the header: the payload where it lies");

    n = sizeof(padded) - 1;
    s = feed(padded, n, 0);
    CHECK(is_block(&s) && s.at == padded + 9 + 6, "padded with a priority: the block between, where it lies");
    all = true;
    for (size_t cut = 1; cut < n; cut++) {
        s = feed(padded, n, cut);
        all = all && is_block(&s);
    }
    CHECK(all, "padded, cut anywhere: the same block");

    n = sizeof(continued) - 1;
    s = feed(continued, n, 0);
    CHECK(is_block(&s) && s.end_stream && !inside(s.at, continued, n), "CONTINUATION: the fragments joined in a copy");
    all = true;
    for (size_t cut = 1; cut < n; cut++) {
        s = feed(continued, n, cut);
        all = all && is_block(&s);
    }
    CHECK(all, "CONTINUATION, cut anywhere: the same block");
    /* the frame header's own copy only when it is cut: frames whole in a
     * feed are parsed where they lie */
    CHECK(!header_copied(continued, n, 0), "whole frames: no frame header copied");
    CHECK(!header_copied(continued, n, 14), "cut between the frames: no frame header copied");
    CHECK(header_copied(continued, n, 14 + 4), "the second header cut: gathered in the reader's copy");
    CHECK(header_copied(continued, n, 3), "the first header cut: gathered in the reader's copy");
    TEST_DONE();
}
