/* HPACK's Huffman decoder (see hpack_huffman.h). */
#include <pthread.h>
#include <stdbool.h>

#include "protocols/http2/hpack_huffman.h"

#define EOS 256
#define SYMBOLS 257
#define STATES 256 /* internal nodes of a complete tree of 257 leaves */

/* RFC 7541 Appendix B: the code of each symbol, right-aligned, and its
 * length in bits; the last is EOS. */
static const struct {
    uint32_t code;
    uint8_t len;
} codes[SYMBOLS] = {
    {0x1ff8, 13}, {0x7fffd8, 23}, {0xfffffe2, 28}, {0xfffffe3, 28},
    {0xfffffe4, 28}, {0xfffffe5, 28}, {0xfffffe6, 28}, {0xfffffe7, 28},
    {0xfffffe8, 28}, {0xffffea, 24}, {0x3ffffffc, 30}, {0xfffffe9, 28},
    {0xfffffea, 28}, {0x3ffffffd, 30}, {0xfffffeb, 28}, {0xfffffec, 28},
    {0xfffffed, 28}, {0xfffffee, 28}, {0xfffffef, 28}, {0xffffff0, 28},
    {0xffffff1, 28}, {0xffffff2, 28}, {0x3ffffffe, 30}, {0xffffff3, 28},
    {0xffffff4, 28}, {0xffffff5, 28}, {0xffffff6, 28}, {0xffffff7, 28},
    {0xffffff8, 28}, {0xffffff9, 28}, {0xffffffa, 28}, {0xffffffb, 28},
    {0x14, 6}, {0x3f8, 10}, {0x3f9, 10}, {0xffa, 12},
    {0x1ff9, 13}, {0x15, 6}, {0xf8, 8}, {0x7fa, 11},
    {0x3fa, 10}, {0x3fb, 10}, {0xf9, 8}, {0x7fb, 11},
    {0xfa, 8}, {0x16, 6}, {0x17, 6}, {0x18, 6},
    {0x0, 5}, {0x1, 5}, {0x2, 5}, {0x19, 6},
    {0x1a, 6}, {0x1b, 6}, {0x1c, 6}, {0x1d, 6},
    {0x1e, 6}, {0x1f, 6}, {0x5c, 7}, {0xfb, 8},
    {0x7ffc, 15}, {0x20, 6}, {0xffb, 12}, {0x3fc, 10},
    {0x1ffa, 13}, {0x21, 6}, {0x5d, 7}, {0x5e, 7},
    {0x5f, 7}, {0x60, 7}, {0x61, 7}, {0x62, 7},
    {0x63, 7}, {0x64, 7}, {0x65, 7}, {0x66, 7},
    {0x67, 7}, {0x68, 7}, {0x69, 7}, {0x6a, 7},
    {0x6b, 7}, {0x6c, 7}, {0x6d, 7}, {0x6e, 7},
    {0x6f, 7}, {0x70, 7}, {0x71, 7}, {0x72, 7},
    {0xfc, 8}, {0x73, 7}, {0xfd, 8}, {0x1ffb, 13},
    {0x7fff0, 19}, {0x1ffc, 13}, {0x3ffc, 14}, {0x22, 6},
    {0x7ffd, 15}, {0x3, 5}, {0x23, 6}, {0x4, 5},
    {0x24, 6}, {0x5, 5}, {0x25, 6}, {0x26, 6},
    {0x27, 6}, {0x6, 5}, {0x74, 7}, {0x75, 7},
    {0x28, 6}, {0x29, 6}, {0x2a, 6}, {0x7, 5},
    {0x2b, 6}, {0x76, 7}, {0x2c, 6}, {0x8, 5},
    {0x9, 5}, {0x2d, 6}, {0x77, 7}, {0x78, 7},
    {0x79, 7}, {0x7a, 7}, {0x7b, 7}, {0x7ffe, 15},
    {0x7fc, 11}, {0x3ffd, 14}, {0x1ffd, 13}, {0xffffffc, 28},
    {0xfffe6, 20}, {0x3fffd2, 22}, {0xfffe7, 20}, {0xfffe8, 20},
    {0x3fffd3, 22}, {0x3fffd4, 22}, {0x3fffd5, 22}, {0x7fffd9, 23},
    {0x3fffd6, 22}, {0x7fffda, 23}, {0x7fffdb, 23}, {0x7fffdc, 23},
    {0x7fffdd, 23}, {0x7fffde, 23}, {0xffffeb, 24}, {0x7fffdf, 23},
    {0xffffec, 24}, {0xffffed, 24}, {0x3fffd7, 22}, {0x7fffe0, 23},
    {0xffffee, 24}, {0x7fffe1, 23}, {0x7fffe2, 23}, {0x7fffe3, 23},
    {0x7fffe4, 23}, {0x1fffdc, 21}, {0x3fffd8, 22}, {0x7fffe5, 23},
    {0x3fffd9, 22}, {0x7fffe6, 23}, {0x7fffe7, 23}, {0xffffef, 24},
    {0x3fffda, 22}, {0x1fffdd, 21}, {0xfffe9, 20}, {0x3fffdb, 22},
    {0x3fffdc, 22}, {0x7fffe8, 23}, {0x7fffe9, 23}, {0x1fffde, 21},
    {0x7fffea, 23}, {0x3fffdd, 22}, {0x3fffde, 22}, {0xfffff0, 24},
    {0x1fffdf, 21}, {0x3fffdf, 22}, {0x7fffeb, 23}, {0x7fffec, 23},
    {0x1fffe0, 21}, {0x1fffe1, 21}, {0x3fffe0, 22}, {0x1fffe2, 21},
    {0x7fffed, 23}, {0x3fffe1, 22}, {0x7fffee, 23}, {0x7fffef, 23},
    {0xfffea, 20}, {0x3fffe2, 22}, {0x3fffe3, 22}, {0x3fffe4, 22},
    {0x7ffff0, 23}, {0x3fffe5, 22}, {0x3fffe6, 22}, {0x7ffff1, 23},
    {0x3ffffe0, 26}, {0x3ffffe1, 26}, {0xfffeb, 20}, {0x7fff1, 19},
    {0x3fffe7, 22}, {0x7ffff2, 23}, {0x3fffe8, 22}, {0x1ffffec, 25},
    {0x3ffffe2, 26}, {0x3ffffe3, 26}, {0x3ffffe4, 26}, {0x7ffffde, 27},
    {0x7ffffdf, 27}, {0x3ffffe5, 26}, {0xfffff1, 24}, {0x1ffffed, 25},
    {0x7fff2, 19}, {0x1fffe3, 21}, {0x3ffffe6, 26}, {0x7ffffe0, 27},
    {0x7ffffe1, 27}, {0x3ffffe7, 26}, {0x7ffffe2, 27}, {0xfffff2, 24},
    {0x1fffe4, 21}, {0x1fffe5, 21}, {0x3ffffe8, 26}, {0x3ffffe9, 26},
    {0xffffffd, 28}, {0x7ffffe3, 27}, {0x7ffffe4, 27}, {0x7ffffe5, 27},
    {0xfffec, 20}, {0xfffff3, 24}, {0xfffed, 20}, {0x1fffe6, 21},
    {0x3fffe9, 22}, {0x1fffe7, 21}, {0x1fffe8, 21}, {0x7ffff3, 23},
    {0x3fffea, 22}, {0x3fffeb, 22}, {0x1ffffee, 25}, {0x1ffffef, 25},
    {0xfffff4, 24}, {0xfffff5, 24}, {0x3ffffea, 26}, {0x7ffff4, 23},
    {0x3ffffeb, 26}, {0x7ffffe6, 27}, {0x3ffffec, 26}, {0x3ffffed, 26},
    {0x7ffffe7, 27}, {0x7ffffe8, 27}, {0x7ffffe9, 27}, {0x7ffffea, 27},
    {0x7ffffeb, 27}, {0xffffffe, 28}, {0x7ffffec, 27}, {0x7ffffed, 27},
    {0x7ffffee, 27}, {0x7ffffef, 27}, {0x7fffff0, 27}, {0x3ffffee, 26},
    {0x3fffffff, 30},
};

