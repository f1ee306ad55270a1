/* B3 single and multiple headers (see b3.h; otel-facts §1). */
#include <string.h>

#include "trace/b3.h"
#include "trace/hex_id.h"

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_ows((*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_ows((*s)[*len - 1]))
        (*len)--;
}

/* A trace id of 32 or 16 lowercase hex digits (the short one left-padded
 * with zeros), not all zero. */
static bool parse_trace_id(const char *s, size_t len, uint8_t id[16])
{
    memset(id, 0, 16);
    if (len == 32 ? !oa_decode_hex_id(s, id, 16) : len != 16 || !oa_decode_hex_id(s, id + 8, 8))
        return false;
    return !oa_id_is_zero(id, 16);
}

static bool parse_span_id(const char *s, size_t len, uint8_t id[8])
{
    return len == 16 && oa_decode_hex_id(s, id, 8) && !oa_id_is_zero(id, 8);
}

static bool equals(const char *s, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(s, word, len) == 0;
}

bool oa_b3_parse(const char *s, size_t len, struct oa_span_context *out)
{
    struct oa_span_context sc = { 0 };
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return false;
    trim(&s, &len);
    const char *dash = memchr(s, '-', len);
    if (dash == NULL)
        return false; /* "0", "1", "d": a sampling decision without ids */
    if (!parse_trace_id(s, (size_t)(dash - s), sc.trace_id))
        return false;
    const char *span = dash + 1;
    size_t rest = len - (size_t)(span - s);
    if (rest < 16 || !parse_span_id(span, 16, sc.span_id))
        return false;
    rest -= 16;
    if (rest > 0) {
        /* "-{1|0|d}", then optionally "-{parentspanid}", checked though unused */
        const char *st = span + 16;
        if (rest < 2 || st[0] != '-' || !(st[1] == '1' || st[1] == '0' || st[1] == 'd'))
            return false;
        if (st[1] != '0')
            sc.flags = OA_TRACE_FLAG_SAMPLED;
        rest -= 2;
        uint8_t parent[8];
        if (rest > 0 && (st[2] != '-' || !parse_span_id(st + 3, rest - 1, parent)))
            return false;
    }
    sc.valid = true;
    sc.remote = true;
    *out = sc;
    return true;
}

bool oa_b3_multi_parse(const struct oa_b3_multi *h, struct oa_span_context *out)
{
    struct oa_span_context sc = { 0 };
    struct oa_b3_multi v = *h;
    memset(out, 0, sizeof(*out));
    if (v.trace_id == NULL || v.span_id == NULL)
        return false;
    trim(&v.trace_id, &v.trace_id_len);
    trim(&v.span_id, &v.span_id_len);
    if (!parse_trace_id(v.trace_id, v.trace_id_len, sc.trace_id) ||
        !parse_span_id(v.span_id, v.span_id_len, sc.span_id))
        return false;
    if (v.sampled != NULL) {
        trim(&v.sampled, &v.sampled_len);
        if (equals(v.sampled, v.sampled_len, "1") || equals(v.sampled, v.sampled_len, "true"))
            sc.flags = OA_TRACE_FLAG_SAMPLED;
        else if (!equals(v.sampled, v.sampled_len, "0") && !equals(v.sampled, v.sampled_len, "false"))
            return false;
    }
    if (v.flags != NULL) {
        trim(&v.flags, &v.flags_len);
        if (equals(v.flags, v.flags_len, "1"))
            sc.flags = OA_TRACE_FLAG_SAMPLED;
    }
    sc.valid = true;
    sc.remote = true;
    *out = sc;
    return true;
}

void oa_b3_format_ids(const struct oa_span_context *sc, char trace_id[OA_B3_TRACE_ID_LEN + 1],
                      char span_id[OA_B3_SPAN_ID_LEN + 1])
{
    *oa_encode_hex_id(trace_id, sc->trace_id, sizeof(sc->trace_id)) = '\0';
    *oa_encode_hex_id(span_id, sc->span_id, sizeof(sc->span_id)) = '\0';
}

size_t oa_b3_format(const struct oa_span_context *sc, char out[OA_B3_LEN + 1])
{
    char *p = oa_encode_hex_id(out, sc->trace_id, sizeof(sc->trace_id));
    *p++ = '-';
    p = oa_encode_hex_id(p, sc->span_id, sizeof(sc->span_id));
    *p++ = '-';
    *p++ = oa_b3_sampled_value(sc)[0];
    *p = '\0';
    return OA_B3_LEN;
}
