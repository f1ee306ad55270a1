/* One thread plays both ends of a keep-alive HTTP/1.1 connection over
 * loopback for N exchanges: client writes a request, server reads it and
 * answers, client reads the answer. Under the shim each exchange is one
 * CLIENT and one SERVER span; run under callgrind with and without the shim
 * (scripts/measure-request-cost.sh) the difference per exchange is what
 * tracing costs the program. */
#include <stdint.h>
#include <string.h>

#include "loopback_pair.h"

static const char request[] = "GET /bench HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: request_loop\r\n\r\n";
static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    int cfd, sfd;
    loopback_pair(&cfd, &sfd);
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
    printf("%d exchanges\n", n);
    return 0;
}
