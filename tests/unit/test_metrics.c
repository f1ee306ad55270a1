/* Metrics: bucket selection, the attribute-set table (same set, same series;
 * the per-instrument bound and its overflow series; exact counts under
 * concurrent recording), cumulative and delta collection, the OTLP metrics
 * encoder (decoded back with protobuf-c from proto/), the Prometheus text
 * and the metrics configuration. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "protocols/http1/http_metrics.h"
#include "protocols/http2/grpc_metrics.h"
#include "metrics/metrics_table.h"
#include "export/otlp/otlp_exporter.h"
#include "export/prometheus_exporter.h"
#include "config/resource.h"
#include "oa_test.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

#define MS 1000000ull

/* The metrics table's id of an HTTP instrument. */
static int http_id(enum oa_http_instrument i)
{
    return oa_http_instrument_id[i];
}

static struct oa_http_metric_key client_key(const char *host, int port, int status)
{
    struct oa_http_metric_key k;
    oa_http_metric_key_init(&k, OA_HTTP_CLIENT_DURATION);
    k.method = 2; /* GET */
    k.protocol = 1;
    k.status = (uint16_t)status;
    k.port = port;
    oa_http_metric_key_set_address(&k, host, strlen(host));
    return k;
}

static const struct oa_metric *find_metric(const struct oa_metric_batch *b, const char *name)
{
    for (size_t i = 0; i < b->n_metrics; i++)
        if (strcmp(b->metrics[i].name, name) == 0)
            return &b->metrics[i];
    return NULL;
}

static const struct oa_attr *point_attr(const struct oa_metric_point *p, const char *key)
{
    for (uint32_t i = 0; i < p->n_attrs; i++)
        if (strcmp(p->attrs[i].key, key) == 0)
            return &p->attrs[i];
    return NULL;
}

static void test_buckets(void)
{
    CHECK(oa_metrics_bucket_index(http_id(OA_HTTP_SERVER_DURATION), 0) == 0, "0 s in the first bucket");
    CHECK(oa_metrics_bucket_index(http_id(OA_HTTP_SERVER_DURATION), 5 * MS) == 0, "exactly 5 ms in (0, 0.005]");
    CHECK(oa_metrics_bucket_index(http_id(OA_HTTP_SERVER_DURATION), 5 * MS + 1) == 1, "5 ms + 1 ns in (0.005, 0.01]");
    CHECK(oa_metrics_bucket_index(http_id(OA_HTTP_SERVER_DURATION), 100 * MS) == 5, "100 ms in (0.075, 0.1]");
    CHECK(oa_metrics_bucket_index(http_id(OA_HTTP_SERVER_DURATION), 1000 * MS) == 9, "1 s in (0.75, 1]");
    CHECK(oa_metrics_bucket_index(http_id(OA_HTTP_SERVER_DURATION), 10000 * MS) == 13, "10 s in (7.5, 10]");
    CHECK(oa_metrics_bucket_index(http_id(OA_HTTP_SERVER_DURATION), 10000 * MS + 1) == 14, "above 10 s in the +Inf bucket");
    CHECK(oa_metrics_bucket_index(http_id(OA_HTTP_SERVER_DURATION), UINT64_MAX) == 14, "the largest duration in the +Inf bucket");
    bool ok = true;
    for (size_t i = 0; i < OA_HTTP_DURATION_BOUNDS; i++) {
        uint64_t ns = (uint64_t)(oa_http_duration_bounds[i] * 1e9 + 0.5);
        ok = ok && oa_metrics_bucket_index(http_id(OA_HTTP_SERVER_DURATION), ns) == i && oa_metrics_bucket_index(http_id(OA_HTTP_SERVER_DURATION), ns + 1) == i + 1;
    }
    CHECK(ok, "every bound is the inclusive upper end of its bucket");
}

static void test_series_identity(void)
{
    oa_metrics_table_reset();
    struct oa_http_metric_key a = client_key("a.example", 80, 200);
    struct oa_http_metric_key a2 = client_key("a.example", 80, 200);
    struct oa_http_metric_key b = client_key("a.example", 80, 404);
    struct oa_http_metric_key s;
    oa_http_metric_key_init(&s, OA_HTTP_SERVER_DURATION);
    CHECK(oa_http_metrics_series(&a) == oa_http_metrics_series(&a2), "the same attribute set is the same series");
    CHECK(oa_http_metrics_series(&a) != oa_http_metrics_series(&b), "another status is another series");
    CHECK(oa_http_metrics_series(&s) != oa_http_metrics_series(&a), "another instrument is another series");
    CHECK(oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)) == 2, "two client series");
}

/* A key whose address bytes after its length are not zero (what a request
 * that reuses its key leaves there): they are no part of the attribute set. */
static struct oa_http_metric_key client_key_dirty(const char *host, int port, int status)
{
    struct oa_http_metric_key k = client_key(host, port, status);
    memset(k.address + k.address_len, 'X', sizeof k.address - k.address_len);
    return k;
}

/* Lookups read the key a word at a time, the address up to its length:
 * every component must still tell series apart, and nothing past the
 * address may. */
static void test_series_key_components(void)
{
    oa_metrics_table_reset();
    struct oa_http_metric_key base = client_key("a.example.org", 8080, 200);
    struct oa_series *s = oa_http_metrics_series(&base);
    struct oa_http_metric_key same = client_key_dirty("a.example.org", 8080, 200);
    CHECK(oa_http_metrics_series(&same) == s, "bytes after the address are not part of the key");
    oa_metrics_table_reset(); /* nothing remembered: the same through the hash */
    s = oa_http_metrics_series(&base);
    struct oa_http_metric_key other_thread_view = client_key_dirty("a.example.org", 8080, 200);
    oa_metrics_table_reset();
    CHECK(oa_http_metrics_series(&other_thread_view) == s, "bytes after the address are not part of the hash");

    struct oa_http_metric_key k[9];
    const char *what[9];
    for (int i = 0; i < 9; i++)
        k[i] = client_key_dirty("a.example.org", 8080, 200);
    k[0].head.instrument = (uint16_t)http_id(OA_HTTP_SERVER_DURATION), what[0] = "instrument";
    k[1].method = 3, what[1] = "method";
    k[2].protocol = 0, what[2] = "protocol";
    k[3].status = 201, what[3] = "status";
    k[4].port = 8081, what[4] = "port";
    k[5].error_type = "timeout", what[5] = "error.type";
    k[6].address[12] = 'h', what[6] = "last byte of the address (past the first word)";
    k[7].address[0] = 'b', what[7] = "first byte of the address";
    k[8].address_len = 12, what[8] = "address length (a prefix)";
    /* each right after base, which the thread then remembers: a key that
     * differs in one component must not be taken for it */
    for (int i = 0; i < 9; i++) {
        bool base_again = oa_http_metrics_series(&base) == s;
        struct oa_series *other = oa_http_metrics_series(&k[i]);
        CHECK(base_again && other != s && oa_http_metrics_series(&k[i]) == other,
              "another %s: another series, found again", what[i]);
    }
    CHECK(oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)) == 9, "nine client series: %zu",
          oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)));

    /* 150 series in 1024 slots share home slots: those found past theirs
     * are found again, each its own */
    oa_metrics_table_reset();
    struct oa_series *first[150];
    bool ok = true;
    for (int i = 0; i < 150; i++) {
        char host[32];
        snprintf(host, sizeof host, "h%d.example", i);
        struct oa_http_metric_key key = client_key(host, 80, 200);
        first[i] = oa_http_metrics_series(&key);
        for (int j = 0; j < i; j++)
            ok = ok && first[j] != first[i];
    }
    for (int i = 0; i < 150; i++) {
        char host[32];
        snprintf(host, sizeof host, "h%d.example", i);
        struct oa_http_metric_key key = client_key_dirty(host, 80, 200);
        ok = ok && oa_http_metrics_series(&key) == first[i];
    }
    CHECK(ok, "150 attribute sets: 150 series, each found again");
}

