/* Finding a command the way execvp and a shell do. */
#ifndef OTELAUTO_PATH_SEARCH_H
#define OTELAUTO_PATH_SEARCH_H

#include <stddef.h>

/* name with a '/' is taken as is; otherwise the first executable regular
 * file name in a PATH directory (default "/usr/local/bin:/usr/bin:/bin").
 * Writes the path into out; returns 0, or -1 (errno ENOENT) if none. */
int path_search(const char *name, char *out, size_t cap);

/* The part after the last '/'. */
const char *path_base_name(const char *path);

#endif
