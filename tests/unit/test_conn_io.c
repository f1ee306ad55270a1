/* The send plan (src/wire/conn_io.c) over the splice (src/wire/splice.c):
 * where owed bytes are spliced into the program's buffers. The plan of one buffer owing one injection (a
 * short cut) must be the plan the general walk makes, which a second, empty
 * buffer forces: compared for every place of the injection around and inside
 * the buffer, sent or partly sent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "wire/conn_io.h"
#include "wire/protocol.h"
#include "protocols/http1/http_exchange.h"
#include "sys/real_libc.h"
#include "oa_test.h"

/* The engine's only links to the libc hooks, not wanted here. */
struct oa_libc oa_libc;
void oa_libc_bind(void)
{
}

static const char head[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
static const char lines[] = "traceparent: 00-x\r\n";

/* An HTTP/1 client connection's state, as the wire layer opens it. */
static struct oa_proto_conn *open_client(void)
{
    struct oa_proto_conn *x = oa_http1_protocol.open(OA_ROLE_CLIENT);
    x->protocol = &oa_http1_protocol;
    return x;
}

static void owe(struct oa_proto_conn *x, uint64_t at, uint32_t sent, bool replaces)
{
    struct oa_injection *inj = &x->out.inj[x->out.first];
    memset(inj, 0, sizeof(*inj));
    memcpy(inj->inline_bytes, lines, sizeof(lines) - 1);
    inj->bytes = inj->inline_bytes;
    inj->len = sizeof(lines) - 1;
    inj->at = at;
    inj->sent = sent;
    inj->replaces = replaces;
    x->out.count = 1;
}

static bool same_plan(const struct iovec *a, const struct oa_io_segment *sa, int na, const struct iovec *b,
                      const struct oa_io_segment *sb, int nb)
{
    if (na != nb)
        return false;
    for (int i = 0; i < na; i++)
        if (a[i].iov_base != b[i].iov_base || a[i].iov_len != b[i].iov_len || sa[i].injection != sb[i].injection)
            return false;
    return true;
}

static void test_one_injection_plan(void)
{
    struct oa_proto_conn *x = open_client();
    size_t len = sizeof(head) - 1;
    const uint64_t base = 1000;
    struct iovec one[1] = {{(void *)head, len}};
    struct iovec two[2] = {{(void *)head, len}, {(void *)(head + len), 0}};
    int ok = 1;
    int spliced = 0;
    x->out.first = 2; /* not the first slot: the ring's start is honoured */
    for (uint64_t at = base - 2; at <= base + len + 2; at++) {
        for (uint32_t sent = 0; sent <= 3; sent += 3) {
            struct iovec va[8], vb[8];
            struct oa_io_segment sa[8], sb[8];
            owe(x, at, sent, false);
            struct oa_io_plan_sums suma, sumb;
            int na = oa_io_plan(&x->out, one, 1, base, va, sa, 8, &suma);
            int nb = oa_io_plan(&x->out, two, 2, base, vb, sb, 8, &sumb);
            EXPECT(ok, same_plan(va, sa, na, vb, sb, nb), "at %d, sent %u: %d vs %d segments", (int)(at - base), sent,
                   na, nb);
            spliced += na > 0;
        }
    }
    CHECK(ok, "one buffer owing one injection: the plan of the general walk");

    /* the short cut's own case, spelled out: head, our lines, the rest */
    struct iovec v[8];
    struct oa_io_segment seg[8];
    struct oa_io_plan_sums sums;
    owe(x, base + len - 2, 0, false);
    int n = oa_io_plan(&x->out, one, 1, base, v, seg, 8, &sums);
    CHECK(n == 3 && v[0].iov_base == head && v[0].iov_len == len - 2 && seg[0].injection == -1 &&
              v[1].iov_len == sizeof(lines) - 1 && memcmp(v[1].iov_base, lines, v[1].iov_len) == 0 &&
              seg[1].injection == 0 && v[2].iov_base == head + len - 2 && v[2].iov_len == 2 && seg[2].injection == -1,
          "the lines go before the empty line: %d segments", n);
    CHECK(sums.total == len + sizeof(lines) - 1 && sums.whole_injection == sizeof(lines) - 1,
          "the plan's sums: %zu in all, %zu injected", sums.total, sums.whole_injection);
    owe(x, base + len, 0, false);
    CHECK(oa_io_plan(&x->out, one, 1, base, v, seg, 8, &sums) == 0 && sums.whole_injection == 0,
          "an injection at the buffer's end waits for the next call");
    CHECK(spliced > 0, "the comparison covered spliced plans (%d)", spliced);
    x->out.count = 0;
    oa_protocol_free(x);
}

/* What a send leaves behind: the plan of one buffer owing one injection,
 * all sent, is accounted in one step (oa_splice_sent_whole); sums without
 * the whole injection force the general walk, which must leave the same state,
 * also for every shorter send and for an exchange that gave up. */
struct account_state {
    uint64_t out_sent, out_parsed;
    unsigned inj_count, inj_first;
    int mode;
    size_t app;
};

static struct account_state account_once(struct oa_proto_conn *x, uint64_t at, bool gave_up, size_t r, bool walk)
{
    struct oa_conn c;
    memset(&c, 0, sizeof(c));
    c.proto = x;
    c.mode = OA_MODE_PARSING;
    x->out.first = 2;
    x->out.sent = x->out.parsed = 1000;
    x->gave_up = gave_up;
    owe(x, at, 0, false);
    size_t len = sizeof(head) - 1;
    struct iovec one[1] = {{(void *)head, len}};
    struct iovec v[8];
    struct oa_io_segment seg[8];
    struct oa_io_plan_sums sums;
    int nv = oa_io_plan(&x->out, one, 1, 1000, v, seg, 8, &sums);
    if (walk) /* the walk's plans have no injection owed whole */
        sums.whole_injection = 0;
    struct account_state st;
    memset(&st, 0, sizeof(st)); /* compared whole, padding too */
    st.app = oa_io_account(&c, v, seg, nv, &sums, r);
    st.out_sent = x->out.sent;
    st.out_parsed = x->out.parsed;
    st.inj_count = x->out.count;
    st.inj_first = x->out.first;
    st.mode = c.mode;
    /* the injection's bytes are inline: nothing to free */
    x->out.count = 0;
    x->gave_up = false;
    return st;
}

static void test_account_whole_send(void)
{
    struct oa_proto_conn *x = open_client();
    size_t len = sizeof(head) - 1;
    size_t total = len + sizeof(lines) - 1;
    int ok = 1;
    int whole = 0;
    for (uint64_t at = 1000; at < 1000 + len; at++) {
        for (int gave_up = 0; gave_up <= 1; gave_up++) {
            for (size_t r = 1; r <= total; r++) {
                struct account_state a = account_once(x, at, gave_up, r, false);
                struct account_state b = account_once(x, at, gave_up, r, true);
                EXPECT(ok, memcmp(&a, &b, sizeof(a)) == 0,
                       "at %d, gave up %d, %zu sent: app %zu/%zu sent %lu/%lu inj %u/%u mode %d/%d", (int)(at - 1000),
                       gave_up, r, a.app, b.app, (unsigned long)a.out_sent, (unsigned long)b.out_sent, a.inj_count,
                       b.inj_count, a.mode, b.mode);
                whole += r == total && a.inj_count == 0;
            }
        }
    }
    CHECK(ok, "a request head sent whole: accounted as the general walk accounts it");
    CHECK(whole > 0, "the comparison covered whole sends (%d)", whole);
    struct account_state a = account_once(x, 1000 + len - 2, false, total, false);
    CHECK(a.app == len && a.out_sent == 1000 + len && a.inj_count == 0 && a.inj_first == 3 && a.mode == OA_MODE_PARSING,
          "all sent: the program's bytes counted, the lines dropped");
    oa_protocol_free(x);
}

/* A send that owes nothing goes as it is (send_as_is): what the general
 * loop does for a plan of no segments, which an injection owed further on
 * forces. Compared through oa_io_send with the kernel's answers played by a
 * fake write(): all taken, part, none, an error, and the connection closed
 * by another thread during the call. */
static struct oa_conn *fake_conn;
static ssize_t fake_r;
static int fake_errno;
static bool fake_close;

static ssize_t fake_write(int fd, const void *buf, size_t n)
{
    (void)fd;
    (void)buf;
    (void)n;
    if (fake_close)
        fake_conn->fd = 99; /* closed and its number given up meanwhile */
    errno = fake_errno;
    return fake_r;
}

struct send_state {
    ssize_t result;
    int err;
    uint64_t out_sent, out_parsed;
    int busy;
    int mode;
};

/* A client connection on fd 7 that x parses, as the table holds it. */
static void parsing_conn(struct oa_conn *c, struct oa_proto_conn *x)
{
    memset(c, 0, sizeof(*c));
    c->fd = 7;
    c->in_use = true;
    c->role = OA_ROLE_CLIENT;
    c->mode = OA_MODE_PARSING;
    c->proto = x;
}

static struct send_state send_once(bool owes_further, ssize_t r, int err, bool close)
{
    static const char part[] = "GET / HTTP/1.1\r\nHo";
    struct oa_proto_conn *x = open_client();
    struct oa_conn c;
    parsing_conn(&c, x);
    x->out.sent = x->out.parsed = 0;
    if (owes_further)
        owe(x, 1000, 0, false);
    fake_conn = &c;
    fake_r = r;
    fake_errno = err;
    fake_close = close;
    struct oa_send_call call = {.kind = OA_CALL_WRITE, .fd = 7, .buf = part, .len = sizeof(part) - 1};
    struct send_state st;
    memset(&st, 0, sizeof(st));
    errno = 0;
    st.result = oa_io_send(&c, &call);
    st.err = errno;
    st.out_sent = x->out.sent;
    st.out_parsed = x->out.parsed;
    st.busy = x->busy;
    st.mode = c.mode;
    x->out.count = 0;
    oa_protocol_free(x);
    return st;
}

static void test_send_as_is(void)
{
    oa_libc.write = fake_write;
    static const struct {
        ssize_t r;
        int err;
        bool close;
    } cases[] = {{18, 0, false}, {5, 0, false}, {0, 0, false}, {-1, EAGAIN, false}, {-1, EPIPE, false},
                 {18, 0, true},  {-1, EINTR, true}};
    int ok = 1;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct send_state a = send_once(false, cases[i].r, cases[i].err, cases[i].close);
        struct send_state b = send_once(true, cases[i].r, cases[i].err, cases[i].close);
        EXPECT(ok, memcmp(&a, &b, sizeof(a)) == 0,
               "case %zu: result %zd/%zd errno %d/%d sent %lu/%lu parsed %lu/%lu busy %d/%d mode %d/%d", i,
               a.result, b.result, a.err, b.err, (unsigned long)a.out_sent, (unsigned long)b.out_sent,
               (unsigned long)a.out_parsed, (unsigned long)b.out_parsed, a.busy, b.busy, a.mode, b.mode);
    }
    CHECK(ok, "nothing owed: the call and its accounting as the general loop makes them");
    struct send_state a = send_once(false, 5, 0, false);
    CHECK(a.result == 5 && a.out_sent == 5 && a.out_parsed == 18 && a.busy == 0,
          "part taken: 5 reported and counted, all 18 parsed ahead");
    oa_libc.write = NULL;
}

