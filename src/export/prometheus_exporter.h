/* OTEL_METRICS_EXPORTER=prometheus: the Prometheus text exposition format
 * (version 0.0.4) of a collected batch, and the scrape endpoint that serves
 * it from the metrics thread. */
#ifndef OA_PROMETHEUS_H
#define OA_PROMETHEUS_H

#include "metrics/metric_data.h"
#include "config/resource.h"

/* Renders the batch (cumulative) and a target_info series with the resource
 * attributes. Returns a malloc'd text and its length in *len, or NULL. Name
 * translation: dots become underscores, unit "s" appends _seconds, units in
 * braces add nothing, monotonic sums end in _total; up-down sums are gauges. */
char *oa_prometheus_render(const struct oa_metric_batch *batch, const struct oa_resource *resource,
                           size_t *len);

/* The listening sockets of the endpoint: one per address the host name
 * resolves to ("localhost" may be 127.0.0.1 and ::1). */
#define OA_PROMETHEUS_MAX_SOCKETS 4

/* Opens the listening sockets (close-on-exec, non-blocking) into fds.
 * Returns how many, or -errno when not one could be opened (-EADDRINUSE:
 * another process has the port). */
int oa_prometheus_listen(const char *host, int port, int fds[OA_PROMETHEUS_MAX_SOCKETS]);

/* Waits at most timeout_ms for scrapes on the n sockets and answers them:
 * the body comes from render(arg) (malloc'd, freed here). Slow or silent
 * clients are cut off after a second. */
void oa_prometheus_serve(const int *fds, int n, int timeout_ms,
                         char *(*render)(void *arg, size_t *len), void *arg);

#endif
