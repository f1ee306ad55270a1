/* W3C Baggage's header value, sanitised for forwarding. Never allocates,
 * never reads outside [s, s+len). */
#ifndef OA_BAGGAGE_H
#define OA_BAGGAGE_H

#include "base/common.h"

#define OA_BAGGAGE_MAX 8192        /* W3C: keep all if <= 64 members and <= 8192 bytes */
#define OA_BAGGAGE_MAX_MEMBERS 64

/* Sanitises a (possibly comma-joined) baggage value for forwarding: parses
 * members "key=value(;property)*", drops invalid members whole, keeps at most
 * OA_BAGGAGE_MAX_MEMBERS members and OA_BAGGAGE_MAX bytes (dropping whole
 * members from the right), re-joins valid members with ",". Returns the output
 * length (0 if nothing valid), output NUL-terminated. */
size_t oa_baggage_sanitize(const char *s, size_t len, char *out, size_t out_cap);

#endif
