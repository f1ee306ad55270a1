/* Library life cycle: initialisation in the constructor (configuration,
 * resource, exporter set-up, fork handlers), shutdown at exit. */
#ifndef OA_LIBRARY_H
#define OA_LIBRARY_H

#include "base/common.h"
#include "base/guard.h" /* oa_library_ready(): hooks only pass through before the
                         * constructor, in setuid processes and with
                         * OTEL_SDK_DISABLED=true */

/* Reads the configuration and builds the resource, once; called on the
 * first TCP connection. */
void oa_library_configure(void);

#endif
