/* A client that does to its traced sockets what real programs do to file
 * descriptors: closes one and gets the same number back for a new
 * connection, dup2()s a pipe over one in the middle of an exchange, and uses
 * a socket whose number is above 65535.
 *
 *   fd_games HOST PORT close-reuse|dup2-over|high-fd
 *
 * close-reuse  GET /first on a connection, close it, open a new connection
 *              (it gets the same fd number: checked), GET /second on it.
 * dup2-over    GET /before (answered), then GET /unanswered is sent and,
 *              before its response is read, a pipe's write end is dup2()ed
 *              over the socket's number; an HTTP request head written to that
 *              number must come out of the pipe byte for byte. Then GET /after
 *              on a new connection.
 * high-fd      raises RLIMIT_NOFILE, fills the fd numbers up to 66000, and
 *              does GET /high on a socket numbered above 65535. Exit status 77
 *              if the limit cannot be raised (the test then skips).
 * Prints one line per step ("first fd=N", "pipe intact", ...); exit status 0
 * when every step went as expected, 1 otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define HIGH_FD_FLOOR 66000

static struct sockaddr_in server;

static int connect_server(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&server, sizeof server) != 0) {
        perror("fd_games: connect");
        exit(1);
    }
    return fd;
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t r = write(fd, s, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            perror("fd_games: write");
            exit(1);
        }
        s += r;
        n -= (size_t)r;
    }
}

static void send_get(int fd, const char *path)
{
    char head[256];
    int n = snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: fd-games\r\nUser-Agent: fd-games\r\n\r\n",
                     path);
    write_all(fd, head, (size_t)n);
}

/* One response with a Content-Length body; exits on anything else. */
static void read_response(int fd, const char *what)
{
    char buf[8192];
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "fd_games: no complete response to %s\n", what);
            exit(1);
        }
        have += (size_t)r;
        buf[have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        char *cl = strstr(buf, "Content-Length: ");
        if (end && cl && have >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10)) {
            printf("%s answered %.12s\n", what, buf);
            return;
        }
    }
}

static int close_reuse(void)
{
    int a = connect_server();
    send_get(a, "/first");
    read_response(a, "/first");
    close(a);
    int b = connect_server();
    /* A background thread of the shim (the exporter loading its libraries,
     * the metrics thread starting) may hold the freed number for a moment:
     * try again until the kernel hands it out, which is what this is about. */
    for (int tries = 0; b != a && tries < 100; tries++) {
        close(b);
        usleep(10000);
        b = connect_server();
    }
    printf("first fd=%d second fd=%d\n", a, b);
    send_get(b, "/second");
    read_response(b, "/second");
    close(b);
    return a == b ? 0 : 1;
}

static int dup2_over(void)
{
    static const char head[] = "GET /into-the-pipe HTTP/1.1\r\nHost: pipe\r\n\r\n";
    char got[sizeof head];
    int p[2];
    int a = connect_server();
    send_get(a, "/before");
    read_response(a, "/before");
    send_get(a, "/unanswered");
    if (pipe(p) != 0 || dup2(p[1], a) != a) {
        perror("fd_games: pipe/dup2");
        return 1;
    }
    close(p[1]);
    write_all(a, head, sizeof head - 1);
    close(a);
    ssize_t r = read(p[0], got, sizeof got);
    int intact = r == (ssize_t)(sizeof head - 1) && memcmp(got, head, sizeof head - 1) == 0;
    printf("pipe %s (%zd bytes)\n", intact ? "intact" : "CHANGED", r);
    int b = connect_server();
    send_get(b, "/after");
    read_response(b, "/after");
    close(b);
    return intact ? 0 : 1;
}

static int high_fd(void)
{
    struct rlimit rl = {HIGH_FD_FLOOR + 100, HIGH_FD_FLOOR + 100};
    struct rlimit cur;
    getrlimit(RLIMIT_NOFILE, &cur);
    if (cur.rlim_max != RLIM_INFINITY && cur.rlim_max > rl.rlim_max)
        rl.rlim_max = cur.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        perror("fd_games: cannot raise RLIMIT_NOFILE");
        return 77;
    }
    int devnull = open("/dev/null", O_RDONLY);
    /* the lowest free numbers are used first: occupy them all */
    for (int fd = devnull; fd >= 0 && fd < HIGH_FD_FLOOR;)
        fd = dup(devnull);
    int s = connect_server();
    printf("socket fd=%d\n", s);
    send_get(s, "/high");
    read_response(s, "/high");
    close(s);
    return s > 65535 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fd_games HOST PORT close-reuse|dup2-over|high-fd\n");
        return 2;
    }
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(argv[3], "close-reuse") == 0)
        return close_reuse();
    if (strcmp(argv[3], "dup2-over") == 0)
        return dup2_over();
    if (strcmp(argv[3], "high-fd") == 0)
        return high_fd();
    return 2;
}
