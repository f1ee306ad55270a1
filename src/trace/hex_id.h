/* Trace and span ids as lowercase hex, decoded and written: shared by the
 * propagation formats (traceparent, b3, uber-trace-id), inlined into each. */
#ifndef OA_HEX_ID_H
#define OA_HEX_ID_H

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/common.h"

static const char oa_hex_digits[] = "0123456789abcdef";

/* Only lowercase hex is valid in traceparent and b3: an uppercase digit means the
 * sender does not follow the spec and the header is ignored. The version
 * and the flags are decoded by table; the ids (48 digits of every traced
 * request that carries a traceparent) 16 digits at a time where SSE2 is
 * there (every x86-64), by the table elsewhere. */
#define OA_HEX_VALID 0x10 /* marks a valid digit; the other entries are 0 */
static const uint8_t oa_lower_hex_table[256] = {
    ['0'] = OA_HEX_VALID | 0, ['1'] = OA_HEX_VALID | 1, ['2'] = OA_HEX_VALID | 2, ['3'] = OA_HEX_VALID | 3, ['4'] = OA_HEX_VALID | 4,
    ['5'] = OA_HEX_VALID | 5, ['6'] = OA_HEX_VALID | 6, ['7'] = OA_HEX_VALID | 7, ['8'] = OA_HEX_VALID | 8, ['9'] = OA_HEX_VALID | 9,
    ['a'] = OA_HEX_VALID | 10, ['b'] = OA_HEX_VALID | 11, ['c'] = OA_HEX_VALID | 12, ['d'] = OA_HEX_VALID | 13, ['e'] = OA_HEX_VALID | 14,
    ['f'] = OA_HEX_VALID | 15,
};

/* Decodes 2*n lowercase hex chars into n bytes; false on any other char. */
static inline __attribute__((always_inline)) bool oa_decode_lower_hex(const char *s, uint8_t *out, size_t n)
{
    unsigned valid = OA_HEX_VALID;
    for (size_t i = 0; i < n; i++) {
        unsigned hi = oa_lower_hex_table[(unsigned char)s[2 * i]];
        unsigned lo = oa_lower_hex_table[(unsigned char)s[2 * i + 1]];
        valid &= hi & lo;
        out[i] = (uint8_t)((hi & 0x0f) << 4 | (lo & 0x0f));
    }
    return valid != 0;
}

#ifdef __SSE2__
/* 16 lowercase hex chars into 8 bytes; false on any other char. Unsigned
 * byte arithmetic throughout: c - '0' is at most 9 for a digit only, c - 'a'
 * at most 5 for a letter only (every other byte wraps above), and a valid
 * char's value is the smaller of c - '0' and c - 'a' + 10 (a digit's second
 * wraps above 200, a letter's first is above 48). */
static inline __attribute__((always_inline)) bool oa_decode_hex16(const char *s, uint8_t out[8])
{
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i from_digit = _mm_sub_epi8(c, _mm_set1_epi8('0'));
    __m128i from_letter = _mm_sub_epi8(c, _mm_set1_epi8('a'));
    __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(from_digit, _mm_set1_epi8(9)), from_digit);
    __m128i letter = _mm_cmpeq_epi8(_mm_min_epu8(from_letter, _mm_set1_epi8(5)), from_letter);
    bool ok = _mm_movemask_epi8(_mm_or_si128(digit, letter)) == 0xffff;
    __m128i v = _mm_min_epu8(from_digit, _mm_add_epi8(from_letter, _mm_set1_epi8(10)));
    /* in each 16-bit lane the first char (the high nibble) is the low byte */
    __m128i pairs = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(v, _mm_set1_epi16(0x00ff)), 4), _mm_srli_epi16(v, 8));
    _mm_storel_epi64((__m128i *)(void *)out, _mm_packus_epi16(pairs, pairs));
    return ok;
}
#endif

/* An id: 2*n lowercase hex chars into n bytes (n a multiple of 8). */
static inline __attribute__((always_inline)) bool oa_decode_hex_id(const char *s, uint8_t *out, size_t n)
{
#ifdef __SSE2__
    bool ok = true;
#pragma GCC unroll 2
    for (size_t i = 0; i < n; i += 8)
        ok &= oa_decode_hex16(s + 2 * i, out + i);
    return ok;
#else
    return oa_decode_lower_hex(s, out, n);
#endif
}

/* n a multiple of 8 */
static inline bool oa_id_is_zero(const uint8_t *p, size_t n)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        acc |= w;
    }
    return acc == 0;
}

/* Two digits per byte. */
static inline char *oa_encode_lower_hex(char *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *dst++ = oa_hex_digits[src[i] >> 4];
        *dst++ = oa_hex_digits[src[i] & 0x0f];
    }
    return dst;
}

#ifdef __SSE2__
/* 8 bytes into 16 lowercase hex chars: nibbles interleaved high first, then
 * '0' added, and 39 more to those above 9 ('a' - '0' - 10). */
static inline char *oa_encode_hex16(char *dst, const uint8_t src[8])
{
    __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)src);
    __m128i low4 = _mm_set1_epi8(0x0f);
    __m128i n = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(b, 4), low4), _mm_and_si128(b, low4));
    __m128i above9 = _mm_cmpgt_epi8(n, _mm_set1_epi8(9));
    __m128i text = _mm_add_epi8(_mm_add_epi8(n, _mm_set1_epi8('0')), _mm_and_si128(above9, _mm_set1_epi8(39)));
    _mm_storeu_si128((__m128i *)(void *)dst, text);
    return dst + 16;
}
#endif

/* An id: n bytes (a multiple of 8) into 2*n chars. */
static inline char *oa_encode_hex_id(char *dst, const uint8_t *src, size_t n)
{
#ifdef __SSE2__
    for (size_t i = 0; i < n; i += 8)
        dst = oa_encode_hex16(dst, src + i);
    return dst;
#else
    return oa_encode_lower_hex(dst, src, n);
#endif
}

#endif
