/* HTTP request metrics: what an exchange in flight remembers so that, when
 * its response completes, its duration goes into http.server.request.duration
 * or http.client.request.duration, and http.server.active_requests counts it
 * meanwhile. Recorded for every request, sampled or not. */
#ifndef OA_HTTP_METRICS_H
#define OA_HTTP_METRICS_H

#include "wire/fd_table.h"
#include "protocols/http1/http1_parser.h"
#include "metrics/metrics_table.h"

/* The HTTP instruments, registered with the metrics table by
 * oa_http_metrics_register. */
enum oa_http_instrument {
    OA_HTTP_SERVER_DURATION = 0, /* http.server.request.duration */
    OA_HTTP_CLIENT_DURATION,     /* http.client.request.duration */
    OA_HTTP_SERVER_ACTIVE,       /* http.server.active_requests */
    OA_HTTP_INSTRUMENTS
};
/* The table's id of each (what a key's head says); an id no instrument has
 * until they are registered, so that keys made before count nowhere. */
extern uint16_t oa_http_instrument_id[OA_HTTP_INSTRUMENTS];

/* The explicit bucket boundaries of the HTTP duration histograms (seconds,
 * stable HTTP semantic conventions): 14 bounds, 15 buckets. */
#define OA_HTTP_DURATION_BOUNDS 14
extern const double oa_http_duration_bounds[OA_HTTP_DURATION_BOUNDS];

#define OA_METRIC_ADDRESS_MAX 63
#define OA_METRIC_NO_VERSION 0xff
/* network.protocol.version of a series */
enum oa_metric_protocol {
    OA_METRIC_HTTP_1_0 = 0,
    OA_METRIC_HTTP_1_1 = 1,
    OA_METRIC_HTTP_2 = 2,
    OA_METRIC_HTTP_3 = 3,
};
/* Its text ("1.0", "1.1", "2", "3"), NULL for OA_METRIC_NO_VERSION */
const char *oa_metric_protocol_text(uint8_t protocol);

/* The attribute set of an HTTP series, as the metrics table keeps it (see
 * struct oa_metric_key_head): build it with oa_http_metric_key_init, which
 * zeroes everything before the address (padding included), and set the
 * address with oa_http_metric_key_set_address; the table compares it up to
 * the address' length only. error_type points to a string with static
 * lifetime (an errno name, "connection_closed"). */
struct oa_http_metric_key {
    struct oa_metric_key_head head; /* head.instrument: one of oa_http_instrument_id */
    uint8_t method;            /* index in oa_http_known_methods, or OA_HTTP_METHOD_OTHER */
    uint8_t protocol;          /* enum oa_metric_protocol, or OA_METRIC_NO_VERSION */
    uint8_t address_len;       /* server.address (clients only) */
    uint16_t status;           /* http.response.status_code, 0 = none */
    int32_t port;              /* server.port (clients only), -1 = none */
    const char *error_type;    /* NULL = none; else static */
    char address[OA_METRIC_ADDRESS_MAX + 1];
};

void oa_http_metric_key_init(struct oa_http_metric_key *k, enum oa_http_instrument instrument);
/* server.address: len bytes of host, cut at OA_METRIC_ADDRESS_MAX. */
void oa_http_metric_key_set_address(struct oa_http_metric_key *k, const char *host, size_t len);

/* The series of an HTTP key (oa_metrics_series). */
static inline struct oa_series *oa_http_metrics_series(const struct oa_http_metric_key *k)
{
    return oa_metrics_series(&k->head);
}

/* What the requests of one client connection share: their metrics'
 * server.address and server.port come from the Host header (or the peer),
 * which a keep-alive connection sends the same each time. Kept per
 * connection (in its exchange, zeroed at its start) and used again while the
 * Host value, the connection (its generation) and its peer stay the same. */
