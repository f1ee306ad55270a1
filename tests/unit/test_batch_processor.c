/* The batch span processor with the none, console and OTLP exporters and a
 * fake one: lazy start, schedule delay, wake-up at a full batch, flush at
 * shutdown, dropping when the queue is full, fork hygiene, what it does with
 * each result an exporter gives (retry, give up, count), and shutdown
 * deadlines against a collector that refuses or never answers.
 *
 * The processor is process-global and lazy, so the scenarios run in order in
 * one process (the queue is sized once, on the first span) and the ones that
 * need a fresh incarnation run in a forked child.
 *
 * No check depends on how fast the machine is: they are on counts, order and
 * content. A wait for an event polls with a generous timeout (a test that
 * fails only if the event never comes), and where a duration is all there is
 * to tell a behaviour from its absence (shutdown not waiting out a deadline),
 * the deadline is made long and the bound is the deadline itself: only the
 * wait the behaviour forbids reaches it. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "export/batch_processor.h"
#include "export/exit_flush.h"
#include "export/otlp_loader.h"
#include "export/span_exporters.h"
#include "lifecycle/exit.h"
#include "protocols/http1/http_raw_span.h"
#include "base/log.h"
#include "oa_test.h"

/* Set by the library constructor when it is linked in (it then registered
 * the fork handlers itself). Weak: not linked in, it is NULL. */
extern int oa_library_state __attribute__((weak));

static char otlp_path[PATH_MAX + 64];
static bool otlp_available;

static uint64_t now_ms(void)
{
    return oa_now_mono_nano() / 1000000u;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int wait_child(pid_t pid, long timeout_ms);

/* What the library does at start-up with OTEL_TRACES_EXPORTER=name. */
static void use_exporter(const char *name)
{
    oa_export_set_exporter(oa_span_exporter_for(name));
}

static struct oa_export_counters counters(void)
{
    struct oa_export_counters c;
    oa_export_get_counters(&c);
    return c;
}

/* Polls until the counter at offset reaches target; false on timeout. */
static bool wait_counter(size_t offset, uint64_t target, long timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        struct oa_export_counters c = counters();
        if (*(uint64_t *)((char *)&c + offset) >= target)
            return true;
        if (now_ms() >= end)
            return false;
        sleep_ms(5);
    }
}

static struct oa_span *make_span(const char *name_fmt, int i)
{
    struct oa_span *s = oa_span_new();
    char name[64];
    int len = snprintf(name, sizeof name, name_fmt, i);

    for (int b = 0; b < 16; b++)
        s->trace_id[b] = (uint8_t)(0xa0 + b);
    for (int b = 0; b < 8; b++) {
        s->span_id[b] = (uint8_t)(0x10 + b);
        s->parent_span_id[b] = (uint8_t)(0xc0 + b);
    }
    s->has_parent = true;
    s->parent_is_remote = true;
    s->trace_flags = 1;
    s->kind = OA_SPAN_KIND_CLIENT;
    s->status_code = OA_STATUS_ERROR;
    s->status_message = oa_span_store(s, "boom", 4);
    s->start_unix_nano = 1700000000000000000ull;
    s->end_unix_nano = s->start_unix_nano + 1500000; /* 1.5 ms */
    oa_span_set_name(s, name, (size_t)len);
    oa_span_attr_str(s, "http.request.method", "GET", 3);
    oa_span_attr_int(s, "http.response.status_code", 503);
    oa_span_attr_str(s, "test.value", "line1\nline2 \"q\"", 15);
    return s;
}

static void submit_n(const char *name_fmt, int first, int n)
{
    for (int i = first; i < first + n; i++)
        oa_export_submit(make_span(name_fmt, i));
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The blocked-signal mask of a thread of ours other than tid_excluded (the
 * exporter, when it is the only other one), from /proc. */
static unsigned long long other_thread_sigblk(pid_t tid_excluded)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    unsigned long long mask = 0;

    while (d && (e = readdir(d)) != NULL) {
        char path[300];
        char line[256];
        FILE *f;
        if (e->d_name[0] == '.' || atoi(e->d_name) == tid_excluded)
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
        f = fopen(path, "r");
        while (f && fgets(line, sizeof line, f)) {
            if (strncmp(line, "SigBlk:", 7) == 0)
                mask = strtoull(line + 7, NULL, 16);
        }
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return mask;
}

/* A thread of ours other than the caller sleeps in the write system call on
 * fd (from /proc: its state and the call it is in). */
static bool thread_blocked_writing(int fd)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    bool found = false;
    pid_t self = (pid_t)syscall(SYS_gettid);

    while (d && !found && (e = readdir(d)) != NULL) {
        char path[300];
        char buf[512];
        FILE *f;
        long nr = -1;
        unsigned long arg0 = 0;
        char state = '?';
        if (e->d_name[0] == '.' || atoi(e->d_name) == self)
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/syscall", e->d_name);
        f = fopen(path, "r");
        if (f && fscanf(f, "%ld %lx", &nr, &arg0) != 2)
            nr = -1;
        if (f)
            fclose(f);
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        f = fopen(path, "r");
        if (f && fgets(buf, sizeof buf, f)) {
            char *paren = strrchr(buf, ')');
            if (paren && paren[1] == ' ')
                state = paren[2];
        }
        if (f)
            fclose(f);
        found = nr == SYS_write && arg0 == (unsigned long)fd && state == 'S';
    }
    if (d)
        closedir(d);
    return found;
}

