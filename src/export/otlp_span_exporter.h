/* The span exporter "otlp": a small adapter over libotelauto-otlp.so, which
 * it loads (otlp_loader.h) when the exporter thread starts. */
#ifndef OA_OTLP_SPAN_EXPORTER_H
#define OA_OTLP_SPAN_EXPORTER_H

#include "export/span_exporter.h"

const struct oa_span_exporter *oa_otlp_span_exporter(void);

#endif
