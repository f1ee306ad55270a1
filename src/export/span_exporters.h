/* The span exporters by name: OTEL_TRACES_EXPORTER's values. One table, so
 * that another exporter is one entry (and its constructor). */
#ifndef OA_SPAN_EXPORTERS_H
#define OA_SPAN_EXPORTERS_H

#include "export/span_exporter.h"

/* The exporter called name, or the "none" exporter for NULL and unknown
 * names (the configuration warned about those already). Exporters are built
 * once per process: each name always gives the same one. */
const struct oa_span_exporter *oa_span_exporter_for(const char *name);

/* The "none" exporter: accepts everything, sends nothing. */
const struct oa_span_exporter *oa_none_span_exporter(void);

#endif
