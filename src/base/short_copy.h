/* Copies of a few bytes (attribute keys and values: methods, ports,
 * addresses, paths) without a call to memcpy: a call and libc's dispatch on
 * the length cost more than such a copy, and the encoder and the attribute
 * setters make one per string of every span. */
#ifndef OA_SHORT_COPY_H
#define OA_SHORT_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* n (at most 32) bytes from src to dst (not overlapping), in two
 * overlapping moves of the widest size that fits: no call at all. */
static inline __attribute__((always_inline)) void oa_copy_upto32(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (n > 16) {
        unsigned __int128 a, b;
        memcpy(&a, s, 16);
        memcpy(&b, s + n - 16, 16);
        memcpy(d, &a, 16);
        memcpy(d + n - 16, &b, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 0) {
        /* one to three bytes: the first, the middle and the last */
        uint8_t first = s[0], mid = s[n / 2], last = s[n - 1];
        d[0] = first;
        d[n / 2] = mid;
        d[n - 1] = last;
    }
}

/* n bytes from src to dst (not overlapping): up to 32 as above, longer
 * ones by memcpy. */
static inline __attribute__((always_inline)) void oa_short_copy(void *dst, const void *src, size_t n)
{
    if (n <= 32)
        oa_copy_upto32(dst, src, n);
    else
        memcpy(dst, src, n);
}

/* A record of strings laid end to end (a raw span's facts): written by
 * oa_record_put, read back by oa_record_take, each moving its cursor on. */
static inline __attribute__((always_inline)) void oa_record_put(char **at, const void *src, size_t n)
{
    oa_short_copy(*at, src, n);
    *at += n;
}

static inline const char *oa_record_take(const char **at, size_t n)
{
    const char *start = *at;
    *at += n;
    return start;
}

#endif