static bool sig_in(unsigned long long mask, int sig)
{
    return (mask >> (sig - 1)) & 1;
}

static void find_otlp_library(void)
{
    const char *env = getenv("OA_TEST_OTLP_LIBRARY");
    char exe[PATH_MAX];
    ssize_t n;

    if (env) {
        snprintf(otlp_path, sizeof otlp_path, "%s", env);
    } else {
        /* build/tests/test_x -> build/libotelauto-otlp.so (build/asan/... alike) */
        n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(otlp_path, sizeof otlp_path, "%s/../libotelauto-otlp.so", exe);
    }
    otlp_available = access(otlp_path, R_OK) == 0;
}

static void test_shutdown_with_nothing(void)
{
    uint64_t t0;
    struct oa_export_counters c;
    int threads = count_threads();

    use_exporter("otlp");
    oa_export_otlp_library_override = otlp_path;
    /* a long deadline: waiting for a flush nobody runs would reach it */
    oa_config.traces_otlp.timeout_ms = 20000;
    t0 = now_ms();
    oa_export_shutdown();
    CHECK(now_ms() - t0 < 20000,
          "shutdown with nothing submitted does not wait for the export deadline (%llu ms)",
          (unsigned long long)(now_ms() - t0));
    c = counters();
    CHECK(c.submitted == 0 && c.exported == 0 && c.dropped_queue_full == 0 && c.failed == 0,
          "no counters moved");
    CHECK(count_threads() == threads, "no thread started");
    if (otlp_available)
        CHECK(dlopen(otlp_path, RTLD_NOW | RTLD_NOLOAD) == NULL, "the OTLP object was not loaded");
    else
        printf("ok %d # SKIP the OTLP object was not loaded (%s missing)\n", ++oa_test_count,
               otlp_path);
}

static void test_none_exporter(void)
{
    int threads = count_threads();
    struct oa_export_counters c;
    uint64_t t0;
    sigset_t mask;

    use_exporter("none");
    oa_config.max_queue_size = 64;
    oa_config.max_export_batch_size = 32;
    oa_config.schedule_delay_ms = 100;
    oa_config.traces_otlp.timeout_ms = 2000;

    submit_n("none-%d", 0, 3);
    CHECK(count_threads() == threads + 1, "first span starts exactly one exporter thread");
    CHECK(wait_counter(offsetof(struct oa_export_counters, exported), 3, 30000),
          "schedule delay: 3 spans exported without a full batch");
    c = counters();
    CHECK(c.submitted == 3 && c.exported == 3 && c.dropped_queue_full == 0 && c.failed == 0,
          "counters after the scheduled export");

    unsigned long long blk = other_thread_sigblk(getpid());
    CHECK(sig_in(blk, SIGINT) && sig_in(blk, SIGTERM) && sig_in(blk, SIGUSR1) &&
              sig_in(blk, SIGCHLD),
          "the exporter thread blocks signals (SigBlk %llx)", blk);
    pthread_sigmask(SIG_SETMASK, NULL, &mask);
    CHECK(!sigismember(&mask, SIGUSR1) && !sigismember(&mask, SIGINT),
          "the submitter's mask is restored");

    /* From now on only a full batch or shutdown exports. A flush (with
     * nothing queued) has the exporter start its next round after it, on
     * the new delay, however late the machine lets it run. */
    oa_config.schedule_delay_ms = 60000;
    oa_export_shutdown();
    CHECK(counters().exported == 3, "an empty flush exports nothing");

    /* The pause is room for an exporter that would take a partial batch
     * early to do so; a slow machine can only make it miss the chance. */
    submit_n("none-%d", 3, 31);
    sleep_ms(300);
    CHECK(counters().exported == 3, "31 queued spans wait (no full batch, no timer)");
    /* Exported long before the 60 s timer could fire: only a wake-up at the
     * full batch does it. */
    submit_n("none-%d", 34, 1);
    CHECK(wait_counter(offsetof(struct oa_export_counters, exported), 35, 30000),
          "the 32nd span wakes the exporter");

    submit_n("none-%d", 35, 5);
    /* a long deadline: only a shutdown that waits for it, and not for the
     * flush, reaches it */
    oa_config.traces_otlp.timeout_ms = 30000;
    t0 = now_ms();
    oa_export_shutdown();
    c = counters();
    CHECK(c.exported == 40 && c.submitted == 40, "shutdown flushes what is queued (exported %llu)",
          (unsigned long long)c.exported);
    CHECK(now_ms() - t0 < 30000,
          "and returns when the flush is done, not at the export deadline (%llu ms)",
          (unsigned long long)(now_ms() - t0));
    oa_config.traces_otlp.timeout_ms = 2000;
    CHECK(count_threads() == threads + 1, "still one exporter thread");
}

