/* An OTLP ExportTraceServiceRequest (protobuf) turned into tree spans. */
#ifndef OTELAUTO_OTLP_TRACE_DECODE_H
#define OTELAUTO_OTLP_TRACE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "trace_tree.h"

/* Adds each well-formed span of the request to store (spans without a
 * 16-byte trace id and an 8-byte span id are skipped). Returns the number
 * of spans added, or -1 if body is not a valid request. */
long otlp_trace_decode(const uint8_t *body, size_t len, struct trace_store *store, uint64_t now_ms);

#endif
