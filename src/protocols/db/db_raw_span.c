/* Raw database spans: recorded on the program's thread, built on the
 * exporter thread (db_raw_span.h). */
#include <string.h>

#include "base/short_copy.h"
#include "config/config.h"
#include "protocols/common/conn_peer.h"
#include "protocols/db/db_raw_span.h"

/* The fixed part of the facts, copied in and out with memcpy (raw.bytes
 * has no alignment after the tracestate). The strings follow in this
 * order: address, namespace, operation, collection, query text. */
struct db_facts {
    uint8_t system;       /* enum oa_db_system */
    bool status_is_error;
    uint8_t status_len;
    char status[OA_DB_STATUS_MAX];
    int32_t port;         /* -1: peer unknown */
    uint16_t address_len, namespace_len, operation_len, collection_len, query_len;
    bool query_unsanitized; /* the query is the statement as sent: see materialize */
    uint8_t query_dialect;
    bool query_is_command; /* the query is a command's key: see oa_db_request */
    uint32_t query_arg;
};

static struct oa_span *materialize(struct oa_span *s);
static bool build_into(struct oa_span *dst, const struct oa_span *s);

static const struct oa_span_raw_ops db_raw_ops = {
    .materialize = materialize,
    .build_into = build_into,
};

static char *facts_at(struct oa_span *s)
{
    return s->raw.bytes + s->raw.trace_state_len + 1;
}

static size_t len_or_0(const char *p, size_t len)
{
    return p != NULL ? len : 0;
}

struct oa_span *oa_db_raw_span_new(struct oa_conn *c, const struct oa_db_request *r, const char *tracestate)
{
    const char *address;
    size_t address_len;
    int port = oa_conn_peer_text_or_path(c, &address, &address_len); /* formatted once per connection */
    struct db_facts f = {
        .system = (uint8_t)r->system,
        .port = port,
        .address_len = (uint16_t)(oa_peer_known(port) ? address_len : 0),
    };
    size_t ns = len_or_0(r->namespace_, r->namespace_len);
    size_t op = len_or_0(r->operation, r->operation_len);
    size_t coll = len_or_0(r->collection, r->collection_len);
    size_t query = oa_config.db_query_text ? len_or_0(r->query_text, r->query_text_len) : 0;
    size_t ts_len = oa_strlen_or_0(tracestate);
    size_t strings = f.address_len + ns + op + coll + query;
    size_t head = sizeof f + strings;
    if (ts_len + 1 + head > OA_SPAN_RAW_BYTES)
        return NULL;
    struct oa_span *s = oa_span_new_raw(ts_len + 1 + head);
    if (s == NULL)
        return NULL;
    f.namespace_len = (uint16_t)ns;
    f.operation_len = (uint16_t)op;
    f.collection_len = (uint16_t)coll;
    f.query_len = (uint16_t)query;
    f.query_unsanitized = query > 0 && r->query_unsanitized;
    f.query_dialect = r->query_dialect;
    f.query_arg = r->query_arg;
    f.query_is_command = r->query_is_command;
    struct oa_span_raw *raw = &s->raw;
    s->kind = OA_SPAN_KIND_CLIENT;
    raw->ops = &db_raw_ops;
    raw->error = NULL;
    /* the strings are short (an address, a name, a command): copied
     * without calls */
    char *p = oa_span_raw_put_head(s, tracestate, ts_len, head);
    memcpy(p, &f, sizeof f);
    p += sizeof f;
    oa_record_put(&p, address, f.address_len);
    oa_record_put(&p, r->namespace_, ns);
    oa_record_put(&p, r->operation, op);
    oa_record_put(&p, r->collection, coll);
    oa_record_put(&p, r->query_text, query);
    return s;
}

void oa_db_raw_span_end(struct oa_span *s, const struct oa_db_outcome *o, uint64_t end)
{
    char *p = facts_at(s);
    size_t len = o->status_len <= OA_DB_STATUS_MAX ? o->status_len : OA_DB_STATUS_MAX;
    uint8_t len8 = (uint8_t)len;
    memcpy(p + offsetof(struct db_facts, status_is_error), &o->status_is_error, sizeof(bool));
    memcpy(p + offsetof(struct db_facts, status_len), &len8, 1);
    if (len > 0)
        oa_short_copy(p + offsetof(struct db_facts, status), o->status, len);
    s->raw.error = o->error;
    s->end_unix_nano = end;
}

