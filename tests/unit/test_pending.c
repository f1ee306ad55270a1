/* Pending requests (protocols/common/pending.h): the FIFO HTTP/1 uses, and
 * the table by stream id that no protocol uses yet, checked here against a
 * plain model of what it should hold. */
#include <stdlib.h>
#include <string.h>

#include "oa_test.h"
#include "export/batch_processor.h"
#include "export/span_exporters.h"
#include "protocols/common/pending.h"
#include "trace/span.h"
#include "trace/thread_context.h"
#include "wire/protocol.h"

/* A protocol's entry: the common part first, then its own. */
struct entry {
    struct oa_pending p;
    int metric;     /* what the operations did to it: */
    int tag;
};

enum { METRIC_RUNNING, METRIC_FINISHED, METRIC_ABANDONED, METRIC_DISOWNED };

static struct {
    int spans_ended;
    int last_status;
    int last_tag; /* the tag of the entry end_span was given */
    const char *last_error;
    uint64_t last_end;
    void *last_owner;
} seen;

static void end_span(struct oa_span *s, const struct oa_pending *e, uint64_t end)
{
    seen.spans_ended++;
    seen.last_status = e->status;
    seen.last_tag = ((const struct entry *)e)->tag;
    seen.last_error = e->error;
    seen.last_end = end;
    s->end_unix_nano = end;
}

static void metric_finish(struct oa_pending *e, uint64_t end, void *owner)
{
    ((struct entry *)e)->metric = METRIC_FINISHED;
    seen.last_end = end;
    seen.last_owner = owner;
}

static void metric_abandon(struct oa_pending *e)
{
    ((struct entry *)e)->metric = METRIC_ABANDONED;
}

static void metric_disown(struct oa_pending *e)
{
    ((struct entry *)e)->metric = METRIC_DISOWNED;
}

static const struct oa_pending_ops ops = {
    .end_span = end_span,
    .metric_finish = metric_finish,
    .metric_abandon = metric_abandon,
    .metric_disown = metric_disown,
};

static uint64_t submitted(void)
{
    struct oa_export_counters c;
    oa_export_get_counters(&c);
    return c.submitted;
}

static struct oa_server_context *new_context(void)
{
    struct oa_span_context sc = {.valid = true};
    return oa_server_context_new(&sc, NULL, "", 0, "", 0);
}

/* ---- the FIFO ---- */

static void test_fifo_order_and_bound(void)
{
    struct entry slots[4];
    struct oa_pending_fifo q;
    oa_pending_fifo_init(&q, slots, sizeof(slots[0]), 4);
    CHECK(oa_pending_fifo_front(&q) == NULL, "fifo: empty at first");

    /* one pending throughout, three more pushed and three popped per round:
     * full each round, and the ring wraps */
    int ok = 1, next_tag = 0, expect_tag = 0;
    for (int round = 0; round < 5; round++) {
        for (int i = round == 0 ? 0 : 1; i < 4; i++) {
            struct entry *e = (struct entry *)oa_pending_fifo_push(&q, 100 + next_tag);
            EXPECT(ok, e != NULL, "push %d", next_tag);
            if (e == NULL)
                break;
            EXPECT(ok, e->p.span == NULL && e->p.ctx == NULL && e->p.status == 0 && e->p.error == NULL,
                   "push %d: common fields cleared", next_tag);
            EXPECT(ok, e->p.start == (uint64_t)(100 + next_tag), "push %d: start", next_tag);
            e->tag = next_tag++;
        }
        for (int i = 0; i < 3; i++) {
            struct entry *e = (struct entry *)oa_pending_fifo_front(&q);
            EXPECT(ok, e != NULL && e->tag == expect_tag, "front is the oldest (%d)", expect_tag);
            expect_tag++;
            oa_pending_fifo_pop(&q);
        }
    }
    CHECK(ok, "fifo: responses answer requests in order across the ring's wrap");
    CHECK(q.count == 1 && ((struct entry *)oa_pending_fifo_front(&q))->tag == expect_tag,
          "fifo: what was not popped is pending (%u)", q.count);

    oa_pending_fifo_init(&q, slots, sizeof(slots[0]), 4);
    for (int i = 0; i < 4; i++)
        oa_pending_fifo_push(&q, 0);
    CHECK(oa_pending_fifo_push(&q, 0) == NULL, "fifo: the fifth of four is refused");
    oa_pending_fifo_pop(&q);
    CHECK(oa_pending_fifo_push(&q, 0) != NULL, "fifo: room again after a pop");
    oa_pending_fifo_drop_all(&q, &ops);
}

