/* Finding the real functions behind hooks on libraries other than libc
 * (OpenSSL, libcurl), which the program may load late, or load with dlopen
 * and RTLD_LOCAL (Python's _ssl module; our own exporter's libcurl), where
 * dlsym(RTLD_NEXT) does not see them. Nothing is ever loaded: a program that
 * never calls the hooked functions never gets here. */
#ifndef OA_REAL_LIBRARY_H
#define OA_REAL_LIBRARY_H

/* A dlopen handle (RTLD_NOLOAD) of the library that defines `anchor` for
 * this process: the next definition after ours in the lookup order, else the
 * first already loaded library among `sonames` (NULL-terminated). NULL when
 * there is none. Leaves dlerror() clean. */
void *oa_real_library(const char *anchor, const char *const *sonames);

/* dlsym(lib, name), NULL (and dlerror() clean) when absent. */
void *oa_real_symbol(void *lib, const char *name);

#endif
