/* The per-thread "inside the library" flag. While it is non-zero every hook
 * passes straight through to libc: set permanently on the exporter thread
 * (so libcurl's sockets are invisible), and around any of our own work on a
 * program thread that could re-enter a hook. Initial-exec TLS: no lazy
 * allocation on first touch. */
#ifndef OA_GUARD_H
#define OA_GUARD_H

extern __thread int oa_in_library __attribute__((tls_model("initial-exec")));

#endif
