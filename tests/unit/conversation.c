/* The conversation harness (see conversation.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "conversation.h"
#include "config/config.h"
#include "export/batch_processor.h"
#include "lifecycle/library.h"
#include "protocols/http1/http_exchange.h"
#include "sys/real_libc.h"
#include "wire/conn_io.h"
#include "wire/tls_io.h"

/* The engine's link to the real libc: the fake kernel below. */
struct oa_libc oa_libc;
void oa_libc_bind(void)
{
}

long conv_total_runs;

/* fds well clear of the test's own */
#define FD_BASE 900
#define MAX_CALLS 200000

/* ---- the fake kernel: what reaches each connection's wire ---- */

static struct {
    size_t max_take;    /* bytes a send takes at most (0: all) */
    bool eagain;        /* every other send is refused */
    unsigned long calls;
    char *wire[CONV_MAX_CONNS];
    size_t wire_len[CONV_MAX_CONNS], wire_cap[CONV_MAX_CONNS];
} kernel;

static ssize_t kernel_take(int fd, const struct iovec *iov, int iovcnt)
{
    int i = fd - FD_BASE;
    if (i < 0 || i >= CONV_MAX_CONNS) {
        errno = EBADF;
        return -1;
    }
    if (kernel.eagain && kernel.calls++ % 2 == 0) {
        errno = EAGAIN;
        return -1;
    }
    size_t total = 0;
    for (int k = 0; k < iovcnt; k++)
        total += iov[k].iov_len;
    size_t take = kernel.max_take > 0 && kernel.max_take < total ? kernel.max_take : total;
    if (kernel.wire_len[i] + take > kernel.wire_cap[i]) {
        size_t cap = (kernel.wire_len[i] + take) * 2 + 256;
        char *w = realloc(kernel.wire[i], cap);
        if (w == NULL) {
            errno = ENOMEM;
            return -1;
        }
        kernel.wire[i] = w;
        kernel.wire_cap[i] = cap;
    }
    size_t left = take;
    for (int k = 0; k < iovcnt && left > 0; k++) {
        size_t n = iov[k].iov_len < left ? iov[k].iov_len : left;
        memcpy(kernel.wire[i] + kernel.wire_len[i], iov[k].iov_base, n);
        kernel.wire_len[i] += n;
        left -= n;
    }
    return (ssize_t)take;
}

static ssize_t fake_write(int fd, const void *buf, size_t n)
{
    struct iovec v = {(void *)buf, n};
    return kernel_take(fd, &v, 1);
}

static ssize_t fake_send(int fd, const void *buf, size_t n, int flags)
{
    (void)flags;
    return fake_write(fd, buf, n);
}

static ssize_t fake_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tolen)
{
    (void)flags;
    (void)to;
    (void)tolen;
    return fake_write(fd, buf, n);
}

static ssize_t fake_sendmsg(int fd, const struct msghdr *m, int flags)
{
    (void)flags;
    return kernel_take(fd, m->msg_iov, (int)m->msg_iovlen);
}

static ssize_t fake_writev(int fd, const struct iovec *iov, int iovcnt)
{
    return kernel_take(fd, iov, iovcnt);
}

/* ---- the capture: spans as the exporter is handed them ---- */

struct cap_attr {
    char key[64];
    char val[320];
};

struct cap_span {
    int kind;
    char name[64];
    uint8_t trace[16], span[8], parent[8];
    bool has_parent, remote;
    uint8_t flags;
    int status;
    int n_attrs;
    struct cap_attr attrs[OA_SPAN_MAX_ATTRS];
};

static pthread_mutex_t cap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cap_span captured[CONV_MAX_SPANS];
static int n_captured, n_exported;

