/* The real libc functions behind every interposed socket symbol (the OA_LIBC
 * entries of sys/interposed.def), bound once (lazily, under pthread_once)
 * with dlsym(RTLD_NEXT). Engine code that must perform I/O itself (header
 * injection, the Prometheus endpoint) calls through this table, never
 * through the exported symbols, which are the hooks. */
#ifndef OA_LIBC_H
#define OA_LIBC_H

#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* glibc exports it, but declares it only in fortified builds */
extern int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);

struct oa_libc {
#define OA_LIBC(name, field, ret, params, args) ret(*field) params;
#include "sys/interposed.def"
};

extern struct oa_libc oa_libc;

/* Binds the table if it is not bound yet. Safe to call from any hook. */
void oa_libc_bind(void);

#endif
