/* Locates the shim next to the otelauto executable, so that an installed
 * command and a build tree each use their own library and never one found
 * by accident elsewhere. */
#include "shim_path.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int shim_path_find(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(out, cap, "%s", SHIM_FILE_NAME);
        return -1;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash != NULL)
        *slash = '\0';

    const char *layouts[] = {"/../lib/otelauto/" SHIM_FILE_NAME, "/" SHIM_FILE_NAME};
    char candidate[PATH_MAX + 64];
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        snprintf(candidate, sizeof candidate, "%s%s", exe, layouts[i]);
        char resolved[PATH_MAX];
        /* realpath: LD_PRELOAD gets a clean absolute path, without "..". */
        if (realpath(candidate, resolved) != NULL && access(resolved, R_OK) == 0) {
            if (strlen(resolved) >= cap)
                return -1;
            memcpy(out, resolved, strlen(resolved) + 1);
            return 0;
        }
    }
    snprintf(out, cap, "%s%s", exe, layouts[0]);
    return -1;
}