static void capture_one(struct cap_span *c, const struct oa_span *s)
{
    memset(c, 0, sizeof(*c));
    c->kind = s->kind;
    snprintf(c->name, sizeof(c->name), "%s", s->name != NULL ? s->name : "(null)");
    memcpy(c->trace, s->trace_id, 16);
    memcpy(c->span, s->span_id, 8);
    memcpy(c->parent, s->parent_span_id, 8);
    c->has_parent = s->has_parent;
    c->remote = s->parent_is_remote;
    c->flags = s->trace_flags;
    c->status = s->status_code;
    for (uint32_t i = 0; i < s->n_attrs && i < OA_SPAN_MAX_ATTRS; i++) {
        const struct oa_attr *a = &s->attrs[i];
        struct cap_attr *d = &c->attrs[c->n_attrs++];
        snprintf(d->key, sizeof(d->key), "%s", a->key);
        switch (a->type) {
        case OA_VALUE_STRING:
            snprintf(d->val, sizeof(d->val), "%.*s", (int)a->v.str.len, a->v.str.ptr);
            break;
        case OA_VALUE_INT:
            snprintf(d->val, sizeof(d->val), "%" PRId64, a->v.i);
            break;
        case OA_VALUE_BOOL:
            snprintf(d->val, sizeof(d->val), "%s", a->v.b ? "true" : "false");
            break;
        case OA_VALUE_DOUBLE:
            snprintf(d->val, sizeof(d->val), "%g", a->v.d);
            break;
        }
    }
}

static enum oa_export_result capture_export(void *self, struct oa_span *const *spans, size_t n, long *retry_after_ms)
{
    (void)self;
    (void)retry_after_ms;
    pthread_mutex_lock(&cap_lock);
    for (size_t i = 0; i < n; i++) {
        if (n_captured < CONV_MAX_SPANS)
            capture_one(&captured[n_captured++], spans[i]);
        n_exported++;
    }
    pthread_mutex_unlock(&cap_lock);
    return OA_EXPORT_OK;
}

static const struct oa_span_exporter capture_exporter = {.name = "conversation", .export = capture_export};

static void setup_once(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    /* the configuration every case assumes: W3C propagation, everything
     * sampled, no process context, nothing sent anywhere but here */
    setenv("OTEL_TRACES_EXPORTER", "none", 1);
    setenv("OTEL_METRICS_EXPORTER", "none", 1);
    unsetenv("OTEL_PROPAGATORS");
    unsetenv("OTEL_TRACES_SAMPLER");
    unsetenv("TRACEPARENT");
    unsetenv("OTEL_SDK_DISABLED");
    oa_libc.write = fake_write;
    oa_libc.send = fake_send;
    oa_libc.sendto = fake_sendto;
    oa_libc.sendmsg = fake_sendmsg;
    oa_libc.writev = fake_writev;
    oa_wire_setup = oa_library_configure;
    oa_library_configure();
    oa_export_set_exporter(&capture_exporter);
}

/* ---- one run ---- */

struct variant {
    const char *family;
    int split_step;   /* -1: none */
    size_t split_at;
    bool bytewise;    /* every step one byte per call */
    size_t max_take;
    bool eagain;
    unsigned kind;    /* the first call kind; the next calls take the next ones */
};

struct run {
    const struct conversation *cv;
    const struct variant *v;
    char why[512];
    unsigned calls;
    bool closed[CONV_MAX_CONNS];
    struct oa_conn *tls[CONV_MAX_CONNS]; /* after CONV_TLS: the session's stream */
};

static bool fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct run *r, const char *fmt, ...)
{
    if (r->why[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->why, sizeof(r->why), fmt, ap);
        va_end(ap);
    }
    return false;
}

static size_t step_len(const struct conv_step *s)
{
    return s->len > 0 ? s->len : s->bytes != NULL ? strlen(s->bytes) : 0;
}

/* What the hooks do (hooks/libc.c traced()): connections not tracked or
 * passed through go straight to libc. */
static struct oa_conn *traced(int fd)
{
    struct oa_conn *c = oa_fd_peek(fd);
    return c != NULL && c->mode != OA_MODE_PASS ? c : NULL;
}

