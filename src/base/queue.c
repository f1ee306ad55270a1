/* Dmitry Vyukov's bounded multi-producer multi-consumer array queue.
 *
 * Every cell carries a sequence number telling whose turn it is: a cell at
 * position pos is free for the producer of pos when seq == pos, holds an item
 * for the consumer of pos when seq == pos + 1, and is handed back to the
 * producer one lap later (pos + capacity) when the item is taken. Producers
 * and consumers claim positions with a compare-and-swap on their own counter,
 * so neither side ever waits for a lock, and a full queue answers "full" at
 * once instead of blocking.
 *
 * The cell array is a power of two long (cheap wrap-around), but the queue
 * refuses items beyond the configured limit. */
#include <stdlib.h>

#include "base/queue.h"

struct oa_queue_cell {
    size_t seq;
    void *item;
};

static size_t round_up_to_power_of_two(size_t n)
{
    size_t p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

int oa_queue_init(struct oa_queue *q, size_t capacity)
{
    size_t cells;

    if (capacity == 0 || capacity > ((size_t)1 << (sizeof(size_t) * 8 - 2)))
        return -1;
    cells = round_up_to_power_of_two(capacity);
    q->cells = calloc(cells, sizeof *q->cells);
    if (!q->cells)
        return -1;
    for (size_t i = 0; i < cells; i++)
        q->cells[i].seq = i;
    q->mask = cells - 1;
    q->limit = capacity;
    __atomic_store_n(&q->enqueue_pos, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&q->dequeue_pos, 0, __ATOMIC_RELAXED);
    /* Publishing the queue to other threads is the caller's job. */
    return 0;
}

void oa_queue_destroy(struct oa_queue *q)
{
    free(q->cells);
    q->cells = NULL;
    q->mask = 0;
    q->limit = 0;
    q->enqueue_pos = 0;
    q->dequeue_pos = 0;
}

bool oa_queue_push(struct oa_queue *q, void *item)
{
    size_t pos = __atomic_load_n(&q->enqueue_pos, __ATOMIC_RELAXED);
    struct oa_queue_cell *cell;

    for (;;) {
        cell = &q->cells[pos & q->mask];
        size_t seq = __atomic_load_n(&cell->seq, __ATOMIC_ACQUIRE);
        intptr_t lap = (intptr_t)seq - (intptr_t)pos;

        if (lap == 0) {
            /* The cell is free, but the configured limit may be below the
             * array size. dequeue_pos only grows, so a stale read can only
             * make the queue look fuller than it is, never exceed the limit. */
            size_t head = __atomic_load_n(&q->dequeue_pos, __ATOMIC_ACQUIRE);
            intptr_t used = (intptr_t)(pos - head);
            /* (A negative count means pos is stale: the exchange will fail.) */
            if (used >= 0 && (size_t)used >= q->limit)
                return false;
            if (__atomic_compare_exchange_n(&q->enqueue_pos, &pos, pos + 1, true, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
                break;
            /* pos was reloaded by the failed exchange */
        } else if (lap < 0) {
            /* The consumer of the previous lap has not taken its item yet. */
            return false;
        } else {
            pos = __atomic_load_n(&q->enqueue_pos, __ATOMIC_RELAXED);
        }
    }
    cell->item = item;
    __atomic_store_n(&cell->seq, pos + 1, __ATOMIC_RELEASE);
    return true;
}

static bool pop_one(struct oa_queue *q, void **out)
{
    size_t pos = __atomic_load_n(&q->dequeue_pos, __ATOMIC_RELAXED);
    struct oa_queue_cell *cell;

    for (;;) {
        cell = &q->cells[pos & q->mask];
        size_t seq = __atomic_load_n(&cell->seq, __ATOMIC_ACQUIRE);
        intptr_t lap = (intptr_t)seq - (intptr_t)(pos + 1);

        if (lap == 0) {
            if (__atomic_compare_exchange_n(&q->dequeue_pos, &pos, pos + 1, true, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
                break;
        } else if (lap < 0) {
            /* Empty, or its producer has claimed the cell but not filled it
             * yet: either way there is nothing to take now. */
            return false;
        } else {
            pos = __atomic_load_n(&q->dequeue_pos, __ATOMIC_RELAXED);
        }
    }
    *out = cell->item;
    __atomic_store_n(&cell->seq, pos + q->mask + 1, __ATOMIC_RELEASE);
    return true;
}

size_t oa_queue_pop(struct oa_queue *q, void **out, size_t max)
{
    size_t n = 0;

    while (n < max && pop_one(q, &out[n]))
        n++;
    return n;
}
