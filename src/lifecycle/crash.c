/* Crash capture (see crash.h).
 *
 * Sending: the handler itself posts the spans, OTLP/protobuf over HTTP/1.1,
 * on a socket of its own made with raw system calls (no hook sees it),
 * within one second from the start of the send, and waits for the
 * collector's response head so that the request was taken before the
 * process dies. It needs no other thread: it works when the crashed thread
 * is the exporter's, or when the exporter is blocked. Only for an http://
 * traces endpoint with the http/protobuf protocol and the otlp exporter.
 *
 * Otherwise (https: a TLS session cannot be made in a signal handler;
 * http/json; grpc), the same encoded request is handed to the exporter
 * thread, which sends it as it sends every request, and the handler waits
 * for it (oa_export_crash_handoff: no allocation, no lock), within the same
 * second. Not when the crashed thread is the exporter's (nothing is sent),
 * nor for exporters other than otlp alone (README, "Crash capture"). */
#include <errno.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <poll.h>
#include <setjmp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lifecycle/crash.h"
#include "lifecycle/crash_stack.h"
#include "base/log.h"
#include "config/resource.h"
#include "export/batch_processor.h"
#include "export/crash_encoder.h"
#include "trace/span.h"
#include "wire/fd_table.h"
#include "wire/protocol.h"
#include "wire/tls_io.h"

void (*oa_crash_install_handlers)(void);

#define SEND_DEADLINE_NS 1000000000ll
/* a second thread that crashes while the first captures waits this long at most */
#define WAIT_FOR_OTHER_NS 1500000000ll

static bool enabled;
/* the handler posts the spans itself; else it hands them to the exporter thread */
static bool raw_post;

/* where the spans go */
static union {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} collector;
static socklen_t collector_len;
/* the request head up to the Content-Length value */
static char head[OA_CONFIG_MAX_HEADERS * 520 + 4096];
static size_t head_len;

/* Pre-allocated (static: no page is touched before a crash) */
static uint8_t body[1 << 20];
static char stacktrace[16384];
static struct oa_span scratch;

/* 0 no crash yet, 1 a thread captures, 2 done */
static int capture_state;
static int capture_tid;
static sigjmp_buf capture_jmp;

bool oa_crash_enabled(void)
{
    return __atomic_load_n(&enabled, __ATOMIC_ACQUIRE);
}

/* ---- set-up ---- */

static bool append(const char *s, size_t n)
{
    if (head_len + n >= sizeof head)
        return false;
    memcpy(head + head_len, s, n);
    head_len += n;
    return true;
}

static bool append_str(const char *s)
{
    return append(s, strlen(s));
}

/* The address of host (text, without brackets) and port: literal
 * addresses and "localhost" without a lookup, other names with one
 * getaddrinfo at configuration time. */
static bool resolve(const char *host, int port)
{
    memset(&collector, 0, sizeof collector);
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &collector.in.sin_addr) == 1) {
        collector.in.sin_family = AF_INET;
        collector.in.sin_port = htons((uint16_t)port);
        collector_len = sizeof collector.in;
        return true;
    }
    if (inet_pton(AF_INET6, host, &collector.in6.sin6_addr) == 1) {
        collector.in6.sin6_family = AF_INET6;
        collector.in6.sin6_port = htons((uint16_t)port);
        collector_len = sizeof collector.in6;
        return true;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
        return false;
    bool ok = res->ai_addrlen <= sizeof collector;
    if (ok) {
        memcpy(&collector, res->ai_addr, res->ai_addrlen);
        collector_len = res->ai_addrlen;
        if (collector.sa.sa_family == AF_INET)
            collector.in.sin_port = htons((uint16_t)port);
        else if (collector.sa.sa_family == AF_INET6)
            collector.in6.sin6_port = htons((uint16_t)port);
        else
            ok = false;
    }
    freeaddrinfo(res);
    return ok;
}

