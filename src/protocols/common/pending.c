/* Requests in flight, in order or by stream id (see pending.h). */
#include <stddef.h>
#include <string.h>

#include "base/common.h"
#include "export/batch_processor.h"
#include "protocols/common/pending.h"
#include "trace/span.h"
#include "trace/thread_context.h"
#include "wire/protocol.h"

/* The request is answered: threads that read it no longer parent to it. */
static void release_context(struct oa_pending *e)
{
    if (e->ctx != NULL) {
        oa_server_context_answered(e->ctx);
        oa_server_context_unref(e->ctx);
        e->ctx = NULL;
    }
}

void oa_pending_finished(struct oa_pending *e)
{
    if (e->span != NULL) {
        oa_export_submit(e->span);
        e->span = NULL;
    }
    release_context(e);
}

void oa_pending_finish_at(struct oa_pending *e, const struct oa_pending_ops *ops, uint64_t end, void *owner)
{
    ops->metric_finish(e, end, owner);
    if (e->span != NULL)
        ops->end_span(e->span, e, end);
    oa_pending_finished(e);
}

void oa_pending_finish(struct oa_pending *e, const struct oa_pending_ops *ops, void *owner)
{
    /* one clock read ends both the span and the metric's duration */
    oa_pending_finish_at(e, ops, oa_now_unix_nano(), owner);
}

void oa_pending_drop(struct oa_pending *e, const struct oa_pending_ops *ops)
{
    ops->metric_abandon(e);
    oa_span_free(e->span);
    e->span = NULL;
    release_context(e);
}

/* The server context is left alone: the child's copy of it is unreferenced
 * like any other when the entry is dropped or finished later. */
void oa_pending_disown(struct oa_pending *e, const struct oa_pending_ops *ops)
{
    oa_span_free(e->span);
    e->span = NULL;
    ops->metric_disown(e);
}

const char *oa_pending_error_type(int err)
{
    if (err != 0) {
        const char *name = strerrorname_np(err);
        if (name != NULL)
            return name;
    }
    return "connection_closed";
}

/* ---- in order ---- */

void oa_pending_fifo_init(struct oa_pending_fifo *q, void *slots, size_t size, unsigned cap)
{
    q->slots = slots;
    q->size = (uint32_t)size;
    q->mask = (uint16_t)(cap - 1);
    q->first = 0;
    q->count = 0;
}

/* A span pointer read without the connection's lock: its block is pooled
 * memory (never unmapped), but it may be recycled, half built or not a
 * span the protocol still owns; only one whose fields hold together is
 * copied. */
static bool plausible_span(const struct oa_span *s)
{
    if (s == NULL || ((uintptr_t)s & 7) != 0)
        return false;
    if (s->kind != OA_SPAN_KIND_SERVER && s->kind != OA_SPAN_KIND_CLIENT)
        return false;
    if (s->form > OA_SPAN_RAW || s->start_unix_nano == 0 || s->end_unix_nano != 0)
        return false;
    if (oa_span_is_raw(s))
        return s->raw.ops != NULL && s->raw.ops->build_into != NULL;
    return s->n_attrs <= OA_SPAN_MAX_ATTRS && s->arena_used <= OA_SPAN_ARENA;
}

void oa_pending_crash_copy(const struct oa_pending *e, size_t entry_size, const struct oa_pending_ops *ops,
                           const struct oa_crash_walk *w)
{
    if (entry_size < sizeof(struct oa_pending) || entry_size > OA_PENDING_ENTRY_MAX)
        return;
    const struct oa_span *s = __atomic_load_n(&e->span, __ATOMIC_ACQUIRE);
    if (!plausible_span(s))
        return;
    struct oa_span *copy = w->scratch;
    if (oa_span_is_raw(s)) {
        if (!s->raw.ops->build_into(copy, s))
            return;
    } else {
        oa_span_copy_full(copy, s);
    }
    /* the whole entry: a protocol's end_span reads its own fields past the
     * struct oa_pending at the start (HTTP/2's gRPC status, its hand-over) */
    union {
        struct oa_pending p;
        unsigned char bytes[OA_PENDING_ENTRY_MAX];
        max_align_t align;
    } outcome;
    memcpy(outcome.bytes, e, entry_size);
    outcome.p.error = w->error;
    ops->end_span(copy, &outcome.p, w->end);
    w->emit(copy, w->arg);
}

void oa_pending_fifo_crash_copy_all(const struct oa_pending_fifo *q, const struct oa_pending_ops *ops,
                                    const struct oa_crash_walk *w)
{
    /* one snapshot of the bounds, themselves bounded by the capacity */
    unsigned count = q->count;
    if (count > (unsigned)q->mask + 1)
        count = (unsigned)q->mask + 1;
    for (unsigned i = 0; i < count; i++)
        oa_pending_crash_copy(oa_pending_fifo_at(q, i), q->size, ops, w);
}

