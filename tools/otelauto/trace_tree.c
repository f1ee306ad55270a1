/* Grouping spans into traces and drawing each trace as a tree. A trace is
 * held until it is quiet: spans of one trace come from several processes,
 * each exporting on its own schedule, so the only sign that a trace is
 * whole is that nothing more arrives for it. */
#include "trace_tree.h"

#include <stdlib.h>
#include <string.h>

/* A trace whose root span has not arrived (it started in a process that
 * does not export here, or exports later) is held this many times longer. */
#define ROOTLESS_QUIET_FACTOR 5
/* How many printed trace ids are remembered to mark later spans "continued". */
#define RECENT_TRACES 256
/* Indentation stops growing past this depth, to keep lines readable. */
#define MAX_DRAWN_DEPTH 64

struct pending_trace {
    uint8_t trace_id[16];
    struct tree_span **spans;
    size_t count, cap;
    bool has_root;          /* a span without a parent has arrived */
    uint64_t last_arrival_ms;
};

struct trace_store {
    FILE *out;
    size_t max_spans;
    uint64_t quiet_ms;
    struct pending_trace *traces; /* in order of their first span's arrival */
    size_t trace_count, trace_cap;
    size_t span_count;
    uint8_t recent[RECENT_TRACES][16];
    size_t recent_next, recent_count;
};

void tree_span_free(struct tree_span *span)
{
    if (span == NULL)
        return;
    free(span->service);
    free(span->name);
    free(span->details);
    free(span);
}

struct trace_store *trace_store_new(FILE *out, size_t max_spans, uint64_t quiet_ms)
{
    struct trace_store *store = calloc(1, sizeof *store);
    if (store == NULL)
        return NULL;
    store->out = out;
    store->max_spans = max_spans > 0 ? max_spans : 1;
    store->quiet_ms = quiet_ms;
    return store;
}

static void free_trace(struct pending_trace *trace)
{
    for (size_t i = 0; i < trace->count; i++)
        tree_span_free(trace->spans[i]);
    free(trace->spans);
}

void trace_store_free(struct trace_store *store)
{
    if (store == NULL)
        return;
    for (size_t i = 0; i < store->trace_count; i++)
        free_trace(&store->traces[i]);
    free(store->traces);
    free(store);
}

/* ------------------------------------------------------------ drawing */

