/* Reading the shim's state out of a running process without its
 * cooperation: the program pays nothing for being asked. The counters are a
 * named global of the shim (oa_export_counters_live, see oa_export.h),
 * found through the library file's symbol table and the address at which
 * the process mapped it. */
#include "process_inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "elf_inspect.h"
#include "shim_path.h"

#define COUNTERS_SYMBOL "oa_export_counters_live"
#define EXPORTER_FILE_NAME "libotelauto-otlp.so"
#define ENVIRON_MAX (4u << 20)

static bool path_has_file_name(const char *path, const char *file)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    return strcmp(base, file) == 0;
}

int process_read_mappings(pid_t pid, struct process_mappings *maps)
{
    memset(maps, 0, sizeof *maps);
    char file[64];
    snprintf(file, sizeof file, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(file, "re");
    if (f == NULL)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        unsigned long long start, end, offset;
        int path_at = 0;
        if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &start, &end, &offset, &path_at) < 3 || path_at == 0)
            continue;
        char *path = line + path_at;
        path[strcspn(path, "\n")] = '\0';
        /* a library replaced on disk after it was loaded (a rebuild) */
        char *deleted = strstr(path, " (deleted)");
        if (deleted != NULL && deleted[10] == '\0')
            *deleted = '\0';
        if (path[0] != '/')
            continue;
        if (path_has_file_name(path, SHIM_FILE_NAME)) {
            if (!maps->shim_loaded && offset == 0) {
                maps->shim_loaded = true;
                maps->shim_start = start;
                maps->shim_end = end;
                snprintf(maps->shim_path, sizeof maps->shim_path, "%s", path);
            }
        } else if (path_has_file_name(path, EXPORTER_FILE_NAME)) {
            maps->exporter_loaded = true;
        } else if (maps->libssl[0] == '\0') {
            const char *base = strrchr(path, '/') + 1;
            if (strncmp(base, "libssl.so", 9) == 0)
                snprintf(maps->libssl, sizeof maps->libssl, "%s", base);
        }
    }
    free(line);
    fclose(f);
    return 0;
}

/* The library file as the process sees it: its own path, else through the
 * process's root (another mount namespace), else the mapping itself. */
static enum elf_open_result open_shim_file(pid_t pid, const struct process_mappings *maps, struct elf_image *image)
{
    if (elf_image_open(image, maps->shim_path) == ELF_OPEN_OK)
        return ELF_OPEN_OK;
    char alt[PATH_MAX + 64];
    snprintf(alt, sizeof alt, "/proc/%d/root%s", (int)pid, maps->shim_path);
    if (elf_image_open(image, alt) == ELF_OPEN_OK)
        return ELF_OPEN_OK;
    snprintf(alt, sizeof alt, "/proc/%d/map_files/%llx-%llx", (int)pid, (unsigned long long)maps->shim_start,
             (unsigned long long)maps->shim_end);
    return elf_image_open(image, alt);
}

static void explain_ptrace_refusal(char *why, size_t cap)
{
    int scope = -1;
    FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
    if (f != NULL) {
        if (fscanf(f, "%d", &scope) != 1)
            scope = -1;
        fclose(f);
    }
    char scope_text[160] = "";
    if (scope >= 0)
        snprintf(scope_text, sizeof scope_text, "; kernel.yama.ptrace_scope is %d%s", scope,
                 scope >= 1 ? ", which limits it to ancestors of the process or CAP_SYS_PTRACE" : "");
    snprintf(why, cap,
             "counters not readable: reading another process's memory needs ptrace permission "
             "(the same user, or root with CAP_SYS_PTRACE%s)",
             scope_text);
}

static int read_remote(pid_t pid, uint64_t address, void *buf, size_t len, int *err)
{
    struct iovec local = {.iov_base = buf, .iov_len = len};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)address, .iov_len = len};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len)
        return 0;
    *err = n < 0 ? errno : EIO;
    if (*err == EPERM || *err == EACCES || *err == ESRCH)
        return -1;
    /* process_vm_readv missing (ENOSYS) or refused for another reason: the
     * memory file answers under the same permission check */
    char file[64];
    snprintf(file, sizeof file, "/proc/%d/mem", (int)pid);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    n = pread(fd, buf, len, (off_t)address);
    *err = n < 0 ? errno : EIO;
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

int process_read_counters(pid_t pid, const struct process_mappings *maps, struct shim_counters *out, char *why,
                          size_t why_cap)
{
    struct elf_image image;
    if (open_shim_file(pid, maps, &image) != ELF_OPEN_OK) {
        snprintf(why, why_cap, "counters not readable: cannot open the shim's file %s (%s)", maps->shim_path,
                 strerror(errno));
        return -1;
    }
    uint64_t symbol = 0;
    bool found = elf_defines_symbol(&image, COUNTERS_SYMBOL, &symbol);
    uint64_t first_vaddr = elf_first_load_vaddr(&image);
    elf_image_close(&image);
    if (!found) {
        snprintf(why, why_cap,
                 "counters not readable: %s has no symbol %s (its symbol table was stripped, or it is "
                 "another version of the shim)",
                 maps->shim_path, COUNTERS_SYMBOL);
        return -1;
    }
    /* The mapping at file offset 0 starts at the first PT_LOAD's page. */
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t base = maps->shim_start - (first_vaddr & ~(page - 1));
    uint64_t values[5];
    int err = 0;
    if (read_remote(pid, base + symbol, values, sizeof values, &err) != 0) {
        if (err == EPERM || err == EACCES)
            explain_ptrace_refusal(why, why_cap);
        else
            snprintf(why, why_cap, "counters not readable: %s", strerror(err));
        return -1;
    }
    *out = (struct shim_counters){
        .submitted = values[0],
        .exported = values[1],
        .dropped_queue_full = values[2],
        .failed = values[3],
        .wakeups_by_submitters = values[4],
    };
    return 0;
}

char *process_environment_value(pid_t pid, const char *name, bool *readable)
{
    *readable = false;
    char file[64];
    snprintf(file, sizeof file, "/proc/%d/environ", (int)pid);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        if (len == cap) {
            if (cap >= ENVIRON_MAX) {
                *readable = true; /* what was read is looked at */
                break;
            }
            char *bigger = realloc(buf, cap * 2 + 1);
            if (bigger == NULL)
                break;
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *readable = n == 0;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    if (buf == NULL)
        return NULL;
    buf[len] = '\0';
    char *value = NULL;
    size_t name_len = strlen(name);
    for (size_t at = 0; at < len;) {
        const char *entry = buf + at;
        size_t entry_len = strlen(entry);
        if (entry_len > name_len && memcmp(entry, name, name_len) == 0 && entry[name_len] == '=') {
            value = strdup(entry + name_len + 1);
            break;
        }
        at += entry_len + 1;
    }
    free(buf);
    return value;
}
