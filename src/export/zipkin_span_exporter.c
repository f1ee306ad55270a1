/* The span exporter "zipkin" (see zipkin_span_exporter.h), built as the
 * "otlp" one is: the object's Zipkin entry points behind
 * struct oa_span_exporter (loaded_span_exporter.h). */
#include "export/loaded_span_exporter.h"
#include "export/otlp/zipkin_exporter.h"
#include "export/zipkin_span_exporter.h"

/* The OTLP settings are not the Zipkin exporter's (it reads
 * config->traces_zipkin), but the environment wants some. A batch Zipkin
 * refuses for good was said by the exporter already. */
static struct oa_loaded_span_exporter zipkin = {
    .label = "Zipkin",
    .create_symbol = OA_ZIPKIN_CREATE_SYMBOL,
    .send_symbol = OA_ZIPKIN_SEND_SYMBOL,
    .endpoint = oa_config.traces_zipkin.endpoint,
    .otlp = &oa_config.traces_otlp,
    .warn_on_refusal = false,
};

const struct oa_span_exporter *oa_zipkin_span_exporter(void)
{
    static const struct oa_span_exporter e = {
        .name = "zipkin",
        .export = oa_loaded_span_export,
        .start = oa_loaded_span_start,
        .atfork_child = oa_loaded_span_atfork_child,
        .self = &zipkin,
    };
    return &e;
}
