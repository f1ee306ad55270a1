/* A non-blocking HTTP/1.1 client with a tiny send buffer that POSTs a large
 * request: almost every write is partial or fails with EAGAIN, including the
 * ones that carry the request head, where the shim injects traceparent. The
 * program checks what the shim must guarantee: each write returns a count in
 * [1, requested] (or -1/EAGAIN), never more than the program's own bytes,
 * and the counts add up to exactly the request it meant to send.
 *
 *   nonblocking_client HOST PORT BODY_BYTES [--head-pad N] [--writev]
 *
 * The head carries an "X-Pad" header of N bytes (default 16384) so that the
 * head itself spans many partial writes. The body byte i is (i * 7 + 3) & 0xff.
 * --writev sends with writev(head rest, body rest) instead of write().
 * Prints the whole response on stdout; stats on stderr as
 * "writes=W eagain=E sent=S expected=X". Exit 3 if a return value was out
 * of range or the total is wrong, 1 on other errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int wait_for(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int r = poll(&p, 1, 10000);
        if (r > 0)
            return 0;
        if (r == 0) {
            fprintf(stderr, "nonblocking_client: timed out waiting for the socket\n");
            return -1;
        }
        if (errno != EINTR) {
            perror("poll");
            return -1;
        }
    }
}

static int connect_nonblocking(const char *host, int port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "nonblocking_client: bad IPv4 address %s\n", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        perror("socket");
        return -1;
    }
    int sndbuf = 1024;  /* the kernel doubles it, and enforces its own minimum */
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) != 0)
        perror("setsockopt SO_SNDBUF");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        perror("connect");
        close(fd);
        return -1;
    }
    if (wait_for(fd, POLLOUT) != 0) {
        close(fd);
        return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        errno = err;
        perror("connect");
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT BODY_BYTES [--head-pad N] [--writev]\n", argv[0]);
        return 1;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    size_t body_len = strtoul(argv[3], NULL, 10);
    size_t pad_len = 16384;
    int use_writev = 0;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--head-pad") == 0 && i + 1 < argc)
            pad_len = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--writev") == 0)
            use_writev = 1;
    }

    char *pad = malloc(pad_len + 1);
    unsigned char *body = malloc(body_len + 1);
    char *head = malloc(pad_len + 1024);
    if (pad == NULL || body == NULL || head == NULL)
        return 1;
    for (size_t i = 0; i < pad_len; i++)
        pad[i] = (char)('a' + i % 26);
    pad[pad_len] = '\0';
    for (size_t i = 0; i < body_len; i++)
        body[i] = (unsigned char)((i * 7 + 3) & 0xff);
    int head_len = snprintf(head, pad_len + 1024,
                            "POST /upload HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: nonblocking-client/1.0\r\n"
                            "X-Pad: %s\r\nContent-Type: application/octet-stream\r\n"
                            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                            host, port, pad, body_len);

    int fd = connect_nonblocking(host, port);
    if (fd < 0)
        return 1;

    size_t expected = (size_t)head_len + body_len;
    size_t sent = 0;
    unsigned long writes = 0, eagain = 0;
    while (sent < expected) {
        size_t head_rest = sent < (size_t)head_len ? (size_t)head_len - sent : 0;
        size_t body_off = sent < (size_t)head_len ? 0 : sent - (size_t)head_len;
        struct iovec iov[2];
        int iovcnt = 0;
        if (head_rest > 0) {
            iov[iovcnt].iov_base = head + sent;
            iov[iovcnt].iov_len = head_rest;
            iovcnt++;
        }
        iov[iovcnt].iov_base = body + body_off;
        iov[iovcnt].iov_len = body_len - body_off;
        iovcnt++;

        size_t requested;
        ssize_t r;
        if (use_writev) {
            requested = iov[0].iov_len + (iovcnt > 1 ? iov[1].iov_len : 0);
            r = writev(fd, iov, iovcnt);
        } else {
            requested = iov[0].iov_len;
            r = write(fd, iov[0].iov_base, requested);
        }
        writes++;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            eagain++;
            if (wait_for(fd, POLLOUT) != 0)
                return 1;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            perror("write");
            return 1;
        }
        if (r < 1 || (size_t)r > requested) {
            fprintf(stderr, "nonblocking_client: write returned %zd for %zu requested bytes\n", r, requested);
            return 3;
        }
        sent += (size_t)r;
    }
    fprintf(stderr, "writes=%lu eagain=%lu sent=%zu expected=%zu\n", writes, eagain, sent, expected);

    static char buf[65536];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) {
            fwrite(buf, 1, (size_t)r, stdout);
            continue;
        }
        if (r == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_for(fd, POLLIN) != 0)
                return 1;
            continue;
        }
        perror("read");
        return 1;
    }
    fflush(stdout);
    close(fd);
    free(pad);
    free(body);
    free(head);
    if (sent != expected) {
        fprintf(stderr, "nonblocking_client: sent %zu of %zu bytes\n", sent, expected);
        return 3;
    }
    return 0;
}