/* A connection closed by another thread during the call, its state retired
 * while the sender was between its locked sections: the sender's relock
 * frees the state, and whatever that free does to errno, the program sees
 * the system call's result and errno (send_as_is no longer saves errno
 * itself: the relock keeps it). The protocol's free is played by one that
 * clobbers errno. */
static int frees;

static void noop_outgoing(struct oa_conn *c, const struct iovec *iov, int iovcnt)
{
    (void)c;
    (void)iov;
    (void)iovcnt;
}

static void noop_end(struct oa_conn *c, int err)
{
    (void)c;
    (void)err;
}

static void clobbering_free(struct oa_proto_conn *p)
{
    frees++;
    free(p);
    errno = ENOMEM;
}

static const struct oa_protocol clobbering_protocol = {
    .name = "clobbering",
    .outgoing = noop_outgoing,
    .end = noop_end,
    .free = clobbering_free,
};

static ssize_t closing_write(int fd, const void *buf, size_t n)
{
    (void)fd;
    (void)buf;
    (void)n;
    /* what close() on another thread does to the connection (fd_table.c,
     * conn_retire) while this one is in its system call */
    oa_protocol_retire(fake_conn, 0);
    fake_conn->in_use = false;
    fake_conn->fd = -1;
    errno = fake_errno;
    return fake_r;
}

