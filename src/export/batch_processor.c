/* The batch span processor: a bounded queue filled by the program's threads
 * and one background thread that empties it into the configured exporter.
 *
 * The program's side (oa_export_submit) never waits. It pushes onto a
 * lock-free queue (a full queue drops the span and counts it) and, when the
 * queue reaches the size the exporter asked to be woken at, wakes the
 * exporter thread through a futex: an atomic increment of a 32-bit word and
 * one FUTEX_WAKE system call. Neither can block, neither takes a lock (a
 * signal handler that ends up here finds nothing held), and a wake-up cannot
 * be lost, because the exporter sleeps with FUTEX_WAIT on the value it read
 * before looking at the queue: any increment after that look makes the sleep
 * return at once. A condition variable would need the program thread either
 * to block on its mutex or, with a trylock, to give up the wake-up whenever
 * the exporter happens to hold it.
 *
 * While spans flow, the program's threads make no system call at all: the
 * exporter measures the rate spans arrive at and sleeps until the queue
 * should hold a full batch, asking to be woken only if the queue fills well
 * beyond that (a burst). The wake-up at a full batch is left for a quiet
 * process, where the exporter sleeps until the schedule delay.
 *
 * The exporter thread hands a batch to the exporter it was given (struct
 * oa_span_exporter: none, console, otlp, chosen by name at start-up) when the
 * queue holds a full one, when OTEL_BSP_SCHEDULE_DELAY has passed, or when
 * shutdown asks it to flush; it retries what the exporter could not send
 * now, with backoff, and counts the rest. Raw spans are built (by their
 * protocol's materialize) as they are taken off the queue. It
 * holds the processor mutex only for short bookkeeping (taking a batch off the
 * queue, freeing it, finishing a flush), never while exporting, so fork (whose
 * prepare handler takes that mutex) never waits for a network round trip.
 *
 * Everything is lazy: the queue is allocated on the first span, the thread is
 * started on the first span, and the exporter sets itself up (the OTLP one
 * loads its object, with libcurl and protobuf-c) when the thread starts. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/guard.h"
#include "base/log.h"
#include "base/queue.h"
#include "config/config.h"
#include "export/batch_processor.h"
#include "export/exit_flush.h"
#include "export/thread_priority.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

/* How long shutdown waits when the export timeout is 0 ("no limit"): exit
 * must still finish. */
#define SHUTDOWN_DEFAULT_WAIT_MS 10000
/* Retry of a batch the receiver could not take now (OA_EXPORT_RETRYABLE). */
#define RETRY_INITIAL_MS 1000
#define RETRY_MAX_MS 30000
#define RETRY_TOTAL_MS 60000

enum lazy_state {
    LAZY_UNSET = 0,
    LAZY_BUSY, /* one thread is setting it up; the others do without */
    LAZY_READY,
    LAZY_FAILED,
};

static struct {
    /* Guards batch/batch_n, the flush bookkeeping and the flushed condition. */
    pthread_mutex_t lock;
    pthread_cond_t flushed;
    bool flushed_is_monotonic;

    struct oa_queue queue;
    int queue_state;        /* enum lazy_state, atomic */
    struct oa_span **batch; /* the batch the exporter is working on */
    size_t batch_cap;
    size_t batch_n;

    int thread_state;   /* enum thread_state, atomic */
    pid_t pid;          /* the process these structures belong to */
    int ever_submitted; /* atomic */

    uint32_t wake_word; /* futex: incremented to wake the exporter */
    int wake_pending;   /* a wake-up is already on its way */
    size_t wake_at;     /* queue size at which a submitter wakes the exporter */

    /* Flush requests from shutdown: one generation number each. Written under
     * lock, read without it by the exporter. */
    uint64_t flush_requested;
    uint64_t flush_done;
    uint64_t flush_deadline_ns; /* CLOCK_MONOTONIC */

    /* Where batches go. Read by the exporter thread at each batch, so that
     * it may be replaced (atomic). */
    const struct oa_span_exporter *exporter;

    /* The crash capture's request handed to the exporter thread (see
     * oa_export_crash_handoff): crash_state is a futex, CRASH_* */
    const uint8_t *crash_data;
    size_t crash_len;
    size_t crash_n;
    uint32_t crash_state;
    int exporter_tid; /* the exporter thread's, 0 before it runs */
} bsp = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .flushed = PTHREAD_COND_INITIALIZER,
};

