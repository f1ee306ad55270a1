/* The protobuf wire format written backwards, from the end of a buffer
 * towards its start (see src/export/otlp/otlp_encoder.c for why): p is
 * where the bytes written so far begin; each writer puts its bytes just
 * before p and returns where they begin. The caller has bounded the room.
 * Shared by the OTLP encoder and the crash capture's encoder
 * (src/export/crash_encoder.c): no allocation, no lock. */
#ifndef OA_PROTOBUF_BACK_H
#define OA_PROTOBUF_BACK_H

#include <stdint.h>
#include <string.h>

#include "base/common.h"
#include "base/short_copy.h"

enum wire_type { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* p is where the bytes written so far begin; each writer puts its bytes
 * just before p and returns where they begin. The writers are inlined: most
 * of what they write is a byte or two (tags, short lengths), and a call per
 * byte cost more than the byte. */
#define BACK static inline __attribute__((always_inline)) uint8_t *

static __attribute__((noinline, unused)) uint8_t *back_varint_long(uint8_t *p, uint64_t v)
{
    /* seven bits a byte, low groups first, each but the last flagged */
    size_t n = (size_t)(64 - __builtin_clzll(v) + 6) / 7;
    p -= n;
    for (size_t i = 0; i + 1 < n; i++, v >>= 7)
        p[i] = (uint8_t)(v | 0x80);
    p[n - 1] = (uint8_t)v;
    return p;
}

BACK back_varint(uint8_t *p, uint64_t v)
{
    if (__builtin_expect(v < 0x80, 1)) {
        *--p = (uint8_t)v;
        return p;
    }
    if (v < 0x4000) {
        p -= 2;
        p[0] = (uint8_t)(v | 0x80);
        p[1] = (uint8_t)(v >> 7);
        return p;
    }
    if (v < 0x200000) { /* ports above 16383 */
        p -= 3;
        p[0] = (uint8_t)(v | 0x80);
        p[1] = (uint8_t)((v >> 7) | 0x80);
        p[2] = (uint8_t)(v >> 14);
        return p;
    }
    return back_varint_long(p, v);
}

/* Tags of fields 1 to 15 are one byte; the compiler folds the others'
 * constant too. */
BACK back_tag(uint8_t *p, unsigned field, enum wire_type wt)
{
    return back_varint(p, (uint64_t)field << 3 | wt);
}

/* The tag and length prefix of a length-delimited field whose body is the
 * bytes from p to end. */
BACK back_len_prefix(uint8_t *p, unsigned field, const uint8_t *end)
{
    return back_tag(back_varint(p, (uint64_t)(end - p)), field, WT_LEN);
}

/* n bytes copied to just before p. */
BACK back_copy(uint8_t *p, const void *src, size_t n)
{
    p -= n;
    oa_short_copy(p, src, n);
    return p;
}

BACK back_bytes_field(uint8_t *p, unsigned field, const uint8_t *bytes, size_t n)
{
    uint8_t *end = p;
    return back_len_prefix(back_copy(p, bytes, n), field, end);
}

/* fixed64 and fixed32 are little-endian on the wire */
BACK back_fixed64(uint8_t *p, unsigned field, uint64_t v)
{
    p -= 8;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
    return back_tag(p, field, WT_I64);
}

BACK back_fixed32(uint8_t *p, unsigned field, uint32_t v)
{
    p -= 4;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 4);
#else
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
    return back_tag(p, field, WT_I32);
}

/* A string field of the shim's own (plain ASCII, not empty) */
BACK back_literal_field(uint8_t *p, unsigned field, const char *s, size_t len)
{
    uint8_t *end = p;
    p -= len;
    memcpy(p, s, len);
    return back_len_prefix(p, field, end);
}

/* common.v1 AnyValue of a, as field `field` (always written: a message whose
 * oneof member is written even when it is empty or 0); a string's text by
 * `text` (the caller's sanitising writer, inlined with this function). */
BACK back_any_value(uint8_t *p, unsigned field, const struct oa_attr *a,
                    uint8_t *(*text)(uint8_t *p, const char *s, size_t len))
{
    uint8_t *value_end = p;
    switch (a->type) {
    case OA_VALUE_STRING: {
        uint8_t *text_end = p;
        if (a->v.str.ptr != NULL)
            p = text(p, a->v.str.ptr, a->v.str.len);
        p = back_len_prefix(p, 1, text_end);
        break;
    }
    case OA_VALUE_BOOL:
        *--p = a->v.b ? 1 : 0;
        p = back_tag(p, 2, WT_VARINT);
        break;
    case OA_VALUE_INT:
        p = back_tag(back_varint(p, (uint64_t)a->v.i), 3, WT_VARINT);
        break;
    case OA_VALUE_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, &a->v.d, sizeof bits);
        p = back_fixed64(p, 4, bits);
        break;
    }
    }
    return back_len_prefix(p, field, value_end);
}

#endif
