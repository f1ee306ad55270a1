/* Encodes a collected oa_metric_batch as one OTLP ExportMetricsServiceRequest
 * (opentelemetry/proto/collector/metrics/v1) with the protobuf-c code
 * generated from proto/. Runs on the metrics thread, inside
 * libotelauto-otlp.so.
 *
 * The protobuf-c messages of a request live in a handful of arrays, sized
 * from the batch before anything is filled in and freed as soon as the
 * request is packed. Strings are copied sanitised (otlp_text.h), like the
 * trace encoder's: server.address comes from a Host header and is not
 * guaranteed to be UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "export/otlp/otlp_exporter.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "export/otlp/otlp_text.h"

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_request;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics pb_resource_metrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics pb_scope_metrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__Histogram pb_histogram;
typedef Opentelemetry__Proto__Metrics__V1__Sum pb_sum;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint pb_histogram_point;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_number_point;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_key_value;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any_value;

#define SCOPE_NAME "otelauto"

struct storage {
    pb_metric *metrics;
    pb_metric **metric_ptrs;
    pb_histogram *histograms;
    pb_sum *sums;
    pb_histogram_point *hpoints;
    pb_number_point *npoints;
    void **point_ptrs;
    pb_key_value *kvs;
    pb_key_value **kv_ptrs;
    pb_any_value *values;
    char *text;
    size_t points_used, kvs_used, text_used;
};

static void storage_free(struct storage *st)
{
    free(st->metrics);
    free(st->metric_ptrs);
    free(st->histograms);
    free(st->sums);
    free(st->hpoints);
    free(st->npoints);
    free(st->point_ptrs);
    free(st->kvs);
    free(st->kv_ptrs);
    free(st->values);
    free(st->text);
}

static size_t resource_attr_count(const struct oa_resource *r)
{
    if (!r)
        return 0;
    return r->n_attrs < OA_RESOURCE_MAX_ATTRS ? r->n_attrs : OA_RESOURCE_MAX_ATTRS;
}

static size_t cstr_size(const char *s)
{
    return s ? oa_otlp_text_size(s, strlen(s)) : 1;
}

static bool storage_alloc(struct storage *st, const struct oa_resource *resource,
                          const struct oa_metric_batch *batch)
{
    size_t n = batch->n_metrics;
    size_t points = 0;
    size_t kvs = resource_attr_count(resource);
    size_t text = 0;

    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < kvs; i++)
        text += oa_otlp_attr_text_size(&resource->attrs[i]);
    for (size_t i = 0; i < n; i++) {
        const struct oa_metric *m = &batch->metrics[i];
        text += cstr_size(m->name) + cstr_size(m->description) + cstr_size(m->unit);
        points += m->n_points;
        for (size_t j = 0; j < m->n_points; j++) {
            const struct oa_metric_point *p = &m->points[j];
            uint32_t na = p->n_attrs < OA_METRIC_POINT_MAX_ATTRS ? p->n_attrs : OA_METRIC_POINT_MAX_ATTRS;
            kvs += na;
            for (uint32_t k = 0; k < na; k++)
                text += oa_otlp_attr_text_size(&p->attrs[k]);
        }
    }
    st->metrics = calloc(n + 1, sizeof *st->metrics);
    st->metric_ptrs = calloc(n + 1, sizeof *st->metric_ptrs);
    st->histograms = calloc(n + 1, sizeof *st->histograms);
    st->sums = calloc(n + 1, sizeof *st->sums);
    st->hpoints = calloc(points + 1, sizeof *st->hpoints);
    st->npoints = calloc(points + 1, sizeof *st->npoints);
    st->point_ptrs = calloc(points + 1, sizeof *st->point_ptrs);
    st->kvs = calloc(kvs + 1, sizeof *st->kvs);
    st->kv_ptrs = calloc(kvs + 1, sizeof *st->kv_ptrs);
    st->values = calloc(kvs + 1, sizeof *st->values);
    st->text = malloc(text + 1);
    if (!st->metrics || !st->metric_ptrs || !st->histograms || !st->sums || !st->hpoints ||
        !st->npoints || !st->point_ptrs || !st->kvs || !st->kv_ptrs || !st->values || !st->text) {
        storage_free(st);
        return false;
    }
    return true;
}

static char *text_copy(struct storage *st, const char *s)
{
    char *out = st->text + st->text_used;
    st->text_used += oa_otlp_text_write(out, s ? s : "", s ? strlen(s) : 0);
    return out;
}

static pb_key_value **fill_attributes(struct storage *st, const struct oa_attr *attrs, size_t count)
{
    pb_key_value **ptrs = st->kv_ptrs + st->kvs_used;

    for (size_t i = 0; i < count; i++) {
        pb_key_value *kv = &st->kvs[st->kvs_used];
        pb_any_value *v = &st->values[st->kvs_used];
        st->kvs_used++;
        st->text_used += oa_otlp_key_value_fill(kv, v, &attrs[i], st->text + st->text_used);
        ptrs[i] = kv;
    }
    return ptrs;
}

static size_t point_attr_count(const struct oa_metric_point *p)
{
    return p->n_attrs < OA_METRIC_POINT_MAX_ATTRS ? p->n_attrs : OA_METRIC_POINT_MAX_ATTRS;
}

static void fill_histogram(struct storage *st, pb_metric *out, pb_histogram *h, const struct oa_metric *m)
{
    opentelemetry__proto__metrics__v1__histogram__init(h);
    h->aggregation_temporality = (Opentelemetry__Proto__Metrics__V1__AggregationTemporality)m->temporality;
    h->n_data_points = m->n_points;
    h->data_points = (pb_histogram_point **)(st->point_ptrs + st->points_used);
    for (size_t j = 0; j < m->n_points; j++) {
        const struct oa_metric_point *p = &m->points[j];
        pb_histogram_point *hp = &st->hpoints[st->points_used];

        opentelemetry__proto__metrics__v1__histogram_data_point__init(hp);
        hp->n_attributes = point_attr_count(p);
        hp->attributes = fill_attributes(st, p->attrs, hp->n_attributes);
        hp->start_time_unix_nano = p->start_unix_nano;
        hp->time_unix_nano = p->time_unix_nano;
        hp->count = p->count;
        hp->has_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__HAS_SUM_SUM;
        hp->sum = p->sum;
        hp->n_explicit_bounds = m->n_bounds;
        hp->explicit_bounds = (double *)(uintptr_t)m->bounds;
        hp->n_bucket_counts = m->n_bounds + 1;
        hp->bucket_counts = (uint64_t *)(uintptr_t)p->bucket_counts;
        if (p->has_min_max) {
            hp->has_min_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__HAS_MIN_MIN;
            hp->min = p->min;
            hp->has_max_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__HAS_MAX_MAX;
            hp->max = p->max;
        }
        st->point_ptrs[st->points_used++] = hp;
    }
    out->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
    out->histogram = h;
}

static void fill_sum(struct storage *st, pb_metric *out, pb_sum *sum, const struct oa_metric *m)
{
    opentelemetry__proto__metrics__v1__sum__init(sum);
    sum->aggregation_temporality = (Opentelemetry__Proto__Metrics__V1__AggregationTemporality)m->temporality;
    sum->is_monotonic = m->monotonic;
    sum->n_data_points = m->n_points;
    sum->data_points = (pb_number_point **)(st->point_ptrs + st->points_used);
    for (size_t j = 0; j < m->n_points; j++) {
        const struct oa_metric_point *p = &m->points[j];
        pb_number_point *np = &st->npoints[st->points_used];

        opentelemetry__proto__metrics__v1__number_data_point__init(np);
        np->n_attributes = point_attr_count(p);
        np->attributes = fill_attributes(st, p->attrs, np->n_attributes);
        np->start_time_unix_nano = p->start_unix_nano;
        np->time_unix_nano = p->time_unix_nano;
        np->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        np->as_int = p->value;
        st->point_ptrs[st->points_used++] = np;
    }
    out->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
    out->sum = sum;
}

uint8_t *oa_otlp_encode_metrics(const struct oa_resource *resource, const struct oa_metric_batch *batch,
                                size_t *out_len)
{
    struct storage st;
    pb_request request = OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
    pb_resource_metrics rm = OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
    pb_resource res = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    pb_scope_metrics sm = OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT;
    pb_scope scope = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
    pb_resource_metrics *rm_ptr = &rm;
    pb_scope_metrics *sm_ptr = &sm;

    *out_len = 0;
    if (!storage_alloc(&st, resource, batch))
        return NULL;
    res.n_attributes = resource_attr_count(resource);
    res.attributes = fill_attributes(&st, resource ? resource->attrs : NULL, res.n_attributes);
    scope.name = (char *)SCOPE_NAME;
    scope.version = (char *)OA_VERSION;
    for (size_t i = 0; i < batch->n_metrics; i++) {
        const struct oa_metric *m = &batch->metrics[i];
        pb_metric *out = &st.metrics[i];

        opentelemetry__proto__metrics__v1__metric__init(out);
        out->name = text_copy(&st, m->name);
        out->description = text_copy(&st, m->description);
        out->unit = text_copy(&st, m->unit);
        if (m->kind == OA_METRIC_HISTOGRAM)
            fill_histogram(&st, out, &st.histograms[i], m);
        else
            fill_sum(&st, out, &st.sums[i], m);
        st.metric_ptrs[i] = out;
    }
    sm.scope = &scope;
    sm.n_metrics = batch->n_metrics;
    sm.metrics = st.metric_ptrs;
    rm.resource = &res;
    rm.n_scope_metrics = 1;
    rm.scope_metrics = &sm_ptr;
    request.n_resource_metrics = 1;
    request.resource_metrics = &rm_ptr;

    size_t len = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__get_packed_size(&request);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf)
        *out_len = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__pack(&request, buf);
    storage_free(&st);
    return buf;
}
