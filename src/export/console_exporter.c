/* The console exporter: one block of text per span, for a person reading a
 * terminal or a log file.
 *
 *   otelauto span "GET /users/{id}" kind=SERVER status=ERROR "boom"
 *     trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 parent_span_id=... (remote) flags=01
 *     start=2025-01-01T12:00:00.000000123Z duration=12.345678ms
 *     http.request.method="GET"
 *
 * It runs on the exporter thread. Each span is formatted into a stack buffer
 * and written with the raw write system call, so a span is never interleaved
 * with itself and never passes through our own write hook. String values are
 * escaped: they come from the network and may hold anything. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/write_all.h"
#include "export/console_exporter.h"

/* Room for a full span arena even if every byte needs a 4-byte escape. */
#define SPAN_TEXT_MAX (4 * OA_SPAN_ARENA + 4096)

struct text {
    char *buf;
    size_t cap;
    size_t len;
};

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    size_t room = t->cap - t->len;
    int n;

    if (room <= 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    t->len += (size_t)n < room ? (size_t)n : room - 1;
}

static void text_char(struct text *t, char ch)
{
    if (t->len + 1 < t->cap)
        t->buf[t->len++] = ch;
}

/* Printable ASCII and UTF-8 bytes as they are; quotes, backslashes and
 * control characters escaped so a value cannot fake a line of its own. */
static void text_quoted(struct text *t, const char *s, size_t len)
{
    text_char(t, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            text_char(t, '\\');
            text_char(t, (char)ch);
        } else if (ch == '\n') {
            text_printf(t, "\\n");
        } else if (ch == '\r') {
            text_printf(t, "\\r");
        } else if (ch == '\t') {
            text_printf(t, "\\t");
        } else if (ch < 0x20 || ch == 0x7f) {
            text_printf(t, "\\x%02x", ch);
        } else {
            text_char(t, (char)ch);
        }
    }
    text_char(t, '"');
}

static void text_hex(struct text *t, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        text_printf(t, "%02x", bytes[i]);
}

static const char *kind_name(uint8_t kind)
{
    switch (kind) {
    case OA_SPAN_KIND_INTERNAL:
        return "INTERNAL";
    case OA_SPAN_KIND_SERVER:
        return "SERVER";
    case OA_SPAN_KIND_CLIENT:
        return "CLIENT";
    default:
        return "UNSPECIFIED";
    }
}

static const char *status_name(uint8_t code)
{
    switch (code) {
    case OA_STATUS_OK:
        return "OK";
    case OA_STATUS_ERROR:
        return "ERROR";
    default:
        return "UNSET";
    }
}

static void text_time(struct text *t, uint64_t unix_nano)
{
    time_t secs = (time_t)(unix_nano / 1000000000u);
    struct tm tm;

    if (!gmtime_r(&secs, &tm)) {
        text_printf(t, "%llu", (unsigned long long)unix_nano);
        return;
    }
    text_printf(t, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(unix_nano % 1000000000u));
}

static void text_attr(struct text *t, const struct oa_attr *a)
{
    text_printf(t, "  %s=", a->key ? a->key : "?");
    switch (a->type) {
    case OA_VALUE_STRING:
        text_quoted(t, a->v.str.ptr ? a->v.str.ptr : "", a->v.str.ptr ? a->v.str.len : 0);
        break;
    case OA_VALUE_INT:
        text_printf(t, "%lld", (long long)a->v.i);
        break;
    case OA_VALUE_BOOL:
        text_printf(t, "%s", a->v.b ? "true" : "false");
        break;
    case OA_VALUE_DOUBLE:
        text_printf(t, "%g", a->v.d);
        break;
    }
    text_char(t, '\n');
}

