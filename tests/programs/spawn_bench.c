/* Start-up cost of preloads: starts a program COUNT times under each of the
 * given preloads, interleaved (run i of every preload before run i+1 of any),
 * so that a burst of load on a shared machine hits all of them alike. The
 * preload goes into the child's environment only: this launcher is never
 * measured. posix_spawn keeps the launcher's own cost small and equal.
 *
 *   spawn_bench COUNT PROGRAM PRELOAD...        (PRELOAD "" = none)
 *
 * Prints one line per preload, in the order given:
 *   <median ns per run> <total ns>
 * Exits 1 if a run fails to start or exits non-zero. */
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

/* environ without any LD_PRELOAD, plus ours (if any). */
static char **child_environment(const char *preload)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            env[k++] = environ[i];
    }
    if (preload[0] != '\0') {
        size_t len = strlen(preload) + sizeof "LD_PRELOAD=";
        char *entry = malloc(len);
        if (entry == NULL)
            return NULL;
        snprintf(entry, len, "LD_PRELOAD=%s", preload);
        env[k++] = entry;
    }
    env[k] = NULL;
    return env;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int run_once(char *const *argv, char **env, uint64_t *elapsed)
{
    uint64_t t0 = now_ns();
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, env);
    if (rc != 0) {
        fprintf(stderr, "spawn_bench: cannot start %s: %s\n", argv[0], strerror(rc));
        return -1;
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "spawn_bench: %s failed (status 0x%x)\n", argv[0], status);
        return -1;
    }
    *elapsed = now_ns() - t0;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s COUNT PROGRAM PRELOAD...\n", argv[0]);
        return 1;
    }
    long count = strtol(argv[1], NULL, 10);
    if (count < 1)
        count = 1;
    char *prog_argv[] = {argv[2], NULL};
    int n_preloads = argc - 3;
    char ***envs = calloc((size_t)n_preloads, sizeof *envs);
    uint64_t **samples = calloc((size_t)n_preloads, sizeof *samples);
    if (envs == NULL || samples == NULL)
        return 1;
    for (int p = 0; p < n_preloads; p++) {
        envs[p] = child_environment(argv[3 + p]);
        samples[p] = calloc((size_t)count, sizeof **samples);
        if (envs[p] == NULL || samples[p] == NULL)
            return 1;
    }

    for (long i = 0; i < count; i++) {
        /* rotate which preload goes first, so none always runs after another */
        for (int k = 0; k < n_preloads; k++) {
            int p = (int)((i + k) % n_preloads);
            if (run_once(prog_argv, envs[p], &samples[p][i]) != 0)
                return 1;
        }
    }

    for (int p = 0; p < n_preloads; p++) {
        uint64_t total = 0;
        for (long i = 0; i < count; i++)
            total += samples[p][i];
        qsort(samples[p], (size_t)count, sizeof **samples, compare_u64);
        printf("%llu %llu\n", (unsigned long long)samples[p][count / 2], (unsigned long long)total);
    }
    return 0;
}
