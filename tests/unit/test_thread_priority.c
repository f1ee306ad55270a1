/* oa_thread_lower_priority: the calling thread, and only it, runs as
 * SCHED_BATCH with its nice value raised by OA_BACKGROUND_NICE_STEP (at
 * most 19); errno is left as it was. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "oa_test.h"
#include "export/thread_priority.h"

struct seen {
    int nice_before;
    int nice_after;
    int policy_after;
    int errno_after;
};

static int own_nice(void)
{
    return getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
}

static void *lowered_thread(void *arg)
{
    struct seen *s = arg;
    s->nice_before = own_nice();
    errno = EAGAIN;
    oa_thread_lower_priority();
    s->errno_after = errno;
    s->nice_after = own_nice();
    s->policy_after = sched_getscheduler(0);
    return NULL;
}

static struct seen run_lowered(void)
{
    struct seen s = {0};
    pthread_t t;
    if (pthread_create(&t, NULL, lowered_thread, &s) == 0)
        pthread_join(t, NULL);
    return s;
}

static int min_int(int a, int b)
{
    return a < b ? a : b;
}

int main(void)
{
    int main_nice = own_nice();
    int main_policy = sched_getscheduler(0);

    struct seen s = run_lowered();
    CHECK(s.policy_after == SCHED_BATCH, "the thread runs as SCHED_BATCH (policy %d)", s.policy_after);
    CHECK(s.nice_after == min_int(s.nice_before + OA_BACKGROUND_NICE_STEP, 19),
          "its nice value is raised by %d (%d -> %d)", OA_BACKGROUND_NICE_STEP, s.nice_before, s.nice_after);
    CHECK(s.errno_after == EAGAIN, "errno is left as it was");
    CHECK(own_nice() == main_nice && sched_getscheduler(0) == main_policy,
          "the calling process's other threads keep their priority");

    /* a thread of a process already niced near the bottom stops at 19 */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 15) == 0) {
        s = run_lowered();
        CHECK(s.nice_before == 15 && s.nice_after == 19, "from nice 15 it stops at 19 (%d -> %d)", s.nice_before,
              s.nice_after);
    } else {
        CHECK(1, "# skip: cannot renice this test");
    }
    TEST_DONE();
}
