/* Interposition of the exec and spawn family and of system(): a program
 * started while a request is handled gets the request's context in
 * TRACEPARENT / TRACESTATE / BAGGAGE (src/env_carrier.c).
 *
 * These hooks run between fork (or vfork) and exec, where the child may
 * share its memory with the parent (vfork, and glibc's own posix_spawn) or
 * hold none of the parent's other threads (fork): they take no lock, do not
 * allocate and write no memory but their own stack. The real functions are
 * therefore bound in the constructor, never lazily.
 *
 * system() and popen() in glibc 2.36 start the shell through the internal
 * __posix_spawn (clone(CLONE_VM|CLONE_VFORK) and the execve system call), not
 * through the exported posix_spawn or execve: interposing those does not see
 * them. system() is therefore redone here on top of posix_spawn, with glibc's
 * signal handling, when there is a context to pass; popen() is not. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/common.h"
#include "trace/env_carrier.h"
#include "base/guard.h"
#include "lifecycle/library.h"
#include "sys/real_exec.h"

extern char **environ;

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                        char *const[], char *const[]);

/* Every exported function here matches its entry in the list of interposed
 * symbols (sys/interposed.def), from which the real table is made. */
#define OA_EXEC(name, field, ret, params, args) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) params), #name " as listed");
#include "sys/interposed.def"

static void system_lock_reset_in_child(void);

__attribute__((constructor)) static void exec_hooks_bind(void)
{
    oa_library_on_fork_child(OA_FORK_CHILD_EXEC, system_lock_reset_in_child);
    oa_exec_bind();
}

/* ---- exec ---- */

struct exec_call {
    int kind; /* EXEC_PATH, EXEC_SEARCH, EXEC_FD, EXEC_AT */
    int fd;
    const char *path;
    char *const *argv;
    int flags;
};

enum { EXEC_PATH, EXEC_SEARCH, EXEC_FD, EXEC_AT };

static int run_exec(void *arg, char *const env[])
{
    const struct exec_call *c = arg;
    switch (c->kind) {
    case EXEC_SEARCH:
        if (oa_exec.execvpe != NULL)
            return oa_exec.execvpe(c->path, c->argv, env);
        break;
    case EXEC_FD:
        if (oa_exec.fexecve != NULL)
            return oa_exec.fexecve(c->fd, c->argv, env);
        break;
    case EXEC_AT:
        if (oa_exec.execveat != NULL)
            return oa_exec.execveat(c->fd, c->path, c->argv, env, c->flags);
        break;
    default:
        if (oa_exec.execve != NULL)
            return oa_exec.execve(c->path, c->argv, env);
        return (int)syscall(SYS_execve, c->path, c->argv, env);
    }
    errno = ENOSYS;
    return -1;
}

static int exec_with_context(struct exec_call *c, char *const envp[])
{
    return oa_env_carrier_exec(envp, run_exec, c);
}

OA_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    struct exec_call c = {.kind = EXEC_PATH, .path = path, .argv = argv};
    return exec_with_context(&c, envp);
}

OA_EXPORT int execv(const char *path, char *const argv[])
{
    struct exec_call c = {.kind = EXEC_PATH, .path = path, .argv = argv};
    return exec_with_context(&c, environ);
}

OA_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    struct exec_call c = {.kind = EXEC_SEARCH, .path = file, .argv = argv};
    return exec_with_context(&c, envp);
}

OA_EXPORT int execvp(const char *file, char *const argv[])
{
    struct exec_call c = {.kind = EXEC_SEARCH, .path = file, .argv = argv};
    return exec_with_context(&c, environ);
}

OA_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    struct exec_call c = {.kind = EXEC_FD, .fd = fd, .argv = argv};
    return exec_with_context(&c, envp);
}

OA_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    struct exec_call c = {.kind = EXEC_AT, .fd = dirfd, .path = path, .argv = argv, .flags = flags};
    return exec_with_context(&c, envp);
}

/* execl, execle, execlp: the list becomes a vector on the stack, as glibc
 * does it; execle's environment follows the terminating NULL. */
static size_t list_length(const char *arg0, va_list ap)
{
    if (arg0 == NULL)
        return 0;
    size_t n = 1;
    while (va_arg(ap, const char *) != NULL)
        n++;
    return n;
}

/* argv[0..n-1] from the list, argv[n] = NULL; returns what follows the
 * list's NULL when asked (execle's environment). */
static char *const *list_to_vector(char **argv, size_t n, const char *arg0, va_list ap, bool want_env)
{
    argv[0] = (char *)arg0;
    for (size_t i = 1; i < n; i++)
        argv[i] = va_arg(ap, char *);
    if (n > 0)
        (void)va_arg(ap, char *); /* the terminating NULL */
    argv[n] = NULL;
    return want_env ? va_arg(ap, char *const *) : environ;
}

