/* See loaded_span_exporter.h. */
#include <dlfcn.h>

#include "base/log.h"
#include "export/exit_flush.h"
#include "export/loaded_span_exporter.h"
#include "export/otlp_loader.h"

/* The loader finds the send entry point by the name it is given, and the
 * object's OTLP create function with it (which proves the object is ours);
 * the exporter's own create function is then looked up in the same object
 * (for the OTLP exporter, that same function). */
static bool load(struct oa_loaded_span_exporter *x)
{
    oa_otlp_create_fn otlp_create;
    void *send = NULL;

    if (x->send)
        return true;
    if (x->load_failed)
        return false;
    void *handle = oa_export_otlp_load("spans", x->send_symbol, &otlp_create, &send);
    void *create = handle ? dlsym(handle, x->create_symbol) : NULL;
    if (!create) {
        if (handle)
            OA_ERROR("the exporter object lacks %s; spans will not be exported", x->create_symbol);
        x->load_failed = true;
        return false;
    }
    *(void **)&x->create = create;
    *(void **)&x->send = send;
    return true;
}

static void *set_up(struct oa_loaded_span_exporter *x)
{
    if (!load(x))
        return NULL;
    oa_export_otlp_env(&x->env, x->otlp);
    x->exporter = x->create(&x->env);
    if (x->exporter) {
        oa_export_register_exit_flush(&x->flush_registered_after_exporter);
    } else if (!x->create_failure_logged) {
        x->create_failure_logged = true;
        OA_ERROR("cannot create the %s exporter for %s", x->label, x->endpoint);
    }
    return x->exporter;
}

static void *exporter(struct oa_loaded_span_exporter *x)
{
    if (x->exporter)
        return x->exporter;
    /* Under the lock that fork's prepare handler takes: a fork waits for
     * the loading of the exporter object and libcurl's set-up rather than
     * copy the dynamic loader's (or the allocator's) locks while this
     * thread holds them, which would leave them held forever in the child.
     * Exports themselves stay outside the lock. */
    oa_export_setup_begin();
    void *e = set_up(x);
    oa_export_setup_end();
    return e;
}

enum oa_export_result oa_loaded_span_export(void *self, struct oa_span *const *spans, size_t n,
                                            long *retry_after_ms)
{
    struct oa_loaded_span_exporter *x = self;
    void *e = exporter(x);

    /* the loading or the creation failed, and said so once */
    if (!e)
        return OA_EXPORT_FAILED;
    switch (x->send(e, spans, n, retry_after_ms)) {
    case OA_OTLP_OK:
        return OA_EXPORT_OK;
    case OA_OTLP_RETRYABLE:
        return OA_EXPORT_RETRYABLE;
    default:
        if (x->warn_on_refusal)
            OA_WARN("dropping %zu span(s): the collector did not accept them", n);
        return OA_EXPORT_FAILED;
    }
}

void oa_loaded_span_start(void *self)
{
    exporter(self);
}

/* The parent's exporter shares libcurl connections with the parent and its
 * state may be mid-request: forget it, never destroy it. The loaded object
 * itself stays valid. */
void oa_loaded_span_atfork_child(void *self)
{
    struct oa_loaded_span_exporter *x = self;

    x->exporter = NULL;
    x->create_failure_logged = false;
}
