/* Raw HTTP/2 spans: the program's thread records only what a stream's span
 * name and attributes are made of (the request head's method, scheme, path,
 * authority and user-agent, gRPC or not, the peer's text and port, TLS or
 * not, and at the end :status, grpc-status and error.type) and the exporter
 * thread builds the span with the very functions of h2_span.c. Redacting
 * the URL, splitting the authority, naming a gRPC call and copying each
 * attribute into the arena then cost the exporter, not the program (as
 * HTTP/1's, src/protocols/http1/http_raw_span.h).
 *
 * A raw span holds its ids, parent, flags and times in the ordinary fields
 * of struct oa_span; the rest is struct oa_span_raw. */
#ifndef OA_H2_RAW_SPAN_H
#define OA_H2_RAW_SPAN_H

#include "protocols/http2/h2_span.h"
#include "trace/span.h"

/* A raw span of `kind` for the request q, with tracestate (NULL or "" for
 * none). NULL when q's parts and tracestate do not fit in
 * OA_SPAN_RAW_BYTES or no block is free: the caller then builds the span
 * at once. Ids, flags, parent and start time are the caller's to set. */
struct oa_span *oa_h2_raw_span_new(enum oa_span_kind kind, const struct oa_h2_request *q, const char *tracestate);

/* Ends a raw span with the stream's outcome o at end (unix ns), as
 * oa_h2_span_finish_at ends a built one. */
void oa_h2_raw_span_finish_at(struct oa_span *s, const struct oa_h2_outcome *o, uint64_t end);

/* The exporter's side, reached through the struct oa_span_raw_ops that
 * oa_h2_raw_span_new puts in the raw span (oa_span_materialize): the full
 * span (compacted when it can be) that the program's thread would have
 * built, with s freed; s itself when it is not raw; NULL, with s freed,
 * when no block is free or its parts do not hold together. */
struct oa_span *oa_h2_raw_span_materialize(struct oa_span *s);

#endif
