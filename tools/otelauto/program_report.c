/* What decides whether LD_PRELOAD reaches a program and whether the shim can
 * see its traffic, checked on the file alone: the loader must run (dynamic
 * linking, not Go's own system calls), must accept the preload (glibc, the
 * same architecture, no secure-execution mode) and TLS must go through a
 * libssl the shim can interpose. */
#include "program_report.h"

#include <elf.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "elf_inspect.h"
#include "library_deps.h"
#include "path_search.h"

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_MACHINE EM_RISCV
#elif defined(__powerpc64__)
#define NATIVE_MACHINE EM_PPC64
#elif defined(__s390x__)
#define NATIVE_MACHINE EM_S390
#else
#define NATIVE_MACHINE EM_NONE /* unknown: not checked */
#endif

/* How many #! interpreters are followed (the kernel allows a few levels). */
#define SCRIPT_DEPTH_MAX 4

void report_note(struct program_report *report, const char *fmt, ...)
{
    if (report->note_count >= REPORT_NOTES_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *note = NULL;
    if (vasprintf(&note, fmt, ap) >= 0)
        report->notes[report->note_count++] = note;
    va_end(ap);
}

void report_block(struct program_report *report, const char *reason)
{
    if (!report->blocked)
        snprintf(report->block_reason, sizeof report->block_reason, "%s", reason);
    report->blocked = true;
}

void report_free(struct program_report *report)
{
    for (size_t i = 0; i < report->note_count; i++)
        free(report->notes[i]);
    report->note_count = 0;
}

/* ------------------------------------------------------------ privileges */

static void describe_user(uid_t uid, char *out, size_t cap)
{
    struct passwd *pw = getpwuid(uid);
    if (pw != NULL)
        snprintf(out, cap, "%s", pw->pw_name);
    else
        snprintf(out, cap, "uid %u", (unsigned)uid);
}

static void describe_group(gid_t gid, char *out, size_t cap)
{
    struct group *gr = getgrgid(gid);
    if (gr != NULL)
        snprintf(out, cap, "%s", gr->gr_name);
    else
        snprintf(out, cap, "gid %u", (unsigned)gid);
}

#define LOADER_IN_SECURE_MODE                                                                 \
    "the dynamic loader ignores LD_PRELOAD entries that contain a '/' and loads only set-user-ID " \
    "libraries from the system directories; the shim also turns itself off"
#define SECURE_EXECUTION_RULE "in secure-execution mode (AT_SECURE) " LOADER_IN_SECURE_MODE

/* Secure execution starts when the effective ids differ from the real ones
 * (set-user-ID, set-group-ID) or when file capabilities raise a non-root
 * user's privileges; the user running this command is the one judged. */
static void check_privileges(struct program_report *report, const char *path, const struct stat *st)
{
    char name[64];
    if (st->st_mode & S_ISUID) {
        describe_user(st->st_uid, name, sizeof name);
        if (st->st_uid != getuid()) {
            report_block(report, "set-user-ID: it runs in secure-execution mode, where the loader ignores LD_PRELOAD");
            report_note(report, "set-user-ID (owner %s): run by any other user it runs in secure-execution mode; %s",
                        name, SECURE_EXECUTION_RULE);
        } else {
            report_note(report,
                        "set-user-ID (owner %s): traced only when %s runs it, as here; any other user runs it in "
                        "secure-execution mode, where %s",
                        name, name, LOADER_IN_SECURE_MODE);
        }
    }
    if (st->st_mode & S_ISGID) {
        describe_group(st->st_gid, name, sizeof name);
        if (st->st_gid != getgid()) {
            report_block(report, "set-group-ID: it runs in secure-execution mode, where the loader ignores LD_PRELOAD");
            report_note(report,
                        "set-group-ID (group %s): run by a user whose primary group is another one it runs in "
                        "secure-execution mode; %s",
                        name, SECURE_EXECUTION_RULE);
        } else {
            report_note(report, "set-group-ID (group %s): traced only when run with %s as the real group, as here",
                        name, name);
        }
    }
    ssize_t caps = getxattr(path, "security.capability", NULL, 0);
    if (caps > 0) {
        if (getuid() != 0) {
            report_block(report,
                         "file capabilities: it runs in secure-execution mode, where the loader ignores LD_PRELOAD");
            report_note(report, "file capabilities (security.capability): run by a user other than root it runs "
                                "in secure-execution mode; " SECURE_EXECUTION_RULE);
        } else {
            report_note(report, "file capabilities (security.capability): traced when root runs it, as here; any "
                                "other user runs it in secure-execution mode, where the loader ignores LD_PRELOAD");
        }
    }
}

/* ------------------------------------------------------------ ELF checks */

static bool is_go_program(const struct elf_image *image)
{
    static const char buildinfo_magic[] = "\xff Go buildinf:";
    return elf_has_section(image, ".go.buildinfo") || elf_has_section(image, ".note.go.buildid") ||
           elf_defines_symbol(image, "runtime.main", NULL) ||
           elf_contains_bytes(image, buildinfo_magic, sizeof buildinfo_magic - 1);
}

/* resolved: whether the libraries were looked for the glibc loader's way
 * (for musl's loader, which has its own search path, they are not). */
static void note_libraries(struct program_report *report, const struct library_deps *deps, bool resolved)
{
    char list[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < deps->direct && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", deps->deps[i].name);
    if (deps->direct == 0)
        report_note(report, "needs no shared library");
    else
        report_note(report, "needs: %s", list);
    for (size_t i = 0; resolved && i < deps->count; i++) {
        if (deps->deps[i].path == NULL)
            report_note(report, "warning: %s is not found (the program may not start at all)", deps->deps[i].name);
    }
}

static const char *needed_by_name(const struct library_deps *deps, const struct library_dep *dep)
{
    return dep->needed_by == LIBRARY_DEP_PROGRAM ? NULL : deps->deps[dep->needed_by].name;
}

static void check_tls(struct program_report *report, const struct elf_image *image, const struct library_deps *deps)
{
    const struct library_dep *ssl = library_deps_find(deps, "libssl.so");
    if (ssl != NULL) {
        const char *via = needed_by_name(deps, ssl);
        report_note(report, "TLS: uses %s dynamically%s%s%s: its TLS traffic is seen (the shim reads it at "
                    "SSL_read/SSL_write, before encryption)",
                    ssl->name, via ? " (through " : "", via ? via : "", via ? ")" : "");
    } else {
        static const char *const versions[] = {"OpenSSL 1.", "OpenSSL 3."};
        bool bundled = elf_defines_symbol(image, "SSL_write", NULL) || elf_defines_symbol(image, "SSL_read", NULL);
        for (size_t i = 0; !bundled && i < sizeof versions / sizeof versions[0]; i++)
            bundled = elf_contains_bytes(image, versions[i], strlen(versions[i]));
        if (bundled)
            report_note(report, "warning: OpenSSL is linked statically or bundled into the program: its TLS "
                                "traffic will not be seen (plain HTTP will)");
        else
            report_note(report, "TLS: no libssl among the libraries it needs at start-up (one loaded later, "
                                "e.g. by a Python module, is seen too)");
    }
    const struct library_dep *curl = library_deps_find(deps, "libcurl.so");
    if (curl != NULL)
        report_note(report, "libcurl: its transfers are traced (HTTP/1.x, HTTP/2 and HTTP/3, with or without TLS)");
}

static void examine_elf(struct program_report *report, const char *path, const struct elf_image *image)
{
    if (image->elf_class != ELFCLASS64) {
        report_block(report, "a 32-bit program: the shim is a 64-bit library, which its loader skips");
        return;
    }
    if (!image->examinable) {
        report_block(report, "a big-endian program: the shim is built for this little-endian machine");
        return;
    }
    if (NATIVE_MACHINE != EM_NONE && image->machine != NATIVE_MACHINE) {
        char reason[160];
        snprintf(reason, sizeof reason, "built for %s, while the shim is built for %s",
                 elf_machine_name(image->machine), elf_machine_name(NATIVE_MACHINE));
        report_block(report, reason);
    }
    const char *interp = elf_interpreter(image);
    bool dynamic = interp != NULL;
    if (is_go_program(image)) {
        report_block(report, "a Go program: Go makes its system calls itself, not through libc");
        report_note(report, "a Go program: the Go runtime makes raw system calls, so its network I/O %s",
                    dynamic ? "bypasses libc even though it is dynamically linked (for cgo and name resolution)"
                            : "never goes through libc");
    }
    if (!dynamic) {
        report_block(report, "statically linked (the dynamic loader, which reads LD_PRELOAD, never runs)");
        report_note(report, "statically linked: no program interpreter (PT_INTERP)%s",
                    elf_has_dynamic_segment(image) ? " (a static PIE)" : " and no dynamic section");
        return;
    }
    report_note(report, "dynamically linked, loader %s", interp);
    bool musl = strstr(interp, "ld-musl") != NULL;
    if (musl)
        report_block(report, "linked with musl: the shim is built for glibc and cannot be loaded into it");

    struct library_deps deps;
    library_deps_collect(&deps, path, image);
    note_libraries(report, &deps, !musl);
    check_tls(report, image, &deps);
    library_deps_free(&deps);
}

static int program_examine_at_depth(struct program_report *report, const char *path, int depth);

/* A "#!" script: the kernel runs its interpreter, so that is what the shim
 * would be loaded into. "/usr/bin/env NAME" is followed to NAME in PATH. */
static int examine_script(struct program_report *report, const unsigned char *head, size_t len,
                          int depth)
{
    char line[PATH_MAX];
    size_t n = 0;
    for (size_t i = 2; i < len && head[i] != '\n' && n + 1 < sizeof line; i++)
        line[n++] = (char)head[i];
    line[n] = '\0';
    char *save = NULL;
    char *interp = strtok_r(line, " \t\r", &save);
    char *arg = strtok_r(NULL, " \t\r", &save);
    if (interp == NULL) {
        report_block(report, "a script without an interpreter");
        return 0;
    }
    char resolved[PATH_MAX];
    const char *target = interp;
    if (strcmp(path_base_name(interp), "env") == 0 && arg != NULL && arg[0] != '-') {
        if (path_search(arg, resolved, sizeof resolved) != 0) {
            report_note(report, "a script run by %s %s, which is not found in PATH", interp, arg);
            report_block(report, "its interpreter is not found");
            return 0;
        }
        target = resolved;
    }
    report_note(report, "not an ELF executable but a script: its interpreter %s is examined instead", target);
    if (depth >= SCRIPT_DEPTH_MAX) {
        report_block(report, "too many levels of script interpreters");
        return 0;
    }
    return program_examine_at_depth(report, target, depth + 1);
}

static int program_examine_at_depth(struct program_report *report, const char *path, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    check_privileges(report, path, &st);

    struct elf_image image;
    enum elf_open_result opened = elf_image_open(&image, path);
    if (opened == ELF_OPEN_IO_ERROR)
        return -1;
    if (opened == ELF_OPEN_NOT_ELF) {
        unsigned char head[PATH_MAX];
        FILE *f = fopen(path, "re");
        size_t len = f != NULL ? fread(head, 1, sizeof head, f) : 0;
        if (f != NULL)
            fclose(f);
        if (len > 2 && head[0] == '#' && head[1] == '!')
            return examine_script(report, head, len, depth);
        report_block(report, "not an ELF executable");
        return 0;
    }
    examine_elf(report, path, &image);
    elf_image_close(&image);
    return 0;
}

int program_examine(struct program_report *report, const char *path)
{
    return program_examine_at_depth(report, path, 0);
}
