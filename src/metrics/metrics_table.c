/* The instruments table: lock-free recording on the program's threads,
 * collection on the metrics thread (see include/oa_metrics.h).
 *
 * A slot goes EMPTY -> CLAIMED -> READY exactly once (until a fork resets
 * the table). The thread that wins the compare-and-swap writes the key and
 * publishes it with a release store; readers compare keys only of READY
 * slots. A thread that finds a slot CLAIMED waits a bounded number of spins
 * for it (the claimer has a few stores left to do); if the claimer was
 * interrupted for longer, the measurement goes to the overflow series rather
 * than wait. Counters are plain atomic adds; minimum and maximum are
 * compare-and-swap loops that end as soon as the stored value is better.
 *
 * The table is static (no allocation on the program's side, untouched pages
 * cost nothing). The collector keeps the previous values it needs for delta
 * temporality in its own memory.
 *
 * Each thread remembers the last series it found per instrument: a thread
 * that records the same attribute set again (the common case: one route,
 * one status) compares its key with that series' key and is done, without
 * hashing or probing. A remembered series is only trusted within the table
 * generation it was found in (a fork's reset starts a new one), and the
 * overflow series is never remembered (its key is no attribute set). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics_table.h"

const double oa_http_duration_bounds[OA_HTTP_DURATION_BOUNDS] = {
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
};

/* The same bounds in nanoseconds: bucket selection is integer compares. */
static const uint64_t bounds_ns[OA_HTTP_DURATION_BOUNDS] = {
    5000000ull,   10000000ull,   25000000ull,   50000000ull,   75000000ull,
    100000000ull, 250000000ull,  500000000ull,  750000000ull,  1000000000ull,
    2500000000ull, 5000000000ull, 7500000000ull, 10000000000ull,
};

enum slot_state {
    SLOT_EMPTY = 0,
    SLOT_CLAIMED,
    SLOT_READY,
};

#define CLAIM_SPINS 1000

struct oa_series {
    int state;                 /* enum slot_state, atomic */
    uint32_t hash;
    struct oa_metric_key key;
    uint64_t sum_ns;
    uint64_t min_ns;           /* UINT64_MAX: nothing since the collector last took it */
    uint64_t max_ns;
    int64_t value;             /* up-down counters */
    uint64_t buckets[OA_HTTP_DURATION_BUCKETS];
};

/* Slots, then one overflow series per instrument. */
#define OVERFLOW_SLOT(instrument) (OA_METRICS_TABLE_SLOTS + (instrument))
#define ALL_SLOTS (OA_METRICS_TABLE_SLOTS + OA_INSTRUMENTS)

static struct oa_series table[ALL_SLOTS];
static unsigned table_generation; /* bumped by each reset */

struct series_cache {
    struct oa_series *series; /* a READY slot of table_generation, or NULL */
    unsigned generation;
};

/* Tiny and initial-exec, as every TLS of a preloaded library. */
static __thread struct series_cache series_cache[OA_INSTRUMENTS] __attribute__((tls_model("initial-exec")));
static uint32_t series_used[OA_INSTRUMENTS]; /* atomic */
static uint64_t epoch_unix_nano;             /* first measurement; cumulative start time */

void oa_metric_key_init(struct oa_metric_key *k, enum oa_instrument instrument)
{
    /* the address is read only up to address_len: no need to clear it */
    memset(k, 0, offsetof(struct oa_metric_key, address));
    k->instrument = (uint8_t)instrument;
    k->protocol = OA_METRIC_NO_VERSION;
    k->port = -1;
}

size_t oa_metrics_bucket_index(uint64_t duration_ns)
{
    size_t i = 0;
    while (i < OA_HTTP_DURATION_BOUNDS && duration_ns > bounds_ns[i])
        i++;
    return i;
}

/* The bytes of a key that can differ: everything before the address, and
 * the address up to its length (what follows it is never read as part of
 * the key). */
