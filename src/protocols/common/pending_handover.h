/* A request in flight that one protocol hands to the protocol its
 * connection switches to (oa_protocol_switch): HTTP/1's `Upgrade: h2c`
 * request, whose response is HTTP/2's stream 1. The new protocol keeps a
 * copy of the old one's entry (which starts with its struct oa_pending)
 * and finishes it through the old one's operations: its span and metric
 * stay what the old protocol made of the request head. */
#ifndef OA_PENDING_HANDOVER_H
#define OA_PENDING_HANDOVER_H

#include "protocols/common/pending.h"

#define OA_PENDING_HANDOVER_MAX 256

struct oa_pending_handover {
    const struct oa_pending_ops *ops;  /* the old protocol's; NULL: nothing handed */
    size_t size;                       /* of the entry, <= OA_PENDING_HANDOVER_MAX */
    union {
        struct oa_pending p;           /* the entry's start */
        unsigned char bytes[OA_PENDING_HANDOVER_MAX];
    } entry;
};

#endif