/* Spans arriving steadily: the exporter predicts when the next batch will be
 * full and wakes by itself, so the program's threads make no FUTEX_WAKE
 * system call. Before, every full batch cost one submitter a wake-up.
 *
 * In a child forked before the parent's first span, so that its queue is
 * sized here: 4096 spans, batches of 32. The 1200 spans never fill it, so
 * nothing is dropped however late the exporter runs, and a submitter wakes
 * a predicting exporter only at 32 + (4096 - 32) / 2 spans queued, which
 * 1200 never reach: a machine that lets the exporter oversleep costs no
 * wake-up. What is left to scheduling is a look that finds no span arrived
 * over its measuring window (rate unknown, then woken at a full batch, once);
 * the bound, half the full batches, is what waking at every batch (37) cannot
 * meet. */
#ifdef __SANITIZE_THREAD__
static void *read_until_closed(void *arg)
{
    char c;
    while (read(*(int *)arg, &c, 1) > 0)
        ;
    return NULL;
}
#endif

struct steady_result {
    uint64_t submitted, exported, dropped, failed, wakeups;
    uint64_t batches, smallest; /* exports before the shutdown's flush */
};

/* An exporter that only notes the batches it is handed (read by the test's
 * thread while the exporter thread may be writing them: atomics). */
static uint64_t steady_batches;
static uint64_t steady_smallest = UINT64_MAX;

static enum oa_export_result steady_export(void *self, struct oa_span *const *spans, size_t n,
                                           long *retry_after_ms)
{
    (void)self;
    (void)spans;
    (void)retry_after_ms;
    __atomic_add_fetch(&steady_batches, 1, __ATOMIC_RELAXED);
    if (n < __atomic_load_n(&steady_smallest, __ATOMIC_RELAXED))
        __atomic_store_n(&steady_smallest, (uint64_t)n, __ATOMIC_RELAXED);
    return OA_EXPORT_OK;
}

static const struct oa_span_exporter steady_exporter = {.name = "steady", .export = steady_export};

static void test_steady_flow_needs_no_wakeups(void)
{
    const int spans = 1200; /* ~37 batches at ~1,000 spans/s */
    struct steady_result r = {0, 0, 0, 0, UINT64_MAX, 0, 0};
    int pipefd[2];
    pid_t pid;
    int status;

    if (pipe(pipefd) != 0)
        pipefd[0] = pipefd[1] = -1;
#ifdef __SANITIZE_THREAD__
    /* ThreadSanitizer takes the processor mutex, locked by the fork's
     * prepare handler and initialised again in the child, as still held
     * after a fork from a single-threaded process (not after one from a
     * multi-threaded process, as every other fork here is): have a thread
     * alive across the fork. */
    int hold[2];
    pthread_t holder;
    bool holding = pipe(hold) == 0 && pthread_create(&holder, NULL, read_until_closed, &hold[0]) == 0;
#endif
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
#ifdef __SANITIZE_THREAD__
        if (holding)
            close(hold[1]);
#endif
        oa_export_set_exporter(&steady_exporter);
        oa_config.max_queue_size = 4096;
        oa_config.max_export_batch_size = 32;
        oa_config.schedule_delay_ms = 60000;
        oa_config.traces_otlp.timeout_ms = 30000;
        for (int i = 0; i < spans; i++) {
            oa_export_submit(make_span("steady-%d", i));
            sleep_ms(1);
        }
        struct oa_export_counters c = counters();
        r.wakeups = c.wakeups_by_submitters;
        r.batches = __atomic_load_n(&steady_batches, __ATOMIC_RELAXED);
        r.smallest = __atomic_load_n(&steady_smallest, __ATOMIC_RELAXED);
        oa_export_shutdown(); /* the last partial batch */
        c = counters();
        r.submitted = c.submitted;
        r.exported = c.exported;
        r.dropped = c.dropped_queue_full;
        r.failed = c.failed;
        _exit(write(pipefd[1], &r, sizeof r) == sizeof r ? 0 : 1);
    }
    close(pipefd[1]);
#ifdef __SANITIZE_THREAD__
    if (holding) {
        close(hold[1]);
        pthread_join(holder, NULL);
        close(hold[0]);
    }
#endif
    status = wait_child(pid, 120000);
    if (read(pipefd[0], &r, sizeof r) != sizeof r)
        r.wakeups = UINT64_MAX;
    close(pipefd[0]);
    CHECK(status == 0 && r.submitted == (uint64_t)spans && r.exported == (uint64_t)spans &&
              r.dropped == 0 && r.failed == 0,
          "steady flow: every span exported, none dropped (status 0x%x, %llu of %d)", status,
          (unsigned long long)r.exported, spans);
    CHECK(r.wakeups < (uint64_t)spans / 32 / 2,
          "steady flow: %llu wake-ups by submitters for %d full batches (fewer than half)",
          (unsigned long long)r.wakeups, spans / 32);
    /* The spans that arrive while the exporter works on (or oversleeps) a
     * full batch wait for the next full one: no small request of their own.
     * Before, every look of a late exporter sent a full batch and then the
     * few spans beyond it. */
    CHECK(r.batches > 0 && r.smallest == 32,
          "steady flow: only full batches before the flush (%llu exports, smallest %llu)",
          (unsigned long long)r.batches, (unsigned long long)r.smallest);
}

