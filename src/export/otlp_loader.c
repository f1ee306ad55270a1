/* Loading the OTLP exporter object (see otlp_loader.h). */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "config/config.h"
#include "config/resource.h"
#include "export/otlp_loader.h"
#include "sys/real_library.h"

const char *oa_export_otlp_library_override;

/* Its own lock, not the batch processor's: the metrics thread loads the
 * object too, and neither exporter needs the other's state to do it. */
static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;

void oa_export_setup_begin(void)
{
    pthread_mutex_lock(&setup_lock);
}

void oa_export_setup_end(void)
{
    pthread_mutex_unlock(&setup_lock);
}

/* The child's only thread is the one that took the lock in prepare; a fresh
 * lock is the surest way to have it free. */
void oa_export_setup_atfork_child(void)
{
    pthread_mutex_init(&setup_lock, NULL);
}

/* libotelauto-otlp.so is installed next to libotelauto.so: find the
 * directory of the object this code is in. */
static void otlp_library_path(char *out, size_t cap)
{
    Dl_info info;
    const char *slash;

    if (oa_export_otlp_library_override) {
        snprintf(out, cap, "%s", oa_export_otlp_library_override);
        return;
    }
    if (dladdr((void *)&oa_export_otlp_load, &info) && info.dli_fname) {
        slash = strrchr(info.dli_fname, '/');
        if (slash) {
            int n = snprintf(out, cap, "%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname,
                             OA_OTLP_LIBRARY_NAME);
            if (n > 0 && (size_t)n < cap)
                return;
        }
    }
    /* Found through the library search path, as we were. */
    snprintf(out, cap, "%s", OA_OTLP_LIBRARY_NAME);
}

void *oa_export_otlp_load(const char *what, const char *send_symbol, oa_otlp_create_fn *create, void **send)
{
    char path[PATH_MAX];

    otlp_library_path(path, sizeof path);
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        OA_ERROR("cannot load the OTLP exporter: %s; %s will not be exported", dlerror(), what);
        return NULL;
    }
    *(void **)create = dlsym(handle, OA_OTLP_CREATE_SYMBOL);
    *send = dlsym(handle, send_symbol);
    /* destroy is never called (an exporter lives until exit, and a forked
     * child must not touch its parent's libcurl state), but its absence
     * means an object of another build */
    if (!*create || !*send || !dlsym(handle, OA_OTLP_DESTROY_SYMBOL)) {
        *create = NULL;
        *send = NULL;
        OA_ERROR("%s lacks the exporter entry points; %s will not be exported", path, what);
        dlclose(handle);
        return NULL;
    }
    OA_DEBUG("loaded %s for %s", path, what);
    oa_exporter_library_set(handle);
    return handle;
}

void oa_export_otlp_env(struct oa_otlp_env *env, const struct oa_config_otlp *otlp)
{
    env->abi_version = OA_OTLP_ABI_VERSION;
    env->config = &oa_config;
    env->resource = &oa_resource;
    env->log = oa_log_write;
    env->otlp = otlp;
}
