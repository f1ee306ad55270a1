/* libFuzzer target for the HTTP/2 frame layer (src/protocols/http2/h2_frames.c).
 *
 * The input is one direction of a connection. It is read twice: whole in
 * one call, and cut into calls whose sizes the first byte picks (1 to 256
 * octets: frames straddle calls everywhere). Both readings must report the
 * same events in the same order (a digest of each event and its
 * arguments), and stop at the same point. Checked at each event: a block
 * is at most OA_H2_BLOCK_MAX octets, its last fragment lies inside what was
 * read, its padding and prefix inside its frame; every octet of a block is
 * read (ASan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http2/h2_frames.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_h2_frames: %s\n", what);
    abort();
}

struct run {
    uint64_t digest;
    uint64_t read_end;     /* offset of the end of the call being read */
    unsigned events;
};

static void mix(struct run *r, uint64_t v)
{
    r->digest = (r->digest ^ v) * 0x100000001b3ull;
    r->events++;
}

static bool on_block(void *arg, const struct oa_h2_block *b)
{
    struct run *r = arg;
    if (b->len > OA_H2_BLOCK_MAX)
        fail("block above its bound");
    const struct oa_h2_fragment *f = &b->last;
    if (f->frame_at + OA_H2_FRAME_HEADER + f->len - f->pad > r->read_end)
        fail("fragment end beyond what was read");
    if ((uint32_t)f->pre + f->pad > f->len)
        fail("prefix and padding beyond the frame");
    uint64_t x = 0;
    for (size_t i = 0; i < b->len; i++)
        x = x * 31 + b->bytes[i];
    mix(r, x ^ b->stream ^ (uint64_t)b->type << 32 ^ (uint64_t)b->end_stream << 40 ^ f->frame_at << 8);
    return true;
}

static bool on_data_end(void *arg, uint32_t stream, bool end_stream)
{
    mix(arg, 1ull << 50 | (uint64_t)stream << 1 | end_stream);
    return true;
}

static bool on_rst(void *arg, uint32_t stream, uint32_t code)
{
    mix(arg, 2ull << 50 | ((uint64_t)stream << 20 ^ code));
    return true;
}

static bool on_goaway(void *arg, uint32_t last, uint32_t code)
{
    mix(arg, 3ull << 50 | ((uint64_t)last << 20 ^ code));
    return true;
}

static bool on_setting(void *arg, uint16_t id, uint32_t value)
{
    mix(arg, 4ull << 50 | (uint64_t)id << 32 | value);
    return true;
}

static bool on_settings_end(void *arg, bool ack)
{
    mix(arg, 5ull << 50 | ack);
    return true;
}

static const struct oa_h2_events events = {
    .block = on_block,
    .data_end = on_data_end,
    .rst_stream = on_rst,
    .goaway = on_goaway,
    .setting = on_setting,
    .settings_end = on_settings_end,
};

/* Reads data in calls of at most `step` octets; the offset where it stopped
 * (n when it read everything). */
static size_t read_all(const uint8_t *data, size_t n, size_t step, struct run *r)
{
    struct oa_h2_reader rd;
    oa_h2_reader_init(&rd);
    size_t pos = 0;
    bool ok = true;
    while (pos < n && ok) {
        size_t k = n - pos < step ? n - pos : step;
        /* an exact-size copy: a read beyond the call is caught */
        uint8_t *call = malloc(k);
        if (call == NULL)
            abort();
        memcpy(call, data + pos, k);
        r->read_end = pos + k;
        ok = oa_h2_reader_feed(&rd, call, k, &events, r);
        free(call);
        pos += k;
    }
    if (!ok && oa_h2_reader_feed(&rd, (const uint8_t *)"x", 1, &events, r))
        fail("a reader that stopped read on");
    oa_h2_reader_release(&rd);
    return ok ? n : (size_t)-1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] + 1;
    data++;
    size--;
    struct run whole = {0}, cut = {0};
    size_t a = read_all(data, size, size > 0 ? size : 1, &whole);
    size_t b = read_all(data, size, step, &cut);
    /* a reader that fails stops within the call that failed: the events
     * before agree; when both read everything, all of them */
    if (a == size && b == size && (whole.digest != cut.digest || whole.events != cut.events))
        fail("whole and cut readings disagree");
    if ((a == size) != (b == size))
        fail("one reading failed, the other not");
    return 0;
}
