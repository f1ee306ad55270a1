/* otelauto tail: a local OTLP/HTTP receiver that prints each trace as a
 * tree. One thread, one poll() loop over the listening socket, a signalfd
 * (SIGINT/SIGTERM: print what is pending and exit) and the connections. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "gzip_inflate.h"
#include "http_request.h"
#include "otlp_trace_decode.h"
#include "trace_tree.h"

const char tail_usage[] =
    "usage: otelauto tail [--port PORT] [--host ADDRESS] [--wait MS]\n"
    "Receives OTLP/HTTP (protobuf, optionally gzip) on ADDRESS:PORT and prints\n"
    "each trace as a tree of its spans once complete: its root span has arrived\n"
    "and no new span of it came for MS milliseconds (five times as long when\n"
    "its root never arrives). SIGINT or SIGTERM prints what is pending and exits.\n\n"
    "  --port PORT     default 4318, the OTLP/HTTP port; 0 picks a free one\n"
    "  --host ADDRESS  default 127.0.0.1\n"
    "  --wait MS       default 1000\n\n"
    "Point programs at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://ADDRESS:PORT.\n";

#define MAX_CONNECTIONS 128
#define MAX_PENDING_SPANS 10000
#define BODY_MAX (32u << 20)     /* bytes of a request body, as received */
#define INFLATED_MAX (64u << 20) /* bytes of a body once decompressed */
#define READ_CHUNK 65536

struct connection {
    int fd;
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_len, out_sent;
    bool continue_sent;  /* "100 Continue" already answered for the current request */
    bool closing;        /* close once the output is written */
};

struct tail_server {
    int listen_fd;
    int signal_fd;
    struct connection conns[MAX_CONNECTIONS];
    size_t conn_count;
    struct trace_store *store;
    bool stop;
};

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ options */

static bool parse_number(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return false;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

struct tail_options {
    const char *host;
    const char *port;
    unsigned long wait_ms;
};

/* Returns -1 to continue, else the exit status. */
static int parse_options(int argc, char **argv, struct tail_options *opt)
{
    opt->host = "127.0.0.1";
    opt->port = "4318";
    opt->wait_ms = 1000;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long n;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(tail_usage, stdout);
            return 0;
        } else if (strcmp(arg, "--port") == 0 && parse_number(value, 65535, &n)) {
            opt->port = value;
            i++;
        } else if (strcmp(arg, "--host") == 0 && value != NULL) {
            opt->host = value;
            i++;
        } else if (strcmp(arg, "--wait") == 0 && parse_number(value, 3600000, &n)) {
            opt->wait_ms = n;
            i++;
        } else {
            fprintf(stderr, "otelauto tail: bad or incomplete option '%s'\n\n%s", arg, tail_usage);
            return EXIT_USAGE;
        }
    }
    return -1;
}

/* ------------------------------------------------------------ sockets */

static int listen_on(const char *host, const char *port, char *shown, size_t shown_cap)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *list;
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        fprintf(stderr, "otelauto tail: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd < 0) {
        fprintf(stderr, "otelauto tail: cannot listen on %s:%s: %s\n", host, port, strerror(err));
        return -1;
    }
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &addr_len);
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port_number = 0;
    if (addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&addr;
        inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof ip);
        port_number = ntohs(a6->sin6_port);
        snprintf(shown, shown_cap, "[%s]:%u", ip, port_number);
    } else {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)&addr;
        inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof ip);
        port_number = ntohs(a4->sin_port);
        snprintf(shown, shown_cap, "%s:%u", ip, port_number);
    }
    return fd;
}

static void close_connection(struct tail_server *srv, size_t i)
{
    struct connection *c = &srv->conns[i];
    close(c->fd);
    free(c->in);
    free(c->out);
    srv->conns[i] = srv->conns[--srv->conn_count];
}

static void accept_connections(struct tail_server *srv)
{
    for (;;) {
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (srv->conn_count >= MAX_CONNECTIONS) {
            close(fd); /* bounded: a sender retries later */
            continue;
        }
        srv->conns[srv->conn_count++] = (struct connection){.fd = fd};
    }
}

/* ------------------------------------------------------------ responses */

