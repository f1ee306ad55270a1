/* The per-thread "inside the library" flag. While it is non-zero every hook
 * passes straight through to libc: set permanently on the exporter thread
 * (so libcurl's sockets are invisible), and around any of our own work on a
 * program thread that could re-enter a hook. Initial-exec TLS: no lazy
 * allocation on first touch. */
#ifndef OA_GUARD_H
#define OA_GUARD_H

#include <stdbool.h>

extern __thread int oa_in_library __attribute__((tls_model("initial-exec")));

/* Non-zero while this thread is inside an HTTP library call whose transfers
 * are traced at that library's level (hooks/libcurl.c): the TLS and socket
 * views then leave the connections they start alone (one request, one span). */
extern __thread int oa_in_traced_transfer __attribute__((tls_model("initial-exec")));

/* Whether the shim is on in this process: 0 before the constructor ran, 1
 * tracing, 2 inert (secure execution, OTEL_SDK_DISABLED=true). Written by the
 * life cycle (src/lifecycle/library.c), read by every layer: it lives here,
 * at the bottom, so that reading it is no call upwards. */
extern int oa_library_state;

static inline bool oa_library_ready(void)
{
    return __atomic_load_n(&oa_library_state, __ATOMIC_ACQUIRE) == 1;
}

#endif
