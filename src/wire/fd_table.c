/* The fd -> connection table, and the connections' memory and locks.
 *
 * Two levels: OA_FD_TABLE_CHUNKS pointers to chunks of 1024 entries, chunks
 * mmap'ed on first use and never freed, so the pass-through test in the hooks
 * is two dependent loads. Connections come from mmap'ed slabs and are only
 * ever recycled (type-stable memory): a hook racing a close() on another
 * thread reads a valid struct and notices, under the lock, that it changed. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wire/fd_table.h"
#include "base/guard.h"
#include "wire/protocol.h"
#include "base/log.h"

#define CHUNK_ENTRIES (1u << OA_FD_TABLE_CHUNK_BITS)
#define SLAB_CONNS 256

struct oa_conn **oa_fd_chunks[OA_FD_TABLE_CHUNKS];

/* Recycled connections. Guarded by a try-lock only: a caller that cannot get
 * it (contention, or a signal handler interrupting the holder) takes fresh
 * memory or leaves a connection unrecycled, and never waits. */
void (*oa_wire_setup)(void);
int oa_wire_set_up;

static int free_list_lock;
static struct oa_conn *free_list;
/* The current slab and how many of its connections were handed out. */
static struct oa_conn *slab;
static unsigned slab_used = SLAB_CONNS;
static int slab_lock;
/* one past the highest fd tracked (oa_fd_table_high_water); only grows */
static int high_water;

__thread int oa_conn_tid __attribute__((tls_model("initial-exec")));

static int current_tid(void)
{
    if (oa_conn_tid == 0)
        oa_conn_tid = (int)syscall(SYS_gettid);
    return oa_conn_tid;
}