/* The series a thread found last per instrument is remembered: replaced by
 * the next one found, never the overflow series, forgotten by a reset, and
 * each thread's own. */
static void test_series_cache(void)
{
    oa_metrics_table_reset();
    struct oa_http_metric_key a = client_key("a.example", 80, 200);
    struct oa_http_metric_key b = client_key("b.example", 80, 200);
    struct oa_http_metric_key server;
    oa_http_metric_key_init(&server, OA_HTTP_SERVER_DURATION);
    struct oa_series *sa = oa_http_metrics_series(&a);
    struct oa_series *ss = oa_http_metrics_series(&server);
    CHECK(oa_http_metrics_series(&a) == sa, "another instrument's lookup leaves the client one remembered");
    struct oa_series *sb = oa_http_metrics_series(&b);
    CHECK(sb != sa && oa_http_metrics_series(&a) == sa && oa_http_metrics_series(&b) == sb && oa_http_metrics_series(&server) == ss,
          "a remembered series replaced by another is still found, and so is the other");

    /* A reset clears the slots, so a slot's key is zero afterwards: a key
     * that is all zero too would match it if the remembered slot outlived
     * the reset. */
    struct oa_http_metric_key zero;
    memset(&zero, 0, sizeof zero);
    oa_metrics_record_duration(oa_http_metrics_series(&zero), 1 * MS);
    oa_metrics_table_reset();
    oa_metrics_record_duration(oa_http_metrics_series(&zero), 1 * MS);
    CHECK(oa_metrics_series_count(http_id(OA_HTTP_SERVER_DURATION)) == 1,
          "after a reset the remembered series is not trusted: the key gets a slot again (%zu series)",
          oa_metrics_series_count(http_id(OA_HTTP_SERVER_DURATION)));

    /* Full instrument: the overflow series takes new keys, every time,
     * whatever the thread remembers. */
    oa_metrics_table_reset();
    for (int i = 0; i < OA_METRICS_SERIES_LIMIT; i++) {
        char host[32];
        snprintf(host, sizeof host, "f%d.example", i);
        struct oa_http_metric_key k = client_key(host, 80, 200);
        oa_http_metrics_series(&k);
    }
    struct oa_http_metric_key late = client_key("late.example", 80, 200);
    struct oa_series *overflow = oa_http_metrics_series(&late);
    CHECK(overflow == oa_http_metrics_series(&late), "over the limit: the overflow series, every time");
    CHECK(oa_http_metrics_series(&zero) == oa_http_metrics_series(&zero), "other instruments unaffected");
}

/* The memo tests' request i: the next pseudo-random number after x, and
 * every 500th request a reset of the table (a fork's) before it. */
static uint32_t memo_test_step(uint32_t x, int i)
{
    if (i % 500 == 499)
        oa_metrics_table_reset();
    return x * 1103515245u + 12345u;
}

/* A server connection's memo of its series: the series it hands out are
 * the ones the table finds for the same keys, whatever the sequence of
 * methods, versions and outcomes, across resets of the table; a client's
 * key is always looked up. */
static void test_server_series_memo(void)
{
    static const char *errors[] = {NULL, "timeout", "connection_closed"};
    static const uint16_t statuses[] = {200, 404, 500, 0};
    struct oa_http_metrics_series_memo memo;
    memset(&memo, 0, sizeof memo);
    oa_metrics_table_reset();
    int same = 1;
    uint32_t x = 12345;
    for (int i = 0; i < 3000; i++) {
        x = memo_test_step(x, i);
        struct oa_http_metric_key key;
        oa_http_metric_key_init(&key, OA_HTTP_SERVER_DURATION);
        /* runs of the same request, as on a keep-alive connection */
        uint32_t r = (x >> 16) % 16 < 12 ? 0 : x >> 8;
        key.method = (uint8_t)(r % 3);
        key.protocol = (uint8_t)((r >> 2) % 2);
        struct oa_http_metric_key active;
        oa_http_metric_key_init(&active, OA_HTTP_SERVER_ACTIVE);
        active.method = key.method;
        struct oa_series *a = oa_http_metrics_active_series(&memo, &key);
        EXPECT(same, a == oa_http_metrics_series(&active), "request %d: active series", i);
        key.status = statuses[(x >> 4) % 16 < 13 ? 0 : (x >> 12) % 4];
        key.error_type = errors[(x >> 20) % 16 < 14 ? 0 : (x >> 24) % 3];
        struct oa_series *d = oa_http_metrics_duration_series(&memo, &key);
        EXPECT(same, d == oa_http_metrics_series(&key), "request %d: duration series", i);
    }
    CHECK(same, "the memo's series are the table's for the same keys (3000 requests, 5 resets)");

    struct oa_http_metric_key key;
    oa_http_metric_key_init(&key, OA_HTTP_SERVER_DURATION);
    key.method = 2;
    oa_http_metrics_active_series(&memo, &key);
    oa_http_metrics_duration_series(&memo, &key);
    oa_metrics_table_reset();
    oa_http_metrics_active_series(&memo, &key);
    oa_http_metrics_duration_series(&memo, &key);
    CHECK(oa_metrics_series_count(http_id(OA_HTTP_SERVER_ACTIVE)) == 1 &&
              oa_metrics_series_count(http_id(OA_HTTP_SERVER_DURATION)) == 1,
          "after a reset the memo is not trusted: both keys get their slots again");

    struct oa_http_metric_key a = client_key("a.example", 80, 200);
    struct oa_http_metric_key b = client_key("b.example", 80, 200);
    struct oa_series *sa = oa_http_metrics_duration_series(&memo, &a);
    CHECK(sa == oa_http_metrics_series(&a) && oa_http_metrics_duration_series(&memo, &b) == oa_http_metrics_series(&b) &&
              oa_http_metrics_duration_series(NULL, &a) == sa,
          "a client's key (server.address) is looked up, memo or not");
}

/* A client connection's memo of its duration series: the series it hands
 * out are the table's for the same keys, whatever the sequence of hosts
 * (each change a new server memo stamp), methods, outcomes and resets; a
 * request whose address came from an older stamp (pipelined before the
 * Host changed) never gets the newer one's series, nor the other way. */
