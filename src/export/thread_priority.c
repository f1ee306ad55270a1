/* Background threads at a lower priority than the program's.
 *
 * On a small machine the exporter thread's bursts (building, encoding and
 * sending a batch of 512 spans) compete with the program for the same cores.
 * With the default policy a thread that wakes is placed to run almost at
 * once, preempting a program thread in the middle of a request: measured on
 * 2 cores with nginx at 12,000 requests/s, that added ~200 us to the 99th
 * percentile latency, against ~30 us once the exporter runs as SCHED_BATCH
 * (no wake-up preemption) with nice +10. The thread still gets its share of
 * a busy CPU (a nice-10 thread weighs about a tenth of a nice-0 one), so it
 * keeps up with the spans; on a saturated machine the queue, not the
 * program, absorbs the difference, and drops are counted as always.
 *
 * Linux's nice value and policy are per thread (setpriority and
 * sched_setscheduler on a thread id); the program's threads are not touched. */
#include "export/thread_priority.h"

#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

void oa_thread_lower_priority(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    int saved_errno = errno;

    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, (id_t)tid);
    if (errno == 0) {
        int lowered = nice_now + OA_BACKGROUND_NICE_STEP;
        (void)setpriority(PRIO_PROCESS, (id_t)tid, lowered > 19 ? 19 : lowered);
    }
    struct sched_param param = {.sched_priority = 0};
    /* only from the normal policy: a program running real-time keeps its
     * own choice for threads it did not ask for either */
    if (sched_getscheduler(tid) == SCHED_OTHER)
        (void)sched_setscheduler(tid, SCHED_BATCH, &param);
    errno = saved_errno;
}