/* One program call sending b[0..n) as `kind`; returns what the program is told. */
static ssize_t send_call(int fd, const char *b, size_t n, unsigned kind)
{
    struct oa_conn *c = traced(fd);
    /* writev and sendmsg get the bytes in pieces, with an empty buffer first */
    size_t half = n / 2;
    struct iovec iov[3] = {{(void *)b, 0}, {(void *)b, half}, {(void *)(b + half), n - half}};
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_iov = iov;
    m.msg_iovlen = 3;
    struct oa_send_call call = {.fd = fd, .buf = b, .len = n};
    switch (kind % 4) {
    case 0:
        call.kind = OA_CALL_WRITE;
        if (c == NULL)
            return oa_libc.write(fd, b, n);
        break;
    case 1:
        call.kind = OA_CALL_SEND;
        if (c == NULL)
            return oa_libc.send(fd, b, n, 0);
        break;
    case 2:
        call.kind = OA_CALL_WRITEV;
        call.iov = iov;
        call.iovcnt = 3;
        if (c == NULL)
            return oa_libc.writev(fd, iov, 3);
        break;
    default:
        call.kind = OA_CALL_SENDMSG;
        call.iov = iov;
        call.iovcnt = 3;
        call.msg = &m;
        if (c == NULL)
            return oa_libc.sendmsg(fd, &m, 0);
        break;
    }
    return oa_io_send(c, &call);
}

/* The program sends a piece as programs do: again with what was not taken,
 * again after EAGAIN (as if poll said writable). */
/* The TLS library's write: the whole record or nothing (a refusal the
 * program repeats, as SSL_write wants); its bytes stand for the plaintext. */
static int tls_write(void *session, const void *buf, size_t n, size_t *written)
{
    int fd = (int)(intptr_t)session;
    size_t done = 0;
    while (done < n) {
        struct iovec v = {(char *)buf + done, n - done};
        ssize_t got = kernel_take(fd, &v, 1);
        if (got < 0 && errno != EAGAIN)
            return -1;
        if (got > 0)
            done += (size_t)got;
    }
    *written = n;
    return 1;
}

static bool program_send(struct run *r, int conn, const char *b, size_t n)
{
    int fd = FD_BASE + conn;
    if (r->tls[conn] != NULL) {
        size_t done = 0;
        while (done < n) {
            size_t written = 0;
            if (oa_tls_send(r->tls[conn], (void *)(intptr_t)fd, tls_write, b + done, n - done, &written) != 1)
                return fail(r, "conn %d: a TLS write failed", conn);
            if (written == 0 || written > n - done)
                return fail(r, "conn %d: a TLS write of %zu bytes wrote %zu", conn, n - done, written);
            done += written;
        }
        return true;
    }
    size_t done = 0;
    int attempts = 0;
    while (done < n) {
        if (++attempts > MAX_CALLS)
            return fail(r, "conn %d: the send of %zu bytes never finished (%zu taken)", conn, n, done);
        errno = 0;
        ssize_t got = send_call(fd, b + done, n - done, r->v->kind + r->calls++);
        if (got < 0) {
            if (errno == EAGAIN)
                continue;
            return fail(r, "conn %d: a send failed: errno %d", conn, errno);
        }
        if (got == 0)
            return fail(r, "conn %d: a send of %zu bytes returned 0", conn, n - done);
        if ((size_t)got > n - done)
            return fail(r, "conn %d: a send of %zu bytes returned %zd", conn, n - done, got);
        done += (size_t)got;
    }
    return true;
}

/* The program receives a piece: read() into one buffer, or readv() into
 * two (a short first one) by turns. */
