/* Loading libotelauto-otlp.so, the OTLP exporter object with libcurl and
 * protobuf-c, for the span exporter and the metrics thread alike; and the
 * lock around that loading, which fork's prepare handler takes too. */
#ifndef OA_OTLP_LOADER_H
#define OA_OTLP_LOADER_H

#include "export/otlp/otlp_exporter.h"

/* Unit tests only: where to load libotelauto-otlp.so from instead of next to
 * the object holding this code (a test binary is not in the build directory). */
extern const char *oa_export_otlp_library_override;

/* Around loading the OTLP object and setting up libcurl, from any of our
 * threads: a fork waits for the set-up instead of copying the dynamic
 * loader's or the allocator's locks while they are held (they would stay
 * held in the child). Program threads never take it, except in fork's
 * prepare handler: the life cycle registers begin, end and atfork_child as
 * fork handlers. */
void oa_export_setup_begin(void);
void oa_export_setup_end(void);
void oa_export_setup_atfork_child(void);

/* dlopen's libotelauto-otlp.so, found next to the object holding this code,
 * and finds its create function and the send function named send_symbol
 * (its destroy function must be there too, so that a mismatched object is
 * refused). Returns the handle, or NULL with an error logged saying that
 * `what` ("spans", "metrics") will not be exported. Once loaded, the hooks
 * send our exporter's calls to the object's own libraries
 * (oa_exporter_symbol). */
void *oa_export_otlp_load(const char *what, const char *send_symbol, oa_otlp_create_fn *create, void **send);

/* An exporter environment posting as otlp says (oa_config.traces_otlp or
 * .metrics_otlp), with the process's configuration, resource and log. */
void oa_export_otlp_env(struct oa_otlp_env *env, const struct oa_config_otlp *otlp);

#endif
