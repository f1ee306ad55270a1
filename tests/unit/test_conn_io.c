/* The send plan (src/conn_io.c): where owed header lines are spliced into
 * the program's buffers. The plan of one buffer owing one injection (a
 * short cut) must be the plan the general walk makes, which a second, empty
 * buffer forces: compared for every place of the injection around and inside
 * the buffer, sent or partly sent. */
#include <string.h>
#include <sys/uio.h>

#include "oa_conn_io.h"
#include "oa_http_exchange.h"
#include "oa_libc.h"
#include "oa_test.h"

/* The engine's only links to the libc hooks, not wanted here. */
struct oa_libc oa_libc;
void oa_libc_bind(void)
{
}

static const char head[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
static const char lines[] = "traceparent: 00-x\r\n";

static void owe(struct oa_http_exchange *x, uint64_t at, uint32_t sent, bool replaces)
{
    struct oa_injection *inj = &x->inj[x->inj_first];
    memset(inj, 0, sizeof(*inj));
    memcpy(inj->inline_bytes, lines, sizeof(lines) - 1);
    inj->bytes = inj->inline_bytes;
    inj->len = sizeof(lines) - 1;
    inj->at = at;
    inj->sent = sent;
    inj->replaces = replaces;
    x->inj_count = 1;
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
    struct oa_http_exchange *x = oa_http_exchange_new(OA_ROLE_CLIENT);
    size_t len = sizeof(head) - 1;
    const uint64_t base = 1000;
    struct iovec one[1] = {{(void *)head, len}};
    struct iovec two[2] = {{(void *)head, len}, {(void *)(head + len), 0}};
    int ok = 1;
    int spliced = 0;
    x->inj_first = 2; /* not the first slot: the ring's start is honoured */
    for (uint64_t at = base - 2; at <= base + len + 2; at++) {
        for (uint32_t sent = 0; sent <= 3; sent += 3) {
            struct iovec va[8], vb[8];
            struct oa_io_segment sa[8], sb[8];
            owe(x, at, sent, false);
            int na = oa_io_plan(x, one, 1, base, va, sa, 8);
            int nb = oa_io_plan(x, two, 2, base, vb, sb, 8);
            EXPECT(ok, same_plan(va, sa, na, vb, sb, nb), "at %d, sent %u: %d vs %d segments", (int)(at - base), sent,
                   na, nb);
            spliced += na > 0;
        }
    }
    CHECK(ok, "one buffer owing one injection: the plan of the general walk");

    /* the short cut's own case, spelled out: head, our lines, the rest */
    struct iovec v[8];
    struct oa_io_segment seg[8];
    owe(x, base + len - 2, 0, false);
    int n = oa_io_plan(x, one, 1, base, v, seg, 8);
    CHECK(n == 3 && v[0].iov_base == head && v[0].iov_len == len - 2 && seg[0].injection == -1 &&
              v[1].iov_len == sizeof(lines) - 1 && memcmp(v[1].iov_base, lines, v[1].iov_len) == 0 &&
              seg[1].injection == 0 && v[2].iov_base == head + len - 2 && v[2].iov_len == 2 && seg[2].injection == -1,
          "the lines go before the empty line: %d segments", n);
    owe(x, base + len, 0, false);
    CHECK(oa_io_plan(x, one, 1, base, v, seg, 8) == 0, "an injection at the buffer's end waits for the next call");
    CHECK(spliced > 0, "the comparison covered spliced plans (%d)", spliced);
    x->inj_count = 0;
    oa_http_exchange_free(x);
}

int main(void)
{
    test_one_injection_plan();
    TEST_DONE();
}
