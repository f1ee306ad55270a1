/* The fan-out span exporter: OTEL_TRACES_EXPORTER=otlp,console. The batch
 * processor is handed one exporter; this one hands each batch to several.
 *
 * Retries: an attempt sends the batch only to the exporters that still owe
 * it. An exporter that took it (OK) or refused it for good (FAILED) is done
 * with it; one that asked for a retry (RETRYABLE) gets it again at the next
 * attempt, and only it: a collector's 503 must not print the spans on the
 * console a second time. The fan-out answers RETRYABLE while some exporter
 * owes the batch (with the longest Retry-After any of them asked for), then
 * FAILED if any exporter refused it for good, else OK: the process's
 * counters count a span exported only when every exporter took it. */
#ifndef OA_SPAN_FANOUT_H
#define OA_SPAN_FANOUT_H

#include "export/span_exporter.h"

#define OA_SPAN_FANOUT_MAX 8

/* The fan-out over exporters[0..n) (at most OA_SPAN_FANOUT_MAX are kept),
 * in that order. There is one per process: a second call replaces the
 * exporters of the first (the library calls it once, tests again). */
const struct oa_span_exporter *oa_span_fanout(const struct oa_span_exporter *const *exporters, size_t n);

#endif
