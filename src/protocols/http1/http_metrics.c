/* HTTP request metrics (include/oa_http_metrics.h): attribute sets of the
 * stable HTTP metric conventions, and never the path, the query or anything
 * else whose values are unbounded. server.address of clients comes from the
 * Host header, which a client chooses freely: the table's per-instrument
 * limit and overflow series bound it. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "protocols/http1/http_metrics.h"
#include "protocols/http1/http_span.h"

const double oa_http_duration_bounds[OA_HTTP_DURATION_BOUNDS] = {
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
};

/* UINT16_MAX: above any id the table gives (OA_METRICS_INSTRUMENTS_MAX) */
uint16_t oa_http_instrument_id[OA_HTTP_INSTRUMENTS] = {UINT16_MAX, UINT16_MAX, UINT16_MAX};

/* The key is compared as whole words up to the address' end: what is
 * before the address is whole words, and so is the address' room. */
_Static_assert(offsetof(struct oa_http_metric_key, address) % 8 == 0, "the key's head is whole words");
_Static_assert(sizeof(struct oa_http_metric_key) % 8 == 0 && sizeof(struct oa_http_metric_key) <= OA_METRIC_KEY_MAX,
               "the key is whole words, within the table's room");
_Static_assert(offsetof(struct oa_http_metric_key, address) + OA_METRIC_ADDRESS_MAX <= UINT16_MAX,
               "head.size holds any key's size");

void oa_http_metric_key_init(struct oa_http_metric_key *k, enum oa_http_instrument instrument)
{
    /* the address is read only up to address_len: no need to clear it */
    memset(k, 0, offsetof(struct oa_http_metric_key, address));
    k->head.instrument = oa_http_instrument_id[instrument];
    k->head.size = offsetof(struct oa_http_metric_key, address);
    k->protocol = OA_METRIC_NO_VERSION;
    k->port = -1;
}

void oa_http_metric_key_set_address(struct oa_http_metric_key *k, const char *host, size_t len)
{
    if (len > OA_METRIC_ADDRESS_MAX)
        len = OA_METRIC_ADDRESS_MAX;
    memcpy(k->address, host, len);
    k->address_len = (uint8_t)len;
    k->head.size = (uint16_t)(offsetof(struct oa_http_metric_key, address) + len);
}

const char *oa_metric_protocol_text(uint8_t protocol)
{
    static const char *const text[] = {"1.0", "1.1", "2", "3"};
    return protocol < sizeof text / sizeof text[0] ? text[protocol] : NULL;
}

/* The attribute set of a request's duration, but for its outcome. */
static void request_key(struct oa_http_metric_key *key, enum oa_http_instrument instrument, const char *method,
                        size_t method_len, uint8_t protocol)
{
    oa_http_metric_key_init(key, instrument);
    key->method = (uint8_t)oa_http_method_index(method, method_len);
    key->protocol = protocol;
}

/* memcmp(a, b, n) == 0 for the few bytes of a Host value, inline: a word
 * at a time, then the bytes left (the call to memcmp costs the program's
 * thread more than the comparison). Reads nothing past either's n bytes. */
