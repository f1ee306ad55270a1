/* Bounded multi-producer queue of pointers (Vyukov's array queue): push never
 * blocks and never allocates; a full queue refuses the item. */
#ifndef OA_QUEUE_H
#define OA_QUEUE_H

#include "oa_common.h"

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
/* Approximate number of queued items. */
size_t oa_queue_size(const struct oa_queue *q);

#endif
