/* gRPC call metrics: rpc.server.duration and rpc.client.duration, the
 * histograms of the RPC semantic conventions as they stood before the
 * v1.39 rename (the version the gRPC spans follow, h2_span.h): unit "ms",
 * the conventions' buckets [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000,
 * 2500, 5000, 7500, 10000], one measurement per call (streaming calls too:
 * from the request head to the stream's end), sampled or not. Attributes:
 * rpc.system "grpc", rpc.service, rpc.method, rpc.grpc.status_code (when the
 * call ended with one), error.type (a call that ended without a status:
 * stream reset, connection lost), and on clients server.address and
 * server.port. */
#ifndef OA_GRPC_METRICS_H
#define OA_GRPC_METRICS_H

#include "metrics/metrics_table.h"

enum oa_grpc_instrument {
    OA_GRPC_SERVER_DURATION = 0, /* rpc.server.duration */
    OA_GRPC_CLIENT_DURATION,     /* rpc.client.duration */
    OA_GRPC_INSTRUMENTS
};

#define OA_GRPC_DURATION_BOUNDS 15
extern const double oa_grpc_duration_bounds[OA_GRPC_DURATION_BOUNDS];

/* Room for rpc.service, rpc.method and server.address together: a name
 * too long is cut (the method to OA_GRPC_METHOD_MAX, the service to what
 * is left), the address gets what the names leave (none: no
 * server.address). */
#define OA_GRPC_KEY_TEXT 104
#define OA_GRPC_METHOD_MAX 40

/* The attribute set of a series (struct oa_metric_key_head): compared up
 * to the end of its text. */
struct oa_grpc_metric_key {
    struct oa_metric_key_head head;
    uint8_t service_len;
    uint8_t method_len;
    uint8_t address_len;       /* server.address (clients), after the names */
    uint8_t pad;
    int32_t port;              /* server.port (clients), -1: none */
    int32_t status;            /* rpc.grpc.status_code, -1: none */
    const char *error_type;    /* static, or NULL */
    char text[OA_GRPC_KEY_TEXT];
};

/* A call in flight: its attribute set but for its outcome, built at its
 * start. */
struct oa_grpc_metric_call {
    bool recording;
    uint64_t start_unix_nano;
    struct oa_grpc_metric_key key;
};

/* A call's request head was seen at start (unix ns): service and method as
 * oa_h2_grpc_path splits them (empty: not a /service/method path); a
 * client's server.address (host_len octets) and server.port (-1: none). */
void oa_grpc_metrics_start(struct oa_grpc_metric_call *m, bool server, const char *service, size_t service_len,
                           const char *method, size_t method_len, const char *host, size_t host_len, int port,
                           uint64_t start);
/* It ended at end (unix ns) with grpc status `status` (-1: none); error:
 * error.type (static) of a call ended without a status, or NULL. */
void oa_grpc_metrics_finish_at(struct oa_grpc_metric_call *m, int status, const char *error, uint64_t end);
/* It will never complete (the connection was given up), or it is a forked
 * parent's: nothing is recorded. */
void oa_grpc_metrics_abandon(struct oa_grpc_metric_call *m);

/* Registers both instruments (start-up; once is enough). */
void oa_grpc_metrics_register(void);

#endif