static bool try_lock_word(int *word)
{
    int expected = 0;
    return __atomic_compare_exchange_n(word, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void unlock_word(int *word)
{
    __atomic_store_n(word, 0, __ATOMIC_RELEASE);
}

static struct oa_conn **chunk_for(int fd, bool create)
{
    if ((unsigned)fd >= (unsigned)OA_FD_TABLE_MAX)
        return NULL;
    unsigned idx = (unsigned)fd >> OA_FD_TABLE_CHUNK_BITS;
    struct oa_conn **chunk = __atomic_load_n(&oa_fd_chunks[idx], __ATOMIC_ACQUIRE);
    if (chunk != NULL || !create)
        return chunk;
    void *mem = mmap(NULL, CHUNK_ENTRIES * sizeof(struct oa_conn *), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return NULL;
    struct oa_conn **expected = NULL;
    if (!__atomic_compare_exchange_n(&oa_fd_chunks[idx], &expected, (struct oa_conn **)mem, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        munmap(mem, CHUNK_ENTRIES * sizeof(struct oa_conn *));
        return expected;
    }
    return (struct oa_conn **)mem;
}

static struct oa_conn *conn_alloc(void)
{
    struct oa_conn *c = NULL;
    if (try_lock_word(&free_list_lock)) {
        c = free_list;
        if (c != NULL)
            free_list = c->next_free;
        unlock_word(&free_list_lock);
        if (c != NULL)
            return c;
    }
    if (!try_lock_word(&slab_lock)) {
        /* someone is carving the slab: take a private one-connection map */
        void *one = mmap(NULL, sizeof(struct oa_conn), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return one == MAP_FAILED ? NULL : (struct oa_conn *)one;
    }
    if (slab_used == SLAB_CONNS) {
        void *mem = mmap(NULL, SLAB_CONNS * sizeof(struct oa_conn), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem != MAP_FAILED) {
            slab = (struct oa_conn *)mem;
            slab_used = 0;
        }
    }
    if (slab_used < SLAB_CONNS)
        c = &slab[slab_used++];
    unlock_word(&slab_lock);
    return c;
}

static void conn_recycle(struct oa_conn *c)
{
    if (!try_lock_word(&free_list_lock))
        return; /* rare: leaks one small struct rather than waiting */
    c->next_free = free_list;
    free_list = c;
    unlock_word(&free_list_lock);
}

bool oa_conn_lock_raw(struct oa_conn *c)
{
    int me = current_tid();
    for (unsigned spins = 0;; spins++) {
        int expected = 0;
        if (__atomic_compare_exchange_n(&c->lock, &expected, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            break;
        if (expected == me) {
            /* A signal handler interrupted this thread inside our own
             * bookkeeping: its bytes go by unseen, so stop parsing. */
            c->mode = OA_MODE_PASS;
            return false;
        }
        if (spins > 64)
            sched_yield();
        else
            __builtin_ia32_pause();
    }
    return true;
}

bool oa_conn_lock_waiting(struct oa_conn *c, int fd)
{
    if (!oa_conn_lock_raw(c))
        return false;
    if (!c->in_use || c->fd != fd) {
        oa_conn_unlock(c);
        return false;
    }
    return true;
}

/* Ends whatever the connection had in flight and detaches it from the
 * table. Called with c locked; unlocks and recycles it. */
static void conn_retire(struct oa_conn *c, int err)
{
    c->in_use = false;
    c->mode = OA_MODE_PASS;
    c->generation++;
    oa_protocol_retire(c, err);
    c->fd = -1;
    oa_conn_unlock(c);
    conn_recycle(c);
}

/* A hook re-entered on this thread (from a signal handler interrupting our
 * bookkeeping) must not take locks or allocate: the connection is given up
 * instead, since its bytes now go by unseen. A plain store, not under the
 * connection lock: another thread may hold that lock while it waits for an
 * allocator lock the interrupted thread holds. */
void oa_conn_abandon(struct oa_conn *c)
{
    __atomic_store_n(&c->mode, OA_MODE_PASS, __ATOMIC_RELAXED);
}

static struct oa_conn *track(int fd, enum oa_conn_role role, const struct sockaddr *peer, socklen_t peer_len);
static void forget(int fd);

/* Both run with oa_in_library raised: ending a connection's spans allocates,
 * and a signal handler interrupting that must pass through (see
 * oa_io_send). */
struct oa_conn *oa_fd_track(int fd, enum oa_conn_role role, const struct sockaddr *peer, socklen_t peer_len)
{
    oa_in_library++;
    struct oa_conn *c = track(fd, role, peer, peer_len);
    oa_in_library--;
    return c;
}

void oa_fd_forget(int fd)
{
    if (oa_in_library) {
        /* re-entered (a handler closing or dup2-ing over a tracked fd), or
         * our own thread: leave the entry, given up; the number's next
         * tracking retires it */
        struct oa_conn *c = oa_fd_peek(fd);
        if (c != NULL)
            oa_conn_abandon(c);
        return;
    }
    oa_in_library++;
    forget(fd);
    oa_in_library--;
}

static struct oa_conn *track(int fd, enum oa_conn_role role, const struct sockaddr *peer, socklen_t peer_len)
{
    oa_wire_configure();
    struct oa_conn **chunk = chunk_for(fd, true);
    if (chunk == NULL)
        return NULL;
    struct oa_conn **slot = &chunk[(unsigned)fd & (CHUNK_ENTRIES - 1)];
    struct oa_conn *c = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (c != NULL && role == OA_ROLE_CLIENT && oa_conn_lock(c, fd)) {
        /* socket() then connect(): the same connection gets its role */
        if (c->role == OA_ROLE_UNKNOWN && c->proto == NULL) {
            c->role = (uint8_t)role;
            c->mode = OA_MODE_UNDECIDED;
            if (peer != NULL && peer_len <= sizeof(c->peer)) {
                memcpy(&c->peer, peer, peer_len);
                c->peer_len = peer_len;
            }
            oa_conn_unlock(c);
            return c;
        }
        oa_conn_unlock(c);
    }
    forget(fd);
    c = conn_alloc();
    if (c == NULL)
        return NULL;
    int saved_gen = (int)c->generation;
    memset(c, 0, sizeof(*c));
    c->generation = (uint32_t)saved_gen + 1;
    c->fd = fd;
    c->role = (uint8_t)role;
    c->mode = role == OA_ROLE_UNKNOWN ? OA_MODE_PASS : OA_MODE_UNDECIDED;
    c->in_use = true;
    if (peer != NULL && peer_len <= sizeof(c->peer)) {
        memcpy(&c->peer, peer, peer_len);
        c->peer_len = peer_len;
    }
    struct oa_conn *old = __atomic_exchange_n(slot, c, __ATOMIC_ACQ_REL);
    int hw = __atomic_load_n(&high_water, __ATOMIC_RELAXED);
    while (fd >= hw && !__atomic_compare_exchange_n(&high_water, &hw, fd + 1, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
    if (old != NULL && oa_conn_lock(old, fd))
        conn_retire(old, 0);
    return c;
}

static void forget(int fd)
{
    struct oa_conn **chunk = chunk_for(fd, false);
    if (chunk == NULL)
        return;
    struct oa_conn *c = __atomic_exchange_n(&chunk[(unsigned)fd & (CHUNK_ENTRIES - 1)], NULL, __ATOMIC_ACQ_REL);
    if (c == NULL)
        return;
    int saved = errno;
    if (oa_conn_lock(c, fd))
        conn_retire(c, 0);
    errno = saved;
}

int oa_fd_table_high_water(void)
{
    return __atomic_load_n(&high_water, __ATOMIC_ACQUIRE);
}

void oa_fd_table_crash_walk(const struct oa_crash_walk *w)
{
    for (unsigned i = 0; i < OA_FD_TABLE_CHUNKS; i++) {
        struct oa_conn **chunk = __atomic_load_n(&oa_fd_chunks[i], __ATOMIC_ACQUIRE);
        if (chunk == NULL)
            continue;
        for (unsigned j = 0; j < CHUNK_ENTRIES; j++) {
            oa_protocol_crash_walk_conn(__atomic_load_n(&chunk[j], __ATOMIC_ACQUIRE), w);
        }
    }
}

void oa_fd_table_atfork_child(void)
{
    free_list_lock = 0;
    slab_lock = 0;
    oa_conn_tid = 0;
    for (unsigned i = 0; i < OA_FD_TABLE_CHUNKS; i++) {
        struct oa_conn **chunk = oa_fd_chunks[i];
        if (chunk == NULL)
            continue;
        for (unsigned j = 0; j < CHUNK_ENTRIES; j++) {
            struct oa_conn *c = chunk[j];
            if (c == NULL)
                continue;
            c->lock = 0;
            if (c->proto != NULL)
                c->proto->protocol->disown(c->proto);
        }
    }
}
