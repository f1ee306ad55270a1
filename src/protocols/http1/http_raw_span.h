/* Raw HTTP spans: the program's thread records only what a socket span's
 * name and attributes are made of (the request head's bytes with where its
 * method, target, Host, User-Agent and X-Forwarded-For are in them, the
 * peer's address, TLS or not, the final status and error.type) and the
 * exporter thread builds them, with the very functions of http_span.c,
 * before any exporter sees the span. Formatting the peer, redacting the URL and copying
 * each attribute into the arena then cost the exporter, not the program.
 *
 * A raw span holds its ids, parent, flags and times in the ordinary fields
 * of struct oa_span; the rest is struct oa_span_raw. */
#ifndef OA_HTTP_RAW_SPAN_H
#define OA_HTTP_RAW_SPAN_H

#include "wire/fd_table.h"
#include "protocols/http1/http1_parser.h"
#include "trace/span.h"

/* A raw span of `kind` for the request head p has just parsed (after its
 * HEAD_DONE, or HEAD_END_NEXT for a request we send) on connection c, with
 * tracestate (NULL or "" for none). NULL when the head is over
 * OA_HTTP1_HEAD_INLINE bytes or head, the offsets of its parts and
 * tracestate do not fit in OA_SPAN_RAW_BYTES, or no block is free: the
 * caller then builds the span at once. Ids, flags, parent and start time
 * are the caller's to set. */
struct oa_span *oa_http_raw_span_new(enum oa_span_kind kind, const struct oa_http1_parser *p,
                                     const struct oa_conn *c, const char *tracestate);

/* Ends a raw span: status is the final response status or 0, error an
 * error.type with static lifetime, or NULL (as for oa_http_span_finish). */
void oa_http_raw_span_finish(struct oa_span *s, int status, const char *error);
/* The same, ended at end_unix_nano read by the caller. */
void oa_http_raw_span_finish_at(struct oa_span *s, int status, const char *error, uint64_t end_unix_nano);

/* The exporter's side, reached through the struct oa_span_raw_ops that
 * oa_http_raw_span_new puts in the raw span (oa_span_materialize): the full
 * span (compacted when it can be) that the program's thread would have
 * built, with s freed; s itself when it is not raw; NULL, with s freed, when
 * no block is free or its parts do not hold together. One thread at a time
 * (the peer's text is cached). The head is not parsed again: the attributes
 * are built from the parts the program's thread found (its LIGHT parse reads
 * them exactly as a FULL one), so a head whose other lines hold a byte a
 * FULL parse refuses is built as any other. */
struct oa_span *oa_http_raw_span_materialize(struct oa_span *s);

#endif
