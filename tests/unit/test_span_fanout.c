/* The fan-out span exporter (OTEL_TRACES_EXPORTER=a,b): each batch reaches
 * every exporter once; on a retry only the exporters that asked for it get
 * the batch again; the result is RETRYABLE while one owes it, then FAILED if
 * one refused it for good, else OK; a new batch (batch_begin, or the last
 * one settled) goes to all again; start, fork and shutdown reach all. */
#include <string.h>

#include "export/span_fanout.h"
#include "oa_test.h"

struct fake {
    const char *name;
    enum oa_export_result script[8]; /* answer to the i-th call; OK past the end */
    long retry_after_ms;
    int calls, starts, forks, shutdowns;
    size_t last_n;
};

static enum oa_export_result fake_export(void *self, struct oa_span *const *spans, size_t n, long *retry_after_ms)
{
    struct fake *f = self;
    (void)spans;
    f->last_n = n;
    enum oa_export_result r = f->calls < 8 ? f->script[f->calls] : OA_EXPORT_OK;
    f->calls++;
    *retry_after_ms = r == OA_EXPORT_RETRYABLE ? f->retry_after_ms : -1;
    return r;
}

static void fake_start(void *self)
{
    ((struct fake *)self)->starts++;
}

static void fake_fork(void *self)
{
    ((struct fake *)self)->forks++;
}

static void fake_shutdown(void *self)
{
    ((struct fake *)self)->shutdowns++;
}

static struct fake a, b;
static struct oa_span_exporter ea, eb;
static const struct oa_span_exporter *fan;

static void reset(void)
{
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.name = "a";
    b.name = "b";
    a.retry_after_ms = b.retry_after_ms = -1;
    ea = (struct oa_span_exporter){.name = "a", .export = fake_export, .start = fake_start,
                                   .atfork_child = fake_fork, .shutdown = fake_shutdown, .self = &a};
    /* b has no optional hooks: the fan-out must not call what is not there */
    eb = (struct oa_span_exporter){.name = "b", .export = fake_export, .self = &b};
    const struct oa_span_exporter *both[] = {&ea, &eb};
    fan = oa_span_fanout(both, 2);
}

static enum oa_export_result attempt(long *retry_after_ms)
{
    return fan->export(fan->self, NULL, 3, retry_after_ms);
}

int main(void)
{
    long wait_ms;

    reset();
    fan->batch_begin(fan->self);
    CHECK(attempt(&wait_ms) == OA_EXPORT_OK && a.calls == 1 && b.calls == 1 && a.last_n == 3 && b.last_n == 3,
          "both take it: OK, each called once with the batch");

    /* the collector (b) answers 503 once with Retry-After: the console (a)
     * must not print the batch twice */
    reset();
    b.script[0] = OA_EXPORT_RETRYABLE;
    b.retry_after_ms = 300;
    fan->batch_begin(fan->self);
    CHECK(attempt(&wait_ms) == OA_EXPORT_RETRYABLE && wait_ms == 300, "one asks for a retry: RETRYABLE, its wait");
    CHECK(attempt(&wait_ms) == OA_EXPORT_OK && a.calls == 1 && b.calls == 2,
          "the retry goes to that one only (a %d, b %d calls)", a.calls, b.calls);

    /* one refuses for good, the other asks for a retry, then takes it */
    reset();
    a.script[0] = OA_EXPORT_FAILED;
    b.script[0] = OA_EXPORT_RETRYABLE;
    b.script[1] = OA_EXPORT_RETRYABLE;
    fan->batch_begin(fan->self);
    CHECK(attempt(&wait_ms) == OA_EXPORT_RETRYABLE && wait_ms == -1, "failed + retryable: RETRYABLE, no wait asked");
    CHECK(attempt(&wait_ms) == OA_EXPORT_RETRYABLE && a.calls == 1 && b.calls == 2, "still owed by b alone");
    CHECK(attempt(&wait_ms) == OA_EXPORT_FAILED && a.calls == 1 && b.calls == 3,
          "settled: FAILED, since a refused it");

    /* the batch processor gives up on a batch b still owes: the next batch
     * is new, and goes to both */
    reset();
    b.script[0] = OA_EXPORT_RETRYABLE;
    fan->batch_begin(fan->self);
    CHECK(attempt(&wait_ms) == OA_EXPORT_RETRYABLE, "b owes the batch");
    fan->batch_begin(fan->self);
    CHECK(attempt(&wait_ms) == OA_EXPORT_OK && a.calls == 2 && b.calls == 2,
          "after batch_begin, the next batch reaches both");

    /* without batch_begin: a settled batch means the next call is a new one */
    reset();
    CHECK(attempt(&wait_ms) == OA_EXPORT_OK && attempt(&wait_ms) == OA_EXPORT_OK && a.calls == 2 && b.calls == 2,
          "no batch_begin: each settled batch, then the next to all");

    /* both retryable: the longest wait asked for */
    reset();
    a.script[0] = b.script[0] = OA_EXPORT_RETRYABLE;
    a.retry_after_ms = 100;
    b.retry_after_ms = 2000;
    fan->batch_begin(fan->self);
    CHECK(attempt(&wait_ms) == OA_EXPORT_RETRYABLE && wait_ms == 2000, "the longest Retry-After: %ld", wait_ms);

    /* a fork child forgets the parent's batch in progress */
    fan->atfork_child(fan->self);
    CHECK(a.forks == 1, "fork reaches the exporters that have the hook");
    CHECK(attempt(&wait_ms) == OA_EXPORT_OK && a.calls == 2 && b.calls == 2, "after fork: a new batch to both");

    fan->start(fan->self);
    fan->shutdown(fan->self);
    CHECK(a.starts == 1 && a.shutdowns == 1, "start and shutdown forwarded");

    reset();
    const struct oa_span_exporter *with_null[] = {&ea, NULL};
    fan = oa_span_fanout(with_null, 2);
    CHECK(attempt(&wait_ms) == OA_EXPORT_OK && a.calls == 1, "a NULL exporter is left out");
    TEST_DONE();
}
