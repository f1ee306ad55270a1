/* Which server requests each thread is handling (see oa_thread_context.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "trace/thread_context.h"

/* More unanswered requests than this on one thread: the oldest is forgotten
 * and the thread stays ambiguous until every request it tracks is answered
 * (the forgotten one may still be open). */
#define THREAD_REQUESTS_MAX 16

struct thread_requests {
    struct oa_server_context *ctx[THREAD_REQUESTS_MAX]; /* oldest first, each holds a reference */
    unsigned n;
    bool lost;
    bool exit_registered; /* the thread-exit destructor will release them */
};

static __thread struct thread_requests mine __attribute__((tls_model("initial-exec")));

/* Thread-per-connection servers end a thread per connection: the requests it
 * still holds are released when it exits, through a thread-specific key's
 * destructor (one of the first 32 keys: setting it allocates nothing). */
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static bool exit_key_ok;

/* Contexts with a short tracestate and baggage (nearly all) are recycled
 * through a pool instead of malloc/free per request. */
#define CONTEXT_POOLED_STORAGE 256
static struct oa_pool context_pool =
    OA_POOL_INIT(sizeof(struct oa_server_context) + CONTEXT_POOLED_STORAGE, 64, 4096);

/* A keep-alive connection's requests follow one another on one thread: the
 * context of the request answered last is freed (pruned) just as the next
 * one is made. The thread keeps that one block for it, instead of a pool
 * round trip per request. Only threads whose exit hands it back keep one. */
static __thread struct oa_server_context *spare __attribute__((tls_model("initial-exec")));
static __thread bool keeps_spare __attribute__((tls_model("initial-exec")));

static void release_at_thread_exit(void *unused)
{
    (void)unused;
    struct thread_requests *t = &mine;
    for (unsigned i = 0; i < t->n; i++)
        oa_server_context_unref(t->ctx[i]);
    t->n = 0;
    t->lost = false;
    keeps_spare = false;
    if (spare != NULL) {
        oa_pool_put(&context_pool, spare);
        spare = NULL;
    }
}

static void create_exit_key(void)
{
    exit_key_ok = pthread_key_create(&exit_key, release_at_thread_exit) == 0;
}

static void register_thread_exit(struct thread_requests *t)
{
    t->exit_registered = true;
    pthread_once(&exit_key_once, create_exit_key);
    if (exit_key_ok)
        keeps_spare = pthread_setspecific(exit_key, t) == 0;
}

static struct oa_server_context *process_context;

/* oa_server_context_new, inlined in oa_thread_context_enter_new (every
 * traced server request) */
static inline __attribute__((always_inline)) struct oa_server_context *
context_new(const struct oa_span_context *sc, const struct oa_span_context *incoming, const char *tracestate,
            size_t tracestate_len, const char *baggage, size_t baggage_len)
{
    size_t storage = tracestate_len + baggage_len + 2;
    struct oa_server_context *ctx;
    if (storage > CONTEXT_POOLED_STORAGE) {
        ctx = oa_pool_get_large(sizeof(*ctx) + storage);
    } else if (spare != NULL) {
        ctx = spare;
        spare = NULL;
    } else {
        ctx = oa_pool_get(&context_pool);
    }
    if (ctx == NULL)
        return NULL;
    ctx->pooled = storage <= CONTEXT_POOLED_STORAGE;
    ctx->refs = 1;
    ctx->answered = 0;
    ctx->sc = *sc;
    if (incoming != NULL)
        ctx->incoming = *incoming;
    else
        memset(&ctx->incoming, 0, sizeof(ctx->incoming));
    /* most requests carry neither: no call to copy nothing */
    ctx->tracestate = ctx->storage;
    if (tracestate_len > 0)
        memcpy(ctx->tracestate, tracestate, tracestate_len);
    ctx->tracestate[tracestate_len] = '\0';
    ctx->baggage = ctx->storage + tracestate_len + 1;
    if (baggage_len > 0)
        memcpy(ctx->baggage, baggage, baggage_len);
    ctx->baggage[baggage_len] = '\0';
    return ctx;
}

struct oa_server_context *oa_server_context_new(const struct oa_span_context *sc,
                                                const struct oa_span_context *incoming,
                                                const char *tracestate, size_t tracestate_len,
                                                const char *baggage, size_t baggage_len)
{
    return context_new(sc, incoming, tracestate, tracestate_len, baggage, baggage_len);
}

void oa_server_context_ref(struct oa_server_context *ctx)
{
    __atomic_add_fetch(&ctx->refs, 1, __ATOMIC_RELAXED);
}

