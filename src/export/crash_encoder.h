/* The crash capture's OTLP/protobuf encoder: one ExportTraceServiceRequest
 * (the process's resource, scope "otelauto", the spans in flight each with
 * its `exception` event) written into a buffer the caller owns, one span at
 * a time, from a signal handler: no allocation, no lock, no libc call but
 * memcpy. The bytes are those of the exporter's encoder
 * (src/export/otlp/otlp_encoder.c, which lives in the lazily loaded object
 * and allocates its buffer) plus the event, invalid UTF-8 replaced by
 * U+FFFD as there. */
#ifndef OA_CRASH_ENCODER_H
#define OA_CRASH_ENCODER_H

#include "base/common.h"
#include "config/resource.h"
#include "trace/span.h"

/* The exception event of every span of one crash (semantic conventions:
 * exception.type, exception.message, exception.stacktrace). */
struct oa_crash_event {
    uint64_t time_unix_nano;
    const char *type;
    const char *message;
    const char *stacktrace;
    size_t stacktrace_len;       /* 0: no exception.stacktrace attribute */
};

struct oa_crash_encoder {
    uint8_t *buf;
    uint8_t *p;         /* where the bytes written so far begin (written backwards) */
    uint8_t *end;
    unsigned n_spans;
};

void oa_crash_encoder_begin(struct oa_crash_encoder *enc, uint8_t *buf, size_t cap);
/* Adds s, ended with ev (its status Error, message ev->message). false when
 * there is no room left: nothing written. */
bool oa_crash_encoder_add(struct oa_crash_encoder *enc, const struct oa_span *s, const struct oa_crash_event *ev);
/* The request around the spans added: its first byte and *len; NULL when
 * there is no room for the resource. */
const uint8_t *oa_crash_encoder_finish(struct oa_crash_encoder *enc, const struct oa_resource *r, size_t *len);

#endif
