/* Jaeger's uber-trace-id and uberctx-{key} headers (see jaeger.h;
 * otel-facts §1). */
#include <string.h>

#include "trace/hex_id.h"
#include "trace/jaeger.h"

/* a uber-trace-id longer than this is not one: 32 + 3 * 16 digits, with
 * "%3A" separators */
#define JAEGER_TEXT_MAX (32 + 16 + 16 + 2 + 3 * 3)

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 1 to 2*n hex digits (either case) into the n bytes of id, right-aligned:
 * the digits Jaeger's clients leave out are leading zeros. */
static bool parse_padded_hex(const char *s, size_t len, uint8_t *id, size_t n)
{
    memset(id, 0, n);
    if (len == 0 || len > 2 * n)
        return false;
    for (size_t i = 0; i < len; i++) {
        int v = hex_value(s[len - 1 - i]);
        if (v < 0)
            return false;
        id[n - 1 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
    }
    return true;
}

/* Copies s into out with each "%3A" (either case) made a ':'. Returns the
 * new length, or -1 when it does not fit. */
static long decode_separators(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (o == cap)
            return -1;
        if (s[i] == '%' && i + 2 < len && s[i + 1] == '3' && (s[i + 2] == 'A' || s[i + 2] == 'a')) {
            out[o++] = ':';
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return (long)o;
}

bool oa_jaeger_parse(const char *s, size_t len, struct oa_span_context *out)
{
    char text[JAEGER_TEXT_MAX];
    struct oa_span_context sc = { 0 };
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return false;
    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    long n = decode_separators(s, len, text, sizeof(text));
    if (n < 0)
        return false;
    /* the four fields */
    const char *field[4];
    size_t field_len[4];
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        const char *colon = memchr(text + at, ':', (size_t)n - at);
        if ((colon == NULL) != (i == 3))
            return false;
        size_t end = colon != NULL ? (size_t)(colon - text) : (size_t)n;
        field[i] = text + at;
        field_len[i] = end - at;
        at = end + 1;
    }
    uint8_t parent[8];
    uint8_t flags;
    if (!parse_padded_hex(field[0], field_len[0], sc.trace_id, sizeof(sc.trace_id)) ||
        !parse_padded_hex(field[1], field_len[1], sc.span_id, sizeof(sc.span_id)) ||
        !parse_padded_hex(field[2], field_len[2], parent, sizeof(parent)) ||
        !parse_padded_hex(field[3], field_len[3], &flags, 1))
        return false;
    if (oa_id_is_zero(sc.trace_id, sizeof(sc.trace_id)) || oa_id_is_zero(sc.span_id, sizeof(sc.span_id)))
        return false;
    /* debug (0x2) is a sampling decision too */
    if (flags & 0x3)
        sc.flags = OA_TRACE_FLAG_SAMPLED;
    sc.valid = true;
    sc.remote = true;
    *out = sc;
    return true;
}

size_t oa_jaeger_format(const struct oa_span_context *sc, char out[OA_JAEGER_LEN + 1])
{
    char *p = oa_encode_hex_id(out, sc->trace_id, sizeof(sc->trace_id));
    *p++ = ':';
    p = oa_encode_hex_id(p, sc->span_id, sizeof(sc->span_id));
    memcpy(p, ":0:", 3);
    p += 3;
    *p++ = (sc->flags & OA_TRACE_FLAG_SAMPLED) ? '1' : '0';
    *p = '\0';
    return OA_JAEGER_LEN;
}

/* ---- baggage ---- */

/* RFC 7230 tchar: what a header name, and so a key, is made of */
static bool is_token_char(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* W3C baggage value octets, '%' (the escape) aside */
static bool is_baggage_octet(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\' && c != '%';
}

/* what URL encoding leaves as it is */
static bool is_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/* Appends c at out[*o], as "%XX" unless keep; false when cap is reached. */
static bool put_encoded(char *out, size_t *o, size_t cap, unsigned char c, bool keep)
{
    if (keep) {
        if (*o + 1 >= cap)
            return false;
        out[(*o)++] = (char)c;
        return true;
    }
    if (*o + 3 >= cap)
        return false;
    out[(*o)++] = '%';
    out[(*o)++] = "0123456789ABCDEF"[c >> 4];
    out[(*o)++] = "0123456789ABCDEF"[c & 0x0f];
    return true;
}

/* The byte of a "%XX" escape at s[i] (i + 2 < len), or -1. */
static int escaped_byte(const char *s, size_t len, size_t i)
{
    if (i + 2 >= len)
        return -1;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

static bool put_bytes(char *out, size_t *o, size_t cap, const char *s, size_t n)
{
    if (*o + n >= cap)
        return false;
    memcpy(out + *o, s, n);
    *o += n;
    return true;
}

size_t oa_jaeger_baggage_member(const char *key, size_t key_len, const char *value, size_t value_len, char *out,
                                size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (key_len == 0)
        return 0;
    for (size_t i = 0; i < key_len; i++)
        if (!is_token_char(key[i]))
            return 0;
    if (!put_bytes(out, &o, cap, key, key_len) || !put_bytes(out, &o, cap, "=", 1)) {
        out[0] = '\0';
        return 0;
    }
    for (size_t i = 0; i < value_len; i++) {
        int c = (unsigned char)value[i];
        if (c == '%') {
            c = escaped_byte(value, value_len, i);
            if (c < 0) {
                out[0] = '\0';
                return 0;
            }
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (!put_encoded(out, &o, cap, (unsigned char)c, is_baggage_octet((unsigned char)c))) {
            out[0] = '\0';
            return 0;
        }
    }
    out[o] = '\0';
    return o;
}

size_t oa_jaeger_baggage_next_field(const char **cursor, char *out, size_t cap, size_t *name_len)
{
    while (**cursor != '\0') {
        const char *m = *cursor;
        const char *comma = strchr(m, ',');
        size_t m_len = comma != NULL ? (size_t)(comma - m) : strlen(m);
        *cursor = m + m_len + (comma != NULL ? 1 : 0);
        const char *eq = memchr(m, '=', m_len);
        if (eq == NULL || eq == m)
            continue;
        const char *semi = memchr(eq, ';', m_len - (size_t)(eq - m));
        const char *v = eq + 1;
        size_t v_len = (size_t)((semi != NULL ? semi : m + m_len) - v);
        size_t o = 0;
        bool ok = put_bytes(out, &o, cap, OA_JAEGER_BAGGAGE_PREFIX, OA_JAEGER_BAGGAGE_PREFIX_LEN) &&
                  put_bytes(out, &o, cap, m, (size_t)(eq - m));
        *name_len = o;
        for (size_t i = 0; ok && i < v_len; i++) {
            int c = (unsigned char)v[i];
            if (c == '%' && escaped_byte(v, v_len, i) >= 0) {
                c = escaped_byte(v, v_len, i);
                i += 2;
            }
            ok = put_encoded(out, &o, cap, (unsigned char)c, is_unreserved((unsigned char)c));
        }
        if (ok)
            return o;
    }
    return 0;
}

size_t oa_jaeger_baggage_next_line(const char **cursor, char *out, size_t cap)
{
    /* the field with room for ": " and "\r\n" around its value */
    size_t name_len;
    if (cap < 4) {
        /* no member fits */
        *cursor += strlen(*cursor);
        return 0;
    }
    size_t n = oa_jaeger_baggage_next_field(cursor, out, cap - 4, &name_len);
    if (n == 0)
        return 0;
    memmove(out + name_len + 2, out + name_len, n - name_len);
    memcpy(out + name_len, ": ", 2);
    memcpy(out + n + 2, "\r\n", 2);
    return n + 4;
}
