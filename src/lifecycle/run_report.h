/* What the shim tells its user about itself at OTEL_LOG_LEVEL=info: one line
 * when tracing starts in a process (its configuration, lazily on the first
 * TCP connection, as everything else) and one when the process exits (what
 * became of its spans). Nothing below info. */
#ifndef OA_RUN_REPORT_H
#define OA_RUN_REPORT_H

#include "config/config.h"
#include "export/batch_processor.h"

/* Formats the start line into buf (always NUL-terminated): version, service,
 * each signal's exporter and endpoint, sampler, propagators. */
void oa_run_report_format_start(char *buf, size_t cap, const struct oa_config *c,
                                const char *service_name);
/* Formats the exit line into buf from the export counters. */
void oa_run_report_format_exit(char *buf, size_t cap, const struct oa_export_counters *k);

/* Log them at info level (nothing formatted below it). */
void oa_run_report_start(void);
void oa_run_report_exit(void);

#endif
