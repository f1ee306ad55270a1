/* Raw database spans: the program's thread records only what a database
 * CLIENT span's name and attributes are made of (the system, the
 * namespace, operation, collection and the already sanitized query text,
 * the peer's address as text, then the outcome) and the exporter thread
 * builds the span with db_span.h before any exporter sees it, as HTTP's raw
 * spans do (protocols/http1/http_raw_span.h). Composing the name and
 * copying each attribute into the arena then cost the exporter, not the
 * program. The query text is sanitized, or, when the protocol says so
 * (oa_db_request's query_unsanitized), the statement as sent, which the
 * exporter thread sanitizes in place first thing (the crash capture's copy
 * sanitizes it too): it never leaves the process, and the raw block holds
 * it only until then.
 *
 * The raw span's ids, parent, kind and times are its ordinary fields; its
 * raw.bytes hold the tracestate (raw.trace_state_len, then a NUL), then
 * raw.head_len bytes of facts (a fixed part, then the strings). */
#ifndef OA_DB_RAW_SPAN_H
#define OA_DB_RAW_SPAN_H

#include "protocols/db/db_span.h"
#include "wire/fd_table.h"

/* A raw CLIENT span for r on connection c, with tracestate (NULL or "" for
 * none); NULL when its facts do not fit OA_SPAN_RAW_BYTES or no block is
 * free: the caller then builds the span at once. Ids, flags, parent and
 * start time are the caller's to set. */
struct oa_span *oa_db_raw_span_new(struct oa_conn *c, const struct oa_db_request *r, const char *tracestate);

/* Ends a raw span with outcome o at end (unix ns). */
void oa_db_raw_span_end(struct oa_span *s, const struct oa_db_outcome *o, uint64_t end);

#endif
