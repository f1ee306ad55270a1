/* The metric instruments of the shim and the table that aggregates them.
 *
 * Program threads record: they find the series of an attribute set in a
 * fixed-size, lock-free hash table (claimed with one compare-and-swap the
 * first time an attribute set is seen) and add to its counters with atomic
 * increments. No lock, no allocation, no system call. When an instrument
 * already has OA_METRICS_SERIES_LIMIT attribute sets, new ones go to its
 * overflow series (attribute otel.metric.overflow=true), so memory and
 * cardinality stay bounded whatever the traffic.
 *
 * The background metrics thread collects: it turns the table into an
 * oa_metric_batch (cumulative or delta) for the exporters. */
#ifndef OA_METRICS_H
#define OA_METRICS_H

#include "base/common.h"
#include "export/batch_processor.h"
#include "metrics/metric_data.h"

enum oa_instrument {
    OA_INSTRUMENT_SERVER_DURATION = 0, /* http.server.request.duration */
    OA_INSTRUMENT_CLIENT_DURATION,     /* http.client.request.duration */
    OA_INSTRUMENT_SERVER_ACTIVE,       /* http.server.active_requests */
    OA_INSTRUMENTS
};

/* Attribute sets per instrument before the overflow series takes over. */
#define OA_METRICS_SERIES_LIMIT 200
/* Slots of the hash table (all instruments): a power of two, kept at most
 * about 60% full by the limit so that probes stay short. */
#define OA_METRICS_TABLE_SLOTS 1024

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

/* One attribute set. Compared and hashed as bytes: build it with
 * oa_metric_key_init, which zeroes everything before the address (padding
 * included); the address is read up to address_len only. error_type points to a
 * string with static lifetime (an errno name, "connection_closed"). */
struct oa_metric_key {
    uint8_t instrument;        /* enum oa_instrument */
    uint8_t method;            /* index in oa_http_known_methods, or OA_HTTP_METHOD_OTHER */
    uint8_t protocol;          /* enum oa_metric_protocol, or OA_METRIC_NO_VERSION */
    uint8_t address_len;       /* server.address (clients only) */
    uint16_t status;           /* http.response.status_code, 0 = none */
    int32_t port;              /* server.port (clients only), -1 = none */
    const char *error_type;    /* NULL = none; else static */
    char address[OA_METRIC_ADDRESS_MAX + 1];
};

struct oa_series;
struct oa_metric_point;

/* Fills a point's attributes from a series' key: each instrument's protocol
 * provides one, registered at start-up (the table knows no protocol). */
typedef void (*oa_metric_attributes_fn)(struct oa_metric_point *p, const struct oa_metric_key *k);
void oa_metrics_set_attributes(enum oa_instrument instrument, oa_metric_attributes_fn fn);
/* For attribute functions: appends one attribute (ignored past the point's room). */
void oa_metric_point_attr_str(struct oa_metric_point *p, const char *key, const char *value, size_t len);
void oa_metric_point_attr_int(struct oa_metric_point *p, const char *key, int64_t value);

void oa_metric_key_init(struct oa_metric_key *k, enum oa_instrument instrument);

/* ---- program threads ---------------------------------------------------- */

/* The series of this attribute set, created if new; the instrument's
 * overflow series when the limit is reached. Never NULL, never blocks.
 * Each thread remembers the last series it found per instrument: finding
 * it again is one key compare. */
struct oa_series *oa_metrics_series(const struct oa_metric_key *key);
void oa_metrics_record_duration(struct oa_series *s, uint64_t duration_ns);
/* Changes at every reset of the table: a series found under another
 * generation is no longer the key's. */
unsigned oa_metrics_generation(void);
/* Up-down counters */
void oa_metrics_add(struct oa_series *s, int64_t delta);

/* Index of the bucket of a duration: bucket i holds (bound[i-1], bound[i]],
 * the last one everything above the last bound. */
size_t oa_metrics_bucket_index(uint64_t duration_ns);

/* ---- the metrics thread --------------------------------------------------- */

/* What the collector keeps between two collections (previous values for
 * delta temporality, cumulative minimum and maximum). Owned by one thread. */
struct oa_metrics_collector;

struct oa_metrics_collector *oa_metrics_collector_new(void);
void oa_metrics_collector_free(struct oa_metrics_collector *c);

/* Reads the table (and the span exporter's health counters, when given) into
 * a batch whose memory belongs to the collector until the next call. Delta
 * temporality reports what changed since the previous call and leaves out
 * series that did not change; http.server.active_requests is an up-down
 * counter and stays cumulative (as the OTLP temporality preference says). */
const struct oa_metric_batch *oa_metrics_collect(struct oa_metrics_collector *c, bool delta,
                                                 const struct oa_export_counters *health);

/* Number of series in use for an instrument, overflow included (tests). */
size_t oa_metrics_series_count(enum oa_instrument instrument);

/* Forked child: the parent's measurements are the parent's. */
void oa_metrics_table_reset(void);

/* ---- life cycle (src/metrics_reader.c) ------------------------------------ */

/* Called once from library initialisation (the process the thread will
 * belong to). Starts nothing. */
void oa_metrics_init(void);
/* Whether measurements are taken at all (OTEL_METRICS_EXPORTER is not none). */
bool oa_metrics_enabled(void);
/* Called with the first measurement: starts the metrics thread once. Cheap
 * afterwards (one atomic load). */
void oa_metrics_reader_start(void);
/* Exit: asks the metrics thread for its final export without waiting, so
 * that it overlaps with the span flush. */
void oa_metrics_begin_exit_flush(void);
/* Exit: waits (bounded by the export timeout) for the final export. */
void oa_metrics_shutdown(void);
void oa_metrics_atfork_child(void);

#endif
