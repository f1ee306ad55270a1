/* The real libc functions behind the interposed socket symbols (see
 * real_libc.h): bound once, lazily, with dlsym(RTLD_NEXT). The bottom of the
 * engine: the hooks pass through to it, and the shim's own I/O (header
 * injection, the Prometheus endpoint) calls it instead of the exported
 * symbols. */
#include <dlfcn.h>
#include <pthread.h>

#include "sys/real_libc.h"
#include "sys/real_symbols.h"

struct oa_libc oa_libc;

static const char *const names[] = {
#define OA_LIBC(name, field, ret, params, args) #name,
#include "sys/interposed.def"
};

_Static_assert(sizeof(names) / sizeof(names[0]) == OA_TABLE_SIZE(struct oa_libc), "one name per table field");

static pthread_once_t bind_once = PTHREAD_ONCE_INIT;
static __thread int binding_on_this_thread __attribute__((tls_model("initial-exec")));

static void bind_all(void)
{
    /* dlsym may allocate, and an allocator may call read: on this thread
     * the hooks use the system calls until the table is filled */
    binding_on_this_thread = 1;
    oa_real_bind(&oa_libc, names, OA_TABLE_SIZE(oa_libc), RTLD_NEXT);
    binding_on_this_thread = 0;
}

void oa_libc_bind(void)
{
    if (binding_on_this_thread)
        return;
    pthread_once(&bind_once, bind_all);
}
