/* Trace/span id generation: never zero, no repeats across calls, threads and
 * fork, every bit random, errno untouched, cheap. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace/ids.h"
#include "oa_test.h"

#define MANY 100000
#define THREADS 4
#define PER_THREAD 20000
#define FORK_IDS 1000

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* true if the n values are pairwise distinct (sorts them) */
static bool all_distinct(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_u64);
    for (size_t i = 1; i < n; i++) {
        if (v[i] == v[i - 1])
            return false;
    }
    return true;
}

static uint64_t span_u64(void)
{
    uint8_t id[8];
    oa_ids_new_span_id(id);
    uint64_t v;
    memcpy(&v, id, sizeof(v));
    return v;
}

/* Both halves of a trace id folded into one value for distinctness checks. */
static uint64_t trace_u64(void)
{
    uint8_t id[16];
    oa_ids_new_trace_id(id);
    uint64_t a;
    uint64_t b;
    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    return a ^ (b * 0x9e3779b97f4a7c15ull);
}

static void test_single_thread(void)
{
    uint64_t *spans = malloc(MANY * sizeof(uint64_t));
    uint64_t *traces = malloc(MANY * sizeof(uint64_t));
    int nonzero = 1;
    static const uint8_t zero[16];
    /* per-bit counts of span ids and of both trace id halves */
    static unsigned span_bits[64];
    static unsigned trace_bits[128];
    for (int i = 0; i < MANY; i++) {
        uint8_t t[16];
        uint8_t s[8];
        oa_ids_new_trace_id(t);
        oa_ids_new_span_id(s);
        EXPECT(nonzero, memcmp(t, zero, 16) != 0, "all-zero trace id at %d", i);
        EXPECT(nonzero, memcmp(s, zero, 8) != 0, "all-zero span id at %d", i);
        for (int b = 0; b < 128; b++)
            trace_bits[b] += (t[b / 8] >> (b % 8)) & 1;
        for (int b = 0; b < 64; b++)
            span_bits[b] += (s[b / 8] >> (b % 8)) & 1;
        memcpy(&spans[i], s, 8);
        uint64_t a;
        uint64_t c;
        memcpy(&a, t, 8);
        memcpy(&c, t + 8, 8);
        traces[i] = a ^ (c * 0x9e3779b97f4a7c15ull);
    }
    CHECK(nonzero, "%d trace and span ids, none all-zero", MANY);
    CHECK(all_distinct(spans, MANY), "%d span ids distinct", MANY);
    CHECK(all_distinct(traces, MANY), "%d trace ids distinct", MANY);

    /* each bit set about half the time: 100k draws, sd ~158; allow ~8 sd */
    int balanced = 1;
    for (int b = 0; b < 128; b++)
        EXPECT(balanced, trace_bits[b] > 48700 && trace_bits[b] < 51300, "trace bit %d set %u times", b,
               trace_bits[b]);
    CHECK(balanced, "every trace id bit (incl. the low 56) is set about half the time");
    balanced = 1;
    for (int b = 0; b < 64; b++)
        EXPECT(balanced, span_bits[b] > 48700 && span_bits[b] < 51300, "span bit %d set %u times", b,
               span_bits[b]);
    CHECK(balanced, "every span id bit is set about half the time");

    free(spans);
    free(traces);
}

/* A new trace's first ids in one step are the ids of a trace id then a span
 * id drawn apart, from the same state, which both leave the same. */
static void test_trace_and_span_in_one_step(void)
{
    int same = 1;
    uint64_t x = 0x0123456789abcdefull;
    for (int i = 0; i < 20000; i++) {
        uint64_t a[4];
        for (int k = 0; k < 4; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            a[k] = x ^ (x >> 29);
        }
        uint64_t b[4];
        memcpy(b, a, sizeof(a));
        uint8_t t1[16], s1[8], t2[16], s2[8];
        oa_ids_trace_id_from(a, t1);
        oa_ids_span_id_from(a, s1);
        oa_ids_trace_and_span_id_from(b, t2, s2);
        EXPECT(same, memcmp(t1, t2, 16) == 0 && memcmp(s1, s2, 8) == 0 && memcmp(a, b, sizeof(a)) == 0,
               "state %d: ids or state differ", i);
    }
    CHECK(same, "trace and span id in one step: the same ids and state as drawn apart (20000 states)");
    uint8_t t[16], s[8];
    static const uint8_t zero[16];
    errno = 77;
    oa_ids_new_trace_and_span_id(t, s);
    CHECK(errno == 77 && memcmp(t, zero, 16) != 0 && memcmp(s, zero, 8) != 0,
          "from this thread's generator: non-zero ids, errno untouched");
}

struct thread_job {
    uint64_t ids[2 * PER_THREAD];
    int errno_kept;
};

