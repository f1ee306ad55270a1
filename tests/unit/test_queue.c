/* The bounded MPMC queue: FIFO, limit below the power-of-two array size,
 * refusal when full, wrap-around, and many producers against one consumer. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/queue.h"
#include "oa_test.h"

#define ITEM(n) ((void *)(uintptr_t)((n) + 1))
#define VALUE(p) ((uintptr_t)(p)-1)

static void test_single_thread(void)
{
    struct oa_queue q;
    void *out[16];
    int ok = 1;

    CHECK(oa_queue_init(&q, 0) == -1, "capacity 0 refused");

    CHECK(oa_queue_init(&q, 5) == 0 && q.mask + 1 == 8 && q.limit == 5,
          "capacity 5: array of 8, limit 5");
    CHECK(oa_queue_size(&q) == 0 && oa_queue_pop(&q, out, 4) == 0, "new queue is empty");
    for (int i = 0; i < 5; i++)
        EXPECT(ok, oa_queue_push(&q, ITEM(i)), "push %d", i);
    CHECK(ok, "five pushes accepted");
    CHECK(!oa_queue_push(&q, ITEM(5)), "sixth push refused: the limit, not the array size");
    CHECK(oa_queue_size(&q) == 5, "size 5");
    CHECK(oa_queue_pop(&q, out, 3) == 3 && VALUE(out[0]) == 0 && VALUE(out[1]) == 1 &&
              VALUE(out[2]) == 2,
          "pop 3 in FIFO order");
    CHECK(oa_queue_size(&q) == 2, "size 2 after popping 3");
    ok = 1;
    for (int i = 5; i < 8; i++)
        EXPECT(ok, oa_queue_push(&q, ITEM(i)), "push %d", i);
    CHECK(ok && !oa_queue_push(&q, ITEM(99)), "room again for exactly 3");
    CHECK(oa_queue_pop(&q, out, 16) == 5 && VALUE(out[0]) == 3 && VALUE(out[4]) == 7,
          "pop with a larger max returns what is there, in order");
    CHECK(oa_queue_pop(&q, out, 16) == 0 && oa_queue_size(&q) == 0, "empty again");
    CHECK(oa_queue_pop(&q, out, 0) == 0, "pop of max 0 takes nothing");

    /* many laps around the array */
    ok = 1;
    for (uintptr_t i = 0; i < 10000; i++) {
        EXPECT(ok, oa_queue_push(&q, ITEM(i)), "lap push %lu", (unsigned long)i);
        if (i % 3 == 2) {
            size_t n = oa_queue_pop(&q, out, 3);
            EXPECT(ok, n == 3 && VALUE(out[0]) == i - 2 && VALUE(out[2]) == i, "lap pop at %lu",
                   (unsigned long)i);
        }
    }
    CHECK(ok, "10000 items through a 5-slot queue, order kept");
    oa_queue_destroy(&q);
    CHECK(q.cells == NULL, "destroy releases the cells");

    CHECK(oa_queue_init(&q, 8) == 0 && q.mask + 1 == 8 && q.limit == 8, "capacity 8 is exact");
    ok = 1;
    for (int i = 0; i < 8; i++)
        EXPECT(ok, oa_queue_push(&q, ITEM(i)), "push %d", i);
    CHECK(ok && !oa_queue_push(&q, ITEM(8)) && oa_queue_size(&q) == 8, "power of two: full at 8");
    oa_queue_destroy(&q);

    CHECK(oa_queue_init(&q, 1) == 0, "capacity 1");
    CHECK(oa_queue_push(&q, ITEM(1)) && !oa_queue_push(&q, ITEM(2)),
          "capacity 1: second push refused");
    CHECK(oa_queue_pop(&q, out, 2) == 1 && VALUE(out[0]) == 1 && oa_queue_push(&q, ITEM(3)),
          "capacity 1: pop makes room");
    oa_queue_destroy(&q);
}

#define PRODUCERS 4
#define PER_PRODUCER 100000u

static struct oa_queue shared;
static unsigned long refusals[PRODUCERS];

static void *producer(void *arg)
{
    uintptr_t id = (uintptr_t)arg;

    for (uintptr_t i = 0; i < PER_PRODUCER; i++) {
        /* Push never waits: a full queue is the caller's problem (here: retry). */
        while (!oa_queue_push(&shared, ITEM(id * PER_PRODUCER + i))) {
            refusals[id]++;
            sched_yield();
        }
    }
    return NULL;
}

static void test_many_producers(void)
{
    pthread_t threads[PRODUCERS];
    unsigned char *seen = calloc(PRODUCERS * PER_PRODUCER, 1);
    uintptr_t last[PRODUCERS];
    size_t received = 0;
    int ok = 1;
    int order_ok = 1;
    void *out[64];

    for (int p = 0; p < PRODUCERS; p++)
        last[p] = UINTPTR_MAX;
    CHECK(seen && oa_queue_init(&shared, 1000) == 0, "shared queue of 1000");
    for (uintptr_t p = 0; p < PRODUCERS; p++)
        pthread_create(&threads[p], NULL, producer, (void *)p);

    while (received < PRODUCERS * PER_PRODUCER) {
        size_t n = oa_queue_pop(&shared, out, 64);
        if (n == 0) {
            sched_yield();
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            uintptr_t v = VALUE(out[i]);
            EXPECT(ok, v < PRODUCERS * PER_PRODUCER, "item %lu in range", (unsigned long)v);
            if (v >= PRODUCERS * PER_PRODUCER)
                continue;
            EXPECT(ok, seen[v] == 0, "item %lu seen twice", (unsigned long)v);
            seen[v]++;
            uintptr_t p = v / PER_PRODUCER;
            EXPECT(order_ok, last[p] == UINTPTR_MAX || v > last[p], "producer %lu out of order",
                   (unsigned long)p);
            last[p] = v;
        }
        received += n;
        EXPECT(ok, oa_queue_size(&shared) <= 1000, "size within the limit");
    }
    for (int p = 0; p < PRODUCERS; p++)
        pthread_join(threads[p], NULL);

    size_t missing = 0;
    for (size_t i = 0; i < PRODUCERS * PER_PRODUCER; i++)
        missing += seen[i] != 1;
    CHECK(ok && missing == 0 && received == PRODUCERS * PER_PRODUCER,
          "4 producers x 100k, 1 consumer: every item exactly once (missing %zu)", missing);
    CHECK(order_ok, "each producer's items arrive in its order");
    CHECK(oa_queue_pop(&shared, out, 64) == 0 && oa_queue_size(&shared) == 0, "drained at the end");
    printf("# producers were refused %lu+%lu+%lu+%lu times\n", refusals[0], refusals[1],
           refusals[2], refusals[3]);
    oa_queue_destroy(&shared);
    free(seen);
}

int main(void)
{
    test_single_thread();
    test_many_producers();
    TEST_DONE();
}
