/* Runtime hints: the environment that loads the runtime's module. */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/log.h"
#include "lifecycle/java_banner.h"
#include "lifecycle/runtime_hints.h"

/* beside the shim: lib/otelauto/hints/... installed, build/hints/... built */
#define NODE_MODULE "hints/node/otelauto-hint.js"
#define PYTHON_DIR "hints/python"
#define JAVA_AGENT "hints/java/otelauto-hint.jar"

enum runtime { RUNTIME_OTHER, RUNTIME_NODE, RUNTIME_PYTHON, RUNTIME_JAVA };

/* By the program's name, as it was started (no system call: every process
 * under the shim comes here): node or nodejs; python, python3, python3.11;
 * java (the launcher; the JVM it starts reads JAVA_TOOL_OPTIONS).
 * An interpreter started by a script's #! line has the interpreter's name. */
static enum runtime this_runtime(void)
{
    const char *name = program_invocation_short_name;
    if (name == NULL)
        return RUNTIME_OTHER;
    if (strcmp(name, "node") == 0 || strcmp(name, "nodejs") == 0)
        return RUNTIME_NODE;
    if (strcmp(name, "java") == 0)
        return RUNTIME_JAVA;
    if (strncmp(name, "python", 6) != 0)
        return RUNTIME_OTHER;
    for (const char *p = name + 6; *p != '\0'; p++)
        if ((*p < '0' || *p > '9') && *p != '.')
            return RUNTIME_OTHER;
    return RUNTIME_PYTHON;
}

/* The file `rel` beside the shim into out, if it is there. */
static bool beside_shim(const char *rel, char *out, size_t cap)
{
    Dl_info info;
    if (dladdr((void *)oa_runtime_hints_install, &info) == 0 || info.dli_fname == NULL)
        return false;
    const char *slash = strrchr(info.dli_fname, '/');
    if (slash == NULL)
        return false;
    int n = snprintf(out, cap, "%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname, rel);
    return n > 0 && (size_t)n < cap && access(out, R_OK) == 0;
}

/* name=value followed by the old value (sep between), unless the old value
 * already holds value (a traced parent set it up). */
static void prepend(const char *name, const char *value, const char *sep)
{
    const char *old = getenv(name);
    if (old != NULL && strstr(old, value) != NULL)
        return;
    size_t len = strlen(value) + strlen(sep) + (old != NULL ? strlen(old) : 0) + 1;
    char *joined = malloc(len);
    if (joined == NULL)
        return;
    if (old != NULL && old[0] != '\0')
        snprintf(joined, len, "%s%s%s", value, sep, old);
    else
        snprintf(joined, len, "%s", value);
    if (setenv(name, joined, 1) != 0)
        OA_DEBUG("runtime hints: %s not set", name);
    free(joined);
}

void oa_runtime_hints_install(void)
{
    const char *off = secure_getenv("OTELAUTO_RUNTIME_HINTS");
    if (off != NULL && strcasecmp(off, "false") == 0)
        return;
    enum runtime r = this_runtime();
    if (r == RUNTIME_OTHER) {
        /* another JVM launcher, started by a traced java with its variable */
        oa_java_banner_arm_inherited("/" JAVA_AGENT);
        return;
    }
    char path[PATH_MAX];
    if (r == RUNTIME_NODE) {
        /* NODE_OPTIONS splits on spaces unless quoted; a path it could not
         * hold as it is gets no module */
        char option[PATH_MAX + 16];
        if (!beside_shim(NODE_MODULE, path, sizeof(path)) || strpbrk(path, " \"'\\") != NULL)
            return;
        snprintf(option, sizeof(option), "--require %s", path);
        prepend("NODE_OPTIONS", option, " ");
    } else if (r == RUNTIME_JAVA) {
        /* JAVA_TOOL_OPTIONS splits on white space unless quoted */
        char option[PATH_MAX + 16];
        if (!beside_shim(JAVA_AGENT, path, sizeof(path)) || strpbrk(path, " \t\n\"'\\") != NULL)
            return;
        snprintf(option, sizeof(option), "-javaagent:%s", path);
        prepend("JAVA_TOOL_OPTIONS", option, " ");
        /* the JVM would say it picked the variable up */
        oa_java_banner_arm(option);
    } else {
        if (!beside_shim(PYTHON_DIR "/sitecustomize.py", path, sizeof(path)) || strchr(path, ':') != NULL)
            return;
        *strrchr(path, '/') = '\0';
        prepend("PYTHONPATH", path, ":");
    }
}
