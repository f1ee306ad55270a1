/* The crashed thread's stack as text, for exception.stacktrace: one line a
 * frame, "#N function+0xOFFSET (module)" (or "#N 0xADDRESS (module)" when
 * the function has no name), from libunwind and /proc/self/maps.
 *
 * libunwind (libunwind.so.8) is no link-time dependency of the preloaded
 * object: oa_crash_stack_load() dlopens it when crash capture is set up (at
 * configuration, never in the constructor), and without it the trace is
 * empty. The module of each frame comes from /proc/self/maps, read in the
 * handler with plain system calls: dladdr takes the dynamic linker's lock,
 * which another thread may hold (a dlopen in progress) forever. */
#ifndef OA_CRASH_STACK_H
#define OA_CRASH_STACK_H

#include "base/common.h"

/* Loads libunwind and its entry points; false when it is not there. */
bool oa_crash_stack_load(void);

/* The stack of the thread interrupted at ucontext (the signal handler's
 * third argument), at most `cap` bytes (whole lines), into out: its length.
 * Async-signal-safe as libunwind's local unwinding is (see README). */
size_t oa_crash_stack_write(void *ucontext, char *out, size_t cap);

/* ---- the pure parts ---- */

/* v in base 10 or 16 (lower case), at most cap digits (the leading ones),
 * no NUL: how many were written. */
size_t oa_crash_format_number(char *out, size_t cap, uint64_t v, unsigned base);

/* One frame's line (with its '\n'), cut to cap bytes: its length. fn NULL or
 * "": no name (the address is shown). */
size_t oa_crash_frame_format(char *out, size_t cap, unsigned index, const char *fn, uint64_t offset, uint64_t ip,
                             const char *module, size_t module_len);
/* The path of the mapping that holds ip in a /proc/<pid>/maps text of len
 * bytes; false when none (or an anonymous one) does. */
bool oa_crash_maps_module(const char *maps, size_t len, uint64_t ip, const char **path, size_t *path_len);

#endif