static void queue_output(struct connection *c, const char *data, size_t len)
{
    if (c->out_len + len > 65536) {
        c->closing = true; /* a client that never reads its answers */
        return;
    }
    uint8_t *bigger = realloc(c->out, c->out_len + len);
    if (bigger == NULL) {
        c->closing = true;
        return;
    }
    c->out = bigger;
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

static void respond(struct connection *c, int status, const char *reason, const char *content_type,
                    const char *body, const char *extra_headers)
{
    char head[512];
    size_t body_len = strlen(body);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n", status, reason,
                     content_type, body_len, extra_headers, c->closing ? "Connection: close\r\n" : "");
    queue_output(c, head, (size_t)n < sizeof head ? (size_t)n : sizeof head - 1);
    queue_output(c, body, body_len);
}

static void respond_error(struct connection *c, int status, const char *reason, const char *message)
{
    char body[256];
    snprintf(body, sizeof body, "%s\n", message);
    respond(c, status, reason, "text/plain", body, "");
}

/* ------------------------------------------------------------ requests */

static void handle_traces(struct tail_server *srv, struct connection *c, const struct http_request *req)
{
    if (strcmp(req->content_type, "application/json") == 0) {
        respond_error(c, 415, "Unsupported Media Type", "only application/x-protobuf is accepted");
        return;
    }
    if (req->content_type[0] != '\0' && strcmp(req->content_type, "application/x-protobuf") != 0) {
        respond_error(c, 415, "Unsupported Media Type", "expected Content-Type: application/x-protobuf");
        return;
    }
    const uint8_t *body = req->body;
    size_t body_len = req->body_len;
    uint8_t *inflated = NULL;
    if (strcmp(req->content_encoding, "gzip") == 0) {
        enum gzip_result r = gzip_inflate(req->body, req->body_len, INFLATED_MAX, &inflated, &body_len);
        if (r == GZIP_TOO_LARGE) {
            respond_error(c, 413, "Content Too Large", "decompressed body too large");
            return;
        }
        if (r != GZIP_OK) {
            respond_error(c, 400, "Bad Request", "body is not valid gzip");
            return;
        }
        body = inflated;
    } else if (req->content_encoding[0] != '\0' && strcmp(req->content_encoding, "identity") != 0) {
        respond_error(c, 415, "Unsupported Media Type", "unsupported Content-Encoding (gzip is)");
        return;
    }
    long added = otlp_trace_decode(body, body_len, srv->store, monotonic_ms());
    free(inflated);
    if (added < 0) {
        fprintf(stderr, "otelauto tail: a traces request was not a valid ExportTraceServiceRequest\n");
        respond_error(c, 400, "Bad Request", "body is not a valid ExportTraceServiceRequest");
        return;
    }
    /* an empty ExportTraceServiceResponse encodes to zero bytes */
    respond(c, 200, "OK", "application/x-protobuf", "", "");
}

static void handle_request(struct tail_server *srv, struct connection *c, const struct http_request *req)
{
    bool traces = strcmp(req->path, "/v1/traces") == 0;
    bool metrics = strcmp(req->path, "/v1/metrics") == 0;
    if (!traces && !metrics) {
        respond_error(c, 404, "Not Found", "OTLP/HTTP receiver: POST /v1/traces");
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        char body[] = "use POST\n";
        respond(c, 405, "Method Not Allowed", "text/plain", body, "Allow: POST\r\n");
        return;
    }
    if (traces)
        handle_traces(srv, c, req);
    else
        respond(c, 200, "OK", "application/x-protobuf", "", ""); /* metrics: accepted, not shown */
}

/* Answers every complete request in the connection's buffer. */
static void process_input(struct tail_server *srv, struct connection *c)
{
    while (!c->closing && c->in_len > 0) {
        /* stray empty lines between requests are allowed (RFC 9112 2.2) */
        size_t skip = 0;
        while (skip < c->in_len && (c->in[skip] == '\r' || c->in[skip] == '\n'))
            skip++;
        if (skip > 0) {
            memmove(c->in, c->in + skip, c->in_len - skip);
            c->in_len -= skip;
            continue;
        }
        struct http_request req;
        enum http_parse_result r = http_request_parse(c->in, c->in_len, BODY_MAX, &req);
        if (r == HTTP_INCOMPLETE) {
            if (req.head_complete && req.expect_continue && !c->continue_sent) {
                static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
                queue_output(c, go_on, sizeof go_on - 1);
                c->continue_sent = true;
            }
            return;
        }
        if (r == HTTP_BAD || r == HTTP_TOO_LARGE) {
            fprintf(stderr, "otelauto tail: bad request: %s\n", req.error);
            c->closing = true;
            if (r == HTTP_BAD)
                respond_error(c, 400, "Bad Request", req.error);
            else
                respond_error(c, 413, "Content Too Large", req.error);
            return;
        }
        if (!req.keep_alive)
            c->closing = true;
        handle_request(srv, c, &req);
        c->continue_sent = false;
        memmove(c->in, c->in + req.consumed, c->in_len - req.consumed);
        c->in_len -= req.consumed;
    }
}

