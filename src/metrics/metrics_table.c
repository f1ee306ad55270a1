/* The instruments table: lock-free recording on the program's threads,
 * collection on the metrics thread (see metrics/metrics_table.h).
 *
 * Instruments are the protocols': each registers its own at start-up (name,
 * unit, kind, bucket bounds, how its keys become attributes, how large they
 * are), and its keys are bytes to the table. Nothing here knows HTTP or any
 * other protocol.
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

/* A registered instrument: its descriptor, and its bounds in nanoseconds
 * (bucket selection is integer compares on the program's thread). */
struct instrument {
    struct oa_instrument_desc desc;
    uint32_t n_bounds;  /* 0 unless a histogram */
    double ns_per_unit; /* histograms: 1e9 (unit "s") or 1e6 ("ms") */
    /* bounds_ns[n_bounds] is UINT64_MAX: the bucket search stops there
     * without a count to compare */
    uint64_t bounds_ns[OA_METRIC_MAX_BOUNDS + 1];
};

static struct instrument instruments[OA_METRICS_INSTRUMENTS_MAX];
static int n_instruments; /* atomic: published after its entry is written */

enum slot_state {
    SLOT_EMPTY = 0,
    SLOT_CLAIMED,
    SLOT_READY,
};

#define CLAIM_SPINS 1000

/* A key as a slot keeps it: whole words, so that it is compared and hashed
 * a word at a time; zero past the bytes copied in. */
union slot_key {
    struct oa_metric_key_head head;
    uint64_t words[OA_METRIC_KEY_MAX / 8];
};
_Static_assert(OA_METRIC_KEY_MAX % 8 == 0, "keys are whole words");

struct oa_series {
    int state;                 /* enum slot_state, atomic */
    uint32_t hash;
    union slot_key key;
    uint64_t sum_ns;
    uint64_t min_ns;           /* UINT64_MAX: nothing since the collector last took it */
    uint64_t max_ns;
    int64_t value;             /* counters, up-down counters */
    uint64_t buckets[OA_METRIC_MAX_BUCKETS];
};

/* Slots, then one overflow series per instrument, then the series of keys
 * no instrument owns (a protocol's bug: counted nowhere, never collected,
 * but a lookup still never fails). */
#define OVERFLOW_SLOT(instrument) (OA_METRICS_TABLE_SLOTS + (instrument))
#define DISCARD_SLOT (OA_METRICS_TABLE_SLOTS + OA_METRICS_INSTRUMENTS_MAX)
#define ALL_SLOTS (DISCARD_SLOT + 1)

static struct oa_series table[ALL_SLOTS];
static unsigned table_generation; /* bumped by each reset */

struct series_cache {
    struct oa_series *series; /* a READY slot of table_generation, or NULL */
    unsigned generation;
};

/* Tiny and initial-exec, as every TLS of a preloaded library. Indexed by
 * the instrument's id (the low bits of whatever a key says: a key of no
 * instrument finds a series of another, whose head differs). */
static __thread struct series_cache series_cache[OA_METRICS_INSTRUMENTS_MAX]
    __attribute__((tls_model("initial-exec")));
static uint32_t series_used[OA_METRICS_INSTRUMENTS_MAX]; /* atomic */
static uint64_t epoch_unix_nano;                         /* first measurement; cumulative start time */

/* The overflow series' key is the instrument's head and nothing more (no
 * attribute set: no lookup ever finds it, its slot is past the hashed
 * ones), written when the instrument is registered and kept by resets
 * (overflow_key): a thread that counts into the slot while another still
 * claims it finds its instrument's buckets. */
static void overflow_key(unsigned instrument)
{
    table[OVERFLOW_SLOT(instrument)].key.head =
        (struct oa_metric_key_head){.instrument = (uint16_t)instrument, .size = sizeof(struct oa_metric_key_head)};
}