static void format_span(struct text *t, const struct oa_span *s)
{
    uint64_t duration =
        s->end_unix_nano > s->start_unix_nano ? s->end_unix_nano - s->start_unix_nano : 0;

    text_printf(t, "otelauto span ");
    text_quoted(t, s->name ? s->name : "", s->name ? strlen(s->name) : 0);
    text_printf(t, " kind=%s status=%s", kind_name(s->kind), status_name(s->status_code));
    if (s->status_message) {
        text_char(t, ' ');
        text_quoted(t, s->status_message, strlen(s->status_message));
    }
    text_printf(t, "\n  trace_id=");
    text_hex(t, s->trace_id, sizeof s->trace_id);
    text_printf(t, " span_id=");
    text_hex(t, s->span_id, sizeof s->span_id);
    if (s->has_parent) {
        text_printf(t, " parent_span_id=");
        text_hex(t, s->parent_span_id, sizeof s->parent_span_id);
        if (s->parent_is_remote)
            text_printf(t, " (remote)");
    }
    text_printf(t, " flags=%02x\n  start=", s->trace_flags);
    text_time(t, s->start_unix_nano);
    text_printf(t, " duration=%llu.%06llums\n", (unsigned long long)(duration / 1000000u),
                (unsigned long long)(duration % 1000000u));
    if (s->trace_state && s->trace_state[0]) {
        text_printf(t, "  tracestate=");
        text_quoted(t, s->trace_state, strlen(s->trace_state));
        text_char(t, '\n');
    }
    for (uint32_t i = 0; i < s->n_attrs && i < OA_SPAN_MAX_ATTRS; i++)
        text_attr(t, &s->attrs[i]);
    if (s->dropped_attrs)
        text_printf(t, "  (%u attributes dropped)\n", s->dropped_attrs);
}

void oa_console_export(int fd, struct oa_span *const *spans, size_t n)
{
    int saved_errno = errno;
    char buf[SPAN_TEXT_MAX];
    struct text t = {buf, sizeof buf, 0};

    for (size_t i = 0; i < n; i++) {
        t.len = 0;
        format_span(&t, spans[i]);
        /* Only a pathological span fills the buffer; end it visibly. */
        if (t.len + 1 >= t.cap) {
            memcpy(buf + t.cap - 5, "...\n", 4);
            t.len = t.cap - 1;
        }
        oa_write_all(fd, buf, t.len);
    }
    errno = saved_errno;
}

static enum oa_export_result console_span_export(void *self, struct oa_span *const *spans, size_t n,
                                                 long *retry_after_ms)
{
    (void)retry_after_ms;
    oa_console_export(*(const int *)self, spans, n);
    return OA_EXPORT_OK;
}

const struct oa_span_exporter *oa_console_span_exporter(void)
{
    static const int fd = STDERR_FILENO;
    static const struct oa_span_exporter console = {
        .name = "console",
        .export = console_span_export,
        .self = (void *)&fd,
    };
    return &console;
}

/* Metrics (OTEL_METRICS_EXPORTER=console), one block per data point:
 *
 *   otelauto metric http.server.request.duration histogram unit=s cumulative
 *     count=11 sum=0.012345 min=0.000812 max=0.002310
 *     buckets le0.005=11 le0.01=0 ... inf=0
 *     http.request.method="GET"
 */
static void format_point(struct text *t, const struct oa_metric *m, const struct oa_metric_point *p)
{
    text_printf(t, "otelauto metric %s %s unit=%s %s\n", m->name,
                m->kind == OA_METRIC_HISTOGRAM ? "histogram" : m->monotonic ? "counter" : "updowncounter",
                m->unit, m->temporality == OA_TEMPORALITY_DELTA ? "delta" : "cumulative");
    if (m->kind == OA_METRIC_HISTOGRAM) {
        text_printf(t, "  count=%llu sum=%.6f", (unsigned long long)p->count, p->sum);
        if (p->has_min_max)
            text_printf(t, " min=%.6f max=%.6f", p->min, p->max);
        text_printf(t, "\n  buckets");
        for (uint32_t b = 0; b <= m->n_bounds && b < OA_METRIC_MAX_BUCKETS; b++) {
            if (b < m->n_bounds)
                text_printf(t, " le%g=%llu", m->bounds[b], (unsigned long long)p->bucket_counts[b]);
            else
                text_printf(t, " inf=%llu", (unsigned long long)p->bucket_counts[b]);
        }
        text_char(t, '\n');
    } else {
        text_printf(t, "  value=%lld\n", (long long)p->value);
    }
    for (uint32_t i = 0; i < p->n_attrs && i < OA_METRIC_POINT_MAX_ATTRS; i++)
        text_attr(t, &p->attrs[i]);
}

void oa_console_export_metrics(int fd, const struct oa_metric_batch *batch)
{
    int saved_errno = errno;
    char buf[4096];
    struct text t = {buf, sizeof buf, 0};

    for (size_t i = 0; i < batch->n_metrics; i++) {
        const struct oa_metric *m = &batch->metrics[i];
        for (size_t j = 0; j < m->n_points; j++) {
            t.len = 0;
            format_point(&t, m, &m->points[j]);
            oa_write_all(fd, buf, t.len);
        }
    }
    errno = saved_errno;
}