static void test_client_series_memo(void)
{
    static const char *hosts[] = {"a.example", "b.example"};
    static const uint16_t outcomes[] = {200, 404, 500, 0};
    /* the server memo's stamp of hosts[host], as its working out names it */
    uint32_t stamp = 1;
    int host = 0;
    struct oa_http_metrics_series_memo memo = {0};
    uint32_t x = 777;
    int same = 1;
    oa_metrics_table_reset();
    for (int i = 0; i < 3000; i++) {
        x = memo_test_step(x, i);
        if ((x >> 16) % 16 == 0) {
            host ^= 1;
            stamp++;
        }
        uint16_t status = outcomes[(x >> 4) % 16 < 13 ? 0 : (x >> 12) % 4];
        struct oa_http_metric_key key = client_key(hosts[host], 80 + host, status);
        key.method = (uint8_t)((x >> 8) % 8 < 7 ? 2 : (x >> 20) % 3);
        struct oa_series *d = oa_http_metrics_client_duration_series(&memo, &key, stamp);
        EXPECT(same, d == oa_http_metrics_series(&key), "request %d: duration series", i);
    }
    CHECK(same, "the memo's series are the table's for the same keys (3000 requests, 5 resets)");

    struct oa_http_metric_key a = client_key("a.example", 80, 200);
    struct oa_http_metric_key b = client_key("b.example", 80, 200);
    struct oa_series *sa = oa_http_metrics_series(&a);
    struct oa_series *sb = oa_http_metrics_series(&b);
    CHECK(oa_http_metrics_client_duration_series(&memo, &a, 40) == sa &&
              oa_http_metrics_client_duration_series(&memo, &b, 41) == sb &&
              oa_http_metrics_client_duration_series(&memo, &a, 40) == sa &&
              oa_http_metrics_client_duration_series(&memo, &b, 41) == sb,
          "requests of two stamps in flight at once: each its own address' series");
    CHECK(oa_http_metrics_client_duration_series(&memo, &a, 0) == sa &&
              oa_http_metrics_client_duration_series(NULL, &b, 41) == sb,
          "stamp 0 or no memo: looked up");
}

struct cache_thread {
    const char *host;
    struct oa_series *found[200];
};

/* Two threads alternate between their own key and a shared one. */
static void *cache_thread_main(void *arg)
{
    struct cache_thread *t = arg;
    struct oa_http_metric_key own = client_key(t->host, 80, 200);
    struct oa_http_metric_key shared = client_key("shared.example", 80, 200);
    for (int i = 0; i < 200; i++)
        t->found[i] = oa_http_metrics_series(i % 3 == 0 ? &shared : &own);
    return NULL;
}

static void test_series_cache_threads(void)
{
    oa_metrics_table_reset();
    struct cache_thread t[2] = {{.host = "one.example"}, {.host = "two.example"}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, cache_thread_main, &t[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    bool ok = true;
    for (int i = 3; i < 200; i++)
        for (int j = 0; j < 2; j++)
            ok = ok && t[j].found[i] == t[j].found[i % 3 == 0 ? 0 : 1];
    ok = ok && t[0].found[0] == t[1].found[0] && t[0].found[1] != t[1].found[1] && t[0].found[1] != t[0].found[0];
    CHECK(ok, "two threads, each with its own remembered series: each finds its own key and the shared one, every time");
    CHECK(oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)) == 3, "three series (%zu)",
          oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)));
}

static void test_bound_and_overflow(void)
{
    oa_metrics_table_reset();
    char host[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(host, sizeof host, "h%d.example", i);
        struct oa_http_metric_key k = client_key(host, 80, 200);
        oa_metrics_record_duration(oa_http_metrics_series(&k), 3 * MS);
    }
    CHECK(oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)) == OA_METRICS_SERIES_LIMIT + 1,
          "1000 attribute sets: %zu series (limit %d + overflow)",
          oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)), OA_METRICS_SERIES_LIMIT);
    struct oa_http_metric_key server;
    oa_http_metric_key_init(&server, OA_HTTP_SERVER_DURATION);
    oa_metrics_record_duration(oa_http_metrics_series(&server), 1 * MS);
    CHECK(oa_metrics_series_count(http_id(OA_HTTP_SERVER_DURATION)) == 1,
          "the client's bound leaves the server instrument its own room");

    struct oa_metrics_collector *c = oa_metrics_collector_new();
    const struct oa_metric_batch *b = oa_metrics_collect(c, false, NULL);
    const struct oa_metric *m = find_metric(b, "http.client.request.duration");
    uint64_t total = 0;
    size_t overflow = 0;
    for (size_t i = 0; m && i < m->n_points; i++) {
        total += m->points[i].count;
        const struct oa_attr *o = point_attr(&m->points[i], "otel.metric.overflow");
        if (o) {
            overflow++;
            CHECK(m->points[i].n_attrs == 1 && o->type == OA_VALUE_BOOL && o->v.b,
                  "the overflow series has otel.metric.overflow=true only");
            CHECK(m->points[i].count == 1000 - OA_METRICS_SERIES_LIMIT, "overflow count %llu",
                  (unsigned long long)m->points[i].count);
        }
    }
    CHECK(m && m->n_points == OA_METRICS_SERIES_LIMIT + 1, "collected points bounded");
    CHECK(total == 1000, "every measurement counted: %llu", (unsigned long long)total);
    CHECK(overflow == 1, "one overflow point");
    oa_metrics_collector_free(c);
}

struct worker {
    int id;
};

static void *record_many(void *arg)
{
    struct worker *w = arg;
    char host[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(host, sizeof host, "h%d", (i + w->id) % 64);
        struct oa_http_metric_key k = client_key(host, 80, 200);
        oa_metrics_record_duration(oa_http_metrics_series(&k), (uint64_t)(i % 50) * MS);
    }
    return NULL;
}

