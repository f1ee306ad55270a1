/* The one way every hook family (libc, exec, OpenSSL, libcurl) binds its real
 * functions: a table of function pointers generated from the list of
 * interposed symbols (sys/interposed.def), filled from one place, RTLD_NEXT
 * for libc or the already loaded library for the others (real_library.h).
 * When the binding happens stays each family's own: lazily for libc,
 * OpenSSL and libcurl, in the constructor for exec (see their headers). */
#ifndef OA_REAL_SYMBOLS_H
#define OA_REAL_SYMBOLS_H

#include <stddef.h>

/* The number of function pointers in a table struct made of nothing else. */
#define OA_TABLE_SIZE(table) (sizeof(table) / sizeof(void *))

/* Looks up names[0..count) in lib (RTLD_NEXT or a dlopen handle; NULL: binds
 * nothing, every entry NULL) and stores them into the table (a struct of
 * `count` function pointers, in the names' order) with release stores, so
 * that a reader on another thread sees either NULL or the real function.
 * Leaves dlerror() clean. */
void oa_real_bind(void *table, const char *const names[], size_t count, void *lib);

#endif
