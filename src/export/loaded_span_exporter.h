/* A span exporter over entry points of libotelauto-otlp.so (the "otlp" and
 * "zipkin" ones): the object is loaded and the exporter created when the
 * exporter thread starts, batches go to its send function, and a fork child
 * forgets the parent's exporter. One struct oa_loaded_span_exporter per
 * exporter, named by its entry points; its state is touched only by the
 * exporter thread (and by the fork child handler, when no exporter thread
 * exists). */
#ifndef OA_LOADED_SPAN_EXPORTER_H
#define OA_LOADED_SPAN_EXPORTER_H

#include <stdbool.h>

#include "config/config.h"
#include "export/otlp/otlp_exporter.h"
#include "export/span_exporter.h"

struct oa_loaded_span_exporter {
    /* What the exporter is, set in its initialiser. */
    const char *label;          /* "OTLP", "Zipkin": in messages */
    const char *create_symbol;  /* its create and send entry points */
    const char *send_symbol;
    const char *endpoint;       /* where it sends, in messages */
    /* the OTLP settings the environment carries (the Zipkin exporter does
     * not read them, but the environment wants some) */
    const struct oa_config_otlp *otlp;
    /* a batch the receiver refused for good is said (at warn level) */
    bool warn_on_refusal;

    /* State: the entry points (with the types their object declares, all
     * of them taking a pointer to the exporter's own struct), the exporter,
     * its environment. */
    void *(*create)(const struct oa_otlp_env *env);
    enum oa_otlp_result (*send)(void *exporter, struct oa_span *const *spans, size_t n, long *retry_after_ms);
    void *exporter;
    struct oa_otlp_env env;
    bool load_failed;
    bool create_failure_logged;
    /* Once libcurl is set up, its TLS library's clean-up is registered with
     * atexit: the flush must be registered after it, to run before it. */
    int flush_registered_after_exporter;
};

/* The struct oa_span_exporter functions; self is the
 * struct oa_loaded_span_exporter. */
enum oa_export_result oa_loaded_span_export(void *self, struct oa_span *const *spans, size_t n,
                                            long *retry_after_ms);
void oa_loaded_span_start(void *self);
void oa_loaded_span_atfork_child(void *self);

#endif
