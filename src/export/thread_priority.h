/* The shim's own background threads (the span exporter, the metrics reader):
 * how far their start has gone, and how they give way to the program's
 * threads. */
#ifndef OA_THREAD_PRIORITY_H
#define OA_THREAD_PRIORITY_H

/* Lowers the calling thread: SCHED_BATCH (a waking thread does not preempt
 * a running one) and its nice value raised by OA_BACKGROUND_NICE_STEP (at
 * most 19). Only this thread changes; failures are ignored (the thread then
 * runs as before). */
void oa_thread_lower_priority(void);

/* Where a background thread's start stands (kept in an int, atomic). */
enum thread_state {
    THREAD_NONE = 0,
    THREAD_STARTING,
    THREAD_RUNNING,
    THREAD_FAILED,
};

#define OA_BACKGROUND_NICE_STEP 10

#endif
