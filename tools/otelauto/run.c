/* otelauto run: starts a program with the shim preloaded. Everything is done
 * through the environment the program inherits; then this process becomes
 * the program (exec), so signals, exit status and the terminal are its own. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "shim_path.h"

const char run_usage[] =
    "usage: otelauto run [--service NAME] [--console] [--] PROGRAM [ARGS...]\n"
    "Runs PROGRAM with the shim (libotelauto.so) appended to LD_PRELOAD.\n\n"
    "  --service NAME  service.name of its spans (OTEL_SERVICE_NAME); by default\n"
    "                  the program's file name, unless OTEL_SERVICE_NAME is set\n"
    "  --console       print spans on stderr instead of exporting them\n"
    "                  (OTEL_TRACES_EXPORTER=console)\n"
    "  --              ends the options (needed when PROGRAM starts with '-')\n\n"
    "Other settings come from the OTEL_* variables of the environment.\n"
    "Exit status: the program's; 127 if it is not found, 126 if it cannot be run.\n";

/* Exit statuses of a shell that could not start a command. */
enum { EXIT_NOT_EXECUTABLE = 126, EXIT_NOT_FOUND = 127 };

static bool is_separator(char c)
{
    return c == ':' || c == ' ';
}

/* Is the shim already among the entries of LD_PRELOAD (which the loader
 * splits on ':' and ' ')? Any entry named libotelauto.so counts: two copies
 * of the shim in one process would trace every request twice. */
static bool preload_has_shim(const char *preload)
{
    const size_t name_len = strlen(SHIM_FILE_NAME);
    const char *p = preload;
    while (*p != '\0') {
        while (is_separator(*p))
            p++;
        const char *start = p;
        while (*p != '\0' && !is_separator(*p))
            p++;
        size_t len = (size_t)(p - start);
        if (len >= name_len && memcmp(p - name_len, SHIM_FILE_NAME, name_len) == 0 &&
            (len == name_len || p[-(long)name_len - 1] == '/'))
            return true;
    }
    return false;
}

static int set_preload(const char *shim)
{
    const char *current = getenv("LD_PRELOAD");
    if (current == NULL || current[0] == '\0')
        return setenv("LD_PRELOAD", shim, 1);
    if (preload_has_shim(current))
        return 0;
    /* Appended, never replacing: other preloaded libraries keep working. */
    size_t len = strlen(current) + 1 + strlen(shim) + 1;
    char *joined = malloc(len);
    if (joined == NULL)
        return -1;
    snprintf(joined, len, "%s:%s", current, shim);
    int rc = setenv("LD_PRELOAD", joined, 1);
    free(joined);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

int run_main(int argc, char **argv)
{
    const char *service = NULL;
    bool console = false;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-')
            break;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(run_usage, stdout);
            return 0;
        } else if (strcmp(arg, "--console") == 0) {
            console = true;
        } else if (strcmp(arg, "--service") == 0 && i + 1 < argc) {
            service = argv[++i];
        } else if (strncmp(arg, "--service=", 10) == 0) {
            service = arg + 10;
        } else {
            fprintf(stderr, "otelauto run: unknown or incomplete option '%s'\n\n%s", arg, run_usage);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "otelauto run: no program given\n\n%s", run_usage);
        return EXIT_USAGE;
    }
    char **program_argv = argv + i;
    const char *program = program_argv[0];

    char shim[PATH_MAX];
    if (shim_path_find(shim, sizeof shim) != 0) {
        fprintf(stderr, "otelauto run: cannot find the shim (looked for %s and %s beside this command)\n", shim,
                SHIM_FILE_NAME);
        return EXIT_USAGE;
    }
    if (set_preload(shim) != 0) {
        perror("otelauto run: LD_PRELOAD");
        return EXIT_USAGE;
    }
    const char *inherited_service = getenv("OTEL_SERVICE_NAME");
    if (service != NULL && service[0] != '\0')
        setenv("OTEL_SERVICE_NAME", service, 1);
    else if (inherited_service == NULL || inherited_service[0] == '\0')
        setenv("OTEL_SERVICE_NAME", base_name(program), 1);
    if (console)
        setenv("OTEL_TRACES_EXPORTER", "console", 1);

    execvp(program, program_argv);
    int err = errno;
    fprintf(stderr, "otelauto run: %s: %s\n", program, strerror(err));
    return err == ENOENT || err == ENOTDIR ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
}