int oa_metrics_instrument_register(const struct oa_instrument_desc *d)
{
    int id = __atomic_load_n(&n_instruments, __ATOMIC_ACQUIRE);
    bool histogram = d->kind == OA_INSTRUMENT_HISTOGRAM;

    if (id >= OA_METRICS_INSTRUMENTS_MAX || d->name == NULL || d->key_size < 8 ||
        d->key_size > OA_METRIC_KEY_MAX || d->key_size % 8 != 0 ||
        (histogram && (d->bounds == NULL || d->n_bounds == 0 || d->n_bounds > OA_METRIC_MAX_BOUNDS ||
                       d->unit == NULL || (strcmp(d->unit, "s") != 0 && strcmp(d->unit, "ms") != 0))))
        return -1;
    struct instrument *ins = &instruments[id];
    ins->desc = *d;
    ins->n_bounds = histogram ? d->n_bounds : 0;
    ins->ns_per_unit = histogram && strcmp(d->unit, "ms") == 0 ? 1e6 : 1e9;
    for (uint32_t i = 0; i < ins->n_bounds; i++)
        ins->bounds_ns[i] = (uint64_t)(d->bounds[i] * ins->ns_per_unit + 0.5);
    ins->bounds_ns[ins->n_bounds] = UINT64_MAX;
    overflow_key((unsigned)id);
    __atomic_store_n(&n_instruments, id + 1, __ATOMIC_RELEASE);
    return id;
}

static inline size_t bucket_of(const struct instrument *ins, uint64_t duration_ns)
{
    size_t i = 0;
    while (duration_ns > ins->bounds_ns[i]) /* the sentinel ends it: i <= n_bounds */
        i++;
    return i;
}

