/* HTTP/1.x exchanges on one connection: the two parsers (what we send, what we
 * receive), the requests in flight (pipelining), the header lines it splices
 * into the outgoing stream, and the spans these produce. All functions are
 * called with the connection locked. */
#ifndef OA_HTTP_EXCHANGE_H
#define OA_HTTP_EXCHANGE_H

#include "wire/fd_table.h"
#include "wire/protocol.h"
#include "protocols/http1/http1_parser.h"
#include "protocols/http1/http_metrics.h"

#define OA_HTTP_MAX_INFLIGHT 16

struct oa_server_context;
struct oa_span_context;
struct oa_span;

/* A request whose response has not completed yet. */
struct oa_inflight {
    struct oa_span *span;            /* NULL when not recorded (not sampled) */
    struct oa_server_context *ctx;   /* server role: what handler threads parent to */
    int status;                      /* final status once its response head arrived */
    struct oa_http_metric_request metric;  /* recorded whether sampled or not */
    bool is_head;
    bool is_connect;
};

struct oa_http_exchange {
    struct oa_proto_conn base;       /* first: what the wire layer reads (splice, senders) */
    enum oa_conn_role role;
    struct oa_http1_parser out;      /* the bytes the program sends */
    struct oa_http1_parser in;       /* the bytes the program receives */
    uint64_t out_message_start;      /* unix ns of the current message's first byte */
    uint64_t in_message_start;
    struct oa_inflight fl[OA_HTTP_MAX_INFLIGHT];
    struct oa_http_metrics_server_memo server_memo; /* client role */
    struct oa_http_metrics_series_memo series_memo; /* server role */
    unsigned fl_first, fl_count;
    bool interim;                    /* the response being parsed is a 1xx */
};

/* HTTP/1.x behind the protocol interface (wire/protocol.h): a client
 * connection whose first outgoing byte could start a request, a server
 * connection whose first incoming byte could. */
extern const struct oa_protocol oa_http1_protocol;
/* Registers it (the life cycle, at start-up; unit tests). */
void oa_http1_register(void);

/* New ids under parent (or a new trace), and the sampling decision. */
bool oa_http_start_context(struct oa_span_context *own, const struct oa_span_context *parent);
/* A span with own's ids under parent, started at `start` (unix ns). */
struct oa_span *oa_http_span_begin(const struct oa_span_context *own, const struct oa_span_context *parent,
                                   uint64_t start, const char *tracestate);

/* Could this first byte start an HTTP/1 request? (cheap pre-check) */
static inline bool oa_http_could_start_request(unsigned char b)
{
    return b >= 'A' && b <= 'Z';
}

#endif
