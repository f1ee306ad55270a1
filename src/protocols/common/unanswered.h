/* A runtime hint's question to a server connection (struct
 * oa_unanswered_query, wire/protocol.h): each protocol that answers it
 * offers its requests still in flight here, one by one. */
#ifndef OA_UNANSWERED_H
#define OA_UNANSWERED_H

#include "trace/thread_context.h"
#include "wire/protocol.h"

/* The low `bits` bits of a span id (its 8 octets big-endian). */
static inline uint64_t oa_span_id_low(const uint8_t id[8], unsigned bits)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | id[i];
    return bits >= 64 ? v : v & ((UINT64_C(1) << bits) - 1);
}

/* ctx (a server request's context, or NULL) is one of the connection's
 * requests in flight: counted when unanswered and matching q, taken (a
 * reference) when it is the first match. */
static inline void oa_unanswered_offer(struct oa_unanswered_query *q, struct oa_server_context *ctx)
{
    if (ctx == NULL || q->count >= 2 || __atomic_load_n(&ctx->answered, __ATOMIC_ACQUIRE))
        return;
    if (q->by_parent && (!ctx->incoming.valid || oa_span_id_low(ctx->incoming.span_id, q->bits) != q->parent_low))
        return;
    if (q->count++ == 0) {
        oa_server_context_ref(ctx);
        q->found = ctx;
    }
}

#endif
