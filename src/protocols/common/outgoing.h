/* What every protocol does with the bytes a program is about to send: the
 * wire layer hands a call's buffers again when an earlier attempt of the
 * same bytes was partly refused (EAGAIN, a short write), and a protocol
 * must parse each byte once. Its splice knows how far it parsed (out.parsed)
 * and how far the kernel took (out.sent): the difference is skipped. */
#ifndef OA_OUTGOING_H
#define OA_OUTGOING_H

#include <sys/uio.h>

#include "wire/protocol.h"

/* Calls feed on each not yet parsed piece of iov, in order (feed advances
 * out.parsed by what it reads); gives the protocol up when feed returns
 * false. Inline, so that a protocol's feed is inlined into it. */
static inline __attribute__((always_inline)) void
oa_parse_outgoing(struct oa_conn *c, const struct iovec *iov, int iovcnt,
                  bool (*feed)(struct oa_conn *c, const char *p, size_t n))
{
    struct oa_proto_conn *x = c->proto;
    uint64_t skip = x->out.parsed - x->out.sent;
    for (int i = 0; i < iovcnt; i++) {
        size_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        const char *p = (const char *)iov[i].iov_base + skip;
        len -= (size_t)skip;
        skip = 0;
        if (!feed(c, p, len)) {
            oa_protocol_give_up(c);
            return;
        }
    }
}

#endif
