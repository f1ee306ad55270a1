/* Diagnostics for the library: one line per message on stderr.
 *
 * Messages can be produced on any thread, including the program's threads
 * inside a hook, so writing one must not allocate, must not take a lock (no
 * stdio) and must not go through our own write hook: the line is formatted on
 * the stack and written with the raw system call. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"
#include "base/write_all.h"

/* Longer lines are cut; a diagnostic never needs more. */
#define OA_LOG_LINE_MAX 1024

int oa_log_threshold = OA_LOG_NONE;

static const char *level_name(int level)
{
    switch (level) {
    case OA_LOG_ERROR:
        return "error";
    case OA_LOG_WARN:
        return "warn";
    case OA_LOG_INFO:
        return "info";
    case OA_LOG_DEBUG:
        return "debug";
    default:
        return "log";
    }
}

/* The level is checked here too, not only in OA_LOG: the OTLP object gets
 * this function through oa_otlp_env and may call it directly. */
void oa_log_write(int level, const char *fmt, ...)
{
    int saved_errno = errno;
    char line[OA_LOG_LINE_MAX];
    va_list ap;

    if (level <= OA_LOG_NONE || level > oa_log_threshold) {
        errno = saved_errno;
        return;
    }

    int prefix = snprintf(line, sizeof line, "otelauto[%ld] %s: ", (long)syscall(SYS_getpid),
                          level_name(level));
    if (prefix < 0)
        prefix = 0;
    size_t len = (size_t)prefix < sizeof line ? (size_t)prefix : sizeof line - 1;

    va_start(ap, fmt);
    int body = vsnprintf(line + len, sizeof line - len, fmt, ap);
    va_end(ap);
    if (body > 0)
        len += (size_t)body;
    /* Keep the last byte for the newline, even when the message was cut. */
    if (len > sizeof line - 1)
        len = sizeof line - 1;
    line[len++] = '\n';

    oa_write_all(2, line, len);
    errno = saved_errno;
}
