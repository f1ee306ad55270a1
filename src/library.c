/* Library life cycle: the constructor reads the configuration and sets up
 * what tracing needs (nothing that loads libraries or starts threads: the
 * exporter does that lazily, on its first span); fork handlers keep the child
 * sane; the destructor flushes with a deadline. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/auxv.h>

#include "oa_config.h"
#include "oa_conn.h"
#include "oa_export.h"
#include "oa_guard.h"
#include "oa_libc.h"
#include "oa_library.h"
#include "oa_log.h"
#include "oa_resource.h"
#include "oa_thread_context.h"


/* 0 not yet, 1 tracing, 2 inert (setuid, disabled) */
int oa_library_state;

static const char *read_env(const char *name)
{
    return secure_getenv(name);
}

static void atfork_prepare(void)
{
    oa_export_atfork_prepare();
}

static void atfork_parent(void)
{
    oa_export_atfork_parent();
}

static void atfork_child(void)
{
    oa_fd_table_atfork_child();
    oa_thread_context_reset();
    oa_resource_build(&oa_resource, &oa_config); /* process.pid changed */
    oa_export_atfork_child();
}

__attribute__((constructor)) static void oa_library_init(void)
{
    int saved = errno;
    oa_libc_bind();
    if (getauxval(AT_SECURE) != 0) {
        /* setuid/setcap: the environment is not to be trusted, do nothing */
        __atomic_store_n(&oa_library_state, 2, __ATOMIC_RELEASE);
        errno = saved;
        return;
    }
    oa_config_load(&oa_config, read_env);
    if (oa_config.sdk_disabled) {
        __atomic_store_n(&oa_library_state, 2, __ATOMIC_RELEASE);
        errno = saved;
        return;
    }
    oa_resource_build(&oa_resource, &oa_config);
    oa_export_init();
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    OA_DEBUG("tracing enabled");
    __atomic_store_n(&oa_library_state, 1, __ATOMIC_RELEASE);
    errno = saved;
}

__attribute__((destructor)) static void oa_library_fini(void)
{
    if (!oa_library_ready())
        return;
    int saved = errno;
    oa_in_library++;
    oa_export_shutdown();
    oa_in_library--;
    errno = saved;
}
