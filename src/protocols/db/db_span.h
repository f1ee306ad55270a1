/* A database CLIENT span's name and attributes (stable database
 * conventions), written where the span is built: on the exporter thread
 * from a raw span (db_raw_span.h), or on the program's thread for an
 * operation whose facts do not fit a raw block.
 *
 * Span name: "{db.operation.name} {db.collection.name}" when both are known,
 * else the operation, else db.system.name. Status Error when the operation
 * failed (an error reply, or no reply). */
#ifndef OA_DB_SPAN_H
#define OA_DB_SPAN_H

#include "protocols/db/db_metrics.h"
#include "trace/span.h"

/* What a protocol knows of an operation when it is sent. Strings need not
 * be terminated; any may be NULL (unknown). */
struct oa_db_request {
    enum oa_db_system system;
    const char *namespace_;    /* db.namespace (PostgreSQL: the database) */
    size_t namespace_len;
    const char *operation;     /* db.operation.name */
    size_t operation_len;
    const char *collection;    /* db.collection.name */
    size_t collection_len;
    /* db.query.text, already sanitized; left out when OTELAUTO_DB_QUERY_TEXT
     * is false (a protocol may skip sanitizing then) */
    const char *query_text;
    size_t query_text_len;
    /* query_text is the statement as the program sent it, to be sanitized
     * (oa_sql_sanitize in query_dialect) where the span is built: on the
     * exporter thread for a raw span, which holds it until then and no
     * longer (db_raw_span.h). Never exported as it is; a protocol passes
     * it only for a statement its summary did not find secret. */
    bool query_unsanitized;
    uint8_t query_dialect;
    /* Or db.query.text is a command's text (a protocol without statement
     * text: Redis), written where the span is built (on the exporter
     * thread for a raw span) from what the program's thread records: the
     * operation (the command's name), query_text (its key when it may be
     * shown, or none) and query_arg (its count of arguments). See
     * db_command_text.h. */
    bool query_is_command;
    uint32_t query_arg;
    /* the connection's memo for the operations of this request's metric
     * key (db_metrics.h), or NULL */
    struct oa_db_metric_memo *metric_memo;
};

/* s's name and request attributes; the peer's address as text (port -1:
 * unknown, no address attributes; OA_PEER_UNIX: a Unix socket's path,
 * network.transport "unix" and network.peer.address, no server.*). */
void oa_db_span_describe(struct oa_span *s, const struct oa_db_request *r, const char *address, size_t address_len,
                         int port);

/* How the operation ended: db.response.status_code (status_len > 0), and
 * error.type with status Error when status_is_error (the status is the
 * type) or error (a static error.type) is set. */
struct oa_db_outcome {
    const char *status;
    size_t status_len;
    bool status_is_error;
    const char *error;
};

/* s's outcome attributes and end time. */
void oa_db_span_end(struct oa_span *s, const struct oa_db_outcome *o, uint64_t end);

#endif