static void hex(char *out, const uint8_t *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

static void format_duration(char *out, size_t cap, uint64_t ns)
{
    if (ns < 1000000)
        snprintf(out, cap, "%.0f µs", (double)ns / 1e3);
    else if (ns < 10000000000ull)
        snprintf(out, cap, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(out, cap, "%.2f s", (double)ns / 1e9);
}

static const char *kind_name(int kind)
{
    static const char *const names[] = {"UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"};
    return kind >= 0 && kind < (int)(sizeof names / sizeof names[0]) ? names[kind] : "UNKNOWN_KIND";
}

/* The shape of one trace while it is drawn: for each span, its children,
 * in order of start time. Indices into trace->spans. */
struct tree_shape {
    const struct pending_trace *trace;
    size_t *child_start; /* children of span i: order[child_start[i] .. child_start[i+1]) */
    size_t *order;
    size_t *roots;
    size_t root_count;
    bool *drawn;
};

static const struct pending_trace *sort_trace; /* qsort has no context argument */

static int by_span_id(const void *a, const void *b)
{
    const struct tree_span *x = sort_trace->spans[*(const size_t *)a];
    const struct tree_span *y = sort_trace->spans[*(const size_t *)b];
    return memcmp(x->span_id, y->span_id, sizeof x->span_id);
}

static int by_start_time(const void *a, const void *b)
{
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    const struct tree_span *x = sort_trace->spans[ia];
    const struct tree_span *y = sort_trace->spans[ib];
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return ia < ib ? -1 : ia > ib; /* arrival order between equals */
}

/* Index of the span with this id, or (size_t)-1. by_id is sorted by span id. */
static size_t find_span(const struct pending_trace *trace, const size_t *by_id, const uint8_t *span_id)
{
    size_t lo = 0, hi = trace->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(trace->spans[by_id[mid]]->span_id, span_id, 8);
        if (c == 0)
            return by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (size_t)-1;
}

static bool build_shape(struct tree_shape *shape, const struct pending_trace *trace)
{
    size_t n = trace->count;
    memset(shape, 0, sizeof *shape);
    shape->trace = trace;
    size_t *by_id = malloc(n * sizeof *by_id);
    size_t *parent = malloc(n * sizeof *parent);
    shape->child_start = calloc(n + 1, sizeof *shape->child_start);
    shape->order = malloc(n * sizeof *shape->order);
    shape->roots = malloc(n * sizeof *shape->roots);
    shape->drawn = calloc(n, sizeof *shape->drawn);
    bool ok = by_id && parent && shape->child_start && shape->order && shape->roots && shape->drawn;
    if (ok) {
        sort_trace = trace;
        for (size_t i = 0; i < n; i++)
            by_id[i] = i;
        qsort(by_id, n, sizeof *by_id, by_span_id);
        for (size_t i = 0; i < n; i++) {
            const struct tree_span *s = trace->spans[i];
            parent[i] = s->has_parent ? find_span(trace, by_id, s->parent_id) : (size_t)-1;
            if (parent[i] == i)
                parent[i] = (size_t)-1; /* its own parent: drawn as a root */
        }
        /* counting sort of the children by parent, then each group by start */
        for (size_t i = 0; i < n; i++) {
            if (parent[i] != (size_t)-1)
                shape->child_start[parent[i] + 1]++;
        }
        for (size_t i = 0; i < n; i++)
            shape->child_start[i + 1] += shape->child_start[i];
        size_t *fill = by_id; /* reused: next free slot per parent */
        memcpy(fill, shape->child_start, n * sizeof *fill);
        for (size_t i = 0; i < n; i++) {
            if (parent[i] != (size_t)-1)
                shape->order[fill[parent[i]]++] = i;
            else
                shape->roots[shape->root_count++] = i;
        }
        for (size_t i = 0; i < n; i++)
            qsort(shape->order + shape->child_start[i], shape->child_start[i + 1] - shape->child_start[i],
                  sizeof *shape->order, by_start_time);
        qsort(shape->roots, shape->root_count, sizeof *shape->roots, by_start_time);
    }
    free(by_id);
    free(parent);
    return ok;
}

static void free_shape(struct tree_shape *shape)
{
    free(shape->child_start);
    free(shape->order);
    free(shape->roots);
    free(shape->drawn);
}

static void draw_span(FILE *out, struct tree_shape *shape, size_t index, char *prefix, size_t prefix_len, bool last,
                      int depth)
{
    const struct tree_span *s = shape->trace->spans[index];
    shape->drawn[index] = true;
    char duration[32];
    format_duration(duration, sizeof duration, s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0);
    fprintf(out, "%.*s%s %s  %s  %s  %s", (int)prefix_len, prefix, last ? "└─" : "├─", s->service, s->name,
            kind_name(s->kind), duration);
    if (s->details[0] != '\0')
        fprintf(out, "  %s", s->details);
    if (s->has_parent && depth == 0) {
        char parent[17];
        hex(parent, s->parent_id, 8);
        fprintf(out, "  (parent %s not received)", parent);
    }
    fputc('\n', out);

    size_t child_prefix_len = prefix_len;
    if (depth < MAX_DRAWN_DEPTH) {
        /* "│  " is 5 bytes in UTF-8, "   " 3; the buffer holds MAX_DRAWN_DEPTH of the longer */
        const char *segment = last ? "   " : "│  ";
        size_t seg_len = strlen(segment);
        memcpy(prefix + prefix_len, segment, seg_len);
        child_prefix_len += seg_len;
    }
    size_t first = shape->child_start[index], end = shape->child_start[index + 1];
    for (size_t c = first; c < end; c++) {
        size_t child = shape->order[c];
        if (!shape->drawn[child])
            draw_span(out, shape, child, prefix, child_prefix_len, c + 1 == end, depth + 1);
    }
}

static bool recently_printed(const struct trace_store *store, const uint8_t *trace_id)
{
    for (size_t i = 0; i < store->recent_count; i++) {
        if (memcmp(store->recent[i], trace_id, 16) == 0)
            return true;
    }
    return false;
}

static void remember_printed(struct trace_store *store, const uint8_t *trace_id)
{
    memcpy(store->recent[store->recent_next], trace_id, 16);
    store->recent_next = (store->recent_next + 1) % RECENT_TRACES;
    if (store->recent_count < RECENT_TRACES)
        store->recent_count++;
}

static void print_trace(struct trace_store *store, const struct pending_trace *trace)
{
    FILE *out = store->out;
    char id[33];
    hex(id, trace->trace_id, 16);
    uint64_t first_start = UINT64_MAX, last_end = 0;
    for (size_t i = 0; i < trace->count; i++) {
        const struct tree_span *s = trace->spans[i];
        if (s->start_ns != 0 && s->start_ns < first_start)
            first_start = s->start_ns;
        if (s->end_ns > last_end)
            last_end = s->end_ns;
    }
    char duration[32];
    format_duration(duration, sizeof duration, last_end > first_start ? last_end - first_start : 0);
    fprintf(out, "trace %s (%zu span%s, %s)%s\n", id, trace->count, trace->count == 1 ? "" : "s", duration,
            recently_printed(store, trace->trace_id) ? " continued" : "");
    remember_printed(store, trace->trace_id);

    struct tree_shape shape;
    char prefix[MAX_DRAWN_DEPTH * 5 + 1];
    if (build_shape(&shape, trace)) {
        for (size_t r = 0; r < shape.root_count; r++)
            draw_span(out, &shape, shape.roots[r], prefix, 0, r + 1 == shape.root_count, 0);
        /* spans in a parent cycle (malformed input) reach no root: shown as roots */
        for (size_t i = 0; i < trace->count; i++) {
            if (!shape.drawn[i])
                draw_span(out, &shape, i, prefix, 0, true, 0);
        }
    } else {
        fprintf(out, "└─ (out of memory: %zu spans not drawn)\n", trace->count);
    }
    free_shape(&shape);
    fflush(out);
}

/* Prints trace i and removes it from the store. */
static void print_and_remove(struct trace_store *store, size_t i)
{
    struct pending_trace *trace = &store->traces[i];
    print_trace(store, trace);
    store->span_count -= trace->count;
    free_trace(trace);
    memmove(&store->traces[i], &store->traces[i + 1], (store->trace_count - i - 1) * sizeof *store->traces);
    store->trace_count--;
}

/* ------------------------------------------------------------ the store */

static struct pending_trace *find_or_add_trace(struct trace_store *store, const uint8_t *trace_id)
{
    for (size_t i = 0; i < store->trace_count; i++) {
        if (memcmp(store->traces[i].trace_id, trace_id, 16) == 0)
            return &store->traces[i];
    }
    if (store->trace_count == store->trace_cap) {
        size_t cap = store->trace_cap ? store->trace_cap * 2 : 16;
        struct pending_trace *bigger = realloc(store->traces, cap * sizeof *bigger);
        if (bigger == NULL)
            return NULL;
        store->traces = bigger;
        store->trace_cap = cap;
    }
    struct pending_trace *trace = &store->traces[store->trace_count++];
    memset(trace, 0, sizeof *trace);
    memcpy(trace->trace_id, trace_id, 16);
    return trace;
}

void trace_store_add(struct trace_store *store, struct tree_span *span, uint64_t now_ms)
{
    /* memory is bounded: the traces that began first are printed as they are */
    while (store->span_count >= store->max_spans && store->trace_count > 0)
        print_and_remove(store, 0);

    struct pending_trace *trace = find_or_add_trace(store, span->trace_id);
    if (trace == NULL) {
        tree_span_free(span);
        return;
    }
    if (trace->count == trace->cap) {
        size_t cap = trace->cap ? trace->cap * 2 : 4;
        struct tree_span **bigger = realloc(trace->spans, cap * sizeof *bigger);
        if (bigger == NULL) {
            tree_span_free(span);
            if (trace->count == 0) /* just added, keep no empty trace */
                store->trace_count--;
            return;
        }
        trace->spans = bigger;
        trace->cap = cap;
    }
    trace->spans[trace->count++] = span;
    store->span_count++;
    if (!span->has_parent)
        trace->has_root = true;
    trace->last_arrival_ms = now_ms;
}

static uint64_t quiet_needed(const struct trace_store *store, const struct pending_trace *trace)
{
    return trace->has_root ? store->quiet_ms : store->quiet_ms * ROOTLESS_QUIET_FACTOR;
}

void trace_store_print_complete(struct trace_store *store, uint64_t now_ms)
{
    for (size_t i = 0; i < store->trace_count;) {
        const struct pending_trace *trace = &store->traces[i];
        if (now_ms - trace->last_arrival_ms >= quiet_needed(store, trace))
            print_and_remove(store, i);
        else
            i++;
    }
}

int trace_store_next_deadline(const struct trace_store *store, uint64_t now_ms)
{
    int64_t best = -1;
    for (size_t i = 0; i < store->trace_count; i++) {
        const struct pending_trace *trace = &store->traces[i];
        uint64_t due = trace->last_arrival_ms + quiet_needed(store, trace);
        int64_t wait = due > now_ms ? (int64_t)(due - now_ms) : 0;
        if (best < 0 || wait < best)
            best = wait;
    }
    return best > 3600000 ? 3600000 : (int)best;
}

void trace_store_print_all(struct trace_store *store)
{
    while (store->trace_count > 0)
        print_and_remove(store, 0);
}
