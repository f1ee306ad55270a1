/* The real exec family (see real_exec.h). */
#include <dlfcn.h>

#include "sys/real_exec.h"
#include "sys/real_symbols.h"

struct oa_exec oa_exec;

static const char *const names[] = {
#define OA_EXEC(name, field, ret, params, args) #name,
#include "sys/interposed.def"
};

_Static_assert(sizeof(names) / sizeof(names[0]) == OA_TABLE_SIZE(struct oa_exec), "one name per table field");

void oa_exec_bind(void)
{
    oa_real_bind(&oa_exec, names, OA_TABLE_SIZE(oa_exec), RTLD_NEXT);
}
