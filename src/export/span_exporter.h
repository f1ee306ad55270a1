/* A span exporter, as the batch processor sees one: it hands each batch to
 * export and acts on the result (counts it, retries it with backoff, or
 * gives it up), whatever the exporter is. Exporters are chosen by name
 * (span_exporters.h). */
#ifndef OA_SPAN_EXPORTER_H
#define OA_SPAN_EXPORTER_H

#include <stddef.h>
#include <stdint.h>

#include "trace/span.h"

enum oa_export_result {
    OA_EXPORT_OK = 0,
    OA_EXPORT_RETRYABLE, /* the receiver cannot take it now: try again later */
    OA_EXPORT_FAILED,    /* for good: do not retry (the exporter said why) */
};

struct oa_span_exporter {
    const char *name; /* as in OTEL_TRACES_EXPORTER */
    /* Sends the batch, on the exporter thread, waiting at most the export
     * timeout. On RETRYABLE, *retry_after_ms is the wait the receiver asked
     * for, or -1 (the batch processor then backs off by itself). */
    enum oa_export_result (*export)(void *self, struct oa_span *const *spans, size_t n,
                                    long *retry_after_ms);
    /* Optional. On the exporter thread when it starts (with the first span):
     * an exporter that must set itself up (load libraries) does it then,
     * rather than at the first batch, which may come during exit. */
    void (*start)(void *self);
    /* Optional. In a fork child: whatever the exporter shares with the
     * parent (connections, a request half-way) is to be forgotten, never
     * torn down. */
    void (*atfork_child)(void *self);
    /* Optional. At exit, once the queue was flushed; more exports may come
     * (exit may flush twice), so it may be called again too. */
    void (*shutdown)(void *self);
    /* Optional. Before the first attempt at each batch, so that an exporter
     * that keeps per-batch state (the fan-out: which exporters still owe
     * the batch after a retryable failure) tells a retry from a new batch,
     * even after the batch processor gave up retrying the last one. */
    void (*batch_begin)(void *self);
    /* Optional. On the exporter thread: sends an OTLP/protobuf
     * ExportTraceServiceRequest already encoded (len bytes at data, n spans),
     * once, as this exporter sends its requests (its protocol, TLS, gRPC):
     * the crash capture's spans, which carry an exception event that struct
     * oa_span cannot hold (src/lifecycle/crash.c). */
    enum oa_export_result (*export_encoded)(void *self, const uint8_t *data, size_t len, size_t n);
    void *self;
};

#endif
