/* OTEL_METRICS_EXPORTER=prometheus: the Prometheus text exposition format
 * (version 0.0.4) of a collected batch, and the scrape endpoint that serves
 * it from the metrics thread. */
#ifndef OA_PROMETHEUS_H
#define OA_PROMETHEUS_H

#include "oa_metric_data.h"
#include "oa_resource.h"

/* Renders the batch (cumulative) and a target_info series with the resource
 * attributes. Returns a malloc'd text and its length in *len, or NULL. Name
 * translation: dots become underscores, unit "s" appends _seconds, units in
 * braces add nothing, monotonic sums end in _total; up-down sums are gauges. */
char *oa_prometheus_render(const struct oa_metric_batch *batch, const struct oa_resource *resource,
                           size_t *len);

/* Opens the listening socket (close-on-exec, non-blocking). Returns the fd,
 * or -errno. */
int oa_prometheus_listen(const char *host, int port);

/* Waits at most timeout_ms for a scrape on listen_fd and answers it: the
 * body comes from render(arg) (malloc'd, freed here). Slow or silent
 * clients are cut off after a second. */
void oa_prometheus_serve(int listen_fd, int timeout_ms, char *(*render)(void *arg, size_t *len),
                         void *arg);

#endif
