/* Lock-free fixed-size object pools (see oa_pool.h). */
#include <stdlib.h>
#include <sys/mman.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

#include "base/pool.h"

/* Under AddressSanitizer the pools stay in use: taking an object must not
 * call malloc on the hook path either (a signal handler that interrupts
 * malloc and writes on a traced socket would wait for the allocator's lock
 * forever). A free object's payload is poisoned instead, so that a use after
 * oa_pool_put is still reported; its header stays readable for the lock-free
 * stack. */
#ifdef __SANITIZE_ADDRESS__
#define POISON_PAYLOAD(h, size) __asan_poison_memory_region((h) + 1, (size))
#define UNPOISON_PAYLOAD(h, size) __asan_unpoison_memory_region((h) + 1, (size))
#else
#define POISON_PAYLOAD(h, size) ((void)(h), (void)(size))
#define UNPOISON_PAYLOAD(h, size) ((void)(h), (void)(size))
#endif

/* In front of every object: which pool slot it is (0 for malloc'ed memory),
 * and while it is free, the next free slot. 16 bytes keep the payload aligned
 * for anything. */
struct obj_header {
    uint32_t slot;            /* object number + 1, or 0 */
    uint32_t next;            /* next free: object number + 1, or 0 */
    uint64_t pad;
};

_Static_assert(sizeof(struct obj_header) == OA_POOL_HEADER_BYTES, "OA_POOL_INIT's stride counts the header");

#define SLOT_MASK 0xffffffffull

/* read from the pool (OA_POOL_INIT computed it): taking an object is on
 * every request's path */
static size_t stride(const struct oa_pool *pool)
{
    return pool->stride;
}

/* Chunks follow one another in the reservation: object n is n strides in. */
static struct obj_header *header_of_slot(const struct oa_pool *pool, uint32_t slot)
{
    char *region = __atomic_load_n(&pool->region, __ATOMIC_ACQUIRE);
    return (struct obj_header *)(void *)(region + (size_t)(slot - 1) * stride(pool));
}

static void push(struct oa_pool *pool, struct obj_header *h)
{
    uint64_t old = __atomic_load_n(&pool->head, __ATOMIC_RELAXED);
    uint64_t next;
    do {
        __atomic_store_n(&h->next, (uint32_t)(old & SLOT_MASK), __ATOMIC_RELAXED);
        next = (((old >> 32) + 1) << 32) | h->slot;
    } while (!__atomic_compare_exchange_n(&pool->head, &old, next, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

static struct obj_header *pop(struct oa_pool *pool)
{
    uint64_t old = __atomic_load_n(&pool->head, __ATOMIC_ACQUIRE);
    while ((old & SLOT_MASK) != 0) {
        struct obj_header *h = header_of_slot(pool, (uint32_t)(old & SLOT_MASK));
        /* If h was taken meanwhile this link may be stale; the tag makes the
         * exchange fail then. */
        uint32_t link = __atomic_load_n(&h->next, __ATOMIC_RELAXED);
        uint64_t next = (((old >> 32) + 1) << 32) | link;
        if (__atomic_compare_exchange_n(&pool->head, &old, next, true, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
            return h;
    }
    return NULL;
}

/* The address space of every chunk the pool may ever carve, reserved by
 * one mmap at its first use: carving a chunk later is then no system call
 * (a program's thread that takes the pool's next chunk in the middle of a
 * request pays page faults only). Pages nobody touches stay virtual. */
static char *reserve(struct oa_pool *pool, size_t chunk_bytes)
{
    if (pool->region == NULL) {
        size_t n_chunks = (pool->max_objs + pool->chunk_objs - 1) / pool->chunk_objs;
        if (n_chunks > OA_POOL_MAX_CHUNKS)
            n_chunks = OA_POOL_MAX_CHUNKS;
        void *mem = mmap(NULL, n_chunks * chunk_bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mem == MAP_FAILED)
            return NULL;
        __atomic_store_n(&pool->region, (char *)mem, __ATOMIC_RELEASE);
    }
    return pool->region;
}

/* Carves one more chunk; keeps its first object for the caller. Only one
 * thread at a time, and never waiting: a loser gets NULL (malloc). Out of
 * line: taking a free object is the path that runs per request. */
static __attribute__((noinline)) struct obj_header *grow(struct oa_pool *pool)
{
    int expected = 0;
    struct obj_header *mine = NULL;

    if (pool->chunk_objs == 0 || (pool->chunk_objs & (pool->chunk_objs - 1)) != 0 ||
        pool->stride != ((sizeof(struct obj_header) + pool->obj_size + 15) & ~(size_t)15) ||
        __atomic_load_n(&pool->n_objs, __ATOMIC_RELAXED) >= pool->max_objs ||
        !__atomic_compare_exchange_n(&pool->grow_lock, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return NULL;
    uint32_t first = pool->n_objs;
    uint32_t idx = first / pool->chunk_objs;
    if (first < pool->max_objs && idx < OA_POOL_MAX_CHUNKS) {
        size_t bytes = (size_t)pool->chunk_objs * stride(pool);
        char *region = reserve(pool, bytes);
        if (region != NULL) {
            char *mem = region + idx * bytes;
            __atomic_store_n(&pool->n_objs, first + pool->chunk_objs, __ATOMIC_RELAXED);
            for (uint32_t k = 0; k < pool->chunk_objs; k++) {
                struct obj_header *h = (struct obj_header *)(void *)(mem + (size_t)k * stride(pool));
                h->slot = first + k + 1;
                if (k == 0) {
                    mine = h;
                } else {
                    POISON_PAYLOAD(h, pool->obj_size);
                    push(pool, h);
                }
            }
        }
    }
    __atomic_store_n(&pool->grow_lock, 0, __ATOMIC_RELEASE);
    return mine;
}

static __attribute__((noinline)) void *from_malloc(size_t size)
{
    struct obj_header *h = malloc(sizeof(*h) + size);
    if (h == NULL)
        return NULL;
    h->slot = 0;
    return h + 1;
}

void *oa_pool_get(struct oa_pool *pool)
{
    struct obj_header *h = pop(pool);
    if (h == NULL)
        h = grow(pool);
    if (h == NULL)
        return from_malloc(pool->obj_size);
    UNPOISON_PAYLOAD(h, pool->obj_size);
    return h + 1;
}

void *oa_pool_get_large(size_t size)
{
    return from_malloc(size);
}

void oa_pool_put(struct oa_pool *pool, void *obj)
{
    if (obj == NULL)
        return;
    struct obj_header *h = (struct obj_header *)obj - 1;
    if (h->slot == 0) {
        free(h);
    } else {
        POISON_PAYLOAD(h, pool->obj_size);
        push(pool, h);
    }
}
