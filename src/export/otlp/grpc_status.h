/* The outcome of a gRPC call as its response headers and trailers tell it
 * (grpc-status, grpc-message, grpc-status-details-bin), and what OTLP/gRPC
 * makes of it: which codes are worth a retry, and when the server wants
 * us back (google.rpc.RetryInfo). Pure functions (no libcurl), for the
 * exporter and the unit tests. */
#ifndef OA_GRPC_STATUS_H
#define OA_GRPC_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    OA_GRPC_OK = 0,
    OA_GRPC_CANCELLED = 1,
    OA_GRPC_UNKNOWN = 2,
    OA_GRPC_INVALID_ARGUMENT = 3,
    OA_GRPC_DEADLINE_EXCEEDED = 4,
    OA_GRPC_PERMISSION_DENIED = 7,
    OA_GRPC_RESOURCE_EXHAUSTED = 8,
    OA_GRPC_ABORTED = 10,
    OA_GRPC_OUT_OF_RANGE = 11,
    OA_GRPC_UNIMPLEMENTED = 12,
    OA_GRPC_INTERNAL = 13,
    OA_GRPC_UNAVAILABLE = 14,
    OA_GRPC_DATA_LOSS = 15,
    OA_GRPC_UNAUTHENTICATED = 16,
};

struct oa_grpc_status {
    int code;               /* grpc-status, -1 until one is seen */
    char message[256];      /* grpc-message, percent-decoded, control characters as '?' */
    long retry_delay_ms;    /* RetryInfo.retry_delay in grpc-status-details-bin, -1 if none */
};

void oa_grpc_status_reset(struct oa_grpc_status *s);

/* One header or trailer line as libcurl hands it over ("name: value\r\n");
 * lines that are not gRPC's are ignored. */
void oa_grpc_status_header(struct oa_grpc_status *s, const char *line, size_t len);

/* The retry delay a serialized google.rpc.Status carries in a RetryInfo
 * detail, in ms (capped at a day): false if it has none or does not decode. */
bool oa_grpc_status_retry_delay(const uint8_t *status, size_t len, long *delay_ms);

/* The code of a response without grpc-status, from its HTTP status (gRPC's
 * doc/http-grpc-status-mapping.md); a 200 without one is INTERNAL. */
int oa_grpc_code_from_http(long http_status);

/* OTLP/gRPC's retryable codes; RESOURCE_EXHAUSTED only when the server said
 * when to come back (a RetryInfo). */
bool oa_grpc_code_retryable(int code, bool has_retry_info);

/* "UNAVAILABLE", ...; "code N" style names are left to the caller: NULL
 * for a code gRPC does not define. */
const char *oa_grpc_code_name(int code);

#endif