/* The process's export counters (atomic adds). A named global, not a field
 * of bsp, so that `otelauto doctor PID` can find it by name in the shared
 * object's symbol table and read it from the process's memory: the running
 * program pays nothing for being asked. */
struct oa_export_counters oa_export_counters_live;

enum crash_state {
    CRASH_NONE = 0,
    CRASH_HANDED,  /* waiting for the exporter thread */
    CRASH_SENT,    /* the exporter thread is done with it */
};

/* Exporter thread only: state of the retry jitter generator. */
static uint64_t jitter_state;

static uint64_t mono_ns(void)
{
    return oa_now_mono_nano();
}

static uint64_t atomic_get(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void counter_add(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static void log_counters(const char *when)
{
    struct oa_export_counters c;

    if (oa_log_threshold < OA_LOG_DEBUG)
        return;
    oa_export_get_counters(&c);
    OA_DEBUG("%s: submitted=%llu exported=%llu dropped=%llu failed=%llu", when,
             (unsigned long long)c.submitted, (unsigned long long)c.exported,
             (unsigned long long)c.dropped_queue_full, (unsigned long long)c.failed);
}

static void init_sync_objects(void)
{
    pthread_condattr_t attr;

    pthread_mutex_init(&bsp.lock, NULL);
    bsp.flushed_is_monotonic = false;
    /* Shutdown waits with an absolute deadline: on the monotonic clock a
     * change of the wall clock at exit cannot stretch it. */
    if (pthread_condattr_init(&attr) == 0) {
        if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
            pthread_cond_init(&bsp.flushed, &attr) == 0)
            bsp.flushed_is_monotonic = true;
        pthread_condattr_destroy(&attr);
    }
    if (!bsp.flushed_is_monotonic)
        pthread_cond_init(&bsp.flushed, NULL);
}

void oa_export_set_exporter(const struct oa_span_exporter *exporter)
{
    __atomic_store_n(&bsp.exporter, exporter, __ATOMIC_RELEASE);
}

static const struct oa_span_exporter *current_exporter(void)
{
    return __atomic_load_n(&bsp.exporter, __ATOMIC_ACQUIRE);
}

void oa_export_init(const struct oa_span_exporter *exporter)
{
    init_sync_objects();
    bsp.pid = getpid();
    oa_export_set_exporter(exporter);
}

/* ---- waking and sleeping ---------------------------------------------- */

static void wake_exporter(void)
{
    __atomic_add_fetch(&bsp.wake_word, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &bsp.wake_word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Sleeps until woken, unless wake_word no longer holds seen, or the timeout. */
static void sleep_unless_woken(uint32_t seen, uint64_t timeout_ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(timeout_ns / NS_PER_S),
        .tv_nsec = (long)(timeout_ns % NS_PER_S),
    };

    syscall(SYS_futex, &bsp.wake_word, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
}

static uint32_t wake_generation(void)
{
    return __atomic_load_n(&bsp.wake_word, __ATOMIC_SEQ_CST);
}

static bool flush_in_progress(void)
{
    return atomic_get(&bsp.flush_requested) > atomic_get(&bsp.flush_done);
}

/* ---- the program's side ----------------------------------------------- */

/* The queue, allocated by the first submitter. Others arriving while it is
 * being allocated get NULL and drop their span rather than wait. */
/* Another thread is allocating the queue: that takes microseconds, and
 * dropping the span instead would lose the first spans of every process
 * whose first requests end together. The wait is bounded: the allocating
 * thread may be the very one a signal handler interrupted. */
static struct oa_queue *wait_for_queue(void)
{
    for (int i = 0; i < 1000; i++) {
        int state = __atomic_load_n(&bsp.queue_state, __ATOMIC_ACQUIRE);
        if (state == LAZY_READY)
            return &bsp.queue;
        if (state != LAZY_BUSY)
            return NULL;
        sched_yield();
    }
    return NULL;
}

static struct oa_queue *ready_queue(void)
{
    int state = __atomic_load_n(&bsp.queue_state, __ATOMIC_ACQUIRE);
    int expected = LAZY_UNSET;
    size_t capacity;
    size_t batch;

    if (state == LAZY_READY)
        return &bsp.queue;
    if (state != LAZY_UNSET ||
        !__atomic_compare_exchange_n(&bsp.queue_state, &expected, LAZY_BUSY, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return expected == LAZY_READY ? &bsp.queue : wait_for_queue();

    /* (zero only if the configuration was never loaded) */
    capacity = oa_config.max_queue_size ? oa_config.max_queue_size : 2048;
    batch = oa_config.max_export_batch_size ? oa_config.max_export_batch_size : 512;
    if (batch > capacity)
        batch = capacity;
    bsp.batch = calloc(batch, sizeof *bsp.batch);
    if (!bsp.batch || oa_queue_init(&bsp.queue, capacity) != 0) {
        free(bsp.batch);
        bsp.batch = NULL;
        __atomic_store_n(&bsp.queue_state, LAZY_FAILED, __ATOMIC_RELEASE);
        OA_ERROR("cannot allocate the span queue (%zu spans); spans will be dropped", capacity);
        return NULL;
    }
    bsp.batch_cap = batch;
    bsp.batch_n = 0;
    __atomic_store_n(&bsp.wake_at, batch, __ATOMIC_RELAXED);
    __atomic_store_n(&bsp.queue_state, LAZY_READY, __ATOMIC_RELEASE);
    return &bsp.queue;
}

static void *exporter_main(void *unused);

/* The flush at exit is registered with atexit when the first span arrives
 * (see exit_flush.c: after the program's own TLS set-up, typically, and
 * before a short-lived program exits); an exporter that sets up libcurl
 * registers it again then. Once per process: a forked child inherits the
 * registrations. */
static int flush_registered_at_first_span;

static bool create_exporter_thread(void)
{
    pthread_attr_t attr;
    pthread_t thread;
    sigset_t all;
    sigset_t saved;
    int rc;

    if (pthread_attr_init(&attr) != 0)
        return false;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* The new thread inherits this mask: with every signal blocked there, the
     * program's handlers keep running on the program's own threads. Except
     * the faults: a fault on a thread that blocks its signal kills the
     * process at once (the kernel forces the default action), so the crash
     * capture (src/lifecycle/crash.c) could not report a crash of this one. */
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGFPE);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    rc = pthread_create(&thread, &attr, exporter_main, NULL);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    pthread_attr_destroy(&attr);
    return rc == 0;
}

/* At most one thread per process: whoever moves the state away from NONE
 * (or, when retry_failed, from FAILED) creates it. */
static void ensure_exporter_thread(bool retry_failed)
{
    int state = __atomic_load_n(&bsp.thread_state, __ATOMIC_ACQUIRE);

    if (state != THREAD_NONE && !(retry_failed && state == THREAD_FAILED))
        return;
    if (!__atomic_compare_exchange_n(&bsp.thread_state, &state, THREAD_STARTING, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    /* A vfork child shares our memory but must not start threads: leave the
     * start to the real owner. */
    if (bsp.pid != 0 && getpid() != bsp.pid) {
        __atomic_store_n(&bsp.thread_state, state, __ATOMIC_RELEASE);
        return;
    }
    oa_export_register_exit_flush(&flush_registered_at_first_span);
    if (create_exporter_thread()) {
        __atomic_store_n(&bsp.thread_state, THREAD_RUNNING, __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&bsp.thread_state, THREAD_FAILED, __ATOMIC_RELEASE);
        OA_ERROR("cannot start the exporter thread; spans will be dropped");
    }
}

/* The system call that wakes the exporter, out of the submit's fast path
 * (which then saves no errno and no registers for it). */
static __attribute__((noinline, cold)) void claim_and_wake(void)
{
    int saved_errno = errno;

    if (!__atomic_exchange_n(&bsp.wake_pending, 1, __ATOMIC_SEQ_CST)) {
        counter_add(&oa_export_counters_live.wakeups_by_submitters, 1);
        wake_exporter();
    }
    errno = saved_errno;
}

/* At most one wake-up per look of the exporter: the first submitter to see
 * the queue at wake_at claims wake_pending, which the exporter clears each
 * time it looks at the queue. */
static inline void wake_if_asked(struct oa_queue *q)
{
    /* Pairs with the fences in exporter_main: either the exporter sees our
     * push when it looks at the queue, or we see its cleared wake_pending and
     * its last wake_at. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (oa_queue_size(q) < __atomic_load_n(&bsp.wake_at, __ATOMIC_RELAXED) ||
        __atomic_load_n(&bsp.wake_pending, __ATOMIC_RELAXED))
        return;
    claim_and_wake();
}

/* Everything but the common case: the first span (allocating the queue,
 * starting the thread), a full span to compact, a full queue, a thread that
 * is not running. Any of these may call into libc, so errno is kept here. */
static __attribute__((noinline)) void submit_slow(struct oa_span *s)
{
    int saved_errno = errno;
    struct oa_queue *q;

    if (!__atomic_load_n(&bsp.ever_submitted, __ATOMIC_RELAXED))
        __atomic_store_n(&bsp.ever_submitted, 1, __ATOMIC_RELEASE);

    q = ready_queue();
    /* only a full span is ever cut to a compact one: a raw span (what the
     * program's threads mostly submit) skips the call */
    if (q && s->form == OA_SPAN_FULL)
        s = oa_span_compact(s);
    if (!q || !oa_queue_push(q, s)) {
        oa_span_free(s);
        counter_add(&oa_export_counters_live.dropped_queue_full, 1);
    } else {
        ensure_exporter_thread(false);
    }

    if (q)
        wake_if_asked(q);
    errno = saved_errno;
}

void oa_export_submit(struct oa_span *s)
{
    if (!s)
        return;
    counter_add(&oa_export_counters_live.submitted, 1);
    /* The common case touches no errno: a span submitted before (the first
     * goes the slow way and sets ever_submitted, which the exit flush reads;
     * a ready queue and a running thread alone do not say so, the exporter
     * may have been started for another reason), a ready queue, a running
     * exporter, a raw span and room in the queue. */
    if (__builtin_expect(__atomic_load_n(&bsp.ever_submitted, __ATOMIC_RELAXED) &&
                             __atomic_load_n(&bsp.queue_state, __ATOMIC_ACQUIRE) == LAZY_READY &&
                             __atomic_load_n(&bsp.thread_state, __ATOMIC_ACQUIRE) == THREAD_RUNNING &&
                             s->form != OA_SPAN_FULL,
                         1) &&
        oa_queue_push(&bsp.queue, s)) {
        wake_if_asked(&bsp.queue);
        return;
    }
    submit_slow(s);
}

void oa_export_get_counters(struct oa_export_counters *out)
{
    out->submitted = atomic_get(&oa_export_counters_live.submitted);
    out->exported = atomic_get(&oa_export_counters_live.exported);
    out->dropped_queue_full = atomic_get(&oa_export_counters_live.dropped_queue_full);
    out->failed = atomic_get(&oa_export_counters_live.failed);
    out->wakeups_by_submitters = atomic_get(&oa_export_counters_live.wakeups_by_submitters);
}

/* ---- the exporter thread ---------------------------------------------- */

/* Backoff with jitter: a random wait in [ms/2, 3ms/2], so that many
 * processes that lost the same collector do not come back in step. */
static uint64_t jittered_ms(uint64_t ms)
{
    if (jitter_state == 0)
        jitter_state = mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
    jitter_state ^= jitter_state << 13;
    jitter_state ^= jitter_state >> 7;
    jitter_state ^= jitter_state << 17;
    return ms / 2 + jitter_state % (ms + 1);
}

/* Waits wait_ms before the next attempt at a batch first tried at started.
 * Returns false (give up) instead when the wait would end after the total
 * retry budget, or after the deadline of a flush in progress; a flush
 * requested during the wait is noticed at once. */
static void serve_crash(void);

static bool wait_before_retry(uint64_t started, uint64_t wait_ms)
{
    uint64_t resume = mono_ns() + wait_ms * NS_PER_MS;

    for (;;) {
        uint32_t seen = wake_generation();
        serve_crash();
        uint64_t give_up = started + RETRY_TOTAL_MS * NS_PER_MS;
        uint64_t now;

        if (flush_in_progress() && atomic_get(&bsp.flush_deadline_ns) < give_up)
            give_up = atomic_get(&bsp.flush_deadline_ns);
        if (resume > give_up)
            return false;
        now = mono_ns();
        if (now >= resume)
            return true;
        sleep_unless_woken(seen, resume - now);
    }
}

/* One batch to the exporter, retried with backoff while it says the
 * receiver cannot take it now, within the retry budget and the deadline of
 * a flush in progress. Counts the spans as exported or failed. */
static void export_batch(struct oa_span *const *spans, size_t n)
{
    const struct oa_span_exporter *e = current_exporter();
    uint64_t started = mono_ns();
    uint64_t backoff_ms = RETRY_INITIAL_MS;

    if (e && e->batch_begin)
        e->batch_begin(e->self);
    for (;;) {
        long retry_after_ms = -1;
        /* (none handed: nowhere for the spans to go) */
        enum oa_export_result result = e ? e->export(e->self, spans, n, &retry_after_ms) : OA_EXPORT_FAILED;
        uint64_t wait_ms;

        if (result == OA_EXPORT_OK) {
            counter_add(&oa_export_counters_live.exported, n);
            break;
        }
        if (result != OA_EXPORT_RETRYABLE) {
            counter_add(&oa_export_counters_live.failed, n);
            break;
        }
        wait_ms = retry_after_ms >= 0 ? (uint64_t)retry_after_ms : jittered_ms(backoff_ms);
        backoff_ms = backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : backoff_ms * 2;
        if (!wait_before_retry(started, wait_ms)) {
            counter_add(&oa_export_counters_live.failed, n);
            /* The exporter said once that the collector is unavailable; the
             * drops are counted and summed up at exit. */
            OA_DEBUG("dropping %zu span(s): the collector is still unavailable", n);
            break;
        }
        OA_DEBUG("retrying %zu span(s)", n);
    }
    log_counters("export");
}

/* Spans taken and built per hold of the lock: the lock's cost is shared by
 * them, and a fork waits for this many spans' building at most (some
 * microseconds). */
#define TAKE_PER_HOLD 16

/* Takes up to a batch off the queue, under the lock so that a fork always
 * sees batch/batch_n consistent: spans leave the queue and enter the batch in
 * one hold. Raw spans get their names and attributes here, before any
 * exporter sees them. */
static size_t take_batch(void)
{
    void *items[TAKE_PER_HOLD];
    size_t n = 0;

    while (n < bsp.batch_cap) {
        size_t want = bsp.batch_cap - n < TAKE_PER_HOLD ? bsp.batch_cap - n : TAKE_PER_HOLD;
        pthread_mutex_lock(&bsp.lock);
        size_t popped = oa_queue_pop(&bsp.queue, items, want);
        for (size_t i = 0; i < popped; i++) {
            struct oa_span *s = oa_span_materialize(items[i]);
            if (s != NULL)
                bsp.batch[n++] = s;
            else
                counter_add(&oa_export_counters_live.failed, 1);
        }
        bsp.batch_n = n;
        pthread_mutex_unlock(&bsp.lock);
        if (popped < want)
            break;
    }
    return n;
}

static void release_batch(void)
{
    pthread_mutex_lock(&bsp.lock);
    for (size_t i = 0; i < bsp.batch_n; i++)
        oa_span_free(bsp.batch[i]);
    bsp.batch_n = 0;
    pthread_mutex_unlock(&bsp.lock);
}

/* Exports what is queued, batch after batch. A flush exports it all. When
 * the schedule delay has passed, it stops after the first partial batch:
 * what arrives later waits for the next round. Otherwise it exports only
 * full batches, as the specification's processor does (a batch when it is
 * full or when the delay has passed): the spans that arrived while the
 * exporter slept beyond a batch wait for the next full one instead of
 * making a small request of their own, which cost nearly as much as a full
 * one (a POST and its answer, the wake-ups of the receiver). */
static void export_queued(bool flushing, bool due)
{
    for (;;) {
        if (!flushing && !due && oa_queue_size(&bsp.queue) < bsp.batch_cap)
            return;
        size_t n = take_batch();
        if (n == 0)
            return;
        export_batch(bsp.batch, n);
        release_batch();
        if (n < bsp.batch_cap && !flushing)
            return;
    }
}

static void finish_flush(uint64_t generation)
{
    pthread_mutex_lock(&bsp.lock);
    if (atomic_get(&bsp.flush_done) < generation)
        __atomic_store_n(&bsp.flush_done, generation, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&bsp.flushed);
    pthread_mutex_unlock(&bsp.lock);
}

static uint64_t schedule_delay_ns(void)
{
    /* 0 would mean exporting in a busy loop. */
    long ms = oa_config.schedule_delay_ms > 0 ? oa_config.schedule_delay_ms : 1;
    return (uint64_t)ms * NS_PER_MS;
}

/* The shortest sleep on a predicted full batch: beyond ~500,000 spans/s the
 * exporter looks every millisecond (and a burst still wakes it). */
#define PREDICTED_SLEEP_MIN_NS NS_PER_MS
/* The rate is measured over at least this long: a look just after an export
 * would otherwise see no span arrive and conclude the flow had stopped, and
 * over a millisecond or two the count depends on how the program's spans
 * bunch (a burst read as the rate makes the exporter wake before a batch is
 * there, look, and sleep again). */
#define RATE_WINDOW_MIN_NS (10 * NS_PER_MS)
/* The predicted sleep is lengthened by 1/PREDICTED_SLACK of itself: a look
 * a little after the batch is full costs nothing (what is beyond the batch
 * waits for the next one), a look a little before it costs a wake-up, a
 * look at the queue and another sleep. */
#define PREDICTED_SLACK 8

/* The exporter's estimate of how fast spans arrive. */
struct arrival_rate {
    uint64_t mark_ns;
    uint64_t mark_submitted;
    double per_ns;
};

static void arrival_rate_update(struct arrival_rate *r, uint64_t now)
{
    uint64_t submitted = atomic_get(&oa_export_counters_live.submitted);

    if (now - r->mark_ns < RATE_WINDOW_MIN_NS)
        return;
    r->per_ns = (double)(submitted - r->mark_submitted) / (double)(now - r->mark_ns);
    r->mark_ns = now;
    r->mark_submitted = submitted;
}

/* Sleeps until the next look: until the queue should hold a full batch at
 * the measured rate (submitters then wake the exporter only on a burst that
 * fills the queue halfway beyond a batch), or, when spans come slower than
 * the schedule delay, until the delay (a submitter wakes it at a full batch).
 * Returns without sleeping when the queue already holds what a submitter
 * would have woken it for. */
static void sleep_until_next_look(uint32_t seen, size_t queued, uint64_t now, uint64_t next_due,
                                  const struct arrival_rate *rate)
{
    uint64_t until_due = next_due - now;
    uint64_t sleep_ns = until_due;
    size_t wake_at = bsp.batch_cap;

    if (rate->per_ns > 0 && queued < bsp.batch_cap) {
        double predicted = (double)(bsp.batch_cap - queued) / rate->per_ns;
        predicted += predicted / PREDICTED_SLACK;
        if (predicted < (double)until_due) {
            sleep_ns = predicted < (double)PREDICTED_SLEEP_MIN_NS ? PREDICTED_SLEEP_MIN_NS
                                                                  : (uint64_t)predicted;
            if (sleep_ns > until_due)
                sleep_ns = until_due;
            wake_at = bsp.batch_cap + (bsp.queue.limit - bsp.batch_cap) / 2;
        }
    }
    __atomic_store_n(&bsp.wake_at, wake_at, __ATOMIC_SEQ_CST);
    /* Pairs with the fence in wake_if_asked: a submitter that pushed while
     * wake_at was higher, and so did not wake us, is seen here. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (oa_queue_size(&bsp.queue) >= wake_at)
        return;
    sleep_unless_woken(seen, sleep_ns);
}

static void *exporter_main(void *unused)
{
    uint64_t next_due = mono_ns() + schedule_delay_ns();
    struct arrival_rate rate = {.mark_ns = mono_ns()};

    (void)unused;
    /* Everything this thread does (libcurl's sockets above all) is ours:
     * the hooks must let it through untouched. */
    oa_in_library = 1;
    __atomic_store_n(&bsp.exporter_tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
    oa_thread_lower_priority();
    /* The thread starts with the first span: that is the first need of the
     * exporter. Setting it up now rather than at the first batch keeps
     * libcurl's initialisation out of exit, where a short-lived program
     * would otherwise have its first batch sent. */
    const struct oa_span_exporter *e = current_exporter();
    if (e && e->start)
        e->start(e->self);
    for (;;) {
        uint32_t seen = wake_generation();
        serve_crash();
        __atomic_store_n(&bsp.wake_pending, 0, __ATOMIC_SEQ_CST);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);

        uint64_t flush_generation = atomic_get(&bsp.flush_requested);
        bool flushing = flush_generation > atomic_get(&bsp.flush_done);
        size_t queued = oa_queue_size(&bsp.queue);
        uint64_t now = mono_ns();

        if (flushing || queued >= bsp.batch_cap || (now >= next_due && queued > 0)) {
            export_queued(flushing, now >= next_due);
            if (flushing)
                finish_flush(flush_generation);
            next_due = mono_ns() + schedule_delay_ns();
            continue;
        }
        if (now >= next_due) {
            next_due = now + schedule_delay_ns();
            continue;
        }
        arrival_rate_update(&rate, now);
        sleep_until_next_look(seen, queued, now, next_due, &rate);
    }
    return NULL;
}

/* ---- the crash capture's hand-off ------------------------------------- */

/* Exporter thread: the crash capture's request, if one was handed (read
 * after wake_generation: a hand-off after that read wakes the next sleep). */
static void serve_crash(void)
{
    if (__atomic_load_n(&bsp.crash_state, __ATOMIC_ACQUIRE) != CRASH_HANDED)
        return;
    const struct oa_span_exporter *e = current_exporter();
    enum oa_export_result r = e && e->export_encoded
                                  ? e->export_encoded(e->self, bsp.crash_data, bsp.crash_len, bsp.crash_n)
                                  : OA_EXPORT_FAILED;
    counter_add(r == OA_EXPORT_OK ? &oa_export_counters_live.exported : &oa_export_counters_live.failed,
                bsp.crash_n);
    __atomic_store_n(&bsp.crash_state, CRASH_SENT, __ATOMIC_RELEASE);
    syscall(SYS_futex, &bsp.crash_state, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

bool oa_export_takes_encoded(void)
{
    const struct oa_span_exporter *e = current_exporter();
    return e != NULL && e->export_encoded != NULL;
}

void oa_export_start_thread(void)
{
    if (ready_queue() != NULL)
        ensure_exporter_thread(false);
}

bool oa_export_crash_handoff(const uint8_t *data, size_t len, size_t n, int64_t timeout_ns)
{
    if (__atomic_load_n(&bsp.thread_state, __ATOMIC_ACQUIRE) != THREAD_RUNNING || !oa_export_takes_encoded())
        return false;
    int exporter = __atomic_load_n(&bsp.exporter_tid, __ATOMIC_ACQUIRE);
    if (exporter == 0 || exporter == (int)syscall(SYS_gettid))
        return false; /* not running yet, or the crashed thread is the exporter */
    /* once per process (the capture is): no other thread writes these */
    if (__atomic_load_n(&bsp.crash_state, __ATOMIC_ACQUIRE) != CRASH_NONE)
        return false;
    bsp.crash_data = data;
    bsp.crash_len = len;
    bsp.crash_n = n;
    __atomic_store_n(&bsp.crash_state, CRASH_HANDED, __ATOMIC_SEQ_CST);
    wake_exporter();
    uint64_t deadline = mono_ns() + (uint64_t)timeout_ns;
    for (;;) {
        if (__atomic_load_n(&bsp.crash_state, __ATOMIC_ACQUIRE) == CRASH_SENT)
            return true;
        uint64_t now = mono_ns();
        if (now >= deadline)
            return false;
        struct timespec ts = {.tv_sec = (time_t)((deadline - now) / NS_PER_S),
                              .tv_nsec = (long)((deadline - now) % NS_PER_S)};
        syscall(SYS_futex, &bsp.crash_state, FUTEX_WAIT_PRIVATE, CRASH_HANDED, &ts, NULL, 0);
    }
}

/* ---- shutdown and fork ------------------------------------------------- */

static void add_ms(struct timespec *ts, long ms)
{
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void flush_spans(void)
{
    int saved_errno = errno;
    long wait_ms =
        oa_config.traces_otlp.timeout_ms > 0 ? oa_config.traces_otlp.timeout_ms : SHUTDOWN_DEFAULT_WAIT_MS;
    struct timespec deadline;
    uint64_t generation;

    /* Nothing was ever traced: nothing to load, nothing to wait for. */
    if (!__atomic_load_n(&bsp.ever_submitted, __ATOMIC_ACQUIRE))
        return;

    /* Spans may be queued without a thread, when a span was submitted while
     * the process was already exiting or the first start failed. */
    if (__atomic_load_n(&bsp.queue_state, __ATOMIC_ACQUIRE) == LAZY_READY &&
        oa_queue_size(&bsp.queue) > 0)
        ensure_exporter_thread(true);
    if (__atomic_load_n(&bsp.thread_state, __ATOMIC_ACQUIRE) != THREAD_RUNNING) {
        errno = saved_errno;
        return;
    }

    clock_gettime(bsp.flushed_is_monotonic ? CLOCK_MONOTONIC : CLOCK_REALTIME, &deadline);
    add_ms(&deadline, wait_ms);

    pthread_mutex_lock(&bsp.lock);
    /* A previous flush that ran out of time is still going on: the collector
     * is not keeping up, and exit has waited for it once already. */
    if (atomic_get(&bsp.flush_done) < bsp.flush_requested) {
        pthread_mutex_unlock(&bsp.lock);
        errno = saved_errno;
        return;
    }
    generation = bsp.flush_requested + 1;
    __atomic_store_n(&bsp.flush_deadline_ns, mono_ns() + (uint64_t)wait_ms * NS_PER_MS,
                     __ATOMIC_RELEASE);
    __atomic_store_n(&bsp.flush_requested, generation, __ATOMIC_RELEASE);
    wake_exporter();
    while (atomic_get(&bsp.flush_done) < generation) {
        if (pthread_cond_timedwait(&bsp.flushed, &bsp.lock, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&bsp.lock);
    log_counters("shutdown");
    errno = saved_errno;
}

void oa_export_shutdown(void)
{
    const struct oa_span_exporter *e = current_exporter();

    flush_spans();
    if (e && e->shutdown)
        e->shutdown(e->self);
}

void oa_export_atfork_prepare(void)
{
    pthread_mutex_lock(&bsp.lock);
}

void oa_export_atfork_parent(void)
{
    pthread_mutex_unlock(&bsp.lock);
}

/* The parent's spans are the parent's to send: in the child they would be
 * sent twice. */
static void discard_parent_spans(void)
{
    void *item;
    size_t limit = bsp.queue.limit;

    for (size_t i = 0; i < bsp.batch_n; i++)
        oa_span_free(bsp.batch[i]);
    bsp.batch_n = 0;
    while (oa_queue_pop(&bsp.queue, &item, 1) == 1)
        oa_span_free(item);
    /* A parent thread may have been half-way through a push when fork
     * copied the queue: that cell would never be completed here and would
     * block the queue. Start from a fresh one. */
    oa_queue_destroy(&bsp.queue);
    if (oa_queue_init(&bsp.queue, limit) != 0)
        __atomic_store_n(&bsp.queue_state, LAZY_FAILED, __ATOMIC_RELEASE);
}

void oa_export_atfork_child(void)
{
    init_sync_objects();
    bsp.pid = getpid();
    /* The exporter thread was not copied into the child. */
    bsp.thread_state = THREAD_NONE;
    bsp.exporter_tid = 0;
    bsp.crash_state = CRASH_NONE;
    if (bsp.queue_state == LAZY_READY)
        discard_parent_spans();
    else if (bsp.queue_state == LAZY_BUSY)
        bsp.queue_state = LAZY_UNSET; /* its allocating thread is not here */

    memset(&oa_export_counters_live, 0, sizeof oa_export_counters_live);
    bsp.ever_submitted = 0;
    bsp.wake_pending = 0;
    bsp.wake_at = bsp.batch_cap; /* the parent's exporter may have asked for later */
    bsp.flush_requested = 0;
    bsp.flush_done = 0;
    bsp.flush_deadline_ns = 0;

    const struct oa_span_exporter *e = current_exporter();
    if (e && e->atfork_child)
        e->atfork_child(e->self);
    jitter_state = 0;
}
