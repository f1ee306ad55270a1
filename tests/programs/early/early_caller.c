/* Runs after libearly_connect.so's constructor (a DT_NEEDED library) made
 * its request: reports how that went, then makes one request of its own
 * ("GET /from-main") to the same server, so the test can check that tracing
 * works once main() runs.
 *
 *   EARLY_PORT=PORT early_caller
 *
 * Prints "constructor: N bytes, <status line>" and "main: <status line>";
 * exit status 0 if both got a 200 answer. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

long early_constructor_result(const char **status_line);

int main(void)
{
    static const char req[] = "GET /from-main HTTP/1.1\r\nHost: early\r\nConnection: close\r\n\r\n";
    const char *early_status;
    long early = early_constructor_result(&early_status);
    const char *port = getenv("EARLY_PORT");
    struct sockaddr_in sa;
    char buf[4096];
    size_t have = 0;
    ssize_t r;

    printf("constructor: %ld bytes, %s\n", early, early_status);
    if (!port)
        return 2;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
        return 1;
    while (have < sizeof buf - 1 &&
           ((r = read(fd, buf + have, sizeof buf - 1 - have)) > 0 || (r < 0 && errno == EINTR)))
        have += r > 0 ? (size_t)r : 0;
    buf[have] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    close(fd);
    printf("main: %s\n", buf);
    return strstr(early_status, " 200 ") && strstr(buf, " 200 ") ? 0 : 1;
}
