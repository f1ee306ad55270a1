/* Database client operations: spans and metrics (db_operation.h). */
#include <string.h>

#include "protocols/common/conn_peer.h"
#include "protocols/db/db_operation.h"
#include "protocols/db/db_raw_span.h"
#include "trace/span.h"
#include "trace/span_start.h"
#include "trace/thread_context.h"

/* The span built at once, on the program's thread: for an operation whose
 * facts do not fit a raw block. */
static struct oa_span *begin_full(struct oa_conn *c, const struct oa_db_request *r, const struct oa_span_context *own,
                                  const struct oa_span_context *parent, uint64_t start, const char *tracestate)
{
    struct oa_span *s = oa_span_begin(OA_SPAN_KIND_CLIENT, own, parent, start, tracestate);
    if (s == NULL)
        return NULL;
    const char *address;
    size_t address_len;
    int port = oa_conn_peer_text_or_path(c, &address, &address_len);
    oa_db_span_describe(s, r, address, oa_peer_known(port) ? address_len : 0, port);
    return s;
}

void oa_db_op_begin(struct oa_db_op *op, struct oa_conn *c, const struct oa_db_request *r, uint64_t start)
{
    struct oa_span_context own;
    oa_db_op_begin_context(op, c, r, start, &own);
}

void oa_db_op_begin_context(struct oa_db_op *op, struct oa_conn *c, const struct oa_db_request *r, uint64_t start,
                            struct oa_span_context *own)
{
    op->status_is_error = false;
    op->status_len = 0;
    op->status[0] = '\0';
    op->metric_recording = oa_metrics_enabled();
    struct oa_db_metric_memo *m = r->metric_memo;
    op->memo = m;
    op->memo_epoch = m != NULL ? m->epoch : 0;
    /* a pipeline or loop of one command: its key is the memo's, its
     * success series found; no key is set up (memo->key, should it fail) */
    op->memo_series = m != NULL ? m->success : NULL;
    if (op->metric_recording && op->memo_series == NULL)
        oa_db_metric_key_init(&op->metric, r->system, r->operation, r->operation != NULL ? r->operation_len : 0,
                              r->collection, r->collection != NULL ? r->collection_len : 0);

    struct oa_span_context parent_sc;
    const struct oa_span_context *parent = NULL;
    const char *tracestate = NULL;
    const char *baggage = NULL;
    if (oa_thread_context_parent(&parent_sc, &tracestate, &baggage))
        parent = &parent_sc;
    if (!oa_span_context_start(own, parent))
        return;
    struct oa_span *s = oa_db_raw_span_new(c, r, tracestate);
    if (s != NULL)
        oa_span_set_context(s, own, parent, start);
    else
        s = begin_full(c, r, own, parent, start, tracestate);
    op->p.span = s;
}

void oa_db_op_fail(struct oa_db_op *op, const char *status, size_t len)
{
    if (op->status_is_error)
        return; /* the first error is the operation's */
    if (len > OA_DB_STATUS_MAX)
        len = OA_DB_STATUS_MAX;
    memcpy(op->status, status, len);
    op->status[len] = '\0';
    op->status_len = (uint8_t)len;
    op->status_is_error = len > 0;
    if (len == 0 && op->p.error == NULL)
        op->p.error = "_OTHER";
}

void oa_db_op_fail_type(struct oa_db_op *op, const char *error_type)
{
    if (!op->status_is_error && op->p.error == NULL)
        op->p.error = error_type;
}

static void end_span(struct oa_span *s, const struct oa_db_op *op, uint64_t end)
{
    struct oa_db_outcome o = {
        .status = op->status,
        .status_len = op->status_len,
        .status_is_error = op->status_is_error,
        .error = op->p.error,
    };
    if (oa_span_is_raw(s))
        oa_db_raw_span_end(s, &o, end);
    else
        oa_db_span_end(s, &o, end);
}

/* Inlined in the per-response finish (a call's saving and restoring cost
 * about as much as the memo's case). */
static inline __attribute__((always_inline)) void metric_finish(struct oa_db_op *op, uint64_t end)
{
    if (!op->metric_recording)
        return;
    op->metric_recording = false;
    bool success = op->status_len == 0 && !op->status_is_error && op->p.error == NULL;
    struct oa_db_metric_memo *m = op->memo;
    unsigned generation = oa_metrics_generation();
    if (op->memo_series != NULL) {
        /* begun on the memo: its series when it succeeded and the memo
         * still holds that series of this generation (a series of another
         * generation is no longer the key's), else the memo's key is the
         * operation's (db_metrics.h) */
        if (success && m->success == op->memo_series && m->generation == generation) {
            oa_db_metrics_record_series(op->memo_series, op->p.start, end);
            return;
        }
        op->metric = m->key;
    }
    oa_db_metric_key_outcome(&op->metric, op->status, op->status_len, op->status_is_error,
                             op->status_is_error ? NULL : op->p.error);
    struct oa_series *s = oa_metrics_series(&op->metric.head);
    oa_db_metrics_record_series(s, op->p.start, end);
    /* a success's key is the memo's when the memo still stands for it */
    if (success && m != NULL && m->epoch == op->memo_epoch) {
        m->success = s;
        m->generation = generation;
        m->key = op->metric;
    }
}

void oa_db_op_finish_at(struct oa_db_op *op, uint64_t end)
{
    metric_finish(op, end);
    if (op->p.span != NULL)
        end_span(op->p.span, op, end);
    oa_pending_finished(&op->p);
}

/* ---- the pending requests' operations ---- */

static void ops_end_span(struct oa_span *s, const struct oa_pending *e, uint64_t end)
{
    end_span(s, (const struct oa_db_op *)e, end);
}

static void ops_metric_finish(struct oa_pending *e, uint64_t end, void *owner)
{
    (void)owner;
    metric_finish((struct oa_db_op *)e, end);
}

static void ops_metric_forget(struct oa_pending *e)
{
    ((struct oa_db_op *)e)->metric_recording = false;
}

const struct oa_pending_ops oa_db_op_pending_ops = {
    .end_span = ops_end_span,
    .metric_finish = ops_metric_finish,
    .metric_abandon = ops_metric_forget,
    .metric_disown = ops_metric_forget,
};

/* ---- the crash capture (in a signal handler) ---- */

/* e is the crash copy of the entry's common part only
 * (oa_pending_crash_copy): the crash's error.type is the outcome, whatever
 * reply came before (the operation never completed). */
static void crash_end_span(struct oa_span *s, const struct oa_pending *e, uint64_t end)
{
    struct oa_db_outcome o = {.status = "", .error = e->error};
    if (oa_span_is_raw(s))
        oa_db_raw_span_end(s, &o, end);
    else
        oa_db_span_end(s, &o, end);
}

static const struct oa_pending_ops crash_ops = {
    .end_span = crash_end_span,
};

void oa_db_op_crash_walk(const struct oa_pending_fifo *q, const void *slots, size_t size, unsigned cap,
                         const struct oa_crash_walk *w)
{
    if (q->slots != (const unsigned char *)slots || q->size != size || q->mask != cap - 1)
        return;
    oa_pending_fifo_crash_copy_all(q, &crash_ops, w);
}
