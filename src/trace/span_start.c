/* The start of a request span, shared by every protocol and hook. */
#include <string.h>

#include "config/config.h"
#include "trace/ids.h"
#include "trace/sampler.h"
#include "trace/span_start.h"

/* A child keeps its parent's random-trace-id flag (the trace id is the
 * parent's); a new trace's ids are random, so it sets the flag. */
static uint8_t child_flags(bool sampled, const struct oa_span_context *parent)
{
    uint8_t random = parent != NULL ? (parent->flags & OA_TRACE_FLAG_RANDOM) : OA_TRACE_FLAG_RANDOM;
    return (uint8_t)((sampled ? OA_TRACE_FLAG_SAMPLED : 0) | random);
}

bool oa_span_context_start(struct oa_span_context *own, const struct oa_span_context *parent)
{
    if (parent != NULL) {
        memcpy(own->trace_id, parent->trace_id, 16);
        oa_ids_new_span_id(own->span_id);
    } else {
        oa_ids_new_trace_and_span_id(own->trace_id, own->span_id);
    }
    bool sampled = oa_sampler_should_sample(oa_config.sampler, oa_config.sampler_ratio, parent, own->trace_id);
    own->flags = child_flags(sampled, parent);
    own->valid = true;
    own->remote = false;
    return sampled;
}

void oa_span_set_context(struct oa_span *s, const struct oa_span_context *own, const struct oa_span_context *parent,
                         uint64_t start)
{
    memcpy(s->trace_id, own->trace_id, 16);
    memcpy(s->span_id, own->span_id, 8);
    s->trace_flags = own->flags;
    if (parent != NULL) {
        memcpy(s->parent_span_id, parent->span_id, 8);
        s->has_parent = true;
        s->parent_is_remote = parent->remote;
    }
    s->start_unix_nano = start;
}

struct oa_span *oa_span_begin(enum oa_span_kind kind, const struct oa_span_context *own,
                              const struct oa_span_context *parent, uint64_t start, const char *tracestate)
{
    struct oa_span *s = oa_span_new();
    if (s == NULL)
        return NULL;
    oa_span_set_context(s, own, parent, start);
    s->kind = (uint8_t)kind;
    if (tracestate != NULL && tracestate[0] != '\0')
        s->trace_state = oa_span_store(s, tracestate, strlen(tracestate));
    return s;
}
