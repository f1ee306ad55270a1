/* An HTTPS client on a non-blocking socket with a tiny send buffer, so that
 * OpenSSL's SSL_write keeps running into a full socket: it sends one POST
 * whose head and large body go to SSL_write as a single buffer, and checks
 * SSL_write's return-value contract as the program sees it.
 *
 *   tls_write_client PORT CA_FILE partial|retry BODY_BYTES
 *
 *   partial  SSL_MODE_ENABLE_PARTIAL_WRITE: each call may take part of the
 *            buffer; the program goes on from where the last one stopped.
 *   retry    the default mode: a call refused with SSL_ERROR_WANT_WRITE is
 *            repeated with exactly the same pointer and length (OpenSSL
 *            fails a retry with any other buffer: "bad write retry"), and a
 *            successful call takes the whole buffer.
 *
 * Prints "status: <response status line>", then "writes: N want_write: W"
 * and exits 0 when the contract held (each return in (0, asked], their sum
 * the buffer length), 1 otherwise. The body is bytes i % 251. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void wait_for(int fd, int err)
{
    struct pollfd p = {.fd = fd, .events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
    poll(&p, 1, 5000);
}

static int fail(const char *what)
{
    fprintf(stderr, "tls_write_client: %s\n", what);
    ERR_print_errors_fp(stderr);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5)
        return fail("usage: tls_write_client PORT CA_FILE partial|retry BODY_BYTES");
    int port = atoi(argv[1]);
    int partial = strcmp(argv[3], "partial") == 0;
    size_t body = strtoul(argv[4], NULL, 10);

    char head[256];
    int hl = snprintf(head, sizeof(head),
                      "POST /upload HTTP/1.1\r\nHost: localhost:%d\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      port, body);
    size_t len = (size_t)hl + body;
    char *buf = malloc(len);
    if (buf == NULL)
        return fail("out of memory");
    memcpy(buf, head, (size_t)hl);
    for (size_t i = 0; i < body; i++)
        buf[(size_t)hl + i] = (char)(i % 251);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        return fail("connect failed");
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, argv[2], NULL) != 1)
        return fail("cannot load the CA file");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set1_host(ssl, "localhost");
    if (partial)
        SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
    for (;;) {
        int r = SSL_connect(ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            return fail("handshake failed");
        wait_for(fd, e);
    }

    size_t off = 0;
    unsigned writes = 0, wants = 0;
    int ok = 1;
    while (off < len) {
        size_t asked = partial ? len - off : len;
        const char *from = partial ? buf + off : buf;
        int r = SSL_write(ssl, from, (int)asked);
        if (r > 0) {
            writes++;
            if ((size_t)r > asked || (!partial && (size_t)r != asked)) {
                fprintf(stderr, "SSL_write returned %d for %zu bytes\n", r, asked);
                ok = 0;
            }
            off += (size_t)r;
            continue;
        }
        int e = SSL_get_error(ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            return fail("SSL_write failed");
        wants++;
        wait_for(fd, e);
    }
    if (off != len) {
        fprintf(stderr, "wrote %zu of %zu bytes\n", off, len);
        ok = 0;
    }

    char resp[4096];
    size_t got = 0;
    for (;;) {
        int r = SSL_read(ssl, resp + got, (int)(sizeof(resp) - 1 - got));
        if (r > 0) {
            got += (size_t)r;
            if (got == sizeof(resp) - 1)
                break;
            continue;
        }
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            wait_for(fd, e);
            continue;
        }
        break; /* closed */
    }
    resp[got] = '\0';
    char *eol = strstr(resp, "\r\n");
    if (eol != NULL)
        *eol = '\0';
    printf("status: %s\nwrites: %u want_write: %u\n", resp, writes, wants);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    free(buf);
    return ok ? 0 : 1;
}
