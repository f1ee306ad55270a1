/* W3C Trace Context's tracestate header value, validated and normalised for
 * forwarding. Never allocates, never reads outside [s, s+len). */
#ifndef OA_TRACESTATE_H
#define OA_TRACESTATE_H

#include "base/common.h"

#define OA_TRACESTATE_MAX 512      /* we propagate at most this many bytes */

/* Validates a (possibly comma-joined) tracestate value. On success copies the
 * normalised list (members joined by ",", empty members and OWS removed,
 * truncated to OA_TRACESTATE_MAX by dropping whole entries: entries longer than
 * 128 chars first, then right-most) into out (NUL-terminated) and returns its
 * length. Returns -1 if the value is invalid (any invalid member, more than 32
 * members, duplicate keys): the caller then drops tracestate. out_cap must be
 * at least OA_TRACESTATE_MAX + 1. */
int oa_tracestate_normalize(const char *s, size_t len, char *out, size_t out_cap);

#endif