/* A burst that fills the queue past the halfway mark beyond a batch still
 * wakes the exporter at once, whatever it predicted: 50 spans in a queue of
 * 64 with batches of 32 (the sizes test_none_exporter set), exported long
 * before the 60 s timer could do it. */
static void test_burst_wakes_the_exporter(void)
{
    struct oa_export_counters before;

    use_exporter("none");
    oa_config.schedule_delay_ms = 60000;
    oa_export_shutdown(); /* the exporter's next round is on the 60 s delay */
    before = counters();
    submit_n("burst-%d", 0, 50);
    CHECK(wait_counter(offsetof(struct oa_export_counters, exported), before.exported + 32, 30000),
          "a burst wakes the exporter");
    oa_export_shutdown();
}

/* Reads a pipe until EOF into a growing buffer. */
struct drain {
    int fd;
    char *buf;
    size_t len;
    size_t cap;
};

static void *drain_main(void *arg)
{
    struct drain *d = arg;
    for (;;) {
        if (d->len + 4096 > d->cap) {
            d->cap = d->cap ? d->cap * 2 : 65536;
            d->buf = realloc(d->buf, d->cap + 1);
        }
        ssize_t n = read(d->fd, d->buf + d->len, d->cap - d->len);
        if (n <= 0)
            break;
        d->len += (size_t)n;
    }
    d->buf[d->len] = '\0';
    return NULL;
}

/* ---- a fake exporter: what the processor does with each result ---------- */

struct fake {
    int calls;
    size_t spans;         /* spans handed over, retries included */
    size_t largest_batch;
    bool in_order;        /* names fake-0, fake-1, ... in the order handed over */
    int next_index;
    int retryable_first;  /* answer RETRYABLE this many times, then `then` */
    long retry_after_ms;
    enum oa_export_result then;
    int starts;
    int atfork_children;
    int shutdowns;
};

static struct fake fake;

static enum oa_export_result fake_export(void *self, struct oa_span *const *spans, size_t n,
                                         long *retry_after_ms)
{
    struct fake *f = self;

    f->calls++;
    f->spans += n;
    if (n > f->largest_batch)
        f->largest_batch = n;
    if (f->retryable_first > 0) {
        f->retryable_first--;
        *retry_after_ms = f->retry_after_ms;
        return OA_EXPORT_RETRYABLE;
    }
    for (size_t i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "fake-%d", f->next_index++);
        if (strcmp(spans[i]->name, want) != 0)
            f->in_order = false;
    }
    return f->then;
}

static void fake_start(void *self)
{
    ((struct fake *)self)->starts++;
}

static void fake_atfork_child(void *self)
{
    ((struct fake *)self)->atfork_children++;
}

static void fake_shutdown(void *self)
{
    ((struct fake *)self)->shutdowns++;
}

static const struct oa_span_exporter fake_exporter = {
    .name = "fake",
    .export = fake_export,
    .start = fake_start,
    .atfork_child = fake_atfork_child,
    .shutdown = fake_shutdown,
    .self = &fake,
};

/* A fresh fake that answers `then` (after retryable_first RETRYABLEs). The
 * exporter thread reads it only between the submit and the end of the
 * flush: oa_export_shutdown's wait orders the test's reads after it. */
static void use_fake(enum oa_export_result then, int retryable_first, long retry_after_ms)
{
    memset(&fake, 0, sizeof fake);
    fake.in_order = true;
    fake.then = then;
    fake.retryable_first = retryable_first;
    fake.retry_after_ms = retry_after_ms;
    oa_export_set_exporter(&fake_exporter);
}

/* The queue (64) and batch (32) are the sizes test_none_exporter set. */
static void test_fake_exporter_batches(void)
{
    struct oa_export_counters before = counters();
    struct oa_export_counters c;

    oa_config.schedule_delay_ms = 60000;
    use_fake(OA_EXPORT_OK, 0, -1);
    submit_n("fake-%d", 0, 40);
    oa_export_shutdown();
    c = counters();
    /* (the exporter may take the spans after the first 32 in more than one
     * batch, as they arrive) */
    CHECK(fake.spans == 40 && fake.in_order && fake.largest_batch == 32 && fake.calls >= 2,
          "the exporter handed to the processor gets every span, in batches of at most 32 "
          "(%zu spans, %d calls, largest %zu)",
          fake.spans, fake.calls, fake.largest_batch);
    CHECK(c.exported == before.exported + 40 && c.failed == before.failed,
          "OK: the spans count as exported");
    CHECK(fake.shutdowns == 1, "shutdown calls the exporter's shutdown after the flush");
}

