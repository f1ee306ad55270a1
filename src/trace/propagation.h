/* W3C Trace Context (traceparent, tracestate) and W3C Baggage, as carried in
 * HTTP header values. All functions take pointer+length, never allocate and
 * never read outside [s, s+len). */
#ifndef OA_PROPAGATION_H
#define OA_PROPAGATION_H

#include "base/common.h"

#define OA_TRACE_FLAG_SAMPLED 0x01
#define OA_TRACE_FLAG_RANDOM 0x02

#define OA_TRACEPARENT_LEN 55      /* "00-<32>-<16>-<2>" */
#define OA_TRACESTATE_MAX 512      /* we propagate at most this many bytes */
#define OA_BAGGAGE_MAX 8192        /* W3C: keep all if <= 64 members and <= 8192 bytes */
#define OA_BAGGAGE_MAX_MEMBERS 64

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

/* Validates a (possibly comma-joined) tracestate value. On success copies the
 * normalised list (members joined by ",", empty members and OWS removed,
 * truncated to OA_TRACESTATE_MAX by dropping whole entries: entries longer than
 * 128 chars first, then right-most) into out (NUL-terminated) and returns its
 * length. Returns -1 if the value is invalid (any invalid member, more than 32
 * members, duplicate keys): the caller then drops tracestate. out_cap must be
 * at least OA_TRACESTATE_MAX + 1. */
int oa_tracestate_normalize(const char *s, size_t len, char *out, size_t out_cap);

/* Sanitises a (possibly comma-joined) baggage value for forwarding: parses
 * members "key=value(;property)*", drops invalid members whole, keeps at most
 * OA_BAGGAGE_MAX_MEMBERS members and OA_BAGGAGE_MAX bytes (dropping whole
 * members from the right), re-joins valid members with ",". Returns the output
 * length (0 if nothing valid), output NUL-terminated. */
size_t oa_baggage_sanitize(const char *s, size_t len, char *out, size_t out_cap);

#endif
