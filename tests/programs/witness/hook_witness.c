/* A preload placed before the shim (LD_PRELOAD=libhook_witness.so:libotelauto.so)
 * that witnesses the shim calling its own hooks. It exports the interposed
 * libc, OpenSSL and libcurl symbols (from the one list, sys/interposed.def)
 * and forwards every call to the next definition, the shim's hook, so the
 * program is traced as usual. Because it comes first in the lookup order, a
 * call the shim makes by name to one of these symbols (instead of through
 * its real-function tables) reaches it too: such a call, one whose return
 * address lies in libotelauto.so or libotelauto-otlp.so, is reported as a
 * line "NAME OBJECT" appended to the file named by HOOK_WITNESS_LOG.
 * libcurl's and libc's own internal calls are not the shim's and are not
 * reported. Test tool only. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

typedef struct ssl_st SSL;

#define WITNESS_EXPORT __attribute__((visibility("default")))

/* Reports `name` when called from the shim. Only system calls and dladdr
 * here: the functions this preload exports would come back to it. */
static void witness(const char *name, void *caller)
{
    Dl_info info;
    if (dladdr(caller, &info) == 0 || info.dli_fname == NULL || strstr(info.dli_fname, "libotelauto") == NULL)
        return;
    const char *path = getenv("HOOK_WITNESS_LOG");
    if (path == NULL)
        return;
    const char *object = strrchr(info.dli_fname, '/');
    object = object != NULL ? object + 1 : info.dli_fname;
    char line[256];
    size_t n = 0;
    for (const char *p = name; *p != '\0' && n < 120; p++)
        line[n++] = *p;
    line[n++] = ' ';
    for (const char *p = object; *p != '\0' && n < sizeof(line) - 1; p++)
        line[n++] = *p;
    line[n++] = '\n';
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    (void)syscall(SYS_write, fd, line, n);
    (void)syscall(SYS_close, fd);
}

/* The next definition of the function being defined, looked up once. */
#define NEXT(name)                                                                  \
    static __typeof__(&name) next_;                                                 \
    if (__atomic_load_n(&next_, __ATOMIC_ACQUIRE) == NULL)                          \
        __atomic_store_n(&next_, (__typeof__(&name))dlsym(RTLD_NEXT, #name), __ATOMIC_RELEASE)

#define WITNESSED(name, ret, params, args)                    \
    WITNESS_EXPORT ret name params                            \
    {                                                         \
        witness(#name, __builtin_return_address(0));          \
        NEXT(name);                                           \
        return next_ args;                                    \
    }

#define OA_LIBC(name, field, ret, params, args) WITNESSED(name, ret, params, args)
#define OA_OPENSSL(name, field, ret, params, args) WITNESSED(name, ret, params, args)
#define OA_LIBCURL(name, field, ret, params, args) WITNESSED(name, ret, params, args)
#include "sys/interposed.def"

/* every option takes one long, pointer, curl_off_t or function pointer, all
 * passed alike on LP64 (as hooks/libcurl.c forwards them) */
WITNESS_EXPORT CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...)
{
    witness("curl_easy_setopt", __builtin_return_address(0));
    va_list ap;
    va_start(ap, option);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    NEXT(curl_easy_setopt);
    return next_(h, option, arg);
}
