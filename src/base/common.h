/* Shared basics of the otelauto engine: visibility, attribute values, clocks. */
#ifndef OA_COMMON_H
#define OA_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Everything is hidden (-fvisibility=hidden) except the interposed symbols and
 * the entry points of the lazily loaded OTLP exporter object. */
#define OA_EXPORT __attribute__((visibility("default")))

#define OA_VERSION "0.1.0"

enum oa_value_type {
    OA_VALUE_STRING = 0,
    OA_VALUE_INT,
    OA_VALUE_BOOL,
    OA_VALUE_DOUBLE,
};

/* One attribute. Strings are pointer+length and are not required to be
 * NUL-terminated; the owner of the attribute owns the bytes. */
struct oa_attr {
    const char *key;
    enum oa_value_type type;
    /* strlen(key) when the setter knew it (a span's literal keys: the
     * compiler computes it), else 0: the encoder then measures the key */
    uint32_t key_len;
    union {
        struct {
            const char *ptr;
            uint32_t len;
        } str;
        int64_t i;
        bool b;
        double d;
    } v;
};

/* strlen of a string that is mostly empty or absent (NULL: 0) on the
 * request path (tracestate, baggage): no call for those */
static inline size_t oa_strlen_or_0(const char *s)
{
    return s == NULL || s[0] == '\0' ? 0 : __builtin_strlen(s);
}

static inline uint64_t oa_now_unix_nano(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t oa_now_mono_nano(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
