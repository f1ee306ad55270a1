/* W3C traceparent: strict parsing with the version forward-compatibility rule,
 * and formatting as version 00 (see oa_propagation.h, otel-facts §1). */
#include <string.h>

#include "trace/hex_id.h"
#include "trace/traceparent.h"

/* Field offsets inside "vv-<32 trace>-<16 parent>-ff" */
#define VERSION_LEN 2
#define TRACE_ID_OFF 3
#define PARENT_ID_OFF 36
#define FLAGS_OFF 53

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* The sampled and random bits: the others have no meaning in any version we
 * know, so they are neither kept nor forwarded. */
#define KEPT_FLAGS (OA_TRACE_FLAG_SAMPLED | OA_TRACE_FLAG_RANDOM)

/* The shape nearly every traced request carries: "00-", exactly 55 chars.
 * Nothing is trimmed (its first char is '0' and its last must be a hex
 * digit, so neither is a space or a tab) and nothing may follow the flags,
 * so the general path's version and length rules hold already: what is left
 * is the dashes, the hex and the zero ids, checked all together and decoded
 * straight into out. A value refused here is refused by the general rules
 * too. */
static bool parse_version_00(const char *s, struct oa_span_context *out)
{
    uint8_t flags;
    bool ok = (s[PARENT_ID_OFF - 1] == '-') & (s[FLAGS_OFF - 1] == '-');
    ok &= oa_decode_hex_id(s + TRACE_ID_OFF, out->trace_id, sizeof(out->trace_id));
    ok &= oa_decode_hex_id(s + PARENT_ID_OFF, out->span_id, sizeof(out->span_id));
    ok &= oa_decode_lower_hex(s + FLAGS_OFF, &flags, 1);
    ok &= !oa_id_is_zero(out->trace_id, sizeof(out->trace_id));
    ok &= !oa_id_is_zero(out->span_id, sizeof(out->span_id));
    if (!ok) {
        memset(out, 0, sizeof(*out));
        return false;
    }
    out->flags = flags & KEPT_FLAGS;
    out->valid = true;
    out->remote = true;
    return true;
}

bool oa_traceparent_parse(const char *s, size_t len, struct oa_span_context *out)
{
    if (s != NULL && len == OA_TRACEPARENT_LEN && memcmp(s, "00-", 3) == 0)
        return parse_version_00(s, out);
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
    if (!oa_decode_lower_hex(s, &version, 1) || version == 0xff)
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
    if (!oa_decode_hex_id(s + TRACE_ID_OFF, sc.trace_id, sizeof(sc.trace_id)) ||
        !oa_decode_hex_id(s + PARENT_ID_OFF, sc.span_id, sizeof(sc.span_id)) ||
        !oa_decode_lower_hex(s + FLAGS_OFF, &flags, 1))
        return false;
    if (oa_id_is_zero(sc.trace_id, sizeof(sc.trace_id)) || oa_id_is_zero(sc.span_id, sizeof(sc.span_id)))
        return false;

    sc.flags = flags & KEPT_FLAGS;
    sc.valid = true;
    sc.remote = true;
    *out = sc;
    return true;
}

size_t oa_traceparent_format(const struct oa_span_context *sc, char out[OA_TRACEPARENT_LEN + 1])
{
    uint8_t flags = sc->flags & KEPT_FLAGS;
    char *p = out;
    *p++ = '0';
    *p++ = '0';
    *p++ = '-';
    p = oa_encode_hex_id(p, sc->trace_id, sizeof(sc->trace_id));
    *p++ = '-';
    p = oa_encode_hex_id(p, sc->span_id, sizeof(sc->span_id));
    *p++ = '-';
    p = oa_encode_lower_hex(p, &flags, 1);
    *p = '\0';
    return OA_TRACEPARENT_LEN;
}