/* Returns false when the connection is to be closed. */
static bool read_input(struct tail_server *srv, struct connection *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < READ_CHUNK) {
            size_t limit = HTTP_HEAD_MAX + BODY_MAX + BODY_MAX / 8 + READ_CHUNK; /* chunk framing too */
            if (c->in_cap >= limit)
                return false;
            size_t cap = c->in_cap ? c->in_cap * 2 : 2 * READ_CHUNK;
            uint8_t *bigger = realloc(c->in, cap);
            if (bigger == NULL)
                return false;
            c->in = bigger;
            c->in_cap = cap;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            process_input(srv, c);
            if (c->closing)
                return true; /* the answer is written, then it closes */
            continue;
        }
        if (n == 0) {
            c->closing = true; /* answers already due are still written */
            return true;
        }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
}

/* Returns false when the connection is to be closed. */
static bool write_output(struct connection *c)
{
    while (c->out_sent < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        c->out_sent += (size_t)n;
    }
    c->out_len = c->out_sent = 0;
    return !c->closing;
}

/* ------------------------------------------------------------ the loop */

static void serve(struct tail_server *srv)
{
    struct pollfd fds[2 + MAX_CONNECTIONS];
    while (!srv->stop) {
        fds[0] = (struct pollfd){.fd = srv->listen_fd, .events = POLLIN};
        fds[1] = (struct pollfd){.fd = srv->signal_fd, .events = POLLIN};
        size_t polled = srv->conn_count;
        for (size_t i = 0; i < polled; i++) {
            struct connection *c = &srv->conns[i];
            fds[2 + i] = (struct pollfd){.fd = c->fd, .events = (short)((c->closing ? 0 : POLLIN) |
                                                                         (c->out_len > 0 ? POLLOUT : 0))};
        }
        int timeout = trace_store_next_deadline(srv->store, monotonic_ms());
        int ready = poll(fds, 2 + polled, timeout);
        if (ready < 0 && errno != EINTR) {
            perror("otelauto tail: poll");
            return;
        }
        trace_store_print_complete(srv->store, monotonic_ms());
        if (ready <= 0)
            continue;
        if (fds[1].revents & POLLIN)
            srv->stop = true;
        /* from the end: closing one moves the last connection into its slot */
        for (size_t i = polled; i-- > 0;) {
            struct connection *c = &srv->conns[i];
            short ev = fds[2 + i].revents;
            bool keep = true;
            if (ev & (POLLIN | POLLHUP | POLLERR))
                keep = read_input(srv, c);
            if (keep && c->out_len > 0)
                keep = write_output(c);
            else if (keep && c->closing)
                keep = false;
            if (!keep)
                close_connection(srv, i);
        }
        if (fds[0].revents & POLLIN)
            accept_connections(srv);
    }
}

int tail_main(int argc, char **argv)
{
    struct tail_options opt;
    int status = parse_options(argc, argv, &opt);
    if (status >= 0)
        return status;

    /* a test or a pipe reads the trees as they come */
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_signals, NULL);

    struct tail_server srv = {.listen_fd = -1, .signal_fd = -1};
    char shown[INET6_ADDRSTRLEN + 16];
    srv.listen_fd = listen_on(opt.host, opt.port, shown, sizeof shown);
    if (srv.listen_fd < 0)
        return EXIT_USAGE;
    srv.signal_fd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
    srv.store = trace_store_new(stdout, MAX_PENDING_SPANS, opt.wait_ms);
    if (srv.signal_fd < 0 || srv.store == NULL) {
        perror("otelauto tail");
        close(srv.listen_fd);
        return EXIT_USAGE;
    }
    printf("otelauto tail: listening on %s\n", shown);

    serve(&srv);

    trace_store_print_all(srv.store);
    while (srv.conn_count > 0)
        close_connection(&srv, srv.conn_count - 1);
    trace_store_free(srv.store);
    close(srv.signal_fd);
    close(srv.listen_fd);
    return 0;
}
