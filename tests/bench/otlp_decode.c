/* Decodes an OTLP ExportTraceServiceRequest the way a collector's receiver
 * must before it can do anything with it: protobuf-c's generated decoder
 * (the same descriptors the exporter encodes with) unpacks the whole message
 * tree, every span and attribute allocated and filled in, then frees it. The
 * benchmarks need a receiver that pays a real decoder's cost without a
 * Python interpreter's, which on two cores would take the CPU the traced
 * program is measured on. */
#include "otlp_decode.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

long otlp_decode_traces(const uint8_t *body, size_t len)
{
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len, body);
    if (req == NULL)
        return -1;
    long spans = 0;
    for (size_t i = 0; i < req->n_resource_spans; i++)
        for (size_t j = 0; j < req->resource_spans[i]->n_scope_spans; j++)
            spans += (long)req->resource_spans[i]->scope_spans[j]->n_spans;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
    return spans;
}
