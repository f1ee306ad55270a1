/* Lock-free object pools: objects are distinct while held, recycled once
 * given back, bounded (then malloc'ed), and safe to share between threads. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "oa_test.h"

static void test_get_put(void)
{
    static struct oa_pool pool = OA_POOL_INIT(100, 4, 8);
    void *held[12];
    bool distinct = true;
    for (int i = 0; i < 12; i++) {
        held[i] = oa_pool_get(&pool);
        memset(held[i], i, 100);
        for (int j = 0; j < i; j++)
            distinct = distinct && held[j] != held[i];
    }
    bool intact = true;
    for (int i = 0; i < 12; i++)
        intact = intact && ((unsigned char *)held[i])[99] == i;
    CHECK(distinct && intact, "12 objects held at once are distinct and do not overlap (8 pooled, 4 malloc'ed)");
    CHECK(pool.n_objs <= 8, "the pool never holds more than its bound (%u)", pool.n_objs);
    for (int i = 0; i < 12; i++)
        oa_pool_put(&pool, held[i]);
    void *again = oa_pool_get(&pool);
#ifndef __SANITIZE_ADDRESS__
    bool recycled = false;
    for (int i = 0; i < 12; i++)
        recycled = recycled || again == held[i];
    CHECK(recycled, "a given-back object is handed out again");
#endif
    oa_pool_put(&pool, again);
    oa_pool_put(&pool, NULL);
    void *large = oa_pool_get_large(5000);
    memset(large, 1, 5000);
    oa_pool_put(&pool, large);
    CHECK(true, "large objects and NULL go back without harm");
}

/* A pool's chunk size is a power of two (its contract, see OA_POOL_INIT):
 * a pool declared with another size pools nothing and still works. Each
 * round takes every object, marks it, gives them all back: a wrong slot
 * mapping hands out one object twice (or one that overlaps another). */
static void test_chunk_sizes(void)
{
    /* OA_POOL_INIT refuses 3 at compile time: built by hand, as a pool
     * initialised some other way could be */
    static struct oa_pool odd = {.obj_size = 48, .chunk_objs = 3, .max_objs = 9};
    static struct oa_pool even = OA_POOL_INIT(48, 4, 16);
    struct oa_pool *pools[2] = {&odd, &even};
    for (int p = 0; p < 2; p++) {
        bool ok = true;
        for (int round = 0; round < 3; round++) {
            unsigned char *held[16];
            for (int i = 0; i < 16; i++) {
                held[i] = oa_pool_get(pools[p]);
                memset(held[i], i + 16 * round, 48);
            }
            for (int i = 0; i < 16; i++)
                ok = ok && held[i][0] == i + 16 * round && held[i][47] == i + 16 * round;
            for (int i = 0; i < 16; i++)
                oa_pool_put(pools[p], held[i]);
        }
        CHECK(ok, "chunks of %u objects: 16 held at once, three rounds, none shared", pools[p]->chunk_objs);
    }
    CHECK(odd.n_objs == 0, "a chunk size that is not a power of two pools nothing (%u pooled)", odd.n_objs);
    CHECK(even.n_objs == 16, "chunks of 4: four chunks carved (%u pooled)", even.n_objs);
}

/* The stride between objects is OA_POOL_INIT's: a pool built by hand
 * without it (a power-of-two chunk, stride 0) must pool nothing rather than
 * hand out objects at one address; one with it finds its objects stride
 * bytes apart. */
static void test_stride(void)
{
    static struct oa_pool bare = {.obj_size = 40, .chunk_objs = 4, .max_objs = 8};
    unsigned char *held[6];
    for (int i = 0; i < 6; i++) {
        held[i] = oa_pool_get(&bare);
        memset(held[i], i, 40);
    }
    bool ok = true;
    for (int i = 0; i < 6; i++)
        ok = ok && held[i][0] == i && held[i][39] == i;
    for (int i = 0; i < 6; i++)
        oa_pool_put(&bare, held[i]);
    CHECK(ok && bare.n_objs == 0, "a pool without its stride pools nothing and still works (%u pooled)", bare.n_objs);

    static struct oa_pool pool = OA_POOL_INIT(40, 4, 8);
    CHECK(pool.stride == 64, "OA_POOL_INIT's stride: a 16-byte header and 40 bytes, rounded to 16 (%zu)",
          pool.stride);
    unsigned char *a = oa_pool_get(&pool), *b = oa_pool_get(&pool);
    size_t apart = a > b ? (size_t)(a - b) : (size_t)(b - a);
    CHECK(pool.n_objs == 4 && apart % pool.stride == 0 && apart > 0,
          "objects of one chunk are whole strides apart (%zu bytes)", apart);
    oa_pool_put(&pool, a);
    oa_pool_put(&pool, b);
}

/* Two threads take and give back objects as fast as they can, each marking
 * what it holds with its own id: an object handed to both at once would show
 * the other's mark. */
static struct oa_pool shared_pool = OA_POOL_INIT(64, 16, 64);
static int clashes;

static void *churn(void *arg)
{
    uintptr_t me = (uintptr_t)arg;
    for (int i = 0; i < 200000; i++) {
        void *held[3];
        for (int k = 0; k < 3; k++) {
            held[k] = oa_pool_get(&shared_pool);
            memset(held[k], (int)me, 64);
        }
        for (int k = 0; k < 3; k++) {
            if (((unsigned char *)held[k])[0] != me || ((unsigned char *)held[k])[63] != me)
                __atomic_add_fetch(&clashes, 1, __ATOMIC_RELAXED);
            oa_pool_put(&shared_pool, held[k]);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, churn, (void *)(uintptr_t)1);
    pthread_create(&b, NULL, churn, (void *)(uintptr_t)2);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK(clashes == 0, "two threads never hold the same object (%d clashes)", clashes);
}

int main(void)
{
    test_get_put();
    test_chunk_sizes();
    test_stride();
    test_threads();
    TEST_DONE();
}
