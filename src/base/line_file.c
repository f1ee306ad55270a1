/* Line-by-line reading of small system files (see oa_line_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/line_file.h"

bool oa_line_file_find(const char *path, bool (*fn)(const char *line, size_t len, void *ctx), void *ctx)
{
    char buf[OA_LINE_FILE_MAX + 1];
    size_t have = 0;
    bool skipping = false; /* inside a line too long for buf */
    bool found = false;
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return false;
    for (;;) {
        long n = syscall(SYS_read, (int)fd, buf + have, sizeof buf - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* a last line without '\n' */
            if (have > 0 && !skipping) {
                buf[have] = '\0';
                found = fn(buf, have, ctx);
            }
            break;
        }
        have += (size_t)n;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', have - start);
            if (!nl)
                break;
            size_t end = (size_t)(nl - buf);
            *nl = '\0';
            if (!skipping && fn(buf + start, end - start, ctx)) {
                found = true;
                goto done;
            }
            skipping = false;
            start = end + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == sizeof buf - 1) {
            /* no '\n' in a full buffer: drop this line up to its end */
            skipping = true;
            have = 0;
        }
    }
done:
    syscall(SYS_close, (int)fd);
    return found;
}
