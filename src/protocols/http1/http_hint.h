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
 * the parent, if it has one, else none; never a request the thread holds.
 *
 * A runtime that hands a request from the thread that read it to a pool
 * (grpcio: the I/O thread reads the HTTP/2 stream, a pool thread runs the
 * handler) knows neither the fd nor the stream's number, only the peer's
 * address and the traceparent the request carried. Its placeholder names
 * the request by those, the first octet ff (an fd form's first octet is
 * below 0x40: the fd table ends at 0x400000):
 *
 *   00-00000000000000000000000000000000-ffPPPPDDDDDDDDDD-00
 *
 * P the peer port (not 0), D a 40-bit discriminator: 0, the request
 * carried no traceparent: the one request still unanswered on the server
 * connections from that port; 8000000000 | the low 39 bits of the parent
 * id of the traceparent the request carried: the one unanswered request
 * on those connections whose valid traceparent has that parent id's low
 * 39 bits. Other D: not a hint. No match, or more than one: not resolved
 * (the process's context or none), never a guess. A request whose own
 * stream is still unanswered always matches itself, so with D non-zero a
 * wrong parent takes a second request on the same port, while the named
 * one is already answered, whose caller's span id ends in the same 39
 * bits.
 *
 * The all-zero trace id makes the value invalid for any receiver (W3C:
 * such a traceparent is ignored), so a placeholder the shim does not
 * replace harms nothing. */
#ifndef OA_HTTP_HINT_H
#define OA_HTTP_HINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OA_HTTP_HINT_SEQ_MASK 0xffffffu

/* The bits of a caller's parent id a hint by peer port carries. */
#define OA_HTTP_HINT_PARENT_BITS 39

struct oa_http_hint {
    int fd;         /* -1: made for no request, or named by its peer port */
    unsigned port;
    uint32_t seq;   /* 0: made for no request, or named by its peer port */
    bool by_peer;   /* named by its peer port (the second form above) */
    bool by_parent; /* by_peer: by its traceparent's parent id too */
    uint64_t parent_low; /* by_parent: the low OA_HTTP_HINT_PARENT_BITS bits of that id */
};

/* Whether the traceparent value (len bytes) is a hint, read into h. */
bool oa_http_hint_parse(const char *value, size_t len, struct oa_http_hint *h);

struct oa_server_context;
/* The server request the hint names, if it is still unanswered: an HTTP/1
 * server connection on h->fd from peer port h->port whose request number
 * h->seq has not been answered; by peer port, the one unanswered request
 * that matches on the server connections from h->port (scanning the fd
 * table up to its high-water mark: a load or two per fd, a lock per
 * connection from that port). With a reference the caller drops
 * (oa_server_context_unref); NULL when there is no such request. Called
 * with a client connection locked: it locks only server connections, one
 * at a time, and a server connection's holder never locks another, so no
 * two threads can wait for each other. */
struct oa_server_context *oa_http_hint_resolve(const struct oa_http_hint *h);

#endif