#define KEY_HEAD_BYTES offsetof(struct oa_metric_key, address)
#define KEY_HEAD_WORDS (KEY_HEAD_BYTES / 8)
_Static_assert(KEY_HEAD_BYTES % 8 == 0, "the key's head is read as whole words");
_Static_assert(sizeof(((struct oa_metric_key *)0)->address) % 8 == 0,
               "the address is read as whole words, its last one masked");

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

static uint64_t load_word(const void *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* Word i of an address of len bytes, its bytes from len on cleared: the
 * array is a whole number of words, so the load stays inside it whatever
 * the bytes past len hold. */
static uint64_t address_word(const char *address, size_t len, size_t i)
{
    uint64_t w = load_word(address + 8 * i);
    size_t left = len - 8 * i;
    return left >= 8 ? w : w & ((1ull << (8 * left)) - 1);
}

static uint64_t address_hash(const struct oa_metric_key *k)
{
    uint64_t h = 0x243f6a8885a308d3ull;
    for (size_t i = 0; 8 * i < k->address_len; i++)
        h = mix(h, address_word(k->address, k->address_len, i));
    return h;
}

/* The key's head as words (KEY_HEAD_WORDS of them). */
static void head_words(const struct oa_metric_key *k, uint64_t w[3])
{
    _Static_assert(KEY_HEAD_WORDS == 3, "head_words reads three words");
    w[0] = load_word((const char *)k);
    w[1] = load_word((const char *)k + 8);
    w[2] = load_word((const char *)k + 16);
}

/* A multiplicative hash over the key's head and address, 8 bytes at a
 * time, reading the address up to its length only. */
static uint32_t key_hash(const struct oa_metric_key *k)
{
    uint64_t w[3];
    head_words(k, w);
    uint64_t h = mix(mix(mix(address_hash(k), w[0]), w[1]), w[2]);
    return (uint32_t)(h ^ (h >> 32));
}

static inline __attribute__((always_inline)) bool key_equal(const struct oa_metric_key *a, const struct oa_metric_key *b)
{
    uint64_t wa[3], wb[3];
    head_words(a, wa);
    head_words(b, wb);
    if (((wa[0] ^ wb[0]) | (wa[1] ^ wb[1]) | (wa[2] ^ wb[2])) != 0)
        return false;
    /* address_len is in the head: both addresses have a's length */
    uint64_t diff = 0;
    for (size_t i = 0; 8 * i < a->address_len; i++)
        diff |= address_word(a->address, a->address_len, i) ^ address_word(b->address, a->address_len, i);
    return diff == 0;
}

static void note_epoch(void)
{
    if (__atomic_load_n(&epoch_unix_nano, __ATOMIC_RELAXED) == 0) {
        uint64_t expected = 0;
        __atomic_compare_exchange_n(&epoch_unix_nano, &expected, oa_now_unix_nano(), false,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
}

static struct oa_series *overflow_series(enum oa_instrument instrument)
{
    struct oa_series *s = &table[OVERFLOW_SLOT(instrument)];
    int expected = SLOT_EMPTY;

    if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY &&
        __atomic_compare_exchange_n(&s->state, &expected, SLOT_CLAIMED, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        oa_metric_key_init(&s->key, instrument);
        __atomic_store_n(&s->min_ns, UINT64_MAX, __ATOMIC_RELAXED);
        __atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
    }
    /* Counting into a slot that is still being claimed is harmless: its
     * counters are not touched by the claim. */
    return s;
}

/* Waits (bounded) for a claimed slot to be published. */
static bool wait_ready(struct oa_series *s)
{
    for (int i = 0; i < CLAIM_SPINS; i++) {
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_READY)
            return true;
        __builtin_ia32_pause();
    }
    return false;
}

/* Claims an empty slot for key, within the instrument's limit. */
static bool claim(struct oa_series *s, const struct oa_metric_key *key, uint32_t hash)
{
    enum oa_instrument instrument = (enum oa_instrument)key->instrument;
    int expected = SLOT_EMPTY;

    if (__atomic_fetch_add(&series_used[instrument], 1, __ATOMIC_RELAXED) >= OA_METRICS_SERIES_LIMIT) {
        __atomic_fetch_sub(&series_used[instrument], 1, __ATOMIC_RELAXED);
        return false;
    }
    if (!__atomic_compare_exchange_n(&s->state, &expected, SLOT_CLAIMED, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        __atomic_fetch_sub(&series_used[instrument], 1, __ATOMIC_RELAXED);
        return false;
    }
    s->key = *key;
    s->hash = hash;
    __atomic_store_n(&s->min_ns, UINT64_MAX, __ATOMIC_RELAXED);
    __atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
    return true;
}

/* The probe past the home slot of a key: finds it further on, claims a slot
 * for it, or falls back to the overflow series. */
static __attribute__((noinline)) struct oa_series *series_probe(const struct oa_metric_key *key, uint32_t hash)
{
    enum oa_instrument instrument = (enum oa_instrument)key->instrument;

    note_epoch();
    for (uint32_t probe = 0; probe < OA_METRICS_TABLE_SLOTS; probe++) {
        struct oa_series *s = &table[(hash + probe) & (OA_METRICS_TABLE_SLOTS - 1)];
        int state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

        if (state == SLOT_EMPTY) {
            if (__atomic_load_n(&series_used[instrument], __ATOMIC_RELAXED) >= OA_METRICS_SERIES_LIMIT)
                return overflow_series(instrument);
            if (claim(s, key, hash))
                return s;
            state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
            if (state == SLOT_EMPTY) /* the limit was reached meanwhile */
                return overflow_series(instrument);
        }
        if (state == SLOT_CLAIMED && !wait_ready(s))
            return overflow_series(instrument);
        if (s->hash == hash && key_equal(&s->key, key))
            return s;
    }
    return overflow_series(instrument);
}

/* A key this thread did not find last: at its home slot nearly always (the
 * epoch is already noted then, by whoever claimed the slot since the last
 * reset), else by the probe. Out of line, so that the path of a remembered
 * series saves no registers. */
static __attribute__((noinline)) struct oa_series *series_lookup(const struct oa_metric_key *key,
                                                                 struct series_cache *cache, unsigned generation)
{
    uint32_t hash = key_hash(key);
    struct oa_series *s = &table[hash & (OA_METRICS_TABLE_SLOTS - 1)];

    if (!(__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_READY && s->hash == hash && key_equal(&s->key, key)))
        s = series_probe(key, hash);
    if (s < &table[OA_METRICS_TABLE_SLOTS]) {
        cache->series = s;
        cache->generation = generation;
    }
    return s;
}

struct oa_series *oa_metrics_series(const struct oa_metric_key *key)
{
    struct series_cache *cache = &series_cache[key->instrument < OA_INSTRUMENTS ? key->instrument : 0];
    unsigned generation = __atomic_load_n(&table_generation, __ATOMIC_RELAXED);
    struct oa_series *s = cache->series;

    if (s != NULL && cache->generation == generation && key_equal(&s->key, key))
        return s;
    return series_lookup(key, cache, generation);
}

unsigned oa_metrics_generation(void)
{
    return __atomic_load_n(&table_generation, __ATOMIC_RELAXED);
}

void oa_metrics_record_duration(struct oa_series *s, uint64_t ns)
{
    uint64_t seen;

    __atomic_fetch_add(&s->sum_ns, ns, __ATOMIC_RELAXED);
    seen = __atomic_load_n(&s->min_ns, __ATOMIC_RELAXED);
    while (ns < seen && !__atomic_compare_exchange_n(&s->min_ns, &seen, ns, true, __ATOMIC_RELAXED,
                                                     __ATOMIC_RELAXED))
        ;
    seen = __atomic_load_n(&s->max_ns, __ATOMIC_RELAXED);
    while (ns > seen && !__atomic_compare_exchange_n(&s->max_ns, &seen, ns, true, __ATOMIC_RELAXED,
                                                     __ATOMIC_RELAXED))
        ;
    /* The bucket is the count (the collector sums them): last, so that a
     * counted measurement has its sum in already (release/acquire). */
    __atomic_fetch_add(&s->buckets[oa_metrics_bucket_index(ns)], 1, __ATOMIC_RELEASE);
}

void oa_metrics_add(struct oa_series *s, int64_t delta)
{
    __atomic_fetch_add(&s->value, delta, __ATOMIC_RELAXED);
}

size_t oa_metrics_series_count(enum oa_instrument instrument)
{
    size_t n = 0;
    for (size_t i = 0; i < ALL_SLOTS; i++) {
        if (__atomic_load_n(&table[i].state, __ATOMIC_ACQUIRE) == SLOT_READY &&
            table[i].key.instrument == instrument)
            n++;
    }
    return n;
}

/* Only the slots in use are cleared: a forked child that execs right away
 * should not copy the whole table page by page. */
void oa_metrics_table_reset(void)
{
    for (size_t i = 0; i < ALL_SLOTS; i++) {
        if (table[i].state != SLOT_EMPTY)
            memset(&table[i], 0, sizeof table[i]);
    }
    memset(series_used, 0, sizeof series_used);
    epoch_unix_nano = 0;
    /* every thread's remembered series belongs to the old table */
    __atomic_add_fetch(&table_generation, 1, __ATOMIC_RELAXED);
}

/* ---- collection --------------------------------------------------------- */

/* What the collector remembers of one slot. */
struct previous {
    uint64_t sum_ns;
    uint64_t buckets[OA_HTTP_DURATION_BUCKETS];
    int64_t value;
    uint64_t min_ns; /* since the start (cumulative) */
    uint64_t max_ns;
};

enum health_metric { HEALTH_EXPORTED, HEALTH_DROPPED, HEALTH_FAILED, HEALTH_METRICS };

/* Metrics of a batch: the three instruments, then the health counters. */
#define BATCH_METRICS (OA_INSTRUMENTS + HEALTH_METRICS)

struct oa_metrics_collector {
    struct previous previous[ALL_SLOTS];
    uint64_t previous_health[HEALTH_METRICS];
    uint64_t last_unix_nano;
    struct oa_metric metrics[BATCH_METRICS];
    struct oa_metric_point points[OA_INSTRUMENTS][OA_METRICS_SERIES_LIMIT + 1];
    struct oa_metric_point health_points[HEALTH_METRICS];
    struct oa_metric_batch batch;
};

struct oa_metrics_collector *oa_metrics_collector_new(void)
{
    struct oa_metrics_collector *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    for (size_t i = 0; i < ALL_SLOTS; i++)
        c->previous[i].min_ns = UINT64_MAX;
    return c;
}

void oa_metrics_collector_free(struct oa_metrics_collector *c)
{
    free(c);
}

void oa_metric_point_attr_str(struct oa_metric_point *p, const char *key, const char *value, size_t len)
{
    struct oa_attr *a;

    if (p->n_attrs >= OA_METRIC_POINT_MAX_ATTRS)
        return;
    a = &p->attrs[p->n_attrs++];
    a->key = key;
    a->type = OA_VALUE_STRING;
    a->v.str.ptr = value;
    a->v.str.len = (uint32_t)len;
}

void oa_metric_point_attr_int(struct oa_metric_point *p, const char *key, int64_t value)
{
    struct oa_attr *a;

    if (p->n_attrs >= OA_METRIC_POINT_MAX_ATTRS)
        return;
    a = &p->attrs[p->n_attrs++];
    a->key = key;
    a->type = OA_VALUE_INT;
    a->v.i = value;
}

/* Per instrument, the function that turns a key into attributes: the
 * instrument's protocol registers it (oa_metrics_set_attributes); the table
 * itself knows no protocol's conventions. */
static oa_metric_attributes_fn attributes_of[OA_INSTRUMENTS];

void oa_metrics_set_attributes(enum oa_instrument instrument, oa_metric_attributes_fn fn)
{
    if ((unsigned)instrument < OA_INSTRUMENTS)
        __atomic_store_n(&attributes_of[instrument], fn, __ATOMIC_RELEASE);
}

/* The attributes of a key: the overflow series' own, else what the
 * instrument's protocol says. The key's bytes stay valid (a slot is never
 * rewritten while the table lives). */
static void key_attributes(struct oa_metric_point *p, const struct oa_series *s, bool overflow)
{
    oa_metric_attributes_fn fn;

    if (overflow) {
        p->attrs[0].key = "otel.metric.overflow";
        p->attrs[0].type = OA_VALUE_BOOL;
        p->attrs[0].v.b = true;
        p->n_attrs = 1;
        return;
    }
    fn = __atomic_load_n(&attributes_of[s->key.instrument < OA_INSTRUMENTS ? s->key.instrument : 0],
                         __ATOMIC_ACQUIRE);
    if (fn != NULL)
        fn(p, &s->key);
}

const char *oa_metric_protocol_text(uint8_t protocol)
{
    static const char *const text[] = {"1.0", "1.1", "2", "3"};
    return protocol < sizeof text / sizeof text[0] ? text[protocol] : NULL;
}

static double seconds(uint64_t ns)
{
    return (double)ns / 1e9;
}

/* One histogram point; false when delta and nothing changed. Buckets are
 * read before the sum: a measurement counted in a bucket always has its
 * duration in the sum already. */
static bool histogram_point(struct oa_metric_point *p, struct oa_series *s, struct previous *prev,
                            bool delta)
{
    uint64_t total = 0;

    for (size_t b = 0; b < OA_HTTP_DURATION_BUCKETS; b++) {
        uint64_t v = __atomic_load_n(&s->buckets[b], __ATOMIC_ACQUIRE);
        p->bucket_counts[b] = delta ? v - prev->buckets[b] : v;
        prev->buckets[b] = v;
        total += p->bucket_counts[b];
    }
    uint64_t sum_ns = __atomic_load_n(&s->sum_ns, __ATOMIC_RELAXED);
    uint64_t min_ns = __atomic_exchange_n(&s->min_ns, UINT64_MAX, __ATOMIC_RELAXED);
    uint64_t max_ns = __atomic_exchange_n(&s->max_ns, 0, __ATOMIC_RELAXED);

    /* The count is the sum of the buckets, so the two always agree. */
    p->count = total;
    p->sum = seconds(delta ? sum_ns - prev->sum_ns : sum_ns);
    prev->sum_ns = sum_ns;
    if (min_ns != UINT64_MAX) {
        if (min_ns < prev->min_ns)
            prev->min_ns = min_ns;
        if (max_ns > prev->max_ns)
            prev->max_ns = max_ns;
    }
    if (delta) {
        p->has_min_max = min_ns != UINT64_MAX;
        p->min = seconds(min_ns);
        p->max = seconds(max_ns);
    } else {
        p->has_min_max = prev->min_ns != UINT64_MAX;
        p->min = seconds(prev->min_ns);
        p->max = seconds(prev->max_ns);
    }
    return !delta || p->count > 0;
}

static const struct {
    const char *name;
    const char *description;
    const char *unit;
    enum oa_metric_kind kind;
} instruments[OA_INSTRUMENTS] = {
    [OA_INSTRUMENT_SERVER_DURATION] = {"http.server.request.duration",
                                       "Duration of HTTP server requests.", "s", OA_METRIC_HISTOGRAM},
    [OA_INSTRUMENT_CLIENT_DURATION] = {"http.client.request.duration",
                                       "Duration of HTTP client requests.", "s", OA_METRIC_HISTOGRAM},
    [OA_INSTRUMENT_SERVER_ACTIVE] = {"http.server.active_requests",
                                     "Number of active HTTP server requests.", "{request}", OA_METRIC_SUM},
};

static const struct {
    const char *name;
    const char *description;
} health[HEALTH_METRICS] = {
    [HEALTH_EXPORTED] = {"otelauto.spans.exported", "Spans the collector accepted."},
    [HEALTH_DROPPED] = {"otelauto.spans.dropped", "Spans dropped because the export queue was full."},
    [HEALTH_FAILED] = {"otelauto.spans.failed", "Spans lost because their export failed."},
};

static void collect_health(struct oa_metrics_collector *c, bool delta, uint64_t start, uint64_t now,
                           const struct oa_export_counters *counters)
{
    const uint64_t values[HEALTH_METRICS] = {
        [HEALTH_EXPORTED] = counters->exported,
        [HEALTH_DROPPED] = counters->dropped_queue_full,
        [HEALTH_FAILED] = counters->failed,
    };

    for (size_t i = 0; i < HEALTH_METRICS; i++) {
        struct oa_metric *m = &c->metrics[c->batch.n_metrics++];
        struct oa_metric_point *p = &c->health_points[i];

        memset(p, 0, sizeof *p);
        p->start_unix_nano = start;
        p->time_unix_nano = now;
        p->value = (int64_t)(delta ? values[i] - c->previous_health[i] : values[i]);
        c->previous_health[i] = values[i];
        *m = (struct oa_metric){
            .name = health[i].name,
            .description = health[i].description,
            .unit = "{span}",
            .kind = OA_METRIC_SUM,
            .temporality = delta ? OA_TEMPORALITY_DELTA : OA_TEMPORALITY_CUMULATIVE,
            .monotonic = true,
            .points = p,
            .n_points = 1,
        };
    }
}

const struct oa_metric_batch *oa_metrics_collect(struct oa_metrics_collector *c, bool delta,
                                                 const struct oa_export_counters *counters)
{
    uint64_t now = oa_now_unix_nano();
    uint64_t epoch = __atomic_load_n(&epoch_unix_nano, __ATOMIC_RELAXED);
    uint64_t cumulative_start = epoch ? epoch : now;
    uint64_t delta_start = c->last_unix_nano ? c->last_unix_nano : cumulative_start;

    c->batch.metrics = c->metrics;
    c->batch.n_metrics = 0;
    for (int i = 0; i < OA_INSTRUMENTS; i++) {
        bool histogram = instruments[i].kind == OA_METRIC_HISTOGRAM;
        bool point_delta = delta && histogram;
        struct oa_metric *m = &c->metrics[c->batch.n_metrics++];

        *m = (struct oa_metric){
            .name = instruments[i].name,
            .description = instruments[i].description,
            .unit = instruments[i].unit,
            .kind = instruments[i].kind,
            .temporality = point_delta ? OA_TEMPORALITY_DELTA : OA_TEMPORALITY_CUMULATIVE,
            .monotonic = false,
            .bounds = histogram ? oa_http_duration_bounds : NULL,
            .n_bounds = histogram ? OA_HTTP_DURATION_BOUNDS : 0,
            .points = c->points[i],
            .n_points = 0,
        };
        for (size_t slot = 0; slot < ALL_SLOTS && m->n_points < OA_METRICS_SERIES_LIMIT + 1; slot++) {
            struct oa_series *s = &table[slot];
            struct oa_metric_point *p = &c->points[i][m->n_points];
            bool keep;

            if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY || s->key.instrument != i)
                continue;
            memset(p, 0, sizeof *p);
            p->start_unix_nano = point_delta ? delta_start : cumulative_start;
            p->time_unix_nano = now;
            if (histogram) {
                keep = histogram_point(p, s, &c->previous[slot], point_delta);
            } else {
                p->value = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
                keep = true;
            }
            if (!keep)
                continue;
            key_attributes(p, s, slot >= OA_METRICS_TABLE_SLOTS);
            m->n_points++;
        }
        if (m->n_points == 0)
            c->batch.n_metrics--;
    }
    if (counters)
        collect_health(c, delta, delta_start, now, counters);
    c->last_unix_nano = now;
    return &c->batch;
}
