/* The span exporter "zipkin" (see zipkin_span_exporter.h), built as the
 * "otlp" one is (otlp_span_exporter.c): the object's entry points behind
 * struct oa_span_exporter, its state touched only by the exporter thread
 * (and by the fork child handler, when no exporter thread exists). */
#include <dlfcn.h>

#include "base/log.h"
#include "config/config.h"
#include "export/exit_flush.h"
#include "export/otlp/zipkin_exporter.h"
#include "export/otlp_loader.h"
#include "export/zipkin_span_exporter.h"

static struct {
    oa_zipkin_create_fn create;
    oa_zipkin_send_fn send;
    struct oa_zipkin_exporter *exporter;
    struct oa_otlp_env env;
    bool load_failed;
    bool create_failure_logged;
} zipkin;

/* Once libcurl is set up, its TLS library's clean-up is registered with
 * atexit: the flush must be registered after it, to run before it. */
static int flush_registered_after_exporter;

/* The loader finds the send entry point by the name it is given, and the
 * object's OTLP create function with it (which proves the object is ours);
 * the Zipkin create function is then looked up in the same object. */
static bool load(void)
{
    oa_otlp_create_fn otlp_create;
    void *send = NULL;

    if (zipkin.send)
        return true;
    if (zipkin.load_failed)
        return false;
    void *handle = oa_export_otlp_load("spans", OA_ZIPKIN_SEND_SYMBOL, &otlp_create, &send);
    void *create = handle ? dlsym(handle, OA_ZIPKIN_CREATE_SYMBOL) : NULL;
    if (!create) {
        if (handle)
            OA_ERROR("the exporter object lacks %s; spans will not be exported", OA_ZIPKIN_CREATE_SYMBOL);
        zipkin.load_failed = true;
        return false;
    }
    *(void **)&zipkin.create = create;
    *(void **)&zipkin.send = send;
    return true;
}

static struct oa_zipkin_exporter *set_up(void)
{
    if (!load())
        return NULL;
    /* the OTLP settings are not the Zipkin exporter's (it reads
     * config->traces_zipkin), but the environment wants some */
    oa_export_otlp_env(&zipkin.env, &oa_config.traces_otlp);
    zipkin.exporter = zipkin.create(&zipkin.env);
    if (zipkin.exporter) {
        oa_export_register_exit_flush(&flush_registered_after_exporter);
    } else if (!zipkin.create_failure_logged) {
        zipkin.create_failure_logged = true;
        OA_ERROR("cannot create the Zipkin exporter for %s", oa_config.traces_zipkin.endpoint);
    }
    return zipkin.exporter;
}

static struct oa_zipkin_exporter *exporter(void)
{
    if (zipkin.exporter)
        return zipkin.exporter;
    /* under the lock fork's prepare handler takes, as for OTLP: a fork
     * waits for the loading and libcurl's set-up rather than copy locks
     * held by this thread into the child */
    oa_export_setup_begin();
    struct oa_zipkin_exporter *e = set_up();
    oa_export_setup_end();
    return e;
}

static enum oa_export_result zipkin_export(void *self, struct oa_span *const *spans, size_t n,
                                           long *retry_after_ms)
{
    struct oa_zipkin_exporter *e = exporter();

    (void)self;
    /* the loading or the creation failed, and said so once */
    if (!e)
        return OA_EXPORT_FAILED;
    switch (zipkin.send(e, spans, n, retry_after_ms)) {
    case OA_OTLP_OK:
        return OA_EXPORT_OK;
    case OA_OTLP_RETRYABLE:
        return OA_EXPORT_RETRYABLE;
    default:
        return OA_EXPORT_FAILED;
    }
}

static void zipkin_start(void *self)
{
    (void)self;
    exporter();
}

/* The parent's exporter shares its connection with the parent and may be
 * mid-request: forgotten, never destroyed. The loaded object stays valid. */
static void zipkin_atfork_child(void *self)
{
    (void)self;
    zipkin.exporter = NULL;
    zipkin.create_failure_logged = false;
}

const struct oa_span_exporter *oa_zipkin_span_exporter(void)
{
    static const struct oa_span_exporter e = {
        .name = "zipkin",
        .export = zipkin_export,
        .start = zipkin_start,
        .atfork_child = zipkin_atfork_child,
    };
    return &e;
}
