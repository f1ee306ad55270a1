/* Zipkin's B3 propagation (openzipkin/b3-propagation, and the OpenTelemetry
 * specification's B3 requirements): the single "b3" header and the
 * X-B3-* headers, parsed into a span context and written from one. Pure
 * functions: pointer+length, never allocating, never reading outside the
 * bytes given. */
#ifndef OA_B3_H
#define OA_B3_H

#include "base/common.h"
#include "trace/traceparent.h"

#define OA_B3_LEN 51               /* "<32 trace>-<16 span>-<1|0>" */
#define OA_B3_TRACE_ID_LEN 32
#define OA_B3_SPAN_ID_LEN 16

/* One "b3" header value: {traceid}-{spanid}[-{1|0|d}[-{parentspanid}]],
 * lowercase hex, a 16-digit trace id left-padded with zeros. Debug ("d")
 * counts as sampled; no sampling state (deferred) as not sampled, as the
 * OpenTelemetry implementations read it. The sampling-only forms ("0", "1",
 * "d") carry no ids: false, as for anything invalid. */
bool oa_b3_parse(const char *s, size_t len, struct oa_span_context *out);

/* The values of the X-B3-* headers a request carries, NULL (len 0) for one
 * it does not. */
struct oa_b3_multi {
    const char *trace_id, *span_id, *sampled, *flags;
    size_t trace_id_len, span_id_len, sampled_len, flags_len;
};

/* X-B3-TraceId and X-B3-SpanId as in oa_b3_parse; X-B3-Sampled "1" or
 * "true" is sampled ("0", "false" or none: not); X-B3-Flags "1" (debug) is
 * sampled whatever X-B3-Sampled says. False without both ids, or with an
 * invalid value. */
bool oa_b3_multi_parse(const struct oa_b3_multi *h, struct oa_span_context *out);

/* Writes the single header's value "{traceid}-{spanid}-{1|0}" and a NUL
 * into out. Returns OA_B3_LEN. */
size_t oa_b3_format(const struct oa_span_context *sc, char out[OA_B3_LEN + 1]);

/* The X-B3-TraceId and X-B3-SpanId values, NUL-terminated; X-B3-Sampled is
 * oa_b3_sampled_value(sc). */
void oa_b3_format_ids(const struct oa_span_context *sc, char trace_id[OA_B3_TRACE_ID_LEN + 1],
                      char span_id[OA_B3_SPAN_ID_LEN + 1]);

static inline const char *oa_b3_sampled_value(const struct oa_span_context *sc)
{
    return (sc->flags & OA_TRACE_FLAG_SAMPLED) ? "1" : "0";
}

#endif