static void test_fake_exporter_results(void)
{
    struct oa_export_counters before = counters();
    struct oa_export_counters c;
    uint64_t t0;

    use_fake(OA_EXPORT_OK, 2, 0);
    submit_n("fake-%d", 0, 3);
    oa_export_shutdown();
    c = counters();
    CHECK(fake.calls == 3 && fake.spans == 9 && fake.in_order,
          "RETRYABLE with a retry-after of 0: the batch is sent again at once (%d calls)",
          fake.calls);
    CHECK(c.exported == before.exported + 3 && c.failed == before.failed,
          "and counts as exported once accepted");

    before = c;
    use_fake(OA_EXPORT_FAILED, 0, -1);
    submit_n("fake-%d", 0, 5);
    oa_export_shutdown();
    c = counters();
    CHECK(fake.calls == 1 && c.failed == before.failed + 5 && c.exported == before.exported,
          "FAILED: not retried, the spans count as failed (%d calls)", fake.calls);

    /* a retry-after beyond the retry budget: given up without waiting. The
     * flush's deadline is long: a processor that waited for the retry, or
     * for the deadline, would reach it (and count nothing before it). */
    before = c;
    use_fake(OA_EXPORT_OK, 1000, 600000);
    submit_n("fake-%d", 0, 4);
    oa_config.traces_otlp.timeout_ms = 30000;
    t0 = now_ms();
    oa_export_shutdown();
    c = counters();
    CHECK(fake.calls == 1 && c.failed == before.failed + 4 && c.exported == before.exported &&
              now_ms() - t0 < 30000,
          "RETRYABLE after longer than the budget: failed, not waited for (%d calls)", fake.calls);
    oa_config.traces_otlp.timeout_ms = 2000;

    before = c;
    oa_export_set_exporter(NULL);
    submit_n("fake-%d", 0, 2);
    oa_export_shutdown();
    c = counters();
    CHECK(c.failed == before.failed + 2 && c.exported == before.exported,
          "no exporter handed over: the spans count as failed");
    use_exporter("none");
}

/* In a fork child: the exporter forgets what it shares with the parent, and
 * the child's new exporter thread starts it. */
static void test_fake_exporter_fork(void)
{
    pid_t pid;
    int status;

    use_fake(OA_EXPORT_OK, 0, -1);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        bool forgot = fake.atfork_children == 1 && fake.starts == 0;
        submit_n("fake-%d", 0, 2);
        oa_export_shutdown();
        _exit(forgot && fake.starts == 1 && fake.spans == 2 && counters().exported == 2 ? 0 : 1);
    }
    status = wait_child(pid, 10000);
    CHECK(status == 0, "fork: the child's exporter is told (atfork_child), started by the "
                       "child's exporter thread, and sent the child's spans (0x%x)",
          status);
    CHECK(fake.atfork_children == 0, "the parent's exporter is not told");
    use_exporter("none");
}

static size_t count_occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Runs in the forked child: the parent's queued spans must not come out here. */
static int fork_child_checks(void)
{
    char path[] = "/tmp/oa_bsp_child_XXXXXX";
    int fd = mkstemp(path);
    int failures = 0;
    struct oa_export_counters c = counters();
    char out[65536];
    ssize_t n;
    uint64_t t0;

    if (fd < 0)
        return 0x80;
    unlink(path);
    dup2(fd, 2);
    if (c.submitted || c.exported || c.dropped_queue_full || c.failed)
        failures |= 1;
    /* the parent's exporter thread is not here: waiting for it would last
     * the whole (long) deadline */
    oa_config.traces_otlp.timeout_ms = 5000;
    t0 = now_ms();
    oa_export_shutdown();
    if (now_ms() - t0 >= 5000)
        failures |= 2;
    oa_export_submit(make_span("child-span-%d", 0));
    oa_export_shutdown();
    c = counters();
    if (c.submitted != 1 || c.exported != 1 || c.dropped_queue_full != 0)
        failures |= 4;
    n = pread(fd, out, sizeof out - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    if (!strstr(out, "\"child-span-0\""))
        failures |= 8;
    if (strstr(out, "parent-span"))
        failures |= 16;
    return failures;
}

static int wait_child(pid_t pid, long timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    int status;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 0x100 | WTERMSIG(status);
        if (now_ms() >= end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return 0x200;
        }
        sleep_ms(10);
    }
}

