/* The crashed thread's stack (see crash_stack.h). */
#include <dlfcn.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lifecycle/crash_stack.h"

/* ---- libunwind.so.8, looked up by name ----
 * Its header is not needed: the few types and numbers used are its ABI. The
 * unw_* names of <libunwind.h> are macros for _UL<arch>_* (local unwinding). */
#if defined(__x86_64__)
#define UNW_ARCH "x86_64"
#define UNW_REG_IP 16 /* UNW_X86_64_RIP */
#elif defined(__aarch64__)
#define UNW_ARCH "aarch64"
#define UNW_REG_IP 32 /* UNW_AARCH64_PC */
#endif

/* larger than any architecture's unw_cursor_t */
typedef struct {
    uint64_t opaque[512];
} unw_cursor;

#define UNW_INIT_SIGNAL_FRAME 1

static struct {
    int (*init_local2)(unw_cursor *cursor, void *context, int flag);
    int (*step)(unw_cursor *cursor);
    int (*get_reg)(unw_cursor *cursor, int reg, uint64_t *value);
    int (*get_proc_name)(unw_cursor *cursor, char *buf, size_t len, uint64_t *offset);
} unw;

bool oa_crash_stack_load(void)
{
#ifdef UNW_ARCH
    if (unw.step != NULL)
        return true;
    void *lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        dlerror();
        return false;
    }
    void *init = dlsym(lib, "_UL" UNW_ARCH "_init_local2");
    void *get_reg = dlsym(lib, "_UL" UNW_ARCH "_get_reg");
    void *get_proc_name = dlsym(lib, "_UL" UNW_ARCH "_get_proc_name");
    void *step = dlsym(lib, "_UL" UNW_ARCH "_step");
    dlerror();
    if (init == NULL || get_reg == NULL || get_proc_name == NULL || step == NULL)
        return false; /* left loaded: a library once loaded stays (no dlclose of a dependency in use) */
    unw.init_local2 = (int (*)(unw_cursor *, void *, int))init;
    unw.get_reg = (int (*)(unw_cursor *, int, uint64_t *))get_reg;
    unw.get_proc_name = (int (*)(unw_cursor *, char *, size_t, uint64_t *))get_proc_name;
    __atomic_store_n(&unw.step, (int (*)(unw_cursor *))step, __ATOMIC_RELEASE);
    return true;
#else
    return false;
#endif
}

/* ---- formatting ---- */

struct out {
    char *p;
    size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->len < o->cap; i++)
        o->p[o->len++] = s[i];
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

size_t oa_crash_format_number(char *out, size_t cap, uint64_t v, unsigned base)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    size_t len = 0;
    while (n > 0 && len < cap)
        out[len++] = digits[--n];
    return len;
}

static void put_uint(struct out *o, uint64_t v, unsigned base)
{
    o->len += oa_crash_format_number(o->p + o->len, o->cap - o->len, v, base);
}

size_t oa_crash_frame_format(char *out, size_t cap, unsigned index, const char *fn, uint64_t offset, uint64_t ip,
                             const char *module, size_t module_len)
{
    struct out o = {out, cap, 0};
    put(&o, "#", 1);
    put_uint(&o, index, 10);
    put(&o, " ", 1);
    if (fn != NULL && fn[0] != '\0') {
        put_str(&o, fn);
        put(&o, "+0x", 3);
        put_uint(&o, offset, 16);
    } else {
        put(&o, "0x", 2);
        put_uint(&o, ip, 16);
    }
    put(&o, " (", 2);
    if (module != NULL && module_len > 0)
        put(&o, module, module_len);
    else
        put(&o, "?", 1);
    put(&o, ")\n", 2);
    return o.len;
}

static bool parse_hex(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    while (s < end) {
        char c = *s;
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            break;
        x = x << 4 | d;
        s++;
    }
    if (s == *p)
        return false;
    *p = s;
    *v = x;
    return true;
}

bool oa_crash_maps_module(const char *maps, size_t len, uint64_t ip, const char **path, size_t *path_len)
{
    const char *end = maps + len;
    for (const char *line = maps; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (eol == NULL)
            eol = end;
        /* "start-end perms offset dev inode   path" */
        const char *p = line;
        uint64_t lo, hi;
        if (parse_hex(&p, eol, &lo) && p < eol && *p == '-' && (p++, parse_hex(&p, eol, &hi)) && ip >= lo &&
            ip < hi) {
            /* the path: after perms, offset, dev and inode, past the blanks */
            for (int field = 0; field < 4 && p < eol; field++) {
                while (p < eol && *p == ' ')
                    p++;
                while (p < eol && *p != ' ')
                    p++;
            }
            while (p < eol && *p == ' ')
                p++;
            if (p >= eol || *p != '/')
                return false;
            *path = p;
            *path_len = (size_t)(eol - p);
            return true;
        }
        line = eol + 1;
    }
    return false;
}

/* ---- the walk ---- */

#define MAX_FRAMES 64

/* /proc/self/maps at the time of the crash; untouched until then */
static char maps[1 << 19];

static size_t read_maps(void)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t len = 0;
    while (len < sizeof maps) {
        long n = syscall(SYS_read, fd, maps + len, sizeof maps - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    syscall(SYS_close, fd);
    return len;
}

size_t oa_crash_stack_write(void *ucontext, char *out, size_t cap)
{
    int (*step)(unw_cursor *) = __atomic_load_n(&unw.step, __ATOMIC_ACQUIRE);
    if (step == NULL || ucontext == NULL || cap == 0)
        return 0;
    static unw_cursor cursor;
    if (unw.init_local2(&cursor, ucontext, UNW_INIT_SIGNAL_FRAME) < 0)
        return 0;
    size_t maps_len = read_maps();
    size_t len = 0;
    for (unsigned i = 0; i < MAX_FRAMES; i++) {
        uint64_t ip = 0, offset = 0;
        if (unw.get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        char fn[256];
        if (unw.get_proc_name(&cursor, fn, sizeof fn, &offset) < 0)
            fn[0] = '\0';
        fn[sizeof fn - 1] = '\0';
        const char *module = NULL;
        size_t module_len = 0;
        oa_crash_maps_module(maps, maps_len, ip, &module, &module_len);
        char line[512];
        size_t n = oa_crash_frame_format(line, sizeof line, i, fn, offset, ip, module, module_len);
        if (len + n > cap)
            break;
        memcpy(out + len, line, n);
        len += n;
        if (step(&cursor) <= 0)
            break;
    }
    return len;
}
