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
#include "lifecycle/crash.h"
#include "export/span_fanout.h"
#include "lifecycle/exit.h"
#include "base/guard.h"
#include "sys/real_libc.h"
#include "lifecycle/library.h"
#include "base/log.h"
#include "metrics/metrics_table.h"
#include "protocols/http1/http_exchange.h"
#include "protocols/http2/h2_connection.h"
#include "protocols/http2/grpc_metrics.h"
#include "protocols/db/db_metrics.h"
#include "protocols/http1/http_metrics.h"
#include "protocols/postgres/pg_connection.h"
#include "protocols/redis/redis_exchange.h"
#include "protocols/mysql/mysql_exchange.h"
#include "config/resource.h"
#include "trace/env_carrier.h"
#include "lifecycle/run_report.h"
#include "lifecycle/runtime_hints.h"
#include "trace/ids.h"

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

_Static_assert(OA_SPAN_FANOUT_MAX >= OA_CONFIG_MAX_TRACES_EXPORTERS,
               "the fan-out must hold every exporter the configuration may list");

/* OTEL_TRACES_EXPORTER's exporters, resolved by name: none, the one, or
 * the fan-out that hands each batch to all of them. */
static const struct oa_span_exporter *traces_exporter(void)
{
    const struct oa_span_exporter *listed[OA_CONFIG_MAX_TRACES_EXPORTERS];
    size_t n = 0;

    for (unsigned i = 0; i < oa_config.n_traces_exporters && i < OA_CONFIG_MAX_TRACES_EXPORTERS; i++)
        listed[n++] = oa_span_exporter_for(oa_config_traces_exporter_name(oa_config.traces_exporters[i]));
    if (n == 0)
        return oa_none_span_exporter();
    if (n == 1)
        return listed[0];
    return oa_span_fanout(listed, n);
}

static void configure(void)
{
    oa_config_load(&oa_config, read_env);
    oa_resource_build(&oa_resource, &oa_config);
    oa_export_set_exit_flush(oa_exit_flush);
    oa_export_init(traces_exporter());
    oa_http_metrics_register();
    oa_db_metrics_register();
    oa_grpc_metrics_register();
    oa_metrics_init();
    oa_env_carrier_load(read_env);
    oa_run_report_start();
    oa_crash_configure(&oa_config);
    __atomic_store_n(&configured, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&oa_wire_set_up, 1, __ATOMIC_RELEASE);
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

/* ---- fork: one pthread_atfork registration, one ordered list ----
 *
 * Every fork handler of the shim is an entry of the list below (the engine's,
 * which this file can name) or of the hook slots (the hook files', which it
 * cannot: hooks are the layer above; each hands its handler over once). One
 * registration runs them all, so their order is written down here instead of
 * following whichever code happened to call pthread_atfork first: prepare
 * handlers run last entry first, parent and child handlers first entry first
 * (what pthread_atfork does with separate registrations), so that a lock
 * taken by a later entry's prepare is released before an earlier entry's.
 * The engine's entries run only in a tracing process; the hook slots always
 * (their locks are taken whatever the state). */

struct fork_handlers {
    void (*prepare)(void);
    void (*parent)(void);
    void (*child)(void);
};

static void export_prepare(void)
{
    if (configured)
        oa_export_atfork_prepare();
}

static void export_parent(void)
{
    if (configured)
        oa_export_atfork_parent();
}

/* The forking thread keeps the requests it was handling: what the child does
 * (exec included) is done on their behalf. A configuration left half-done by
 * another thread is started again by the next caller. */
static void configure_child(void)
{
    if (__atomic_load_n(&configure_state, __ATOMIC_RELAXED) == 1)
        configure_state = 0;
    if (configured)
        oa_resource_build(&oa_resource, &oa_config); /* process.pid changed */
}

static void export_child(void)
{
    if (configured)
        oa_export_atfork_child();
}

static void metrics_child(void)
{
    if (configured)
        oa_metrics_atfork_child();
}

static const struct fork_handlers engine_fork_handlers[] = {
    {NULL, NULL, oa_fd_table_atfork_child}, /* connections: the child's own now */
    {NULL, NULL, configure_child},          /* before anything reads the resource */
    {export_prepare, export_parent, export_child},
    {NULL, NULL, metrics_child},
    {NULL, NULL, oa_ids_atfork_child}, /* the child must not repeat the parent's ids */
    /* the exporter object's loading lock (export/otlp_loader.h), last so that
     * its prepare runs first: no thread holds the processor's lock while it
     * waits for this one */
    {oa_export_setup_begin, oa_export_setup_end, oa_export_setup_atfork_child},
};

#define ENGINE_FORK_HANDLERS (sizeof(engine_fork_handlers) / sizeof(engine_fork_handlers[0]))

static void (*hook_fork_children[OA_FORK_CHILD_SLOTS])(void);

void oa_library_on_fork_child(enum oa_fork_child_slot slot, void (*child)(void))
{
    __atomic_store_n(&hook_fork_children[slot], child, __ATOMIC_RELEASE);
}

static bool tracing_process(void)
{
    return __atomic_load_n(&oa_library_state, __ATOMIC_ACQUIRE) == 1;
}

static void atfork_prepare(void)
{
    if (!tracing_process())
        return;
    for (size_t i = ENGINE_FORK_HANDLERS; i-- > 0;)
        if (engine_fork_handlers[i].prepare != NULL)
            engine_fork_handlers[i].prepare();
}

static void atfork_parent(void)
{
    if (!tracing_process())
        return;
    for (size_t i = 0; i < ENGINE_FORK_HANDLERS; i++)
        if (engine_fork_handlers[i].parent != NULL)
            engine_fork_handlers[i].parent();
}

static void atfork_child(void)
{
    if (tracing_process())
        for (size_t i = 0; i < ENGINE_FORK_HANDLERS; i++)
            if (engine_fork_handlers[i].child != NULL)
                engine_fork_handlers[i].child();
    for (size_t i = 0; i < OA_FORK_CHILD_SLOTS; i++) {
        void (*child)(void) = __atomic_load_n(&hook_fork_children[i], __ATOMIC_ACQUIRE);
        if (child != NULL)
            child();
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
    /* before the state is known: the hook slots need it in any process */
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    /* setuid/setcap: the environment is not to be trusted, do nothing */
    if (getauxval(AT_SECURE) != 0 || disabled_by_environment()) {
        __atomic_store_n(&oa_library_state, 2, __ATOMIC_RELEASE);
        errno = saved;
        return;
    }
    oa_wire_setup = oa_library_configure;
    /* the protocols the wire layer offers connections to, in order: HTTP/2
     * first, whose preface HTTP/1 would take for a request ("PRI") */
    oa_http2_register();
    oa_http1_register();
    oa_postgres_register();
    oa_redis_register();
    oa_mysql_register();
    /* node and python read their environment after the constructors */
    oa_runtime_hints_install();
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
