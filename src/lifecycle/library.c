/* Library life cycle.
 *
 * The constructor does almost nothing: every process that inherits
 * LD_PRELOAD pays for it (shell scripts, /bin/true), most of them never open
 * a TCP connection. It binds the real libc functions, stays inert in
 * secure-execution processes and with OTEL_SDK_DISABLED=true, and registers
 * the fork handlers. The configuration, the resource and the exporter set-up
 * happen once, on the first TCP connection (oa_library_configure); the
 * exporter's thread and libraries come even later, with the first span. */
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/auxv.h>

#include "config/config.h"
#include "wire/fd_table.h"
#include "export/batch_processor.h"
#include "export/exit_flush.h"
#include "export/otlp_loader.h"
#include "export/span_exporters.h"
#include "lifecycle/exit.h"
#include "base/guard.h"
#include "sys/real_libc.h"
#include "lifecycle/library.h"
#include "base/log.h"
#include "metrics/metrics_table.h"
#include "config/resource.h"
#include "trace/env_carrier.h"
#include "lifecycle/run_report.h"

/* 0 not yet, 1 tracing, 2 inert (setuid, disabled) */
int oa_library_state;

/* 0 not yet, 1 a thread is configuring, 2 done (configured = 1 then). Not
 * a pthread_once: a fork while another thread configures would leave the
 * child's once "in progress" forever, and its first connection would hang;
 * the fork child handler resets this word instead. */
static int configure_state;
static int configured;

static const char *read_env(const char *name)
{
    return secure_getenv(name);
}

static void configure(void)
{
    oa_config_load(&oa_config, read_env);
    oa_resource_build(&oa_resource, &oa_config);
    oa_export_set_exit_flush(oa_exit_flush);
    oa_export_init(oa_span_exporter_for(oa_config_traces_exporter_name(oa_config.traces_exporter)));
    oa_metrics_init();
    oa_env_carrier_load(read_env);
    oa_run_report_start();
    __atomic_store_n(&configured, 1, __ATOMIC_RELEASE);
}

void oa_library_configure(void)
{
    if (__atomic_load_n(&configured, __ATOMIC_ACQUIRE))
        return;
    int saved = errno;
    oa_in_library++;
    int expected = 0;
    if (__atomic_compare_exchange_n(&configure_state, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        configure();
        __atomic_store_n(&configure_state, 2, __ATOMIC_RELEASE);
    } else {
        /* another thread is configuring: a few microseconds */
        while (__atomic_load_n(&configure_state, __ATOMIC_ACQUIRE) != 2)
            sched_yield();
    }
    oa_in_library--;
    errno = saved;
}

static void atfork_prepare(void)
{
    if (configured)
        oa_export_atfork_prepare();
}

static void atfork_parent(void)
{
    if (configured)
        oa_export_atfork_parent();
}

static void atfork_child(void)
{
    oa_fd_table_atfork_child();
    /* The forking thread keeps the requests it was handling: what the child
     * does (exec included) is done on their behalf. A configuration left
     * half-done by another thread is started again by the next caller. */
    if (__atomic_load_n(&configure_state, __ATOMIC_RELAXED) == 1)
        configure_state = 0;
    if (configured) {
        oa_resource_build(&oa_resource, &oa_config); /* process.pid changed */
        oa_export_atfork_child();
        oa_metrics_atfork_child();
    }
}

static bool disabled_by_environment(void)
{
    const char *v = secure_getenv("OTEL_SDK_DISABLED");
    return v != NULL && strcasecmp(v, "true") == 0;
}

__attribute__((constructor)) static void oa_library_init(void)
{
    int saved = errno;
    oa_libc_bind();
    /* setuid/setcap: the environment is not to be trusted, do nothing */
    if (getauxval(AT_SECURE) != 0 || disabled_by_environment()) {
        __atomic_store_n(&oa_library_state, 2, __ATOMIC_RELEASE);
        errno = saved;
        return;
    }
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    /* The exporter object's loading lock (see otlp_loader.h), registered last
     * so that prepare takes it first: no thread holds the processor's lock
     * while it waits for this one. */
    pthread_atfork(oa_export_setup_begin, oa_export_setup_end, oa_export_setup_atfork_child);
    __atomic_store_n(&oa_library_state, 1, __ATOMIC_RELEASE);
    errno = saved;
}

__attribute__((destructor)) static void oa_library_fini(void)
{
    if (!oa_library_ready() || !__atomic_load_n(&configured, __ATOMIC_ACQUIRE))
        return;
    int saved = errno;
    oa_in_library++;
    oa_exit_flush();
    oa_run_report_exit();
    oa_in_library--;
    errno = saved;
}
