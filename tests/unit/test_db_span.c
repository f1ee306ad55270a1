/* Database spans recorded raw on the program's thread and built on the
 * exporter's (src/protocols/db/db_raw_span.c) carry exactly what the span
 * built at once carries (db_span.c): same name, ids, times, tracestate,
 * status, and the same attributes in the same order; facts too long for a
 * raw block are left to the program's thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config/config.h"
#include "protocols/common/conn_peer.h"
#include "protocols/db/db_command_text.h"
#include "protocols/db/db_raw_span.h"
#include "oa_test.h"
#include "span_difference.h"

/* r on c with outcome o, built at once (as db_operation.c does when the
 * facts do not fit) and recorded raw then materialized; crash the raw one
 * built as the crash capture builds it. */
static struct pair both_ways(const struct oa_db_request *r, struct oa_conn *c, const char *tracestate,
                             const struct oa_db_outcome *o)
{
    struct pair out = {0};
    out.direct = oa_span_new();
    give_ids(out.direct);
    out.direct->kind = OA_SPAN_KIND_CLIENT;
    if (tracestate != NULL && tracestate[0] != '\0')
        out.direct->trace_state = oa_span_store(out.direct, tracestate, strlen(tracestate));
    const char *address;
    size_t address_len;
    int port = oa_conn_peer_text_or_path(c, &address, &address_len);
    CHECK(address_len == strlen(address), "the peer's text comes with its length");
    oa_db_span_describe(out.direct, r, address, oa_peer_known(port) ? strlen(address) : 0, port);
    oa_db_span_end(out.direct, o, END);

    struct oa_span *raw = oa_db_raw_span_new(c, r, tracestate);
    if (raw == NULL)
        return out;
    CHECK(oa_span_is_raw(raw) && raw->n_attrs == 0 && raw->name == NULL, "the program's thread records a raw span");
    give_ids(raw);
    oa_db_raw_span_end(raw, o, END);
    out.crash = malloc(sizeof(struct oa_span));
    if (!raw->raw.ops->build_into(out.crash, raw)) {
        free(out.crash);
        out.crash = NULL;
    }
    out.built = oa_span_materialize(raw);
    return out;
}

static void check_pair(struct pair sp, const char *what)
{
    const char *diff = sp.direct && sp.built ? difference(sp.direct, sp.built) : "missing";
    CHECK(sp.built != NULL && !oa_span_is_raw(sp.built) && diff == NULL, "%s: the exporter builds the same span", what);
    if (diff != NULL)
        printf("# first difference: %s\n", diff);
    diff = sp.direct && sp.crash ? difference(sp.direct, sp.crash) : "missing";
    CHECK(diff == NULL, "%s: the crash capture builds the same span", what);
    if (diff != NULL)
        printf("# first difference: %s\n", diff);
    oa_span_free(sp.direct);
    oa_span_free(sp.built);
    free(sp.crash);
}

static bool attr_is(const struct oa_span *s, const char *key, const char *want)
{
    const struct oa_attr *a = oa_span_find_attr(s, key);
    return a != NULL && a->type == OA_VALUE_STRING && a->v.str.len == strlen(want) &&
           memcmp(a->v.str.ptr, want, a->v.str.len) == 0;
}

