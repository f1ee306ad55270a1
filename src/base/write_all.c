#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/write_all.h"

void oa_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        long n = syscall(SYS_write, fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}
