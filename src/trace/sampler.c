/* Head sampling per OTEL_TRACES_SAMPLER (see oa_sampler.h, otel-facts §6). */
#include "trace/sampler.h"

/* TraceIdRatioBased with the Go SDK's rule, so that a trace is sampled or not
 * the same way here as in Go services on the same trace: the last 8 bytes of
 * the trace id, big-endian, shifted right by one, compared against
 * ratio * 2^63. The bound grows with the ratio, so a trace sampled at some
 * ratio is sampled at every higher ratio. */
static bool trace_id_ratio_sample(double ratio, const uint8_t trace_id[16])
{
    /* "!(ratio > 0)" also catches NaN */
    if (!(ratio > 0.0))
        return false;
    if (ratio >= 1.0)
        return true;
    uint64_t bound = (uint64_t)(ratio * 9223372036854775808.0); /* 2^63 */
    uint64_t x = 0;
    for (int i = 8; i < 16; i++)
        x = x << 8 | trace_id[i];
    return (x >> 1) < bound;
}

static bool root_sample(enum oa_sampler_kind kind, double ratio, const uint8_t trace_id[16])
{
    switch (kind) {
    case OA_SAMPLER_ALWAYS_ON:
    case OA_SAMPLER_PARENTBASED_ALWAYS_ON:
        return true;
    case OA_SAMPLER_ALWAYS_OFF:
    case OA_SAMPLER_PARENTBASED_ALWAYS_OFF:
        return false;
    case OA_SAMPLER_TRACEIDRATIO:
    case OA_SAMPLER_PARENTBASED_TRACEIDRATIO:
        return trace_id_ratio_sample(ratio, trace_id);
    }
    /* An out-of-range kind can only come from a bug; the spec default
     * (parentbased_always_on) samples roots. */
    return true;
}

static bool is_parent_based(enum oa_sampler_kind kind)
{
    return kind == OA_SAMPLER_PARENTBASED_ALWAYS_ON || kind == OA_SAMPLER_PARENTBASED_ALWAYS_OFF ||
           kind == OA_SAMPLER_PARENTBASED_TRACEIDRATIO;
}

bool oa_sampler_should_sample(enum oa_sampler_kind kind, double ratio,
                              const struct oa_span_context *parent,
                              const uint8_t trace_id[16])
{
    /* ParentBased with its default delegates: remote and local parents are
     * both followed by their sampled flag. */
    if (is_parent_based(kind) && parent != NULL && parent->valid)
        return (parent->flags & OA_TRACE_FLAG_SAMPLED) != 0;
    return root_sample(kind, ratio, trace_id);
}