static void test_fifo_finish(void)
{
    struct entry slots[8];
    struct oa_pending_fifo q;
    int owner;
    oa_pending_fifo_init(&q, slots, sizeof(slots[0]), 8);

    /* sampled, with a server context: the span is exported, the context
     * answered and released */
    struct entry *e = (struct entry *)oa_pending_fifo_push(&q, 5);
    e->metric = METRIC_RUNNING;
    e->p.span = oa_span_new();
    e->p.ctx = new_context();
    struct oa_server_context *ctx = e->p.ctx;
    oa_server_context_ref(ctx); /* ours, to look at it afterwards */
    e->p.status = 204;
    memset(&seen, 0, sizeof(seen));
    uint64_t before = submitted();
    oa_pending_finish_at(&e->p, &ops, 42, &owner);
    CHECK(seen.spans_ended == 1 && seen.last_status == 204 && seen.last_error == NULL && seen.last_end == 42,
          "finish: the span takes the outcome and the end time");
    CHECK(submitted() == before + 1 && e->p.span == NULL, "finish: the span is submitted, not kept");
    CHECK(e->metric == METRIC_FINISHED && seen.last_owner == &owner, "finish: the metric, with the owner");
    CHECK(e->p.ctx == NULL && ctx->answered && ctx->refs == 1, "finish: the context answered, its reference given back");
    oa_server_context_unref(ctx);
    oa_pending_fifo_pop(&q);

    /* unsampled: the metric only */
    e = (struct entry *)oa_pending_fifo_push(&q, 6);
    e->metric = METRIC_RUNNING;
    memset(&seen, 0, sizeof(seen));
    before = submitted();
    oa_pending_finish(&e->p, &ops, &owner);
    CHECK(seen.spans_ended == 0 && submitted() == before && e->metric == METRIC_FINISHED,
          "finish unsampled: no span, the metric finished");
    oa_pending_fifo_pop(&q);

    /* the connection ends: each pending request fails, its status kept */
    for (int i = 0; i < 3; i++) {
        e = (struct entry *)oa_pending_fifo_push(&q, 0);
        e->metric = METRIC_RUNNING;
        e->p.status = i == 0 ? 200 : 0;
        e->p.span = oa_span_new();
    }
    memset(&seen, 0, sizeof(seen));
    before = submitted();
    oa_pending_fifo_finish_all(&q, &ops, "connection_closed", &owner);
    CHECK(seen.spans_ended == 3 && submitted() == before + 3 && q.count == 0,
          "finish_all: every pending span ended and submitted, none left");
    CHECK(seen.last_error != NULL && strcmp(seen.last_error, "connection_closed") == 0 && seen.last_status == 0,
          "finish_all: the error given, the newest's status");

    /* parsing gave up: nothing exported */
    for (int i = 0; i < 2; i++) {
        e = (struct entry *)oa_pending_fifo_push(&q, 0);
        e->metric = METRIC_RUNNING;
        e->p.span = oa_span_new();
        e->p.ctx = new_context();
    }
    struct entry *first = (struct entry *)oa_pending_fifo_at(&q, 0);
    before = submitted();
    memset(&seen, 0, sizeof(seen));
    oa_pending_fifo_drop_all(&q, &ops);
    CHECK(q.count == 0 && submitted() == before && seen.spans_ended == 0, "drop_all: empty, nothing submitted");
    CHECK(first->metric == METRIC_ABANDONED && first->p.span == NULL && first->p.ctx == NULL,
          "drop_all: metric abandoned, span freed, context released");
}