static void test_console_stall_drop_fork(void)
{
    int p[2];
    int saved_stderr = dup(2);
    struct oa_export_counters before = counters();
    struct oa_export_counters c;
    struct drain d = {0};
    pthread_t reader;
    int stable = 0;
    int last = -1;
    uint64_t end;
    pid_t pid;
    int status;

    CHECK(pipe(p) == 0 && fcntl(p[1], F_SETPIPE_SZ, 4096) >= 0, "small pipe as stderr");
    dup2(p[1], 2);
    use_exporter("console");

    /* A full batch: the exporter wakes and prints until the pipe is full,
     * then stays blocked in write with the whole batch in hand. Blocked, not
     * just slow: a thread of ours sleeps in write(2, ...) while the pipe's
     * content does not change, three looks in a row. */
    submit_n("parent-span-%04d", 0, 32);
    end = now_ms() + 30000;
    while (stable < 3 && now_ms() < end) {
        int queued = 0;
        ioctl(p[0], FIONREAD, &queued);
        stable = (queued > 0 && queued == last && thread_blocked_writing(2)) ? stable + 1 : 0;
        last = queued;
        sleep_ms(20);
    }
    CHECK(stable >= 3, "the exporter is blocked writing the first batch (%d bytes in the pipe)",
          last);

    submit_n("parent-span-%04d", 32, 1000);
    c = counters();
    CHECK(c.dropped_queue_full - before.dropped_queue_full == 1000 - 64,
          "queue full: exactly 64 of 1000 kept, the rest dropped (%llu dropped)",
          (unsigned long long)(c.dropped_queue_full - before.dropped_queue_full));
    CHECK(c.submitted - before.submitted == 1032, "all submissions counted");

    /* fork while the exporter is in the middle of an export with spans queued */
    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(fork_child_checks());
    status = wait_child(pid, 30000);
    CHECK(status == 0,
          "fork child: fresh counters, an empty shutdown that waits for no thread, own thread, "
          "none of the parent's spans (status 0x%x)",
          status);

    d.fd = p[0];
    pthread_create(&reader, NULL, drain_main, &d);
    oa_export_shutdown();
    c = counters();
    CHECK(c.exported - before.exported == 96 && c.failed == before.failed,
          "after the stall: the batch in hand and the 64 queued are exported (%llu)",
          (unsigned long long)(c.exported - before.exported));
    CHECK(c.submitted == c.exported + c.dropped_queue_full + c.failed,
          "submitted = exported + dropped + failed");

    dup2(saved_stderr, 2);
    close(saved_stderr);
    close(p[1]);
    pthread_join(reader, NULL);
    close(p[0]);

    CHECK(d.buf && count_occurrences(d.buf, "otelauto span \"parent-span-") == 96,
          "console printed 96 spans (%zu)",
          d.buf ? count_occurrences(d.buf, "otelauto span \"parent-span-") : 0);
    CHECK(d.buf && strstr(d.buf,
                          "otelauto span \"parent-span-0000\" kind=CLIENT status=ERROR \"boom\"\n"),
          "console: name, kind, status");
    CHECK(d.buf &&
              strstr(d.buf, "trace_id=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf span_id=1011121314151617 "
                            "parent_span_id=c0c1c2c3c4c5c6c7 (remote) flags=01\n"),
          "console: ids in hex");
    CHECK(d.buf && strstr(d.buf, "start=2023-11-14T22:13:20.000000000Z duration=1.500000ms\n"),
          "console: start time and duration");
    CHECK(d.buf &&
              strstr(d.buf, "  http.request.method=\"GET\"\n  http.response.status_code=503\n"),
          "console: attributes");
    CHECK(d.buf && strstr(d.buf, "  test.value=\"line1\\nline2 \\\"q\\\"\"\n"),
          "console: string values escaped");
    CHECK(d.buf && !strstr(d.buf, "parent-span-0096\""), "dropped spans never printed");
    free(d.buf);
}

/* What the console exporter prints in a child that runs submit() and
 * returns from main (so the flush runs at exit), into out. Returns the
 * child's wait status. */
static int console_at_exit(void (*submit)(void), char *out, size_t cap)
{
    char path[] = "/tmp/oa_bsp_exit_XXXXXX";
    int fd = mkstemp(path);
    ssize_t n;
    pid_t pid;
    int status;

    unlink(path);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        dup2(fd, 2);
        use_exporter("console");
        oa_config.schedule_delay_ms = 60000;
        submit();
        exit(0);
    }
    status = wait_child(pid, 10000);
    n = pread(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    return status;
}

static void submit_exit_spans(void)
{
    submit_n("exit-span-%d", 0, 3);
}

/* A program that just returns from main still gets its spans out: the flush
 * runs at exit without anyone calling oa_export_shutdown. */
static void test_flush_at_exit(void)
{
    char out[65536];
    int status = console_at_exit(submit_exit_spans, out, sizeof out);

    CHECK(status == 0 && count_occurrences(out, "otelauto span \"exit-span-") == 3,
          "spans queued when the process exits are flushed by exit itself (status 0x%x)", status);
}

/* A raw span (src/protocols/http1/http_raw_span.c) as the socket path records it. */
static struct oa_span *make_raw_span(const char *request)
{
    struct oa_http1_parser p;
    struct oa_conn c;
    struct oa_span *s = NULL;
    enum oa_http1_event ev = OA_HTTP1_NEED_MORE;
    size_t len = strlen(request);

    oa_http1_init(&p, OA_HTTP1_REQUESTS);
    while (len > 0 && ev != OA_HTTP1_HEAD_DONE) {
        size_t n = oa_http1_feed(&p, request, len, &ev);
        request += n;
        len -= n;
    }
    memset(&c, 0, sizeof c);
    struct sockaddr_in *in = (struct sockaddr_in *)&c.peer;
    in->sin_family = AF_INET;
    in->sin_port = htons(4321);
    in->sin_addr.s_addr = htonl(0x7f000001);
    c.peer_len = sizeof *in;
    if (ev == OA_HTTP1_HEAD_DONE)
        s = oa_http_raw_span_new(OA_SPAN_KIND_SERVER, &p, &c, "k=v");
    oa_http1_release(&p);
    if (s != NULL) {
        s->span_id[0] = 1;
        s->trace_id[0] = 1;
        s->trace_flags = 1;
        s->start_unix_nano = 1700000000000000000ull;
        oa_http_raw_span_finish(s, 201, NULL);
    }
    return s;
}

