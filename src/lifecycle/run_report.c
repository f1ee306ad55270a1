/* The start and exit lines of OTEL_LOG_LEVEL=info (see oa_run_report.h).
 *
 * A user who sees no spans first wants to know whether the shim is in the
 * process at all, where it sends, and whether anything was lost: these two
 * lines answer that without a debugger. Formatting is split from logging so
 * that the unit tests can read the lines. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "config/resource.h"
#include "lifecycle/run_report.h"

/* Appends to buf at *used, never past cap; a cut line stays terminated. */
static void append(char *buf, size_t cap, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*used >= cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *used, cap - *used, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *used += (size_t)n < cap - *used ? (size_t)n : cap - *used - 1;
}

static void append_otlp(char *buf, size_t cap, size_t *used, const struct oa_config_otlp *o)
{
    append(buf, cap, used, " %s%s", o->endpoint, o->compression_gzip ? " (gzip)" : "");
}

void oa_run_report_format_start(char *buf, size_t cap, const struct oa_config *c,
                                const char *service_name)
{
    size_t used = 0;

    if (cap == 0)
        return;
    buf[0] = '\0';
    append(buf, cap, &used, "otelauto %s tracing service \"%s\"; traces: ", OA_VERSION, service_name);
    for (unsigned i = 0; i < c->n_traces_exporters && i < OA_CONFIG_MAX_TRACES_EXPORTERS; i++)
        append(buf, cap, &used, "%s%s", i ? "," : "", oa_config_traces_exporter_name(c->traces_exporters[i]));
    if (c->n_traces_exporters == 0)
        append(buf, cap, &used, "none");
    if (oa_config_traces_exporter_on(c, OA_TRACES_EXPORTER_OTLP))
        append_otlp(buf, cap, &used, &c->traces_otlp);
    append(buf, cap, &used, "; metrics: %s", oa_config_metrics_exporter_name(c->metrics_exporter));
    if (c->metrics_exporter == OA_METRICS_EXPORTER_OTLP)
        append_otlp(buf, cap, &used, &c->metrics_otlp);
    else if (c->metrics_exporter == OA_METRICS_EXPORTER_PROMETHEUS)
        append(buf, cap, &used, " on %s:%d", c->prometheus_host, c->prometheus_port);
    append(buf, cap, &used, "; sampler: %s", oa_config_sampler_name(c->sampler));
    if (c->sampler == OA_SAMPLER_TRACEIDRATIO || c->sampler == OA_SAMPLER_PARENTBASED_TRACEIDRATIO)
        append(buf, cap, &used, " %g", c->sampler_ratio);
    append(buf, cap, &used, "; propagators: ");
    for (unsigned i = 0, n = 0; i < OA_PROPAGATOR_N; i++) {
        if (oa_config_propagates(c, (enum oa_propagator)i))
            append(buf, cap, &used, "%s%s", n++ ? "," : "", oa_config_propagator_name((enum oa_propagator)i));
    }
    if (c->propagators == 0)
        append(buf, cap, &used, "none");
}

void oa_run_report_format_exit(char *buf, size_t cap, const struct oa_export_counters *k)
{
    size_t used = 0;
    uint64_t settled = k->exported + k->dropped_queue_full + k->failed;
    /* What was submitted but neither sent nor counted lost: still queued when
     * the exit's flush ran out of time. */
    uint64_t unsent = k->submitted > settled ? k->submitted - settled : 0;

    if (cap == 0)
        return;
    buf[0] = '\0';
    append(buf, cap, &used,
           "exit: spans exported %llu, dropped %llu (queue full), failed %llu (not accepted or "
           "collector unreachable), unsent %llu",
           (unsigned long long)k->exported, (unsigned long long)k->dropped_queue_full,
           (unsigned long long)k->failed, (unsigned long long)unsent);
}

void oa_run_report_start(void)
{
    char line[1024];
    const struct oa_attr *service;

    if (oa_log_threshold < OA_LOG_INFO)
        return;
    service = oa_resource_find(&oa_resource, "service.name");
    oa_run_report_format_start(line, sizeof line, &oa_config,
                               service && service->type == OA_VALUE_STRING ? service->v.str.ptr : "?");
    OA_INFO("%s", line);
}

void oa_run_report_exit(void)
{
    char line[512];
    struct oa_export_counters k;

    if (oa_log_threshold < OA_LOG_INFO)
        return;
    oa_export_get_counters(&k);
    oa_run_report_format_exit(line, sizeof line, &k);
    OA_INFO("%s", line);
}
