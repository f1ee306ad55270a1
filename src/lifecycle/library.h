/* Library life cycle: initialisation in the constructor (configuration,
 * resource, exporter set-up, fork handlers), shutdown at exit. */
#ifndef OA_LIBRARY_H
#define OA_LIBRARY_H

#include "base/common.h"

/* 1 once the constructor finished and tracing is enabled; hooks only pass
 * through before that, in setuid processes and with OTEL_SDK_DISABLED=true. */
extern int oa_library_state;

static inline bool oa_library_ready(void)
{
    return __atomic_load_n(&oa_library_state, __ATOMIC_ACQUIRE) == 1;
}

/* Reads the configuration and builds the resource, once; called on the
 * first TCP connection. */
void oa_library_configure(void);

#endif