static void test_fifo_disown(void)
{
    struct entry slots[4];
    struct oa_pending_fifo q;
    oa_pending_fifo_init(&q, slots, sizeof(slots[0]), 4);
    for (int i = 0; i < 3; i++) {
        struct entry *e = (struct entry *)oa_pending_fifo_push(&q, 0);
        e->metric = METRIC_RUNNING;
        e->p.span = i != 1 ? oa_span_new() : NULL;
    }
    uint64_t before = submitted();
    oa_pending_fifo_disown_all(&q, &ops);
    int ok = 1;
    for (unsigned i = 0; i < q.count; i++) {
        struct entry *e = (struct entry *)oa_pending_fifo_at(&q, i);
        EXPECT(ok, e->p.span == NULL && e->metric == METRIC_DISOWNED, "entry %u", i);
    }
    CHECK(ok && q.count == 3 && submitted() == before, "fifo disown: spans forgotten, metrics disowned, entries kept");
    oa_pending_fifo_drop_all(&q, &ops);
}

/* ---- the table by stream id ---- */

#define TABLE_SLOTS 16
#define TABLE_MAX (TABLE_SLOTS - TABLE_SLOTS / 4)

static void test_table_out_of_order(void)
{
    struct entry slots[TABLE_SLOTS];
    struct oa_pending_table t;
    oa_pending_table_init(&t, slots, sizeof(slots[0]), TABLE_SLOTS);
    CHECK(oa_pending_table_find(&t, 1) == NULL && oa_pending_table_count(&t) == 0, "table: empty at first");

    /* HTTP/2 client streams: odd ids, opened in order, answered in any */
    static const uint32_t ids[] = {1, 3, 5, 7, 9, 11, 13};
    int ok = 1;
    for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct entry *e = (struct entry *)oa_pending_table_push(&t, ids[i], 1000 + ids[i]);
        EXPECT(ok, e != NULL && e->p.id == ids[i] && e->p.start == 1000 + ids[i] && e->p.span == NULL,
               "push %u", ids[i]);
        if (e != NULL)
            e->tag = (int)ids[i] * 10;
    }
    CHECK(ok && oa_pending_table_count(&t) == 7, "table: seven streams pending");
    CHECK(oa_pending_table_push(&t, 5, 0) == NULL, "table: a stream id already pending is refused");
    CHECK(oa_pending_table_find(&t, 2) == NULL && oa_pending_table_find(&t, 15) == NULL,
          "table: ids never pushed are not found");

    static const uint32_t answer_order[] = {9, 1, 13, 5, 3, 11, 7};
    ok = 1;
    for (unsigned k = 0; k < 7; k++) {
        struct entry *e = (struct entry *)oa_pending_table_find(&t, answer_order[k]);
        EXPECT(ok, e != NULL && e->tag == (int)answer_order[k] * 10, "find %u", answer_order[k]);
        if (e != NULL)
            oa_pending_table_remove(&t, &e->p);
        EXPECT(ok, oa_pending_table_find(&t, answer_order[k]) == NULL, "%u gone", answer_order[k]);
        /* the others are still found after the removal moved entries */
        for (unsigned j = k + 1; j < 7; j++) {
            struct entry *o = (struct entry *)oa_pending_table_find(&t, answer_order[j]);
            EXPECT(ok, o != NULL && o->tag == (int)answer_order[j] * 10, "%u after removing %u", answer_order[j],
                   answer_order[k]);
        }
    }
    CHECK(ok && oa_pending_table_count(&t) == 0, "table: answered out of order, each found and removed");
}

