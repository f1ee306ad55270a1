/* A library whose constructor makes an HTTP request: socket, connect, write,
 * read, close, all before main() and possibly before the shim's own
 * constructor has run. Linked into early_caller (DT_NEEDED), or preloaded
 * ahead of the shim.
 *
 * With EARLY_PORT set, the constructor sends "GET /from-constructor" to
 * 127.0.0.1:EARLY_PORT (Connection: close) and reads the answer to EOF.
 * early_constructor_result() tells how that went: the number of response
 * bytes, or -1 if something failed, or 0 if EARLY_PORT was not set. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static long result;
static char first_line[64];

__attribute__((visibility("default"))) long early_constructor_result(const char **status_line)
{
    *status_line = first_line;
    return result;
}

__attribute__((constructor)) static void request_from_constructor(void)
{
    static const char req[] =
        "GET /from-constructor HTTP/1.1\r\nHost: early\r\nConnection: close\r\n\r\n";
    const char *port = getenv("EARLY_PORT");
    struct sockaddr_in sa;
    char buf[4096];
    ssize_t r;
    int fd;

    if (!port)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        result = -1;
        return;
    }
    while ((r = read(fd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) {
        if (r > 0 && result == 0) {
            size_t n = strcspn(buf, "\r\n");
            memcpy(first_line, buf, n < sizeof first_line - 1 ? n : sizeof first_line - 1);
        }
        result += r > 0 ? r : 0;
    }
    if (close(fd) != 0)
        result = -1;
}
