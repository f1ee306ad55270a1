/* The Prometheus text format of the shim's metrics, and the scrape endpoint
 * (prometheus_exporter.h). Everything here runs on the metrics thread. Its
 * socket calls go to libc through the real-function table (sys/real_libc.h),
 * never through the shim's exported hooks: the endpoint does not rely on
 * the "inside the library" flag to stay out of the traced connections.
 * (bind, listen, setsockopt and poll are not interposed: libc's own.)
 *
 *   # HELP http_server_request_duration_seconds Duration of HTTP server requests.
 *   # TYPE http_server_request_duration_seconds histogram
 *   http_server_request_duration_seconds_bucket{http_request_method="GET",...,le="0.005"} 10
 *   ...
 *   http_server_request_duration_seconds_sum{...} 0.0123
 *   http_server_request_duration_seconds_count{...} 11
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/common.h"
#include "export/prometheus_exporter.h"
#include "sys/real_libc.h"

#define REQUEST_HEAD_MAX 8192
#define CLIENT_TIMEOUT_MS 1000

struct buf {
    char *p;
    size_t len;
    size_t cap;
    bool failed;
};

static void buf_grow(struct buf *b, size_t need)
{
    if (b->failed || b->len + need + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + need + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    buf_grow(b, (size_t)n);
    if (b->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void buf_char(struct buf *b, char c)
{
    buf_grow(b, 1);
    if (!b->failed) {
        b->p[b->len++] = c;
        b->p[b->len] = '\0';
    }
}

/* Metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]*, anything else '_'. */
static void buf_name(struct buf *b, const char *s, bool label)
{
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
        buf_char(b, ok ? c : '_');
    }
}

/* Label values: backslash, double quote and line feed escaped. */
static void buf_label_value(struct buf *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\')
            buf_printf(b, "\\\\");
        else if (s[i] == '"')
            buf_printf(b, "\\\"");
        else if (s[i] == '\n')
            buf_printf(b, "\\n");
        else
            buf_char(b, s[i]);
    }
}

static void buf_attr_value(struct buf *b, const struct oa_attr *a)
{
    char num[32];
    int n;

    switch (a->type) {
    case OA_VALUE_STRING:
        buf_label_value(b, a->v.str.ptr ? a->v.str.ptr : "", a->v.str.ptr ? a->v.str.len : 0);
        return;
    case OA_VALUE_INT:
        n = snprintf(num, sizeof num, "%lld", (long long)a->v.i);
        break;
    case OA_VALUE_BOOL:
        n = snprintf(num, sizeof num, "%s", a->v.b ? "true" : "false");
        break;
    case OA_VALUE_DOUBLE:
    default:
        n = snprintf(num, sizeof num, "%.17g", a->v.d);
        break;
    }
    buf_label_value(b, num, n > 0 ? (size_t)n : 0);
}

/* {k="v",...[,le="x"]}; nothing at all when there is no label. */
static void buf_labels(struct buf *b, const struct oa_attr *attrs, size_t n, const char *le)
{
    if (n == 0 && !le)
        return;
    buf_char(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            buf_char(b, ',');
        buf_name(b, attrs[i].key ? attrs[i].key : "_", true);
        buf_printf(b, "=\"");
        buf_attr_value(b, &attrs[i]);
        buf_char(b, '"');
    }
    if (le)
        buf_printf(b, "%sle=\"%s\"", n > 0 ? "," : "", le);
    buf_char(b, '}');
}

/* The metric's name in Prometheus: base name, unit suffix, _total. */
static void buf_family(struct buf *b, const struct oa_metric *m)
{
    buf_name(b, m->name, false);
    if (m->unit && strcmp(m->unit, "s") == 0)
        buf_printf(b, "_seconds");
    else if (m->unit && strcmp(m->unit, "ms") == 0)
        buf_printf(b, "_milliseconds");
    else if (m->unit && m->unit[0] && m->unit[0] != '{' && strcmp(m->unit, "1") != 0) {
        buf_char(b, '_');
        buf_name(b, m->unit, false);
    }
    if (m->kind == OA_METRIC_SUM && m->monotonic)
        buf_printf(b, "_total");
}

