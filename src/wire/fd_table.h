/* Per-connection state of the TCP sockets the shim looks at, and the table
 * that maps file descriptors to it.
 *
 * Connections are type-stable: their memory is never returned, only recycled,
 * so a hook that loaded a pointer just before another thread closed the fd
 * still touches a valid struct; it then finds the fd or generation changed
 * under the connection's lock and passes through. */
#ifndef OA_CONN_H
#define OA_CONN_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "base/common.h"

enum oa_conn_role {
    OA_ROLE_UNKNOWN = 0,   /* a TCP socket that neither connected nor was accepted (yet) */
    OA_ROLE_CLIENT,        /* connect(): we send requests */
    OA_ROLE_SERVER,        /* accept(): we receive requests */
};

enum oa_conn_mode {
    OA_MODE_UNDECIDED = 0, /* no byte seen yet */
    OA_MODE_PARSING,       /* a protocol parses it (c->proto) */
    OA_MODE_PASS,          /* no protocol claimed it, lost sync, or gave up: never parsed again */
};

struct oa_proto_conn;      /* wire/protocol.h: the protocol's per-connection state */

struct oa_conn {
    /* Lock word: 0 free, else the tid of the holder. Taken only around our
     * own bookkeeping, never across a blocking system call. */
    int lock;
    int fd;
    uint32_t generation;        /* bumped at each reuse */
    uint8_t role;               /* enum oa_conn_role */
    volatile uint8_t mode;      /* enum oa_conn_mode; read without the lock */
    bool in_use;
    bool tls;                   /* the plaintext of a TLS session (src/tls_io.c), not a socket */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    /* the peer as text, formatted once for all the spans of the connection */
    char peer_text[112];            /* an IP address, or a Unix socket's path (108) */
    int peer_port;                  /* -1 unknown, -2 a Unix socket; 0 not formatted yet */
    uint8_t peer_text_len;          /* strlen(peer_text), once formatted */
    struct oa_proto_conn *proto;    /* opened when a protocol claims the first bytes */
    struct oa_conn *next_free;
};

/* The set-up the life cycle does before the first connection is tracked
 * (configuration, resource, exporters): registered by it at start-up,
 * because the wire layer may not call upwards. oa_wire_configure() is the
 * cheap check the tracking paths make: one load once set up. */
extern void (*oa_wire_setup)(void);
extern int oa_wire_set_up; /* 1 once oa_wire_setup has run to its end */

static inline void oa_wire_configure(void)
{
    if (__builtin_expect(__atomic_load_n(&oa_wire_set_up, __ATOMIC_ACQUIRE) == 0, 0) && oa_wire_setup != NULL)
        oa_wire_setup();
}

/* Highest fd number the table covers (others are passed through untouched). */
#define OA_FD_TABLE_CHUNK_BITS 10
#define OA_FD_TABLE_CHUNKS 4096
#define OA_FD_TABLE_MAX (OA_FD_TABLE_CHUNKS << OA_FD_TABLE_CHUNK_BITS)

extern struct oa_conn **oa_fd_chunks[OA_FD_TABLE_CHUNKS];

/* The pass-through test: a few instructions, no lock, no call. */
static inline struct oa_conn *oa_fd_peek(int fd)
{
    if ((unsigned)fd >= (unsigned)OA_FD_TABLE_MAX)
        return NULL;
    struct oa_conn **chunk = __atomic_load_n(&oa_fd_chunks[(unsigned)fd >> OA_FD_TABLE_CHUNK_BITS], __ATOMIC_ACQUIRE);
    if (chunk == NULL)
        return NULL;
    return __atomic_load_n(&chunk[(unsigned)fd & ((1u << OA_FD_TABLE_CHUNK_BITS) - 1)], __ATOMIC_ACQUIRE);
}

/* One past the highest fd the table ever tracked: the bound of a scan over
 * it (a runtime hint that names a server connection by its peer port). */
int oa_fd_table_high_water(void);

/* Registers fd as a TCP socket of the given role, replacing (and finishing)
 * any stale state the number still had. Returns the connection or NULL. */
struct oa_conn *oa_fd_track(int fd, enum oa_conn_role role, const struct sockaddr *peer, socklen_t peer_len);
/* Forgets fd: finishes its spans (the connection ended) and recycles it. */
void oa_fd_forget(int fd);

/* Locks c whatever fd it belongs to now; false only on re-entry. */
bool oa_conn_lock_raw(struct oa_conn *c);
/* oa_conn_lock the long way: the thread's first lock, or c held. */
bool oa_conn_lock_waiting(struct oa_conn *c, int fd);
/* This thread's id as the lock word holds it; 0 until its first lock. */
extern __thread int oa_conn_tid __attribute__((tls_model("initial-exec")));

static inline void oa_conn_unlock(struct oa_conn *c)
{
    __atomic_store_n(&c->lock, 0, __ATOMIC_RELEASE);
}

/* oa_conn_lock_raw inline for its common case, a free lock taken by a thread
 * that has locked before (the relock after a traced call's system call,
 * twice per exchange on each side): no call. */
static inline bool oa_conn_lock_raw_inline(struct oa_conn *c)
{
    int me = oa_conn_tid;
    int expected = 0;
    if (__builtin_expect(me != 0, 1) &&
        __atomic_compare_exchange_n(&c->lock, &expected, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return true;
    return oa_conn_lock_raw(c);
}

/* Locks c for fd. Returns false if c no longer belongs to fd, or if this very
 * thread already holds it (a signal handler interrupted our own bookkeeping):
 * the caller then passes through, and the connection is given up, since bytes
 * will go by unparsed. Inline for the common case, a free lock taken by a
 * thread that has locked before: every traced call locks once or twice. */
static inline bool oa_conn_lock(struct oa_conn *c, int fd)
{
    int me = oa_conn_tid;
    int expected = 0;
    if (__builtin_expect(me == 0, 0) ||
        !__atomic_compare_exchange_n(&c->lock, &expected, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return oa_conn_lock_waiting(c, fd);
    if (__builtin_expect(!c->in_use || c->fd != fd, 0)) {
        oa_conn_unlock(c);
        return false;
    }
    return true;
}
/* Gives c up without locking or allocating (safe in a re-entered hook). */
void oa_conn_abandon(struct oa_conn *c);

struct oa_crash_walk; /* wire/protocol.h */
/* The crash capture: every tracked connection's protocol walks its
 * requests in flight (struct oa_crash_walk), lowest fd first. No lock is
 * taken (the crashed thread may hold any): the table is read as it is, each
 * state checked before it is used (connections and protocol states are
 * type-stable pooled memory). */
void oa_fd_table_crash_walk(const struct oa_crash_walk *w);

/* fork child: nothing of the parent's threads survives, so no lock is held;
 * spans in flight belong to the parent and are not ours to export. */
void oa_fd_table_atfork_child(void);

#endif
