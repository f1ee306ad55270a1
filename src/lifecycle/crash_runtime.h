/* Runtimes that use faults for control flow: the JVM (HotSpot's implicit
 * null checks and safepoint polls), Mono, ART and node's WebAssembly trap
 * handler take SIGSEGV (and SIGBUS, SIGILL, SIGFPE) routinely and recover.
 * A fault signal whose handler the program installed from such a runtime's
 * object is "the runtime's own": the crash handler (hooks/signal.c) passes
 * it straight to that handler and captures nothing, so that a recovered
 * fault ends no span. Decided when the handler is installed (sigaction,
 * signal), never in the signal handler. README, "Crash capture". */
#ifndef OA_CRASH_RUNTIME_H
#define OA_CRASH_RUNTIME_H

#include <stddef.h>

#include "base/common.h"

/* Whether the object at path (len bytes, as /proc/self/maps shows it) is
 * one of the runtimes: its base name is libjvm.so, libmonosgen-2.0.so,
 * libmono-2.0.so, libart.so or libnode.so, possibly versioned
 * (libmonosgen-2.0.so.1, libnode.so.108), or node's executable (node,
 * nodejs), which holds V8 when it is not built as libnode. */
bool oa_crash_runtime_object(const char *path, size_t len);

/* Whether the function at fn lies in such an object (/proc/self/maps read
 * with system calls into a static buffer: no dladdr, whose lock another
 * thread may hold). False when it cannot tell: when another thread (or a
 * signal handler interrupting this one) is looking at the same time, or the
 * maps cannot be read. */
bool oa_crash_handler_in_runtime(const void *fn);

#endif
