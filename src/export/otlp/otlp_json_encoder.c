/* The OTLP/HTTP JSON encoder (see otlp_json_encoder.h). Members are written
 * in field-number order, as the protobuf encoders write fields, so that a
 * request reads like the proto files. */
#include <string.h>

#include "export/otlp/json_writer.h"
#include "export/otlp/otlp_span_flags.h"
#include "export/otlp/otlp_json_encoder.h"

#define SCOPE_NAME "otelauto"

/* A first guess of a request's size, so that the buffer seldom grows. */
#define BYTES_PER_SPAN 1024
#define BYTES_PER_POINT 512
#define BYTES_OF_RESOURCE 2048

static size_t resource_attr_count(const struct oa_resource *r)
{
    if (!r)
        return 0;
    return r->n_attrs < OA_RESOURCE_MAX_ATTRS ? r->n_attrs : OA_RESOURCE_MAX_ATTRS;
}

/* AnyValue: one member, named after the oneof case */
static void any_value(struct oa_json *j, const struct oa_attr *a)
{
    oa_json_begin_object(j);
    switch (a->type) {
    case OA_VALUE_STRING:
        oa_json_key(j, "stringValue");
        oa_json_string(j, a->v.str.ptr, a->v.str.ptr ? a->v.str.len : 0);
        break;
    case OA_VALUE_BOOL:
        oa_json_key(j, "boolValue");
        oa_json_bool(j, a->v.b);
        break;
    case OA_VALUE_INT:
        oa_json_key(j, "intValue");
        oa_json_i64_string(j, a->v.i);
        break;
    case OA_VALUE_DOUBLE:
        oa_json_key(j, "doubleValue");
        oa_json_double(j, a->v.d);
        break;
    }
    oa_json_end_object(j);
}

/* "attributes":[{"key":...,"value":{...}}, ...], left out when empty */
static void attributes(struct oa_json *j, const struct oa_attr *attrs, size_t n)
{
    if (n == 0)
        return;
    oa_json_key(j, "attributes");
    oa_json_begin_array(j);
    for (size_t i = 0; i < n; i++) {
        oa_json_begin_object(j);
        oa_json_key(j, "key");
        oa_json_cstring(j, attrs[i].key);
        oa_json_key(j, "value");
        any_value(j, &attrs[i]);
        oa_json_end_object(j);
    }
    oa_json_end_array(j);
}

/* a string member, left out when empty (proto3's default) */
static void string_member(struct oa_json *j, const char *name, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return;
    oa_json_key(j, name);
    oa_json_cstring(j, s);
}

static void u64_member(struct oa_json *j, const char *name, uint64_t v)
{
    if (v == 0)
        return;
    oa_json_key(j, name);
    oa_json_u64_string(j, v);
}

static void uint_member(struct oa_json *j, const char *name, uint32_t v)
{
    if (v == 0)
        return;
    oa_json_key(j, name);
    oa_json_uint(j, v);
}

/* "resource":{...},"scope...":[{"scope":{"name":"otelauto","version":...}, then
 * the caller's list and the closing brackets */
static void begin_resource_and_scope(struct oa_json *j, const struct oa_resource *resource, const char *list,
                                     const char *scope_list, const char *items)
{
    oa_json_begin_object(j);
    oa_json_key(j, list);
    oa_json_begin_array(j);
    oa_json_begin_object(j);
    oa_json_key(j, "resource");
    oa_json_begin_object(j);
    attributes(j, resource ? resource->attrs : NULL, resource_attr_count(resource));
    oa_json_end_object(j);
    oa_json_key(j, scope_list);
    oa_json_begin_array(j);
    oa_json_begin_object(j);
    oa_json_key(j, "scope");
    oa_json_begin_object(j);
    oa_json_key(j, "name");
    oa_json_cstring(j, SCOPE_NAME);
    oa_json_key(j, "version");
    oa_json_cstring(j, OA_VERSION);
    oa_json_end_object(j);
    oa_json_key(j, items);
    oa_json_begin_array(j);
}

/* the items' array, the scope's object and array, the resource's, the request */
static void end_resource_and_scope(struct oa_json *j)
{
    oa_json_end_array(j);
    oa_json_end_object(j);
    oa_json_end_array(j);
    oa_json_end_object(j);
    oa_json_end_array(j);
    oa_json_end_object(j);
}

/* ---- traces ---- */

static void span(struct oa_json *j, const struct oa_span *s)
{
    uint32_t n_attrs = s->n_attrs < OA_SPAN_MAX_ATTRS ? s->n_attrs : OA_SPAN_MAX_ATTRS;

    oa_json_begin_object(j);
    oa_json_key(j, "traceId");
    oa_json_hex(j, s->trace_id, sizeof s->trace_id);
    oa_json_key(j, "spanId");
    oa_json_hex(j, s->span_id, sizeof s->span_id);
    string_member(j, "traceState", s->trace_state);
    if (s->has_parent) {
        oa_json_key(j, "parentSpanId");
        oa_json_hex(j, s->parent_span_id, sizeof s->parent_span_id);
    }
    string_member(j, "name", s->name);
    uint_member(j, "kind", s->kind);
    u64_member(j, "startTimeUnixNano", s->start_unix_nano);
    u64_member(j, "endTimeUnixNano", s->end_unix_nano);
    attributes(j, s->attrs, n_attrs);
    uint_member(j, "droppedAttributesCount", s->dropped_attrs);
    /* always there, as in the protobuf encoding */
    oa_json_key(j, "status");
    oa_json_begin_object(j);
    string_member(j, "message", s->status_message);
    uint_member(j, "code", s->status_code);
    oa_json_end_object(j);
    uint_member(j, "flags", oa_otlp_span_flags(s));
    oa_json_end_object(j);
}