/* family is the metric's Prometheus name (NUL-terminated, not in b: b's
 * memory moves as it grows). */
static void render_histogram(struct buf *b, const struct oa_metric *m, const char *family)
{
    for (size_t j = 0; j < m->n_points; j++) {
        const struct oa_metric_point *p = &m->points[j];
        size_t na = p->n_attrs < OA_METRIC_POINT_MAX_ATTRS ? p->n_attrs : OA_METRIC_POINT_MAX_ATTRS;
        uint64_t cumulative = 0;
        char le[32];

        for (uint32_t k = 0; k <= m->n_bounds && k < OA_METRIC_MAX_BUCKETS; k++) {
            cumulative += p->bucket_counts[k];
            if (k < m->n_bounds)
                snprintf(le, sizeof le, "%g", m->bounds[k]);
            else
                snprintf(le, sizeof le, "+Inf");
            buf_printf(b, "%s_bucket", family);
            buf_labels(b, p->attrs, na, le);
            buf_printf(b, " %llu\n", (unsigned long long)cumulative);
        }
        buf_printf(b, "%s_sum", family);
        buf_labels(b, p->attrs, na, NULL);
        buf_printf(b, " %.17g\n", p->sum);
        buf_printf(b, "%s_count", family);
        buf_labels(b, p->attrs, na, NULL);
        buf_printf(b, " %llu\n", (unsigned long long)p->count);
    }
}

static void render_metric(struct buf *b, const struct oa_metric *m)
{
    const char *type = m->kind == OA_METRIC_HISTOGRAM ? "histogram" : m->monotonic ? "counter" : "gauge";
    struct buf family = {0};

    if (m->n_points == 0)
        return;
    buf_family(&family, m);
    if (family.failed || !family.p) {
        b->failed = true;
        free(family.p);
        return;
    }
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", family.p, m->description ? m->description : "",
               family.p, type);
    if (m->kind == OA_METRIC_HISTOGRAM) {
        render_histogram(b, m, family.p);
    } else {
        for (size_t j = 0; j < m->n_points; j++) {
            const struct oa_metric_point *p = &m->points[j];
            size_t na = p->n_attrs < OA_METRIC_POINT_MAX_ATTRS ? p->n_attrs : OA_METRIC_POINT_MAX_ATTRS;
            buf_printf(b, "%s", family.p);
            buf_labels(b, p->attrs, na, NULL);
            buf_printf(b, " %lld\n", (long long)p->value);
        }
    }
    free(family.p);
}

char *oa_prometheus_render(const struct oa_metric_batch *batch, const struct oa_resource *resource,
                           size_t *len)
{
    struct buf b = {0};

    for (size_t i = 0; i < batch->n_metrics; i++)
        render_metric(&b, &batch->metrics[i]);
    if (resource && resource->n_attrs > 0) {
        buf_printf(&b, "# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info");
        buf_labels(&b, resource->attrs,
                   resource->n_attrs < OA_RESOURCE_MAX_ATTRS ? resource->n_attrs : OA_RESOURCE_MAX_ATTRS,
                   NULL);
        buf_printf(&b, " 1\n");
    }
    buf_grow(&b, 0);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    b.p[b.len] = '\0';
    return b.p;
}

/* ---- the endpoint ------------------------------------------------------- */

