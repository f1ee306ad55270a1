/* PATH look-up for the doctor (run leaves it to execvp). */
#include "path_search.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *path_base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

int path_search(const char *name, char *out, size_t cap)
{
    if (strchr(name, '/') != NULL) {
        if ((size_t)snprintf(out, cap, "%s", name) >= cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        return 0;
    }
    const char *path = getenv("PATH");
    if (path == NULL || path[0] == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    while (path != NULL) {
        const char *end = strchr(path, ':');
        size_t len = end != NULL ? (size_t)(end - path) : strlen(path);
        /* an empty entry means the current directory */
        const char *dir = len == 0 ? "." : path;
        int dir_len = len == 0 ? 1 : (int)len;
        if ((size_t)snprintf(out, cap, "%.*s/%s", dir_len, dir, name) < cap) {
            struct stat st;
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
                return 0;
        }
        path = end != NULL ? end + 1 : NULL;
    }
    errno = ENOENT;
    return -1;
}
