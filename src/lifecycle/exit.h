/* The order of things at exit: the span flush and the metrics' final export. */
#ifndef OA_EXIT_H
#define OA_EXIT_H

/* Flushes the spans and has the metrics exported one last time, each bounded
 * by its export timeout. Run by atexit (the exporters register it, see
 * src/export/exit_flush.c) and by the library's destructor; later calls have
 * little or nothing left to do. */
void oa_exit_flush(void);

#endif
