/* Interposition of sigaction, signal, bsd_signal and sysv_signal, for the
 * crash capture (src/lifecycle/crash.c).
 *
 * When capture is set up (at configuration, on the first connection), the
 * handler below is installed for SIGSEGV, SIGBUS, SIGILL, SIGFPE and
 * SIGABRT, and what the program had installed is kept here. From then on
 * the program's own calls for these signals change what is kept, never the
 * kernel's disposition, and report what the program installed (never our
 * handler): transparent to the program. For any other signal, and for these
 * until capture is set up (or when it is off), every call passes straight
 * through.
 *
 * The handler captures (once per process), then does what the program's
 * disposition would have. Except when the program's handler for the signal
 * lies in a runtime that takes faults routinely and recovers (a JVM, Mono,
 * node: lifecycle/crash_runtime.h), decided when it is installed: the
 * signal then goes straight to that handler, nothing captured; when the
 * runtime gives up, it ends up in a disposition of the program's own
 * (abort() and SIGABRT, or SIG_DFL put back and the fault again), captured
 * then. Otherwise:
 *   - a handler of the program's: called as the kernel would call it, with
 *     its sa_mask and the signal blocked (unless SA_NODEFER), and SA_RESETHAND
 *     honoured (the kept disposition becomes SIG_DFL);
 *   - SIG_DFL: the disposition is put back in the kernel and the signal
 *     comes again: a fault by returning (the instruction faults again), a
 *     sent signal by sending it to this thread again. The death, the core
 *     dump and the wait status are then the kernel's own;
 *   - SIG_IGN: a sent signal is ignored (nothing captured); a fault cannot
 *     be ignored (the kernel forces the default action on a synchronous
 *     fault whose signal is ignored or blocked), so it is put back and
 *     faults again, as without us.
 * Our handler is installed with SA_NODEFER so that a fault inside the
 * capture (racy state read) re-enters it and abandons the capture, and
 * SA_ONSTACK so that a program's alternate stack is used. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "base/common.h"
#include "base/log.h"
#include "lifecycle/crash.h"
#include "lifecycle/crash_runtime.h"
#include "lifecycle/library.h"
#include "sys/real_signal.h"

#define OA_SIGNAL(name, field, ret, params, args) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) params), #name " as listed");
#include "sys/interposed.def"

#define MAX_SIG 65

/* What the program installed, per signal, while our handler is installed:
 * written under `writer` by sigaction calls, read by the handler without a
 * lock through a sequence count (odd while written). */
struct kept {
    unsigned seq;
    bool installed;            /* our handler is in the kernel */
    struct sigaction program;
    bool runtime;              /* program's handler is a runtime's own: no capture */
};

static struct kept kept[MAX_SIG];
static int writer;
/* glibc's sa_restorer and flag as the kernel reports them for a handler
 * installed through glibc (what sigaction(sig, NULL, &old) returns) */
static void (*restorer)(void);
static int restorer_flag;

static bool captured_signal(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT;
}

/* The writers' lock holds the holder's thread id: a sigaction call from a
 * signal handler that interrupted this thread's own sigaction call goes
 * ahead without it (waiting would never end). Returns whether it was taken. */
static bool lock_writer(void)
{
    int me = (int)syscall(SYS_gettid);
    int expected = 0;
    while (!__atomic_compare_exchange_n(&writer, &expected, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        if (expected == me)
            return false;
        expected = 0;
        sched_yield();
    }
    return true;
}

static void unlock_writer(bool taken)
{
    if (taken)
        __atomic_store_n(&writer, 0, __ATOMIC_RELEASE);
}

static bool is_function(const struct sigaction *act)
{
    return act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
}

/* whether act's handler is a runtime's that recovers from its faults (read
 * here, outside the sequence count: it reads /proc/self/maps) */
static bool runtime_handler(const struct sigaction *act)
{
    return is_function(act) && oa_crash_handler_in_runtime((const void *)act->sa_handler);
}

static void keep(int sig, const struct sigaction *act, bool runtime)
{
    struct kept *k = &kept[sig];
    __atomic_store_n(&k->seq, k->seq + 1, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    k->program = *act;
    k->runtime = runtime;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&k->seq, k->seq + 1, __ATOMIC_RELEASE);
}

/* A consistent copy (a bounded number of tries: the writer may be the very
 * thread this handler interrupted). */
static void read_kept(int sig, struct sigaction *out, bool *runtime)
{
    struct kept *k = &kept[sig];
    for (int tries = 0; tries < 1000; tries++) {
        unsigned before = __atomic_load_n(&k->seq, __ATOMIC_ACQUIRE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        *out = k->program;
        *runtime = k->runtime;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if ((before & 1) == 0 && __atomic_load_n(&k->seq, __ATOMIC_ACQUIRE) == before)
            return;
    }
}

static bool is_installed(int sig)
{
    return sig > 0 && sig < MAX_SIG && captured_signal(sig) && __atomic_load_n(&kept[sig].installed, __ATOMIC_ACQUIRE);
}

static int real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return oa_real_sigaction(sig, act, old);
}

/* ---- the handler ---- */

static void send_again(int sig)
{
    syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
}

static void on_crash_signal(int sig, siginfo_t *info, void *ucontext)
{
    int saved = errno;
    struct sigaction program;
    bool runtime;
    read_kept(sig, &program, &runtime);
    bool sent = info == NULL || info->si_code <= 0;
    bool is_handler = is_function(&program);

    if (program.sa_handler == SIG_IGN && sent) {
        errno = saved; /* ignored, as the kernel would have */
        return;
    }
    if (!runtime)
        oa_crash_capture(sig, info, ucontext);

    if (!is_handler) {
        /* the kernel's own action: put the disposition back, then the
         * signal comes again */
        struct sigaction back = program;
        back.sa_flags &= ~SA_SIGINFO;
        real_sigaction(sig, &back, NULL);
        __atomic_store_n(&kept[sig].installed, false, __ATOMIC_RELEASE);
        if (sent)
            send_again(sig); /* not blocked (SA_NODEFER): acts at once */
        errno = saved;
        return;
    }
    /* the program's handler, as the kernel would run it */
    if (program.sa_flags & SA_RESETHAND) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        keep(sig, &dfl, false);
    }
    sigset_t mask;
    if (ucontext != NULL)
        mask = ((ucontext_t *)ucontext)->uc_sigmask;
    else
        pthread_sigmask(SIG_BLOCK, NULL, &mask);
    for (int s = 1; s < MAX_SIG; s++) {
        if (sigismember(&program.sa_mask, s) == 1)
            sigaddset(&mask, s);
    }
    if (!(program.sa_flags & SA_NODEFER))
        sigaddset(&mask, sig);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    errno = saved;
    if (program.sa_flags & SA_SIGINFO)
        program.sa_sigaction(sig, info, ucontext);
    else
        program.sa_handler(sig);
    /* returning restores the interrupted mask (the kernel's, from ucontext) */
}

