/* The "console" traces exporter (OTEL_TRACES_EXPORTER=console): a readable
 * text dump of each span, for debugging a deployment without a collector. */
#ifndef OA_CONSOLE_EXPORTER_H
#define OA_CONSOLE_EXPORTER_H

#include "export/span_exporter.h"
#include "metrics/metric_data.h"
#include "trace/span.h"

/* Writes the spans to fd (stderr in the library) with the raw write system
 * call, one block of lines per span. Never allocates. */
void oa_console_export(int fd, struct oa_span *const *spans, size_t n);

/* The same as the span exporter "console", writing to stderr. */
const struct oa_span_exporter *oa_console_span_exporter(void);

/* The "console" metrics exporter: one block of lines per data point. */
void oa_console_export_metrics(int fd, const struct oa_metric_batch *batch);

#endif
