/* The order of things at exit (see exit.h).
 *
 * The final metrics export runs on the metrics thread while this thread
 * flushes the spans: exit waits for the longer of the two, not for their
 * sum. Both are waited for here, whichever exit handler runs first: an
 * exporter that sets up libcurl during exit makes OpenSSL register its
 * clean-up then, and that clean-up runs as soon as this handler returns. */
#include "base/guard.h"
#include "export/batch_processor.h"
#include "lifecycle/exit.h"
#include "metrics/metrics_table.h"

void oa_exit_flush(void)
{
    oa_in_library++;
    oa_metrics_begin_exit_flush();
    oa_export_shutdown();
    oa_metrics_shutdown();
    oa_in_library--;
}
