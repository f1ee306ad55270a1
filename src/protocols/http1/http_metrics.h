/* HTTP request metrics: what an exchange in flight remembers so that, when
 * its response completes, its duration goes into http.server.request.duration
 * or http.client.request.duration, and http.server.active_requests counts it
 * meanwhile. Recorded for every request, sampled or not. */
#ifndef OA_HTTP_METRICS_H
#define OA_HTTP_METRICS_H

#include "wire/fd_table.h"
#include "protocols/http1/http1_parser.h"
#include "metrics/metrics_table.h"

/* What the requests of one client connection share: their metrics'
 * server.address and server.port come from the Host header (or the peer),
 * which a keep-alive connection sends the same each time. Kept per
 * connection (in its exchange, zeroed at its start) and used again while the
 * Host value, the connection (its generation) and its peer stay the same. */
struct oa_http_metrics_server_memo {
    bool valid;
    uint8_t host_len;              /* the Host value it was made from; 0 = none */
    uint8_t address_len;
    uint32_t generation;           /* the oa_conn's */
    socklen_t peer_len;
    int32_t port;
    char host[OA_METRIC_ADDRESS_MAX + 1];
    char address[OA_METRIC_ADDRESS_MAX + 1];
};

/* key's server.address and server.port for a client request with head h on
 * c, from memo when it still applies (memo may be NULL: computed). */
void oa_http_metrics_client_server(struct oa_metric_key *key, const struct oa_http1_head *h, struct oa_conn *c,
                                   struct oa_http_metrics_server_memo *memo);

/* The series a server connection's requests found last: a keep-alive
 * connection's requests nearly always have the method, version and outcome
 * of the one before, and then neither key is built and looked up again (a
 * server's keys hold nothing else). Kept per connection (in its exchange,
 * zeroed at its start); valid for one generation of the table. */
struct oa_http_metrics_series_memo {
    unsigned generation;           /* oa_metrics_generation() when found */
    uint8_t method;
    uint8_t protocol;
    uint16_t status;               /* of the duration series */
    const char *error_type;        /* of the duration series */
    struct oa_series *active;      /* http.server.active_requests of method; NULL = nothing kept */
    struct oa_series *duration;    /* http.server.request.duration of method, protocol and outcome, or NULL */
};

struct oa_http_metric_request {
    uint64_t start_unix_nano;
    struct oa_series *active;  /* counted in http.server.active_requests, or NULL */
    bool recording;
    /* Its duration's attribute set but for the outcome (status, error.type),
     * built once at the start: finishing copies no string. */
    struct oa_metric_key key;
};

/* A client's request head was sent; start: unix ns of its first byte; memo:
 * the connection's server.address and server.port, found once. */
void oa_http_metrics_start_client(struct oa_http_metric_request *m, const struct oa_http1_head *h,
                                  struct oa_conn *c, uint64_t start, struct oa_http_metrics_server_memo *memo);
/* A server's request head was received; start: unix ns of its first byte;
 * series: the series its connection found last (NULL: looked up). */
void oa_http_metrics_start_server(struct oa_http_metric_request *m, const struct oa_http1_head *h, uint64_t start,
                                  struct oa_http_metrics_series_memo *series);
/* The series of a server request with duration key `key` (its outcome
 * set, for the duration): what oa_metrics_series finds for its
 * http.server.active_requests key and for key, from the memo when it holds
 * them (series may be NULL: looked up; a client's key is always looked up). */
struct oa_series *oa_http_metrics_active_series(struct oa_http_metrics_series_memo *series,
                                                const struct oa_metric_key *key);
struct oa_series *oa_http_metrics_duration_series(struct oa_http_metrics_series_memo *series,
                                                  const struct oa_metric_key *key);
/* Its exchange ended at end (unix ns; the span's end too): status 0 = no
 * response; error = error.type or NULL. series: the memo its start was
 * given, or NULL. */
void oa_http_metrics_finish_at(struct oa_http_metric_request *m, int status, const char *error, uint64_t end,
                               struct oa_http_metrics_series_memo *series);
/* It will never complete (the connection gave up parsing): no duration. */
void oa_http_metrics_abandon(struct oa_http_metric_request *m);
/* A client request measured by an HTTP library hook (libcurl) rather than
 * on the wire: its duration, from start (unix ns) until now. url gives
 * server.address and server.port; protocol is an enum oa_metric_protocol or
 * OA_METRIC_NO_VERSION; status 0 = no response; error = error.type or NULL. */
void oa_http_metrics_client_request(const char *method, size_t method_len, const char *url, size_t url_len,
                                    uint8_t protocol, int status, const char *error, uint64_t start);
/* Forked child: the request is the parent's. */
void oa_http_metrics_disown(struct oa_http_metric_request *m);

/* Tells the metrics table how the HTTP instruments' keys become attributes
 * (the HTTP semantic conventions). Called once at start-up, before any
 * collection. */
void oa_http_metrics_register(void);

#endif
