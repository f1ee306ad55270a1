/* Database CLIENT spans' name and attributes (db_span.h). */
#include <string.h>

#include "base/short_copy.h"
#include "config/config.h"
#include "protocols/common/conn_peer.h"
#include "protocols/db/db_command_text.h"
#include "protocols/db/db_span.h"

/* "{operation} {collection}", the operation, or the system. */
static void set_name(struct oa_span *s, const struct oa_db_request *r)
{
    if (r->operation_len > 0 && r->collection_len > 0) {
        char name[OA_SQL_OPERATION_MAX + 1 + OA_SQL_COLLECTION_MAX + 1];
        size_t op = r->operation_len <= OA_SQL_OPERATION_MAX ? r->operation_len : OA_SQL_OPERATION_MAX;
        size_t coll = r->collection_len <= OA_SQL_COLLECTION_MAX ? r->collection_len : OA_SQL_COLLECTION_MAX;
        oa_short_copy(name, r->operation, op);
        name[op] = ' ';
        oa_short_copy(name + op + 1, r->collection, coll);
        oa_span_set_name(s, name, op + 1 + coll);
    } else if (r->operation_len > 0) {
        oa_span_set_name(s, r->operation, r->operation_len);
    } else {
        size_t len;
        const char *system = oa_db_system_name_len(r->system, &len);
        oa_span_set_name(s, system, len);
    }
}

/* The setters' common case inlined (as HTTP's spans do): the exporter
 * thread sets these on every database span it builds, and a call cost
 * about as much as the setting. */
void oa_db_span_describe(struct oa_span *s, const struct oa_db_request *r, const char *address, size_t address_len,
                         int port)
{
    set_name(s, r);
    size_t system_len;
    const char *system = oa_db_system_name_len(r->system, &system_len);
    oa_span_attr_static_inline(s, "db.system.name", system, system_len);
    if (r->namespace_ != NULL && r->namespace_len > 0)
        oa_span_attr_str_inline(s, "db.namespace", r->namespace_, r->namespace_len);
    if (r->operation != NULL && r->operation_len > 0)
        oa_span_attr_str_inline(s, "db.operation.name", r->operation, r->operation_len);
    if (r->collection != NULL && r->collection_len > 0)
        oa_span_attr_str_inline(s, "db.collection.name", r->collection, r->collection_len);
    if (r->query_is_command && oa_config.db_query_text) {
        char text[OA_SPAN_MAX_VALUE_LEN];
        size_t n = oa_db_command_text(r->operation, r->operation_len, r->query_text, r->query_text_len,
                                      r->query_arg, text, sizeof text);
        if (n > 0)
            oa_span_attr_str_inline(s, "db.query.text", text, n);
    } else if (r->query_text != NULL && r->query_text_len > 0 && oa_config.db_query_text) {
        if (r->query_unsanitized) {
            char text[OA_SPAN_MAX_VALUE_LEN];
            size_t n = oa_sql_sanitize(r->query_text, r->query_text_len, r->query_dialect, text, sizeof text);
            if (n > 0)
                oa_span_attr_str(s, "db.query.text", text, n);
        } else {
            oa_span_attr_str_inline(s, "db.query.text", r->query_text, r->query_text_len);
        }
    }
    if (port == OA_PEER_UNIX) {
        /* no host, no port: the socket's path is the peer's address */
        oa_span_attr_static_inline(s, "network.transport", "unix", 4);
        if (address_len > 0)
            oa_span_attr_str(s, "network.peer.address", address, address_len);
    } else if (port >= 0) {
        oa_span_attr_str_inline(s, "server.address", address, address_len);
        oa_span_attr_int_inline(s, "server.port", port);
        oa_span_attr_str_inline(s, "network.peer.address", address, address_len);
        oa_span_attr_int_inline(s, "network.peer.port", port);
    }
}

void oa_db_span_end(struct oa_span *s, const struct oa_db_outcome *o, uint64_t end)
{
    if (o->status_len > 0)
        oa_span_attr_str(s, "db.response.status_code", o->status, o->status_len);
    if (o->status_is_error) {
        s->status_code = OA_STATUS_ERROR;
        oa_span_attr_str(s, "error.type", o->status, o->status_len);
    } else if (o->error != NULL) {
        s->status_code = OA_STATUS_ERROR;
        oa_span_attr_str(s, "error.type", o->error, strlen(o->error));
    }
    s->end_unix_nano = end;
}
