/* Filling a real-function table (see real_symbols.h). */
#include <dlfcn.h>

#include "sys/real_symbols.h"

void oa_real_bind(void *table, const char *const names[], size_t count, void *lib)
{
    void **slot = table;
    for (size_t i = 0; i < count; i++) {
        void *p = lib != NULL ? dlsym(lib, names[i]) : NULL;
        /* dlerror() state is per thread and may hold an allocated message:
         * leave it clean for the program. */
        if (p == NULL)
            (void)dlerror();
        __atomic_store_n(&slot[i], p, __ATOMIC_RELEASE);
    }
}