static void test_concurrent_recording(void)
{
    oa_metrics_table_reset();
    pthread_t threads[4];
    struct worker workers[4];
    for (int i = 0; i < 4; i++) {
        workers[i].id = i;
        pthread_create(&threads[i], NULL, record_many, &workers[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    struct oa_metrics_collector *c = oa_metrics_collector_new();
    const struct oa_metric *m = find_metric(oa_metrics_collect(c, false, NULL), "http.client.request.duration");
    uint64_t total = 0;
    double sum = 0;
    for (size_t i = 0; m && i < m->n_points; i++) {
        total += m->points[i].count;
        sum += m->points[i].sum;
    }
    CHECK(m && m->n_points == 64, "4 threads, 64 attribute sets: %zu series", m ? m->n_points : 0);
    CHECK(total == 80000, "every concurrent measurement counted: %llu", (unsigned long long)total);
    /* each thread: 400 rounds of 0..49 ms = 400 * 1225 ms */
    CHECK(sum > 4 * 490.0 - 1e-6 && sum < 4 * 490.0 + 1e-6, "sum of durations %f s", sum);
    oa_metrics_collector_free(c);
}

/* One collector per table, as in the library (collection takes the
 * minimum and maximum seen since the previous one). */
static void test_delta(void)
{
    oa_metrics_table_reset();
    struct oa_http_metric_key k = client_key("d.example", 8080, 200);
    struct oa_series *s = oa_http_metrics_series(&k);
    struct oa_metrics_collector *del = oa_metrics_collector_new();
    struct oa_export_counters health = {.exported = 5, .dropped_queue_full = 1, .failed = 2};

    oa_metrics_record_duration(s, 2 * MS);
    oa_metrics_record_duration(s, 30 * MS);
    const struct oa_metric *m = find_metric(oa_metrics_collect(del, true, &health), "http.client.request.duration");
    CHECK(m && m->temporality == OA_TEMPORALITY_DELTA && m->n_points == 1 && m->points[0].count == 2,
          "first delta: 2");
    CHECK(m && m->points[0].bucket_counts[0] == 1 && m->points[0].bucket_counts[3] == 1,
          "2 ms in bucket 0, 30 ms in bucket 3");
    CHECK(m && m->points[0].has_min_max && m->points[0].min == 0.002 && m->points[0].max == 0.03,
          "delta min and max");
    uint64_t first_end = m ? m->points[0].time_unix_nano : 0;

    oa_metrics_record_duration(s, 400 * MS);
    health.exported = 9;
    const struct oa_metric_batch *b = oa_metrics_collect(del, true, &health);
    m = find_metric(b, "http.client.request.duration");
    CHECK(m && m->points[0].count == 1 && m->points[0].min == 0.4 && m->points[0].max == 0.4,
          "second delta: only the new measurement");
    CHECK(m && m->points[0].start_unix_nano == first_end, "second delta starts where the first ended");
    const struct oa_metric *exported = find_metric(b, "otelauto.spans.exported");
    CHECK(exported && exported->monotonic && exported->points[0].value == 4, "health counter delta 9-5");

    m = find_metric(oa_metrics_collect(del, true, &health), "http.client.request.duration");
    CHECK(m == NULL, "delta without new measurements: the series is left out");
    oa_metrics_collector_free(del);
}

static void test_cumulative(void)
{
    oa_metrics_table_reset();
    struct oa_http_metric_key k = client_key("c.example", 8080, 200);
    struct oa_series *s = oa_http_metrics_series(&k);
    struct oa_metrics_collector *cum = oa_metrics_collector_new();

    oa_metrics_record_duration(s, 2 * MS);
    oa_metrics_record_duration(s, 30 * MS);
    const struct oa_metric *m = find_metric(oa_metrics_collect(cum, false, NULL), "http.client.request.duration");
    CHECK(m && m->temporality == OA_TEMPORALITY_CUMULATIVE && m->points[0].count == 2, "first cumulative: 2");
    uint64_t start = m ? m->points[0].start_unix_nano : 0;
    oa_metrics_record_duration(s, 400 * MS);
    m = find_metric(oa_metrics_collect(cum, false, NULL), "http.client.request.duration");
    CHECK(m && m->points[0].count == 3 && m->points[0].min == 0.002 && m->points[0].max == 0.4,
          "second cumulative: all three, min and max since the start");
    CHECK(m && m->points[0].sum > 0.431999 && m->points[0].sum < 0.432001, "cumulative sum 0.432 s");
    CHECK(m && m->points[0].start_unix_nano == start, "cumulative points keep their start time");
    m = find_metric(oa_metrics_collect(cum, false, NULL), "http.client.request.duration");
    CHECK(m && m->points[0].count == 3 && m->points[0].max == 0.4, "unchanged series still reported");
    oa_metrics_collector_free(cum);
}

static void test_active_requests(void)
{
    oa_metrics_table_reset();
    struct oa_http_metric_key k;
    oa_http_metric_key_init(&k, OA_HTTP_SERVER_ACTIVE);
    k.method = 6; /* POST */
    struct oa_series *s = oa_http_metrics_series(&k);
    oa_metrics_add(s, 1);
    oa_metrics_add(s, 1);
    oa_metrics_add(s, -1);
    struct oa_metrics_collector *c = oa_metrics_collector_new();
    const struct oa_metric *m = find_metric(oa_metrics_collect(c, true, NULL), "http.server.active_requests");
    CHECK(m && m->kind == OA_METRIC_SUM && !m->monotonic && m->temporality == OA_TEMPORALITY_CUMULATIVE,
          "active_requests: non-monotonic cumulative sum, even when delta is preferred");
    CHECK(m && m->points[0].value == 1, "one request active");
    const struct oa_attr *method = m ? point_attr(&m->points[0], "http.request.method") : NULL;
    CHECK(method && method->v.str.len == 4 && memcmp(method->v.str.ptr, "POST", 4) == 0, "method POST");
    CHECK(m && m->points[0].n_attrs == 2, "method and url.scheme only");
    oa_metrics_collector_free(c);
}

/* A batch with a server series (error from the status), a client series
 * with an invalid UTF-8 host, and the health counters. */
static struct oa_metrics_collector *fixture_batch(const struct oa_metric_batch **out)
{
    oa_metrics_table_reset();
    struct oa_http_metric_key server;
    oa_http_metric_key_init(&server, OA_HTTP_SERVER_DURATION);
    server.method = 2;
    server.protocol = 1;
    server.status = 503;
    oa_metrics_record_duration(oa_http_metrics_series(&server), 7 * MS);
    struct oa_http_metric_key client = client_key("bad\xff", 443, 0);
    client.error_type = "ECONNRESET";
    oa_metrics_record_duration(oa_http_metrics_series(&client), 12 * MS);
    struct oa_metrics_collector *c = oa_metrics_collector_new();
    struct oa_export_counters health = {.exported = 3};
    *out = oa_metrics_collect(c, false, &health);
    return c;
}

static const Opentelemetry__Proto__Common__V1__AnyValue *kv_find(
    Opentelemetry__Proto__Common__V1__KeyValue **kvs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kvs[i]->key, key) == 0)
            return kvs[i]->value;
    return NULL;
}

static void test_encoder(void)
{
    const struct oa_metric_batch *batch;
    struct oa_metrics_collector *c = fixture_batch(&batch);
    struct oa_resource res;
    struct oa_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.service_name, sizeof cfg.service_name, "svc");
    oa_resource_build(&res, &cfg);

    size_t len = 0;
    uint8_t *buf = oa_otlp_encode_metrics(&res, batch, &len);
    CHECK(buf && len > 0, "encoded %zu bytes", len);
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(NULL, len, buf);
    CHECK(r && r->n_resource_metrics == 1, "one ResourceMetrics");
    if (!r) {
        free(buf);
        oa_metrics_collector_free(c);
        return;
    }
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = r->resource_metrics[0];
    const Opentelemetry__Proto__Common__V1__AnyValue *svc =
        kv_find(rm->resource->attributes, rm->resource->n_attributes, "service.name");
    CHECK(svc && strcmp(svc->string_value, "svc") == 0, "resource service.name");
    CHECK(rm->n_scope_metrics == 1 && strcmp(rm->scope_metrics[0]->scope->name, "otelauto") == 0, "scope");
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[0];
    CHECK(sm->n_metrics == batch->n_metrics, "%zu metrics", sm->n_metrics);
    bool seen_server = false, seen_client = false, seen_health = false;
    for (size_t i = 0; i < sm->n_metrics; i++) {
        Opentelemetry__Proto__Metrics__V1__Metric *m = sm->metrics[i];
        if (strcmp(m->name, "http.server.request.duration") == 0) {
            seen_server = true;
            CHECK(strcmp(m->unit, "s") == 0, "unit s");
            CHECK(m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM, "histogram");
            Opentelemetry__Proto__Metrics__V1__Histogram *h = m->histogram;
            CHECK(h->aggregation_temporality == 2, "cumulative");
            Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *p = h->data_points[0];
            CHECK(p->count == 1 && p->n_bucket_counts == 15 && p->bucket_counts[1] == 1, "count and bucket");
            CHECK(p->n_explicit_bounds == 14 && p->explicit_bounds[0] == 0.005 && p->explicit_bounds[13] == 10.0,
                  "semconv bounds");
            CHECK(p->has_sum_case && p->sum > 0.0069 && p->sum < 0.0071, "sum present");
            CHECK(p->has_min_case && p->has_max_case && p->min == p->max, "min and max present");
            const Opentelemetry__Proto__Common__V1__AnyValue *e = kv_find(p->attributes, p->n_attributes, "error.type");
            CHECK(e && strcmp(e->string_value, "503") == 0, "error.type from a 5xx status");
            const Opentelemetry__Proto__Common__V1__AnyValue *st =
                kv_find(p->attributes, p->n_attributes, "http.response.status_code");
            CHECK(st && st->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE &&
                      st->int_value == 503, "status code as an int");
        } else if (strcmp(m->name, "http.client.request.duration") == 0) {
            seen_client = true;
            Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *p = m->histogram->data_points[0];
            const Opentelemetry__Proto__Common__V1__AnyValue *a = kv_find(p->attributes, p->n_attributes, "server.address");
            CHECK(a && strcmp(a->string_value, "bad\xef\xbf\xbd") == 0, "invalid UTF-8 in server.address replaced");
            const Opentelemetry__Proto__Common__V1__AnyValue *e = kv_find(p->attributes, p->n_attributes, "error.type");
            CHECK(e && strcmp(e->string_value, "ECONNRESET") == 0, "error.type of a failed exchange");
            CHECK(!kv_find(p->attributes, p->n_attributes, "http.response.status_code"), "no status without response");
        } else if (strcmp(m->name, "otelauto.spans.exported") == 0) {
            seen_health = true;
            CHECK(m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM && m->sum->is_monotonic &&
                      m->sum->data_points[0]->as_int == 3,
                  "health counter as a monotonic sum");
        }
    }
    CHECK(seen_server && seen_client && seen_health, "server, client and health metrics encoded");
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(r, NULL);
    free(buf);
    oa_metrics_collector_free(c);
}