/* Capture is set up: our handler in front of each signal, the program's
 * disposition kept. */
static void install_handlers(void)
{
    static const int sigs[] = OA_CRASH_SIGNALS;
    oa_signal_bind();
    bool taken = lock_writer();
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        int sig = sigs[i];
        if (kept[sig].installed)
            continue;
        struct sigaction ours, previous;
        memset(&ours, 0, sizeof ours);
        ours.sa_sigaction = on_crash_signal;
        ours.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART;
        sigemptyset(&ours.sa_mask);
        if (real_sigaction(sig, &ours, &previous) != 0)
            continue;
        bool runtime = runtime_handler(&previous);
        if (runtime)
            OA_DEBUG("crash capture: the handler of signal %d is a runtime's own: its faults are left to it", sig);
        keep(sig, &previous, runtime);
        if (restorer == NULL) {
            struct sigaction now;
            if (real_sigaction(sig, NULL, &now) == 0) {
                restorer = now.sa_restorer;
                restorer_flag = now.sa_flags & ~(SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART);
            }
        }
        __atomic_store_n(&kept[sig].installed, true, __ATOMIC_RELEASE);
    }
    unlock_writer(taken);
}

/* fork child: a sigaction call of another thread held the lock */
static void writer_reset_in_child(void)
{
    writer = 0;
}

__attribute__((constructor)) static void signal_hooks_register(void)
{
    oa_crash_install_handlers = install_handlers;
    oa_library_on_fork_child(OA_FORK_CHILD_SIGNAL, writer_reset_in_child);
}

/* ---- the interposed functions ---- */

/* The program's disposition for an installed signal: kept as the kernel
 * would report it (SIGKILL and SIGSTOP never in the mask, glibc's restorer). */
static int program_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    bool taken = lock_writer();
    if (old != NULL)
        *old = kept[sig].program;
    if (act != NULL) {
        struct sigaction k = *act;
        sigdelset(&k.sa_mask, SIGKILL);
        sigdelset(&k.sa_mask, SIGSTOP);
        k.sa_flags |= restorer_flag;
        k.sa_restorer = restorer;
        keep(sig, &k, runtime_handler(&k));
    }
    unlock_writer(taken);
    return 0;
}

OA_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!is_installed(sig))
        return real_sigaction(sig, act, old);
    return program_sigaction(sig, act, old);
}

/* signal() and its variants as glibc builds them on sigaction */
static sighandler_t set_handler(int sig, sighandler_t handler, int flags, bool mask_self)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = flags;
    sigemptyset(&act.sa_mask);
    if (mask_self)
        sigaddset(&act.sa_mask, sig);
    if (handler == SIG_ERR) {
        errno = EINVAL;
        return SIG_ERR;
    }
    program_sigaction(sig, &act, &old);
    return old.sa_handler;
}

OA_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    if (!is_installed(sig))
        return oa_real_signal(oa_signal_real.signal, sig, handler);
    return set_handler(sig, handler, SA_RESTART, true);
}

OA_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
    if (!is_installed(sig))
        return oa_real_signal(oa_signal_real.bsd_signal, sig, handler);
    return set_handler(sig, handler, SA_RESTART, true);
}

OA_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
    if (!is_installed(sig))
        return oa_real_sysv_signal(oa_signal_real.sysv_signal, sig, handler);
    return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

OA_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
    if (!is_installed(sig))
        return oa_real_sysv_signal(oa_signal_real.sysv_signal_internal, sig, handler);
    return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}