/* A transition, in one word: where the next state's row starts (its
 * number * 16, bits 0-11: the next lookup adds the nibble, no multiply on
 * the chain of dependent loads), the symbol emitted (16-23), the flags. */
enum {
    STEP_ROW = 0xfff,
    STEP_EMIT = 1u << 24,   /* the nibble completed the symbol in bits 16-23 */
    STEP_FAIL = 1u << 25,   /* the nibble completed EOS: invalid anywhere */
    STEP_ACCEPT = 1u << 26, /* the input may end here: since the last symbol,
                               only ones, and at most 7 of them (a prefix of EOS) */
};

static uint32_t steps[STATES * 16];
static pthread_once_t built = PTHREAD_ONCE_INIT;

/* The code's tree while the table is built: a child >= 0 is an internal node,
 * < 0 the leaf of symbol -child - 1. */
static int16_t tree[STATES][2];

static void build_tree(void)
{
    int nodes = 1;
    for (int sym = 0; sym < SYMBOLS; sym++) {
        int node = 0;
        for (int bit = codes[sym].len - 1; bit >= 0; bit--) {
            int b = (codes[sym].code >> bit) & 1;
            if (bit == 0) {
                tree[node][b] = (int16_t)(-sym - 1);
            } else {
                if (tree[node][b] == 0)
                    tree[node][b] = (int16_t)nodes++;
                node = tree[node][b];
            }
        }
    }
}

