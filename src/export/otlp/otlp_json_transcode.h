/* An OTLP/protobuf request rewritten as OTLP/HTTP JSON, for the crash
 * capture's requests (encoded in the signal handler as protobuf,
 * src/export/crash_encoder.c) when the collector takes JSON. */
#ifndef OA_OTLP_JSON_TRANSCODE_H
#define OA_OTLP_JSON_TRANSCODE_H

#include "base/common.h"

/* The ExportTraceServiceRequest of len bytes at data as JSON, with the
 * specification's mapping (the same as otlp_json_encoder.c: ids as hex,
 * enums as numbers, 64-bit integers as decimal strings, lowerCamelCase
 * names): a malloc'd text and its length, or NULL if data does not decode. */
uint8_t *oa_otlp_json_transcode_traces(const uint8_t *data, size_t len, size_t *out_len);

#endif
