/* The fan-out span exporter (see span_fanout.h). Its state is touched by the
 * exporter thread only (and by the fork child handler, when no exporter
 * thread exists). */
#include "export/span_fanout.h"

static struct {
    const struct oa_span_exporter *exporters[OA_SPAN_FANOUT_MAX];
    size_t n;
    /* Per batch: bit i set while exporter i still owes the current batch
     * (it answered RETRYABLE); failed once one refused it for good. */
    unsigned owing;
    bool failed;
} fanout;

static unsigned all_exporters(void)
{
    return (1u << fanout.n) - 1;
}

static void fanout_batch_begin(void *self)
{
    (void)self;
    fanout.owing = all_exporters();
    fanout.failed = false;
}

static enum oa_export_result fanout_export(void *self, struct oa_span *const *spans, size_t n,
                                           long *retry_after_ms)
{
    /* Nobody owes anything: the previous batch is settled, so this is a new
     * one (a caller that never calls batch_begin still gets each batch to
     * every exporter). */
    if (fanout.owing == 0)
        fanout_batch_begin(self);
    *retry_after_ms = -1;
    for (size_t i = 0; i < fanout.n; i++) {
        const struct oa_span_exporter *e = fanout.exporters[i];
        long wait_ms = -1;

        if (!(fanout.owing & (1u << i)))
            continue;
        switch (e->export(e->self, spans, n, &wait_ms)) {
        case OA_EXPORT_OK:
            fanout.owing &= ~(1u << i);
            break;
        case OA_EXPORT_RETRYABLE:
            /* the longest wait asked for: the others can wait that long too */
            if (wait_ms > *retry_after_ms)
                *retry_after_ms = wait_ms;
            break;
        default:
            fanout.owing &= ~(1u << i);
            fanout.failed = true;
            break;
        }
    }
    if (fanout.owing != 0)
        return OA_EXPORT_RETRYABLE;
    return fanout.failed ? OA_EXPORT_FAILED : OA_EXPORT_OK;
}

static void fanout_start(void *self)
{
    (void)self;
    for (size_t i = 0; i < fanout.n; i++) {
        if (fanout.exporters[i]->start)
            fanout.exporters[i]->start(fanout.exporters[i]->self);
    }
}

/* The parent's batch in progress is not the child's (the child drops what
 * the parent had queued). */
static void fanout_atfork_child(void *self)
{
    (void)self;
    fanout.owing = 0;
    fanout.failed = false;
    for (size_t i = 0; i < fanout.n; i++) {
        if (fanout.exporters[i]->atfork_child)
            fanout.exporters[i]->atfork_child(fanout.exporters[i]->self);
    }
}

static void fanout_shutdown(void *self)
{
    (void)self;
    for (size_t i = 0; i < fanout.n; i++) {
        if (fanout.exporters[i]->shutdown)
            fanout.exporters[i]->shutdown(fanout.exporters[i]->self);
    }
}

const struct oa_span_exporter *oa_span_fanout(const struct oa_span_exporter *const *exporters, size_t n)
{
    static const struct oa_span_exporter e = {
        .name = "fanout",
        .export = fanout_export,
        .start = fanout_start,
        .atfork_child = fanout_atfork_child,
        .shutdown = fanout_shutdown,
        .batch_begin = fanout_batch_begin,
    };

    fanout.n = 0;
    for (size_t i = 0; i < n && fanout.n < OA_SPAN_FANOUT_MAX; i++) {
        if (exporters[i] != NULL && exporters[i]->export != NULL)
            fanout.exporters[fanout.n++] = exporters[i];
    }
    fanout.owing = 0;
    fanout.failed = false;
    return &e;
}