void oa_pending_fifo_finish_all(struct oa_pending_fifo *q, const struct oa_pending_ops *ops, const char *error,
                                void *owner)
{
    while (q->count > 0) {
        struct oa_pending *e = oa_pending_fifo_front(q);
        e->error = error;
        oa_pending_finish(e, ops, owner);
        oa_pending_fifo_pop(q);
    }
}

void oa_pending_fifo_drop_all(struct oa_pending_fifo *q, const struct oa_pending_ops *ops)
{
    while (q->count > 0) {
        oa_pending_drop(oa_pending_fifo_front(q), ops);
        oa_pending_fifo_pop(q);
    }
}

void oa_pending_fifo_disown_all(struct oa_pending_fifo *q, const struct oa_pending_ops *ops)
{
    for (unsigned i = 0; i < q->count; i++)
        oa_pending_disown(oa_pending_fifo_at(q, i), ops);
}

/* ---- by stream id ---- */

static inline struct oa_pending *slot(const struct oa_pending_table *t, unsigned i)
{
    return (struct oa_pending *)(t->slots + (size_t)i * t->size);
}

/* Fibonacci hashing, top bits: HTTP/2's ids of one side are all odd or all
 * even and consecutive, which the low bits of a plain mask would crowd. */
static inline unsigned home(const struct oa_pending_table *t, uint32_t id)
{
    return (unsigned)((uint32_t)(id * 2654435769u) >> t->shift) & t->mask;
}

void oa_pending_table_init(struct oa_pending_table *t, void *slots, size_t size, unsigned cap)
{
    unsigned bits = 0;
    while ((1u << bits) < cap)
        bits++;
    t->slots = slots;
    t->size = (uint32_t)size;
    t->mask = (uint16_t)(cap - 1);
    t->shift = (uint8_t)(32 - bits);
    t->count = 0;
    t->max = (uint16_t)(cap - cap / 4);
    for (unsigned i = 0; i < cap; i++)
        slot(t, i)->used = false;
}

struct oa_pending *oa_pending_table_push(struct oa_pending_table *t, uint32_t id, uint64_t start)
{
    if (t->count >= t->max)
        return NULL;
    /* a free slot is met before the probe wraps: a quarter are free */
    for (unsigned i = home(t, id);; i = (i + 1) & t->mask) {
        struct oa_pending *e = slot(t, i);
        if (!e->used) {
            oa_pending_clear(e, start);
            e->id = id;
            e->used = true;
            t->count++;
            return e;
        }
        if (e->id == id)
            return NULL;
    }
}

struct oa_pending *oa_pending_table_find(const struct oa_pending_table *t, uint32_t id)
{
    for (unsigned i = home(t, id);; i = (i + 1) & t->mask) {
        struct oa_pending *e = slot(t, i);
        if (!e->used)
            return NULL;
        if (e->id == id)
            return e;
    }
}

/* Backward-shift deletion: each later entry of the probe run whose home
 * does not lie between the hole and itself moves into the hole, so that
 * every entry stays reachable from its home without tombstones. */
void oa_pending_table_remove(struct oa_pending_table *t, struct oa_pending *e)
{
    unsigned hole = (unsigned)(((unsigned char *)e - t->slots) / t->size);
    for (unsigned j = (hole + 1) & t->mask;; j = (j + 1) & t->mask) {
        struct oa_pending *next = slot(t, j);
        if (!next->used)
            break;
        unsigned h = home(t, next->id);
        if (((j - h) & t->mask) >= ((j - hole) & t->mask)) {
            memcpy(slot(t, hole), next, t->size);
            hole = j;
        }
    }
    slot(t, hole)->used = false;
    t->count--;
}

void oa_pending_table_finish_all(struct oa_pending_table *t, const struct oa_pending_ops *ops, const char *error,
                                 void *owner)
{
    for (unsigned i = 0; i <= t->mask; i++) {
        struct oa_pending *e = slot(t, i);
        if (e->used) {
            e->error = error;
            oa_pending_finish(e, ops, owner);
            e->used = false;
        }
    }
    t->count = 0;
}

void oa_pending_table_drop_all(struct oa_pending_table *t, const struct oa_pending_ops *ops)
{
    for (unsigned i = 0; i <= t->mask; i++) {
        struct oa_pending *e = slot(t, i);
        if (e->used) {
            oa_pending_drop(e, ops);
            e->used = false;
        }
    }
    t->count = 0;
}

void oa_pending_table_disown_all(struct oa_pending_table *t, const struct oa_pending_ops *ops)
{
    for (unsigned i = 0; i <= t->mask; i++)
        if (slot(t, i)->used)
            oa_pending_disown(slot(t, i), ops);
}

