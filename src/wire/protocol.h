/* The protocol interface: what the wire layer knows of a protocol.
 *
 * A protocol (src/protocols/<name>/) registers a struct oa_protocol at
 * start-up. The wire layer offers each connection's first bytes, in the
 * direction they flow, to the registered protocols in order; the first that
 * claims them opens its per-connection state, which begins with a struct
 * oa_proto_conn (the part the wire layer reads and writes: the splice of
 * outgoing bytes, the senders in flight, whether the protocol gave up).
 * From then on the wire layer hands it every byte the program sends
 * (before it is sent, so that the protocol can queue splices) and receives,
 * the bytes sendfile moved unseen, the end of the incoming stream, and the
 * connection's end. Everything else (pending requests, spans, metrics, the
 * parent rules) is the protocol's, through the layers below it.
 *
 * Every callback runs with the connection's lock held, on the program's
 * thread: no blocking, no allocation beyond the protocol's own pools. */
#ifndef OA_PROTOCOL_H
#define OA_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "wire/fd_table.h"
#include "wire/splice.h"

struct oa_protocol;
struct oa_span;
struct oa_server_context;

/* A runtime hint's question to the server connections of one peer port
 * (protocols/http1/http_hint.h): which of their requests still unanswered
 * match it. The protocols add their matches (oa_unanswered_offer in
 * protocols/common/unanswered.h); the caller takes `found` only when
 * exactly one matched over all the connections asked. */
struct oa_unanswered_query {
    bool by_parent;                   /* else: every unanswered request matches */
    uint64_t parent_low;              /* by_parent: the low `bits` bits of the parent id
                                       * that the request's traceparent carried */
    unsigned bits;
    unsigned count;                   /* matches so far (counting stops at 2) */
    struct oa_server_context *found;  /* the first match, with a reference the caller drops */
};

/* What the crash capture (src/lifecycle/crash.c) asks of every request in
 * flight, from a signal handler: a finished copy of its span, failed with
 * error.type `error` at `end` (unix ns), built in `scratch` (a full span
 * block) and handed to emit. Nothing of the connection is written. */
struct oa_crash_walk {
    struct oa_span *scratch;
    const char *error;
    uint64_t end;
    void (*emit)(const struct oa_span *s, void *arg);
    void *arg;
};

/* Outgoing detection sees at least this many of a call's first bytes,
 * gathered across its buffers (a binary protocol's header). */
#define OA_PROTOCOL_DETECT_BYTES 16

/* The start of every protocol's per-connection state. */
struct oa_proto_conn {
    const struct oa_protocol *protocol;
    struct oa_splice out;   /* what is owed to the outgoing stream */
    int io_error;           /* errno of a failed receive, for error.type */
    /* senders between their two locked sections; a retired state waits for
     * them before it is freed */
    int busy;
    bool orphaned;
    bool gave_up;           /* no more parsing; only owed spliced bytes */
    /* The state the connection switches to (oa_protocol_switch), put in
     * place by the wire layer once the callback that asked returns; and,
     * asked from incoming, how many octets of the buffer being read were
     * still this protocol's. */
    struct oa_proto_conn *next;
    size_t next_at;
};

