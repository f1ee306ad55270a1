/* Runtime hints (README "Runtime hints"): the placeholder traceparent that
 * the runtime modules (hints/node, hints/python) write on an outgoing
 * request made on behalf of a server request. Event-loop runtimes run many
 * requests' handlers on one thread, so which server request an outgoing
 * request belongs to cannot be told from the thread; the runtime itself
 * knows (AsyncLocalStorage, contextvars), and names the server request by
 * what both it and the shim see of it: the connection's file descriptor,
 * its peer's port and the request's number on the connection.
 *
 *   00-00000000000000000000000000000000-FFFFFFPPPPSSSSSS-00
 *
 * F the fd, P the peer port, S the request's 1-based number on the
 * connection (modulo 2^24), lowercase hex. All sixteen digits zero: made
 * for no request (a timer, a background job): the process's own context is
 * the parent, if it has one, else none; never a request the thread holds. The all-zero trace id makes the
 * value invalid for any receiver (W3C: such a traceparent is ignored), so
 * a placeholder the shim does not replace harms nothing. */
#ifndef OA_HTTP_HINT_H
#define OA_HTTP_HINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OA_HTTP_HINT_SEQ_MASK 0xffffffu

struct oa_http_hint {
    int fd;         /* -1: made for no request */
    unsigned port;
    uint32_t seq;   /* 0: made for no request */
};

/* Whether the traceparent value (len bytes) is a hint, read into h. */
bool oa_http_hint_parse(const char *value, size_t len, struct oa_http_hint *h);

struct oa_server_context;
/* The server request the hint names, if it is still unanswered: an HTTP/1
 * server connection on h->fd from peer port h->port whose request number
 * h->seq has not been answered. With a reference the caller drops
 * (oa_server_context_unref); NULL when there is no such request. Called
 * with a client connection locked: it locks only a server connection, and
 * a server connection's holder never locks another, so no two threads can
 * wait for each other. */
struct oa_server_context *oa_http_hint_resolve(const struct oa_http_hint *h);

#endif
