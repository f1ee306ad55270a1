/* A database operation begun on its connection's metric memo (a pipeline or
 * loop of one command) sets up no metric key: it records into the memo's
 * series, and when it fails, after the command changed and the memo was
 * forgotten, it still counts under its own name (the memo's key), in the
 * order a connection's operations end (src/protocols/db/db_operation.c). */
#include <string.h>

#include "config/config.h"
#include "metrics/metric_data.h"
#include "metrics/metrics_table.h"
#include "protocols/db/db_operation.h"
#include "oa_test.h"

#define MS 1000000ull

static struct oa_conn conn;
static struct oa_db_metric_memo memo;

/* An operation of Redis command `name` on the connection's memo, begun at
 * start with its key poisoned (a key set up overwrites the poison). */
static void begin(struct oa_db_op *op, const char *name, uint64_t start)
{
    memset(op, 0xA5, sizeof *op);
    oa_pending_clear(&op->p, start);
    struct oa_db_request r = {
        .system = OA_DB_REDIS,
        .operation = name,
        .operation_len = strlen(name),
        .collection = "",
        .metric_memo = &memo,
    };
    oa_db_op_begin(op, &conn, &r, start);
}

static bool key_untouched(const struct oa_db_op *op)
{
    const unsigned char *k = (const unsigned char *)&op->metric;
    for (size_t i = 0; i < sizeof op->metric; i++)
        if (k[i] != 0xA5)
            return false;
    return true;
}

/* The string attribute key of p, or NULL. */
static const char *attr(const struct oa_metric_point *p, const char *key)
{
    for (uint32_t a = 0; a < p->n_attrs; a++)
        if (strcmp(p->attrs[a].key, key) == 0)
            return p->attrs[a].v.str.ptr;
    return NULL;
}

static bool same(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The point of operation name with error.type error (NULL: none). */
static const struct oa_metric_point *point(const struct oa_metric *m, const char *name, const char *error)
{
    for (size_t i = 0; m != NULL && i < m->n_points; i++) {
        const struct oa_metric_point *p = &m->points[i];
        if (same(attr(p, "db.operation.name"), name) && same(attr(p, "error.type"), error))
            return p;
    }
    return NULL;
}

int main(void)
{
    oa_config.sampler = OA_SAMPLER_ALWAYS_OFF; /* the metric only */
    oa_db_metrics_register();
    CHECK(oa_metrics_enabled(), "metrics are on");
    memset(&conn, 0, sizeof conn);
    struct oa_db_op op[6];

    /* GET: looked up once, kept in the memo */
    begin(&op[0], "GET", 1 * MS);
    CHECK(!key_untouched(&op[0]), "no memo yet: the key is set up");
    oa_db_op_finish_at(&op[0], 2 * MS);
    CHECK(memo.success != NULL, "a success fills the memo");

    /* a pipeline: GET on the memo, then SET (the memo forgotten, as the
     * protocol does when the command changes), then the replies: GET's an
     * error, SET's a success */
    begin(&op[1], "GET", 3 * MS);
    CHECK(key_untouched(&op[1]), "on the memo's series: no key set up");
    oa_db_metric_memo_forget(&memo);
    begin(&op[2], "SET", 4 * MS);
    CHECK(!key_untouched(&op[2]), "the memo forgotten: the key is set up");
    oa_db_op_fail(&op[1], "ERR", 3);
    oa_db_op_finish_at(&op[1], 5 * MS);
    oa_db_op_finish_at(&op[2], 6 * MS);

    /* SET again, on the memo SET's success filled; then GET again, the
     * memo forgotten meanwhile, succeeding: its series was kept */
    begin(&op[3], "SET", 7 * MS);
    CHECK(key_untouched(&op[3]), "SET on the memo: no key set up");
    oa_db_metric_memo_forget(&memo);
    begin(&op[4], "GET", 8 * MS);
    oa_db_op_finish_at(&op[3], 9 * MS);
    oa_db_op_finish_at(&op[4], 10 * MS);

    /* no reply: error.type, the name kept */
    begin(&op[5], "GET", 11 * MS);
    CHECK(key_untouched(&op[5]), "GET on the memo GET's success filled again");
    oa_db_op_fail_type(&op[5], "connection_closed");
    oa_db_op_finish_at(&op[5], 12 * MS);

    struct oa_metrics_collector *c = oa_metrics_collector_new();
    const struct oa_metric_batch *b = oa_metrics_collect(c, false, NULL);
    const struct oa_metric *m = NULL;
    for (size_t i = 0; i < b->n_metrics; i++)
        if (strcmp(b->metrics[i].name, "db.client.operation.duration") == 0)
            m = &b->metrics[i];
    CHECK(m != NULL && m->n_points == 4, "four series: GET, GET ERR, SET, GET connection_closed: %zu",
          m ? m->n_points : 0);
    const struct oa_metric_point *get = point(m, "GET", NULL);
    const struct oa_metric_point *get_err = point(m, "GET", "ERR");
    const struct oa_metric_point *get_closed = point(m, "GET", "connection_closed");
    const struct oa_metric_point *set = point(m, "SET", NULL);
    CHECK(get != NULL && get->count == 2 && get->n_attrs == 2 && get->sum > 0.0029 && get->sum < 0.0031,
          "GET's two successes (1 + 2 ms), system and name only");
    CHECK(get_err != NULL && get_err->count == 1 && same(attr(get_err, "db.response.status_code"), "ERR") &&
              get_err->sum > 0.0019 && get_err->sum < 0.0021,
          "the GET that failed after the command changed: under GET, status ERR, its own duration");
    CHECK(set != NULL && set->count == 2 && set->n_attrs == 2 && set->sum > 0.0039 && set->sum < 0.0041,
          "SET's two successes (2 + 2 ms)");
    CHECK(get_closed != NULL && get_closed->count == 1 && attr(get_closed, "db.response.status_code") == NULL,
          "a GET on the memo without a reply: under GET, error.type only");
    oa_metrics_collector_free(c);
    TEST_DONE();
}