struct oa_protocol {
    const char *name;
    /* Whether the connection speaks this protocol, from the first bytes
     * seen in one direction (outgoing: the program sends them). b holds n >
     * 0 bytes of one call: outgoing, its first buffer, or at least its first
     * OA_PROTOCOL_DETECT_BYTES bytes when the call has that many; incoming,
     * the first buffer received. */
    bool (*detect)(enum oa_conn_role role, bool outgoing, const unsigned char *b, size_t n);
    /* Its per-connection state, from the protocol's pool; NULL when none is
     * left (the connection is then passed through). */
    struct oa_proto_conn *(*open)(enum oa_conn_role role);
    /* The program is about to send these bytes: parse them, queue splices. */
    void (*outgoing)(struct oa_conn *c, const struct iovec *iov, int iovcnt);
    /* The program received these n > 0 bytes: one buffer of the call at a
     * time, in order (the wire layer clips the call's buffers to what it
     * received, and stops once the protocol gives up). */
    void (*incoming)(struct oa_conn *c, const char *b, size_t n);
    /* n outgoing bytes went by unseen (sendfile). */
    void (*skipped)(struct oa_conn *c, size_t n);
    /* The incoming stream ended (a read returned 0). */
    void (*eof)(struct oa_conn *c);
    /* The connection ends (close, or given up for good): finish what is
     * pending, err = errno or 0. */
    void (*end)(struct oa_conn *c, int err);
    /* Parsing stops for good: drop what is pending (its spans unsent). */
    void (*give_up)(struct oa_conn *c);
    /* A fork child: the pending requests are the parent's; forget them
     * without ending them. */
    void (*disown)(struct oa_proto_conn *p);
    /* Back to the protocol's pool. */
    void (*free)(struct oa_proto_conn *p);
    /* The crash capture: the walk over each request pending on p (see
     * struct oa_crash_walk), without the connection's lock, which the
     * crashed thread may hold: read, checked, never written. May be NULL. */
    void (*crash)(const struct oa_proto_conn *p, const struct oa_crash_walk *w);
    /* Optional (NULL: the protocol stops at TLS). A TLS session starts on
     * the socket of c, which the protocol itself asked for in plaintext
     * (MySQL's SSLRequest): the state that parses the session's plaintext,
     * continuing c's conversation (its `protocol` is set by the wire
     * layer), or NULL. c is given up afterwards, as every socket under TLS. */
    struct oa_proto_conn *(*tls_follows)(struct oa_conn *c);
    /* Offered the clients of Unix-domain stream sockets too (the database
     * protocols: psql's host=/dir). The others see TCP only: HTTP over a
     * Unix socket (a container engine's API) is passed through untouched,
     * no span and no traceparent, as before such sockets were followed.
     * (The plaintext of a TLS session is offered to every protocol, as it
     * always was, whatever socket carries it.) */
    bool unix_sockets;
    /* Optional (NULL: not switched to). c, parsed by another protocol so
     * far, continues in this one from its current offsets (HTTP/1 answered
     * `101` to `Upgrade: h2c`): the state that parses what follows, c's
     * state (c->proto) still the other protocol's; handover is what the
     * other protocol passes on (a request in flight that this one
     * completes; the two agree on its type), or NULL. NULL: not followed. */
    struct oa_proto_conn *(*switch_in)(struct oa_conn *c, const void *handover);
    /* Optional (NULL: never matches). A runtime hint that names a server
     * request by its peer port (a handler on a thread pool, grpcio): q
     * takes the requests of c, a server connection from that port, still
     * unanswered and matching q. Called with c locked, by a thread that
     * holds at most a client connection's lock. */
    void (*unanswered)(struct oa_conn *c, struct oa_unanswered_query *q);
};

/* At start-up, in order of precedence (a protocol whose detection is the
 * more specific first). */
#define OA_PROTOCOLS_MAX 8
void oa_protocol_register(const struct oa_protocol *p);
/* The crash capture's walk over one connection read without its lock (see
 * oa_fd_table_crash_walk): its protocol's requests in flight, when the
 * connection and its state check out. */
void oa_protocol_crash_walk_conn(const struct oa_conn *c, const struct oa_crash_walk *w);

/* Whether p is a registered protocol (the crash capture checks a state's
 * protocol pointer before it calls through it). */
bool oa_protocol_is_registered(const struct oa_protocol *p);
/* Forgets every registration (unit tests). */
void oa_protocol_reset(void);

/* Decides an undecided connection from its first bytes in one direction:
 * opens the state of the protocol that claims them (mode PARSING), else
 * passes the connection through for good. True when it is now parsed. */
bool oa_protocol_decide(struct oa_conn *c, bool outgoing, const unsigned char *b, size_t n);

/* From a protocol's outgoing or incoming callback: the connection goes on
 * in the registered protocol named `name` (its switch_in), after the
 * octets this protocol parsed of the outgoing stream, or (incoming) after
 * `at` octets of the buffer being read. This protocol parses nothing more;
 * the wire layer puts the new state in place when the callback returns
 * (oa_protocol_take_next) and hands it the rest of that buffer. False when
 * there is no such protocol or state: nothing changes. */
bool oa_protocol_switch(struct oa_conn *c, const char *name, const void *handover, size_t at);

/* The wire layer, after a callback that switched: the next state replaces
 * c's (which is freed without ending anything, once its senders are out)
 * and continues its splice's offsets; when the old state still owes
 * spliced octets the switch is refused and the old one gives up. Returns
 * c->proto. */
struct oa_proto_conn *oa_protocol_take_next(struct oa_conn *c);

/* Gives the connection's protocol up: the protocol drops what is pending,
 * the splice keeps only what it began; passed through once nothing is owed. */
void oa_protocol_give_up(struct oa_conn *c);

/* Ends and frees (or, while senders are in flight, orphans) the state of a
 * connection that goes away; c->proto is NULL afterwards. err as for end. */
void oa_protocol_retire(struct oa_conn *c, int err);

/* Frees a state: its splices and the protocol's own. */
void oa_protocol_free(struct oa_proto_conn *p);

#endif