uint8_t *oa_otlp_json_encode_traces(const struct oa_resource *resource, struct oa_span *const *spans,
                                    size_t n, size_t *out_len)
{
    struct oa_json j;

    oa_json_init(&j, BYTES_OF_RESOURCE + n * BYTES_PER_SPAN);
    begin_resource_and_scope(&j, resource, "resourceSpans", "scopeSpans", "spans");
    for (size_t i = 0; i < n; i++)
        span(&j, spans[i]);
    end_resource_and_scope(&j);
    return (uint8_t *)oa_json_finish(&j, out_len);
}

/* ---- metrics ---- */

static size_t point_attr_count(const struct oa_metric_point *p)
{
    return p->n_attrs < OA_METRIC_POINT_MAX_ATTRS ? p->n_attrs : OA_METRIC_POINT_MAX_ATTRS;
}

/* HistogramDataPoint: attributes (9), start (2), time (3), count (4),
 * sum (5), bucketCounts (6), explicitBounds (7), min (11), max (12) */
static void histogram_point(struct oa_json *j, const struct oa_metric *m, const struct oa_metric_point *p)
{
    uint32_t n_bounds = m->n_bounds < OA_METRIC_MAX_BOUNDS ? m->n_bounds : OA_METRIC_MAX_BOUNDS;

    oa_json_begin_object(j);
    attributes(j, p->attrs, point_attr_count(p));
    u64_member(j, "startTimeUnixNano", p->start_unix_nano);
    u64_member(j, "timeUnixNano", p->time_unix_nano);
    u64_member(j, "count", p->count);
    /* optional in the proto: written whenever known, zero included */
    oa_json_key(j, "sum");
    oa_json_double(j, p->sum);
    oa_json_key(j, "bucketCounts");
    oa_json_begin_array(j);
    for (uint32_t i = 0; i <= n_bounds; i++)
        oa_json_u64_string(j, p->bucket_counts[i]);
    oa_json_end_array(j);
    oa_json_key(j, "explicitBounds");
    oa_json_begin_array(j);
    for (uint32_t i = 0; i < n_bounds; i++)
        oa_json_double(j, m->bounds[i]);
    oa_json_end_array(j);
    if (p->has_min_max) {
        oa_json_key(j, "min");
        oa_json_double(j, p->min);
        oa_json_key(j, "max");
        oa_json_double(j, p->max);
    }
    oa_json_end_object(j);
}

/* NumberDataPoint: attributes (7), start (2), time (3), asInt (6) */
static void number_point(struct oa_json *j, const struct oa_metric_point *p)
{
    oa_json_begin_object(j);
    attributes(j, p->attrs, point_attr_count(p));
    u64_member(j, "startTimeUnixNano", p->start_unix_nano);
    u64_member(j, "timeUnixNano", p->time_unix_nano);
    /* a oneof member: written even when 0 */
    oa_json_key(j, "asInt");
    oa_json_i64_string(j, p->value);
    oa_json_end_object(j);
}

/* Metric: name (1), description (2), unit (3), then histogram (9) or sum (7) */
static void metric(struct oa_json *j, const struct oa_metric *m)
{
    oa_json_begin_object(j);
    string_member(j, "name", m->name);
    string_member(j, "description", m->description);
    string_member(j, "unit", m->unit);
    oa_json_key(j, m->kind == OA_METRIC_HISTOGRAM ? "histogram" : "sum");
    oa_json_begin_object(j);
    oa_json_key(j, "dataPoints");
    oa_json_begin_array(j);
    for (size_t i = 0; i < m->n_points; i++) {
        if (m->kind == OA_METRIC_HISTOGRAM)
            histogram_point(j, m, &m->points[i]);
        else
            number_point(j, &m->points[i]);
    }
    oa_json_end_array(j);
    uint_member(j, "aggregationTemporality", (uint32_t)m->temporality);
    if (m->kind != OA_METRIC_HISTOGRAM && m->monotonic) {
        oa_json_key(j, "isMonotonic");
        oa_json_bool(j, true);
    }
    oa_json_end_object(j);
    oa_json_end_object(j);
}

uint8_t *oa_otlp_json_encode_metrics(const struct oa_resource *resource, const struct oa_metric_batch *batch,
                                     size_t *out_len)
{
    struct oa_json j;
    size_t points = 0;

    for (size_t i = 0; i < batch->n_metrics; i++)
        points += batch->metrics[i].n_points;
    oa_json_init(&j, BYTES_OF_RESOURCE + points * BYTES_PER_POINT);
    begin_resource_and_scope(&j, resource, "resourceMetrics", "scopeMetrics", "metrics");
    for (size_t i = 0; i < batch->n_metrics; i++)
        metric(&j, &batch->metrics[i]);
    end_resource_and_scope(&j);
    return (uint8_t *)oa_json_finish(&j, out_len);
}
