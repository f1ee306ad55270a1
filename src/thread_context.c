/* Which server request each thread is handling (see oa_thread_context.h). */
#include <stdlib.h>
#include <string.h>

#include "oa_pool.h"
#include "oa_thread_context.h"

/* Contexts with a short tracestate and baggage (nearly all) are recycled
 * through a pool instead of malloc/free per request. */
#define CONTEXT_POOLED_STORAGE 256
static struct oa_pool context_pool =
    OA_POOL_INIT(sizeof(struct oa_server_context) + CONTEXT_POOLED_STORAGE, 64, 4096);

static __thread struct oa_server_context *current __attribute__((tls_model("initial-exec")));

struct oa_server_context *oa_server_context_new(const struct oa_span_context *sc,
                                                const char *tracestate, size_t tracestate_len,
                                                const char *baggage, size_t baggage_len)
{
    size_t storage = tracestate_len + baggage_len + 2;
    struct oa_server_context *ctx = storage <= CONTEXT_POOLED_STORAGE
                                        ? oa_pool_get(&context_pool)
                                        : oa_pool_get_large(sizeof(*ctx) + storage);
    if (ctx == NULL)
        return NULL;
    ctx->refs = 1;
    ctx->answered = 0;
    ctx->sc = *sc;
    ctx->tracestate = ctx->storage;
    memcpy(ctx->tracestate, tracestate, tracestate_len);
    ctx->tracestate[tracestate_len] = '\0';
    ctx->baggage = ctx->storage + tracestate_len + 1;
    memcpy(ctx->baggage, baggage, baggage_len);
    ctx->baggage[baggage_len] = '\0';
    return ctx;
}

void oa_server_context_ref(struct oa_server_context *ctx)
{
    __atomic_add_fetch(&ctx->refs, 1, __ATOMIC_RELAXED);
}

void oa_server_context_unref(struct oa_server_context *ctx)
{
    if (ctx != NULL && __atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL) == 0)
        oa_pool_put(&context_pool, ctx);
}

void oa_server_context_answered(struct oa_server_context *ctx)
{
    __atomic_store_n(&ctx->answered, 1, __ATOMIC_RELEASE);
}

void oa_thread_context_enter(struct oa_server_context *ctx)
{
    oa_server_context_ref(ctx);
    struct oa_server_context *old = current;
    current = ctx;
    oa_server_context_unref(old);
}

struct oa_server_context *oa_thread_context_current(void)
{
    struct oa_server_context *ctx = current;
    if (ctx == NULL)
        return NULL;
    if (__atomic_load_n(&ctx->answered, __ATOMIC_ACQUIRE)) {
        current = NULL;
        oa_server_context_unref(ctx);
        return NULL;
    }
    return ctx;
}

void oa_thread_context_reset(void)
{
    /* after fork the record may be shared with the parent's memory image;
     * dropping the pointer without touching the count is the safe choice */
    current = NULL;
}
