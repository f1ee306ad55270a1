/* The exporter on its own, against a null receiver in the same process (a
 * thread that reads each OTLP/HTTP request, discards it and answers 200).
 *
 *   export_bench throughput SECONDS
 *       One thread encodes batches of 512 server spans (13 attributes each,
 *       like the shim's) and POSTs them with the OTLP exporter (protobuf-c +
 *       libcurl), as the exporter thread does. Prints spans per second of
 *       that thread's CPU time (one core), of wall time, and of encoding
 *       alone.
 *   export_bench sink PORT_FILE
 *       Only the null receiver: writes its port to PORT_FILE and serves until
 *       killed (an OTLP endpoint that costs its clients nothing to decode).
 *   export_bench decode PORT_FILE COUNT_FILE
 *       The decoding receiver: the same, but every /v1/traces body is decoded
 *       in full (tests/bench/otlp_decode.c) before the answer, as a
 *       collector's receiver does; COUNT_FILE is rewritten every 100 ms with
 *       "spans N malformed M".
 *   export_bench capacity RATE SECONDS
 *       The whole batch span processor with its defaults (queue 2048, batch
 *       512, OTEL_BSP_* from the environment): a producer thread submits RATE
 *       spans per second, paced every millisecond, for SECONDS; prints the
 *       processor's counters and the CPU time of every thread but the
 *       producer (the processor's and exporter's: batching, encoding,
 *       compressing, sending), in all and per span exported. No drops at a
 *       rate = the exporter keeps up.
 *   export_bench feed RATE SECONDS PORT_FILE
 *       The same producer and processor, exporting to the receiver whose port
 *       is in PORT_FILE instead of one of its own: the export path of a
 *       traced program (spans made, queued, built, encoded, sent, and
 *       decoded by that receiver) without the program. Run beside an
 *       untraced nginx, it measures what exporting its spans costs on these
 *       cores whatever the shim's hooks cost (BENCHMARKS.md, rows 1f, 2f).
 *
 * Built against the engine's static library and the OTLP objects
 * (make build/bench/export_bench). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "export/batch_processor.h"
#include "base/log.h"
#include "export/otlp/otlp_exporter.h"
#include "export/span_exporters.h"
#include "config/resource.h"
#include "trace/span.h"
#include "otlp_decode.h"

extern const char *oa_export_otlp_library_override;
/* the OTLP object's entry points (otlp_exporter.c), linked in directly */
struct oa_otlp_exporter *oa_otlp_exporter_create(const struct oa_otlp_env *env);
enum oa_otlp_result oa_otlp_exporter_send(struct oa_otlp_exporter *e, struct oa_span *const *spans, size_t n,
                                          long *retry_after_ms);

#define BATCH 512

/* ---- the null receiver ---- */

static int sink_fd;
static unsigned long long sink_requests;
static bool sink_decodes;
static unsigned long long sink_spans;
static unsigned long long sink_malformed;

/* Decoding needs the whole body; an exporter batch is a few hundred KiB. */
#define DECODE_BODY_MAX (64u << 20)

