/* A client that crashes with a request in flight, with its own SIGSEGV
 * handler (the crash capture's tests, tests/integration/36-crash.bats).
 *
 *   crash_handler HOST PORT MODE
 *
 * Connects to HOST:PORT (the shim sets its crash handlers up on this first
 * connection), installs its own SIGSEGV handler according to MODE, sends a
 * GET and, before reading the reply, writes to address 0.
 *   sigaction  sigaction(SA_SIGINFO) after the connection
 *   signal     signal() after the connection
 *   sysv       sysv_signal() after the connection
 *   early      sigaction before the connection (before the shim's handlers)
 *   sysv_internal  __sysv_signal() (what signal() is in a strict ISO C program)
 *   none       no handler of its own (the default action)
 *   ignore     SIG_IGN, then the fault (the kernel kills all the same)
 *   ignore_sent  SIG_IGN, then raise(SIGSEGV) instead of the fault: ignored,
 *              prints "survived" and exits 0
 * The handler prints "handler ran sig=N" and _exit(3)s. Before crashing it
 * prints "query=ok" when sigaction(SIGSEGV, NULL, &old) reports its own
 * handler (or SIG_DFL for none), "query=WRONG" otherwise. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "store_to_null.h"

extern sighandler_t __sysv_signal(int sig, sighandler_t handler);

static void on_segv_info(int sig, siginfo_t *info, void *uc)
{
    (void)info;
    (void)uc;
    char line[64];
    int n = snprintf(line, sizeof line, "handler ran sig=%d\n", sig);
    (void)!write(1, line, (size_t)n);
    _exit(3);
}

static void on_segv(int sig)
{
    on_segv_info(sig, NULL, NULL);
}

static void install_sigaction(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv_info;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0)
        perror("sigaction");
}


int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST PORT MODE\n", argv[0]);
        return 2;
    }
    const char *mode = argv[3];
    setvbuf(stdout, NULL, _IONBF, 0);
    if (strcmp(mode, "early") == 0)
        install_sigaction();

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    inet_pton(AF_INET, argv[1], &sin.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        perror("connect");
        return 2;
    }

    void *expected = SIG_DFL;
    if (strcmp(mode, "sigaction") == 0) {
        install_sigaction();
        expected = (void *)on_segv_info;
    } else if (strcmp(mode, "early") == 0) {
        expected = (void *)on_segv_info;
    } else if (strcmp(mode, "signal") == 0) {
        if (signal(SIGSEGV, on_segv) != SIG_DFL)
            printf("signal: old handler is not SIG_DFL\n");
        expected = (void *)on_segv;
    } else if (strcmp(mode, "sysv") == 0) {
        sysv_signal(SIGSEGV, on_segv);
        expected = (void *)on_segv;
    } else if (strcmp(mode, "sysv_internal") == 0) {
        __sysv_signal(SIGSEGV, on_segv);
        expected = (void *)on_segv;
    } else if (strcmp(mode, "ignore") == 0 || strcmp(mode, "ignore_sent") == 0) {
        signal(SIGSEGV, SIG_IGN);
        expected = SIG_IGN;
    }
    struct sigaction old;
    memset(&old, 0, sizeof old);
    sigaction(SIGSEGV, NULL, &old);
    void *got = (old.sa_flags & SA_SIGINFO) ? (void *)old.sa_sigaction : (void *)old.sa_handler;
    printf("query=%s\n", got == expected ? "ok" : "WRONG");

    const char req[] = "GET /before-crash HTTP/1.1\r\nHost: crash\r\n\r\n";
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        perror("write");
        return 2;
    }
    if (strcmp(mode, "ignore_sent") == 0) {
        raise(SIGSEGV);
        printf("survived\n");
        return 0;
    }
    store_to_null(argc - 4);
    return 0;
}
