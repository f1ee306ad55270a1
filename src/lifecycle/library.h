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

/* The hook files' fork-child handlers (hooks are above this file, which
 * cannot name them): each hands its own over once, into its slot; they run
 * in slot order after the engine's own handlers, from the shim's one
 * pthread_atfork registration (see library.c). */
enum oa_fork_child_slot {
    OA_FORK_CHILD_EXEC,    /* hooks/exec.c: system()'s lock */
    OA_FORK_CHILD_LIBCURL, /* hooks/libcurl.c: the handle table's lock */
    OA_FORK_CHILD_SIGNAL,  /* hooks/signal.c: the kept dispositions' lock */
    OA_FORK_CHILD_SLOTS
};

void oa_library_on_fork_child(enum oa_fork_child_slot slot, void (*child)(void));

#endif
