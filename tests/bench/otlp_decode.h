/* A full decode (protobuf-c unpack) of OTLP trace requests for the benchmark receiver
 * (tests/bench/otlp_decode.c). */
#ifndef OTLP_DECODE_H
#define OTLP_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* The number of spans in an ExportTraceServiceRequest body, or -1 if it is
 * not a well-formed one. */
long otlp_decode_traces(const uint8_t *body, size_t len);

#endif
