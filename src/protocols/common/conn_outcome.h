/* What every protocol on the wire does alike with a connection's bytes and
 * its end, whatever it parses. */
#ifndef OA_CONN_OUTCOME_H
#define OA_CONN_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "wire/protocol.h"

/* error.type of requests a connection's end leaves unanswered: the errno
 * name of err, or "connection_closed" when there is none. */
const char *oa_conn_error_type(int err);

/* Hands feed the bytes of an outgoing call that the protocol has not parsed
 * yet: a program resends what the kernel did not take, and those bytes
 * were parsed on the first attempt (p->out.parsed is ahead of
 * p->out.sent). feed advances p->out.parsed; false when it refused the
 * bytes (the caller gives the connection up). Inline, with feed a constant
 * at each call: the per-send path calls no function pointer. */
static inline __attribute__((always_inline)) bool
oa_proto_feed_unparsed(struct oa_conn *c, const struct oa_proto_conn *p, const struct iovec *iov, int iovcnt,
                       bool (*feed)(struct oa_conn *c, const char *b, size_t n))
{
    uint64_t skip = p->out.parsed - p->out.sent;
    for (int i = 0; i < iovcnt; i++) {
        size_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        const char *b = (const char *)iov[i].iov_base + skip;
        len -= (size_t)skip;
        skip = 0;
        if (!feed(c, b, len))
            return false;
    }
    return true;
}

#endif
