/* Locating an already loaded library by one of its symbols (see
 * oa_real_library.h). */
#include <dlfcn.h>
#include <stddef.h>

#include "sys/real_library.h"

void *oa_real_symbol(void *lib, const char *name)
{
    void *p = lib != NULL ? dlsym(lib, name) : NULL;
    if (p == NULL)
        (void)dlerror();
    return p;
}

void *oa_real_library(const char *anchor, const char *const *sonames)
{
    void *next = dlsym(RTLD_NEXT, anchor);
    if (next != NULL) {
        Dl_info info;
        if (dladdr(next, &info) != 0 && info.dli_fname != NULL) {
            void *lib = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
            if (lib != NULL)
                return lib;
        }
        /* defined by the executable itself, say: look up name by name */
        (void)dlerror();
        return RTLD_NEXT;
    }
    (void)dlerror();
    for (const char *const *s = sonames; *s != NULL; s++) {
        void *lib = dlopen(*s, RTLD_LAZY | RTLD_NOLOAD);
        if (lib != NULL && oa_real_symbol(lib, anchor) != NULL)
            return lib;
        if (lib != NULL)
            dlclose(lib);
    }
    (void)dlerror();
    return NULL;
}

/* The exporter object's dlopen handle, published by whoever loads it (the
 * export layer, which sits above this one and so hands it down). */
static void *exporter_library;

void oa_exporter_library_set(void *handle)
{
    __atomic_store_n(&exporter_library, handle, __ATOMIC_RELEASE);
}

void *oa_exporter_symbol(void **cache, const char *name)
{
    void *p = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (p == NULL) {
        p = oa_real_symbol(__atomic_load_n(&exporter_library, __ATOMIC_ACQUIRE), name);
        __atomic_store_n(cache, p, __ATOMIC_RELEASE);
    }
    return p;
}