static void test_prometheus(void)
{
    const struct oa_metric_batch *batch;
    struct oa_metrics_collector *c = fixture_batch(&batch);
    struct oa_resource res;
    struct oa_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.service_name, sizeof cfg.service_name, "we\"ird\nname");
    oa_resource_build(&res, &cfg);
    size_t len = 0;
    char *text = oa_prometheus_render(batch, &res, &len);
    CHECK(text && strlen(text) == len, "rendered %zu bytes", len);
    if (!text) {
        oa_metrics_collector_free(c);
        return;
    }
    static const char *const expected[] = {
        "# TYPE http_server_request_duration_seconds histogram\n",
        "http_server_request_duration_seconds_bucket{http_request_method=\"GET\",url_scheme=\"http\","
        "http_response_status_code=\"503\",error_type=\"503\",network_protocol_version=\"1.1\",le=\"0.005\"} 0\n",
        "http_server_request_duration_seconds_bucket{http_request_method=\"GET\",url_scheme=\"http\","
        "http_response_status_code=\"503\",error_type=\"503\",network_protocol_version=\"1.1\",le=\"0.01\"} 1\n",
        "http_server_request_duration_seconds_bucket{http_request_method=\"GET\",url_scheme=\"http\","
        "http_response_status_code=\"503\",error_type=\"503\",network_protocol_version=\"1.1\",le=\"+Inf\"} 1\n",
        "http_server_request_duration_seconds_count{http_request_method=\"GET\",url_scheme=\"http\","
        "http_response_status_code=\"503\",error_type=\"503\",network_protocol_version=\"1.1\"} 1\n",
        "# TYPE otelauto_spans_exported_total counter\notelauto_spans_exported_total 3\n",
        "service_name=\"we\\\"ird\\nname\"",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        CHECK(strstr(text, expected[i]) != NULL, "text holds expected piece %zu", i);
    CHECK(strstr(text, "le=\"7.5\"") != NULL && strstr(text, "le=\"2.5\"") != NULL, "bounds printed as %%g");
    free(text);
    oa_metrics_collector_free(c);
}

/* A text far larger than the render buffer's first allocation, so that it
 * grows (moves) in the middle of a metric. */
static void test_prometheus_large(void)
{
    oa_metrics_table_reset();
    char host[32];
    for (int i = 0; i < 150; i++) {
        snprintf(host, sizeof host, "host-%d.example", i);
        struct oa_http_metric_key k = client_key(host, 80, 200);
        oa_metrics_record_duration(oa_http_metrics_series(&k), (uint64_t)i * MS);
    }
    struct oa_metrics_collector *c = oa_metrics_collector_new();
    size_t len = 0;
    char *text = oa_prometheus_render(oa_metrics_collect(c, false, NULL), NULL, &len);
    size_t counts = 0;
    for (const char *p = text; p && (p = strstr(p, "http_client_request_duration_seconds_count{")); p++)
        counts++;
    CHECK(text && strlen(text) == len && len > 100000, "large text: %zu bytes, no NUL inside", len);
    CHECK(counts == 150, "one _count line per series: %zu", counts);
    free(text);
    oa_metrics_collector_free(c);
}

/* What a forked child does: the parent's series are gone, the child counts
 * from zero (and the overflow series too). */
static void test_reset(void)
{
    oa_metrics_table_reset();
    char host[32];
    for (int i = 0; i < OA_METRICS_SERIES_LIMIT + 5; i++) {
        snprintf(host, sizeof host, "r%d", i);
        struct oa_http_metric_key k = client_key(host, 80, 200);
        oa_metrics_record_duration(oa_http_metrics_series(&k), MS);
    }
    oa_metrics_table_reset();
    CHECK(oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)) == 0, "no series after the reset");
    struct oa_http_metric_key k = client_key("r1", 80, 200);
    oa_metrics_record_duration(oa_http_metrics_series(&k), MS);
    struct oa_metrics_collector *c = oa_metrics_collector_new();
    const struct oa_metric *m = find_metric(oa_metrics_collect(c, false, NULL), "http.client.request.duration");
    CHECK(m && m->n_points == 1 && m->points[0].count == 1, "counting starts again from zero");
    oa_metrics_collector_free(c);
}

