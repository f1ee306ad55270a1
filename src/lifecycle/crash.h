/* Crash capture: when the process dies of SIGSEGV, SIGBUS, SIGILL, SIGFPE or
 * SIGABRT, the SERVER and CLIENT spans in flight end with status Error and
 * an `exception` event (the signal, the crashed thread's stack) and are sent
 * to the OTLP traces endpoint (by the handler itself over plain HTTP, else
 * through the exporter thread) before the program's own handler, or the
 * default action, runs. A fault signal whose handler is a runtime's that
 * recovers from faults (crash_runtime.h) is left to it. OTELAUTO_CRASH_CAPTURE=false
 * turns it off.
 *
 * The signal hooks (hooks/signal.c, the layer above) keep the program's
 * dispositions and chain to them; this file is what their handler calls
 * first. Everything it does in the handler is async-signal-safe: static
 * buffers, no allocation, no lock; the connection table is read without its
 * locks (see oa_fd_table_crash_walk), and the spans go out on a socket of
 * its own, with a deadline. */
#ifndef OA_CRASH_H
#define OA_CRASH_H

#include <signal.h>

#include "base/common.h"
#include "config/config.h"

/* The signals whose handlers the hooks install when capture is on. */
#define OA_CRASH_SIGNALS {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}

/* The hooks' installation of their handlers (hooks/signal.c sets it from its
 * constructor: the hooks are the layer above, this file cannot name them). */
extern void (*oa_crash_install_handlers)(void);

/* Sets crash capture up from the configuration (at configuration time, on
 * the first connection, never in the constructor): the endpoint's address
 * and request head, libunwind, then the hooks' handlers. */
void oa_crash_configure(const struct oa_config *c);

/* The handler's first step: the spans in flight, ended with the crash and
 * sent, within about a second. Once per process (a handler that returns to
 * the program and crashes again sends nothing more); a second thread that
 * crashes meanwhile waits for the first (bounded). info and ucontext as the
 * handler got them (may be NULL). */
void oa_crash_capture(int sig, const siginfo_t *info, void *ucontext);

/* Whether capture is set up (the hooks pass every call through otherwise). */
bool oa_crash_enabled(void);

#endif