static inline bool same_bytes(const char *a, const char *b, size_t n)
{
    uint64_t diff = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }
    for (; i < n; i++)
        diff |= (uint64_t)(unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

void oa_http_metrics_client_server(struct oa_http_metric_key *key, const struct oa_http1_head *h, struct oa_conn *c,
                                   struct oa_http_metrics_server_memo *memo)
{
    const struct oa_http1_header *hv = oa_http1_find_known(h, OA_HTTP1_H_HOST, NULL);
    size_t hv_len = hv != NULL ? hv->value_len : 0;
    if (memo != NULL && memo->valid && memo->host_len == hv_len && memo->generation == c->generation &&
        memo->peer_len == c->peer_len && same_bytes(memo->host, hv_len > 0 ? hv->value : memo->host, hv_len)) {
        key->port = memo->port;
        /* the whole room, a copy of known size (a few moves, no call): the
         * table reads the address only up to its length */
        _Static_assert(sizeof key->address == sizeof memo->address, "the memo's address is a key's");
        memcpy(key->address, memo->address, sizeof key->address);
        key->address_len = memo->address_len;
        key->head.size = (uint16_t)(offsetof(struct oa_http_metric_key, address) + memo->address_len);
        return;
    }
    const char *host;
    size_t len;
    key->port = oa_http_client_server(h, c, &host, &len);
    oa_http_metric_key_set_address(key, host, len);
    if (memo == NULL)
        return;
    /* a new working out, whether it is kept or not (never 0 again) */
    memo->stamp = memo->stamp + 1 != 0 ? memo->stamp + 1 : 1;
    /* a Host value too long to keep is worked out at every request */
    memo->valid = hv_len <= OA_METRIC_ADDRESS_MAX;
    if (!memo->valid)
        return;
    memo->host_len = (uint8_t)hv_len;
    if (hv_len > 0)
        memcpy(memo->host, hv->value, hv_len);
    memo->generation = c->generation;
    memo->peer_len = c->peer_len;
    memo->port = key->port;
    memo->address_len = key->address_len;
    memcpy(memo->address, key->address, key->address_len);
}

/* The server request's keys: method and version are all they hold before
 * the outcome. */
static bool memo_holds(const struct oa_http_metrics_series_memo *series, const struct oa_http_metric_key *key,
                       unsigned generation)
{
    return series->active != NULL && series->generation == generation && series->method == key->method &&
           series->protocol == key->protocol;
}

struct oa_series *oa_http_metrics_active_series(struct oa_http_metrics_series_memo *series,
                                                const struct oa_http_metric_key *key)
{
    unsigned generation = oa_metrics_generation();
    if (series != NULL && memo_holds(series, key, generation))
        return series->active;
    struct oa_http_metric_key active;
    oa_http_metric_key_init(&active, OA_HTTP_SERVER_ACTIVE);
    active.method = key->method;
    struct oa_series *s = oa_http_metrics_series(&active);
    if (series != NULL) {
        series->generation = generation;
        series->method = key->method;
        series->protocol = key->protocol;
        series->active = s;
        series->duration = NULL;
    }
    return s;
}

struct oa_series *oa_http_metrics_duration_series(struct oa_http_metrics_series_memo *series,
                                                  const struct oa_http_metric_key *key)
{
    if (series == NULL || key->head.instrument != oa_http_instrument_id[OA_HTTP_SERVER_DURATION])
        return oa_http_metrics_series(key);
    bool same = memo_holds(series, key, oa_metrics_generation());
    if (same && series->duration != NULL && series->status == key->status && series->error_type == key->error_type)
        return series->duration;
    struct oa_series *s = oa_http_metrics_series(key);
    if (same) {
        series->status = key->status;
        series->error_type = key->error_type;
        series->duration = s;
    }
    return s;
}

struct oa_series *oa_http_metrics_client_duration_series(struct oa_http_metrics_series_memo *series,
                                                         const struct oa_http_metric_key *key, uint32_t server_stamp)
{
    if (series == NULL || server_stamp == 0)
        return oa_http_metrics_series(key);
    unsigned generation = oa_metrics_generation();
    if (series->duration != NULL && series->server_stamp == server_stamp && series->generation == generation &&
        series->method == key->method && series->protocol == key->protocol && series->status == key->status &&
        series->error_type == key->error_type)
        return series->duration;
    struct oa_series *s = oa_http_metrics_series(key);
    series->generation = generation;
    series->method = key->method;
    series->protocol = key->protocol;
    series->status = key->status;
    series->error_type = key->error_type;
    series->server_stamp = server_stamp;
    series->active = NULL; /* a client's memo is never a server's (memo_holds) */
    series->duration = s;
    return s;
}

/* The start both roles share: false when metrics are off (nothing recorded). */
static bool begin(struct oa_http_metric_request *m, enum oa_http_instrument instrument, const char *method,
                  size_t method_len, uint8_t protocol, uint64_t start)
{
    m->recording = false;
    m->active = NULL;
    m->server_stamp = 0;
    if (!oa_metrics_enabled())
        return false;
    m->recording = true;
    m->start_unix_nano = start;
    request_key(&m->key, instrument, method, method_len, protocol);
    return true;
}

static inline uint8_t head_protocol(const struct oa_http1_head *h)
{
    return h->version_minor == 0 ? OA_METRIC_HTTP_1_0 : OA_METRIC_HTTP_1_1;
}

void oa_http_metrics_start_server(struct oa_http_metric_request *m, const struct oa_http1_head *h, uint64_t start,
                                  struct oa_http_metrics_series_memo *series)
{
    if (!begin(m, OA_HTTP_SERVER_DURATION, h->method, h->method_len, head_protocol(h), start))
        return;
    m->active = oa_http_metrics_active_series(series, &m->key);
    oa_metrics_add(m->active, 1);
    oa_metrics_reader_start();
}

void oa_http_metrics_start_client(struct oa_http_metric_request *m, const struct oa_http1_head *h,
                                  struct oa_conn *c, uint64_t start, struct oa_http_metrics_server_memo *memo)
{
    if (!begin(m, OA_HTTP_CLIENT_DURATION, h->method, h->method_len, head_protocol(h), start))
        return;
    oa_http_metrics_client_server(&m->key, h, c, memo);
    m->server_stamp = memo != NULL ? memo->stamp : 0;
    oa_metrics_reader_start();
}

void oa_http_metrics_start_request(struct oa_http_metric_request *m, bool server, const char *method,
                                   size_t method_len, uint8_t protocol, const char *host, size_t host_len, int port,
                                   uint64_t start, struct oa_http_metrics_series_memo *series)
{
    if (!begin(m, server ? OA_HTTP_SERVER_DURATION : OA_HTTP_CLIENT_DURATION, method, method_len, protocol, start))
        return;
    if (server) {
        m->active = oa_http_metrics_active_series(series, &m->key);
        oa_metrics_add(m->active, 1);
    } else {
        m->key.port = port;
        oa_http_metric_key_set_address(&m->key, host, host_len);
    }
    oa_metrics_reader_start();
}

static void leave_active(struct oa_http_metric_request *m)
{
    if (m->active != NULL) {
        oa_metrics_add(m->active, -1);
        m->active = NULL;
    }
}

/* Records one finished request in its duration histogram, its series from
 * the connection's memo when it holds it (series may be NULL; server_stamp:
 * a client request's, 0 for a server's or one without a server memo). */
static void record_duration(struct oa_http_metric_key *key, int status, const char *error, uint64_t start,
                            uint64_t end, struct oa_http_metrics_series_memo *series, uint32_t server_stamp)
{
    key->status = status > 0 && status < 1000 ? (uint16_t)status : 0;
    key->error_type = error;
    struct oa_series *s = server_stamp != 0 ? oa_http_metrics_client_duration_series(series, key, server_stamp)
                                            : oa_http_metrics_duration_series(series, key);
    /* the wall clock may have stepped back meanwhile */
    oa_metrics_record_duration(s, end > start ? end - start : 0);
}

void oa_http_metrics_finish_at(struct oa_http_metric_request *m, int status, const char *error, uint64_t end,
                               struct oa_http_metrics_series_memo *series)
{
    if (!m->recording)
        return;
    m->recording = false;
    leave_active(m);
    record_duration(&m->key, status, error, m->start_unix_nano, end, series, m->server_stamp);
}

void oa_http_metrics_client_request(const char *method, size_t method_len, const char *url, size_t url_len,
                                    uint8_t protocol, int status, const char *error, uint64_t start)
{
    struct oa_http_metric_key key;
    const char *host;
    size_t host_len;

    if (!oa_metrics_enabled())
        return;
    request_key(&key, OA_HTTP_CLIENT_DURATION, method, method_len, protocol);
    key.port = oa_http_url_server(url, url_len, &host, &host_len);
    oa_http_metric_key_set_address(&key, host, host_len);
    record_duration(&key, status, error, start, oa_now_unix_nano(), NULL, 0);
    oa_metrics_reader_start();
}

void oa_http_metrics_abandon(struct oa_http_metric_request *m)
{
    leave_active(m);
    m->recording = false;
}

void oa_http_metrics_disown(struct oa_http_metric_request *m)
{
    m->active = NULL;
    m->recording = false;
}

static const char *const method_other = "_OTHER";

/* The attributes of an HTTP series, by the HTTP semantic conventions: what
 * the metrics table asks of each of the three HTTP instruments. */
static void key_attributes(struct oa_metric_point *p, const struct oa_metric_key_head *head)
{
    /* the head begins the key: the table hands back the key it was given */
    const struct oa_http_metric_key *k = (const struct oa_http_metric_key *)head;
    const char *method = k->method < OA_HTTP_KNOWN_METHODS ? oa_http_known_methods[k->method] : method_other;

    oa_metric_point_attr_str(p, "http.request.method", method, strlen(method));
    oa_metric_point_attr_str(p, "url.scheme", "http", 4);
    if (head->instrument == oa_http_instrument_id[OA_HTTP_SERVER_ACTIVE])
        return;
    if (k->address_len > 0)
        oa_metric_point_attr_str(p, "server.address", k->address, k->address_len);
    if (k->port >= 0)
        oa_metric_point_attr_int(p, "server.port", k->port);
    if (k->status > 0)
        oa_metric_point_attr_int(p, "http.response.status_code", k->status);
    if (k->error_type) {
        oa_metric_point_attr_str(p, "error.type", k->error_type, strlen(k->error_type));
    } else if (k->status >= (head->instrument == oa_http_instrument_id[OA_HTTP_SERVER_DURATION] ? 500 : 400)) {
        int n = snprintf(p->text, sizeof p->text, "%u", (unsigned)k->status);
        oa_metric_point_attr_str(p, "error.type", p->text, (size_t)n);
    }
    const char *version = oa_metric_protocol_text(k->protocol);
    if (version != NULL)
        oa_metric_point_attr_str(p, "network.protocol.version", version, strlen(version));
}

/* The HTTP instruments of the stable HTTP metric conventions. */
static const struct oa_instrument_desc instruments[OA_HTTP_INSTRUMENTS] = {
    [OA_HTTP_SERVER_DURATION] = {
        .name = "http.server.request.duration",
        .description = "Duration of HTTP server requests.",
        .unit = "s",
        .kind = OA_INSTRUMENT_HISTOGRAM,
        .bounds = oa_http_duration_bounds,
        .n_bounds = OA_HTTP_DURATION_BOUNDS,
        .attributes = key_attributes,
        .key_size = sizeof(struct oa_http_metric_key),
    },
    [OA_HTTP_CLIENT_DURATION] = {
        .name = "http.client.request.duration",
        .description = "Duration of HTTP client requests.",
        .unit = "s",
        .kind = OA_INSTRUMENT_HISTOGRAM,
        .bounds = oa_http_duration_bounds,
        .n_bounds = OA_HTTP_DURATION_BOUNDS,
        .attributes = key_attributes,
        .key_size = sizeof(struct oa_http_metric_key),
    },
    [OA_HTTP_SERVER_ACTIVE] = {
        .name = "http.server.active_requests",
        .description = "Number of active HTTP server requests.",
        .unit = "{request}",
        .kind = OA_INSTRUMENT_UP_DOWN_COUNTER,
        .attributes = key_attributes,
        .key_size = sizeof(struct oa_http_metric_key),
    },
};

void oa_http_metrics_register(void)
{
    static bool registered;

    /* start-up runs once per process, but tests may call it again */
    if (registered)
        return;
    registered = true;
    for (int i = 0; i < OA_HTTP_INSTRUMENTS; i++) {
        int id = oa_metrics_instrument_register(&instruments[i]);
        /* a table already full of other instruments: HTTP's keys keep an
         * id no instrument has, and count nowhere */
        oa_http_instrument_id[i] = id >= 0 ? (uint16_t)id : UINT16_MAX;
    }
}