static void submit_raw_spans(void)
{
    for (int i = 0; i < 3; i++)
        oa_export_submit(make_raw_span("POST /raw?sig=s HTTP/1.1\r\nHost: h.example:81\r\n\r\n"));
}

/* Raw spans get their names and attributes on the exporter thread before
 * the exporter sees them: here the console one, in the flush at exit. */
static void test_raw_spans_built_for_the_exporter(void)
{
    char out[65536];
    int status = console_at_exit(submit_raw_spans, out, sizeof out);

    CHECK(status == 0 && count_occurrences(out, "otelauto span \"POST\" kind=SERVER status=UNSET") == 3,
          "raw spans reach the exporter with their name (status 0x%x)", status);
    CHECK(strstr(out, "  url.path=\"/raw\"\n  url.query=\"sig=REDACTED\"\n  url.scheme=\"http\"\n"
                      "  server.address=\"h.example\"\n  server.port=81\n"
                      "  network.peer.address=\"127.0.0.1\"\n  network.peer.port=4321\n") &&
              strstr(out, "  http.response.status_code=201\n"),
          "raw spans reach the exporter with their attributes, status code included");
}

/* In a child, so that the parent can still load the real object later. */
static void test_otlp_load_failure(void)
{
    pid_t pid;
    int status;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        struct oa_export_counters c;
        use_exporter("otlp");
        oa_export_otlp_library_override = "/nonexistent/libotelauto-otlp.so";
        submit_n("doomed-%d", 0, 3);
        oa_export_shutdown();
        c = counters();
        _exit(c.failed == 3 && c.exported == 0 ? 0 : 1);
    }
    status = wait_child(pid, 10000);
    CHECK(status == 0, "OTLP object missing: spans counted as failed, shutdown returns (0x%x)",
          status);
}

struct silent_result {
    uint64_t took_ms;
    bool failed_in_time;
    bool balanced;
};

static void test_otlp_deadlines(void)
{
    struct oa_export_counters before;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    uint64_t t0;
    uint64_t took;
    int silent;

    if (!otlp_available) {
        for (int i = 0; i < 8; i++)
            printf("ok %d # SKIP %s missing\n", ++oa_test_count, otlp_path);
        return;
    }
    use_exporter("otlp");
    oa_export_otlp_library_override = otlp_path;

    /* Nothing listens on port 1: every attempt is refused at once, retrying
     * would outlast the shutdown deadline, so the batch is given up. */
    before = counters();
    snprintf(oa_config.traces_otlp.endpoint, sizeof oa_config.traces_otlp.endpoint,
             "http://127.0.0.1:1/v1/traces");
    oa_config.traces_otlp.timeout_ms = 1500;
    submit_n("refused-%d", 0, 5);
    t0 = now_ms();
    oa_export_shutdown();
    took = now_ms() - t0;
    /* the batch's retries would go on for their budget (60 s): only a
     * shutdown that waited for them comes near 10x its deadline */
    CHECK(took < 10 * 1500, "collector refusing: shutdown does not wait for the retries (%llu ms)",
          (unsigned long long)took);
    CHECK(dlopen(otlp_path, RTLD_NOW | RTLD_NOLOAD) != NULL,
          "the OTLP object was loaded on demand");
    CHECK(wait_counter(offsetof(struct oa_export_counters, failed), before.failed + 5, 30000) &&
              counters().exported == before.exported,
          "collector refusing: the batch is given up as failed");

    /* A collector that accepts the connection and never answers. The
     * exporter object reads the endpoint when it is created, so this runs in
     * a fork child, which creates its own. */
    silent = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(silent >= 0 && bind(silent, (struct sockaddr *)&addr, sizeof addr) == 0 &&
              listen(silent, 16) == 0 && getsockname(silent, (struct sockaddr *)&addr, &alen) == 0,
          "a listener that never accepts");
    struct silent_result r = {0, 0, 0};
    int pipefd[2];
    if (pipe(pipefd) != 0)
        pipefd[0] = pipefd[1] = -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        snprintf(oa_config.traces_otlp.endpoint, sizeof oa_config.traces_otlp.endpoint,
                 "http://127.0.0.1:%d/v1/traces", ntohs(addr.sin_port));
        oa_config.traces_otlp.timeout_ms = 1000;
        submit_n("silent-%d", 0, 5);
        t0 = now_ms();
        oa_export_shutdown();
        r.took_ms = now_ms() - t0;
        r.failed_in_time = wait_counter(offsetof(struct oa_export_counters, failed), 5, 30000);
        struct oa_export_counters c = counters();
        r.balanced = c.submitted == 5 && c.exported == 0 && c.failed == 5;
        _exit(write(pipefd[1], &r, sizeof r) == sizeof r ? 0 : 1);
    }
    close(pipefd[1]);
    int status = wait_child(pid, 60000);
    if (read(pipefd[0], &r, sizeof r) != sizeof r)
        r.took_ms = UINT64_MAX;
    close(pipefd[0]);
    /* At least the deadline (a busy machine only lengthens it): shutdown
     * gave the export its chance. Well under 10x it: shutdown did not wait
     * for the exporter, which a silent collector would hold forever. */
    CHECK(status == 0 && r.took_ms >= 900 && r.took_ms < 10 * 1000,
          "collector silent: shutdown waits for the deadline, and not for the exporter (%llu ms)",
          (unsigned long long)r.took_ms);
    CHECK(r.failed_in_time, "collector silent: the batch fails after the request timeout");
    CHECK(r.balanced, "collector silent: 5 submitted, 5 failed");
    close(silent);

    struct oa_export_counters c = counters();
    CHECK(c.submitted == c.exported + c.dropped_queue_full + c.failed,
          "submitted = exported + dropped + failed");
}

