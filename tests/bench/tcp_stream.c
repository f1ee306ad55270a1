/* Traffic that is not HTTP: one loopback TCP connection carrying a stream of
 * small writes, read on the other end by a second thread. Under the shim both
 * ends are connections it watches until their first bytes say "not HTTP"
 * (the stream starts with a binary byte), after which every read and write
 * must cost no more than the pass-through preload's.
 *
 *   tcp_stream WRITES WRITE_SIZE [lockstep]
 * lockstep: one thread writes each piece and reads it at the other end
 * before the next, so that every run makes exactly the same calls (for
 * callgrind). Prints: writes N size S ns E mb_per_s M */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int reader_fd;
static size_t expected;

static void *reader(void *arg)
{
    (void)arg;
    static char buf[1 << 16];
    size_t got = 0;
    while (got < expected) {
        ssize_t r = read(reader_fd, buf, sizeof buf);
        if (r <= 0) {
            perror("tcp_stream: read");
            exit(1);
        }
        got += (size_t)r;
    }
    return NULL;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long writes = argc > 1 ? atol(argv[1]) : 200000;
    size_t size = argc > 2 ? (size_t)atol(argv[2]) : 64;
    if (writes <= 0 || size == 0 || size > 65536)
        return 2;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        perror("tcp_stream: listen");
        return 1;
    }
    int wfd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(wfd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("tcp_stream: connect");
        return 1;
    }
    reader_fd = accept(lfd, NULL, NULL);
    int one = 1;
    setsockopt(wfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    expected = (size_t)writes * size;

    char *msg = malloc(size);
    memset(msg, 0x5a, size);
    msg[0] = 0x00; /* binary: not the start of an HTTP request */

    if (argc > 3 && strcmp(argv[3], "lockstep") == 0) {
        uint64_t t0 = now_ns();
        char *in = malloc(size);
        for (long i = 0; i < writes; i++) {
            if (write(wfd, msg, size) != (ssize_t)size)
                return 1;
            size_t got = 0;
            while (got < size) {
                ssize_t r = read(reader_fd, in + got, size - got);
                if (r <= 0)
                    return 1;
                got += (size_t)r;
            }
        }
        uint64_t elapsed = now_ns() - t0;
        printf("writes %ld size %zu ns %llu mb_per_s %.1f\n", writes, size, (unsigned long long)elapsed,
               (double)expected / ((double)elapsed / 1e9) / 1e6);
        return 0;
    }

    uint64_t t0 = now_ns();
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    for (long i = 0; i < writes; i++) {
        size_t off = 0;
        while (off < size) {
            ssize_t r = write(wfd, msg + off, size - off);
            if (r <= 0) {
                perror("tcp_stream: write");
                return 1;
            }
            off += (size_t)r;
        }
    }
    pthread_join(t, NULL);
    uint64_t elapsed = now_ns() - t0;
    printf("writes %ld size %zu ns %llu mb_per_s %.1f\n", writes, size, (unsigned long long)elapsed,
           (double)expected / ((double)elapsed / 1e9) / 1e6);
    close(wfd);
    close(reader_fd);
    close(lfd);
    return 0;
}
