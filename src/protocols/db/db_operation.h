/* One database client operation in flight, shared by the database protocols
 * (PostgreSQL, Redis, MySQL): its CLIENT span under the thread's active span
 * (the parent rule of an HTTP client request), the attributes of the stable
 * database conventions, and its db.client.operation.duration.
 *
 * A protocol keeps its operations in a struct oa_pending_fifo of entries
 * that begin with struct oa_db_op (followed by whatever the protocol needs),
 * begins each with oa_db_op_begin when the request goes out, sets its
 * outcome with oa_db_op_fail / oa_db_op_status as replies arrive, and ends
 * it with oa_db_op_finish (or the FIFO's finish_all / drop_all with
 * oa_db_op_pending_ops).
 *
 * The span is recorded raw (db_raw_span.h) and built on the exporter
 * thread; its name and attributes are db_span.h's. */
#ifndef OA_DB_OPERATION_H
#define OA_DB_OPERATION_H

#include "protocols/common/pending.h"
#include "protocols/db/db_metrics.h"
#include "trace/traceparent.h"
#include "protocols/db/db_span.h"
#include "wire/fd_table.h"

struct oa_db_op {
    struct oa_pending p;            /* first: span, start, error (a static error.type) */
    /* its series' attributes but for the outcome; not set up when begun on
     * a memo's series (memo_series): memo->key is the operation's then */
    struct oa_db_metric_key metric;
    struct oa_db_metric_memo *memo; /* the request's, or NULL */
    struct oa_series *memo_series;  /* memo's success series when begun, or NULL */
    uint32_t memo_epoch;            /* memo's epoch when begun */
    bool metric_recording;
    bool status_is_error;           /* an error reply: the status code is error.type */
    uint8_t status_len;
    char status[OA_DB_STATUS_MAX + 1]; /* db.response.status_code */
};

/* Begins op (an entry the protocol's FIFO just gave, its common fields
 * cleared) at start (unix ns) on connection c: its metric, and its span
 * when sampled, under the span active on this thread. */
void oa_db_op_begin(struct oa_db_op *op, struct oa_conn *c, const struct oa_db_request *r, uint64_t start);
/* The same, and the operation's span context into *own (made whether it is
 * sampled or not: the context a protocol carries to the server). */
void oa_db_op_begin_context(struct oa_db_op *op, struct oa_conn *c, const struct oa_db_request *r, uint64_t start,
                            struct oa_span_context *own);

/* The operation got an error reply with this status code (SQLSTATE, Redis
 * error prefix): db.response.status_code and error.type. */
void oa_db_op_fail(struct oa_db_op *op, const char *status, size_t len);
/* The operation failed without a status code: error.type (static). */
void oa_db_op_fail_type(struct oa_db_op *op, const char *error_type);

/* Ends op at end (unix ns): its metric, its span (exported). op stays in its
 * FIFO: pop it. */
void oa_db_op_finish_at(struct oa_db_op *op, uint64_t end);

/* For oa_pending_fifo_finish_all / drop_all / disown_all over entries that
 * begin with struct oa_db_op (owner unused). */
extern const struct oa_pending_ops oa_db_op_pending_ops;

struct oa_crash_walk; /* wire/protocol.h */
/* A protocol's crash callback (struct oa_protocol's `crash`): every
 * operation pending in q, whose entries begin with struct oa_db_op, as a
 * finished copy of its span failed with the crash's error.type. slots,
 * size and cap are the protocol's own array of entries: a state recycled
 * or half opened whose FIFO is not yet over them is skipped. */
void oa_db_op_crash_walk(const struct oa_pending_fifo *q, const void *slots, size_t size, unsigned cap,
                         const struct oa_crash_walk *w);

#endif
