/* The Zipkin v2 JSON span exporter, in libotelauto-otlp.so beside the OTLP
 * one (it needs libcurl too): its own entry points, found by the loader with
 * dlsym like the OTLP ones, and given the same environment (struct
 * oa_otlp_env; env->otlp is not used, the endpoint and time-out are
 * env->config->traces_zipkin). */
#ifndef OA_ZIPKIN_EXPORTER_H
#define OA_ZIPKIN_EXPORTER_H

#include "export/otlp/otlp_exporter.h"

struct oa_zipkin_exporter;

typedef struct oa_zipkin_exporter *(*oa_zipkin_create_fn)(const struct oa_otlp_env *env);
/* Encodes the spans as one JSON array of Zipkin v2 spans and POSTs it,
 * waiting at most traces_zipkin.timeout_ms. RETRYABLE for a connection
 * failure, a time-out, 429 or any 5xx; FAILED for any other answer (a 4xx
 * would only be refused again). *retry_after_ms is always -1: Zipkin sends
 * no Retry-After. */
typedef enum oa_otlp_result (*oa_zipkin_send_fn)(struct oa_zipkin_exporter *e,
                                                 struct oa_span *const *spans, size_t n,
                                                 long *retry_after_ms);
typedef void (*oa_zipkin_destroy_fn)(struct oa_zipkin_exporter *e);

#define OA_ZIPKIN_CREATE_SYMBOL "oa_zipkin_exporter_create"
#define OA_ZIPKIN_SEND_SYMBOL "oa_zipkin_exporter_send"
#define OA_ZIPKIN_DESTROY_SYMBOL "oa_zipkin_exporter_destroy"

/* The JSON array alone (used by send and by the unit tests): a malloc'd,
 * NUL-terminated string of *out_len bytes, or NULL when out of memory. */
char *oa_zipkin_encode_spans(const struct oa_resource *resource, struct oa_span *const *spans, size_t n,
                             size_t *out_len);

#endif
