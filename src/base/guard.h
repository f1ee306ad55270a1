/* The per-thread "inside the library" flag. While it is non-zero every hook
 * passes straight through to libc: set permanently on the exporter thread
 * (so libcurl's sockets are invisible), and around any of our own work on a
 * program thread that could re-enter a hook. Initial-exec TLS: no lazy
 * allocation on first touch. */
#ifndef OA_GUARD_H
#define OA_GUARD_H

extern __thread int oa_in_library __attribute__((tls_model("initial-exec")));

/* Non-zero while this thread is inside an HTTP library call whose transfers
 * are traced at that library's level (hooks/libcurl.c): the TLS and socket
 * views then leave the connections they start alone (one request, one span). */
extern __thread int oa_in_traced_transfer __attribute__((tls_model("initial-exec")));

#endif
