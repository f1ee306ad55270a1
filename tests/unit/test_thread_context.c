/* The parent rule (oa_thread_context.h) and the environment carrier
 * (oa_env_carrier.h): one open request is the parent, several are ambiguous,
 * a forwarded traceparent names its request, the process context fills in
 * when nothing is open, and a child's environment gets the right variables. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "trace/env_carrier.h"
#include "lifecycle/library.h"
#include "oa_test.h"
#include "trace/thread_context.h"

/* Defined here so that the engine's library.o (constructor, hooks) is not
 * linked in: the carrier only reads this flag. */


static struct oa_span_context sc_with(uint8_t trace, uint8_t span)
{
    struct oa_span_context sc = {.valid = true, .flags = OA_TRACE_FLAG_SAMPLED};
    memset(sc.trace_id, trace, 16);
    memset(sc.span_id, span, 8);
    return sc;
}

static struct oa_server_context *request(uint8_t trace, uint8_t span, const struct oa_span_context *incoming,
                                         const char *tracestate, const char *baggage)
{
    struct oa_span_context sc = sc_with(trace, span);
    return oa_server_context_new(&sc, incoming, tracestate, strlen(tracestate), baggage, strlen(baggage));
}

static void finish(struct oa_server_context *ctx)
{
    oa_server_context_answered(ctx);
    oa_server_context_unref(ctx);
}

static void test_rule(void)
{
    CHECK(oa_thread_context_current() == NULL, "nothing open, no process context: no parent");
    struct oa_server_context *a = request(1, 1, NULL, "", "");
    oa_thread_context_enter(a);
    CHECK(oa_thread_context_current() == a, "one open request is the parent");
    CHECK(oa_thread_context_peek() == a, "peek agrees");

    struct oa_span_context in_b = sc_with(7, 7);
    struct oa_server_context *b = request(2, 2, &in_b, "", "");
    oa_thread_context_enter(b);
    CHECK(oa_thread_context_current() == NULL, "two open requests: ambiguous, no parent");
    CHECK(oa_thread_context_peek() == NULL, "peek agrees when ambiguous");
    CHECK(oa_thread_context_forwarded(&in_b) == b, "the forwarded traceparent names its request");
    struct oa_span_context other = sc_with(7, 8);
    CHECK(oa_thread_context_forwarded(&other) == NULL, "another span id names nothing");

    finish(a);
    CHECK(oa_thread_context_peek() == b, "peek: the one left open");
    CHECK(oa_thread_context_current() == b, "once the first is answered, the other is the parent");
    finish(b);
    CHECK(oa_thread_context_current() == NULL, "all answered: no parent");
}

static void test_overflow(void)
{
    struct oa_server_context *many[17];
    for (int i = 0; i < 17; i++) {
        many[i] = request(3, (uint8_t)(10 + i), NULL, "", "");
        oa_thread_context_enter(many[i]);
    }
    for (int i = 0; i < 16; i++)
        finish(many[i]);
    CHECK(oa_thread_context_current() == NULL,
          "one of 17 was forgotten: with one request left open the thread is still ambiguous");
    CHECK(oa_thread_context_peek() == NULL, "peek agrees");
    finish(many[16]);
    CHECK(oa_thread_context_current() == NULL, "all answered: no parent");
    struct oa_server_context *next = request(4, 4, NULL, "", "");
    oa_thread_context_enter(next);
    CHECK(oa_thread_context_current() == next, "then a new request is the parent again");
    finish(next);
}

static void *handler_thread(void *arg)
{
    oa_thread_context_enter(arg);
    return NULL;
}

static void test_thread_exit(void)
{
    struct oa_server_context *r = request(5, 5, NULL, "", "");
    pthread_t th;
    pthread_create(&th, NULL, handler_thread, r);
    pthread_join(th, NULL);
    CHECK(__atomic_load_n(&r->refs, __ATOMIC_ACQUIRE) == 1,
          "a thread that exits releases the requests it held (refs %d)", r->refs);
    finish(r);
}

/* The block a thread keeps for its next request: the context freed last on
 * a thread that entered one is made again in the same block, with every
 * field as a fresh block would have it; a context too large for the pool is
 * never kept; a thread that exits hands its block back. */
static bool same_context(const struct oa_server_context *a, const struct oa_server_context *b)
{
    return a->refs == b->refs && a->answered == b->answered && a->pooled == b->pooled &&
           memcmp(&a->sc, &b->sc, sizeof(a->sc)) == 0 && memcmp(&a->incoming, &b->incoming, sizeof(a->incoming)) == 0 &&
           strcmp(a->tracestate, b->tracestate) == 0 && strcmp(a->baggage, b->baggage) == 0;
}

static void *keep_and_exit(void *arg)
{
    struct oa_server_context *r = request(9, 9, NULL, "", "");
    oa_thread_context_enter(r);
    finish(r);
    oa_thread_context_current(); /* prunes r: the thread keeps its block */
    *(struct oa_server_context **)arg = r;
    return NULL;
}

