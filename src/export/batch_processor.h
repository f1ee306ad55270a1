/* The batch span processor: the only way spans leave the program's threads.
 * oa_export_submit never blocks and never waits on the exporter: it pushes the
 * span on the bounded queue (dropping and counting when full) and wakes the
 * background exporter thread, which is started lazily on the first span and
 * hands the spans, in batches, to the exporter it was given (span_exporter.h). */
#ifndef OA_EXPORT_H
#define OA_EXPORT_H

#include "export/span_exporter.h"
#include "trace/span.h"

struct oa_export_counters {
    uint64_t submitted;
    uint64_t exported;
    uint64_t dropped_queue_full;
    uint64_t failed;             /* spans in batches whose export failed for good */
    uint64_t wakeups_by_submitters; /* FUTEX_WAKE calls made on a program's thread */
};

/* The live counters, read by oa_export_get_counters. Their layout (five
 * uint64_t in the order above) and the symbol's name are what
 * `otelauto doctor PID` reads from a running process: change both together. */
extern struct oa_export_counters oa_export_counters_live;

/* Called once from library initialisation, after oa_config is loaded, with
 * the exporter batches go to (NULL: nowhere; every span then counts as failed).
 * Cheap: allocates nothing, starts nothing. */
void oa_export_init(const struct oa_span_exporter *exporter);

/* Batches taken from now on go to exporter (tests switch exporters). */
void oa_export_set_exporter(const struct oa_span_exporter *exporter);

/* Takes ownership of s. Unsampled spans must not be submitted. */
void oa_export_submit(struct oa_span *s);

/* At exit: hands every queued span to the exporter and waits at most the
 * export timeout for it (never longer), then calls the exporter's shutdown.
 * Spans only: the life cycle orders it with the metrics' final export. */
void oa_export_shutdown(void);

/* fork handlers (pthread_atfork): the child drops what the parent had queued
 * and restarts the exporter thread lazily. */
void oa_export_atfork_prepare(void);
void oa_export_atfork_parent(void);
void oa_export_atfork_child(void);

void oa_export_get_counters(struct oa_export_counters *out);

/* ---- the crash capture's hand-off (src/lifecycle/crash.c) ---- */

/* Whether the exporter can send a request already encoded (the otlp one). */
bool oa_export_takes_encoded(void);
/* Starts the exporter thread now rather than at the first span (crash
 * capture's set-up, when it will need the thread to send). */
void oa_export_start_thread(void);
/* Async-signal-safe (no allocation, no lock: a few atomics and futex
 * calls). Hands an OTLP/protobuf ExportTraceServiceRequest (len bytes at
 * data, n spans; data must stay valid) to the exporter thread, which sends
 * it once, as its exporter sends (https, grpc, http/json), at its next look
 * (at once if it sleeps; after the export in progress if one is); waits
 * for it at most timeout_ns. True when it was sent (accepted or not); false
 * when it could not be handed (no exporter thread, the caller is the
 * exporter thread, an exporter that cannot send it, already handed once)
 * or the time ran out. */
bool oa_export_crash_handoff(const uint8_t *data, size_t len, size_t n, int64_t timeout_ns);

#endif