static void *thread_main(void *arg)
{
    struct thread_job *job = arg;
    /* the first call seeds this thread's generator: errno must survive it */
    errno = 4242;
    job->ids[0] = span_u64();
    job->errno_kept = errno == 4242;
    for (int i = 1; i < PER_THREAD; i++)
        job->ids[i] = span_u64();
    for (int i = 0; i < PER_THREAD; i++)
        job->ids[PER_THREAD + i] = trace_u64();
    return NULL;
}

static void test_threads(void)
{
    static struct thread_job jobs[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, thread_main, &jobs[i]);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);

    uint64_t *spans = malloc(THREADS * PER_THREAD * sizeof(uint64_t));
    uint64_t *traces = malloc(THREADS * PER_THREAD * sizeof(uint64_t));
    int errno_ok = 1;
    for (int i = 0; i < THREADS; i++) {
        memcpy(spans + i * PER_THREAD, jobs[i].ids, PER_THREAD * sizeof(uint64_t));
        memcpy(traces + i * PER_THREAD, jobs[i].ids + PER_THREAD, PER_THREAD * sizeof(uint64_t));
        errno_ok &= jobs[i].errno_kept;
    }
    CHECK(all_distinct(spans, THREADS * PER_THREAD), "span ids distinct across %d threads", THREADS);
    CHECK(all_distinct(traces, THREADS * PER_THREAD), "trace ids distinct across %d threads", THREADS);
    CHECK(errno_ok, "errno preserved when a thread seeds its generator");
    free(spans);
    free(traces);
}

static bool read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* Forks; the child sends FORK_IDS span ids (and then the grandchild's, if
 * grandchild is set) through a pipe; the parent makes FORK_IDS of its own.
 * Returns true if no id was seen twice across the processes. */
static bool fork_ids_distinct(bool grandchild, int *child_errno_ok)
{
    uint64_t *ids = malloc(3 * FORK_IDS * sizeof(uint64_t));
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        errno = 777;
        uint64_t mine[FORK_IDS];
        mine[0] = span_u64();
        int errno_ok = errno == 777;
        for (int i = 1; i < FORK_IDS; i++)
            mine[i] = span_u64();
        if (write(fds[1], &errno_ok, sizeof(errno_ok)) != sizeof(errno_ok) ||
            write(fds[1], mine, sizeof(mine)) != sizeof(mine))
            _exit(1);
        if (grandchild) {
            pid_t gpid = fork();
            if (gpid == 0) {
                for (int i = 0; i < FORK_IDS; i++)
                    mine[i] = span_u64();
                _exit(write(fds[1], mine, sizeof(mine)) == sizeof(mine) ? 0 : 1);
            }
            int st;
            waitpid(gpid, &st, 0);
        }
        _exit(0);
    }
    close(fds[1]);
    for (int i = 0; i < FORK_IDS; i++)
        ids[i] = span_u64();
    size_t n = FORK_IDS;
    bool ok = read_all(fds[0], child_errno_ok, sizeof(*child_errno_ok)) &&
              read_all(fds[0], ids + n, FORK_IDS * sizeof(uint64_t));
    n += FORK_IDS;
    if (ok && grandchild) {
        ok = read_all(fds[0], ids + n, FORK_IDS * sizeof(uint64_t));
        n += FORK_IDS;
    }
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    ok = ok && WIFEXITED(st) && WEXITSTATUS(st) == 0 && all_distinct(ids, n);
    free(ids);
    return ok;
}

static void *fork_from_thread(void *arg)
{
    int errno_ok = 0;
    span_u64();
    *(bool *)arg = fork_ids_distinct(false, &errno_ok) && errno_ok;
    return NULL;
}

static void test_fork(void)
{
    /* the parent's generator is already seeded, so without a re-seed the
     * child would produce exactly the parent's next ids */
    span_u64();
    int errno_ok = 0;
    CHECK(fork_ids_distinct(false, &errno_ok), "child and parent ids distinct after fork");
    CHECK(errno_ok, "errno preserved by the re-seed after fork");
    CHECK(fork_ids_distinct(true, &errno_ok), "parent, child and grandchild ids distinct");

    bool thread_ok = false;
    pthread_t t;
    pthread_create(&t, NULL, fork_from_thread, &thread_ok);
    pthread_join(t, NULL);
    CHECK(thread_ok, "ids distinct after a fork from a second thread");
}

/* (No speed check here: how many ns an id costs is the machine's as much as
 * ours. What made it slow, a system call or a lock per id, is counted on the
 * program's thread by tests/integration/24-program-thread-cost.bats: strace
 * for system calls, callgrind for locks and instructions.) */

int main(void)
{
    /* what the library's constructor does in a traced process */
    pthread_atfork(NULL, NULL, oa_ids_atfork_child);
    test_trace_and_span_in_one_step();
    test_single_thread();
    test_threads();
    test_fork();
    TEST_DONE();
}
