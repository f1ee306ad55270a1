/* W3C traceparent: strict parsing with the version forward-compatibility rule,
 * and formatting as version 00 (see oa_propagation.h, otel-facts §1). */
#include <string.h>

#include "oa_propagation.h"

/* Field offsets inside "vv-<32 trace>-<16 parent>-ff" */
#define VERSION_LEN 2
#define TRACE_ID_OFF 3
#define PARENT_ID_OFF 36
#define FLAGS_OFF 53

static const char hex_digits[] = "0123456789abcdef";

/* Only lowercase hex is valid in traceparent: an uppercase digit means the
 * sender does not follow the spec and the header is ignored. By table: every
 * traced request that carries a traceparent decodes 50 of these. */
#define HEX 0x10 /* marks a valid digit; the other entries are 0 */
static const uint8_t lower_hex_table[256] = {
    ['0'] = HEX | 0, ['1'] = HEX | 1, ['2'] = HEX | 2, ['3'] = HEX | 3, ['4'] = HEX | 4,
    ['5'] = HEX | 5, ['6'] = HEX | 6, ['7'] = HEX | 7, ['8'] = HEX | 8, ['9'] = HEX | 9,
    ['a'] = HEX | 10, ['b'] = HEX | 11, ['c'] = HEX | 12, ['d'] = HEX | 13, ['e'] = HEX | 14,
    ['f'] = HEX | 15,
};

/* Decodes 2*n lowercase hex chars into n bytes; false on any other char. */
static bool decode_lower_hex(const char *s, uint8_t *out, size_t n)
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

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
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
    if (!decode_lower_hex(s + TRACE_ID_OFF, sc.trace_id, sizeof(sc.trace_id)) ||
        !decode_lower_hex(s + PARENT_ID_OFF, sc.span_id, sizeof(sc.span_id)) ||
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

/* Two digits per byte by table. */
static char *encode_lower_hex(char *dst, const uint8_t *src, size_t n)
{
    static char pairs[256][2];
    static bool pairs_ready;
    if (!__atomic_load_n(&pairs_ready, __ATOMIC_ACQUIRE)) {
        /* idempotent: threads racing here write the same bytes */
        for (int b = 0; b < 256; b++) {
            pairs[b][0] = hex_digits[b >> 4];
            pairs[b][1] = hex_digits[b & 0x0f];
        }
        __atomic_store_n(&pairs_ready, true, __ATOMIC_RELEASE);
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(dst, pairs[src[i]], 2);
        dst += 2;
    }
    return dst;
}

size_t oa_traceparent_format(const struct oa_span_context *sc, char out[OA_TRACEPARENT_LEN + 1])
{
    uint8_t flags = sc->flags & (OA_TRACE_FLAG_SAMPLED | OA_TRACE_FLAG_RANDOM);
    char *p = out;
    *p++ = '0';
    *p++ = '0';
    *p++ = '-';
    p = encode_lower_hex(p, sc->trace_id, sizeof(sc->trace_id));
    *p++ = '-';
    p = encode_lower_hex(p, sc->span_id, sizeof(sc->span_id));
    *p++ = '-';
    p = encode_lower_hex(p, &flags, 1);
    *p = '\0';
    return OA_TRACEPARENT_LEN;
}
