/* The spans `otelauto tail` has received, grouped by trace, and each trace
 * printed as a tree once it is complete: its root has arrived and nothing
 * new came for a quiet period. */
#ifndef OTELAUTO_TRACE_TREE_H
#define OTELAUTO_TRACE_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One received span, reduced to what the tree shows. Strings are owned by
 * the span (malloc'ed) and hold no control characters. */
struct tree_span {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_id[8];
    bool has_parent;
    int kind;          /* OTLP SpanKind */
    uint64_t start_ns; /* unix nanoseconds */
    uint64_t end_ns;
    char *service;     /* service.name of its resource */
    char *name;        /* the span's name, with url.path for a server span */
    char *details;     /* key attributes and an error status, "" if none */
};

void tree_span_free(struct tree_span *span);

struct trace_store;

/* max_spans bounds memory: when full, the oldest traces are printed early.
 * quiet_ms is the time after a trace's last span before it is printed. */
struct trace_store *trace_store_new(FILE *out, size_t max_spans, uint64_t quiet_ms);
void trace_store_free(struct trace_store *store);

/* Takes ownership of span. now_ms: a monotonic clock. */
void trace_store_add(struct trace_store *store, struct tree_span *span, uint64_t now_ms);

/* Prints the traces that are complete at now_ms. */
void trace_store_print_complete(struct trace_store *store, uint64_t now_ms);

/* Milliseconds until the next trace may become complete, or -1 if none is pending. */
int trace_store_next_deadline(const struct trace_store *store, uint64_t now_ms);

/* Prints every pending trace, complete or not (at exit). */
void trace_store_print_all(struct trace_store *store);

#endif
