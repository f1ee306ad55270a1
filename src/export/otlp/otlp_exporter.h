/* Interface of libotelauto-otlp.so, the OTLP exporter (protobuf or JSON
 * over HTTP, or gRPC, as struct oa_config_otlp's protocol says), which
 * the exporter thread loads with dlopen the first time it has spans to send.
 * It links libcurl, protobuf-c and zlib so the preloaded library does not.
 * It calls nothing in libotelauto.so: all it needs arrives in oa_otlp_env. */
#ifndef OA_OTLP_H
#define OA_OTLP_H

#include "config/config.h"
#include "metrics/metric_data.h"
#include "config/resource.h"
#include "trace/span.h"

/* Bumped whenever oa_otlp_env or what it points to (struct oa_config, struct
 * oa_config_otlp, struct oa_resource) changes layout: 4 added
 * oa_config_otlp's protocol, the traces exporter list and the Zipkin options;
 * 5 the protocol grpc. */
#define OA_OTLP_ABI_VERSION 5

struct oa_otlp_env {
    int abi_version;                       /* OA_OTLP_ABI_VERSION */
    const struct oa_config *config;
    const struct oa_resource *resource;
    void (*log)(int level, const char *fmt, ...);
    /* Where and how to POST: config->traces_otlp for a span exporter,
     * config->metrics_otlp for a metrics exporter. */
    const struct oa_config_otlp *otlp;
};

enum oa_otlp_result {
    OA_OTLP_OK = 0,
    OA_OTLP_RETRYABLE,     /* 429/502/503/504 or gRPC's retryable codes, connect failure, timeout, reset */
    OA_OTLP_FAILED,        /* anything else: do not retry */
};

struct oa_otlp_exporter;

typedef struct oa_otlp_exporter *(*oa_otlp_create_fn)(const struct oa_otlp_env *env);
/* Encodes the spans as one ExportTraceServiceRequest (protobuf or JSON) and POSTs it (for grpc:
 * calls TraceService/Export), waiting at most otlp->timeout_ms. On RETRYABLE, *retry_after_ms is
 * the server's Retry-After (grpc: RetryInfo's delay) in ms if it sent one, else -1. */
typedef enum oa_otlp_result (*oa_otlp_send_fn)(struct oa_otlp_exporter *e,
                                               struct oa_span *const *spans, size_t n,
                                               long *retry_after_ms);
typedef void (*oa_otlp_destroy_fn)(struct oa_otlp_exporter *e);
/* The same for an ExportTraceServiceRequest already encoded as protobuf
 * (len bytes at data, n spans; rewritten as JSON for http/json): the crash
 * capture's (src/lifecycle/crash.c). */
typedef enum oa_otlp_result (*oa_otlp_send_encoded_fn)(struct oa_otlp_exporter *e, const uint8_t *data,
                                                       size_t len, size_t n, long *retry_after_ms);
/* The same for metrics: one ExportMetricsServiceRequest. */
typedef enum oa_otlp_result (*oa_otlp_send_metrics_fn)(struct oa_otlp_exporter *e,
                                                       const struct oa_metric_batch *batch,
                                                       long *retry_after_ms);

#define OA_OTLP_CREATE_SYMBOL "oa_otlp_exporter_create"
#define OA_OTLP_SEND_SYMBOL "oa_otlp_exporter_send"
#define OA_OTLP_SEND_ENCODED_SYMBOL "oa_otlp_exporter_send_encoded"
#define OA_OTLP_DESTROY_SYMBOL "oa_otlp_exporter_destroy"
#define OA_OTLP_SEND_METRICS_SYMBOL "oa_otlp_exporter_send_metrics"
#define OA_OTLP_LIBRARY_NAME "libotelauto-otlp.so"

/* Encoding alone (used by send and by the unit tests). Returns a malloc'd
 * serialized ExportTraceServiceRequest and its length, or NULL. */
uint8_t *oa_otlp_encode_traces(const struct oa_resource *resource,
                               struct oa_span *const *spans, size_t n, size_t *out_len);
/* The same without moving the bytes to the start of the block (the encoder
 * writes from the block's end back, into a block sized by a bound): the
 * request is *out_len bytes at *out, inside the returned malloc'd block. */
uint8_t *oa_otlp_encode_traces_at(const struct oa_resource *resource, struct oa_span *const *spans,
                                  size_t n, const uint8_t **out, size_t *out_len);

/* Returns a malloc'd serialized ExportMetricsServiceRequest, or NULL. */
uint8_t *oa_otlp_encode_metrics(const struct oa_resource *resource, const struct oa_metric_batch *batch,
                                size_t *out_len);

#endif
