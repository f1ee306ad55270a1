/* Head sampling decision per OTEL_TRACES_SAMPLER (otel-facts §6). */
#ifndef OA_SAMPLER_H
#define OA_SAMPLER_H

#include "config/config.h"
#include "trace/traceparent.h"

/* parent may be NULL or !parent->valid for a root span. Pure function. */
bool oa_sampler_should_sample(enum oa_sampler_kind kind, double ratio,
                              const struct oa_span_context *parent,
                              const uint8_t trace_id[16]);

#endif