/* ---- a second protocol ---------------------------------------------------
 * What the RPC and database instruments will be to the table: another
 * protocol's own key layout (a name and a code, no HTTP field), its own
 * instruments, its own bucket bounds, its own attributes. */
struct fake_key {
    struct oa_metric_key_head head;
    uint32_t code;   /* fake.code */
    uint8_t name_len;
    char name[23];   /* fake.name: compared up to name_len */
};

static const double fake_bounds[3] = {0.001, 0.1, 1};
static int fake_duration_id = -1;
static int fake_calls_id = -1;

static void fake_attributes(struct oa_metric_point *p, const struct oa_metric_key_head *head)
{
    const struct fake_key *k = (const struct fake_key *)head;
    oa_metric_point_attr_str(p, "fake.name", k->name, k->name_len);
    oa_metric_point_attr_int(p, "fake.code", k->code);
}

static void fake_register(void)
{
    static const struct oa_instrument_desc duration = {
        .name = "fake.operation.duration",
        .description = "Duration of fake operations.",
        .unit = "s",
        .kind = OA_INSTRUMENT_HISTOGRAM,
        .bounds = fake_bounds,
        .n_bounds = 3,
        .attributes = fake_attributes,
        .key_size = sizeof(struct fake_key),
    };
    static const struct oa_instrument_desc calls = {
        .name = "fake.calls",
        .description = "Fake calls.",
        .unit = "{call}",
        .kind = OA_INSTRUMENT_COUNTER,
        .attributes = fake_attributes,
        .key_size = sizeof(struct fake_key),
    };
    fake_duration_id = oa_metrics_instrument_register(&duration);
    fake_calls_id = oa_metrics_instrument_register(&calls);
}

static struct fake_key fake_key(int instrument, const char *name, uint32_t code)
{
    struct fake_key k;
    /* the name's unused end is left dirty: it is no part of the key */
    memset(&k, 'Z', sizeof k);
    k.head.instrument = (uint16_t)instrument;
    k.code = code;
    k.name_len = (uint8_t)strlen(name);
    memcpy(k.name, name, k.name_len);
    k.head.size = (uint16_t)(offsetof(struct fake_key, name) + k.name_len);
    return k;
}

static void test_register(void)
{
    CHECK(fake_duration_id > http_id(OA_HTTP_SERVER_ACTIVE) && fake_calls_id == fake_duration_id + 1,
          "the second protocol's instruments get ids of their own (%d, %d)", fake_duration_id, fake_calls_id);
    for (int i = 0; i < OA_HTTP_INSTRUMENTS; i++)
        CHECK(http_id(i) >= 0 && http_id(i) < OA_METRICS_INSTRUMENTS_MAX, "HTTP instrument %d registered", i);
    struct oa_instrument_desc bad = {.name = "bad", .kind = OA_INSTRUMENT_COUNTER, .key_size = 12};
    CHECK(oa_metrics_instrument_register(&bad) == -1, "a key size that is not whole words is refused");
    bad.key_size = OA_METRIC_KEY_MAX + 8;
    CHECK(oa_metrics_instrument_register(&bad) == -1, "a key larger than a slot's room is refused");
    bad.key_size = 8;
    bad.kind = OA_INSTRUMENT_HISTOGRAM;
    CHECK(oa_metrics_instrument_register(&bad) == -1, "a histogram without bounds is refused");
    static const double many[OA_METRIC_MAX_BOUNDS + 1] = {0};
    bad.bounds = many;
    bad.n_bounds = OA_METRIC_MAX_BOUNDS + 1;
    CHECK(oa_metrics_instrument_register(&bad) == -1, "a histogram with too many bounds is refused");
    CHECK(oa_metrics_bucket_index(fake_duration_id, 1 * MS) == 0 && oa_metrics_bucket_index(fake_duration_id, 2 * MS) == 1 &&
              oa_metrics_bucket_index(fake_duration_id, 1000 * MS) == 2 &&
              oa_metrics_bucket_index(fake_duration_id, 1001 * MS) == 3,
          "each histogram has its own bounds");
}

/* The other protocol's series and HTTP's share the table: each key finds
 * its own series (whatever bytes the two layouts have in common), each
 * instrument counts its own, and collection gives each its own attributes,
 * bounds and temporality. */
