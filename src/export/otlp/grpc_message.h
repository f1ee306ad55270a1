/* gRPC's framing of a unary call over HTTP/2, as OTLP/gRPC uses it: the
 * method's URL, the length prefix of a message, the grpc-timeout value.
 * Pure functions (no libcurl), for the exporter and the unit tests. */
#ifndef OA_GRPC_MESSAGE_H
#define OA_GRPC_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OA_GRPC_TRACES_METHOD "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define OA_GRPC_METRICS_METHOD "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"

/* 1 octet compressed flag, 4 octets big-endian length */
#define OA_GRPC_PREFIX_LEN 5

void oa_grpc_prefix(uint8_t out[OA_GRPC_PREFIX_LEN], bool compressed, uint32_t len);

/* The first message of a response body: false if body does not start with a
 * whole one (bytes past it are ignored: a unary response has one). */
bool oa_grpc_first_message(const uint8_t *body, size_t len, bool *compressed, const uint8_t **msg,
                           size_t *msg_len);

/* The grpc-timeout value for timeout_ms ("10000m"): at most 8 digits and a
 * unit; false for 0 (no limit: no header). */
bool oa_grpc_timeout_value(char *out, size_t cap, long timeout_ms);

/* The method's URL on the collector at endpoint: its scheme and authority
 * (any path of the endpoint is not used: gRPC clients address the method
 * alone) followed by method. False if endpoint has no "scheme://" or the URL
 * does not fit. */
bool oa_grpc_url(char *out, size_t cap, const char *endpoint, const char *method);

#endif
