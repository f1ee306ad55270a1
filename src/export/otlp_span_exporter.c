/* The span exporter "otlp" (see otlp_span_exporter.h): the OTLP object's
 * send function behind struct oa_span_exporter. Its state is touched only by
 * the exporter thread (and by the fork child handler, when no exporter
 * thread exists). */
#include <dlfcn.h>

#include "base/log.h"
#include "config/config.h"
#include "export/exit_flush.h"
#include "export/otlp_loader.h"
#include "export/otlp_span_exporter.h"

static struct {
    oa_otlp_create_fn create;
    oa_otlp_send_fn send;
    oa_otlp_send_encoded_fn send_encoded;
    struct oa_otlp_exporter *exporter;
    struct oa_otlp_env env;
    bool load_failed;
    bool create_failure_logged;
} otlp;

/* Once libcurl is set up, its TLS library's clean-up is registered with
 * atexit: the flush must be registered after it, to run before it. */
static int flush_registered_after_exporter;

static bool load(void)
{
    void *send = NULL;

    if (otlp.send)
        return true;
    if (otlp.load_failed)
        return false;
    void *handle = oa_export_otlp_load("spans", OA_OTLP_SEND_SYMBOL, &otlp.create, &send);
    if (!handle) {
        otlp.load_failed = true;
        return false;
    }
    *(void **)&otlp.send_encoded = dlsym(handle, OA_OTLP_SEND_ENCODED_SYMBOL);
    *(void **)&otlp.send = send;
    return true;
}

static struct oa_otlp_exporter *set_up(void)
{
    if (!load())
        return NULL;
    oa_export_otlp_env(&otlp.env, &oa_config.traces_otlp);
    otlp.exporter = otlp.create(&otlp.env);
    if (otlp.exporter) {
        oa_export_register_exit_flush(&flush_registered_after_exporter);
    } else if (!otlp.create_failure_logged) {
        otlp.create_failure_logged = true;
        OA_ERROR("cannot create the OTLP exporter for %s", oa_config.traces_otlp.endpoint);
    }
    return otlp.exporter;
}

static struct oa_otlp_exporter *exporter(void)
{
    if (otlp.exporter)
        return otlp.exporter;
    /* Under the lock that fork's prepare handler takes: a fork waits for
     * the loading of the exporter object and libcurl's set-up rather than
     * copy the dynamic loader's (or the allocator's) locks while this
     * thread holds them, which would leave them held forever in the child.
     * Exports themselves stay outside the lock. */
    oa_export_setup_begin();
    struct oa_otlp_exporter *e = set_up();
    oa_export_setup_end();
    return e;
}

static enum oa_export_result otlp_export(void *self, struct oa_span *const *spans, size_t n,
                                         long *retry_after_ms)
{
    struct oa_otlp_exporter *e = exporter();

    (void)self;
    /* the loading or the creation failed, and said so once */
    if (!e)
        return OA_EXPORT_FAILED;
    switch (otlp.send(e, spans, n, retry_after_ms)) {
    case OA_OTLP_OK:
        return OA_EXPORT_OK;
    case OA_OTLP_RETRYABLE:
        return OA_EXPORT_RETRYABLE;
    default:
        OA_WARN("dropping %zu span(s): the collector did not accept them", n);
        return OA_EXPORT_FAILED;
    }
}

/* the crash capture's request (see struct oa_span_exporter): one attempt */
static enum oa_export_result otlp_export_encoded(void *self, const uint8_t *data, size_t len, size_t n)
{
    struct oa_otlp_exporter *e = exporter();
    long retry_after_ms;

    (void)self;
    if (!e || !otlp.send_encoded)
        return OA_EXPORT_FAILED;
    return otlp.send_encoded(e, data, len, n, &retry_after_ms) == OA_OTLP_OK ? OA_EXPORT_OK : OA_EXPORT_FAILED;
}

static void otlp_start(void *self)
{
    (void)self;
    exporter();
}

/* The parent's exporter shares libcurl connections with the parent and its
 * state may be mid-request: forget it, never destroy it. The loaded object
 * itself stays valid. */
static void otlp_atfork_child(void *self)
{
    (void)self;
    otlp.exporter = NULL;
    otlp.create_failure_logged = false;
}

const struct oa_span_exporter *oa_otlp_span_exporter(void)
{
    static const struct oa_span_exporter e = {
        .name = "otlp",
        .export = otlp_export,
        .start = otlp_start,
        .atfork_child = otlp_atfork_child,
        .export_encoded = otlp_export_encoded,
    };
    return &e;
}
