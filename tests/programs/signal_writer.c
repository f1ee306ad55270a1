/* A client whose signal handler writes on a traced socket while the
 * interrupted thread is, most of the time, inside one of the shim's hooks.
 *
 *   signal_writer HOST PORT REQUESTS
 *
 * The main thread sends REQUESTS requests on connection A, each head written
 * one byte per write() (so it spends its time in the write hook, parsing and
 * growing the head buffer), and reads each response. Every 50 us a SIGALRM
 * handler sends one complete request ("GET /signal-K") with a single write()
 * on connection B, once the previous one is answered, and drains B's
 * responses with recv(MSG_DONTWAIT): both
 * calls are async-signal-safe, so the program is entitled to make them
 * there. At the end the timer stops and the remaining responses on B are
 * read. Prints "main=N signal=K write_anomalies=W" (W counts main-thread
 * write() calls that did not return 1) and exits 0; 1 on errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define SIGNAL_REQUESTS_MAX 2000

static int conn_b;
static volatile sig_atomic_t signal_sent;
static volatile sig_atomic_t signal_answered;
static size_t answer_matched;

/* Counts the recording server's answers on B by their body, "received 0\n"
 * (its first byte occurs nowhere else in it, so a restart at a mismatch is
 * exact), across the pieces recv() returns. */
static void count_answers(const char *p, size_t n)
{
    static const char body[] = "received 0\n";
    for (size_t i = 0; i < n; i++) {
        if (p[i] == body[answer_matched])
            answer_matched++;
        else
            answer_matched = p[i] == body[0];
        if (answer_matched == sizeof body - 1) {
            answer_matched = 0;
            signal_answered++;
        }
    }
}
static volatile sig_atomic_t handler_failed;

static int connect_to(const char *host, int port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("connect");
        return -1;
    }
    return fd;
}

/* Async-signal-safe: formats the request by hand, one write(), one drain. */
static void on_alarm(int sig)
{
    int saved = errno;
    char req[96];
    char digits[12];
    int n = 0, k = signal_sent, d = 0;
    (void)sig;

    /* one request in flight at a time, like a heartbeat */
    if (k < SIGNAL_REQUESTS_MAX && signal_answered == k) {
        static const char a[] = "GET /signal-";
        static const char b[] = " HTTP/1.1\r\nHost: signal\r\nUser-Agent: signal-writer\r\n\r\n";
        memcpy(req, a, sizeof a - 1);
        n = sizeof a - 1;
        do {
            digits[d++] = (char)('0' + k % 10);
            k /= 10;
        } while (k > 0);
        while (d > 0)
            req[n++] = digits[--d];
        memcpy(req + n, b, sizeof b - 1);
        n += sizeof b - 1;
        if (write(conn_b, req, (size_t)n) != n)
            handler_failed = 1;
        else
            signal_sent++;
    }
    char sink[4096];
    ssize_t r;
    while ((r = recv(conn_b, sink, sizeof sink, MSG_DONTWAIT)) > 0)
        count_answers(sink, (size_t)r);
    errno = saved;
}

/* Reads one response (head and Content-Length body) into buf. */
static int read_response(int fd, char *buf, size_t cap, size_t *got)
{
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, cap - have - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            char *cl = strstr(buf, "Content-Length: ");
            size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0;
            if (have >= (size_t)(end + 4 - buf) + body) {
                *got = have;
                return 0;
            }
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: signal_writer HOST PORT REQUESTS\n");
        return 2;
    }
    int port = atoi(argv[2]), requests = atoi(argv[3]);
    int conn_a = connect_to(argv[1], port);
    conn_b = connect_to(argv[1], port);
    if (conn_a < 0 || conn_b < 0)
        return 1;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every = {{0, 50}, {0, 50}};
    setitimer(ITIMER_REAL, &every, NULL);

    /* a head long enough for the parser to grow its buffer several times */
    char filler[1500];
    memset(filler, 'f', sizeof filler - 1);
    filler[sizeof filler - 1] = '\0';
    static char head[4096], resp[1 << 16];
    long anomalies = 0;
    for (int i = 0; i < requests; i++) {
        int len = snprintf(head, sizeof head,
                           "GET /main-%d HTTP/1.1\r\nHost: main\r\nX-Filler: %s\r\n\r\n", i, filler);
        for (int j = 0; j < len;) {
            ssize_t r = write(conn_a, head + j, 1);
            if (r < 0 && errno == EINTR)
                continue;
            if (r != 1) {
                anomalies++;
                if (r < 0)
                    return 1;
                continue;
            }
            j++;
        }
        size_t got;
        if (read_response(conn_a, resp, sizeof resp, &got) != 0) {
            fprintf(stderr, "signal_writer: connection A broke at request %d\n", i);
            return 1;
        }
    }

    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_IGN);
    if (handler_failed) {
        fprintf(stderr, "signal_writer: a write in the handler was short or failed\n");
        return 1;
    }
    /* The rest of B's responses: each is "received 0\n" with the same head. */
    shutdown(conn_b, SHUT_WR);
    char sink[4096];
    ssize_t r;
    while ((r = read(conn_b, sink, sizeof sink)) > 0 || (r < 0 && errno == EINTR))
        ;
    close(conn_b);
    close(conn_a);
    printf("main=%d signal=%d write_anomalies=%ld\n", requests, (int)signal_sent, anomalies);
    return 0;
}