size_t oa_metrics_bucket_index(int instrument, uint64_t duration_ns)
{
    if (instrument < 0 || instrument >= __atomic_load_n(&n_instruments, __ATOMIC_ACQUIRE))
        return 0;
    return bucket_of(&instruments[instrument], duration_ns);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

static inline uint64_t key_word(const struct oa_metric_key_head *k, size_t i)
{
    uint64_t w;
    memcpy(&w, (const char *)k + 8 * i, sizeof w);
    return w;
}

/* Word i of a key of size bytes, its bytes from size on cleared (i is the
 * key's last, partial word). The key's type is whole words, so the load
 * stays inside it whatever the bytes past size hold. */
static inline uint64_t key_tail(const struct oa_metric_key_head *k, size_t size, size_t i)
{
    return key_word(k, i) & ((1ull << (8 * (size - 8 * i))) - 1);
}

/* A multiplicative hash over the key's bytes, 8 at a time: the first word
 * (the head: instrument and size) whole, the rest up to size. */
static uint32_t key_hash(const struct oa_metric_key_head *k)
{
    size_t size = k->size;
    uint64_t h = mix(0x243f6a8885a308d3ull, key_word(k, 0));
    size_t i = 1;

    for (; 8 * i + 8 <= size; i++)
        h = mix(h, key_word(k, i));
    if (8 * i < size)
        h = mix(h, key_tail(k, size, i));
    return (uint32_t)(h ^ (h >> 32));
}

/* Whether b is the attribute set a (a slot's key) is: memcmp of their
 * bytes up to the size, a word at a time, inline (a call to memcmp would
 * cost the program's thread more than the whole comparison). The first
 * word holds both heads: past it, both keys have a's instrument and size,
 * so neither is read beyond its type. */
static inline __attribute__((always_inline)) bool key_equal(const union slot_key *a,
                                                              const struct oa_metric_key_head *b)
{
    if (a->words[0] != key_word(b, 0))
        return false;
    size_t size = a->head.size;
    uint64_t diff = 0;
    size_t i = 1;
    for (; 8 * i + 8 <= size; i++)
        diff |= a->words[i] ^ key_word(b, i);
    if (8 * i < size)
        diff |= key_tail(&a->head, size, i) ^ key_tail(b, size, i);
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

static struct oa_series *overflow_series(unsigned instrument)
{
    struct oa_series *s = &table[OVERFLOW_SLOT(instrument)];
    int expected = SLOT_EMPTY;

    if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY &&
        __atomic_compare_exchange_n(&s->state, &expected, SLOT_CLAIMED, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
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
static bool claim(struct oa_series *s, const struct oa_metric_key_head *key, uint32_t hash)
{
    unsigned instrument = key->instrument;
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
    /* the first word whole, as it is compared whole */
    memcpy(&s->key, key, key->size < 8 ? 8 : key->size);
    s->hash = hash;
    __atomic_store_n(&s->min_ns, UINT64_MAX, __ATOMIC_RELAXED);
    __atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
    return true;
}

/* The probe past the home slot of a key: finds it further on, claims a slot
 * for it, or falls back to the overflow series. */
static __attribute__((noinline)) struct oa_series *series_probe(const struct oa_metric_key_head *key, uint32_t hash)
{
    unsigned instrument = key->instrument;

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
 * series saves no registers. A key no registered instrument owns, or
 * larger than its instrument's keys, is counted nowhere: its series is the
 * discard slot's. */
static __attribute__((noinline)) struct oa_series *series_lookup(const struct oa_metric_key_head *key,
                                                                 struct series_cache *cache, unsigned generation)
{
    if (key->instrument >= (unsigned)__atomic_load_n(&n_instruments, __ATOMIC_ACQUIRE) ||
        key->size > instruments[key->instrument].desc.key_size)
        return &table[DISCARD_SLOT];
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

struct oa_series *oa_metrics_series(const struct oa_metric_key_head *key)
{
    struct series_cache *cache = &series_cache[key->instrument & (OA_METRICS_INSTRUMENTS_MAX - 1)];
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
    __atomic_fetch_add(&s->buckets[bucket_of(&instruments[s->key.head.instrument], ns)], 1, __ATOMIC_RELEASE);
}

void oa_metrics_add(struct oa_series *s, int64_t delta)
{
    __atomic_fetch_add(&s->value, delta, __ATOMIC_RELAXED);
}

size_t oa_metrics_series_count(int instrument)
{
    size_t n = 0;
    for (size_t i = 0; i < DISCARD_SLOT; i++) {
        if (__atomic_load_n(&table[i].state, __ATOMIC_ACQUIRE) == SLOT_READY &&
            table[i].key.head.instrument == instrument)
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
    for (int i = 0; i < __atomic_load_n(&n_instruments, __ATOMIC_ACQUIRE); i++)
        overflow_key((unsigned)i);
    memset(series_used, 0, sizeof series_used);
    epoch_unix_nano = 0;
    /* every thread's remembered series belongs to the old table */
    __atomic_add_fetch(&table_generation, 1, __ATOMIC_RELAXED);
}

/* ---- collection --------------------------------------------------------- */

/* What the collector remembers of one slot. */
struct previous {
    uint64_t sum_ns;
    uint64_t buckets[OA_METRIC_MAX_BUCKETS];
    int64_t value;
    uint64_t min_ns; /* since the start (cumulative) */
    uint64_t max_ns;
};

enum health_metric { HEALTH_EXPORTED, HEALTH_DROPPED, HEALTH_FAILED, HEALTH_METRICS };

/* Metrics of a batch: the registered instruments, then the health counters. */
#define BATCH_METRICS (OA_METRICS_INSTRUMENTS_MAX + HEALTH_METRICS)
/* Points of one instrument: its series and its overflow series. */
#define INSTRUMENT_POINTS (OA_METRICS_SERIES_LIMIT + 1)

struct oa_metrics_collector {
    struct previous previous[ALL_SLOTS];
    uint64_t previous_health[HEALTH_METRICS];
    uint64_t last_unix_nano;
    struct oa_metric metrics[BATCH_METRICS];
    struct oa_metric_point health_points[HEALTH_METRICS];
    struct oa_metric_batch batch;
    /* INSTRUMENT_POINTS per instrument registered when the collector was
     * made (instruments register at start-up, before): no room kept for
     * instruments that never come */
    int n_instruments;
    struct oa_metric_point points[];
};

struct oa_metrics_collector *oa_metrics_collector_new(void)
{
    int n = __atomic_load_n(&n_instruments, __ATOMIC_ACQUIRE);
    struct oa_metrics_collector *c =
        calloc(1, sizeof *c + (size_t)n * INSTRUMENT_POINTS * sizeof c->points[0]);
    if (!c)
        return NULL;
    c->n_instruments = n;
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

/* The attributes of a key: the overflow series' own, else what the
 * instrument's protocol says (the table itself knows no protocol's
 * conventions). The key's bytes stay valid (a slot is never rewritten while
 * the table lives). */
static void key_attributes(struct oa_metric_point *p, const struct oa_series *s, const struct instrument *ins,
                           bool overflow)
{
    if (overflow) {
        p->attrs[0].key = "otel.metric.overflow";
        p->attrs[0].type = OA_VALUE_BOOL;
        p->attrs[0].v.b = true;
        p->n_attrs = 1;
        return;
    }
    if (ins->desc.attributes != NULL)
        ins->desc.attributes(p, &s->key.head);
}

/* A duration in the instrument's unit. */
static double in_unit(const struct instrument *ins, uint64_t ns)
{
    return (double)ns / ins->ns_per_unit;
}

/* One histogram point; false when delta and nothing changed. Buckets are
 * read before the sum: a measurement counted in a bucket always has its
 * duration in the sum already. */
static bool histogram_point(struct oa_metric_point *p, struct oa_series *s, const struct instrument *ins,
                            struct previous *prev, bool delta)
{
    uint64_t total = 0;

    for (size_t b = 0; b <= ins->n_bounds; b++) {
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
    p->sum = in_unit(ins, delta ? sum_ns - prev->sum_ns : sum_ns);
    prev->sum_ns = sum_ns;
    if (min_ns != UINT64_MAX) {
        if (min_ns < prev->min_ns)
            prev->min_ns = min_ns;
        if (max_ns > prev->max_ns)
            prev->max_ns = max_ns;
    }
    if (delta) {
        p->has_min_max = min_ns != UINT64_MAX;
        p->min = in_unit(ins, min_ns);
        p->max = in_unit(ins, max_ns);
    } else {
        p->has_min_max = prev->min_ns != UINT64_MAX;
        p->min = in_unit(ins, prev->min_ns);
        p->max = in_unit(ins, prev->max_ns);
    }
    return !delta || p->count > 0;
}

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
    for (int i = 0; i < c->n_instruments; i++) {
        const struct instrument *ins = &instruments[i];
        bool histogram = ins->desc.kind == OA_INSTRUMENT_HISTOGRAM;
        bool counter = ins->desc.kind == OA_INSTRUMENT_COUNTER;
        /* up-down counters stay cumulative whatever is preferred */
        bool point_delta = delta && (histogram || counter);
        struct oa_metric *m = &c->metrics[c->batch.n_metrics++];
        struct oa_metric_point *points = &c->points[(size_t)i * INSTRUMENT_POINTS];

        *m = (struct oa_metric){
            .name = ins->desc.name,
            .description = ins->desc.description,
            .unit = ins->desc.unit,
            .kind = histogram ? OA_METRIC_HISTOGRAM : OA_METRIC_SUM,
            .temporality = point_delta ? OA_TEMPORALITY_DELTA : OA_TEMPORALITY_CUMULATIVE,
            .monotonic = counter,
            .bounds = histogram ? ins->desc.bounds : NULL,
            .n_bounds = ins->n_bounds,
            .points = points,
            .n_points = 0,
        };
        for (size_t slot = 0; slot < DISCARD_SLOT && m->n_points < INSTRUMENT_POINTS; slot++) {
            struct oa_series *s = &table[slot];
            struct oa_metric_point *p = &points[m->n_points];
            bool keep;

            if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY || s->key.head.instrument != i)
                continue;
            memset(p, 0, sizeof *p);
            p->start_unix_nano = point_delta ? delta_start : cumulative_start;
            p->time_unix_nano = now;
            if (histogram) {
                keep = histogram_point(p, s, ins, &c->previous[slot], point_delta);
            } else {
                int64_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
                p->value = point_delta ? v - c->previous[slot].value : v;
                c->previous[slot].value = v;
                keep = !point_delta || p->value != 0;
            }
            if (!keep)
                continue;
            key_attributes(p, s, ins, slot >= OA_METRICS_TABLE_SLOTS);
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
