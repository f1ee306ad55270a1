/* What a running process says about the shim: whether it is mapped, its
 * export counters (read from the process's memory), and the environment
 * the process was started with. */
#ifndef OTELAUTO_PROCESS_INSPECT_H
#define OTELAUTO_PROCESS_INSPECT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct process_mappings {
    bool shim_loaded;
    char shim_path[PATH_MAX];   /* the file of the shim's mapping */
    uint64_t shim_start;        /* start of its mapping at file offset 0 */
    uint64_t shim_end;
    bool exporter_loaded;       /* libotelauto-otlp.so: something was exported */
    char libssl[128];           /* file name of a mapped libssl, or "" */
};

/* Reads /proc/PID/maps. Returns 0, or -1 with errno set. */
int process_read_mappings(pid_t pid, struct process_mappings *maps);

/* The shim's export counters, in the order of struct oa_export_counters. */
struct shim_counters {
    uint64_t submitted, exported, dropped_queue_full, failed, wakeups_by_submitters;
};

/* Reads the counters of the shim mapped in pid. Returns 0, or -1 with a
 * sentence in why saying what prevented it. */
int process_read_counters(pid_t pid, const struct process_mappings *maps, struct shim_counters *out, char *why,
                          size_t why_cap);

/* The value of NAME in /proc/PID/environ, malloc'ed, or NULL when it is not
 * set (*readable false when the file could not be read at all). */
char *process_environment_value(pid_t pid, const char *name, bool *readable);

#endif
