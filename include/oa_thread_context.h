/* Which incoming request a thread is handling, so that the requests it sends
 * become that server span's children.
 *
 * Rule: the parent of an outgoing request is the server request whose head
 * this thread read most recently, as long as that request is not answered
 * yet. Otherwise the outgoing request starts a new trace. */
#ifndef OA_THREAD_CONTEXT_H
#define OA_THREAD_CONTEXT_H

#include "oa_propagation.h"

/* A server request's propagated context, shared (refcounted) between the
 * connection that owns the request and the thread that handles it. */
struct oa_server_context {
    int refs;
    int answered;                /* set once its response is complete */
    struct oa_span_context sc;   /* the server span's own ids: the parent of children */
    char *tracestate;            /* NUL-terminated, may be empty */
    char *baggage;               /* NUL-terminated, may be empty */
    char storage[];
};

struct oa_server_context *oa_server_context_new(const struct oa_span_context *sc,
                                                const char *tracestate, size_t tracestate_len,
                                                const char *baggage, size_t baggage_len);
void oa_server_context_ref(struct oa_server_context *ctx);
void oa_server_context_unref(struct oa_server_context *ctx);
void oa_server_context_answered(struct oa_server_context *ctx);

/* This thread now handles ctx (takes a reference). */
void oa_thread_context_enter(struct oa_server_context *ctx);
/* The request this thread handles, if not yet answered, else NULL. The
 * pointer is valid until the thread's next oa_thread_context_* call. */
struct oa_server_context *oa_thread_context_current(void);
/* fork child / thread exit hygiene */
void oa_thread_context_reset(void);

#endif
