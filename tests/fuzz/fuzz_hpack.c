/* libFuzzer target for the HPACK decoder (src/protocols/http2/hpack_*).
 *
 * The input drives one decoder through a connection's life: the first two
 * bytes pick its initial limit (0 to 4607 bytes: tables of a few entries
 * wrap their ring often), then records follow, each a command byte and a
 * length byte: a header block of that many bytes (copied into a buffer of
 * exactly its size: ASan catches a read beyond it), or a new limit
 * (SETTINGS_HEADER_TABLE_SIZE acknowledged, up to a bit above
 * OA_HPACK_TABLE_MAX), or a text to Huffman-code and decode back: the
 * same bytes must return. After a decoding error the decoder must refuse
 * a valid block too; it is then replaced by a new one.
 * Checked after every step: the table's size never exceeds its maximum,
 * the maximum never exceeds the limit, the entries' sizes add up to the
 * size, each entry can be read back; every field's bytes are read (ASan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http2/hpack_decoder.h"
#include "protocols/http2/hpack_huffman.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_hpack: %s\n", what);
    abort();
}

static volatile uint8_t sink;

static void touch_field(void *arg, const struct oa_hpack_field *f)
{
    uint8_t x = 0;
    for (size_t i = 0; i < f->name_len; i++)
        x ^= (uint8_t)f->name[i];
    for (size_t i = 0; i < f->value_len; i++)
        x ^= (uint8_t)f->value[i];
    sink = x;
    ++*(size_t *)arg;
}

static void check_table(const struct oa_hpack_decoder *d)
{
    static char entry[OA_HPACK_TABLE_MAX];
    if (d->failed)
        return;
    if (d->size > d->max_size)
        fail("table size above its maximum");
    if (d->max_size > d->limit || d->limit > d->capacity || d->capacity > OA_HPACK_TABLE_MAX)
        fail("table maximum above the limit, or the limit above the ring");
    uint64_t sum = 0;
    for (uint32_t i = 1; i <= d->count; i++) {
        size_t name_len;
        long n = oa_hpack_dynamic_entry(d, i, entry, sizeof(entry), &name_len);
        if (n < 0 || name_len > (size_t)n)
            fail("an entry cannot be read back");
        sum += (uint64_t)n + OA_HPACK_ENTRY_OVERHEAD;
    }
    if (sum != d->size)
        fail("entries do not add up to the table's size");
    if (oa_hpack_dynamic_entry(d, d->count + 1, entry, sizeof(entry), &(size_t){0}) != -1)
        fail("an entry beyond the count");
}

/* the consumer's choice, for oa_hpack_decode_block_wanted */
static bool even_names(void *arg, const char *name, size_t name_len)
{
    (void)arg;
    (void)name;
    return name_len % 2 == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t limit = (uint32_t)(data[0] | (data[1] & 0x01) << 8) * 9; /* 0 to 4599 */
    struct oa_hpack_decoder d;
    if (oa_hpack_decoder_init(&d, limit) != 0)
        fail("init refused a limit below the maximum");
    size_t at = 2;
    while (at + 2 <= size) {
        uint8_t cmd = data[at], len = data[at + 1];
        at += 2;
        if ((cmd & 0x0f) == 0x0f) {
            /* a new limit: small ones mostly, sometimes large, sometimes too large */
            uint32_t lim = (uint32_t)len * ((cmd & 0x10) ? 260 : 9);
            int rc = oa_hpack_decoder_set_limit(&d, lim);
            if (rc == 0 && (d.limit != lim || d.max_size > lim))
                fail("set_limit: the table's maximum above the new limit");
            if (rc != 0 && lim <= OA_HPACK_TABLE_MAX && !d.failed)
                fail("set_limit failed, the decoder not failed");
        } else if ((cmd & 0x0f) == 0x0e) {
            size_t n = len < size - at ? len : size - at;
            uint8_t coded[255 * 4];
            char back[255 * 8 / 5 + 2];
            size_t m = oa_hpack_huffman_encode((const char *)data + at, n, coded, sizeof(coded));
            long k = oa_hpack_huffman_decode(coded, m, back);
            if (m != oa_hpack_huffman_encoded_len((const char *)data + at, n) || k != (long)n ||
                memcmp(back, data + at, n) != 0)
                fail("a text did not survive Huffman coding");
            at += n;
        } else {
            size_t n = len < size - at ? len : size - at;
            uint8_t *block = malloc(n ? n : 1);
            memcpy(block, data + at, n);
            at += n;
            size_t fields = 0;
            /* bit 0x40: values of names of odd length left undecoded */
            int rc = (cmd & 0x40) ? oa_hpack_decode_block_wanted(&d, block, n, touch_field, even_names, &fields)
                                  : oa_hpack_decode_block(&d, block, n, (cmd & 0x80) ? NULL : touch_field, &fields);
            free(block);
            if (rc != 0) {
                static const uint8_t get[] = {0x82};
                fields = 0;
                if (!d.failed || oa_hpack_decode_block(&d, get, 1, touch_field, &fields) != -1 || fields)
                    fail("an error left the decoder usable");
            }
        }
        check_table(&d);
        if (d.failed) {
            oa_hpack_decoder_release(&d);
            if (oa_hpack_decoder_init(&d, limit) != 0)
                fail("init refused a limit below the maximum");
        }
    }
    oa_hpack_decoder_release(&d);
    return 0;
}
