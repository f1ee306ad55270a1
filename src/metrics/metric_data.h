/* Collected metrics, as the exporters see them: plain C data that the
 * background thread builds from the instruments table (src/metrics_table.c)
 * and hands to the OTLP encoder (libotelauto-otlp.so), the Prometheus text
 * writer or the console. Nothing in here points into memory the program's
 * threads write to. */
#ifndef OA_METRIC_DATA_H
#define OA_METRIC_DATA_H

#include "base/common.h"

/* The explicit bucket boundaries of the HTTP duration histograms (seconds,
 * stable HTTP semantic conventions): 14 bounds, 15 buckets. */
#define OA_HTTP_DURATION_BOUNDS 14
#define OA_HTTP_DURATION_BUCKETS (OA_HTTP_DURATION_BOUNDS + 1)
extern const double oa_http_duration_bounds[OA_HTTP_DURATION_BOUNDS];

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
    uint64_t bucket_counts[OA_HTTP_DURATION_BUCKETS];
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