/* A minimal collector on a thread: answers the first request 503 with
 * Retry-After: 0 and every later one 200, counting requests. */
struct collector {
    int listener;
    int requests;
    bool protobuf;
    size_t body_bytes;
};

static bool read_request(int fd, struct collector *col)
{
    char buf[65536];
    size_t len = 0;
    char *end = NULL;
    size_t content_length = 0;

    while (!end) {
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    for (char *line = strstr(buf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
            content_length = strtoul(line + 17, NULL, 10);
        if (strncasecmp(line + 2, "Content-Type: application/x-protobuf", 36) == 0)
            col->protobuf = true;
    }
    size_t have = len - (size_t)(end + 4 - buf);
    while (have < content_length) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            return false;
        have += (size_t)n;
    }
    col->body_bytes += content_length;
    return true;
}

static void *collector_main(void *arg)
{
    struct collector *col = arg;
    static const char busy[] =
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n";
    static const char fine[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n";

    for (;;) {
        int fd = accept(col->listener, NULL, NULL);
        if (fd < 0)
            return NULL;
        while (read_request(fd, col)) {
            const char *answer = col->requests++ == 0 ? busy : fine;
            if (write(fd, answer, strlen(answer)) < 0)
                break;
        }
        close(fd);
    }
}

static void test_otlp_retry_then_success(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    struct collector col = {0};
    pthread_t server;
    int status;

    if (!otlp_available) {
        printf("ok %d # SKIP %s missing\n", ++oa_test_count, otlp_path);
        printf("ok %d # SKIP %s missing\n", ++oa_test_count, otlp_path);
        return;
    }
    col.listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bind(col.listener, (struct sockaddr *)&addr, sizeof addr);
    listen(col.listener, 16);
    getsockname(col.listener, (struct sockaddr *)&addr, &alen);
    pthread_create(&server, NULL, collector_main, &col);

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        use_exporter("otlp");
        oa_export_otlp_library_override = otlp_path;
        snprintf(oa_config.traces_otlp.endpoint, sizeof oa_config.traces_otlp.endpoint,
                 "http://127.0.0.1:%d/v1/traces", ntohs(addr.sin_port));
        oa_config.traces_otlp.timeout_ms = 3000;
        submit_n("sent-%d", 0, 3);
        oa_export_shutdown();
        struct oa_export_counters c = counters();
        _exit(c.submitted == 3 && c.exported == 3 && c.failed == 0 ? 0 : 1);
    }
    status = wait_child(pid, 15000);
    shutdown(col.listener, SHUT_RDWR);
    close(col.listener);
    pthread_join(server, NULL);
    CHECK(status == 0, "OTLP: a 503 with Retry-After: 0 is retried and the batch exported (0x%x)",
          status);
    CHECK(col.requests == 2 && col.protobuf && col.body_bytes > 0,
          "OTLP: the collector saw two protobuf requests (%d, %zu bytes)", col.requests,
          col.body_bytes);
}

#ifdef __SANITIZE_THREAD__
static void *no_op_thread(void *arg)
{
    return arg;
}
#endif

int main(void)
{
#ifdef __SANITIZE_THREAD__
    /* ThreadSanitizer starts a thread of its own with the first
     * pthread_create: have it running before the thread counts. */
    pthread_t t;
    if (pthread_create(&t, NULL, no_op_thread, NULL) == 0)
        pthread_join(t, NULL);
#endif
    /* The library constructor, when linked in, has already initialised the
     * processor and registered the fork handlers. */
    if (&oa_library_state == NULL || oa_library_state != 1) {
        oa_export_init(NULL);
        pthread_atfork(oa_export_atfork_prepare, oa_export_atfork_parent, oa_export_atfork_child);
        pthread_atfork(oa_export_setup_begin, oa_export_setup_end, oa_export_setup_atfork_child);
    }
    /* as the library's configuration does */
    oa_export_set_exit_flush(oa_exit_flush);
    oa_log_threshold = OA_LOG_NONE;
    oa_config.log_level = OA_LOG_NONE;
    find_otlp_library();

    /* before the parent's first span: the child sizes its own queue */
    test_steady_flow_needs_no_wakeups();
    test_shutdown_with_nothing();
    test_none_exporter();
    test_burst_wakes_the_exporter();
    test_fake_exporter_batches();
    test_fake_exporter_results();
    test_fake_exporter_fork();
    test_console_stall_drop_fork();
    test_flush_at_exit();
    test_raw_spans_built_for_the_exporter();
    test_otlp_load_failure();
    test_otlp_deadlines();
    test_otlp_retry_then_success();
    if (!otlp_available)
        printf("# %s not found: the OTLP checks were skipped\n", otlp_path);
    TEST_DONE();
}
