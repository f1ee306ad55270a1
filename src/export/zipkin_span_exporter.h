/* The span exporter "zipkin": a small adapter over the Zipkin v2 JSON
 * exporter of libotelauto-otlp.so, which it loads (otlp_loader.h) when the
 * exporter thread starts. */
#ifndef OA_ZIPKIN_SPAN_EXPORTER_H
#define OA_ZIPKIN_SPAN_EXPORTER_H

#include "export/span_exporter.h"

const struct oa_span_exporter *oa_zipkin_span_exporter(void);

#endif
