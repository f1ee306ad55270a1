/* Strings made valid UTF-8: each byte that starts no well-formed sequence
 * (and NUL) replaced by U+FFFD. Receivers that decode proto3 strings
 * strictly (the Go collector does) reject a whole request for one bad byte,
 * and HTTP header values are not guaranteed to be UTF-8. Header-only: used
 * by the encoders of libotelauto-otlp.so (export/otlp/otlp_text.c) and by
 * the crash capture's encoder in the preloaded object
 * (export/crash_encoder.c), which link nothing of each other's. */
#ifndef OA_UTF8_TEXT_H
#define OA_UTF8_TEXT_H

#include <stddef.h>
#include <string.h>

/* U+FFFD REPLACEMENT CHARACTER */
static const char oa_utf8_replacement[3] = {'\xef', '\xbf', '\xbd'};

/* Length of the well-formed UTF-8 sequence starting at p (RFC 3629 table:
 * no overlongs, no surrogates, nothing above U+10FFFF), or 0 if the bytes at
 * p do not start one. NUL counts as invalid because protobuf-c measures
 * strings with strlen and would silently cut the value there. */
static inline size_t oa_utf8_sequence_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (avail < need)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    }
    return need;
}

static inline size_t oa_utf8_sanitised_len(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t out = 0;
    size_t i = 0;

    while (i < len) {
        size_t seq = oa_utf8_sequence_len(p + i, len - i);
        if (seq == 0) {
            out += sizeof oa_utf8_replacement;
            i++;
        } else {
            out += seq;
            i += seq;
        }
    }
    return out;
}

static inline char *oa_utf8_sanitised_put(char *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        size_t seq = oa_utf8_sequence_len(p + i, len - i);
        if (seq == 0) {
            memcpy(out, oa_utf8_replacement, sizeof oa_utf8_replacement);
            out += sizeof oa_utf8_replacement;
            i++;
        } else {
            memcpy(out, s + i, seq);
            out += seq;
            i += seq;
        }
    }
    return out;
}

#endif
