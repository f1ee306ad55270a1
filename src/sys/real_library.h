/* Finding the real functions behind hooks on libraries other than libc
 * (OpenSSL, libcurl), which the program may load late, or load with dlopen
 * and RTLD_LOCAL (Python's _ssl module; our own exporter's libcurl), where
 * dlsym(RTLD_NEXT) does not see them. Nothing is ever loaded: a program that
 * never calls the hooked functions never gets here. */
#ifndef OA_REAL_LIBRARY_H
#define OA_REAL_LIBRARY_H

#include "base/guard.h"

/* A dlopen handle (RTLD_NOLOAD) of the library that defines `anchor` for
 * this process: the next definition after ours in the lookup order, else the
 * first already loaded library among `sonames` (NULL-terminated). NULL when
 * there is none. Leaves dlerror() clean. */
void *oa_real_library(const char *anchor, const char *const *sonames);

/* dlsym(lib, name), NULL (and dlerror() clean) when absent. */
void *oa_real_symbol(void *lib, const char *name);

/* Where oa_exporter_symbol looks: the dlopen handle of our exporter object
 * once it is loaded (NULL before). */
void oa_exporter_library_set(void *handle);

/* For calls made by our own exporter (oa_in_library): the definition of
 * name among the exporter object's own dependencies, which may not be the
 * program's (a program on libcurl-gnutls, or another libssl), or NULL.
 * *cache keeps the answer. */
void *oa_exporter_symbol(void **cache, const char *name);

/* First thing in a hook: a call made by our own exporter (oa_in_library) goes
 * to the function its own libraries define, which may not be the one the
 * program binds to. `type` is the function's pointer type. */
#define EXPORTER_CALLS_ITS_OWN(name, type, ...)                                      \
    do {                                                                             \
        if (__builtin_expect(oa_in_library, 0)) {                                    \
            static void *own_;                                                       \
            __typeof__(type) f_ = (__typeof__(type))oa_exporter_symbol(&own_, name);   \
            if (f_ != NULL)                                                          \
                return f_(__VA_ARGS__);                                              \
        }                                                                            \
    } while (0)

#endif
