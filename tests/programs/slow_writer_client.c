/* An HTTP/1.1 client that writes each request head one byte per write()
 * call: the worst case for header injection, since the shim has to slip the
 * traceparent line in while the program hands it a single byte at a time,
 * and every write() must still report exactly the one byte the program gave.
 *
 *   slow_writer_client HOST PORT [PATH] [REQUESTS]
 *
 * HOST is a numeric IPv4 address. REQUESTS (default 1) requests are sent one
 * after the other on one keep-alive connection; the last says
 * "Connection: close". Each full response (head and body) is printed on
 * stdout. The return values of all write() calls go to stderr as
 * "write_returns: 1,1,1,..."; the exit status is 3 if any was not 1, 1 on
 * other errors, 0 otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_WRITES (1 << 16)

static ssize_t write_returns[MAX_WRITES];
static size_t n_writes;

static int connect_to(const char *host, int port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "slow_writer_client: bad IPv4 address %s\n", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("socket");
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("connect");
        close(fd);
        return -1;
    }
    return fd;
}

/* One byte per call, retrying only on EINTR; every return value is kept. */
static int write_slowly(int fd, const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        ssize_t r = write(fd, s + i, 1);
        if (n_writes < MAX_WRITES)
            write_returns[n_writes++] = r;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            perror("write");
            return -1;
        }
        if (r != 1)
            return 0;  /* recorded; the caller reports the anomaly */
        i++;
    }
    return 0;
}

/* Reads one response (head, then a Content-Length body, or up to EOF when
 * there is none) and prints it. Returns 0, or -1 on error or early EOF. */
static int read_response(int fd, int expect_close)
{
    static char buf[1 << 20];
    size_t have = 0;
    char *head_end = NULL;
    while (head_end == NULL) {
        if (have == sizeof buf - 1)
            return -1;
        ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = '\0';
        head_end = strstr(buf, "\r\n\r\n");
    }
    size_t head_len = (size_t)(head_end - buf) + 4;
    long content_length = -1;
    for (char *line = strstr(buf, "\r\n"); line != NULL && line < head_end; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "content-length:", 15) == 0)
            content_length = strtol(line + 2 + 15, NULL, 10);
    }
    fwrite(buf, 1, have, stdout);
    size_t body_have = have - head_len;
    if (content_length < 0 && !expect_close)
        return 0;
    while (content_length < 0 || body_have < (size_t)content_length) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return content_length < 0 ? 0 : -1;
        fwrite(buf, 1, (size_t)r, stdout);
        body_have += (size_t)r;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST PORT [PATH] [REQUESTS]\n", argv[0]);
        return 1;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    const char *path = argc > 3 ? argv[3] : "/";
    int requests = argc > 4 ? atoi(argv[4]) : 1;
    if (requests < 1)
        requests = 1;

    int fd = connect_to(host, port);
    if (fd < 0)
        return 1;

    int status = 0;
    for (int i = 0; i < requests && status == 0; i++) {
        int last = i == requests - 1;
        char head[1024];
        int n = snprintf(head, sizeof head,
                         "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: slow-writer/1.0\r\n"
                         "Accept: */*\r\nConnection: %s\r\n\r\n",
                         path, host, port, last ? "close" : "keep-alive");
        if (write_slowly(fd, head, (size_t)n) != 0 || read_response(fd, last) != 0) {
            fprintf(stderr, "slow_writer_client: request %d failed\n", i + 1);
            status = 1;
        }
    }
    fflush(stdout);
    close(fd);

    fprintf(stderr, "write_returns: ");
    int all_one = 1;
    for (size_t i = 0; i < n_writes; i++) {
        fprintf(stderr, "%s%zd", i ? "," : "", write_returns[i]);
        if (write_returns[i] != 1)
            all_one = 0;
    }
    fprintf(stderr, "\nwrites: %zu\n", n_writes);
    if (!all_one) {
        fprintf(stderr, "slow_writer_client: a write() did not return 1\n");
        return 3;
    }
    return status;
}
