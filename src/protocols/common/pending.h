/* Requests in flight on one connection, shared by the protocols: a request
 * whose response has not completed keeps its span, its server context, its
 * metric and its outcome so far in an entry until the response completes
 * (finish: the span is ended and exported) or the connection gives up
 * (drop: nothing exported).
 *
 * Two ways to match a response to its request:
 *   - a FIFO (struct oa_pending_fifo): responses come in the order of the
 *     requests (HTTP/1 pipelining, PostgreSQL and Redis pipelines);
 *   - a table keyed by stream id (struct oa_pending_table): responses come
 *     in any order (HTTP/2 streams).
 * Both are bounded and live in the protocol's per-connection state: no
 * allocation, since every call runs with the connection locked on the
 * program's thread, possibly inside a signal handler.
 *
 * A protocol's entry begins with struct oa_pending and adds what only it
 * needs (its metric request, what the response's framing depends on); the
 * protocol hands its slots array and the size of one entry to the
 * structure, and its struct oa_pending_ops for what the common code cannot
 * know: how its span takes the outcome, how its metric ends. */
#ifndef OA_PENDING_H
#define OA_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oa_span;
struct oa_server_context;

/* The common part of a request in flight: first in the protocol's entry. */
struct oa_pending {
    struct oa_span *span;            /* NULL when not recorded (not sampled) */
    struct oa_server_context *ctx;   /* server role: what handler threads parent to (a reference) */
    uint64_t start;                  /* unix ns of the request's first byte */
    const char *error;               /* error.type so far (static), or NULL */
    int status;                      /* the protocol's status so far; 0 = no response */
    uint32_t id;                     /* stream id (by-id table) */
    bool used;                       /* by-id table: the slot holds a request */
};

/* What a protocol does to its own part of an entry. e is the struct
 * oa_pending at the start of the protocol's entry. */
struct oa_pending_ops {
    /* s (raw or built) takes e's outcome (status, error) and ends at end (unix ns). */
    void (*end_span)(struct oa_span *s, const struct oa_pending *e, uint64_t end);
    /* e's metric request ends at end with e's outcome; owner: what the caller
     * of oa_pending_finish_at passed (the protocol's connection state). */
    void (*metric_finish)(struct oa_pending *e, uint64_t end, void *owner);
    /* e will never complete: no duration */
    void (*metric_abandon)(struct oa_pending *e);
    /* fork child: e's metric is the parent's */
    void (*metric_disown)(struct oa_pending *e);
};

/* Ends e at end: its metric, then its span (submitted for export), then its
 * server context (answered, released). e stays in its structure: pop or
 * remove it. */
void oa_pending_finish_at(struct oa_pending *e, const struct oa_pending_ops *ops, uint64_t end, void *owner);
/* What follows the protocol's own part of a finish: e's span (its outcome
 * already set by the protocol, end_span's work) submitted for export, its
 * server context answered and released. A protocol's per-response path
 * ends its metric and its span by direct calls, then calls this: the same
 * finish as oa_pending_finish_at, without going through the operations. */
void oa_pending_finished(struct oa_pending *e);
/* The same at the current time. */
void oa_pending_finish(struct oa_pending *e, const struct oa_pending_ops *ops, void *owner);
/* Frees what e holds without exporting anything (parsing gave up). */
void oa_pending_drop(struct oa_pending *e, const struct oa_pending_ops *ops);
/* Fork child: e's span and metric belong to the parent; the child's copy
 * forgets them without ending them. */
void oa_pending_disown(struct oa_pending *e, const struct oa_pending_ops *ops);

/* error.type of requests the connection's end left unanswered: the errno
 * name of err (ECONNRESET), or "connection_closed" when err is 0. */
const char *oa_pending_error_type(int err);

/* Clears the common fields of a new entry (the protocol sets its own). */
static inline __attribute__((always_inline)) void oa_pending_clear(struct oa_pending *e, uint64_t start)
{
    e->span = NULL;
    e->ctx = NULL;
    e->start = start;
    e->error = NULL;
    e->status = 0;
}

/* ---- crash capture ---- */

struct oa_crash_walk;   /* wire/protocol.h */
struct oa_pending_fifo;

/* The largest protocol entry (struct oa_pending at its start) the crash
 * capture copies; each protocol checks its entry against it at compile time. */
#define OA_PENDING_ENTRY_MAX 512

/* The crash capture (src/lifecycle/crash.c, in a signal handler): a
 * finished copy of e's span, failed with w->error at w->end, built in
 * w->scratch and handed to w->emit; e itself is left as it is (the state
 * may be another thread's, half written: what is read is checked, nothing
 * is written). entry_size: the bytes of the protocol's whole entry, which
 * its end_span reads (copied whole, the error set in the copy). Nothing
 * when e has no span. */
void oa_pending_crash_copy(const struct oa_pending *e, size_t entry_size, const struct oa_pending_ops *ops,
                           const struct oa_crash_walk *w);
/* The same for every request of q, oldest first. */
void oa_pending_fifo_crash_copy_all(const struct oa_pending_fifo *q, const struct oa_pending_ops *ops,
                                    const struct oa_crash_walk *w);

