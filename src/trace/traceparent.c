/* W3C traceparent: strict parsing with the version forward-compatibility rule,
 * and formatting as version 00 (see oa_propagation.h, otel-facts §1). */
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "trace/traceparent.h"

/* Field offsets inside "vv-<32 trace>-<16 parent>-ff" */
#define VERSION_LEN 2
#define TRACE_ID_OFF 3
#define PARENT_ID_OFF 36
#define FLAGS_OFF 53

static const char hex_digits[] = "0123456789abcdef";

/* Only lowercase hex is valid in traceparent: an uppercase digit means the
 * sender does not follow the spec and the header is ignored. The version
 * and the flags are decoded by table; the ids (48 digits of every traced
 * request that carries a traceparent) 16 digits at a time where SSE2 is
 * there (every x86-64), by the table elsewhere. */
#define HEX 0x10 /* marks a valid digit; the other entries are 0 */
static const uint8_t lower_hex_table[256] = {
    ['0'] = HEX | 0, ['1'] = HEX | 1, ['2'] = HEX | 2, ['3'] = HEX | 3, ['4'] = HEX | 4,
    ['5'] = HEX | 5, ['6'] = HEX | 6, ['7'] = HEX | 7, ['8'] = HEX | 8, ['9'] = HEX | 9,
    ['a'] = HEX | 10, ['b'] = HEX | 11, ['c'] = HEX | 12, ['d'] = HEX | 13, ['e'] = HEX | 14,
    ['f'] = HEX | 15,
};

/* Decodes 2*n lowercase hex chars into n bytes; false on any other char. */
static inline __attribute__((always_inline)) bool decode_lower_hex(const char *s, uint8_t *out, size_t n)
{
    unsigned valid = HEX;
    for (size_t i = 0; i < n; i++) {
        unsigned hi = lower_hex_table[(unsigned char)s[2 * i]];
        unsigned lo = lower_hex_table[(unsigned char)s[2 * i + 1]];
        valid &= hi & lo;
        out[i] = (uint8_t)((hi & 0x0f) << 4 | (lo & 0x0f));
    }
    return valid != 0;
}

#ifdef __SSE2__
/* 16 lowercase hex chars into 8 bytes; false on any other char. Bytes of
 * 0x80 and above are negative to the signed compares: in neither range. */
static inline __attribute__((always_inline)) bool decode_hex16(const char *s, uint8_t out[8])
{
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(c, _mm_set1_epi8('9' + 1)));
    __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(c, _mm_set1_epi8('f' + 1)));
    bool ok = _mm_movemask_epi8(_mm_or_si128(digit, letter)) == 0xffff;
    /* a digit's value is c - '0', a letter's c - '0' - 39 */
    __m128i v = _mm_sub_epi8(_mm_sub_epi8(c, _mm_set1_epi8('0')), _mm_and_si128(letter, _mm_set1_epi8(39)));
    /* in each 16-bit lane the first char (the high nibble) is the low byte */
    __m128i pairs = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(v, _mm_set1_epi16(0x00ff)), 4), _mm_srli_epi16(v, 8));
    _mm_storel_epi64((__m128i *)(void *)out, _mm_packus_epi16(pairs, pairs));
    return ok;
}
#endif

/* An id: 2*n lowercase hex chars into n bytes (n a multiple of 8). */
static inline __attribute__((always_inline)) bool decode_hex_id(const char *s, uint8_t *out, size_t n)
{
#ifdef __SSE2__
    bool ok = true;
    for (size_t i = 0; i < n; i += 8)
        ok &= decode_hex16(s + 2 * i, out + i);
    return ok;
#else
    return decode_lower_hex(s, out, n);
#endif
}

/* n a multiple of 8 */
static bool all_zero(const uint8_t *p, size_t n)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        acc |= w;
    }
    return acc == 0;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

bool oa_traceparent_parse(const char *s, size_t len, struct oa_span_context *out)
{
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return false;

    while (len > 0 && is_ows(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_ows(s[len - 1]))
        len--;

    /* Every version must at least carry the version-00 fields. */
    if (len < OA_TRACEPARENT_LEN)
        return false;

    uint8_t version;
    if (!decode_lower_hex(s, &version, 1) || version == 0xff)
        return false;
    /* Version 00 is exactly 55 chars. A higher version may append fields,
     * but only after a '-' so that "-01.xyz" stays invalid. */
    if (version == 0x00 && len != OA_TRACEPARENT_LEN)
        return false;
    if (len > OA_TRACEPARENT_LEN && s[OA_TRACEPARENT_LEN] != '-')
        return false;

    if (s[VERSION_LEN] != '-' || s[PARENT_ID_OFF - 1] != '-' || s[FLAGS_OFF - 1] != '-')
        return false;

    struct oa_span_context sc = { 0 };
    uint8_t flags;
    if (!decode_hex_id(s + TRACE_ID_OFF, sc.trace_id, sizeof(sc.trace_id)) ||
        !decode_hex_id(s + PARENT_ID_OFF, sc.span_id, sizeof(sc.span_id)) ||
        !decode_lower_hex(s + FLAGS_OFF, &flags, 1))
        return false;
    if (all_zero(sc.trace_id, sizeof(sc.trace_id)) || all_zero(sc.span_id, sizeof(sc.span_id)))
        return false;

    /* Bits other than sampled and random have no meaning in any version we
     * know, so they are neither kept nor forwarded. */
    sc.flags = flags & (OA_TRACE_FLAG_SAMPLED | OA_TRACE_FLAG_RANDOM);
    sc.valid = true;
    sc.remote = true;
    *out = sc;
    return true;
}

/* Two digits per byte. */
static char *encode_lower_hex(char *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *dst++ = hex_digits[src[i] >> 4];
        *dst++ = hex_digits[src[i] & 0x0f];
    }
    return dst;
}

#ifdef __SSE2__
/* 8 bytes into 16 lowercase hex chars: nibbles interleaved high first, then
 * '0' added, and 39 more to those above 9 ('a' - '0' - 10). */
static char *encode_hex16(char *dst, const uint8_t src[8])
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
static char *encode_hex_id(char *dst, const uint8_t *src, size_t n)
{
#ifdef __SSE2__
    for (size_t i = 0; i < n; i += 8)
        dst = encode_hex16(dst, src + i);
    return dst;
#else
    return encode_lower_hex(dst, src, n);
#endif
}

size_t oa_traceparent_format(const struct oa_span_context *sc, char out[OA_TRACEPARENT_LEN + 1])
{
    uint8_t flags = sc->flags & (OA_TRACE_FLAG_SAMPLED | OA_TRACE_FLAG_RANDOM);
    char *p = out;
    *p++ = '0';
    *p++ = '0';
    *p++ = '-';
    p = encode_hex_id(p, sc->trace_id, sizeof(sc->trace_id));
    *p++ = '-';
    p = encode_hex_id(p, sc->span_id, sizeof(sc->span_id));
    *p++ = '-';
    p = encode_lower_hex(p, &flags, 1);
    *p = '\0';
    return OA_TRACEPARENT_LEN;
}