static void test_table_bound(void)
{
    struct entry slots[TABLE_SLOTS];
    struct oa_pending_table t;
    oa_pending_table_init(&t, slots, sizeof(slots[0]), TABLE_SLOTS);
    int ok = 1;
    for (uint32_t id = 0; id < TABLE_MAX; id++)
        EXPECT(ok, oa_pending_table_push(&t, 2 * id + 1, 0) != NULL, "push %u", 2 * id + 1);
    CHECK(ok, "table: %d of %d slots fill", TABLE_MAX, TABLE_SLOTS);
    CHECK(oa_pending_table_push(&t, 1001, 0) == NULL, "table: the bound reached, the next stream is refused");
    oa_pending_table_remove(&t, oa_pending_table_find(&t, 7));
    CHECK(oa_pending_table_push(&t, 1001, 0) != NULL && oa_pending_table_find(&t, 1001) != NULL,
          "table: room again after a removal");
    oa_pending_table_drop_all(&t, &ops);
    CHECK(oa_pending_table_count(&t) == 0 && oa_pending_table_find(&t, 1001) == NULL, "table: drop_all empties it");
}

/* Random pushes, finds and removals against a plain array, with ids that
 * collide on purpose (few distinct home slots). */
static void test_table_model(void)
{
    enum { IDS = 64 };
    struct entry slots[TABLE_SLOTS];
    struct oa_pending_table t;
    bool in[IDS] = {false};
    unsigned count = 0;
    oa_pending_table_init(&t, slots, sizeof(slots[0]), TABLE_SLOTS);
    srand(12345);
    int ok = 1;
    for (int step = 0; step < 20000 && ok; step++) {
        uint32_t id = (uint32_t)(rand() % IDS) * 2 + 1;
        unsigned k = (id - 1) / 2;
        if (rand() % 2 == 0) {
            struct entry *e = (struct entry *)oa_pending_table_push(&t, id, 0);
            bool expect = !in[k] && count < TABLE_MAX;
            EXPECT(ok, (e != NULL) == expect, "step %d: push %u", step, id);
            if (e != NULL) {
                e->tag = (int)id;
                in[k] = true;
                count++;
            }
        } else {
            struct entry *e = (struct entry *)oa_pending_table_find(&t, id);
            EXPECT(ok, (e != NULL) == in[k] && (e == NULL || e->tag == (int)id), "step %d: find %u", step, id);
            if (e != NULL) {
                oa_pending_table_remove(&t, &e->p);
                in[k] = false;
                count--;
            }
        }
        EXPECT(ok, oa_pending_table_count(&t) == count, "step %d: count", step);
    }
    for (unsigned k = 0; k < IDS && ok; k++)
        EXPECT(ok, (oa_pending_table_find(&t, 2 * k + 1) != NULL) == in[k], "final %u", 2 * k + 1);
    CHECK(ok, "table: 20000 random pushes and removals agree with a plain model");
    oa_pending_table_drop_all(&t, &ops);
}

