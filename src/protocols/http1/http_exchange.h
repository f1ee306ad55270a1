/* HTTP/1.x exchanges on one connection: the two parsers (what we send, what we
 * receive), the requests in flight (pipelining), the header lines it splices
 * into the outgoing stream, and the spans these produce. All functions are
 * called with the connection locked. */
#ifndef OA_HTTP_EXCHANGE_H
#define OA_HTTP_EXCHANGE_H

#include "wire/fd_table.h"
#include "wire/protocol.h"
#include "protocols/common/pending.h"
#include "protocols/http1/http1_parser.h"
#include "protocols/http1/http_metrics.h"

/* a power of two (struct oa_pending_fifo) */
#define OA_HTTP_MAX_INFLIGHT 16

/* A request whose response has not completed yet: the common part (span,
 * server context, outcome), then HTTP/1's own. */
struct oa_inflight {
    struct oa_pending p;             /* first: p.status is the final status once its response head arrived */
    struct oa_http_metric_request metric;  /* recorded whether sampled or not */
    bool is_head;
    bool is_connect;
};

/* What a connection needs only while it is busy: a head being read, or a
 * request waiting for its response (~7.8 KiB). It comes from a shared pool
 * when a head begins and goes back when the connection is idle again (no
 * head in progress, no request in flight), so that an idle keep-alive
 * connection holds only its struct oa_http_exchange (~1 KiB). */
struct oa_http_busy {
    struct oa_inflight fl[OA_HTTP_MAX_INFLIGHT]; /* the slots of `pending` */
    struct oa_http1_work out_work;   /* the parsers' head slots and bytes */
    struct oa_http1_work in_work;
};

struct oa_http_exchange {
    struct oa_proto_conn base;       /* first: what the wire layer reads (splice, senders) */
    enum oa_conn_role role;
    struct oa_http1_parser out;      /* the bytes the program sends */
    struct oa_http1_parser in;       /* the bytes the program receives */
    uint64_t out_message_start;      /* unix ns of the current message's first byte */
    uint64_t in_message_start;
    struct oa_http_busy *busy;       /* NULL while idle; then both parsers are parked */
    struct oa_http_metrics_server_memo server_memo; /* client role */
    struct oa_http_metrics_series_memo series_memo; /* both roles */
    struct oa_pending_fifo pending;  /* responses answer requests in order */
    bool interim;                    /* the response being parsed is a 1xx */
    /* server role: request heads read on the connection, modulo 2^24 (a
     * runtime hint names a request by its number, http_hint.h) */
    uint32_t heads_read;
    bool h2c_switch;                 /* it is a 101 to `Upgrade: h2c` */
};

/* HTTP/1.x behind the protocol interface (wire/protocol.h): a client
 * connection whose first outgoing byte could start a request, a server
 * connection whose first incoming byte could. */
extern const struct oa_protocol oa_http1_protocol;
/* Registers it (the life cycle, at start-up; unit tests). */
void oa_http1_register(void);

/* Could this first byte start an HTTP/1 request? (cheap pre-check) */
static inline bool oa_http_could_start_request(unsigned char b)
{
    return b >= 'A' && b <= 'Z';
}

#endif