struct oa_http_metrics_server_memo {
    bool valid;
    /* names each working out of server.address and server.port (1, 2, ...;
     * 0 = none yet): a request that was given the same stamp has the same
     * address and port, which is what lets the series memo hold a client's
     * duration series */
    uint32_t stamp;
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
void oa_http_metrics_client_server(struct oa_http_metric_key *key, const struct oa_http1_head *h, struct oa_conn *c,
                                   struct oa_http_metrics_server_memo *memo);

/* The series a connection's requests found last: a keep-alive connection's
 * requests nearly always have the method, version and outcome of the one
 * before, and then neither key is built and looked up again (a server's keys
 * hold nothing else; a client's also hold server.address and server.port,
 * the same while the server memo's stamp is). Kept per connection (in its
 * exchange, zeroed at its start); valid for one generation of the table. */
struct oa_http_metrics_series_memo {
    unsigned generation;           /* oa_metrics_generation() when found */
    uint8_t method;
    uint8_t protocol;
    uint16_t status;               /* of the duration series */
    const char *error_type;        /* of the duration series */
    struct oa_series *active;      /* http.server.active_requests of method; NULL = nothing kept */
    /* http.server.request.duration of method, protocol and outcome, or a
     * client's http.client.request.duration of those and server_stamp; NULL */
    struct oa_series *duration;
    uint32_t server_stamp;         /* clients: the server memo's stamp of the duration series */
};

struct oa_http_metric_request {
    uint64_t start_unix_nano;
    struct oa_series *active;  /* counted in http.server.active_requests, or NULL */
    bool recording;
    uint32_t server_stamp;     /* clients: the server memo's stamp of key's address and port; 0 = none */
    /* Its duration's attribute set but for the outcome (status, error.type),
     * built once at the start: finishing copies no string. */
    struct oa_http_metric_key key;
};

/* A client's request head was sent; start: unix ns of its first byte; memo:
 * the connection's server.address and server.port, found once. */
void oa_http_metrics_start_client(struct oa_http_metric_request *m, const struct oa_http1_head *h,
                                  struct oa_conn *c, uint64_t start, struct oa_http_metrics_server_memo *memo);
/* A server's request head was received; start: unix ns of its first byte;
 * series: the series its connection found last (NULL: looked up). */
void oa_http_metrics_start_server(struct oa_http_metric_request *m, const struct oa_http1_head *h, uint64_t start,
                                  struct oa_http_metrics_series_memo *series);
/* A request of a version other than HTTP/1's head (HTTP/2's streams):
 * method, network.protocol.version `protocol` (enum oa_metric_protocol);
 * a client's server.address (host_len octets of host) and server.port
 * (-1: none). series: a server's, the series its connection found last
 * (NULL: looked up), as for oa_http_metrics_start_server. */
void oa_http_metrics_start_request(struct oa_http_metric_request *m, bool server, const char *method,
                                   size_t method_len, uint8_t protocol, const char *host, size_t host_len, int port,
                                   uint64_t start, struct oa_http_metrics_series_memo *series);
/* The series of a server request with duration key `key` (its outcome
 * set, for the duration): what oa_metrics_series finds for its
 * http.server.active_requests key and for key, from the memo when it holds
 * them (series may be NULL: looked up; a client's key is always looked up). */
struct oa_series *oa_http_metrics_active_series(struct oa_http_metrics_series_memo *series,
                                                const struct oa_http_metric_key *key);
struct oa_series *oa_http_metrics_duration_series(struct oa_http_metrics_series_memo *series,
                                                  const struct oa_http_metric_key *key);
/* The series of a client request with duration key `key` (its outcome
 * set), its server.address and server.port those of the server memo's
 * stamp server_stamp: from the memo when it holds them (series may be NULL,
 * server_stamp 0: looked up). */
struct oa_series *oa_http_metrics_client_duration_series(struct oa_http_metrics_series_memo *series,
                                                         const struct oa_http_metric_key *key, uint32_t server_stamp);
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

/* Registers the HTTP instruments with the metrics table (their names,
 * units, buckets, and how their keys become attributes by the HTTP semantic
 * conventions). Called at start-up, before any measurement; once is enough. */
void oa_http_metrics_register(void);

#endif
