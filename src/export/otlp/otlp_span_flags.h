/* Span.flags of OTLP, the same in protobuf and in its JSON mapping: the W3C
 * trace flags in the low byte, then whether the parent's remoteness is known
 * (bit 8) and whether it is remote (bit 9). */
#ifndef OTLP_SPAN_FLAGS_H
#define OTLP_SPAN_FLAGS_H

#include <stdint.h>

#include "trace/span.h"

#define OA_OTLP_SPAN_FLAGS_HAS_IS_REMOTE 0x100u
#define OA_OTLP_SPAN_FLAGS_IS_REMOTE 0x200u

static inline uint32_t oa_otlp_span_flags(const struct oa_span *s)
{
    uint32_t flags = s->trace_flags;
    if (s->has_parent) {
        flags |= OA_OTLP_SPAN_FLAGS_HAS_IS_REMOTE;
        if (s->parent_is_remote)
            flags |= OA_OTLP_SPAN_FLAGS_IS_REMOTE;
    }
    return flags;
}

#endif
