/* PostgreSQL protocol 3 framing, one direction of a connection: cuts the
 * stream into messages whatever the pieces it arrives in (a byte at a
 * time is fine), with bounded memory.
 *
 * A message is a type octet and an Int32 length that counts itself but not
 * the type; the first messages a client sends (StartupMessage, SSLRequest,
 * GSSENCRequest, CancelRequest) have no type octet. The framer keeps at
 * most its buffer's size of a message's body, and only for the types it is
 * told to keep: the rest of a message is skipped by counting. A length no
 * message can have means the stream is not (or no longer) PostgreSQL: the
 * framer says so and reads nothing more. */
#ifndef OA_PG_FRAMER_H
#define OA_PG_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/short_copy.h"

/* An untyped message (startup phase) is at most this long, length included
 * (the server's own limit, MAX_STARTUP_PACKET_LENGTH). */
#define OA_PG_STARTUP_MAX 10000
/* No message is longer than 1 GiB (the server's PQ_LARGE_MESSAGE_LIMIT). */
#define OA_PG_MESSAGE_MAX 0x40000000u

enum oa_pg_frame_event {
    OA_PG_NEED_MORE = 0, /* every byte given was used */
    OA_PG_MESSAGE,       /* a message is complete: type, len, buf[0..kept) */
    OA_PG_BAD,           /* not a message length: stop */
};

struct oa_pg_framer {
    char *buf;             /* the caller's room for kept bodies */
    uint32_t buf_size;
    uint32_t keep[8];      /* bitmap of the types whose bodies are kept */
    bool untyped;          /* the next message has no type octet */
    bool bad;
    uint8_t state;         /* where in the current message */
    uint8_t len_have;      /* length octets read */
    char type;             /* the current message's type; 0 untyped */
    uint32_t len;          /* the body's length (the length field less 4) */
    uint32_t have;         /* body bytes read */
    uint32_t kept;         /* body bytes in buf */
    uint32_t len_value;
};

/* buf: room for the bodies kept; untyped: the stream starts with an
 * untyped message. Keeps no type's body until oa_pg_framer_keep. */
void oa_pg_framer_init(struct oa_pg_framer *f, char *buf, size_t buf_size, bool untyped);
/* Bodies of messages of this type are kept (untyped ones always are). */
void oa_pg_framer_keep(struct oa_pg_framer *f, char type);
/* The next message has no type octet (after an SSLRequest refused, the
 * client sends its StartupMessage); only between messages. */
void oa_pg_framer_expect_untyped(struct oa_pg_framer *f);

/* Reads from b[0..n) up to the end of the next message: returns the bytes
 * used and sets *ev. After OA_PG_MESSAGE the message is f->type, f->len
 * (its whole body's length) and f->buf[0..f->kept) (kept < len: cut); it
 * is forgotten at the next call. */
static inline __attribute__((always_inline)) size_t oa_pg_framer_feed(struct oa_pg_framer *f, const char *b, size_t n,
                                                                      enum oa_pg_frame_event *ev);

/* ---- the framer's insides: oa_pg_framer_feed's common case is inlined
 * where it is called (a message costs a call otherwise) ---- */

/* state: between messages */
#define OA_PG_AT_TYPE 0

/* Whether the current message's body is kept. */
static inline bool oa_pg_framer_keeps(const struct oa_pg_framer *f)
{
    unsigned char t = (unsigned char)f->type;
    return f->type == 0 || (f->keep[t >> 5] & (1u << (t & 31))) != 0;
}

/* The length field is complete: is it one a message may have? */
static inline bool oa_pg_framer_length_ok(const struct oa_pg_framer *f)
{
    uint32_t v = f->len_value;
    if (f->type == 0)
        return v >= 8 && v <= OA_PG_STARTUP_MAX;
    return v >= 4 && v <= OA_PG_MESSAGE_MAX;
}

/* oa_pg_framer_feed through the states, a byte at a time where need be. */
size_t oa_pg_framer_feed_states(struct oa_pg_framer *f, const char *b, size_t n, enum oa_pg_frame_event *ev);

/* A typed message whole at b[0..n), read between messages (the common
 * case: a client's Bind, Execute, Sync in one send, a server's replies in
 * one read): framed in one step, not through the states. Returns its
 * bytes, or 0 when it is not whole here (or its length is bad: the states
 * say so), the framer untouched but for its header fields. */
static inline __attribute__((always_inline)) size_t oa_pg_framer_whole_message(struct oa_pg_framer *f, const char *b, size_t n)
{
    if (n < 5)
        return 0;
    f->type = b[0];
    f->len_value = (uint32_t)(unsigned char)b[1] << 24 | (uint32_t)(unsigned char)b[2] << 16 |
                   (uint32_t)(unsigned char)b[3] << 8 | (unsigned char)b[4];
    if (!oa_pg_framer_length_ok(f) || f->len_value - 4 > n - 5)
        return 0;
    uint32_t len = f->len_value - 4;
    uint32_t copy = 0;
    if (len > 0 && oa_pg_framer_keeps(f)) {
        copy = len < f->buf_size ? len : f->buf_size;
        oa_short_copy(f->buf, b + 5, copy);
    }
    f->len_have = 4;
    f->len = len;
    f->have = len;
    f->kept = copy;
    return 5 + (size_t)len;
}

static inline __attribute__((always_inline)) size_t oa_pg_framer_feed(struct oa_pg_framer *f, const char *b, size_t n,
                                                                      enum oa_pg_frame_event *ev)
{
    size_t whole;
    if (f->state == OA_PG_AT_TYPE && !f->untyped && !f->bad && (whole = oa_pg_framer_whole_message(f, b, n)) > 0) {
        *ev = OA_PG_MESSAGE;
        return whole;
    }
    return oa_pg_framer_feed_states(f, b, n, ev);
}

/* Between two messages (no byte of the next one read yet). */
static inline bool oa_pg_framer_at_boundary(const struct oa_pg_framer *f)
{
    return f->state == 0;
}

#endif
