/* W3C baggage: keeps the valid members of a received value, in canonical form
 * and within the propagation limits (see oa_propagation.h, otel-facts §1). */
#include <string.h>

#include "trace/baggage.h"

/* Walks one member's text; end is one past its last byte. */
struct cursor {
    const char *p;
    const char *end;
};

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 7230 tchar */
static bool is_token_char(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* US-ASCII without CTLs, whitespace, DQUOTE, comma, semicolon, backslash */
static bool is_baggage_octet(char c)
{
    unsigned char u = (unsigned char)c;
    return u >= 0x21 && u <= 0x7e && u != '"' && u != ',' && u != ';' && u != '\\';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void skip_ows(struct cursor *c)
{
    while (c->p < c->end && is_ows(*c->p))
        c->p++;
}

static size_t take_token(struct cursor *c)
{
    const char *start = c->p;
    while (c->p < c->end && is_token_char(*c->p))
        c->p++;
    return (size_t)(c->p - start);
}

/* Reads a run of baggage octets. Values are percent-encoded UTF-8, so a '%'
 * that does not start a "%XX" escape means the sender encoded nothing
 * correctly and the whole member is rejected. */
static bool take_value(struct cursor *c, size_t *len)
{
    const char *start = c->p;
    while (c->p < c->end && is_baggage_octet(*c->p)) {
        if (*c->p == '%') {
            if (c->end - c->p < 3 || !is_hex(c->p[1]) || !is_hex(c->p[2]))
                return false;
            c->p += 3;
        } else {
            c->p++;
        }
    }
    *len = (size_t)(c->p - start);
    return true;
}

/* Appends n bytes at dst+o when dst is non-NULL; returns the new length. */
static size_t put(char *dst, size_t o, const char *src, size_t n)
{
    if (dst != NULL)
        memcpy(dst + o, src, n);
    return o + n;
}

/* Validates one member "key=value(;property)*" (OWS allowed around every
 * separator) and returns the length of its canonical form, without any OWS;
 * also writes that form to dst when dst is non-NULL. Returns -1 if invalid.
 * Measuring and writing share this one walk so they cannot disagree. */
static long member_canonical(const char *p, size_t n, char *dst)
{
    struct cursor c = { p, p + n };
    size_t o = 0;

    const char *key = c.p;
    size_t key_len = take_token(&c);
    if (key_len == 0)
        return -1;
    skip_ows(&c);
    if (c.p == c.end || *c.p != '=')
        return -1;
    c.p++;
    skip_ows(&c);
    const char *value = c.p;
    size_t value_len;
    if (!take_value(&c, &value_len))
        return -1;
    o = put(dst, o, key, key_len);
    o = put(dst, o, "=", 1);
    o = put(dst, o, value, value_len);

    for (;;) {
        skip_ows(&c);
        if (c.p == c.end)
            break;
        if (*c.p != ';')
            return -1;
        c.p++;
        skip_ows(&c);
        const char *prop_key = c.p;
        size_t prop_key_len = take_token(&c);
        if (prop_key_len == 0)
            return -1;
        o = put(dst, o, ";", 1);
        o = put(dst, o, prop_key, prop_key_len);
        skip_ows(&c);
        if (c.p < c.end && *c.p == '=') {
            c.p++;
            skip_ows(&c);
            const char *prop_value = c.p;
            size_t prop_value_len;
            if (!take_value(&c, &prop_value_len))
                return -1;
            o = put(dst, o, "=", 1);
            o = put(dst, o, prop_value, prop_value_len);
        }
    }
    return (long)o;
}

size_t oa_baggage_sanitize(const char *s, size_t len, char *out, size_t out_cap)
{
    if (out == NULL || out_cap == 0)
        return 0;
    out[0] = '\0';
    if (s == NULL)
        return 0;

    size_t limit = out_cap - 1 < OA_BAGGAGE_MAX ? out_cap - 1 : OA_BAGGAGE_MAX;
    size_t o = 0;
    int members = 0;
    size_t pos = 0;
    while (pos <= len && members < OA_BAGGAGE_MAX_MEMBERS) {
        const char *comma = memchr(s + pos, ',', len - pos);
        size_t end = comma != NULL ? (size_t)(comma - s) : len;
        size_t b = pos;
        size_t e = end;
        while (b < e && is_ows(s[b]))
            b++;
        while (e > b && is_ows(s[e - 1]))
            e--;
        pos = end + 1;
        if (e == b)
            continue;

        long m = member_canonical(s + b, e - b, NULL);
        if (m < 0)
            continue;
        size_t need = (size_t)m + (o > 0 ? 1 : 0);
        /* Members are dropped whole, from the right: once one does not fit,
         * nothing after it is kept either. */
        if (o + need > limit)
            break;
        if (o > 0)
            out[o++] = ',';
        o += (size_t)member_canonical(s + b, e - b, out + o);
        members++;
    }
    out[o] = '\0';
    return o;
}