static void program_recv(struct run *r, int conn, const char *b, size_t n)
{
    int fd = FD_BASE + conn;
    char buf[4096 + 16];
    char *heap = n + 16 > sizeof(buf) ? malloc(n + 16) : NULL;
    char *dst = heap != NULL ? heap : buf;
    memcpy(dst, b, n);
    struct oa_conn *c = traced(fd);
    if (r->tls[conn] != NULL) {
        oa_tls_received(r->tls[conn], dst, n);
    } else if (c != NULL) {
        if (r->calls++ % 2 == 0 || n < 3) {
            oa_io_received_buf(c, fd, dst, (ssize_t)n, 0);
        } else {
            struct iovec iov[2] = {{dst, 3}, {dst + 3, n - 3 + 16}};
            oa_io_received(c, fd, iov, 2, (ssize_t)n, 0);
        }
    }
    free(heap);
}

/* The pieces a step goes in: returns their count, lengths in len[]. */
static int pieces_of(const struct run *r, int index, size_t n, size_t *len, int cap)
{
    const struct variant *v = r->v;
    if (v->bytewise && n > 1) {
        int k = 0;
        for (size_t i = 0; i < n && k < cap; i++)
            len[k++] = 1;
        return k;
    }
    if (v->split_step == index && v->split_at > 0 && v->split_at < n) {
        len[0] = v->split_at;
        len[1] = n - v->split_at;
        return 2;
    }
    len[0] = n;
    return 1;
}

static bool play(struct run *r)
{
    const struct conversation *cv = r->cv;
    for (int i = 0; cv->steps[i].dir != CONV_END; i++) {
        const struct conv_step *s = &cv->steps[i];
        int fd = FD_BASE + s->conn;
        size_t n = step_len(s);
        if (s->dir == CONV_FINISHED) {
            oa_export_shutdown();
            pthread_mutex_lock(&cap_lock);
            int got = n_exported;
            pthread_mutex_unlock(&cap_lock);
            if (got != s->spans)
                return fail(r, "step %d: %d spans exported by now, want %d", i, got, s->spans);
            continue;
        }
        if (s->conn < 0 || s->conn >= CONV_MAX_CONNS || cv->roles[s->conn] == OA_ROLE_UNKNOWN || r->closed[s->conn])
            return fail(r, "step %d: no such connection open (%d)", i, s->conn);
        switch (s->dir) {
        case CONV_SEND:
        case CONV_RECV: {
            static size_t len[8192];
            int np = pieces_of(r, i, n, len, 8192);
            const char *b = s->bytes;
            for (int k = 0; k < np; k++) {
                if (s->dir == CONV_SEND && !program_send(r, s->conn, b, len[k]))
                    return false;
                if (s->dir == CONV_RECV)
                    program_recv(r, s->conn, b, len[k]);
                b += len[k];
            }
            break;
        }
        case CONV_EOF:
        case CONV_RESET: {
            struct oa_conn *c = r->tls[s->conn] != NULL ? r->tls[s->conn] : traced(fd);
            char buf[16];
            if (c != NULL) {
                errno = s->err;
                oa_io_received_buf(c, fd, buf, s->dir == CONV_EOF ? 0 : -1, 0);
            }
            break;
        }
        case CONV_TLS:
            if (r->tls[s->conn] != NULL)
                return fail(r, "step %d: TLS already started on connection %d", i, s->conn);
            r->tls[s->conn] = oa_tls_open(fd, cv->roles[s->conn] == OA_ROLE_SERVER);
            if (r->tls[s->conn] == NULL)
                return fail(r, "step %d: the TLS session is not traced", i);
            break;
        case CONV_CLOSE:
            if (r->tls[s->conn] != NULL)
                oa_tls_close(r->tls[s->conn]);
            r->tls[s->conn] = NULL;
            oa_fd_forget(fd);
            r->closed[s->conn] = true;
            break;
        case CONV_IDLE: {
            struct oa_conn *c = oa_fd_peek(fd);
            const struct oa_http_exchange *x =
                c != NULL && c->proto != NULL && c->proto->protocol == &oa_http1_protocol
                    ? (const struct oa_http_exchange *)c->proto
                    : NULL;
            if (x == NULL)
                return fail(r, "step %d: conn %d has no HTTP/1 exchange", i, s->conn);
            if (x->busy != NULL || !oa_http1_parked(&x->out) || !oa_http1_parked(&x->in))
                return fail(r, "step %d: conn %d is idle but holds its busy area", i, s->conn);
            break;
        }
        case CONV_END:
        case CONV_FINISHED:
            break;
        }
    }
    return true;
}

