/* HPACK integers with an N-bit prefix (RFC 7541 5.1): the low N bits of the
 * first byte, and when they are all ones, the rest in 7-bit groups, least
 * significant first, the high bit saying another follows. */
#ifndef OA_HPACK_INTEGER_H
#define OA_HPACK_INTEGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the integer at *p (*p < end) and moves *p past it. False when the
 * input ends inside it, or it exceeds 32 bits (also: more than 5
 * continuation bytes, however many are zero). */
static inline bool oa_hpack_int_decode(const uint8_t **p, const uint8_t *end, unsigned prefix_bits,
                                       uint32_t *value)
{
    const uint8_t *q = *p;
    uint32_t max = (1u << prefix_bits) - 1;
    uint64_t v = *q++ & max;
    if (v == max) {
        for (unsigned shift = 0;; shift += 7) {
            if (q == end || shift > 28)
                return false;
            uint8_t b = *q++;
            v += (uint64_t)(b & 0x7f) << shift;
            if (v > UINT32_MAX)
                return false;
            if (!(b & 0x80))
                break;
        }
    }
    *value = (uint32_t)v;
    *p = q;
    return true;
}

/* Writes v with a prefix_bits prefix; the first byte's bits above the prefix
 * are `flags`. Returns the bytes written, 0 when cap is too small. */
static inline size_t oa_hpack_int_encode(uint8_t *out, size_t cap, uint8_t flags, unsigned prefix_bits,
                                         uint32_t v)
{
    uint32_t max = (1u << prefix_bits) - 1;
    size_t n = 0;
    if (cap == 0)
        return 0;
    if (v < max) {
        out[n++] = (uint8_t)(flags | v);
        return n;
    }
    out[n++] = (uint8_t)(flags | max);
    v -= max;
    while (v >= 0x80) {
        if (n == cap)
            return 0;
        out[n++] = (uint8_t)(0x80 | (v & 0x7f));
        v >>= 7;
    }
    if (n == cap)
        return 0;
    out[n++] = (uint8_t)v;
    return n;
}

#endif