/* ---- the exporter's side ---- */

/* m's name and attributes from the raw span s, in the order the program's
 * thread fills a span it builds: tracestate, attributes, then the end.
 * false when s's facts are not whole (never, for a span made above). */
static bool build(struct oa_span *m, const struct oa_span *s, void *unused)
{
    (void)unused;
    const struct oa_span_raw *raw = &s->raw;
    struct db_facts f;
    const char *p = oa_span_raw_head(s, sizeof f);
    if (p == NULL)
        return false;
    memcpy(&f, p, sizeof f);
    size_t strings = (size_t)f.address_len + f.namespace_len + f.operation_len + f.collection_len + f.query_len;
    if (sizeof f + strings != raw->head_len || f.status_len > OA_DB_STATUS_MAX || f.system >= OA_DB_SYSTEMS)
        return false;
    p += sizeof f;
    const char *address = oa_record_take(&p, f.address_len);
    struct oa_db_request r = {.system = (enum oa_db_system)f.system};
    r.namespace_len = f.namespace_len;
    r.namespace_ = oa_record_take(&p, f.namespace_len);
    r.operation_len = f.operation_len;
    r.operation = oa_record_take(&p, f.operation_len);
    r.collection_len = f.collection_len;
    r.collection = oa_record_take(&p, f.collection_len);
    r.query_text_len = f.query_len;
    r.query_text = oa_record_take(&p, f.query_len);
    r.query_unsanitized = f.query_unsanitized;
    r.query_dialect = f.query_dialect;
    r.query_arg = f.query_arg;
    r.query_is_command = f.query_is_command;

    /* ids, flags, parent, kind, times and tracestate */
    oa_span_take_raw_context(m, s);
    oa_db_span_describe(m, &r, address, f.address_len, f.port);
    struct oa_db_outcome o = {
        .status = f.status,
        .status_len = f.status_len,
        .status_is_error = f.status_is_error,
        .error = raw->error,
    };
    oa_db_span_end(m, &o, s->end_unix_nano);
    return true;
}

/* A statement recorded as sent is sanitized where it lies, before the span
 * is built from it (the build may run twice: compact, then full): from
 * here on the block holds the masked text only, the rest of the statement
 * wiped. The sanitized text is never longer than the statement (a literal
 * becomes `?`, a comment or a run of spaces at most one space); were it
 * so, no text would be kept. */
static void sanitize_in_place(struct oa_span *s)
{
    struct oa_span_raw *raw = &s->raw;
    struct db_facts f;
    if (raw->trace_state_len + 1u + sizeof f > OA_SPAN_RAW_BYTES || raw->head_len < sizeof f)
        return;
    char *p = facts_at(s);
    memcpy(&f, p, sizeof f);
    size_t strings = (size_t)f.address_len + f.namespace_len + f.operation_len + f.collection_len + f.query_len;
    if (!f.query_unsanitized || sizeof f + strings != raw->head_len)
        return; /* nothing to do, or a record build refuses */
    char *query = p + sizeof f + strings - f.query_len;
    char text[OA_SPAN_MAX_VALUE_LEN];
    size_t n = oa_config.db_query_text ? oa_sql_sanitize(query, f.query_len, f.query_dialect, text, sizeof text) : 0;
    if (n > f.query_len)
        n = 0;
    memcpy(query, text, n);
    memset(query + n, 0, f.query_len - n);
    raw->head_len = (uint16_t)(raw->head_len - (f.query_len - n));
    f.query_len = (uint16_t)n;
    f.query_unsanitized = false;
    memcpy(p, &f, sizeof f);
}

static struct oa_span *materialize(struct oa_span *s)
{
    sanitize_in_place(s);
    return oa_span_build_from_raw(s, build, NULL);
}

/* The crash capture's side: nothing shared with the exporter is used. */
static bool build_into(struct oa_span *dst, const struct oa_span *s)
{
    oa_span_clear_full(dst);
    return build(dst, s, NULL);
}
