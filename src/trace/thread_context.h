/* Which incoming request a thread is handling, so that the requests it sends
 * (and the programs it starts) become that server span's children.
 *
 * The rule (README "How parents are chosen"): each thread keeps the server
 * requests whose heads it read and that are not answered yet.
 *   - exactly one: it is the parent;
 *   - none: the process's own context, from the TRACEPARENT environment
 *     variable it was started with (oa_env_carrier.h), else none (a root);
 *   - several (an event loop interleaving requests): ambiguous, no parent
 *     (a root span), unless the outgoing request forwards the traceparent
 *     one of them carried in (a proxy): then that one (see
 *     oa_thread_context_forwarded).
 * A wrong parent is worse than none: the ambiguous case makes roots. */
#ifndef OA_THREAD_CONTEXT_H
#define OA_THREAD_CONTEXT_H

#include "trace/traceparent.h"

/* A server request's propagated context, shared (refcounted) between the
 * connection that owns the request and the threads that read it. */
struct oa_server_context {
    int refs;
    int answered;                  /* set once its response is complete */
    bool pooled;                   /* a block of the contexts' pool (not a larger one) */
    struct oa_span_context sc;     /* the server span's own ids: the parent of children */
    struct oa_span_context incoming; /* the traceparent it carried (valid=false: none) */
    char *tracestate;              /* NUL-terminated, may be empty */
    char *baggage;                 /* NUL-terminated, may be empty */
    char storage[];
};

/* incoming may be NULL. */
struct oa_server_context *oa_server_context_new(const struct oa_span_context *sc,
                                                const struct oa_span_context *incoming,
                                                const char *tracestate, size_t tracestate_len,
                                                const char *baggage, size_t baggage_len);
void oa_server_context_ref(struct oa_server_context *ctx);
void oa_server_context_unref(struct oa_server_context *ctx);
void oa_server_context_answered(struct oa_server_context *ctx);

/* This thread read the head of ctx's request (takes a reference). */
void oa_thread_context_enter(struct oa_server_context *ctx);
/* oa_server_context_new, then oa_thread_context_enter of the new context
 * (the caller holds one reference, the thread the other), in one step. NULL
 * when no memory: nothing entered. */
struct oa_server_context *oa_thread_context_enter_new(const struct oa_span_context *sc,
                                                      const struct oa_span_context *incoming, const char *tracestate,
                                                      size_t tracestate_len, const char *baggage, size_t baggage_len);
/* The parent for work this thread starts now, by the rule above, or NULL.
 * Valid until the thread's next oa_thread_context_* call. */
struct oa_server_context *oa_thread_context_current(void);
/* The parent of an outgoing request that carries no traceparent of its own
 * (oa_thread_context_current): its span context into parent, and its
 * tracestate and baggage (valid as that pointer is). false: no parent. */
bool oa_thread_context_parent(struct oa_span_context *parent, const char **tracestate, const char **baggage);
/* The unanswered request of this thread that carried exactly the traceparent
 * tp (same trace and parent id), or NULL: an outgoing request that carries
 * it forwards that request. */
struct oa_server_context *oa_thread_context_forwarded(const struct oa_span_context *tp);
/* The process's own context (oa_thread_context_set_process), or NULL: the
 * parent of work known to be done for no request. */
struct oa_server_context *oa_thread_context_process(void);
/* oa_thread_context_current without any write, lock or allocation: for
 * exec in a vfork child, which shares the parent's memory. */
const struct oa_server_context *oa_thread_context_peek(void);

/* The process's context from its environment (NULL: none); set once at
 * configuration, never freed. */
void oa_thread_context_set_process(struct oa_server_context *ctx);

#endif
