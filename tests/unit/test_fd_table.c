/* The fd -> connection table at large fd numbers: a process may raise
 * RLIMIT_NOFILE far above 65535 (the integration test that opens such a
 * socket needs a privilege CI machines may lack), so the table's reach is
 * checked here directly: numbers above 65535 and up to the last one the
 * table covers are tracked, found, and forgotten like small ones, without
 * touching their neighbours; numbers beyond it are passed through (never
 * tracked) and never crash. */
#include "sys/real_libc.h"
#include "wire/fd_table.h"
#include "oa_test.h"

#include <arpa/inet.h>
#include <limits.h>

/* The table pulls in the library's life cycle and, through it, the real
 * libc table (sys/real_libc.c): nothing of it is called here, so the table
 * and its binding are stand-ins. */
struct oa_libc oa_libc;
void oa_libc_bind(void)
{
}

static struct sockaddr_in peer(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

int main(void)
{
    static const int fds[] = {3, 1023, 1024, 65535, 65536, 65537, 70000, 1048575, 1048576,
                              OA_FD_TABLE_MAX - 1};
    const size_t n = sizeof fds / sizeof fds[0];
    struct oa_conn *conns[sizeof fds / sizeof fds[0]];
    bool ok = true;

    CHECK(oa_fd_table_high_water() == 0, "nothing tracked: the high-water mark is 0");
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_in sa = peer(1000 + (int)i);
        conns[i] = oa_fd_track(fds[i], OA_ROLE_CLIENT, (struct sockaddr *)&sa, sizeof sa);
        CHECK(conns[i] != NULL && conns[i]->fd == fds[i] && conns[i]->role == OA_ROLE_CLIENT,
              "fd %d is tracked", fds[i]);
    }
    for (size_t i = 0; i < n; i++) {
        struct oa_conn *c = oa_fd_peek(fds[i]);
        EXPECT(ok, c == conns[i], "fd %d finds its own connection", fds[i]);
        EXPECT(ok, c && ntohs(((struct sockaddr_in *)&c->peer)->sin_port) == 1000 + i,
               "fd %d keeps its peer", fds[i]);
        EXPECT(ok, oa_fd_peek(fds[i] + 1) == NULL || fds[i] + 1 == fds[i + 1 < n ? i + 1 : i],
               "fd %d's neighbour is untouched", fds[i]);
    }
    CHECK(ok, "every tracked number, above 65535 too, maps to its own connection only");
    CHECK(oa_fd_table_high_water() == OA_FD_TABLE_MAX, "the high-water mark is one past the highest fd tracked");

    oa_fd_forget(70000);
    CHECK(oa_fd_peek(70000) == NULL && oa_fd_peek(65537) == conns[5] && oa_fd_peek(1048575) == conns[7],
          "forgetting fd 70000 forgets only it");
    struct sockaddr_in sa = peer(4242);
    struct oa_conn *again = oa_fd_track(70000, OA_ROLE_SERVER, (struct sockaddr *)&sa, sizeof sa);
    CHECK(again != NULL && oa_fd_peek(70000) == again && again->role == OA_ROLE_SERVER &&
              again->mode == OA_MODE_UNDECIDED,
          "fd 70000 reused by a new connection starts afresh");

    CHECK(oa_fd_track(OA_FD_TABLE_MAX, OA_ROLE_CLIENT, NULL, 0) == NULL &&
              oa_fd_peek(OA_FD_TABLE_MAX) == NULL,
          "fd %d, past the table, is not tracked (its calls pass through)", OA_FD_TABLE_MAX);
    CHECK(oa_fd_peek(INT_MAX) == NULL && oa_fd_peek(-1) == NULL, "INT_MAX and -1 are never found");
    oa_fd_forget(INT_MAX);
    oa_fd_forget(-1);
    CHECK(1, "forgetting numbers past the table is harmless");

    for (size_t i = 0; i < n; i++)
        oa_fd_forget(fds[i]);
    ok = true;
    for (size_t i = 0; i < n; i++)
        EXPECT(ok, oa_fd_peek(fds[i]) == NULL, "fd %d forgotten", fds[i]);
    CHECK(ok, "all forgotten at the end");
    CHECK(oa_fd_table_high_water() == OA_FD_TABLE_MAX, "the high-water mark stays (a bound, never lowered)");
    TEST_DONE();
}
