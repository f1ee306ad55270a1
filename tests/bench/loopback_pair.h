/* What the one-thread loops of tests/bench/ share: both ends of one TCP
 * connection over loopback (the client's connected socket, the server's
 * accepted one, Nagle off), and reading an exact count of bytes. */
#ifndef OA_BENCH_LOOPBACK_PAIR_H
#define OA_BENCH_LOOPBACK_PAIR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void read_exactly(int fd, void *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, (char *)buf + got, want - got);
        if (r <= 0) {
            perror("read");
            exit(1);
        }
        got += (size_t)r;
    }
}

/* The connection's two ends; exits on failure. The listening socket is
 * closed once the connection is accepted. */
static void loopback_pair(int *cfd, int *sfd)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        perror("listen");
        exit(1);
    }
    *cfd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(*cfd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("connect");
        exit(1);
    }
    *sfd = accept(lfd, NULL, NULL);
    if (*sfd < 0) {
        perror("accept");
        exit(1);
    }
    close(lfd);
    int one = 1;
    setsockopt(*cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(*sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

#endif
