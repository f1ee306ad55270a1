/* Bounded multi-producer queue of pointers (Vyukov's array queue): push never
 * blocks and never allocates; a full queue refuses the item. */
#ifndef OA_QUEUE_H
#define OA_QUEUE_H

#include "base/common.h"

struct oa_queue_cell;

struct oa_queue {
    struct oa_queue_cell *cells;  /* capacity rounded up to a power of two */
    size_t mask;
    size_t limit;                 /* the configured capacity (<= mask+1) */
    _Alignas(64) size_t enqueue_pos;
    _Alignas(64) size_t dequeue_pos;
};

/* Allocates the cells. Returns 0 or -1. */
int oa_queue_init(struct oa_queue *q, size_t capacity);
void oa_queue_destroy(struct oa_queue *q);
/* false when full (the caller drops and counts) */
bool oa_queue_push(struct oa_queue *q, void *item);
/* Pops up to max items into out; returns how many. Any thread may pop. */
size_t oa_queue_pop(struct oa_queue *q, void **out, size_t max);
/* Approximate number of queued items (inline: every submit asks). */
static inline size_t oa_queue_size(const struct oa_queue *q)
{
    /* Head first, so the tail is normally at least as far along; the counters
     * are read separately, so the answer is only approximate. */
    size_t head = __atomic_load_n(&q->dequeue_pos, __ATOMIC_ACQUIRE);
    size_t tail = __atomic_load_n(&q->enqueue_pos, __ATOMIC_ACQUIRE);
    intptr_t n = (intptr_t)(tail - head);

    if (n <= 0)
        return 0;
    return (size_t)n > q->limit ? q->limit : (size_t)n;
}

#endif