static size_t len_of(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

#define REQ(sys, ns, op, coll, q)                                                                                     \
    ((struct oa_db_request){.system = (sys), .namespace_ = (ns), .namespace_len = len_of(ns), .operation = (op),   \
                            .operation_len = len_of(op), .collection = (coll), .collection_len = len_of(coll),      \
                            .query_text = (q), .query_text_len = len_of(q)})

int main(void)
{
    oa_config.db_query_text = true;
    struct oa_conn c;
    peer_v4(&c, "10.0.0.7", 5432);
    struct oa_db_outcome ok = {0};

    struct oa_db_request r = REQ(OA_DB_POSTGRESQL, "shop", "SELECT", "pgbench_accounts",
                                 "SELECT abalance FROM pgbench_accounts WHERE aid = $1");
    struct pair sp = both_ways(&r, &c, "vendor=a", &ok);
    CHECK(sp.built != NULL && strcmp(sp.built->name, "SELECT pgbench_accounts") == 0 &&
              attr_is(sp.built, "db.query.text", "SELECT abalance FROM pgbench_accounts WHERE aid = $1") &&
              attr_is(sp.built, "server.address", "10.0.0.7") && attr_is(sp.built, "db.namespace", "shop") &&
              sp.built->status_code != OA_STATUS_ERROR,
          "a query: name, text, peer and namespace");
    check_pair(sp, "a query with tracestate");

    struct oa_db_outcome failed = {.status = "42P01", .status_len = 5, .status_is_error = true};
    sp = both_ways(&r, &c, NULL, &failed);
    CHECK(sp.built != NULL && sp.built->status_code == OA_STATUS_ERROR && attr_is(sp.built, "error.type", "42P01") &&
              attr_is(sp.built, "db.response.status_code", "42P01"),
          "an error reply: its SQLSTATE is the status code and error.type");
    check_pair(sp, "an error reply");

    struct oa_db_outcome lost = {.error = "_OTHER"};
    r = REQ(OA_DB_REDIS, NULL, "GET", NULL, NULL);
    sp = both_ways(&r, &c, "", &lost);
    CHECK(sp.built != NULL && strcmp(sp.built->name, "GET") == 0 && attr_is(sp.built, "error.type", "_OTHER"),
          "no reply: error.type without a status code");
    check_pair(sp, "no reply");

    struct oa_conn unknown;
    memset(&unknown, 0, sizeof unknown);
    r = REQ(OA_DB_MYSQL, NULL, NULL, NULL, NULL);
    sp = both_ways(&r, &unknown, NULL, &ok);
    CHECK(sp.built != NULL && strcmp(sp.built->name, "mysql") == 0 &&
              oa_span_find_attr(sp.built, "server.address") == NULL,
          "nothing known: named after the system, no peer");
    check_pair(sp, "nothing known");

    oa_config.db_query_text = false;
    r = REQ(OA_DB_MARIADB, "app", "INSERT", "t", "INSERT INTO t VALUES (?)");
    sp = both_ways(&r, &c, NULL, &ok);
    CHECK(sp.built != NULL && oa_span_find_attr(sp.built, "db.query.text") == NULL,
          "OTELAUTO_DB_QUERY_TEXT=false: no text, raw or not");
    check_pair(sp, "query text off");
    oa_config.db_query_text = true;

    /* the statement as sent: the raw record holds it, the span never */
    r = REQ(OA_DB_POSTGRESQL, "shop", "SELECT", "items",
            "SELECT name FROM items WHERE secret = 'hunter2' /* note */ AND n = 42");
    r.query_unsanitized = true;
    r.query_dialect = OA_SQL_POSTGRES;
    struct oa_span *unsanitized = oa_db_raw_span_new(&c, &r, NULL);
    CHECK(unsanitized != NULL &&
              memmem(unsanitized->raw.bytes, unsanitized->raw.trace_state_len + 1u + unsanitized->raw.head_len,
                     "hunter2", 7) != NULL,
          "unsanitized text: the program's thread records it as sent (no sanitizing there)");
    oa_span_free(unsanitized);
    sp = both_ways(&r, &c, NULL, &ok);
    CHECK(sp.built != NULL && attr_is(sp.built, "db.query.text", "SELECT name FROM items WHERE secret = ? AND n = ?") &&
              sp.crash != NULL && attr_is(sp.crash, "db.query.text", "SELECT name FROM items WHERE secret = ? AND n = ?"),
          "unsanitized text: sanitized by the exporter and by the crash capture");
    check_pair(sp, "unsanitized text");
    r = REQ(OA_DB_MYSQL, NULL, "ALTER", NULL, "ALTER USER 'u' IDENTIFIED BY 'pw-secret'");
    r.query_unsanitized = true;
    r.query_dialect = OA_SQL_MYSQL;
    sp = both_ways(&r, &c, NULL, &ok);
    CHECK(sp.built != NULL && oa_span_find_attr(sp.built, "db.query.text") == NULL,
          "unsanitized secret text: no db.query.text at all");
    check_pair(sp, "unsanitized secret text");

    /* a command's text written where the span is built from the facts
     * recorded: the raw record holds the facts (here a key and a count of
     * arguments), the span the text */
    r = REQ(OA_DB_REDIS, "0", "HSET", NULL, "user:7");
    r.query_is_command = true;
    r.query_arg = 3;
    struct oa_span *facts = oa_db_raw_span_new(&c, &r, NULL);
    CHECK(facts != NULL &&
              memmem(facts->raw.bytes, facts->raw.trace_state_len + 1u + facts->raw.head_len, "user:7", 6) != NULL &&
              memmem(facts->raw.bytes, facts->raw.trace_state_len + 1u + facts->raw.head_len, "HSET user:7", 11) ==
                  NULL,
          "a built text: the program's thread records its facts, not the text");
    oa_span_free(facts);
    sp = both_ways(&r, &c, NULL, &ok);
    CHECK(sp.built != NULL && attr_is(sp.built, "db.query.text", "HSET user:7 ? ?") && sp.crash != NULL &&
              attr_is(sp.crash, "db.query.text", "HSET user:7 ? ?") && sp.direct != NULL &&
              attr_is(sp.direct, "db.query.text", "HSET user:7 ? ?"),
          "a built text: written by the exporter, by the crash capture and at once alike");
    check_pair(sp, "a built text");
    oa_config.db_query_text = false;
    sp = both_ways(&r, &c, NULL, &ok);
    CHECK(sp.built != NULL && oa_span_find_attr(sp.built, "db.query.text") == NULL,
          "a built text with OTELAUTO_DB_QUERY_TEXT=false: none");
    check_pair(sp, "a built text, query text off");
    oa_config.db_query_text = true;
    r.query_is_command = false;

    /* the command text's own rules: a key shown only when one word of
     * printable ASCII, at most OA_DB_COMMAND_TEXT_ARGS_MAX `?`, a room
     * too small gives none */
    {
        char t[128];
        size_t n = oa_db_command_text("MSET", 4, "k1", 2, 20, t, sizeof t);
        CHECK(n == strlen(t) &&
                  strcmp(t, "MSET k1 ? ? ? ? ? ? ? ? ? ? ? ? ? ? ? ? ...") == 0,
              "command text: the key, sixteen ? and ...");
        n = oa_db_command_text("SET", 3, "a b", 3, 2, t, sizeof t);
        CHECK(n == 7 && strcmp(t, "SET ? ?") == 0, "command text: a key with a space is a ?");
        n = oa_db_command_text("SET", 3, "caf\xc3\xa9", 5, 1, t, sizeof t);
        CHECK(n == 5 && strcmp(t, "SET ?") == 0, "command text: a key beyond ASCII is a ?");
        n = oa_db_command_text("PING", 4, NULL, 0, 0, t, sizeof t);
        CHECK(n == 4 && strcmp(t, "PING") == 0, "command text: no argument");
        n = oa_db_command_text("GET", 3, "k", 1, 1, t, 3 + 1 + OA_DB_COMMAND_TEXT_EXTRA - 1);
        CHECK(n == 0 && t[0] == '\0', "command text: a room one byte short gives none");
        n = oa_db_command_text("GET", 3, "k", 1, 1, t, 3 + 1 + OA_DB_COMMAND_TEXT_EXTRA);
        CHECK(n == 5 && strcmp(t, "GET k") == 0, "command text: the exact room suffices");
        n = oa_db_command_text("", 0, "k", 1, 1, t, sizeof t);
        CHECK(n == 0 && t[0] == '\0', "command text: no name, no text");
    }

    /* a Unix socket: its path, network.transport, no server.* */
    struct oa_conn u;
    memset(&u, 0, sizeof u);
    struct sockaddr_un *un = (struct sockaddr_un *)&u.peer;
    un->sun_family = AF_UNIX;
    strcpy(un->sun_path, "/run/postgresql/.s.PGSQL.5432");
    u.peer_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un->sun_path) + 1);
    r = REQ(OA_DB_POSTGRESQL, "shop", "SELECT", NULL, "SELECT ?");
    sp = both_ways(&r, &u, NULL, &ok);
    CHECK(sp.built != NULL && attr_is(sp.built, "network.transport", "unix") &&
              attr_is(sp.built, "network.peer.address", "/run/postgresql/.s.PGSQL.5432") &&
              oa_span_find_attr(sp.built, "server.address") == NULL &&
              oa_span_find_attr(sp.built, "server.port") == NULL &&
              oa_span_find_attr(sp.built, "network.peer.port") == NULL,
          "a Unix socket: network.transport unix, its path; no server.address nor port");
    check_pair(sp, "a Unix socket");
    memset(&u, 0, sizeof u);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, "\0redis\n", 7);
    u.peer_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 7);
    r = REQ(OA_DB_REDIS, "0", "GET", NULL, NULL);
    sp = both_ways(&r, &u, NULL, &ok);
    CHECK(sp.built != NULL && attr_is(sp.built, "network.peer.address", "@redis?"),
          "an abstract Unix socket: @name, unprintable bytes as ?");
    check_pair(sp, "an abstract Unix socket");

    /* a text that fills most of a full span's arena: built on the program's
     * thread (no raw block holds it) */
    static char long_text[OA_SPAN_RAW_BYTES + 10];
    memset(long_text, 'x', sizeof long_text - 1);
    r = REQ(OA_DB_POSTGRESQL, NULL, "SELECT", NULL, long_text);
    CHECK(oa_db_raw_span_new(&c, &r, NULL) == NULL, "facts over a raw block: left to the program's thread");
    /* one that fits the large raw block but not a compact span's arena */
    long_text[OA_SPAN_RAW_BYTES - 200] = '\0';
    r = REQ(OA_DB_POSTGRESQL, NULL, "SELECT", NULL, long_text);
    check_pair(both_ways(&r, &c, NULL, &ok), "a long text (built in a full block, then compacted)");
    TEST_DONE();
}
