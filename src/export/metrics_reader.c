/* The metrics thread: the periodic reader of the instruments table and the
 * home of the metrics exporters.
 *
 * It is started by the first measurement (a process that never sees an HTTP
 * request never starts it), with every signal blocked and oa_in_library set,
 * so its sockets (libcurl's, the Prometheus endpoint's) are invisible to the
 * hooks. The program's threads never wait for it: they only record into the
 * table.
 *
 *   otlp        every OTEL_METRIC_EXPORT_INTERVAL, and once more at exit, an
 *               ExportMetricsServiceRequest to the metrics endpoint (through
 *               libotelauto-otlp.so, loaded by this thread). A failed export
 *               is not retried: cumulative data is complete again in the
 *               next one, delta data of that interval is lost.
 *   console     the same, as text on stderr.
 *   prometheus  a scrape endpoint on OTEL_EXPORTER_PROMETHEUS_HOST:PORT,
 *               collected at each scrape. Several processes with one
 *               configuration (pre-fork servers): the first to bind the
 *               port serves its own metrics; the others say so once (debug
 *               log), expose nothing, and retry the bind every interval, so
 *               a survivor takes over when the serving process exits.
 *
 * Exit: the life cycle's exit flush (src/lifecycle/exit.c), registered with
 * atexit here and by the span processor, asks this thread for its final
 * export (oa_metrics_begin_exit_flush), flushes the spans meanwhile, then
 * waits for it (oa_metrics_shutdown), both bounded by the export timeout:
 * they overlap. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "export/console_exporter.h"
#include "config/config.h"
#include "export/batch_processor.h"
#include "export/exit_flush.h"
#include "export/otlp_loader.h"
#include "base/guard.h"
#include "base/log.h"
#include "metrics/metrics_table.h"
#include "export/otlp/otlp_exporter.h"
#include "export/prometheus_exporter.h"
#include "config/resource.h"
#include "export/thread_priority.h"

#define NS_PER_MS 1000000ull
/* How long exit waits when the export timeout is 0 ("no limit"). */
#define SHUTDOWN_DEFAULT_WAIT_MS 10000
/* The Prometheus loop wakes at least this often to notice a bind retry due. */
#define PROMETHEUS_POLL_MS 1000

static struct {
    int thread_state;          /* enum thread_state, atomic */
    pid_t pid;                 /* the process the thread belongs to */
    uint32_t wake_word;        /* futex: bumped to wake the thread */
    uint32_t done_word;        /* futex: bumped when a flush is done */
    uint64_t flush_requested;  /* generations, atomic */
    uint64_t flush_done;
    uint64_t exit_generation;  /* the flush exit asked for, 0 = none yet */
    uint64_t exit_deadline_ns; /* CLOCK_MONOTONIC */
    int atexit_registered;
    int atexit_registered_after_exporter;
} rd;

/* Owned by the metrics thread. */
static struct {
    oa_otlp_create_fn create;
    oa_otlp_send_metrics_fn send;
    struct oa_otlp_exporter *exporter;
    struct oa_otlp_env env;
    bool load_failed;
    bool create_failure_logged;
} otlp;
static struct oa_metrics_collector *collector;
static int prometheus_fds[OA_PROMETHEUS_MAX_SOCKETS];
static int prometheus_n; /* listening sockets open */
static bool prometheus_busy_logged;

bool oa_metrics_enabled(void)
{
    return oa_config.metrics_exporter != OA_METRICS_EXPORTER_NONE;
}