/* ---- in order ---- */

struct oa_pending_fifo {
    unsigned char *slots;   /* the protocol's array of entries */
    uint32_t size;          /* bytes of one entry */
    uint16_t mask;          /* capacity - 1 (a power of two) */
    uint16_t first, count;
};

/* slots: cap entries of `size` bytes each; cap a power of two, at most
 * 32768. Empty afterwards. */
void oa_pending_fifo_init(struct oa_pending_fifo *q, void *slots, size_t size, unsigned cap);

/* The _in forms are for a protocol on its per-request path: it passes its
 * own array of entries (the slots it handed to oa_pending_fifo_init) and
 * sizeof its entry type, so that an entry's address is computed from the
 * array with a stride known when compiling (no load of q->slots or
 * q->size). The plain forms read them from q. */

/* The i-th oldest (i < count). */
static inline __attribute__((always_inline)) struct oa_pending *
oa_pending_fifo_at_in(const struct oa_pending_fifo *q, void *slots, size_t size, unsigned i)
{
    return (struct oa_pending *)((unsigned char *)slots + (size_t)((q->first + i) & q->mask) * size);
}

static inline struct oa_pending *oa_pending_fifo_at(const struct oa_pending_fifo *q, unsigned i)
{
    return oa_pending_fifo_at_in(q, q->slots, q->size, i);
}

/* A new newest entry, its common fields cleared, or NULL when the bound is
 * reached. */
static inline __attribute__((always_inline)) struct oa_pending *
oa_pending_fifo_push_in(struct oa_pending_fifo *q, void *slots, size_t size, uint64_t start)
{
    if (q->count > q->mask)
        return NULL;
    struct oa_pending *e = oa_pending_fifo_at_in(q, slots, size, q->count);
    oa_pending_clear(e, start);
    q->count++;
    return e;
}

static inline struct oa_pending *oa_pending_fifo_push(struct oa_pending_fifo *q, uint64_t start)
{
    return oa_pending_fifo_push_in(q, q->slots, q->size, start);
}

/* The oldest, which the next response answers, or NULL. */
static inline struct oa_pending *oa_pending_fifo_front(const struct oa_pending_fifo *q)
{
    return q->count > 0 ? oa_pending_fifo_at(q, 0) : NULL;
}

/* Forgets the oldest (finished or dropped before); the FIFO is not empty. */
static inline __attribute__((always_inline)) void oa_pending_fifo_pop(struct oa_pending_fifo *q)
{
    q->first = (uint16_t)((q->first + 1) & q->mask);
    q->count--;
}

/* Every request still pending fails with error (error.type, their status
 * so far kept), oldest first: finished and popped. */
void oa_pending_fifo_finish_all(struct oa_pending_fifo *q, const struct oa_pending_ops *ops, const char *error,
                                void *owner);
/* Drops every pending request (oa_pending_drop); the FIFO is empty after. */
void oa_pending_fifo_drop_all(struct oa_pending_fifo *q, const struct oa_pending_ops *ops);
/* Fork child: oa_pending_disown of each; the entries stay. */
void oa_pending_fifo_disown_all(struct oa_pending_fifo *q, const struct oa_pending_ops *ops);

/* ---- by stream id ---- */

/* Open addressing with linear probing on the id's multiplicative hash,
 * filled to three quarters at most, so that a probe always meets a free
 * slot. A removal moves later entries of its probe run back (no tombstones):
 * a pointer to an entry is valid until the next removal, and entries must
 * not point into themselves. */
struct oa_pending_table {
    unsigned char *slots;   /* the protocol's array of entries */
    uint32_t size;          /* bytes of one entry */
    uint16_t mask;          /* slots - 1 (a power of two) */
    uint8_t shift;          /* 32 - log2(slots): the hash's top bits index */
    uint16_t count, max;
};

/* slots: cap entries of `size` bytes; cap a power of two from 4 to 32768.
 * Holds at most cap - cap / 4 requests (n requests need a power of two of
 * at least n + n / 3 slots). Empty afterwards. */
void oa_pending_table_init(struct oa_pending_table *t, void *slots, size_t size, unsigned cap);
/* A new entry for stream id, its common fields cleared, or NULL when the
 * bound is reached or id is pending already (a protocol error). */
struct oa_pending *oa_pending_table_push(struct oa_pending_table *t, uint32_t id, uint64_t start);
/* The pending request of stream id, or NULL. */
struct oa_pending *oa_pending_table_find(const struct oa_pending_table *t, uint32_t id);
/* Forgets e (finished or dropped before). May move other entries. */
void oa_pending_table_remove(struct oa_pending_table *t, struct oa_pending *e);
/* As for the FIFO, in slot order; the table is empty after finish and drop. */
void oa_pending_table_finish_all(struct oa_pending_table *t, const struct oa_pending_ops *ops, const char *error,
                                 void *owner);
void oa_pending_table_drop_all(struct oa_pending_table *t, const struct oa_pending_ops *ops);
void oa_pending_table_disown_all(struct oa_pending_table *t, const struct oa_pending_ops *ops);

static inline unsigned oa_pending_table_count(const struct oa_pending_table *t)
{
    return t->count;
}

#endif