/* http://host[:port][/path] into the collector's address and the head */
static bool set_endpoint(const struct oa_config_otlp *o)
{
    const char *url = o->endpoint;
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *authority = url + 7;
    const char *path = strchr(authority, '/');
    size_t authority_len = path != NULL ? (size_t)(path - authority) : strlen(authority);
    if (path == NULL)
        path = "/";
    char host[256];
    int port = 80;
    const char *colon;
    if (authority[0] == '[') {
        const char *close = memchr(authority, ']', authority_len);
        if (close == NULL || (size_t)(close - authority - 1) >= sizeof host)
            return false;
        memcpy(host, authority + 1, (size_t)(close - authority - 1));
        host[close - authority - 1] = '\0';
        colon = close + 1 < authority + authority_len && close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(authority, ':', authority_len);
        size_t host_len = colon != NULL ? (size_t)(colon - authority) : authority_len;
        if (host_len == 0 || host_len >= sizeof host)
            return false;
        memcpy(host, authority, host_len);
        host[host_len] = '\0';
    }
    if (colon != NULL) {
        port = 0;
        for (const char *p = colon + 1; p < authority + authority_len; p++) {
            if (*p < '0' || *p > '9' || port > 65535)
                return false;
            port = port * 10 + (*p - '0');
        }
        if (port <= 0 || port > 65535)
            return false;
    }
    if (!resolve(host, port))
        return false;
    head_len = 0;
    bool ok = append_str("POST ") && append_str(path) && append_str(" HTTP/1.1\r\nHost: ") &&
              append(authority, authority_len) &&
              append_str("\r\nUser-Agent: otelauto/" OA_VERSION "\r\nContent-Type: application/x-protobuf\r\n"
                         "Connection: close\r\n");
    for (int i = 0; ok && i < o->n_headers && i < OA_CONFIG_MAX_HEADERS; i++) {
        if (o->headers[i][0] != '\0')
            ok = append_str(o->headers[i]) && append_str("\r\n");
    }
    return ok && append_str("Content-Length: ");
}

void oa_crash_configure(const struct oa_config *c)
{
    if (!c->crash_capture || c->sdk_disabled || !oa_config_traces_exporter_on(c, OA_TRACES_EXPORTER_OTLP))
        return;
    raw_post = c->traces_otlp.protocol == OA_OTLP_HTTP_PROTOBUF && set_endpoint(&c->traces_otlp);
    if (!raw_post) {
        if (!oa_export_takes_encoded()) {
            OA_DEBUG("crash capture: the traces exporter is not otlp alone; off");
            return;
        }
        /* the thread that will send the spans, there before the crash */
        oa_export_start_thread();
        OA_DEBUG("crash capture: the spans of a crash go through the exporter thread");
    }
    if (!oa_crash_stack_load())
        OA_DEBUG("crash capture: libunwind.so.8 not found; crash spans carry no stack trace");
    __atomic_store_n(&enabled, true, __ATOMIC_RELEASE);
    if (oa_crash_install_handlers != NULL)
        oa_crash_install_handlers();
}

/* ---- in the handler ---- */

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
    }
}

static const char *signal_description(int sig)
{
    switch (sig) {
    case SIGSEGV: return "Segmentation fault";
    case SIGBUS: return "Bus error";
    case SIGILL: return "Illegal instruction";
    case SIGFPE: return "Floating point exception";
    case SIGABRT: return "Aborted";
    default: return "Fatal signal";
    }
}

static size_t put_text(char *out, size_t cap, size_t len, const char *s)
{
    while (*s != '\0' && len + 1 < cap)
        out[len++] = *s++;
    out[len] = '\0';
    return len;
}

static size_t put_number(char *out, size_t cap, size_t len, uint64_t v, unsigned base)
{
    len += oa_crash_format_number(out + len, cap - 1 - len, v, base);
    out[len] = '\0';
    return len;
}

/* "Segmentation fault at address 0x0" for a fault, "... (sent by pid N)"
 * for a signal another process sent */
static void describe(char *out, size_t cap, int sig, const siginfo_t *info)
{
    size_t len = put_text(out, cap, 0, signal_description(sig));
    if (info == NULL)
        return;
    if (info->si_code > 0 && sig != SIGABRT) {
        len = put_text(out, cap, len, " at address 0x");
        put_number(out, cap, len, (uint64_t)(uintptr_t)info->si_addr, 16);
    } else if (info->si_code == SI_USER && info->si_pid != getpid()) {
        len = put_text(out, cap, len, " (sent by pid ");
        len = put_number(out, cap, len, (uint64_t)info->si_pid, 10);
        put_text(out, cap, len, ")");
    }
}

struct collect {
    struct oa_crash_encoder enc;
    const struct oa_crash_event *ev;
};

/* Every span in flight with the whole event while there is room; once the
 * stack traces have filled the buffer, the later spans without theirs (the
 * same trace on every span of the crash), so that as many spans as possible
 * go out. */
static void emit(const struct oa_span *s, void *arg)
{
    struct collect *c = arg;
    if (oa_crash_encoder_add(&c->enc, s, c->ev))
        return;
    struct oa_crash_event without_stack = *c->ev;
    without_stack.stacktrace_len = 0;
    oa_crash_encoder_add(&c->enc, s, &without_stack);
}

