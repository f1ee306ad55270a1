/* The table that aggregates the metric instruments the protocols register.
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

/* Instruments any protocol registers (oa_metrics_instrument_register): at
 * most this many in all (HTTP has three, gRPC two, databases one). A
 * power of two: each thread's remembered series are indexed by the id's low
 * bits. */
#define OA_METRICS_INSTRUMENTS_MAX 8
/* Attribute sets per instrument before the overflow series takes over. */
#define OA_METRICS_SERIES_LIMIT 200
/* Slots of the hash table (all instruments): a power of two, kept at most
 * about 60% full by the limit so that probes stay short. */
#define OA_METRICS_TABLE_SLOTS 1024
/* Bytes of a protocol's key at most (its head included): what a slot keeps. */
#define OA_METRIC_KEY_MAX 128

/* What every protocol's key begins with. The rest of the key is the
 * protocol's own (its attribute set, in whatever layout it likes); the table
 * compares and hashes the first `size` bytes as bytes, the head included, and
 * never reads a byte past them but within the same 8-byte word, which it
 * masks. So: the key's type is a whole number of 8-byte words (its
 * descriptor's key_size), padding before `size` is zeroed, and what lies
 * past `size` (the unused end of a string, say) is no part of the key.
 * size is at least 8 (the head's word is always compared). */
struct oa_metric_key_head {
    uint16_t instrument; /* the id oa_metrics_instrument_register gave */
    uint16_t size;       /* bytes of the key that are the attribute set */
};

struct oa_series;
struct oa_metric_point;

/* Fills a point's attributes from a series' key (its bytes as the protocol
 * wrote them, `size` of them; zero past): the instrument's protocol turns
 * its own key into its own conventions' attributes. */
typedef void (*oa_metric_attributes_fn)(struct oa_metric_point *p, const struct oa_metric_key_head *key);
/* For attribute functions: appends one attribute (ignored past the point's room). */
void oa_metric_point_attr_str(struct oa_metric_point *p, const char *key, const char *value, size_t len);
void oa_metric_point_attr_int(struct oa_metric_point *p, const char *key, int64_t value);

enum oa_instrument_kind {
    /* durations: recorded in ns, exported in the descriptor's unit, "s"
     * (seconds) or "ms" (milliseconds: the RPC conventions before v1.39),
     * with its bucket bounds */
    OA_INSTRUMENT_HISTOGRAM = 0,
    /* oa_metrics_add, either way; always cumulative (the OTLP temporality
     * preference keeps up-down counters cumulative) */
    OA_INSTRUMENT_UP_DOWN_COUNTER,
    /* oa_metrics_add, upwards only; delta when delta is preferred */
    OA_INSTRUMENT_COUNTER,
};

/* An instrument, as its protocol declares it. The table copies it; the
 * strings and the bounds must outlive the process' metrics (literals). */
struct oa_instrument_desc {
    const char *name;
    const char *description;
    const char *unit;
    enum oa_instrument_kind kind;
    const double *bounds;   /* histograms: increasing upper bounds in the unit */
    uint32_t n_bounds;      /* histograms: 1 .. OA_METRIC_MAX_BOUNDS */
    oa_metric_attributes_fn attributes;
    size_t key_size;        /* sizeof the protocol's key type: 8 .. OA_METRIC_KEY_MAX, a multiple of 8 */
};

/* Registers an instrument at start-up, before any series is looked up or
 * collected (registration takes no lock against them): its id (what its
 * keys' head.instrument says), or -1 when the descriptor is invalid or
 * OA_METRICS_INSTRUMENTS_MAX are registered already. Collection reports the
 * instruments in the order registered. */
int oa_metrics_instrument_register(const struct oa_instrument_desc *d);

/* ---- program threads ---------------------------------------------------- */

/* The series of this attribute set, created if new; the instrument's
 * overflow series when the limit is reached. Never NULL, never blocks.
 * Each thread remembers the last series it found per instrument: finding
 * it again is one key compare. */
struct oa_series *oa_metrics_series(const struct oa_metric_key_head *key);
void oa_metrics_record_duration(struct oa_series *s, uint64_t duration_ns);
/* Changes at every reset of the table: a series found under another
 * generation is no longer the key's. */
unsigned oa_metrics_generation(void);
/* Counters and up-down counters */
void oa_metrics_add(struct oa_series *s, int64_t delta);

/* Index of the bucket of a duration in a histogram instrument: bucket i
 * holds (bound[i-1], bound[i]], the last one everything above the last
 * bound. */
size_t oa_metrics_bucket_index(int instrument, uint64_t duration_ns);

/* ---- the metrics thread --------------------------------------------------- */

/* What the collector keeps between two collections (previous values for
 * delta temporality, cumulative minimum and maximum). Owned by one thread. */
struct oa_metrics_collector;

struct oa_metrics_collector *oa_metrics_collector_new(void);
void oa_metrics_collector_free(struct oa_metrics_collector *c);

/* Reads the table (and the span exporter's health counters, when given) into
 * a batch whose memory belongs to the collector until the next call. Delta
 * temporality reports what changed since the previous call and leaves out
 * series that did not change (histograms and counters); up-down counters
 * (http.server.active_requests) stay cumulative, as the OTLP temporality
 * preference says. */
const struct oa_metric_batch *oa_metrics_collect(struct oa_metrics_collector *c, bool delta,
                                                 const struct oa_export_counters *health);

/* Number of series in use for an instrument, overflow included (tests). */
size_t oa_metrics_series_count(int instrument);

/* Forked child: the parent's measurements are the parent's. */
void oa_metrics_table_reset(void);

/* ---- life cycle (src/export/metrics_reader.c) ------------------------------------ */

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
