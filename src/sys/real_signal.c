/* The real signal-disposition functions (see real_signal.h). */
#include <dlfcn.h>
#include <pthread.h>

#include "sys/real_signal.h"
#include "sys/real_symbols.h"

struct oa_signal_real oa_signal_real;

static const char *const names[] = {
#define OA_SIGNAL(name, field, ret, params, args) #name,
#include "sys/interposed.def"
};

_Static_assert(sizeof(names) / sizeof(names[0]) == OA_TABLE_SIZE(struct oa_signal_real), "one name per table field");

static pthread_once_t bound = PTHREAD_ONCE_INIT;

static void bind_table(void)
{
    oa_real_bind(&oa_signal_real, names, OA_TABLE_SIZE(oa_signal_real), RTLD_NEXT);
}

void oa_signal_bind(void)
{
    pthread_once(&bound, bind_table);
}