static void test_two_protocols(void)
{
    oa_metrics_table_reset();
    struct oa_http_metric_key http = client_key("a.example", 80, 200);
    struct fake_key fa = fake_key(fake_duration_id, "select", 7);
    struct fake_key fa_again = fake_key(fake_duration_id, "select", 7);
    memset(fa_again.name + fa_again.name_len, 'Y', sizeof fa_again.name - fa_again.name_len);
    struct fake_key fb = fake_key(fake_duration_id, "select", 8);
    struct fake_key fprefix = fake_key(fake_duration_id, "selec", 7);
    struct fake_key fcalls = fake_key(fake_calls_id, "select", 7);
    /* a fake key with exactly HTTP's bytes but for the instrument */
    struct fake_key mimic;
    memcpy(&mimic, &http, sizeof mimic);
    mimic.head.instrument = (uint16_t)fake_duration_id;
    mimic.head.size = sizeof mimic;

    struct oa_series *sh = oa_http_metrics_series(&http);
    struct oa_series *sa = oa_metrics_series(&fa.head);
    CHECK(oa_metrics_series(&fa_again.head) == sa, "the same fake attribute set is the same series");
    CHECK(oa_http_metrics_series(&http) == sh, "HTTP's series found again after the other protocol's");
    struct oa_series *sb = oa_metrics_series(&fb.head);
    struct oa_series *sp = oa_metrics_series(&fprefix.head);
    struct oa_series *sc = oa_metrics_series(&fcalls.head);
    struct oa_series *sm = oa_metrics_series(&mimic.head);
    CHECK(sb != sa && sp != sa && sp != sb, "another code, a prefix of the name: other series");
    CHECK(sc != sa && sm != sh && sm != sa, "same bytes, another instrument: another series");
    CHECK(oa_metrics_series_count(fake_duration_id) == 4 && oa_metrics_series_count(fake_calls_id) == 1 &&
              oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)) == 1,
          "each instrument counts its own series (%zu fake, %zu calls, %zu HTTP client)",
          oa_metrics_series_count(fake_duration_id), oa_metrics_series_count(fake_calls_id),
          oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)));

    oa_metrics_record_duration(sh, 30 * MS);
    oa_metrics_record_duration(sa, 30 * MS);
    oa_metrics_record_duration(sa, 2000 * MS);
    oa_metrics_add(sc, 5);
    struct oa_metrics_collector *c = oa_metrics_collector_new();
    const struct oa_metric_batch *b = oa_metrics_collect(c, true, NULL);
    const struct oa_metric *mh = find_metric(b, "http.client.request.duration");
    const struct oa_metric *mf = find_metric(b, "fake.operation.duration");
    const struct oa_metric *mc = find_metric(b, "fake.calls");
    CHECK(mh && mh->n_points == 1 && mh->n_bounds == OA_HTTP_DURATION_BOUNDS && mh->points[0].count == 1 &&
              mh->points[0].bucket_counts[3] == 1 && point_attr(&mh->points[0], "server.address") &&
              !point_attr(&mh->points[0], "fake.name"),
          "HTTP's series: its bounds, its attributes");
    const struct oa_metric_point *pa = NULL;
    for (size_t i = 0; mf && i < mf->n_points; i++)
        if (mf->points[i].count > 0)
            pa = &mf->points[i];
    CHECK(mf && mf->kind == OA_METRIC_HISTOGRAM && mf->n_bounds == 3 && mf->bounds == fake_bounds &&
              strcmp(mf->unit, "s") == 0 && mf->temporality == OA_TEMPORALITY_DELTA,
          "the fake histogram: its own bounds, delta as preferred");
    CHECK(mf && mf->n_points == 1, "delta: only the fake series that changed (%zu)", mf ? mf->n_points : 0);
    const struct oa_attr *name = pa ? point_attr(pa, "fake.name") : NULL;
    const struct oa_attr *code = pa ? point_attr(pa, "fake.code") : NULL;
    CHECK(pa && pa->n_attrs == 2 && name && name->v.str.len == 6 && memcmp(name->v.str.ptr, "select", 6) == 0 &&
              code && code->v.i == 7,
          "the fake series' attributes, from its own key");
    CHECK(pa && pa->count == 2 && pa->bucket_counts[1] == 1 && pa->bucket_counts[3] == 1 && pa->bucket_counts[4] == 0,
          "the fake durations in the fake buckets");
    CHECK(mc && mc->kind == OA_METRIC_SUM && mc->monotonic && mc->temporality == OA_TEMPORALITY_DELTA &&
              mc->n_points == 1 && mc->points[0].value == 5,
          "the counter: a monotonic sum, delta as preferred");
    oa_metrics_add(sc, 2);
    b = oa_metrics_collect(c, true, NULL);
    mc = find_metric(b, "fake.calls");
    CHECK(mc && mc->n_points == 1 && mc->points[0].value == 2, "the counter's delta: what was added since");
    b = oa_metrics_collect(c, true, NULL);
    CHECK(!find_metric(b, "fake.calls") && !find_metric(b, "fake.operation.duration"),
          "nothing changed: no fake metric in a delta");
    oa_metrics_collector_free(c);

    /* a key of no registered instrument, or larger than its instrument's
     * keys, is counted nowhere, but never fails */
    struct fake_key stray = fake_key(OA_METRICS_INSTRUMENTS_MAX - 1, "x", 1);
    struct fake_key large = fake_key(fake_duration_id, "x", 1);
    large.head.size = sizeof large + 8;
    size_t before = oa_metrics_series_count(fake_duration_id);
    struct oa_series *s1 = oa_metrics_series(&stray.head);
    struct oa_series *s2 = oa_metrics_series(&large.head);
    oa_metrics_record_duration(s1, MS);
    oa_metrics_record_duration(s2, MS);
    CHECK(s1 && s2 && oa_metrics_series_count(fake_duration_id) == before &&
              oa_metrics_series_count(OA_METRICS_INSTRUMENTS_MAX - 1) == 0,
          "stray keys: a series, counted in no instrument");
}

/* The limit is each instrument's: a protocol that fills its instrument
 * leaves the others their room, and its overflow series is its own. */
static void test_two_protocols_limit(void)
{
    oa_metrics_table_reset();
    char name[16];
    for (int i = 0; i < 400; i++) {
        snprintf(name, sizeof name, "op%d", i);
        struct fake_key k = fake_key(fake_duration_id, name, 1);
        oa_metrics_record_duration(oa_metrics_series(&k.head), MS);
    }
    CHECK(oa_metrics_series_count(fake_duration_id) == OA_METRICS_SERIES_LIMIT + 1,
          "the fake instrument full: %zu series (limit + overflow)", oa_metrics_series_count(fake_duration_id));
    char host[32];
    for (int i = 0; i < 150; i++) {
        snprintf(host, sizeof host, "h%d.example", i);
        struct oa_http_metric_key k = client_key(host, 80, 200);
        oa_metrics_record_duration(oa_http_metrics_series(&k), MS);
    }
    struct fake_key calls = fake_key(fake_calls_id, "op1", 1);
    oa_metrics_add(oa_metrics_series(&calls.head), 1);
    CHECK(oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)) == 150 &&
              oa_metrics_series_count(fake_calls_id) == 1,
          "HTTP's client instrument and the fake counter keep their own room (%zu, %zu)",
          oa_metrics_series_count(http_id(OA_HTTP_CLIENT_DURATION)), oa_metrics_series_count(fake_calls_id));

    struct oa_metrics_collector *c = oa_metrics_collector_new();
    const struct oa_metric_batch *b = oa_metrics_collect(c, false, NULL);
    const struct oa_metric *mf = find_metric(b, "fake.operation.duration");
    const struct oa_metric *mh = find_metric(b, "http.client.request.duration");
    uint64_t overflow = 0, total = 0;
    for (size_t i = 0; mf && i < mf->n_points; i++) {
        total += mf->points[i].count;
        if (point_attr(&mf->points[i], "otel.metric.overflow"))
            overflow += mf->points[i].count;
    }
    CHECK(mf && mf->n_points == OA_METRICS_SERIES_LIMIT + 1 && total == 400 &&
              overflow == 400 - OA_METRICS_SERIES_LIMIT,
          "the fake overflow series holds the fake measurements past the limit (%llu of %llu)",
          (unsigned long long)overflow, (unsigned long long)total);
    bool http_overflow = false;
    for (size_t i = 0; mh && i < mh->n_points; i++)
        http_overflow = http_overflow || point_attr(&mh->points[i], "otel.metric.overflow");
    CHECK(mh && mh->n_points == 150 && !http_overflow, "no HTTP overflow series");
    oa_metrics_collector_free(c);
}

/* Registration fills the table's room for instruments, then refuses. */
static void test_register_full(void)
{
    static const struct oa_instrument_desc more = {
        .name = "fake.more", .unit = "1", .kind = OA_INSTRUMENT_COUNTER, .key_size = sizeof(struct fake_key),
    };
    int last = -1, id;
    while ((id = oa_metrics_instrument_register(&more)) >= 0)
        last = id;
    CHECK(last == OA_METRICS_INSTRUMENTS_MAX - 1, "ids up to %d, then refused (last %d)",
          OA_METRICS_INSTRUMENTS_MAX - 1, last);
}

/* gRPC's call durations: an instrument in milliseconds (the RPC
 * conventions before v1.39) whose bounds, sum, minimum and maximum are
 * milliseconds, and the call's attributes from its key. */
