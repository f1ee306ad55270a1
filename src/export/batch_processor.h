/* The batch span processor: the only way spans leave the program's threads.
 * oa_export_submit never blocks and never waits on the exporter: it pushes the
 * span on the bounded queue (dropping and counting when full) and wakes the
 * background exporter thread, which is started lazily on the first span and
 * loads the OTLP exporter object (libotelauto-otlp.so, with libcurl and
 * protobuf-c) only then. */
#ifndef OA_EXPORT_H
#define OA_EXPORT_H

#include "export/otlp/otlp_exporter.h"
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

/* Called once from library initialisation, after oa_config is loaded. Cheap:
 * allocates nothing, starts nothing. */
void oa_export_init(void);

/* Takes ownership of s. Unsampled spans must not be submitted. */
void oa_export_submit(struct oa_span *s);

/* At exit: hands every queued span to the exporter and waits at most the
 * export timeout for it. Never blocks longer. */
void oa_export_shutdown(void);

/* fork handlers (pthread_atfork): the child drops what the parent had queued
 * and restarts the exporter thread lazily. */
void oa_export_atfork_prepare(void);
void oa_export_atfork_parent(void);
void oa_export_atfork_child(void);

void oa_export_get_counters(struct oa_export_counters *out);

/* Around loading the OTLP object and setting up libcurl, from any of our
 * threads: takes the lock that fork's prepare handler takes, so that a fork
 * waits for the set-up instead of copying the dynamic loader's or the
 * allocator's locks while they are held (they would stay held in the child).
 * Program threads never take it. */
void oa_export_setup_begin(void);
void oa_export_setup_end(void);

/* dlopen's libotelauto-otlp.so, found next to the object holding this code,
 * for the span exporter and the metrics thread alike, and finds its create
 * function and the send function named send_symbol (its destroy function
 * must be there too, so that a mismatched object is refused). Returns the
 * handle, or NULL with an error logged saying that `what` ("spans",
 * "metrics") will not be exported. */
void *oa_export_otlp_load(const char *what, const char *send_symbol, oa_otlp_create_fn *create, void **send);
/* An exporter environment posting as otlp says (oa_config.traces_otlp or
 * .metrics_otlp), with the process's configuration, resource and log. */
void oa_export_otlp_env(struct oa_otlp_env *env, const struct oa_config_otlp *otlp);

/* The dlopen handle of the loaded OTLP object, or NULL before it is loaded:
 * symbols looked up through it are the ones the exporter's own libraries
 * define (its libcurl, that libcurl's libssl). */
void *oa_export_library(void);

#endif