int oa_prometheus_listen(const char *host, int port, int fds[OA_PROMETHEUS_MAX_SOCKETS])
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *list = NULL;
    char service[16];
    int err = EADDRNOTAVAIL;
    int n = 0;

    oa_libc_bind(); /* bound by the constructor in the shim; not in the unit tests */
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host && host[0] ? host : NULL, service, &hints, &list) != 0)
        return -EADDRNOTAVAIL;
    for (struct addrinfo *ai = list; ai && n < OA_PROMETHEUS_MAX_SOCKETS; ai = ai->ai_next) {
        int one = 1;
        int fd = oa_libc.socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        /* SO_REUSEADDR (a restart need not wait for TIME_WAIT), never
         * SO_REUSEPORT: a second process sharing the port would answer half
         * of the scrapes with its own numbers. An IPv6 socket stays IPv6
         * only, so that it does not take the IPv4 address from its sibling. */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0) {
            fds[n++] = fd;
            continue;
        }
        err = errno;
        oa_libc.close(fd);
    }
    freeaddrinfo(list);
    return n > 0 ? n : -err;
}

/* Reads the request head (until the empty line) within the client timeout. */
static bool read_head(int fd, char *head, size_t cap, size_t *len)
{
    uint64_t deadline = oa_now_mono_nano() + CLIENT_TIMEOUT_MS * 1000000ull;

    *len = 0;
    while (*len + 1 < cap) {
        uint64_t now = oa_now_mono_nano();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (now >= deadline || poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1) <= 0)
            return false;
        ssize_t n = oa_libc.recv(fd, head + *len, cap - 1 - *len, 0);
        if (n <= 0) {
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            return false;
        }
        *len += (size_t)n;
        head[*len] = '\0';
        if (strstr(head, "\r\n\r\n") || strstr(head, "\n\n"))
            return true;
    }
    return false;
}

static void send_all(int fd, const char *p, size_t len)
{
    uint64_t deadline = oa_now_mono_nano() + CLIENT_TIMEOUT_MS * 1000000ull;

    while (len > 0) {
        ssize_t n = oa_libc.send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            return;
        uint64_t now = oa_now_mono_nano();
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (now >= deadline || poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1) <= 0)
            return;
    }
}

/* The answer; a HEAD request gets the head alone. */
static void answer(int fd, int status, const char *reason, const char *body, size_t body_len,
                   bool with_body)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, reason, body_len);
    send_all(fd, head, (size_t)n);
    if (with_body)
        send_all(fd, body, body_len);
}

static void serve_client(int fd, char *(*render)(void *arg, size_t *len), void *arg)
{
    char head[REQUEST_HEAD_MAX];
    size_t len;

    if (!read_head(fd, head, sizeof head, &len))
        return;
    bool get = strncmp(head, "GET ", 4) == 0;
    bool head_only = strncmp(head, "HEAD ", 5) == 0;
    const char *path = head + (get ? 4 : 5);
    size_t path_len = strcspn(path, " ?\r\n");
    if (!get && !head_only) {
        answer(fd, 405, "Method Not Allowed", "", 0, false);
        return;
    }
    if (!(path_len == 8 && strncmp(path, "/metrics", 8) == 0) && !(path_len == 1 && path[0] == '/')) {
        static const char not_found[] = "metrics are at /metrics\n";
        answer(fd, 404, "Not Found", not_found, sizeof not_found - 1, get);
        return;
    }
    size_t body_len = 0;
    char *body = render(arg, &body_len);
    if (!body) {
        answer(fd, 500, "Internal Server Error", "", 0, false);
        return;
    }
    answer(fd, 200, "OK", body, body_len, get);
    free(body);
}

void oa_prometheus_serve(const int *fds, int n, int timeout_ms,
                         char *(*render)(void *arg, size_t *len), void *arg)
{
    struct pollfd pfds[OA_PROMETHEUS_MAX_SOCKETS];

    oa_libc_bind();
    if (n > OA_PROMETHEUS_MAX_SOCKETS)
        n = OA_PROMETHEUS_MAX_SOCKETS;
    for (int i = 0; i < n; i++)
        pfds[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    if (poll(pfds, (nfds_t)n, timeout_ms) <= 0)
        return;
    for (int i = 0; i < n; i++) {
        if (!(pfds[i].revents & POLLIN))
            continue;
        for (;;) {
            int fd = oa_libc.accept4(fds[i], NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0)
                break;
            serve_client(fd, render, arg);
            oa_libc.close(fd);
        }
    }
}
