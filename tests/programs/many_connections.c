/* Holds N connections to one HTTP server open at the same time, with one
 * request in flight on each.
 *
 *   many_connections HOST PORT N PATH
 *
 * Raises RLIMIT_NOFILE's soft limit to the hard one, connects N non-blocking
 * sockets (in waves of 256, so that the server's listen backlog never
 * overflows: every connection stays open), then sends "GET PATH?i=<k>" on
 * each, reads every response (Content-Length framed) with epoll, and only
 * then closes them all. Prints "connections=N answered=A" and
 * exits 0 if every connection got a 200 answer. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAVE 256

struct conn {
    int fd;
    int connected;
    int done;
    size_t have;
    char buf[512];
};

static int wait_events(int ep, struct epoll_event *ev, int max)
{
    int n;
    do
        n = epoll_wait(ep, ev, max, 10000);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        fprintf(stderr, "many_connections: epoll_wait timed out or failed\n");
        exit(1);
    }
    return n;
}

/* true once the whole response is in c->buf */
static int response_complete(struct conn *c)
{
    c->buf[c->have] = '\0';
    char *end = strstr(c->buf, "\r\n\r\n");
    if (!end)
        return 0;
    char *cl = strstr(c->buf, "Content-Length: ");
    size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0;
    return c->have >= (size_t)(end + 4 - c->buf) + body;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: many_connections HOST PORT N PATH\n");
        return 2;
    }
    int n = atoi(argv[3]);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n + 64) {
        fprintf(stderr, "many_connections: RLIMIT_NOFILE %lu is too low for %d connections\n",
                (unsigned long)rl.rlim_cur, n);
        return 77;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(argv[2]));
    inet_pton(AF_INET, argv[1], &sa.sin_addr);

    struct conn *conns = calloc((size_t)n, sizeof *conns);
    struct epoll_event *ev = calloc(WAVE, sizeof *ev);
    int ep = epoll_create1(0);
    if (!conns || !ev || ep < 0)
        return 1;

    for (int first = 0; first < n; first += WAVE) {
        int last = first + WAVE < n ? first + WAVE : n, pending = last - first;
        for (int i = first; i < last; i++) {
            struct conn *c = &conns[i];
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (c->fd < 0 || (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0 &&
                              errno != EINPROGRESS)) {
                perror("many_connections: socket/connect");
                return 1;
            }
            struct epoll_event e = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
            epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
        }
        while (pending > 0) {
            int k = wait_events(ep, ev, WAVE);
            for (int j = 0; j < k; j++) {
                struct conn *c = &conns[ev[j].data.u32];
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) {
                    fprintf(stderr, "many_connections: connect: %s\n", strerror(err));
                    return 1;
                }
                c->connected = 1;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                pending--;
            }
        }
    }

    /* every connection is open: one request on each */
    for (int i = 0; i < n; i++) {
        char req[256];
        int len = snprintf(req, sizeof req, "GET %s?i=%d HTTP/1.1\r\nHost: many\r\n\r\n", argv[4], i);
        if (write(conns[i].fd, req, (size_t)len) != len) {
            perror("many_connections: write");
            return 1;
        }
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &e);
    }
    int answered = 0, remaining = n;
    while (remaining > 0) {
        int k = wait_events(ep, ev, WAVE);
        for (int j = 0; j < k; j++) {
            struct conn *c = &conns[ev[j].data.u32];
            ssize_t r = read(c->fd, c->buf + c->have, sizeof c->buf - 1 - c->have);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r > 0)
                c->have += (size_t)r;
            if (r <= 0 || response_complete(c) || c->have == sizeof c->buf - 1) {
                answered += r > 0 && strncmp(c->buf, "HTTP/1.1 200 ", 13) == 0;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                remaining--;
            }
        }
    }
    for (int i = 0; i < n; i++)
        close(conns[i].fd);
    printf("connections=%d answered=%d\n", n, answered);
    return answered == n ? 0 : 1;
}
