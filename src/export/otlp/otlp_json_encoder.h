/* OTLP/HTTP JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json): the protobuf JSON
 * mapping of ExportTraceServiceRequest and ExportMetricsServiceRequest with
 * OTLP's exceptions: trace and span ids as hex strings, enums as numbers,
 * lowerCamelCase names only; 64-bit integers (times, counts, int values) as
 * decimal strings. The same content as the protobuf encoders'
 * (otlp_encoder.c, otlp_metrics_encoder.c): fields they leave out (empty
 * strings, zeros) are left out here too. */
#ifndef OA_OTLP_JSON_ENCODER_H
#define OA_OTLP_JSON_ENCODER_H

#include "config/resource.h"
#include "metrics/metric_data.h"
#include "trace/span.h"

/* A malloc'd, NUL-terminated request and its length in *out_len (without
 * the NUL), or NULL when memory ran out. */
uint8_t *oa_otlp_json_encode_traces(const struct oa_resource *resource, struct oa_span *const *spans,
                                    size_t n, size_t *out_len);
uint8_t *oa_otlp_json_encode_metrics(const struct oa_resource *resource, const struct oa_metric_batch *batch,
                                     size_t *out_len);

#endif
