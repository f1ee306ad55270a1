/* How every request span starts, whatever its protocol or where it is seen
 * (on the wire, or in a library's hooks such as libcurl's): new ids under the
 * parent the caller chose (README "How parents are chosen"), the sampling
 * decision, and the span's ids, parent and start time. Nothing here knows a
 * protocol: the name and attributes are the caller's. */
#ifndef OA_SPAN_START_H
#define OA_SPAN_START_H

#include "trace/traceparent.h"
#include "trace/span.h"

/* New ids under parent (NULL: a new trace) into own, with its flags; true
 * when the sampler records it. An unsampled context still propagates. */
bool oa_span_context_start(struct oa_span_context *own, const struct oa_span_context *parent);

/* s takes own's ids and flags, parent's span id (parent may be NULL) and
 * starts at `start` (unix ns). For a span from any pool, raw ones included. */
void oa_span_set_context(struct oa_span *s, const struct oa_span_context *own, const struct oa_span_context *parent,
                         uint64_t start);

/* A new full span of `kind` with own's ids under parent, started at `start`
 * (unix ns), carrying tracestate (NULL or empty: none); NULL when no span is
 * free. */
struct oa_span *oa_span_begin(enum oa_span_kind kind, const struct oa_span_context *own,
                              const struct oa_span_context *parent, uint64_t start, const char *tracestate);

#endif
