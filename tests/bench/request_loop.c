/* One thread plays both ends of a keep-alive HTTP/1.1 connection over
 * loopback for N exchanges: client writes a request, server reads it and
 * answers, client reads the answer. Under the shim each exchange is one
 * CLIENT and one SERVER span; run under callgrind with and without the shim
 * (scripts/measure-request-cost.sh) the difference per exchange is what
 * tracing costs the program. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char request[] = "GET /bench HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: request_loop\r\n\r\n";
static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";

static void read_exactly(int fd, char *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, buf + got, want - got);
        if (r <= 0) {
            perror("read");
            exit(1);
        }
        got += (size_t)r;
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        perror("listen");
        return 1;
    }
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(cfd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("connect");
        return 1;
    }
    int sfd = accept(lfd, NULL, NULL);
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char buf[4096];
    /* the traceparent line we may add is 70 bytes: read the head up to its end */
    for (int i = 0; i < n; i++) {
        if (write(cfd, request, sizeof(request) - 1) != (ssize_t)(sizeof(request) - 1))
            return 1;
        size_t got = 0;
        while (got < 4 || memcmp(buf + got - 4, "\r\n\r\n", 4) != 0) {
            ssize_t r = read(sfd, buf + got, sizeof(buf) - got);
            if (r <= 0)
                return 1;
            got += (size_t)r;
        }
        if (write(sfd, response, sizeof(response) - 1) != (ssize_t)(sizeof(response) - 1))
            return 1;
        read_exactly(cfd, buf, sizeof(response) - 1);
    }
    close(cfd);
    close(sfd);
    close(lfd);
    printf("%d exchanges\n", n);
    return 0;
}
