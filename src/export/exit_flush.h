/* The flush at exit, registered with atexit by the exporters at the moments
 * they choose; what it does (the order of the span and metrics flushes) is
 * the life cycle's, handed down at start-up. */
#ifndef OA_EXIT_FLUSH_H
#define OA_EXIT_FLUSH_H

/* The function the exporters register with atexit. Set once, at start-up,
 * before any exporter can register it. */
void oa_export_set_exit_flush(void (*flush)(void));

/* Registers the exit flush with atexit, unless *registered says it already
 * was (one flag per moment: a forked child inherits the registrations) or
 * no exit flush was set. */
void oa_export_register_exit_flush(int *registered);

#endif