static void test_relock_keeps_errno(void)
{
    oa_libc.write = closing_write;
    static const struct {
        ssize_t r;
        int err;
    } cases[] = {{18, 0}, {5, 0}, {-1, EPIPE}, {-1, EAGAIN}};
    int ok = 1;
    frees = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct oa_proto_conn *x = calloc(1, sizeof(*x));
        x->protocol = &clobbering_protocol;
        struct oa_conn c;
        parsing_conn(&c, x);
        fake_conn = &c;
        fake_r = cases[i].r;
        fake_errno = cases[i].err;
        struct oa_send_call call = {.kind = OA_CALL_WRITE, .fd = 7, .buf = head, .len = sizeof(head) - 1};
        errno = 0;
        ssize_t r = oa_io_send(&c, &call);
        int err = errno;
        EXPECT(ok, r == cases[i].r && err == cases[i].err && c.lock == 0 && frees == (int)i + 1,
               "case %zu: result %zd (want %zd) errno %d (want %d) lock %d frees %d", i, r, cases[i].r, err,
               cases[i].err, c.lock, frees);
    }
    CHECK(ok, "closed during the call: the state freed by the relock, the call's result and errno kept");
    oa_libc.write = NULL;
}

int main(void)
{
    test_one_injection_plan();
    test_account_whole_send();
    test_send_as_is();
    test_relock_keeps_errno();
    TEST_DONE();
}