static void test_spare_block(void)
{
    /* whatever the tests before left: pruned, and the block kept taken */
    oa_thread_context_current();
    struct oa_server_context *before = request(6, 0, NULL, "", "");
    struct oa_span_context in = sc_with(6, 6);
    struct oa_server_context *a = request(6, 1, &in, "k=v", "user=1");
    oa_thread_context_enter(a);
    finish(a);
    CHECK(oa_thread_context_current() == NULL, "a answered: pruned");
    struct oa_server_context *b = request(6, 2, NULL, "", "");
    CHECK(b == a, "the next context of the thread is made in the block freed last");
    struct oa_server_context *fresh = request(6, 2, NULL, "", "");
    CHECK(fresh != b && same_context(b, fresh),
          "the recycled block holds what a fresh one does (refs, answered, ids, incoming, tracestate, baggage)");
    oa_server_context_unref(fresh);

    char long_state[300];
    memset(long_state, 'x', sizeof(long_state) - 1);
    long_state[sizeof(long_state) - 1] = '\0';
    struct oa_server_context *big = request(6, 3, NULL, long_state, "");
    CHECK(!big->pooled, "a context with a long tracestate is not a pool block");
    oa_server_context_unref(big);
    struct oa_server_context *c = request(6, 4, NULL, "", "");
    CHECK(c != big, "and it is not kept for the next one");
    oa_server_context_unref(c); /* kept */
    oa_server_context_unref(b); /* to the pool: the thread keeps one */
    oa_server_context_unref(before);

    struct oa_server_context *kept = NULL;
    pthread_t th;
    pthread_create(&th, NULL, keep_and_exit, &kept);
    pthread_join(th, NULL);
    struct oa_server_context *d = request(6, 5, NULL, "", "");
    CHECK(d == c, "this thread's kept block first");
    struct oa_server_context *e = request(6, 6, NULL, "", "");
    CHECK(kept != NULL && e == kept, "then the pool's last block: the one the exited thread handed back");
    oa_server_context_unref(d);
    oa_server_context_unref(e);
}

/* A request entered as it is made: what oa_server_context_new then
 * oa_thread_context_enter leave (the parent rule, both references), and
 * the block of the request answered before it made again. */
static void test_enter_new(void)
{
    oa_thread_context_current();
    struct oa_span_context sc = sc_with(8, 1);
    struct oa_span_context in = sc_with(8, 9);
    struct oa_server_context *a = oa_thread_context_enter_new(&sc, &in, "k=v", 3, "u=1", 3);
    struct oa_server_context *b = request(8, 1, &in, "k=v", "u=1");
    oa_thread_context_enter(b);
    CHECK(a != NULL && a->refs == 2 && same_context(a, b), "the same context and references as made then entered");
    CHECK(oa_thread_context_current() == NULL && oa_thread_context_forwarded(&in) == b,
          "entered: two open requests, the later one named by its traceparent");
    finish(b);
    CHECK(oa_thread_context_current() == a, "b answered: a is the parent");
    finish(a);
    CHECK(oa_thread_context_current() == NULL, "all answered");
    struct oa_span_context sc2 = sc_with(8, 2);
    struct oa_server_context *c = oa_thread_context_enter_new(&sc2, NULL, "", 0, "", 0);
    CHECK(c == b || c == a, "the next request is made in a block freed by the prune before it");
    CHECK(oa_thread_context_current() == c && c->refs == 2 && !c->incoming.valid && c->sc.span_id[0] == 2,
          "and is this thread's one open request, fresh");
    finish(c);
}

static const char *fake_env(const char *name)
{
    if (strcmp(name, "TRACEPARENT") == 0)
        return "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    if (strcmp(name, "TRACESTATE") == 0)
        return "v=1";
    return NULL;
}

static char captured[8][160];
static int n_captured;

static int capture(void *arg, char *const env[])
{
    *(char *const **)arg = env;
    n_captured = 0;
    for (int i = 0; env[i] != NULL && i < 8; i++)
        snprintf(captured[n_captured++], sizeof(captured[0]), "%s", env[i]);
    return 7;
}

static bool has(const char *entry)
{
    for (int i = 0; i < n_captured; i++)
        if (strcmp(captured[i], entry) == 0)
            return true;
    return false;
}

static void test_env_carrier(void)
{
    char *env[] = {"PATH=/bin", "TRACEPARENT=00-11111111111111111111111111111111-2222222222222222-01",
                   "BAGGAGE=old=1", NULL};
    char *const *seen = NULL;
    oa_library_state = 1;
    oa_config.propagators = 1u << OA_PROPAGATOR_TRACECONTEXT | 1u << OA_PROPAGATOR_BAGGAGE;

    CHECK(oa_env_carrier_exec(env, capture, &seen) == 7 && seen == env,
          "outside any request the environment is passed as it is");

    struct oa_server_context *r = request(0xab, 0xcd, NULL, "k=v", "user=42");
    oa_thread_context_enter(r);
    oa_env_carrier_exec(env, capture, &seen);
    CHECK(seen != env && n_captured == 4, "inside a request: PATH and the three variables (%d entries)", n_captured);
    CHECK(has("PATH=/bin"), "other entries kept");
    CHECK(has("TRACEPARENT=00-abababababababababababababababab-cdcdcdcdcdcdcdcd-01"), "TRACEPARENT names the request");
    CHECK(has("TRACESTATE=k=v") && has("BAGGAGE=user=42"), "TRACESTATE and BAGGAGE of the request");
    CHECK(!has("BAGGAGE=old=1"), "inherited values replaced");

    oa_config.propagators &= ~(1u << OA_PROPAGATOR_BAGGAGE);
    oa_env_carrier_exec(env, capture, &seen);
    CHECK(has("BAGGAGE=old=1") && !has("BAGGAGE=user=42"), "baggage propagation off: BAGGAGE left alone");
    oa_config.propagators |= 1u << OA_PROPAGATOR_BAGGAGE;
    finish(r);

    oa_env_carrier_load(fake_env);
    const struct oa_server_context *p = oa_thread_context_current();
    CHECK(p != NULL && p->sc.remote && p->sc.span_id[0] == 0xb7, "TRACEPARENT of the process is the parent when nothing is open");
    CHECK(p != NULL && strcmp(p->tracestate, "v=1") == 0, "with its TRACESTATE");
    oa_library_state = 0;
}

int main(void)
{
    test_rule();
    test_overflow();
    test_thread_exit();
    test_spare_block();
    test_enter_new();
    test_env_carrier();
    TEST_DONE();
}
