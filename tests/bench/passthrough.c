/* The baseline for "what does interposition itself cost": a preload that
 * exports exactly the symbols libotelauto.so interposes and does nothing but
 * forward each call to the next definition (libc). scripts/measure-startup.sh
 * compares the shim against this object, so that the ratio measures our
 * engine (initialisation, bookkeeping) and not the dynamic linker's price for
 * any preload at all.
 *
 * The exported set and the prototypes come from the shim's own list of
 * interposed symbols (src/sys/interposed.def), so the two cannot drift;
 * only the exec functions built on others and the variadic
 * curl_easy_setopt are written out here.
 *
 * The real libc symbols are bound once, from the constructor, so the
 * forwarding path is one indirect call like the shim's pass-through path. A
 * call that arrives before the constructor ran (another library's
 * constructor) binds through the same pthread_once. */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

typedef struct ssl_st SSL;

/* glibc exports these, but declares them only for other standards levels */
extern sighandler_t bsd_signal(int sig, sighandler_t handler);
extern sighandler_t __sysv_signal(int sig, sighandler_t handler);

#define PT_EXPORT __attribute__((visibility("default")))

extern char **environ;

/* ---- libc socket API and the exec family: tables bound from the
 * constructor (libc's also on first use, before it ran) ---- */

static struct {
#define OA_LIBC(name, field, ret, params, args) ret(*field) params;
#include "sys/interposed.def"
} real;

static const char *const real_names[] = {
#define OA_LIBC(name, field, ret, params, args) #name,
#include "sys/interposed.def"
};

static struct {
#define OA_EXEC(name, field, ret, params, args) ret(*field) params;
#include "sys/interposed.def"
} real_exec;

static const char *const real_exec_names[] = {
#define OA_EXEC(name, field, ret, params, args) #name,
#include "sys/interposed.def"
};

static pthread_once_t bind_once = PTHREAD_ONCE_INIT;

static void bind_table(void *table, const char *const *names, size_t n)
{
    void **slot = table;
    for (size_t i = 0; i < n; i++)
        slot[i] = dlsym(RTLD_NEXT, names[i]);
}

static void bind_real_symbols(void)
{
    bind_table(&real, real_names, sizeof(real_names) / sizeof(real_names[0]));
}

static inline void ensure_bound(void)
{
    pthread_once(&bind_once, bind_real_symbols);
}

__attribute__((constructor)) static void passthrough_init(void)
{
    ensure_bound();
    bind_table(&real_exec, real_exec_names, sizeof(real_exec_names) / sizeof(real_exec_names[0]));
}

#define OA_LIBC(name, field, ret, params, args) \
    PT_EXPORT ret name params                   \
    {                                           \
        ensure_bound();                         \
        return real.field args;                 \
    }
#define OA_EXEC(name, field, ret, params, args) \
    PT_EXPORT ret name params                   \
    {                                           \
        return real_exec.field args;            \
    }
#include "sys/interposed.def"

/* the OA_EXEC_BUILT entries, on execve and execvpe as the shim does */
PT_EXPORT int execv(const char *path, char *const argv[])
{
    return real_exec.execve(path, argv, environ);
}

PT_EXPORT int execvp(const char *file, char *const argv[])
{
    return real_exec.execvpe(file, argv, environ);
}

static size_t pt_list_length(const char *arg0, va_list ap)
{
    size_t n = 0;
    if (arg0 != NULL)
        for (n = 1; va_arg(ap, char *) != NULL; n++)
            ;
    return n;
}

#define PT_EXEC_LIST(call, arg0, with_env)                                     \
    do {                                                                       \
        va_list ap;                                                            \
        va_start(ap, arg0);                                                    \
        size_t n = pt_list_length(arg0, ap);                                   \
        va_end(ap);                                                            \
        char *argv[n + 1];                                                     \
        va_start(ap, arg0);                                                    \
        argv[0] = (char *)arg0;                                                \
        for (size_t i = 1; i < n; i++)                                         \
            argv[i] = va_arg(ap, char *);                                      \
        if (n > 0)                                                             \
            (void)va_arg(ap, char *);                                          \
        argv[n] = NULL;                                                        \
        char *const *envp = with_env ? va_arg(ap, char *const *) : environ;    \
        va_end(ap);                                                            \
        return call;                                                           \
    } while (0)

PT_EXPORT int execl(const char *path, const char *arg, ...)
{
    PT_EXEC_LIST(real_exec.execve(path, argv, envp), arg, 0);
}

PT_EXPORT int execle(const char *path, const char *arg, ...)
{
    PT_EXEC_LIST(real_exec.execve(path, argv, envp), arg, 1);
}

PT_EXPORT int execlp(const char *file, const char *arg, ...)
{
    PT_EXEC_LIST(real_exec.execvpe(file, argv, envp), arg, 0);
}

/* ---- OpenSSL and libcurl: bound on first use, as the shim does: a program
 * that never calls them never looks them up ---- */

/* The next definition of the function being defined. */
#define PT_LAZY(name)                                                              \
    static __typeof__(&name) real_;                                                \
    if (__atomic_load_n(&real_, __ATOMIC_ACQUIRE) == NULL)                         \
        __atomic_store_n(&real_, (__typeof__(&name))dlsym(RTLD_NEXT, #name), __ATOMIC_RELEASE)

#define PT_FORWARD_LAZILY(name, ret, params, args) \
    PT_EXPORT ret name params                      \
    {                                              \
        PT_LAZY(name);                             \
        return real_ args;                         \
    }
#define OA_OPENSSL(name, field, ret, params, args) PT_FORWARD_LAZILY(name, ret, params, args)
#define OA_LIBCURL(name, field, ret, params, args) PT_FORWARD_LAZILY(name, ret, params, args)
#define OA_SIGNAL(name, field, ret, params, args) PT_FORWARD_LAZILY(name, ret, params, args)
#include "sys/interposed.def"

/* every option takes one long, pointer, curl_off_t or function pointer, all
 * passed alike on LP64 (as hooks/libcurl.c forwards them) */
PT_EXPORT CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...)
{
    va_list ap;
    va_start(ap, option);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    PT_LAZY(curl_easy_setopt);
    return real_(h, option, arg);
}