static void test_table_finish_and_disown(void)
{
    struct entry slots[8];
    struct oa_pending_table t;
    int owner;
    oa_pending_table_init(&t, slots, sizeof(slots[0]), 8);
    for (uint32_t id = 1; id <= 5; id += 2) {
        struct entry *e = (struct entry *)oa_pending_table_push(&t, id, 0);
        e->metric = METRIC_RUNNING;
        e->p.span = oa_span_new();
    }

    /* a fork child: the parent's spans and metrics are forgotten, the
     * streams still pending */
    uint64_t before = submitted();
    oa_pending_table_disown_all(&t, &ops);
    struct entry *e3 = (struct entry *)oa_pending_table_find(&t, 3);
    CHECK(oa_pending_table_count(&t) == 3 && e3 != NULL && e3->p.span == NULL && e3->metric == METRIC_DISOWNED &&
              submitted() == before,
          "table disown: spans forgotten, metrics disowned, streams kept");

    /* one stream answered: finished and removed */
    struct entry *e5 = (struct entry *)oa_pending_table_find(&t, 5);
    e5->p.span = oa_span_new();
    e5->p.status = 200;
    memset(&seen, 0, sizeof(seen));
    oa_pending_finish_at(&e5->p, &ops, 77, &owner);
    oa_pending_table_remove(&t, &e5->p);
    CHECK(seen.spans_ended == 1 && seen.last_status == 200 && submitted() == before + 1 &&
              oa_pending_table_find(&t, 5) == NULL,
          "table: an answered stream finished and removed");

    /* the connection ends: the rest fail */
    oa_pending_table_find(&t, 1)->span = oa_span_new();
    memset(&seen, 0, sizeof(seen));
    oa_pending_table_finish_all(&t, &ops, "ECONNRESET", &owner);
    CHECK(seen.spans_ended == 1 && strcmp(seen.last_error, "ECONNRESET") == 0 && submitted() == before + 2 &&
              oa_pending_table_count(&t) == 0 && oa_pending_table_find(&t, 1) == NULL,
          "table finish_all: the pending streams end with the error, the table empty");
}

/* ---- the crash capture ---- */

static int emitted;
static void emit(const struct oa_span *s, void *arg)
{
    (void)s;
    (void)arg;
    emitted++;
}

/* A protocol's end_span reads its own fields past the struct oa_pending (HTTP/2's
 * gRPC status): the crash copy hands it a copy of the whole entry, the error set
 * in the copy, the entry itself untouched. */
static void test_crash_copy_whole_entry(void)
{
    struct entry slots[4];
    struct oa_pending_fifo q;
    oa_pending_fifo_init(&q, slots, sizeof(slots[0]), 4);
    struct entry *e = (struct entry *)oa_pending_fifo_push(&q, 9);
    e->p.span = oa_span_new();
    e->p.span->kind = OA_SPAN_KIND_SERVER;
    e->p.span->start_unix_nano = 1000;
    e->p.status = 200;
    e->tag = 0x5eed;
    struct oa_span *scratch = oa_span_new();
    struct oa_crash_walk w = {.scratch = scratch, .error = "SIGSEGV", .end = 77, .emit = emit};
    memset(&seen, 0, sizeof(seen));
    emitted = 0;
    oa_pending_fifo_crash_copy_all(&q, &ops, &w);
    CHECK(emitted == 1 && seen.spans_ended == 1 && seen.last_tag == 0x5eed && seen.last_status == 200 &&
              seen.last_error != NULL && strcmp(seen.last_error, "SIGSEGV") == 0 && seen.last_end == 77,
          "crash copy: end_span sees the whole entry (tag %#x) with the crash's error", (unsigned)seen.last_tag);
    CHECK(e->p.error == NULL && e->p.span->end_unix_nano == 0, "crash copy: the entry itself is left as it is");

    /* an entry larger than the capture copies is not captured (each protocol's is checked at compile time) */
    memset(&seen, 0, sizeof(seen));
    emitted = 0;
    oa_pending_crash_copy(&e->p, OA_PENDING_ENTRY_MAX + 1, &ops, &w);
    CHECK(emitted == 0 && seen.spans_ended == 0, "crash copy: an entry size beyond the bound is refused");
    oa_span_free(e->p.span);
    oa_span_free(scratch);
}

int main(void)
{
    /* spans are submitted to the real queue; nothing is sent anywhere */
    oa_export_set_exporter(oa_span_exporter_for("none"));
    test_fifo_order_and_bound();
    test_fifo_finish();
    test_fifo_disown();
    test_table_out_of_order();
    test_table_bound();
    test_table_model();
    test_table_finish_and_disown();
    test_crash_copy_whole_entry();
    TEST_DONE();
}
