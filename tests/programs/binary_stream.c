/* A TCP stream that is not HTTP, but later carries bytes that look exactly
 * like an HTTP request. The shim must decide from the first bytes that the
 * connection is not HTTP and then never touch it: every byte arrives
 * unchanged, nothing is injected, no span is made.
 *
 *   binary_stream server READY_FILE RECV_FILE
 *       listens on 127.0.0.1 (a free port, written to READY_FILE), accepts one
 *       connection, appends everything it receives to RECV_FILE and echoes it
 *       back, until the peer shuts down its side.
 *   binary_stream client PORT SENT_FILE ECHO_FILE [binary|almost-http]
 *       connects, sends a payload in several parts with pauses between them
 *       (so they arrive as separate reads), writes the payload to SENT_FILE
 *       and the echo it reads back to ECHO_FILE.
 *
 * Payload: "binary" starts like a TLS ClientHello (0x16 0x03 0x01);
 * "almost-http" starts with "GET " followed by bytes no request line may
 * contain. Both continue with pseudo-random bytes, then a well-formed
 * "GET / HTTP/1.1" request, more random bytes, and a well-formed response.
 * The calls used rotate through write/send/sendto/sendmsg/writev and
 * read/recv/recvfrom/recvmsg/readv so each hook sees the stream. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define PART_BYTES 65536

static ssize_t send_some(int fd, const unsigned char *p, size_t len, unsigned call)
{
    struct iovec iov[2];
    struct msghdr msg;
    switch (call % 5) {
    case 0:
        return write(fd, p, len);
    case 1:
        return send(fd, p, len, 0);
    case 2:
        return sendto(fd, p, len, 0, NULL, 0);
    case 3:
        iov[0].iov_base = (void *)p;
        iov[0].iov_len = len;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = 1;
        return sendmsg(fd, &msg, 0);
    default:
        /* split in two iovecs to exercise the gather path */
        iov[0].iov_base = (void *)p;
        iov[0].iov_len = len / 2;
        iov[1].iov_base = (void *)(p + len / 2);
        iov[1].iov_len = len - len / 2;
        return writev(fd, iov, 2);
    }
}

static ssize_t recv_some(int fd, unsigned char *p, size_t len, unsigned call)
{
    struct iovec iov[2];
    struct msghdr msg;
    switch (call % 5) {
    case 0:
        return read(fd, p, len);
    case 1:
        return recv(fd, p, len, 0);
    case 2:
        return recvfrom(fd, p, len, 0, NULL, NULL);
    case 3:
        iov[0].iov_base = p;
        iov[0].iov_len = len;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = 1;
        return recvmsg(fd, &msg, 0);
    default:
        iov[0].iov_base = p;
        iov[0].iov_len = len / 2;
        iov[1].iov_base = p + len / 2;
        iov[1].iov_len = len - len / 2;
        return readv(fd, iov, 2);
    }
}

static int send_all(int fd, const unsigned char *p, size_t len, unsigned *call)
{
    while (len > 0) {
        /* vary the chunk size so writes do not line up with the parts */
        size_t chunk = len < 1000 + (*call % 7) * 3001 ? len : 1000 + (*call % 7) * 3001;
        ssize_t r = send_some(fd, p, chunk, (*call)++);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            perror("send");
            return -1;
        }
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

static int write_file(const char *path, const unsigned char *p, size_t len, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (f == NULL) {
        perror(path);
        return -1;
    }
    if (len > 0 && fwrite(p, 1, len, f) != len) {
        fclose(f);
        return -1;
    }
    return fclose(f);
}

static int run_server(const char *ready_file, const char *recv_file)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t salen = sizeof sa;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 4) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &salen) != 0) {
        perror("listen");
        return 1;
    }
    if (write_file(recv_file, NULL, 0, "wb") != 0)
        return 1;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", ready_file);
    char port[16];
    int n = snprintf(port, sizeof port, "%d\n", ntohs(sa.sin_port));
    if (write_file(tmp, (const unsigned char *)port, (size_t)n, "w") != 0 || rename(tmp, ready_file) != 0)
        return 1;

    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        perror("accept");
        return 1;
    }
    static unsigned char buf[PART_BYTES];
    unsigned rcall = 0, scall = 0;
    for (;;) {
        ssize_t r = recv_some(fd, buf, sizeof buf - (rcall % 3) * 1000, rcall);
        rcall++;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            perror("recv");
            return 1;
        }
        if (r == 0)
            break;
        if (write_file(recv_file, buf, (size_t)r, "ab") != 0 || send_all(fd, buf, (size_t)r, &scall) != 0)
            return 1;
    }
    close(fd);
    close(lfd);
    return 0;
}