static void build_steps(void)
{
    build_tree();
    /* the nodes the input may end on: the root and the all-ones path below
     * it, 7 deep at most */
    bool accept[STATES] = {false};
    for (int node = 0, depth = 0; depth <= 7; depth++, node = tree[node][1])
        accept[node] = true;
    for (int state = 0; state < STATES; state++) {
        for (int nibble = 0; nibble < 16; nibble++) {
            uint32_t s = 0;
            int node = state;
            for (int bit = 3; bit >= 0; bit--) {
                int child = tree[node][(nibble >> bit) & 1];
                if (child >= 0) {
                    node = child;
                    continue;
                }
                if (-child - 1 == EOS)
                    s |= STEP_FAIL;
                else
                    s |= STEP_EMIT | (uint32_t)(-child - 1) << 16;
                node = 0;
            }
            s |= (uint32_t)node * 16;
            if (accept[node])
                s |= STEP_ACCEPT;
            steps[state * 16 + nibble] = s;
        }
    }
}

void oa_hpack_huffman_init(void)
{
    pthread_once(&built, build_steps);
}

/* Two dependent lookups a byte; each symbol is written whether or not the
 * step emits one and kept by moving past it only when it does (no branch to
 * mispredict): hence the byte of slack in oa_hpack_huffman_room. */
long oa_hpack_huffman_decode(const uint8_t *in, size_t n, char *out)
{
    uint32_t lo = STEP_ACCEPT, fail = 0;
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        uint32_t hi = steps[(lo & STEP_ROW) + (in[i] >> 4)];
        lo = steps[(hi & STEP_ROW) + (in[i] & 15)];
        fail |= hi | lo;
        *o = (char)(hi >> 16);
        o += (hi >> 24) & 1;
        *o = (char)(lo >> 16);
        o += (lo >> 24) & 1;
    }
    if ((fail & STEP_FAIL) || !(lo & STEP_ACCEPT))
        return -1;
    return (long)(o - out);
}

size_t oa_hpack_huffman_encoded_len(const char *in, size_t n)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < n; i++)
        bits += codes[(uint8_t)in[i]].len;
    return (size_t)((bits + 7) / 8);
}

size_t oa_hpack_huffman_encode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    size_t len = oa_hpack_huffman_encoded_len(in, n);
    if (len > cap)
        return 0;
    uint64_t acc = 0; /* pending bits, right-aligned: fewer than 8 between symbols */
    unsigned pending = 0;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        acc = acc << codes[(uint8_t)in[i]].len | codes[(uint8_t)in[i]].code;
        pending += codes[(uint8_t)in[i]].len;
        while (pending >= 8) {
            pending -= 8;
            out[w++] = (uint8_t)(acc >> pending);
        }
    }
    if (pending > 0)
        out[w++] = (uint8_t)(acc << (8 - pending) | 0xffu >> pending);
    return w;
}
