/* HTTP/1.x exchanges on one connection: the two parsers (what we send, what we
 * receive), the requests in flight (pipelining), the header injection owed on
 * the outgoing stream, and the spans these produce. All functions are called
 * with the connection locked. */
#ifndef OA_HTTP_EXCHANGE_H
#define OA_HTTP_EXCHANGE_H

#include "wire/fd_table.h"
#include "protocols/http1/http1_parser.h"
#include "protocols/http1/http_metrics.h"

/* Injection the outgoing stream owes: `len` bytes to insert before the
 * program's byte at stream offset `at`, or, when `replaces`, to send instead
 * of the program's `len` bytes at `at` (a forwarded traceparent value). */
struct oa_injection {
    uint64_t at;
    uint32_t len;
    uint32_t sent;
    bool replaces;
    char *bytes;           /* points to inline_bytes or a malloc'd buffer */
    char inline_bytes[96];
};

#define OA_HTTP_MAX_INFLIGHT 16
#define OA_HTTP_MAX_INJECTIONS 4

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
    enum oa_conn_role role;
    struct oa_http1_parser out;      /* the bytes the program sends */
    struct oa_http1_parser in;       /* the bytes the program receives */
    /* Outgoing bytes are parsed before they are sent (to find where to
     * inject); a program resends whatever the kernel did not take, so the
     * bytes between out_sent and out_parsed are not parsed twice. */
    uint64_t out_parsed;
    uint64_t out_sent;
    uint64_t out_message_start;      /* unix ns of the current message's first byte */
    uint64_t in_message_start;
    struct oa_injection inj[OA_HTTP_MAX_INJECTIONS];
    unsigned inj_first, inj_count;
    struct oa_inflight fl[OA_HTTP_MAX_INFLIGHT];
    struct oa_http_metrics_server_memo server_memo; /* client role */
    struct oa_http_metrics_series_memo series_memo; /* server role */
    unsigned fl_first, fl_count;
    int io_error;                    /* errno of a failed receive, for error.type */
    bool interim;                    /* the response being parsed is a 1xx */
    bool gave_up;                    /* no more parsing; only owed injection bytes */
    /* senders between their two locked sections; a retired exchange waits
     * for them before it is freed */
    int busy;
    bool orphaned;
};

struct oa_http_exchange *oa_http_exchange_new(enum oa_conn_role role);
void oa_http_exchange_free(struct oa_http_exchange *x);

/* Parses bytes the program is about to send (skipping any it already parsed
 * in an earlier, partly refused attempt). Returns false when the exchange
 * gives up; owed injection bytes are still honoured after that. */
bool oa_http_exchange_outgoing(struct oa_conn *c, const struct iovec *iov, int iovcnt);
/* The i-th injection still owed (in stream order), or NULL. */
struct oa_injection *oa_http_exchange_injection(struct oa_http_exchange *x, unsigned i);
/* Accounts what the kernel took: app bytes, then bytes of injection i. */
void oa_http_exchange_sent_app(struct oa_conn *c, size_t n);
void oa_http_exchange_sent_injection(struct oa_conn *c, unsigned i, size_t n);
/* Drops injections fully sent; gives up the connection if it was waiting
 * for that. */
void oa_http_exchange_settle(struct oa_conn *c);
/* A send that took the one owed injection's remaining `inj_n` bytes and `app`
 * of the program's (a request head written whole, all of it sent): what
 * oa_http_exchange_sent_injection, _sent_app and _settle do then, in one
 * step. false, nothing changed, when the exchange is not in that case. */
bool oa_http_exchange_sent_whole(struct oa_conn *c, size_t inj_n, size_t app);

/* Parses bytes received (the first `total` bytes of iov). */
bool oa_http_exchange_incoming(struct oa_conn *c, const struct iovec *iov, int iovcnt, size_t total);
/* n body bytes sent by sendfile */
bool oa_http_exchange_skipped(struct oa_conn *c, size_t n);
/* The peer closed its side (a receive returned 0). */
void oa_http_exchange_eof(struct oa_conn *c);
/* The connection ends (close): finish every span in flight. */
void oa_http_exchange_end(struct oa_conn *c, int err);
/* fork child: in-flight spans belong to the parent */
void oa_http_exchange_disown(struct oa_http_exchange *x);
/* Stop parsing: spans in flight are dropped. */
void oa_http_exchange_give_up(struct oa_conn *c);

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
