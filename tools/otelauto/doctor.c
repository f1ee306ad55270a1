/* otelauto doctor: tells whether the shim can trace a program (a file) or
 * is tracing a process (a PID), and if not, why. The verdict comes first,
 * on one line, so that scripts and people read the same thing. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "commands.h"
#include "path_search.h"
#include "process_inspect.h"
#include "program_report.h"

const char doctor_usage[] =
    "usage: otelauto doctor PROGRAM | PID\n"
    "Tells whether the shim can trace PROGRAM (a file, looked up in PATH when it\n"
    "has no '/'), or whether the running process PID is traced, and why not.\n\n"
    "The first line is the verdict; the lines after it are the reasons:\n"
    "static linking, Go, musl, set-user-ID or file capabilities (secure execution),\n"
    "OpenSSL linked in or bundled (TLS not seen), the libraries it needs. For a PID:\n"
    "whether the shim is loaded, its span counters, LD_PRELOAD and OTEL_SERVICE_NAME.\n\n"
    "Exit status: 0 it can be traced (a PID: it is traced), 1 it cannot (a PID: it\n"
    "is not traced), 2 usage or I/O error.\n";

enum { EXIT_TRACEABLE = 0, EXIT_NOT_TRACEABLE = 1 };

static void print_notes(const struct program_report *report)
{
    for (size_t i = 0; i < report->note_count; i++)
        printf("  %s\n", report->notes[i]);
}

static int doctor_program(const char *name)
{
    char path[PATH_MAX];
    if (path_search(name, path, sizeof path) != 0) {
        fprintf(stderr, "otelauto doctor: %s: not found%s\n", name, strchr(name, '/') ? "" : " in PATH");
        return EXIT_USAGE;
    }
    struct program_report report = {0};
    if (program_examine(&report, path) != 0) {
        fprintf(stderr, "otelauto doctor: %s: %s\n", path, strerror(errno));
        report_free(&report);
        return EXIT_USAGE;
    }
    if (report.blocked)
        printf("otelauto doctor: %s: cannot be traced: %s\n", path, report.block_reason);
    else
        printf("otelauto doctor: %s: can be traced\n", path);
    print_notes(&report);
    int status = report.blocked ? EXIT_NOT_TRACEABLE : EXIT_TRACEABLE;
    report_free(&report);
    return status;
}

static void print_environment(pid_t pid)
{
    bool readable;
    char *preload = process_environment_value(pid, "LD_PRELOAD", &readable);
    if (!readable) {
        printf("  environment not readable (/proc/%d/environ: only the process's user or root may read it)\n",
               (int)pid);
        return;
    }
    char *service = process_environment_value(pid, "OTEL_SERVICE_NAME", &readable);
    if (preload == NULL)
        printf("  LD_PRELOAD: not set\n");
    else
        printf("  LD_PRELOAD %s otelauto: %s\n", strstr(preload, "otelauto") ? "mentions" : "does not mention",
               preload);
    if (service == NULL)
        printf("  OTEL_SERVICE_NAME: not set\n");
    else
        printf("  OTEL_SERVICE_NAME=%s\n", service);
    free(preload);
    free(service);
}

static int doctor_process(const char *pid_text)
{
    char *end;
    errno = 0;
    long value = strtol(pid_text, &end, 10);
    if (errno != 0 || *end != '\0' || value <= 0 || value > INT_MAX) {
        fprintf(stderr, "otelauto doctor: %s: not a process id\n", pid_text);
        return EXIT_USAGE;
    }
    pid_t pid = (pid_t)value;

    struct process_mappings maps;
    if (process_read_mappings(pid, &maps) != 0) {
        fprintf(stderr, "otelauto doctor: process %d: %s\n", (int)pid,
                errno == ENOENT ? "no such process" : strerror(errno));
        return EXIT_USAGE;
    }
    char link[64], exe[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(link, exe, sizeof exe - 1);
    if (n < 0) {
        /* kernel threads have no executable; others may hide it from us */
        fprintf(stderr, "otelauto doctor: process %d: its executable is not readable (%s)\n", (int)pid,
                strerror(errno));
        return EXIT_USAGE;
    }
    exe[n] = '\0';

    /* the file checks run on the file the process runs: its path while it
     * still names that file, else /proc/PID/exe (replaced or deleted since) */
    const char *examined_path = access(exe, R_OK) == 0 ? exe : link;
    struct program_report report = {0};
    int examined = program_examine(&report, examined_path);

    int status;
    if (maps.shim_loaded) {
        printf("otelauto doctor: process %d (%s): traced: the shim is loaded (%s)\n", (int)pid, exe, maps.shim_path);
        status = EXIT_TRACEABLE;
    } else if (examined == 0 && report.blocked) {
        printf("otelauto doctor: process %d (%s): not traced: the shim is not loaded, and cannot be: %s\n", (int)pid,
               exe, report.block_reason);
        status = EXIT_NOT_TRACEABLE;
    } else {
        printf("otelauto doctor: process %d (%s): not traced: the shim is not loaded (start the program with "
               "`otelauto run`)\n",
               (int)pid, exe);
        status = EXIT_NOT_TRACEABLE;
    }

    if (maps.shim_loaded) {
        struct shim_counters counters;
        char why[512];
        if (process_read_counters(pid, &maps, &counters, why, sizeof why) == 0)
            printf("  spans: submitted %llu, exported %llu, dropped %llu, failed %llu\n",
                   (unsigned long long)counters.submitted, (unsigned long long)counters.exported,
                   (unsigned long long)counters.dropped_queue_full, (unsigned long long)counters.failed);
        else
            printf("  %s\n", why);
        printf("  exporter (libotelauto-otlp.so): %s\n",
               maps.exporter_loaded ? "loaded" : "not loaded yet (nothing was exported so far)");
        if (maps.libssl[0] != '\0')
            printf("  %s is loaded: its TLS traffic is seen\n", maps.libssl);
    }
    print_environment(pid);
    if (examined == 0)
        print_notes(&report);
    else
        printf("  the executable could not be examined: %s\n", strerror(errno));
    report_free(&report);
    return status;
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

int doctor_main(int argc, char **argv)
{
    int first = 1;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(doctor_usage, stdout);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--") == 0)
        first = 2;
    if (argc - first != 1) {
        fprintf(stderr, "otelauto doctor: give one program or process id\n\n%s", doctor_usage);
        return EXIT_USAGE;
    }
    const char *target = argv[first];
    return all_digits(target) ? doctor_process(target) : doctor_program(target);
}
