/* A fixed-rate (open-loop) HTTP/1.1 keep-alive load generator: wrk2 is not
 * packaged in Debian, and wrk itself is closed-loop (its latency figures
 * hide queueing).
 *
 *   load_gen PORT PATH RATE SECONDS [CONNECTIONS]
 *
 * Request i is due at start + i/RATE. It is sent on the first idle
 * connection (to 127.0.0.1:PORT) at or after that moment, and its latency is
 * measured from when it was due, not from when it could be sent, so a server
 * that falls behind shows it (no coordinated omission). The first 10% of the
 * run warms up and is not counted. Prints one line:
 *   offered R achieved A p50_us X p90_us X p99_us X max_us X errors N */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256

struct conn {
    int fd;
    bool busy;
    uint64_t due;          /* when its request was due */
    char buf[8192];
    size_t have;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int open_conn(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("load_gen: connect");
        exit(1);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* A complete response in c->buf? Returns its length, 0 if not yet, -1 if bad. */
static long response_length(const struct conn *c)
{
    const char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
    if (end == NULL)
        return c->have == sizeof c->buf ? -1 : 0;
    size_t head = (size_t)(end - c->buf) + 4;
    long body = -1;
    for (const char *line = c->buf; line < end;) {
        if (strncasecmp(line, "content-length:", 15) == 0)
            body = strtol(line + 15, NULL, 10);
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    if (body < 0 || head + (size_t)body > sizeof c->buf)
        return -1;
    return c->have >= head + (size_t)body ? (long)(head + (size_t)body) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: load_gen PORT PATH RATE SECONDS [CONNECTIONS]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    const char *path = argv[2];
    double rate = atof(argv[3]);
    double seconds = atof(argv[4]);
    int nconns = argc > 5 ? atoi(argv[5]) : 32;
    if (nconns < 1 || nconns > MAX_CONNS || rate <= 0 || seconds <= 0)
        return 2;
    char req[512];
    int req_len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: load_gen\r\n\r\n",
                           path, port);

    /* Requests are sent when a wait's timeout ends: with the default timer
     * slack (50 us) that end comes up to 50 us late, and every latency,
     * counted from when its request was due, would carry that noise. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

    static struct conn conns[MAX_CONNS];
    int ep = epoll_create1(0);
    for (int i = 0; i < nconns; i++) {
        conns[i].fd = open_conn(port);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    }

    uint64_t total = (uint64_t)(rate * seconds);
    uint64_t warm = total / 10;
    uint64_t *lat = calloc(total, sizeof *lat);
    uint64_t interval = (uint64_t)(1e9 / rate);
    uint64_t start = now_ns();
    uint64_t next = 0;       /* next request to send */
    uint64_t done = 0;
    uint64_t counted = 0;
    uint64_t errors = 0;
    uint64_t last_done_at = start;
    int idle_hint = 0;

    while (done < total) {
        uint64_t now = now_ns();
        /* send every request that is due, while connections are idle */
        while (next < total && start + next * interval <= now) {
            int k = -1;
            for (int j = 0; j < nconns; j++) {
                int cand = (idle_hint + j) % nconns;
                if (!conns[cand].busy) {
                    k = cand;
                    break;
                }
            }
            if (k < 0)
                break; /* all busy: the request waits, its clock running */
            idle_hint = k + 1;
            struct conn *c = &conns[k];
            if (write(c->fd, req, (size_t)req_len) != req_len) {
                errors++;
                done++;
                next++;
                continue;
            }
            c->busy = true;
            c->due = start + next * interval;
            c->have = 0;
            next++;
        }
        /* wait for answers, or until the next request is due */
        struct timespec timeout = {0, 0};
        if (next < total) {
            uint64_t due = start + next * interval;
            uint64_t wait = due > now ? due - now : 0;
            timeout.tv_sec = (time_t)(wait / 1000000000ull);
            timeout.tv_nsec = (long)(wait % 1000000000ull);
        } else {
            timeout.tv_sec = 1;
        }
        struct epoll_event evs[64];
        int n = epoll_pwait2(ep, evs, 64, &timeout, NULL);
        if (n < 0 && errno != EINTR) {
            perror("load_gen: epoll");
            return 1;
        }
        for (int e = 0; e < n; e++) {
            struct conn *c = &conns[evs[e].data.u32];
            ssize_t r = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
            if (r <= 0) {
                fprintf(stderr, "load_gen: connection lost\n");
                return 1;
            }
            c->have += (size_t)r;
            long len = response_length(c);
            if (len < 0) {
                fprintf(stderr, "load_gen: bad response\n");
                return 1;
            }
            if (len == 0 || !c->busy)
                continue;
            uint64_t t = now_ns();
            if (done >= warm)
                lat[counted++] = t - c->due;
            done++;
            last_done_at = t;
            c->busy = false;
        }
        if (next >= total && n == 0 && now_ns() - last_done_at > 5000000000ull) {
            fprintf(stderr, "load_gen: responses stopped\n");
            return 1;
        }
    }
    double elapsed = (double)(last_done_at - start) / 1e9;
    qsort(lat, counted, sizeof *lat, cmp_u64);
#define PCT(p) (counted ? (double)lat[(size_t)((double)(counted - 1) * (p))] / 1000.0 : 0.0)
    printf("offered %.0f achieved %.0f p50_us %.1f p90_us %.1f p99_us %.1f max_us %.1f errors %llu\n", rate,
           (double)total / elapsed, PCT(0.50), PCT(0.90), PCT(0.99), PCT(1.0), (unsigned long long)errors);
    return 0;
}