static void test_milliseconds(void)
{
    oa_metrics_table_reset();
    struct oa_instrument_desc bad = {.name = "bad", .unit = "min", .kind = OA_INSTRUMENT_HISTOGRAM,
                                     .bounds = fake_bounds, .n_bounds = 3, .key_size = 8};
    CHECK(oa_metrics_instrument_register(&bad) == -1, "a histogram in a unit other than s or ms is refused");
    struct oa_grpc_metric_call call;
    oa_grpc_metrics_start(&call, false, "demo.Echo", 9, "Say", 3, "h.example", 9, 50051, 1000 * MS);
    oa_grpc_metrics_finish_at(&call, 5, NULL, 1030 * MS);
    oa_grpc_metrics_finish_at(&call, 5, NULL, 1090 * MS); /* once only */
    oa_grpc_metrics_start(&call, false, "demo.Echo", 9, "Say", 3, "h.example", 9, 50051, 1000 * MS);
    oa_grpc_metrics_finish_at(&call, 5, NULL, 1000 * MS + 7 * MS / 2);
    struct oa_metrics_collector *c = oa_metrics_collector_new();
    const struct oa_metric *m = find_metric(oa_metrics_collect(c, false, NULL), "rpc.client.duration");
    CHECK(m != NULL && m->n_points == 1, "one rpc.client.duration series");
    if (m != NULL && m->n_points == 1) {
        const struct oa_metric_point *p = &m->points[0];
        CHECK(strcmp(m->unit, "ms") == 0 && m->n_bounds == OA_GRPC_DURATION_BOUNDS && m->bounds[1] == 5,
              "unit ms, the RPC conventions' bounds");
        CHECK(p->count == 2 && p->bucket_counts[1] == 1 && p->bucket_counts[4] == 1,
              "3.5 ms in (0, 5], 30 ms in (25, 50]");
        CHECK(p->sum > 33.49 && p->sum < 33.51 && p->min > 3.49 && p->min < 3.51 && p->max > 29.99 && p->max < 30.01,
              "sum, min and max in milliseconds (%g, %g, %g)", p->sum, p->min, p->max);
        bool service = false, method = false, status = false, address = false, port = false;
        for (uint32_t i = 0; i < p->n_attrs; i++) {
            const struct oa_attr *a = &p->attrs[i];
            service |= strcmp(a->key, "rpc.service") == 0 && a->v.str.len == 9 && memcmp(a->v.str.ptr, "demo.Echo", 9) == 0;
            method |= strcmp(a->key, "rpc.method") == 0 && a->v.str.len == 3 && memcmp(a->v.str.ptr, "Say", 3) == 0;
            status |= strcmp(a->key, "rpc.grpc.status_code") == 0 && a->v.i == 5;
            address |= strcmp(a->key, "server.address") == 0 && a->v.str.len == 9 && memcmp(a->v.str.ptr, "h.example", 9) == 0;
            port |= strcmp(a->key, "server.port") == 0 && a->v.i == 50051;
        }
        CHECK(service && method && status && address && port, "the call's attributes");
    }
    oa_metrics_collector_free(c);
}

static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; fake_env && fake_env[i]; i += 2)
        if (strcmp(fake_env[i], name) == 0)
            return fake_env[i + 1];
    return NULL;
}

static void test_config(void)
{
    static struct oa_config cfg;
    static const char *const none[] = {NULL};
    fake_env = none;
    oa_config_load(&cfg, fake_getenv);
    CHECK(cfg.metrics_exporter == OA_METRICS_EXPORTER_OTLP, "default exporter otlp");
    CHECK(strcmp(cfg.metrics_otlp.endpoint, "http://localhost:4318/v1/metrics") == 0, "default endpoint");
    CHECK(cfg.metric_export_interval_ms == 60000 && cfg.metric_export_timeout_ms == 30000, "default interval/timeout");
    CHECK(!cfg.metrics_delta, "cumulative by default");
    CHECK(strcmp(cfg.prometheus_host, "localhost") == 0 && cfg.prometheus_port == 9464, "prometheus defaults");

    static const char *const base[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/x/",
                                       "OTEL_METRICS_EXPORTER", "Prometheus",
                                       "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "DELTA",
                                       "OTEL_METRIC_EXPORT_INTERVAL", "250",
                                       "OTEL_EXPORTER_PROMETHEUS_HOST", "0.0.0.0",
                                       "OTEL_EXPORTER_PROMETHEUS_PORT", "9999", NULL};
    fake_env = base;
    oa_config_load(&cfg, fake_getenv);
    CHECK(strcmp(cfg.metrics_otlp.endpoint, "http://c:4318/x/v1/metrics") == 0, "base URL + v1/metrics: %s",
          cfg.metrics_otlp.endpoint);
    CHECK(strcmp(cfg.traces_otlp.endpoint, "http://c:4318/x/v1/traces") == 0, "traces unchanged: %s", cfg.traces_otlp.endpoint);
    CHECK(cfg.metrics_exporter == OA_METRICS_EXPORTER_PROMETHEUS, "prometheus (case-insensitive)");
    CHECK(cfg.metrics_delta, "delta");
    CHECK(cfg.metric_export_interval_ms == 250, "interval");
    CHECK(strcmp(cfg.prometheus_host, "0.0.0.0") == 0 && cfg.prometheus_port == 9999, "prometheus host/port");

    static const char *const own[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318",
                                      "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:1234",
                                      "OTEL_METRICS_EXPORTER", "bogus",
                                      "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "lowmemory",
                                      "OTEL_METRIC_EXPORT_INTERVAL", "soon",
                                      "OTEL_EXPORTER_PROMETHEUS_PORT", "70000", NULL};
    fake_env = own;
    oa_config_load(&cfg, fake_getenv);
    CHECK(strcmp(cfg.metrics_otlp.endpoint, "http://m:1234/") == 0, "per-signal URL as is, root path added: %s",
          cfg.metrics_otlp.endpoint);
    CHECK(cfg.metrics_exporter == OA_METRICS_EXPORTER_OTLP, "unknown exporter ignored");
    CHECK(cfg.metrics_delta, "lowmemory is delta for histograms");
    CHECK(cfg.metric_export_interval_ms == 60000, "bad interval: default");
    CHECK(cfg.prometheus_port == 65535, "port capped");
}

int main(void)
{
    /* what the life cycle does at start-up: HTTP's instruments say how
     * their keys become attributes */
    oa_http_metrics_register();
    /* then another protocol's (the all-zero key of test_series_cache is
     * HTTP's first instrument, http.server.request.duration) */
    fake_register();
    oa_grpc_metrics_register();
    test_register();
    test_buckets();
    test_series_identity();
    test_series_key_components();
    test_series_cache();
    test_series_cache_threads();
    test_server_series_memo();
    test_client_series_memo();
    test_bound_and_overflow();
    test_concurrent_recording();
    test_delta();
    test_cumulative();
    test_active_requests();
    test_encoder();
    test_prometheus();
    test_prometheus_large();
    test_reset();
    test_two_protocols();
    test_two_protocols_limit();
    test_milliseconds();
    test_register_full();
    test_config();
    TEST_DONE();
}
