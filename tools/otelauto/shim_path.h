/* Where the shim (libotelauto.so) is, relative to this executable. */
#ifndef OTELAUTO_SHIM_PATH_H
#define OTELAUTO_SHIM_PATH_H

#include <stddef.h>

#define SHIM_FILE_NAME "libotelauto.so"

/* Writes the shim's absolute path into out. Looks, from the directory D of
 * /proc/self/exe, at D/../lib/otelauto/libotelauto.so (installed layout)
 * and then D/libotelauto.so (build tree). Returns 0, or -1 when neither
 * exists (out then names the first candidate, for the message). */
int shim_path_find(char *out, size_t cap);

#endif
