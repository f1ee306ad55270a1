/* Collected metrics, as the exporters see them: plain C data that the
 * background thread builds from the instruments table (src/metrics/metrics_table.c)
 * and hands to the OTLP encoder (libotelauto-otlp.so), the Prometheus text
 * writer or the console. Nothing in here points into memory the program's
 * threads write to. */
#ifndef OA_METRIC_DATA_H
#define OA_METRIC_DATA_H

#include "base/common.h"

/* Explicit bucket boundaries a histogram may have: each instrument declares
 * its own (the HTTP, RPC and database conventions each recommend theirs),
 * up to this many; one bucket more than bounds. */
#define OA_METRIC_MAX_BOUNDS 15
#define OA_METRIC_MAX_BUCKETS (OA_METRIC_MAX_BOUNDS + 1)

enum oa_metric_kind {
    OA_METRIC_HISTOGRAM = 0,
    OA_METRIC_SUM,
};

/* OTLP AggregationTemporality numbers */
enum oa_temporality {
    OA_TEMPORALITY_DELTA = 1,
    OA_TEMPORALITY_CUMULATIVE = 2,
};

#define OA_METRIC_POINT_MAX_ATTRS 8

struct oa_metric_point {
    struct oa_attr attrs[OA_METRIC_POINT_MAX_ATTRS];
    uint32_t n_attrs;
    uint64_t start_unix_nano;
    uint64_t time_unix_nano;
    /* histogram */
    uint64_t count;
    double sum;
    bool has_min_max;
    double min;
    double max;
    uint64_t bucket_counts[OA_METRIC_MAX_BUCKETS]; /* n_bounds + 1 of them used */
    /* sum */
    int64_t value;
    /* bytes the string attributes may point to (error.type of a status) */
    char text[8];
};

struct oa_metric {
    const char *name;
    const char *description;
    const char *unit;
    enum oa_metric_kind kind;
    enum oa_temporality temporality;
    bool monotonic;                 /* sums only */
    const double *bounds;           /* histograms only: n_bounds + 1 buckets */
    uint32_t n_bounds;
    struct oa_metric_point *points;
    size_t n_points;
};

struct oa_metric_batch {
    struct oa_metric *metrics;
    size_t n_metrics;
};

#endif
