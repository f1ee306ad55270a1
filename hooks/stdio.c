/* Interposition of __vfprintf_chk, for one line: the JVM's banner of a
 * JAVA_TOOL_OPTIONS that the runtime hints set (lifecycle/java_banner.h).
 * HotSpot prints it through jio_vfprintf, which calls __vfprintf_chk from
 * libjvm.so (Debian builds it fortified). Any other call, and every call in
 * a process where the filter is not armed, passes straight through. */
#include <stdarg.h>
#include <stdio.h>

#include "base/common.h"
#include "lifecycle/java_banner.h"
#include "sys/real_libc.h"

OA_EXPORT int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
    if (__builtin_expect(__atomic_load_n(&oa_java_banner_armed, __ATOMIC_RELAXED), 0)) {
        int printed;
        if (oa_java_banner_take(f, fmt, ap, &printed))
            return printed;
    }
    int (*real)(FILE *, int, const char *, va_list) = __atomic_load_n(&oa_libc.vfprintf_chk, __ATOMIC_ACQUIRE);
    if (__builtin_expect(real == NULL, 0)) {
        oa_libc_bind();
        real = oa_libc.vfprintf_chk;
    }
    /* unbound (while the table is being filled): libc's unfortified one */
    return real != NULL ? real(f, flag, fmt, ap) : vfprintf(f, fmt, ap);
}
