/* A client whose "runtime" takes faults in a request and recovers from
 * them (tests/integration/36-crash.bats).
 *
 *   fault_recovery LIBRARY HOST PORT WHEN
 *
 * dlopens LIBRARY by path (tests/programs/fault_runtime/fault_recover.c, as
 * libjvm.so or librecover.so) and calls its install(), before the first
 * connection (WHEN=before: the shim finds the handler already there) or
 * after it (WHEN=after: the shim sees the sigaction call). Then it sends a
 * GET to HOST:PORT, faults three times while the answer is awaited (the
 * library's handler recovering each time), reads the answer and exits 0.
 * Prints "recovered=N status=LINE". WHEN=crash: as after, but the third
 * fault is outside the library's guard: a real crash (its handler aborts). */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "store_to_null.h"


int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s LIBRARY HOST PORT before|after|crash\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    void *lib = dlopen(argv[1], RTLD_NOW);
    int (*install)(void) = lib != NULL ? (int (*)(void))dlsym(lib, "install") : NULL;
    int (*guarded)(void (*)(int), int) = lib != NULL ? (int (*)(void (*)(int), int))dlsym(lib, "guarded") : NULL;
    if (install == NULL || guarded == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
        return 2;
    }
    bool before = strcmp(argv[4], "before") == 0;
    bool crash = strcmp(argv[4], "crash") == 0;
    if (before && install() != 0)
        return 2;

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &sin.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        perror("connect");
        return 2;
    }
    if (!before && install() != 0)
        return 2;

    const char req[] = "GET /status/200 HTTP/1.1\r\nHost: runtime\r\nConnection: close\r\n\r\n";
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        perror("write");
        return 2;
    }
    int recovered = 0;
    for (int i = 0; i < 3; i++) {
        if (crash && i == 2) {
            printf("recovered=%d\n", recovered);
            store_to_null(argc - 5);
        }
        recovered += guarded(store_to_null, argc - 5);
    }

    char reply[4096];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof reply - 1 && (n = read(fd, reply + got, sizeof reply - 1 - got)) > 0)
        got += (size_t)n;
    reply[got] = '\0';
    close(fd);
    char *eol = strstr(reply, "\r\n");
    if (eol != NULL)
        *eol = '\0';
    printf("recovered=%d status=%s\n", recovered, reply);
    return 0;
}
