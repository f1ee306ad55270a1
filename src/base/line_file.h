/* Reading a text file line by line with raw system calls and a small stack
 * buffer: for /proc and /etc files read while the program runs (on its own
 * thread, perhaps with a small stack), never through our own hooks, never
 * allocating. */
#ifndef OA_LINE_FILE_H
#define OA_LINE_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* The longest line handed to a callback; longer lines are skipped whole. */
#define OA_LINE_FILE_MAX 4095

/* Calls fn(line, len, ctx) for each line of path (without its '\n'; the
 * line is NUL-terminated too) until fn returns true. Returns true when fn
 * did, false at the end of the file or when the file cannot be read. */
bool oa_line_file_find(const char *path, bool (*fn)(const char *line, size_t len, void *ctx), void *ctx);

#endif
