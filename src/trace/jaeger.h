/* Jaeger's propagation (the OpenTelemetry specification's Jaeger
 * propagator): the uber-trace-id header, parsed into a span context and
 * written from one, and its baggage headers uberctx-{key} turned into W3C
 * baggage members and back. Pure functions: pointer+length, never
 * allocating, never reading outside the bytes given. */
#ifndef OA_JAEGER_H
#define OA_JAEGER_H

#include "base/common.h"
#include "trace/traceparent.h"

#define OA_JAEGER_LEN 53                 /* "<32 trace>:<16 span>:0:<1|0>" */
#define OA_JAEGER_BAGGAGE_PREFIX "uberctx-"
#define OA_JAEGER_BAGGAGE_PREFIX_LEN 8

/* One uber-trace-id value {trace-id}:{span-id}:{parent-span-id}:{flags}:
 * hex in either case, the trace id of 1 to 32 digits and the span ids of 1
 * to 16, left-padded with zeros (Jaeger clients drop leading zeros); the
 * parent (deprecated) is checked and ignored; flags of 1 or 2 hex digits,
 * bit 0x1 sampled, 0x2 debug (read as sampled). The separators may also be
 * "%3A", as clients that URL-encode the value write them. False when
 * invalid or an id is zero. */
bool oa_jaeger_parse(const char *s, size_t len, struct oa_span_context *out);

/* Writes "{32 trace}:{16 span}:0:{1|0}" and a NUL into out. Returns
 * OA_JAEGER_LEN. */
size_t oa_jaeger_format(const struct oa_span_context *sc, char out[OA_JAEGER_LEN + 1]);

/* One uberctx-{key} header as a W3C baggage member "key=value" written at
 * out (cap bytes, NUL-terminated): key is the name after the prefix, value
 * the header's value, URL-decoded ('+' a space, as Jaeger's clients encode
 * it) and then percent-encoded as baggage values are. Returns its length,
 * 0 when the key is empty or not a token, the value's encoding is broken,
 * or it does not fit. */
size_t oa_jaeger_baggage_member(const char *key, size_t key_len, const char *value, size_t value_len, char *out,
                                size_t cap);

/* The next member of a W3C baggage list (as oa_baggage_sanitize writes it)
 * as an uberctx header field: its name "uberctx-{key}" then its value
 * (percent-decoded and URL-encoded, as in the line below) written one after
 * the other at out (cap bytes), *name_len the
 * name's length. *cursor advances past the member. Returns the length of
 * both, 0 at the end of the list; a member whose name and value do not fit
 * in cap - 1 bytes is skipped. */
size_t oa_jaeger_baggage_next_field(const char **cursor, char *out, size_t cap, size_t *name_len);

/* The same as a header line "uberctx-{key}: {value}\r\n" written at out
 * (cap bytes): the value percent-decoded and URL-encoded, the member's
 * properties left out. *cursor advances past the member. Returns the line's
 * length, 0 at the end of the list; a member that does not fit in cap is
 * skipped. */
size_t oa_jaeger_baggage_next_line(const char **cursor, char *out, size_t cap);

#endif
