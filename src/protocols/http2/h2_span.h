/* HTTP/2 streams as spans: the stable HTTP semantic conventions for a
 * stream's request head (as HTTP/1's, network.protocol.version "2"), and
 * for gRPC (content-type application/grpc*) the RPC conventions as they
 * stood before the v1.39 rename (rpc.system "grpc", rpc.service,
 * rpc.method, rpc.grpc.status_code; span name "{service}/{method}"). */
#ifndef OA_H2_SPAN_H
#define OA_H2_SPAN_H

#include "protocols/http2/h2_head.h"
#include "trace/span.h"
#include "wire/fd_table.h"

/* The outcome of a stream, at its end. */
struct oa_h2_outcome {
    int status;            /* :status, 0: none */
    int grpc_status;       /* -1: none */
    bool grpc;
    const char *error;     /* error.type (static), or NULL */
};

/* What a stream's span is named and given attributes from: its request
 * head's parts and the connection's peer, each a pointer and a length
 * (into a struct oa_h2_head on the program's thread, into a raw span's
 * bytes on the exporter's: h2_raw_span.h). */
struct oa_h2_request {
    const char *method, *scheme, *path, *authority, *user_agent;
    uint16_t method_len, scheme_len, path_len, authority_len, user_agent_len;
    bool grpc;
    bool tls;
    int peer_port;    /* -1: unknown (peer "") */
    const char *peer; /* the peer's address as text */
    size_t peer_len;
};

/* The request of head h on connection c (pointing into both). */
void oa_h2_request_of(struct oa_h2_request *q, const struct oa_h2_head *h, struct oa_conn *c);
/* Name and attributes of the span of a stream whose request is q. */
void oa_h2_span_request(struct oa_span *s, const struct oa_h2_request *q);
/* Its outcome, and its end at `end` (unix ns). */
void oa_h2_span_finish_at(struct oa_span *s, const struct oa_h2_outcome *o, uint64_t end);
/* Whether a gRPC status code fails a span of that kind (client: every code
 * but OK; server: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
 * UNAVAILABLE, DATA_LOSS). */
bool oa_h2_grpc_status_fails(enum oa_span_kind kind, int code);
/* A gRPC :path "/pkg.Service/Method" (n octets at p): its service and
 * method; false (both empty) when it is not of that form. */
bool oa_h2_grpc_path(const char *p, size_t n, const char **service, size_t *service_len, const char **method,
                     size_t *method_len);

#endif