static bool read_body(int fd, char *buf, size_t buffered, uint8_t *body, size_t len)
{
    memcpy(body, buf, buffered);
    for (size_t got = buffered; got < len;) {
        ssize_t r = read(fd, body + got, len - got);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* A chunked body (node's OTLP exporter sends one: the peer row of
 * scripts/bench-cpu.bash): the bytes after the head come first from what is
 * buffered, then from the socket. */
struct byte_source {
    int fd;
    char *buf;
    size_t cap, have, pos;
};

static bool source_fill(struct byte_source *s)
{
    if (s->pos < s->have)
        return true;
    ssize_t r = read(s->fd, s->buf, s->cap);
    if (r <= 0)
        return false;
    s->have = (size_t)r;
    s->pos = 0;
    return true;
}

/* One line without its CRLF into line (cut at cap - 1). */
static bool source_line(struct byte_source *s, char *line, size_t cap)
{
    size_t n = 0;
    for (;;) {
        if (!source_fill(s))
            return false;
        char c = s->buf[s->pos++];
        if (c == '\n')
            break;
        if (c != '\r' && n + 1 < cap)
            line[n++] = c;
    }
    line[n] = '\0';
    return true;
}

static bool source_take(struct byte_source *s, uint8_t *dst, size_t n)
{
    while (n > 0) {
        if (!source_fill(s))
            return false;
        size_t k = s->have - s->pos < n ? s->have - s->pos : n;
        memcpy(dst, s->buf + s->pos, k);
        s->pos += k;
        dst += k;
        n -= k;
    }
    return true;
}

/* The whole chunked body into body (at most cap bytes); its length in *len. */
static bool read_chunked(struct byte_source *s, uint8_t *body, size_t cap, size_t *len)
{
    char line[128];
    *len = 0;
    for (;;) {
        if (!source_line(s, line, sizeof line))
            return false;
        unsigned long long size = strtoull(line, NULL, 16);
        if (size == 0)
            break;
        if (size > cap - *len || !source_take(s, body + *len, (size_t)size) || !source_line(s, line, sizeof line))
            return false;
        *len += (size_t)size;
    }
    do { /* the trailer, up to its empty line */
        if (!source_line(s, line, sizeof line))
            return false;
    } while (line[0] != '\0');
    return true;
}

static void decode_body(const uint8_t *body, size_t len)
{
    long spans = otlp_decode_traces(body, len);
    if (spans < 0)
        __atomic_add_fetch(&sink_malformed, 1, __ATOMIC_RELAXED);
    else
        __atomic_add_fetch(&sink_spans, (unsigned long long)spans, __ATOMIC_RELAXED);
}

static void serve(int fd)
{
    static __thread char buf[1 << 16];
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                                "Content-Length: 0\r\n\r\n";
    size_t have = 0;
    for (;;) {
        char *end = have >= 4 ? memmem(buf, have, "\r\n\r\n", 4) : NULL;
        if (end == NULL) {
            if (have == sizeof buf)
                return;
            ssize_t r = read(fd, buf + have, sizeof buf - have);
            if (r <= 0)
                return;
            have += (size_t)r;
            continue;
        }
        size_t head = (size_t)(end - buf) + 4;
        unsigned long long body = 0;
        bool chunked = false;
        for (char *line = buf; line < end; line = memchr(line, '\n', (size_t)(end - line)) + 1) {
            if (strncasecmp(line, "content-length:", 15) == 0)
                body = strtoull(line + 15, NULL, 10);
            if (strncasecmp(line, "transfer-encoding:", 18) == 0 && memmem(line, (size_t)(end - line), "chunked", 7))
                chunked = true;
            if (memchr(line, '\n', (size_t)(end - line)) == NULL)
                break;
        }
        size_t buffered = have - head;
        bool traces = sink_decodes && strncmp(buf, "POST /v1/traces ", 16) == 0;
        if (chunked) {
            static __thread uint8_t *whole_chunked;
            if (whole_chunked == NULL && (whole_chunked = malloc(DECODE_BODY_MAX)) == NULL)
                return;
            struct byte_source src = {.fd = fd, .buf = buf, .cap = sizeof buf, .have = have, .pos = head};
            size_t len;
            if (!read_chunked(&src, whole_chunked, DECODE_BODY_MAX, &len))
                return;
            if (traces) /* (buf now holds what came after the head) */
                decode_body(whole_chunked, len);
            memmove(buf, buf + src.pos, src.have - src.pos);
            have = src.have - src.pos;
        } else if (traces && body <= DECODE_BODY_MAX) {
            static __thread uint8_t *whole;
            if (whole == NULL && (whole = malloc(DECODE_BODY_MAX)) == NULL)
                return;
            size_t now = buffered < body ? buffered : (size_t)body;
            if (!read_body(fd, buf + head, now, whole, (size_t)body))
                return;
            decode_body(whole, (size_t)body);
            memmove(buf, buf + head + now, buffered - now);
            have = buffered - now;
        } else if (buffered >= body) {
            /* discard the body: what is buffered, then straight from the socket */
            memmove(buf, buf + head + body, buffered - body);
            have = buffered - body;
        } else {
            body -= buffered;
            have = 0;
            while (body > 0) {
                ssize_t r = read(fd, buf, body < sizeof buf ? body : sizeof buf);
                if (r <= 0)
                    return;
                body -= (unsigned long long)r;
            }
        }
        if (write(fd, reply, sizeof reply - 1) != (ssize_t)(sizeof reply - 1))
            return;
        __atomic_add_fetch(&sink_requests, 1, __ATOMIC_RELAXED);
    }
}

static void *serve_connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    serve(fd);
    close(fd);
    return NULL;
}

/* A thread per connection: the shim's exporter keeps one open, but a
 * restarted or forked exporter opens another while the old one lingers. */
static void *sink_main(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(sink_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_t t;
        if (pthread_create(&t, NULL, serve_connection, (void *)(intptr_t)fd) == 0)
            pthread_detach(t);
        else
            close(fd);
    }
    return NULL;
}

static int start_sink(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    sink_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (sink_fd < 0 || bind(sink_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(sink_fd, 8) != 0 ||
        getsockname(sink_fd, (struct sockaddr *)&a, &len) != 0) {
        perror("sink");
        exit(1);
    }
    pthread_t t;
    pthread_create(&t, NULL, sink_main, NULL);
    return ntohs(a.sin_port);
}

/* ---- spans like the shim's SERVER spans ---- */

static struct oa_span *server_span(unsigned i)
{
    struct oa_span *s = oa_span_new();
    if (s == NULL)
        return NULL;
    uint64_t id = 0x9e3779b97f4a7c15ull * (i + 1);
    memcpy(s->trace_id, &id, 8);
    memcpy(s->trace_id + 8, &i, sizeof i);
    memcpy(s->span_id, &id, 8);
    s->trace_flags = 3;
    s->kind = OA_SPAN_KIND_SERVER;
    s->start_unix_nano = oa_now_unix_nano();
    s->end_unix_nano = s->start_unix_nano + 50000;
    oa_span_set_name(s, "GET", 3);
    oa_span_attr_str(s, "http.request.method", "GET", 3);
    oa_span_attr_str(s, "url.path", "/index.html", 11);
    oa_span_attr_str(s, "url.scheme", "http", 4);
    oa_span_attr_str(s, "server.address", "127.0.0.1", 9);
    oa_span_attr_int(s, "server.port", 8080);
    oa_span_attr_str(s, "network.peer.address", "127.0.0.1", 9);
    oa_span_attr_int(s, "network.peer.port", 40000 + (i % 20000));
    oa_span_attr_str(s, "client.address", "127.0.0.1", 9);
    oa_span_attr_str(s, "network.protocol.version", "1.1", 3);
    oa_span_attr_str(s, "user_agent.original", "wrk", 3);
    oa_span_attr_int(s, "http.response.status_code", 200);
    return s;
}

static double seconds(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void log_nothing(int level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

static int throughput(double duration)
{
    struct oa_span *batch[BATCH];
    for (unsigned i = 0; i < BATCH; i++)
        batch[i] = server_span(i);

    /* encoding alone */
    size_t wire_len = 0;
    unsigned long long encoded = 0;
    double t0 = seconds(CLOCK_THREAD_CPUTIME_ID);
    while (seconds(CLOCK_THREAD_CPUTIME_ID) - t0 < duration / 4) {
        free(oa_otlp_encode_traces(&oa_resource, batch, BATCH, &wire_len));
        encoded += BATCH;
    }
    double encode_rate = (double)encoded / (seconds(CLOCK_THREAD_CPUTIME_ID) - t0);

    struct oa_otlp_env env = {.abi_version = OA_OTLP_ABI_VERSION,
                              .config = &oa_config,
                              .resource = &oa_resource,
                              .log = log_nothing,
                              .otlp = &oa_config.traces_otlp};
    struct oa_otlp_exporter *e = oa_otlp_exporter_create(&env);
    if (e == NULL) {
        fprintf(stderr, "export_bench: no exporter\n");
        return 1;
    }
    unsigned long long sent = 0;
    long retry;
    double c0 = seconds(CLOCK_THREAD_CPUTIME_ID);
    double w0 = seconds(CLOCK_MONOTONIC);
    while (seconds(CLOCK_MONOTONIC) - w0 < duration) {
        if (oa_otlp_exporter_send(e, batch, BATCH, &retry) != OA_OTLP_OK) {
            fprintf(stderr, "export_bench: an export failed\n");
            return 1;
        }
        sent += BATCH;
    }
    double cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - c0;
    double wall = seconds(CLOCK_MONOTONIC) - w0;
    printf("spans %llu batch %d bytes_per_span %.1f cpu_s %.3f wall_s %.3f "
           "spans_per_cpu_s %.0f spans_per_wall_s %.0f encode_spans_per_cpu_s %.0f\n",
           sent, BATCH, (double)wire_len / BATCH, cpu, wall, (double)sent / cpu, (double)sent / wall,
           encode_rate);
    return 0;
}

static int capacity(double rate, double duration)
{
    char self[PATH_MAX];
    static char otlp_path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(otlp_path, sizeof otlp_path, "%s/../libotelauto-otlp.so", self);
    oa_export_otlp_library_override = otlp_path;
    oa_export_init(oa_span_exporter_for("otlp"));

    double start = seconds(CLOCK_MONOTONIC);
    /* the process's CPU less the producer's (this thread): what the
     * processor's and exporter's threads spend, per span exported */
    double p0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    double t0 = seconds(CLOCK_THREAD_CPUTIME_ID);
    unsigned long long made = 0;
    for (;;) {
        double elapsed = seconds(CLOCK_MONOTONIC) - start;
        if (elapsed >= duration)
            break;
        unsigned long long due = (unsigned long long)(elapsed * rate);
        while (made < due) {
            struct oa_span *s = server_span((unsigned)made);
            if (s != NULL)
                oa_export_submit(s);
            made++;
        }
        struct timespec tick = {0, 1000000};
        nanosleep(&tick, NULL);
    }
    double wall = seconds(CLOCK_MONOTONIC) - start;
    oa_export_shutdown();
    double shim_cpu = (seconds(CLOCK_PROCESS_CPUTIME_ID) - p0) - (seconds(CLOCK_THREAD_CPUTIME_ID) - t0);
    struct oa_export_counters c;
    oa_export_get_counters(&c);
    printf("rate %.0f achieved %.0f submitted %llu exported %llu dropped %llu failed %llu "
           "export_threads_cpu_s %.3f export_us_per_span %.3f\n",
           rate, (double)made / wall, (unsigned long long)c.submitted, (unsigned long long)c.exported,
           (unsigned long long)c.dropped_queue_full, (unsigned long long)c.failed, shim_cpu,
           c.exported ? shim_cpu * 1e6 / (double)c.exported : 0.0);
    return 0;
}

static const char *read_env(const char *name)
{
    return getenv(name);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: export_bench throughput SECONDS | capacity RATE SECONDS\n");
        return 2;
    }
    sink_decodes = strcmp(argv[1], "decode") == 0 && argc > 3;
    bool feeds = strcmp(argv[1], "feed") == 0 && argc > 4;
    int port = 0;
    if (feeds) {
        FILE *f = fopen(argv[4], "r");
        if (f == NULL || fscanf(f, "%d", &port) != 1) {
            fprintf(stderr, "export_bench: no port in %s\n", argv[4]);
            return 2;
        }
        fclose(f);
    } else {
        port = start_sink();
    }
    if (sink_decodes) {
        FILE *f = fopen(argv[2], "w");
        if (f == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0)
            return 1;
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s.tmp", argv[3]);
        for (;;) {
            f = fopen(tmp, "w");
            if (f != NULL) {
                fprintf(f, "spans %llu malformed %llu\n", __atomic_load_n(&sink_spans, __ATOMIC_RELAXED),
                        __atomic_load_n(&sink_malformed, __ATOMIC_RELAXED));
                if (fclose(f) == 0)
                    rename(tmp, argv[3]);
            }
            usleep(100000);
        }
    }
    if (strcmp(argv[1], "sink") == 0) {
        FILE *f = fopen(argv[2], "w");
        if (f == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0)
            return 1;
        for (;;)
            pause();
    }
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint, 1);
    setenv("OTEL_TRACES_EXPORTER", "otlp", 1);
    oa_config_load(&oa_config, read_env);
    oa_resource_build(&oa_resource, &oa_config);
    oa_log_threshold = OA_LOG_NONE;

    if (strcmp(argv[1], "throughput") == 0)
        return throughput(atof(argv[2]));
    if ((strcmp(argv[1], "capacity") == 0 && argc > 3) || feeds)
        return capacity(atof(argv[2]), atof(argv[3]));
    fprintf(stderr, "export_bench: unknown mode %s\n", argv[1]);
    return 2;
}
