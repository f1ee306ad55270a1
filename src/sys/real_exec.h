/* The real exec, spawn and system functions behind hooks/exec.c (the OA_EXEC
 * entries of sys/interposed.def), from dlsym(RTLD_NEXT). Bound from the
 * constructor, never lazily: the hooks run between fork or vfork and exec,
 * where no lock may be taken and nothing allocated (dlsym does both). */
#ifndef OA_REAL_EXEC_H
#define OA_REAL_EXEC_H

#include <spawn.h>
#include <sys/types.h>

struct oa_exec {
#define OA_EXEC(name, field, ret, params, args) ret(*field) params;
#include "sys/interposed.def"
};

extern struct oa_exec oa_exec;

/* Fills the table; called once, from a constructor. */
void oa_exec_bind(void);

#endif
