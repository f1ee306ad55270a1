/* Fixed-size object pools: the memory of spans and request contexts is
 * recycled instead of going through malloc/free for every traced request.
 *
 * Any thread may take or give back an object without a lock: the free
 * objects form a stack whose head is a 32-bit object number tagged with a
 * 32-bit counter, swapped with one compare-and-swap (the tag defeats ABA).
 * Objects live in chunks carved on demand from one reservation of address
 * space (mmap'ed at the first use, never unmapped), so a stale read of a free
 * object's link is harmless. The pool is bounded: once
 * it holds max objects, or when a chunk cannot be added at once (another
 * thread is adding one), objects come from malloc and go back to free. */
#ifndef OA_POOL_H
#define OA_POOL_H

#include "base/common.h"

#define OA_POOL_MAX_CHUNKS 256

struct oa_pool {
    size_t obj_size;          /* payload bytes */
    size_t stride;            /* header and payload, rounded to 16: set by OA_POOL_INIT, so that
                               * finding a free object is no arithmetic on obj_size (0: nothing pooled) */
    uint32_t chunk_objs;      /* objects per chunk: a power of two, else nothing is pooled */
    uint32_t max_objs;        /* bound on pooled objects (<= chunk_objs * MAX_CHUNKS) */
    uint64_t head;            /* tag << 32 | (object number + 1); low half 0: empty */
    uint32_t n_objs;          /* objects carved so far */
    int grow_lock;
    char *region;             /* the reservation every chunk is carved from */
};

/* the bytes in front of every object (pool.c's struct obj_header) */
#define OA_POOL_HEADER_BYTES 16

/* per_chunk must be a power of two: the pool's contract (grow() pools
 * nothing for any other size, and test_pool holds it to that), checked when
 * the pool is compiled, since such a pool would silently pool nothing.
 * Finding an object no longer needs it (object n is n strides into the
 * region). */
#define OA_POOL_INIT(size, per_chunk, max)                                                    \
    {                                                                                         \
        .obj_size = (size),                                                                   \
        .stride = (OA_POOL_HEADER_BYTES + (size) + 15) & ~(size_t)15,                          \
        .chunk_objs = (per_chunk) + 0 * sizeof(struct {                                       \
            _Static_assert((per_chunk) > 0 && ((per_chunk) & ((per_chunk) - 1)) == 0,          \
                           "OA_POOL_INIT: objects per chunk must be a power of two");         \
            int unused;                                                                       \
        }),                                                                                   \
        .max_objs = (max)                                                                     \
    }

/* An object of pool->obj_size bytes (contents undefined), or NULL when the
 * pool is exhausted and malloc fails too. */
void *oa_pool_get(struct oa_pool *pool);
/* An object of `size` bytes that is too big for the pool: malloc'ed, but
 * given back with oa_pool_put like the others. */
void *oa_pool_get_large(size_t size);
/* Gives back an object from oa_pool_get or oa_pool_get_large; NULL is ignored. */
void oa_pool_put(struct oa_pool *pool, void *obj);

#endif