struct echo_reader {
    int fd;
    const char *echo_file;
    int status;
};

static void *read_echo(void *arg)
{
    struct echo_reader *er = arg;
    static unsigned char buf[PART_BYTES];
    unsigned call = 0;
    er->status = write_file(er->echo_file, NULL, 0, "wb") == 0 ? 0 : 1;
    while (er->status == 0) {
        ssize_t r = recv_some(er->fd, buf, sizeof buf - (call % 3) * 1000, call);
        call++;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            perror("recv");
            er->status = 1;
        } else if (r == 0) {
            break;
        } else if (write_file(er->echo_file, buf, (size_t)r, "ab") != 0) {
            er->status = 1;
        }
    }
    return NULL;
}

static void fill_random(unsigned char *p, size_t len, uint32_t *state)
{
    for (size_t i = 0; i < len; i++) {
        *state = *state * 1103515245u + 12345u;
        p[i] = (unsigned char)(*state >> 16);
    }
}

static int run_client(int port, const char *sent_file, const char *echo_file, const char *mode)
{
    static const char tls_start[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    static const char almost_http_start[] = "GET \x01\x02\x00\xff /index.html HTTP/1.1\r\n";
    static const char request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

    unsigned char *parts[5];
    size_t lens[5];
    uint32_t seed = 12345;
    const char *start = strcmp(mode, "almost-http") == 0 ? almost_http_start : tls_start;
    size_t start_len = strcmp(mode, "almost-http") == 0 ? sizeof almost_http_start - 1 : sizeof tls_start - 1;
    for (int i = 0; i < 5; i++) {
        parts[i] = malloc(PART_BYTES + 256);
        if (parts[i] == NULL)
            return 1;
    }
    memcpy(parts[0], start, start_len);
    fill_random(parts[0] + start_len, PART_BYTES, &seed);
    lens[0] = start_len + PART_BYTES;
    memcpy(parts[1], request, sizeof request - 1);
    lens[1] = sizeof request - 1;
    fill_random(parts[2], PART_BYTES, &seed);
    lens[2] = PART_BYTES;
    memcpy(parts[3], request, sizeof request - 1);
    memcpy(parts[3] + sizeof request - 1, response, sizeof response - 1);
    lens[3] = sizeof request - 1 + sizeof response - 1;
    fill_random(parts[4], 1000, &seed);
    lens[4] = 1000;

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("connect");
        return 1;
    }

    struct echo_reader er = {.fd = fd, .echo_file = echo_file, .status = 0};
    pthread_t reader;
    if (pthread_create(&reader, NULL, read_echo, &er) != 0)
        return 1;
    if (write_file(sent_file, NULL, 0, "wb") != 0)
        return 1;
    unsigned call = 0;
    for (int i = 0; i < 5; i++) {
        if (send_all(fd, parts[i], lens[i], &call) != 0 || write_file(sent_file, parts[i], lens[i], "ab") != 0)
            return 1;
        usleep(30000);
    }
    shutdown(fd, SHUT_WR);
    pthread_join(reader, NULL);
    close(fd);
    for (int i = 0; i < 5; i++)
        free(parts[i]);
    return er.status;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "server") == 0)
        return run_server(argv[2], argv[3]);
    if (argc >= 5 && strcmp(argv[1], "client") == 0)
        return run_client(atoi(argv[2]), argv[3], argv[4], argc > 5 ? argv[5] : "binary");
    fprintf(stderr,
            "usage: %s server READY_FILE RECV_FILE\n"
            "       %s client PORT SENT_FILE ECHO_FILE [binary|almost-http]\n",
            argv[0], argv[0]);
    return 1;
}