/* Waits for fd to be ready for events, until deadline: false on time out or error. */
static bool wait_for(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - monotonic_ns();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)(left / 1000000 + 1));
        if (n > 0)
            return (p.revents & (events | POLLHUP)) != 0;
        if (n < 0 && errno != EINTR)
            return false;
    }
}

static bool write_all(int fd, const void *buf, size_t n, int64_t deadline)
{
    const char *p = buf;
    while (n > 0) {
        long w = syscall(SYS_write, fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EAGAIN) {
            if (!wait_for(fd, POLLOUT, deadline))
                return false;
        } else if (!(w < 0 && errno == EINTR)) {
            return false;
        }
    }
    return true;
}

/* The request, then the response's head (or the end of the connection). */
static void post(const uint8_t *payload, size_t len)
{
    int64_t deadline = monotonic_ns() + SEND_DEADLINE_NS;
    int fd = (int)syscall(SYS_socket, collector.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (syscall(SYS_connect, fd, &collector.sa, collector_len) < 0) {
        int so_error = 0;
        socklen_t so_len = sizeof so_error;
        if (errno != EINPROGRESS || !wait_for(fd, POLLOUT, deadline) ||
            syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) < 0 || so_error != 0) {
            syscall(SYS_close, fd);
            return;
        }
    }
    char length[32];
    size_t n = put_number(length, sizeof length, 0, len, 10);
    n = put_text(length, sizeof length, n, "\r\n\r\n");
    if (write_all(fd, head, head_len, deadline) && write_all(fd, length, n, deadline) &&
        write_all(fd, payload, len, deadline)) {
        /* the response head: the collector has the request */
        char reply[512];
        size_t got = 0;
        while (got < sizeof reply && wait_for(fd, POLLIN, deadline)) {
            long r = syscall(SYS_read, fd, reply + got, sizeof reply - got);
            if (r <= 0 && !(r < 0 && (errno == EINTR || errno == EAGAIN)))
                break;
            if (r > 0)
                got += (size_t)r;
            if (memmem(reply, got, "\r\n\r\n", 4) != NULL)
                break;
        }
    }
    syscall(SYS_close, fd);
}

static void capture(int sig, const siginfo_t *info, void *ucontext)
{
    static char message[128];
    describe(message, sizeof message, sig, info);
    uint64_t now = oa_now_unix_nano();
    struct oa_crash_event ev = {
        .time_unix_nano = now,
        .type = signal_name(sig),
        .message = message,
    };
    ev.stacktrace_len = oa_crash_stack_write(ucontext, stacktrace, sizeof stacktrace);
    ev.stacktrace = stacktrace;

    static struct collect c;
    c.ev = &ev;
    oa_crash_encoder_begin(&c.enc, body, sizeof body);
    struct oa_crash_walk w = {.scratch = &scratch, .error = ev.type, .end = now, .emit = emit, .arg = &c};
    oa_fd_table_crash_walk(&w);
    oa_tls_crash_walk(&w);
    if (c.enc.n_spans == 0)
        return;
    size_t len;
    const uint8_t *payload = oa_crash_encoder_finish(&c.enc, &oa_resource, &len);
    if (payload == NULL)
        return;
    if (raw_post)
        post(payload, len);
    else
        oa_export_crash_handoff(payload, len, (size_t)c.enc.n_spans, SEND_DEADLINE_NS);
}

void oa_crash_capture(int sig, const siginfo_t *info, void *ucontext)
{
    if (!oa_crash_enabled())
        return;
    int saved = errno;
    int tid = (int)syscall(SYS_gettid);
    if (__atomic_load_n(&capture_state, __ATOMIC_ACQUIRE) == 1 && __atomic_load_n(&capture_tid, __ATOMIC_RELAXED) == tid)
        siglongjmp(capture_jmp, 1); /* a fault inside the capture: it is given up */
    int expected = 0;
    if (!__atomic_compare_exchange_n(&capture_state, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        /* another thread captures (or did): let it finish before this one dies */
        int64_t until = monotonic_ns() + WAIT_FOR_OTHER_NS;
        while (__atomic_load_n(&capture_state, __ATOMIC_ACQUIRE) == 1 && monotonic_ns() < until) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
        errno = saved;
        return;
    }
    __atomic_store_n(&capture_tid, tid, __ATOMIC_RELAXED);
    if (sigsetjmp(capture_jmp, 0) == 0)
        capture(sig, info, ucontext);
    __atomic_store_n(&capture_state, 2, __ATOMIC_RELEASE);
    errno = saved;
}