static uint64_t atomic_get(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void futex_wake(uint32_t *word)
{
    __atomic_add_fetch(word, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void futex_wait(uint32_t *word, uint32_t seen, uint64_t timeout_ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(timeout_ns / 1000000000ull),
        .tv_nsec = (long)(timeout_ns % 1000000000ull),
    };
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
}

/* ---- exporters (metrics thread) ----------------------------------------- */

static struct oa_otlp_exporter *otlp_exporter(void);

static bool otlp_load(void)
{
    void *send = NULL;

    if (otlp.send)
        return true;
    if (otlp.load_failed)
        return false;
    if (!oa_export_otlp_load("metrics", OA_OTLP_SEND_METRICS_SYMBOL, &otlp.create, &send)) {
        otlp.load_failed = true;
        return false;
    }
    *(void **)&otlp.send = send;
    return true;
}

static struct oa_otlp_exporter *otlp_exporter_setup(void)
{
    if (!otlp_load())
        return NULL;
    oa_export_otlp_env(&otlp.env, &oa_config.metrics_otlp);
    otlp.exporter = otlp.create(&otlp.env);
    if (otlp.exporter) {
        /* (see exit_flush.c: the flush must run before the TLS library's
         * own atexit clean-up, registered by libcurl's set-up) */
        oa_export_register_exit_flush(&rd.atexit_registered_after_exporter);
    } else if (!otlp.create_failure_logged) {
        otlp.create_failure_logged = true;
        OA_ERROR("cannot create the OTLP metrics exporter for %s", oa_config.metrics_otlp.endpoint);
    }
    return otlp.exporter;
}

static struct oa_otlp_exporter *otlp_exporter(void)
{
    if (otlp.exporter)
        return otlp.exporter;
    oa_export_setup_begin(); /* fork-safe set-up, as for the spans */
    struct oa_otlp_exporter *e = otlp_exporter_setup();
    oa_export_setup_end();
    return e;
}

static const struct oa_metric_batch *collect(bool delta)
{
    struct oa_export_counters health;

    oa_export_get_counters(&health);
    return oa_metrics_collect(collector, delta, &health);
}

static void export_now(void)
{
    const struct oa_metric_batch *batch;
    struct oa_otlp_exporter *e;
    long retry_after_ms;

    switch (oa_config.metrics_exporter) {
    case OA_METRICS_EXPORTER_CONSOLE:
        oa_console_export_metrics(STDERR_FILENO, collect(false));
        break;
    case OA_METRICS_EXPORTER_OTLP:
        e = otlp_exporter();
        batch = collect(oa_config.metrics_delta);
        if (e && otlp.send(e, batch, &retry_after_ms) != OA_OTLP_OK)
            OA_DEBUG("metrics export to %s failed", oa_config.metrics_otlp.endpoint); /* the exporter said why */
        break;
    default:
        break;
    }
}

static char *render_scrape(void *unused, size_t *len)
{
    (void)unused;
    return oa_prometheus_render(collect(false), &oa_resource, len);
}

/* Binds the endpoint if not bound yet; false while another process has it. */
static bool prometheus_bound(void)
{
    int n;

    if (prometheus_n > 0)
        return true;
    n = oa_prometheus_listen(oa_config.prometheus_host, oa_config.prometheus_port, prometheus_fds);
    if (n > 0) {
        prometheus_n = n;
        OA_DEBUG("serving Prometheus metrics on %s:%d", oa_config.prometheus_host,
                 oa_config.prometheus_port);
        return true;
    }
    if (!prometheus_busy_logged) {
        const char *why = strerrorname_np(-n);
        prometheus_busy_logged = true;
        if (n == -EADDRINUSE)
            OA_DEBUG("Prometheus endpoint %s:%d is served by another process; this one's "
                     "metrics are not exposed (retrying every export interval)",
                     oa_config.prometheus_host, oa_config.prometheus_port);
        else
            OA_WARN("cannot serve Prometheus metrics on %s:%d: %s", oa_config.prometheus_host,
                    oa_config.prometheus_port, why ? why : "error");
    }
    return false;
}

/* ---- the thread --------------------------------------------------------- */

static uint64_t interval_ns(void)
{
    long ms = oa_config.metric_export_interval_ms > 0 ? oa_config.metric_export_interval_ms : 60000;
    return (uint64_t)ms * NS_PER_MS;
}

static void finish_flush(uint64_t generation)
{
    if (atomic_get(&rd.flush_done) < generation)
        __atomic_store_n(&rd.flush_done, generation, __ATOMIC_RELEASE);
    futex_wake(&rd.done_word);
}

static void prometheus_loop(void)
{
    uint64_t next_bind = 0;

    for (;;) {
        uint64_t now = oa_now_mono_nano();
        uint64_t generation = atomic_get(&rd.flush_requested);

        if (generation > atomic_get(&rd.flush_done))
            finish_flush(generation); /* nothing to push: scrapes pull */
        if (prometheus_n == 0 && now >= next_bind) {
            if (!prometheus_bound())
                next_bind = now + interval_ns();
        }
        if (prometheus_n > 0) {
            oa_prometheus_serve(prometheus_fds, prometheus_n, PROMETHEUS_POLL_MS, render_scrape, NULL);
        } else {
            uint32_t seen = __atomic_load_n(&rd.wake_word, __ATOMIC_SEQ_CST);
            uint64_t wait = next_bind > now ? next_bind - now : 0;
            uint64_t most = PROMETHEUS_POLL_MS * NS_PER_MS;
            futex_wait(&rd.wake_word, seen, wait < most ? wait : most);
        }
    }
}

static void push_loop(void)
{
    uint64_t next_due = oa_now_mono_nano() + interval_ns();

    /* The OTLP exporter (libcurl, OpenSSL) is set up at the first export,
     * not now: this thread starts with the first request, and a short-lived
     * program may begin to exit while OpenSSL initialises. OpenSSL registers
     * its clean-up with atexit early in its initialisation; an exit that
     * starts then runs that clean-up first, under the feet of the
     * initialisation still going on here (a crash). Set up during the exit
     * flush instead, the clean-up is registered while exit is waiting in
     * our handler, and runs only after it. */
    for (;;) {
        uint32_t seen = __atomic_load_n(&rd.wake_word, __ATOMIC_SEQ_CST);
        uint64_t generation = atomic_get(&rd.flush_requested);
        uint64_t now = oa_now_mono_nano();

        if (generation > atomic_get(&rd.flush_done)) {
            export_now();
            finish_flush(generation);
            continue;
        }
        if (now >= next_due) {
            export_now();
            next_due += interval_ns();
            if (next_due <= now)
                next_due = now + interval_ns();
            continue;
        }
        futex_wait(&rd.wake_word, seen, next_due - now);
    }
}

static void *reader_main(void *unused)
{
    (void)unused;
    oa_in_library = 1;
    oa_thread_lower_priority();
    if (!collector)
        collector = oa_metrics_collector_new();
    if (!collector) {
        OA_ERROR("cannot allocate the metrics collector; metrics will not be exported");
        __atomic_store_n(&rd.thread_state, THREAD_FAILED, __ATOMIC_RELEASE);
        return NULL;
    }
    if (oa_config.metrics_exporter == OA_METRICS_EXPORTER_PROMETHEUS)
        prometheus_loop();
    else
        push_loop();
    return NULL;
}

void oa_metrics_reader_start(void)
{
    int state = __atomic_load_n(&rd.thread_state, __ATOMIC_ACQUIRE);
    pthread_attr_t attr;
    pthread_t thread;
    sigset_t all;
    sigset_t saved;
    int rc;

    if (state != THREAD_NONE)
        return;
    if (!__atomic_compare_exchange_n(&rd.thread_state, &state, THREAD_STARTING, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    /* A vfork child shares our memory but must not start threads. */
    if (getpid() != rd.pid) {
        __atomic_store_n(&rd.thread_state, THREAD_NONE, __ATOMIC_RELEASE);
        return;
    }
    oa_export_register_exit_flush(&rd.atexit_registered);
    rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        sigfillset(&all);
        /* faults are this thread's own: blocking them would turn a crash
         * into a silent kill, with no report from a sanitizer */
        sigdelset(&all, SIGSEGV);
        sigdelset(&all, SIGBUS);
        sigdelset(&all, SIGILL);
        sigdelset(&all, SIGFPE);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        rc = pthread_create(&thread, &attr, reader_main, NULL);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        pthread_attr_destroy(&attr);
    }
    if (rc == 0) {
        __atomic_store_n(&rd.thread_state, THREAD_RUNNING, __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&rd.thread_state, THREAD_FAILED, __ATOMIC_RELEASE);
        OA_ERROR("cannot start the metrics thread; metrics will not be exported");
    }
}

/* ---- exit and fork -------------------------------------------------------- */

static bool pushes(void)
{
    return oa_config.metrics_exporter == OA_METRICS_EXPORTER_OTLP ||
           oa_config.metrics_exporter == OA_METRICS_EXPORTER_CONSOLE;
}

void oa_metrics_init(void)
{
    rd.pid = getpid();
}

void oa_metrics_begin_exit_flush(void)
{
    long wait_ms = oa_config.metrics_otlp.timeout_ms > 0 ? oa_config.metrics_otlp.timeout_ms : SHUTDOWN_DEFAULT_WAIT_MS;
    uint64_t generation;

    if (__atomic_load_n(&rd.thread_state, __ATOMIC_ACQUIRE) != THREAD_RUNNING || !pushes() ||
        getpid() != rd.pid)
        return;
    if (oa_config.metric_export_timeout_ms > 0 && oa_config.metric_export_timeout_ms < wait_ms)
        wait_ms = oa_config.metric_export_timeout_ms;
    if (atomic_get(&rd.exit_generation) != 0)
        return;
    generation = __atomic_add_fetch(&rd.flush_requested, 1, __ATOMIC_ACQ_REL);
    uint64_t expected = 0;
    if (!__atomic_compare_exchange_n(&rd.exit_generation, &expected, generation, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    __atomic_store_n(&rd.exit_deadline_ns, oa_now_mono_nano() + (uint64_t)wait_ms * NS_PER_MS,
                     __ATOMIC_RELEASE);
    futex_wake(&rd.wake_word);
}

void oa_metrics_shutdown(void)
{
    int saved_errno = errno;
    uint64_t generation;
    uint64_t deadline;

    oa_metrics_begin_exit_flush();
    generation = atomic_get(&rd.exit_generation);
    deadline = atomic_get(&rd.exit_deadline_ns);
    while (generation != 0 && atomic_get(&rd.flush_done) < generation) {
        uint32_t seen = __atomic_load_n(&rd.done_word, __ATOMIC_SEQ_CST);
        uint64_t now = oa_now_mono_nano();
        if (atomic_get(&rd.flush_done) >= generation || now >= deadline)
            break;
        futex_wait(&rd.done_word, seen, deadline - now);
    }
    errno = saved_errno;
}

void oa_metrics_atfork_child(void)
{
    /* Only this thread exists in the child: what the metrics thread owned
     * is ours to reset. */
    /* the parent keeps serving on them; copies here would only hold the
     * port */
    for (int i = 0; i < prometheus_n; i++)
        syscall(SYS_close, prometheus_fds[i]);
    prometheus_n = 0;
    prometheus_busy_logged = false;
    oa_metrics_collector_free(collector);
    collector = NULL;
    otlp.exporter = NULL; /* shares the parent's connections: forget it */
    otlp.create_failure_logged = false;
    oa_metrics_table_reset();
    rd.thread_state = THREAD_NONE;
    rd.pid = getpid();
    rd.flush_requested = 0;
    rd.flush_done = 0;
    rd.exit_generation = 0;
    rd.exit_deadline_ns = 0;
}
