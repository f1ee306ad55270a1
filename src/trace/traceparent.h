/* W3C Trace Context's traceparent: the span context it carries, and its
 * header value parsed and written. Pointer+length, never allocating, never
 * reading outside [s, s+len). */
#ifndef OA_TRACEPARENT_H
#define OA_TRACEPARENT_H

#include "base/common.h"

#define OA_TRACE_FLAG_SAMPLED 0x01
#define OA_TRACE_FLAG_RANDOM 0x02

#define OA_TRACEPARENT_LEN 55      /* "00-<32>-<16>-<2>" */

struct oa_span_context {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t flags;   /* only the sampled and random bits are kept */
    bool valid;
    bool remote;
};

/* Parses one traceparent header value with the W3C validation rules
 * (surrounding spaces/tabs allowed). Returns true and fills *out (valid=true,
 * remote=true) when valid; false otherwise (out->valid=false). Higher versions
 * are accepted per the spec's forward-compatibility rule and treated as 00. */
bool oa_traceparent_parse(const char *s, size_t len, struct oa_span_context *out);

/* Writes the 55-char version-00 value and a NUL into out. Returns 55. */
size_t oa_traceparent_format(const struct oa_span_context *sc, char out[OA_TRACEPARENT_LEN + 1]);

#endif
