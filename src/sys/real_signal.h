/* The real signal-disposition functions behind hooks/signal.c (the
 * OA_SIGNAL entries of sys/interposed.def), from dlsym(RTLD_NEXT). Bound
 * from the constructor (a program may call sigaction in a signal handler,
 * where dlsym may not run); a call that comes before it (another library's
 * constructor) binds them then. */
#ifndef OA_REAL_SIGNAL_H
#define OA_REAL_SIGNAL_H

#include <signal.h>

/* glibc exports it, but declares it only for older X/Open levels */
extern sighandler_t bsd_signal(int sig, sighandler_t handler);

struct oa_signal_real {
#define OA_SIGNAL(name, field, ret, params, args) ret(*field) params;
#include "sys/interposed.def"
};

extern struct oa_signal_real oa_signal_real;

/* Fills the table if it is not filled yet. */
void oa_signal_bind(void);

#endif
