/* A runtime that takes faults for control flow and recovers from them, as
 * the JVM does (tests/integration/36-crash.bats). Built twice: as
 * libjvm.so, which the shim recognises as such a runtime, and as
 * librecover.so, which it does not.
 *
 * install() sets a SIGSEGV SA_SIGINFO handler of this object; guarded(fn,
 * arg) calls fn(arg) and returns 1 when it faulted (the handler jumps back
 * with siglongjmp), 0 otherwise. A fault outside guarded() is a crash: the
 * handler calls abort(), as the JVM does. */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static sigjmp_buf recover;
static volatile sig_atomic_t armed;

static void on_segv(int sig, siginfo_t *info, void *uc)
{
    (void)sig;
    (void)info;
    (void)uc;
    if (!armed)
        abort(); /* a real crash: what the JVM does after its error report */
    siglongjmp(recover, 1);
}

__attribute__((visibility("default"))) int install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGSEGV, &sa, NULL);
}

__attribute__((visibility("default"))) int guarded(void (*fn)(int), int arg)
{
    if (sigsetjmp(recover, 1) != 0) {
        armed = 0;
        return 1;
    }
    armed = 1;
    fn(arg);
    armed = 0;
    return 0;
}
