/* Runtimes that handle their own faults (see crash_runtime.h). */
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lifecycle/crash_runtime.h"
#include "lifecycle/crash_stack.h"

static const char *const runtimes[] = {
    "libjvm.so",          /* HotSpot */
    "libmonosgen-2.0.so", /* Mono */
    "libmono-2.0.so",
    "libart.so",          /* Android's runtime */
    "libnode.so",         /* node built shared (Debian, Ubuntu, Fedora): V8's trap handler */
};
/* executables that are the runtime itself: node linked statically */
static const char *const runtime_programs[] = {"node", "nodejs"};

bool oa_crash_runtime_object(const char *path, size_t len)
{
    const char *base = path;
    for (size_t i = 0; i < len; i++) {
        if (path[i] == '/')
            base = path + i + 1;
    }
    size_t base_len = (size_t)(path + len - base);
    for (size_t i = 0; i < sizeof runtimes / sizeof runtimes[0]; i++) {
        size_t n = strlen(runtimes[i]);
        /* the name, or the name and a version: libmonosgen-2.0.so.1 */
        if (base_len >= n && memcmp(base, runtimes[i], n) == 0 && (base_len == n || base[n] == '.'))
            return true;
    }
    for (size_t i = 0; i < sizeof runtime_programs / sizeof runtime_programs[0]; i++) {
        size_t n = strlen(runtime_programs[i]);
        if (base_len == n && memcmp(base, runtime_programs[i], n) == 0)
            return true;
    }
    return false;
}

/* Read in pieces of whole lines; a line is at most a path and ~80 bytes. */
static char maps[1 << 16];
static int busy;

/* In the mapping that holds it: a function is always in a mapping of a
 * file, the first piece that has it decides. */
static bool in_piece(const char *text, size_t len, uint64_t addr, bool *found)
{
    const char *path;
    size_t path_len;
    if (!oa_crash_maps_module(text, len, addr, &path, &path_len))
        return false;
    *found = oa_crash_runtime_object(path, path_len);
    return true;
}

static bool find_in_maps(int fd, uint64_t addr)
{
    size_t kept = 0;
    bool found = false;
    for (;;) {
        long n = syscall(SYS_read, fd, maps + kept, sizeof maps - kept);
        if (n <= 0)
            return n == 0 && in_piece(maps, kept, addr, &found) && found;
        size_t len = kept + (size_t)n;
        const char *last = memrchr(maps, '\n', len);
        if (last == NULL) {
            if (len == sizeof maps)
                return false; /* a line longer than the buffer: not maps as we know it */
            kept = len;
            continue;
        }
        size_t whole = (size_t)(last + 1 - maps);
        if (in_piece(maps, whole, addr, &found))
            return found;
        kept = len - whole;
        memmove(maps, maps + whole, kept);
    }
}

bool oa_crash_handler_in_runtime(const void *fn)
{
    if (fn == NULL || __atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE) != 0)
        return false;
    bool found = false;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        found = find_in_maps(fd, (uint64_t)(uintptr_t)fn);
        syscall(SYS_close, fd);
    }
    __atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
    return found;
}
