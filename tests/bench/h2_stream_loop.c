/* One thread plays both ends of an HTTP/2 connection (h2c, prior knowledge)
 * over loopback for N streams: the client sends a stream's HEADERS, the
 * server reads them and answers with HEADERS (:status 200, END_STREAM), the
 * client reads the answer. Under the shim each stream is one CLIENT and one
 * SERVER span (the client's HEADERS get a traceparent); run under callgrind
 * with N1 and N2 streams (as scripts/measure-request-cost.sh does for
 * HTTP/1's request_loop), the difference per stream is what tracing costs
 * the program. */
#include <stdint.h>
#include <string.h>

#include "loopback_pair.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                              "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
static const char settings_and_ack[] = "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
                                       "\x00\x00\x00\x04\x01\x00\x00\x00\x00";
/* :method GET, :scheme http, :path /, :authority 127.0.0.1 (literal), user-agent */
static const char block[] = "\x82\x86\x84\x01\x09" "127.0.0.1" "\x0f\x2b\x0e" "h2_stream_loop";

/* Reads one frame (header and payload) from fd. */
static void read_frame(int fd, unsigned char *buf)
{
    read_exactly(fd, buf, 9);
    size_t len = (size_t)buf[0] << 16 | (size_t)buf[1] << 8 | buf[2];
    read_exactly(fd, buf + 9, len);
}

static void write_all(int fd, const void *p, size_t n)
{
    if (write(fd, p, n) != (ssize_t)n) {
        perror("write");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    int cfd, sfd;
    loopback_pair(&cfd, &sfd);
    unsigned char buf[1 << 16];
    write_all(cfd, preface, sizeof(preface) - 1);
    read_exactly(sfd, buf, 24);
    read_frame(sfd, buf);
    write_all(sfd, settings_and_ack, sizeof(settings_and_ack) - 1);
    read_frame(cfd, buf);
    read_frame(cfd, buf);
    write_all(cfd, settings_and_ack + 9, 9);
    read_frame(sfd, buf);
    size_t blen = sizeof(block) - 1;
    for (int i = 0; i < n; i++) {
        uint32_t id = 2u * (uint32_t)i + 1;
        unsigned char req[9 + sizeof(block)];
        unsigned char resp[10] = {0, 0, 1, 1, 5, (unsigned char)(id >> 24), (unsigned char)(id >> 16),
                                  (unsigned char)(id >> 8), (unsigned char)id, 0x88};
        memcpy(req, (unsigned char[]){0, 0, (unsigned char)blen, 1, 5, (unsigned char)(id >> 24),
                                      (unsigned char)(id >> 16), (unsigned char)(id >> 8), (unsigned char)id},
               9);
        memcpy(req + 9, block, blen);
        write_all(cfd, req, 9 + blen);
        read_frame(sfd, buf);
        write_all(sfd, resp, sizeof(resp));
        read_frame(cfd, buf);
    }
    close(cfd);
    close(sfd);
    printf("%d streams\n", n);
    return 0;
}
