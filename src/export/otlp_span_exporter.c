/* The span exporter "otlp" (see otlp_span_exporter.h): the OTLP object's
 * send function behind struct oa_span_exporter (loaded_span_exporter.h). */
#include "export/loaded_span_exporter.h"
#include "export/otlp_span_exporter.h"

static struct oa_loaded_span_exporter otlp = {
    .label = "OTLP",
    .create_symbol = OA_OTLP_CREATE_SYMBOL,
    .send_symbol = OA_OTLP_SEND_SYMBOL,
    .endpoint = oa_config.traces_otlp.endpoint,
    .otlp = &oa_config.traces_otlp,
    .warn_on_refusal = true,
};

const struct oa_span_exporter *oa_otlp_span_exporter(void)
{
    static const struct oa_span_exporter e = {
        .name = "otlp",
        .export = oa_loaded_span_export,
        .start = oa_loaded_span_start,
        .atfork_child = oa_loaded_span_atfork_child,
        .self = &otlp,
    };
    return &e;
}