void oa_server_context_unref(struct oa_server_context *ctx)
{
    if (ctx == NULL || __atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (ctx->pooled && spare == NULL && keeps_spare)
        spare = ctx;
    else
        oa_pool_put(&context_pool, ctx);
}

void oa_server_context_answered(struct oa_server_context *ctx)
{
    __atomic_store_n(&ctx->answered, 1, __ATOMIC_RELEASE);
}

static bool is_answered(const struct oa_server_context *ctx)
{
    return __atomic_load_n(&ctx->answered, __ATOMIC_ACQUIRE) != 0;
}

/* Drops the answered requests. Inlined: it runs at every request's start
 * (a client's parent, a server's entry), mostly over one entry. */
static inline __attribute__((always_inline)) void prune(struct thread_requests *t)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < t->n; i++) {
        if (is_answered(t->ctx[i]))
            oa_server_context_unref(t->ctx[i]);
        else
            t->ctx[kept++] = t->ctx[i];
    }
    t->n = kept;
    if (kept == 0)
        t->lost = false;
}

/* Before a request is entered: the thread's exit hook, and its answered
 * requests dropped. */
static struct thread_requests *ready_to_enter(void)
{
    struct thread_requests *t = &mine;
    if (!t->exit_registered)
        register_thread_exit(t);
    prune(t);
    return t;
}

/* Adds ctx, whose reference the thread now holds. */
static void add(struct thread_requests *t, struct oa_server_context *ctx)
{
    if (t->n == THREAD_REQUESTS_MAX) {
        oa_server_context_unref(t->ctx[0]);
        memmove(&t->ctx[0], &t->ctx[1], sizeof(t->ctx[0]) * (THREAD_REQUESTS_MAX - 1));
        t->n--;
        t->lost = true;
    }
    t->ctx[t->n++] = ctx;
}

void oa_thread_context_enter(struct oa_server_context *ctx)
{
    struct thread_requests *t = ready_to_enter();
    oa_server_context_ref(ctx);
    add(t, ctx);
}

struct oa_server_context *oa_thread_context_enter_new(const struct oa_span_context *sc,
                                                      const struct oa_span_context *incoming, const char *tracestate,
                                                      size_t tracestate_len, const char *baggage, size_t baggage_len)
{
    /* pruned first: the block of the request answered last is the one the
     * new context is made in */
    struct thread_requests *t = ready_to_enter();
    struct oa_server_context *ctx = context_new(sc, incoming, tracestate, tracestate_len, baggage, baggage_len);
    if (ctx == NULL)
        return NULL;
    ctx->refs = 2; /* the caller's and this thread's, without an atomic add */
    add(t, ctx);
    return ctx;
}

static struct oa_server_context *choose(const struct thread_requests *t, unsigned unanswered,
                                        struct oa_server_context *only)
{
    if (t->lost || unanswered > 1)
        return NULL; /* ambiguous: a root rather than a wrong parent */
    if (unanswered == 1)
        return only;
    return __atomic_load_n(&process_context, __ATOMIC_ACQUIRE);
}

static inline __attribute__((always_inline)) struct oa_server_context *current(void)
{
    struct thread_requests *t = &mine;
    prune(t);
    return choose(t, t->n, t->n > 0 ? t->ctx[0] : NULL);
}

struct oa_server_context *oa_thread_context_current(void)
{
    return current();
}

bool oa_thread_context_parent(struct oa_span_context *parent, const char **tracestate, const char **baggage)
{
    struct oa_server_context *ctx = current();
    if (ctx == NULL)
        return false;
    *parent = ctx->sc;
    *tracestate = ctx->tracestate;
    *baggage = ctx->baggage;
    return true;
}

const struct oa_server_context *oa_thread_context_peek(void)
{
    const struct thread_requests *t = &mine;
    unsigned unanswered = 0;
    struct oa_server_context *only = NULL;
    for (unsigned i = 0; i < t->n && i < THREAD_REQUESTS_MAX; i++) {
        if (!is_answered(t->ctx[i])) {
            unanswered++;
            only = t->ctx[i];
        }
    }
    if (unanswered == 0 && t->n > 0)
        return __atomic_load_n(&process_context, __ATOMIC_ACQUIRE); /* all answered, lost is stale */
    return choose(t, unanswered, only);
}

struct oa_server_context *oa_thread_context_forwarded(const struct oa_span_context *tp)
{
    struct thread_requests *t = &mine;
    prune(t);
    for (unsigned i = t->n; i-- > 0;) {
        const struct oa_span_context *in = &t->ctx[i]->incoming;
        if (in->valid && memcmp(in->trace_id, tp->trace_id, 16) == 0 &&
            memcmp(in->span_id, tp->span_id, 8) == 0)
            return t->ctx[i];
    }
    return NULL;
}

struct oa_server_context *oa_thread_context_process(void)
{
    return __atomic_load_n(&process_context, __ATOMIC_ACQUIRE);
}

void oa_thread_context_set_process(struct oa_server_context *ctx)
{
    __atomic_store_n(&process_context, ctx, __ATOMIC_RELEASE);
}
