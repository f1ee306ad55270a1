/* The doctor's findings about one program file: whether the shim can trace
 * it, the first reason why not, and notes (warnings and facts) to print. */
#ifndef OTELAUTO_PROGRAM_REPORT_H
#define OTELAUTO_PROGRAM_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#define REPORT_NOTES_MAX 32

struct program_report {
    bool blocked;          /* the shim cannot trace it */
    char block_reason[256]; /* the first reason, for the verdict line */
    char *notes[REPORT_NOTES_MAX];
    size_t note_count;
};

void report_note(struct program_report *report, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records a reason the program cannot be traced (the first one is the verdict's). */
void report_block(struct program_report *report, const char *reason);
void report_free(struct program_report *report);

/* Examines the program file at path (scripts: their interpreter). Returns 0,
 * or -1 with errno set when the file cannot be read (nothing is decided). */
int program_examine(struct program_report *report, const char *path);

#endif
