/* The shared libraries a program loads at start-up: its DT_NEEDED entries
 * and theirs, found the way the dynamic loader finds them (RUNPATH/RPATH
 * with $ORIGIN, LD_LIBRARY_PATH, ld.so.conf, the default directories). */
#ifndef OTELAUTO_LIBRARY_DEPS_H
#define OTELAUTO_LIBRARY_DEPS_H

#include <stddef.h>

#include "elf_inspect.h"

#define LIBRARY_DEPS_MAX 256

struct library_dep {
    char *name;      /* as written in DT_NEEDED */
    char *path;      /* the file found, or NULL */
    size_t needed_by; /* index of the library that needs it; LIBRARY_DEP_PROGRAM for the program */
};
#define LIBRARY_DEP_PROGRAM ((size_t)-1)

struct library_deps {
    struct library_dep deps[LIBRARY_DEPS_MAX];
    size_t count;     /* breadth first: the program's own needs come first */
    size_t direct;    /* how many of them the program itself needs */
};

/* Fills deps for the program at path (already opened as image). */
void library_deps_collect(struct library_deps *deps, const char *path, const struct elf_image *image);
void library_deps_free(struct library_deps *deps);

/* The first library whose name starts with prefix ("libssl.so"), or NULL. */
const struct library_dep *library_deps_find(const struct library_deps *deps, const char *prefix);

#endif
