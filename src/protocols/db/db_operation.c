/* Database client operations: spans and metrics (db_operation.h). */
#include <string.h>

#include "config/config.h"
#include "protocols/common/conn_peer.h"
#include "protocols/db/db_operation.h"
#include "trace/span.h"
#include "trace/span_start.h"
#include "trace/thread_context.h"

/* "{operation} {collection}", the operation, or the system. */
static void set_name(struct oa_span *s, const struct oa_db_request *r)
{
    if (r->operation_len > 0 && r->collection_len > 0) {
        char name[OA_SQL_OPERATION_MAX + 1 + OA_SQL_COLLECTION_MAX + 1];
        size_t op = r->operation_len <= OA_SQL_OPERATION_MAX ? r->operation_len : OA_SQL_OPERATION_MAX;
        size_t coll = r->collection_len <= OA_SQL_COLLECTION_MAX ? r->collection_len : OA_SQL_COLLECTION_MAX;
        memcpy(name, r->operation, op);
        name[op] = ' ';
        memcpy(name + op + 1, r->collection, coll);
        oa_span_set_name(s, name, op + 1 + coll);
    } else if (r->operation_len > 0) {
        oa_span_set_name(s, r->operation, r->operation_len);
    } else {
        const char *system = oa_db_system_name(r->system);
        oa_span_set_name(s, system, strlen(system));
    }
}

static void set_attributes(struct oa_span *s, struct oa_conn *c, const struct oa_db_request *r)
{
    const char *system = oa_db_system_name(r->system);
    oa_span_attr_str(s, "db.system.name", system, strlen(system));
    if (r->namespace_ != NULL && r->namespace_len > 0)
        oa_span_attr_str(s, "db.namespace", r->namespace_, r->namespace_len);
    if (r->operation != NULL && r->operation_len > 0)
        oa_span_attr_str(s, "db.operation.name", r->operation, r->operation_len);
    if (r->collection != NULL && r->collection_len > 0)
        oa_span_attr_str(s, "db.collection.name", r->collection, r->collection_len);
    if (r->query_text != NULL && r->query_text_len > 0 && oa_config.db_query_text)
        oa_span_attr_str(s, "db.query.text", r->query_text, r->query_text_len);
    const char *addr;
    int port = oa_conn_peer_text(c, &addr);
    if (port >= 0) {
        size_t len = strlen(addr);
        oa_span_attr_str(s, "server.address", addr, len);
        oa_span_attr_int(s, "server.port", port);
        oa_span_attr_str(s, "network.peer.address", addr, len);
        oa_span_attr_int(s, "network.peer.port", port);
    }
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
    if (op->metric_recording)
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
    struct oa_span *s = oa_span_begin(OA_SPAN_KIND_CLIENT, own, parent, start, tracestate);
    if (s == NULL)
        return;
    set_name(s, r);
    set_attributes(s, c, r);
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
    if (op->status_len > 0)
        oa_span_attr_str(s, "db.response.status_code", op->status, op->status_len);
    if (op->status_is_error) {
        s->status_code = OA_STATUS_ERROR;
        oa_span_attr_str(s, "error.type", op->status, op->status_len);
    } else if (op->p.error != NULL) {
        s->status_code = OA_STATUS_ERROR;
        oa_span_attr_str(s, "error.type", op->p.error, strlen(op->p.error));
    }
    s->end_unix_nano = end;
}

static void metric_finish(struct oa_db_op *op, uint64_t end)
{
    if (!op->metric_recording)
        return;
    op->metric_recording = false;
    oa_db_metric_key_outcome(&op->metric, op->status, op->status_len, op->status_is_error,
                             op->status_is_error ? NULL : op->p.error);
    oa_db_metrics_record(&op->metric, op->p.start, end);
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
