/* The real signal-disposition functions behind hooks/signal.c (the
 * OA_SIGNAL entries of sys/interposed.def), from dlsym(RTLD_NEXT), bound
 * when crash capture is set up (at configuration, never in the constructor:
 * a process that makes no connection looks nothing up). Until then the
 * hooks only pass through, to libc's own entry points under other names
 * (__sigaction, ssignal, __sysv_signal), which need no lookup and are safe
 * in a signal handler. */
#ifndef OA_REAL_SIGNAL_H
#define OA_REAL_SIGNAL_H

#include <signal.h>

/* glibc exports these, but declares them only for other standards levels or
 * not at all */
extern sighandler_t bsd_signal(int sig, sighandler_t handler);
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
extern sighandler_t __sysv_signal(int sig, sighandler_t handler);

struct oa_signal_real {
#define OA_SIGNAL(name, field, ret, params, args) ret(*field) params;
#include "sys/interposed.def"
};

extern struct oa_signal_real oa_signal_real;

/* Fills the table if it is not filled yet (not in a signal handler). */
void oa_signal_bind(void);

/* The next definitions, or libc's own before the table is bound */
static inline int oa_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int (*f)(int, const struct sigaction *, struct sigaction *) =
        __atomic_load_n(&oa_signal_real.sigaction, __ATOMIC_ACQUIRE);
    return f != NULL ? f(sig, act, old) : __sigaction(sig, act, old);
}

/* signal and bsd_signal are one function in glibc, also exported as ssignal */
static inline sighandler_t oa_real_signal(sighandler_t (*bound)(int, sighandler_t), int sig, sighandler_t handler)
{
    return bound != NULL ? bound(sig, handler) : ssignal(sig, handler);
}

static inline sighandler_t oa_real_sysv_signal(sighandler_t (*bound)(int, sighandler_t), int sig,
                                               sighandler_t handler)
{
    return bound != NULL ? bound(sig, handler) : __sysv_signal(sig, handler);
}

#endif