/* ---- the outcome ---- */

static void hex(char *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void traceparent_of(const struct cap_span *s, char out[56])
{
    memcpy(out, "00-", 3);
    hex(out + 3, s->trace, 16);
    out[35] = '-';
    hex(out + 36, s->span, 8);
    out[52] = '-';
    sprintf(out + 53, "%02x", s->flags);
}

static bool lower_hex(const char *p, size_t n, bool *zero)
{
    *zero = true;
    for (size_t i = 0; i < n; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
        if (p[i] != '0')
            *zero = false;
    }
    return true;
}

static bool well_formed_traceparent(const char *p)
{
    bool z1, z2, z3;
    return memcmp(p, "00-", 3) == 0 && lower_hex(p + 3, 32, &z1) && !z1 && p[35] == '-' && lower_hex(p + 36, 16, &z2) &&
           !z2 && p[52] == '-' && lower_hex(p + 53, 2, &z3);
}

/* A printable excerpt of b around off. */
static const char *excerpt(const char *b, size_t n, size_t off)
{
    static char out[2][96];
    static int which;
    char *o = out[which++ % 2];
    size_t from = off > 16 ? off - 16 : 0, k = 0;
    for (size_t i = from; i < n && i < from + 36 && k + 5 < sizeof(out[0]); i++) {
        unsigned char ch = (unsigned char)b[i];
        if (ch == '\r' || ch == '\n') {
            o[k++] = '\\';
            o[k++] = ch == '\r' ? 'r' : 'n';
        } else if (ch < 0x20 || ch >= 0x7f) {
            k += (size_t)sprintf(o + k, "\\x%02x", ch);
        } else {
            o[k++] = (char)ch;
        }
    }
    o[k] = '\0';
    return o;
}

static bool check_wire(struct run *r, int conn)
{
    const struct conversation *cv = r->cv;
    const char *w = kernel.wire[conn] != NULL ? kernel.wire[conn] : "";
    size_t wn = kernel.wire_len[conn];
    const char *t = cv->wire[conn];
    size_t tn;
    char *own = NULL;
    if (t != NULL) {
        tn = cv->wire_len[conn] > 0 ? cv->wire_len[conn] : strlen(t);
    } else {
        /* the program's bytes, exactly */
        tn = 0;
        for (int i = 0; cv->steps[i].dir != CONV_END; i++)
            if (cv->steps[i].conn == conn && cv->steps[i].dir == CONV_SEND)
                tn += step_len(&cv->steps[i]);
        own = malloc(tn + 1);
        tn = 0;
        for (int i = 0; cv->steps[i].dir != CONV_END; i++) {
            if (cv->steps[i].conn == conn && cv->steps[i].dir == CONV_SEND) {
                memcpy(own + tn, cv->steps[i].bytes, step_len(&cv->steps[i]));
                tn += step_len(&cv->steps[i]);
            }
        }
        t = own;
    }
    size_t ti = 0, wi = 0;
    bool ok = true;
    while (ti < tn && ok) {
        /* {tp:N} (or {tp:?}, any well-formed one), {tid:N}, {sid:N}: the
         * part of span N's traceparent at `at`, len characters */
        size_t key = 0, at = 0, len = 0;
        if (cv->wire[conn] != NULL && tn - ti >= 6 && memcmp(t + ti, "{tp:", 4) == 0)
            key = 4, at = 0, len = 55;
        else if (cv->wire[conn] != NULL && tn - ti >= 7 && memcmp(t + ti, "{tid:", 5) == 0)
            key = 5, at = 3, len = 32;
        else if (cv->wire[conn] != NULL && tn - ti >= 7 && memcmp(t + ti, "{sid:", 5) == 0)
            key = 5, at = 36, len = 16;
        if (key > 0) {
            const char *close = memchr(t + ti, '}', tn - ti);
            char tp[56];
            if (wn - wi < len) {
                ok = fail(r, "conn %d: the wire ends at %zu where %.*s was due", conn, wi, (int)key, t + ti);
                break;
            }
            if (t[ti + key] == '?') {
                if (!well_formed_traceparent(w + wi))
                    ok = fail(r, "conn %d: no well-formed traceparent at %zu: %s", conn, wi, excerpt(w, wn, wi));
            } else {
                int k = atoi(t + ti + key);
                pthread_mutex_lock(&cap_lock);
                bool have = k >= 0 && k < n_captured;
                if (have)
                    traceparent_of(&captured[k], tp);
                pthread_mutex_unlock(&cap_lock);
                if (!have)
                    ok = fail(r, "conn %d: the wire names span %d, which was not exported", conn, k);
                else if (memcmp(w + wi, tp + at, len) != 0)
                    ok = fail(r, "conn %d: at %zu, %.*s, span %d's %.*s is %.*s", conn, wi, (int)len, w + wi, k,
                              (int)key, t + ti, (int)len, tp + at);
            }
            wi += len;
            ti = (size_t)(close - t) + 1;
            continue;
        }
        if (wi >= wn || w[wi] != t[ti]) {
            ok = fail(r, "conn %d: the wire differs at %zu: got \"%s\", want \"%s\"", conn, wi, excerpt(w, wn, wi),
                      excerpt(t, tn, ti));
            break;
        }
        ti++;
        wi++;
    }
    if (ok && wi != wn)
        ok = fail(r, "conn %d: %zu bytes more on the wire than wanted: \"%s\"", conn, wn - wi, excerpt(w, wn, wi));
    free(own);
    return ok;
}

static const char *find_attr(const struct cap_span *s, const char *key, size_t key_len)
{
    for (int i = 0; i < s->n_attrs; i++)
        if (strlen(s->attrs[i].key) == key_len && memcmp(s->attrs[i].key, key, key_len) == 0)
            return s->attrs[i].val;
    return NULL;
}

static bool parse_hex(const char *p, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(p + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

static bool check_span(struct run *r, int i, const struct conv_span *want)
{
    const struct cap_span *s = &captured[i];
    if (s->kind != (int)want->kind)
        return fail(r, "span %d: kind %d, want %d", i, s->kind, want->kind);
    if (want->name != NULL && strcmp(s->name, want->name) != 0)
        return fail(r, "span %d: name \"%s\", want \"%s\"", i, s->name, want->name);
    if ((s->status == OA_STATUS_ERROR) != want->error)
        return fail(r, "span %d: status %d, want %s", i, s->status, want->error ? "ERROR" : "not ERROR");
    for (int k = 0; k < CONV_MAX_ATTRS && want->attrs[k] != NULL; k++) {
        const char *a = want->attrs[k];
        if (a[0] == '!') {
            if (find_attr(s, a + 1, strlen(a + 1)) != NULL)
                return fail(r, "span %d: has %s, want none", i, a + 1);
            continue;
        }
        const char *eq = strchr(a, '=');
        const char *got = find_attr(s, a, (size_t)(eq - a));
        if (got == NULL || strcmp(got, eq + 1) != 0)
            return fail(r, "span %d: %.*s is %s, want %s", i, (int)(eq - a), a, got != NULL ? got : "absent", eq + 1);
    }
    if (want->parent == CONV_ROOT) {
        if (s->has_parent)
            return fail(r, "span %d: has a parent, want a root", i);
    } else if (want->parent == CONV_REMOTE || want->parent == CONV_NAMED) {
        uint8_t trace[16], span[8];
        if (want->remote == NULL || strlen(want->remote) < 52 || !parse_hex(want->remote + 3, trace, 16) ||
            !parse_hex(want->remote + 36, span, 8))
            return fail(r, "span %d: the case's remote parent is not a traceparent", i);
        if (!s->has_parent || s->remote != (want->parent == CONV_REMOTE) || memcmp(s->trace, trace, 16) != 0 ||
            memcmp(s->parent, span, 8) != 0)
            return fail(r, "span %d: not the %s child of %s", i, want->parent == CONV_REMOTE ? "remote" : "local",
                        want->remote);
    } else {
        if (want->parent < 0 || want->parent >= n_captured)
            return fail(r, "span %d: its parent, span %d, was not exported", i, want->parent);
        const struct cap_span *p = &captured[want->parent];
        if (!s->has_parent || s->remote || memcmp(s->trace, p->trace, 16) != 0 || memcmp(s->parent, p->span, 8) != 0)
            return fail(r, "span %d: not the local child of span %d", i, want->parent);
    }
    return true;
}

static bool check_spans(struct run *r)
{
    int want = 0;
    while (r->cv->spans != NULL && r->cv->spans[want].kind != 0)
        want++;
    pthread_mutex_lock(&cap_lock);
    bool ok = true;
    if (n_exported != want)
        ok = fail(r, "%d spans exported, want %d", n_exported, want);
    for (int i = 0; ok && i < want; i++)
        ok = check_span(r, i, &r->cv->spans[i]);
    pthread_mutex_unlock(&cap_lock);
    return ok;
}

static const char *describe(const struct variant *v, char *buf, size_t cap)
{
    if (v->bytewise)
        snprintf(buf, cap, "every step a byte per call");
    else if (v->split_step >= 0)
        snprintf(buf, cap, "step %d split at %zu", v->split_step, v->split_at);
    else if (v->max_take > 0)
        snprintf(buf, cap, "at most %zu bytes per send%s", v->max_take, v->eagain ? ", every other refused" : "");
    else
        snprintf(buf, cap, "whole, first call kind %u", v->kind % 4);
    return buf;
}

static bool run_once(const struct conversation *cv, const struct variant *v, bool *reported)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    r.cv = cv;
    r.v = v;
    conv_total_runs++;

    oa_protocol_reset();
    if (cv->protocols != NULL) {
        for (int i = 0; cv->protocols[i] != NULL; i++)
            oa_protocol_register(cv->protocols[i]);
    } else {
        oa_http1_register();
    }
    for (int i = 0; i < CONV_MAX_CONNS; i++)
        kernel.wire_len[i] = 0;
    kernel.max_take = v->max_take;
    kernel.eagain = v->eagain;
    kernel.calls = 0;
    pthread_mutex_lock(&cap_lock);
    n_captured = n_exported = 0;
    pthread_mutex_unlock(&cap_lock);

    for (int i = 0; i < CONV_MAX_CONNS && cv->roles[i] != OA_ROLE_UNKNOWN; i++) {
        /* the client side's peer is the server, and the other way round */
        struct sockaddr_in peer = {.sin_family = AF_INET,
                                   .sin_port = htons(cv->roles[i] == OA_ROLE_CLIENT ? 8080 : (uint16_t)(40000 + i))};
        peer.sin_addr.s_addr = htonl(0x0a000001u + (uint32_t)i);
        if (oa_fd_track(FD_BASE + i, cv->roles[i], (struct sockaddr *)&peer, sizeof(peer)) == NULL)
            fail(&r, "connection %d not tracked", i);
    }
    bool ok = r.why[0] == '\0' && play(&r);
    for (int i = 0; i < CONV_MAX_CONNS && cv->roles[i] != OA_ROLE_UNKNOWN; i++) {
        if (r.tls[i] != NULL)
            oa_tls_close(r.tls[i]);
        if (!r.closed[i])
            oa_fd_forget(FD_BASE + i);
    }
    /* every span finished is handed to the exporter before we look */
    oa_export_shutdown();
    for (int i = 0; ok && i < CONV_MAX_CONNS && cv->roles[i] != OA_ROLE_UNKNOWN; i++)
        ok = check_wire(&r, i);
    for (int i = 0; ok && cv->peer_check != NULL && i < CONV_MAX_CONNS && cv->roles[i] != OA_ROLE_UNKNOWN; i++) {
        char why[256] = "";
        const char *w = kernel.wire[i] != NULL ? kernel.wire[i] : "";
        if (!cv->peer_check(i, (const unsigned char *)w, kernel.wire_len[i], why, sizeof(why)))
            ok = fail(&r, "conn %d: the peer: %s", i, why);
    }
    ok = ok && check_spans(&r);
    if (!ok && !*reported) {
        char d[96];
        printf("# %s: %s: %s\n", cv->name, describe(v, d, sizeof(d)), r.why);
        *reported = true;
    }
    return ok;
}

void conv_run(const struct conversation *cv, struct conv_report *out)
{
    setup_once();
    memset(out, 0, sizeof(*out));
    struct variant v = {.split_step = -1};
    bool reported = false;

    out->whole = true;
    for (unsigned kind = 0; kind < 4; kind++) {
        v.kind = kind;
        out->whole &= run_once(cv, &v, &reported);
    }

    reported = false;
    out->split = true;
    size_t longest_send = 0;
    for (int i = 0; cv->steps[i].dir != CONV_END; i++) {
        const struct conv_step *s = &cv->steps[i];
        size_t n = step_len(s);
        if (s->dir == CONV_SEND && n > longest_send)
            longest_send = n;
        if (s->dir != CONV_SEND && s->dir != CONV_RECV)
            continue;
        size_t keep_from = 0, keep_to = 0;
        if (s->unsplit != NULL) {
            size_t un = s->unsplit_len > 0 ? s->unsplit_len : strlen(s->unsplit);
            const char *u = memmem(s->bytes, n, s->unsplit, un);
            if (u != NULL) {
                keep_from = (size_t)(u - s->bytes);
                keep_to = keep_from + un;
            }
        }
        for (size_t at = 1; at < n; at++) {
            if (at > keep_from && at < keep_to)
                continue;
            struct variant sv = {.split_step = i, .split_at = at, .kind = (unsigned)at};
            out->split &= run_once(cv, &sv, &reported);
            out->split_runs++;
        }
    }
    bool any_unsplit = false;
    for (int i = 0; cv->steps[i].dir != CONV_END; i++)
        any_unsplit |= cv->steps[i].unsplit != NULL;
    if (!any_unsplit) {
        struct variant bv = {.split_step = -1, .bytewise = true};
        out->split &= run_once(cv, &bv, &reported);
        out->split_runs++;
    }

    reported = false;
    out->partial = true;
    size_t max_k = cv->max_k > 0 ? cv->max_k : longest_send + 80;
    for (size_t k = 1; k <= max_k; k++) {
        struct variant pv = {.split_step = -1, .max_take = k, .kind = (unsigned)k};
        out->partial &= run_once(cv, &pv, &reported);
        out->partial_runs++;
    }
    reported = false;
    out->eagain = true;
    for (size_t k = 1; k <= max_k; k++) {
        struct variant ev = {.split_step = -1, .max_take = k, .eagain = true, .kind = (unsigned)k};
        out->eagain &= run_once(cv, &ev, &reported);
    }
}

static const char *env_of(const char *name)
{
    return getenv(name);
}

void conv_use_propagators(const char *list)
{
    setenv("OTEL_PROPAGATORS", list, 1);
    oa_config_load(&oa_config, env_of);
}