#define EXEC_LIST(kind_, path_, arg0_, with_env_)                              \
    do {                                                                       \
        va_list ap_;                                                           \
        va_start(ap_, arg0_);                                                  \
        size_t n_ = list_length(arg0_, ap_);                                   \
        va_end(ap_);                                                           \
        char *argv_[n_ + 1];                                                   \
        va_start(ap_, arg0_);                                                  \
        char *const *env_ = list_to_vector(argv_, n_, arg0_, ap_, with_env_); \
        va_end(ap_);                                                           \
        struct exec_call c_ = {.kind = (kind_), .path = (path_), .argv = argv_}; \
        return exec_with_context(&c_, env_);                                   \
    } while (0)

OA_EXPORT int execl(const char *path, const char *arg, ...)
{
    EXEC_LIST(EXEC_PATH, path, arg, false);
}

OA_EXPORT int execle(const char *path, const char *arg, ...)
{
    EXEC_LIST(EXEC_PATH, path, arg, true);
}

OA_EXPORT int execlp(const char *file, const char *arg, ...)
{
    EXEC_LIST(EXEC_SEARCH, file, arg, false);
}

/* ---- spawn ---- */

struct spawn_call {
    spawn_fn fn;
    pid_t *pid;
    const char *path;
    const posix_spawn_file_actions_t *actions;
    const posix_spawnattr_t *attr;
    char *const *argv;
};

static int run_spawn(void *arg, char *const env[])
{
    const struct spawn_call *c = arg;
    if (c->fn == NULL)
        return ENOSYS;
    return c->fn(c->pid, c->path, c->actions, c->attr, c->argv, env);
}

OA_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    struct spawn_call c = {oa_exec.posix_spawn, pid, path, actions, attr, argv};
    return oa_env_carrier_exec(envp, run_spawn, &c);
}

OA_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    struct spawn_call c = {oa_exec.posix_spawnp, pid, file, actions, attr, argv};
    return oa_env_carrier_exec(envp, run_spawn, &c);
}

/* ---- system ---- */

/* glibc's system(): SIGINT and SIGQUIT ignored and SIGCHLD blocked in the
 * caller while the shell runs (the first of concurrent callers saves the
 * dispositions, the last restores them), the shell started with the
 * caller's mask and with default dispositions for the signals the caller
 * did not ignore; 127 as exit status when the shell cannot be started. */
static int system_lock;
static int system_callers;
static struct sigaction saved_intr, saved_quit;

/* fork child: the threads that were inside system() are not here */
static void system_lock_reset_in_child(void)
{
    system_lock = 0;
    system_callers = 0;
}

static void system_lock_take(void)
{
    int expected = 0;
    while (!__atomic_compare_exchange_n(&system_lock, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        expected = 0;
        sched_yield();
    }
}

static void system_lock_release(void)
{
    __atomic_store_n(&system_lock, 0, __ATOMIC_RELEASE);
}

static int run_system(void *arg, char *const env[])
{
    const char *command = arg;
    if (env == environ)
        return oa_exec.system(command); /* no context to pass: glibc's own */
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    sigset_t child, old_mask;
    sigemptyset(&ignore.sa_mask);
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);

    system_lock_take();
    if (system_callers++ == 0) {
        sigaction(SIGINT, &ignore, &saved_intr);
        sigaction(SIGQUIT, &ignore, &saved_quit);
    }
    system_lock_release();
    sigprocmask(SIG_BLOCK, &child, &old_mask);

    posix_spawnattr_t attr;
    sigset_t defaults;
    sigemptyset(&defaults);
    if (saved_intr.sa_handler != SIG_IGN)
        sigaddset(&defaults, SIGINT);
    if (saved_quit.sa_handler != SIG_IGN)
        sigaddset(&defaults, SIGQUIT);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &old_mask);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    char *argv[] = {"sh", "-c", "--", (char *)command, NULL};
    pid_t pid;
    int status;
    int rc = oa_exec.posix_spawn != NULL ? oa_exec.posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, env) : ENOSYS;
    posix_spawnattr_destroy(&attr);
    if (rc == 0) {
        pid_t r;
        do
            r = waitpid(pid, &status, 0);
        while (r < 0 && errno == EINTR);
        if (r != pid)
            status = -1;
    } else {
        status = 127 << 8; /* as if the shell had run _exit(127) */
    }
    int err = errno;

    system_lock_take();
    if (--system_callers == 0) {
        sigaction(SIGINT, &saved_intr, NULL);
        sigaction(SIGQUIT, &saved_quit, NULL);
    }
    system_lock_release();
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    errno = err;
    return status;
}

OA_EXPORT int system(const char *command)
{
    if (oa_exec.system == NULL) {
        errno = ENOSYS;
        return -1;
    }
    if (command == NULL)
        return oa_exec.system(NULL);
    return oa_env_carrier_exec(environ, run_system, (void *)command);
}
