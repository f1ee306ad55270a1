/* The splice: bytes the shim adds to what the program sends (trace context
 * in a request head, and the length field of a frame or message that then
 * grows), with the exact accounting of partial writes that makes the program
 * see its own byte counts.
 *
 * Offsets are stream offsets of the program's outgoing bytes (0 = its first
 * byte on the connection). A protocol parses what the program is about to
 * send and queues, in stream order, insertions (bytes added before offset
 * `at`) and replacements (`len` bytes from `at` go out as ours instead: a
 * length field patched to count the insertion, a forwarded traceparent's
 * value). The send path (conn_io.c, tls_io.c) plans each call around what is
 * owed and reports what the kernel took; a call that moved only added bytes
 * is repeated, so that the program never sees 0 for a non-empty buffer. */
#ifndef OA_SPLICE_H
#define OA_SPLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Splices owed at once on one connection: every connection holds
 * OA_SPLICE_INLINE (a pipelined burst of requests); a protocol that opens
 * many requests in one write (HTTP/2's streams, three splices each) lends
 * the ring OA_SPLICE_MAX - OA_SPLICE_INLINE more from its own state, so
 * that an idle HTTP/1 connection does not carry them. */
#define OA_SPLICE_INLINE 4
#define OA_SPLICE_MAX 16

struct oa_injection {
    uint64_t at;           /* stream offset */
    uint32_t len;
    uint32_t sent;         /* bytes of it that went out */
    bool replaces;         /* len program bytes at `at` go out as these */
    /* goes out once the splice queued just before it began (a length
     * patched to count this insertion): a give-up keeps or drops such a
     * chain whole */
    bool with_previous;
    char *bytes;           /* inline_bytes or a malloc'd buffer */
    char inline_bytes[96];
};

struct oa_splice {
    /* Outgoing bytes are parsed before they are sent (to find where to
     * splice); a program resends whatever the kernel did not take, so the
     * bytes between sent and parsed are not parsed twice. */
    uint64_t parsed;
    uint64_t sent;
    /* NULL, or OA_SPLICE_MAX - OA_SPLICE_INLINE slots lent by the protocol */
    struct oa_injection *extra;
    unsigned first, count; /* a ring, in stream order */
    struct oa_injection inj[OA_SPLICE_INLINE];
};

/* How many splices the ring holds. */
static inline unsigned oa_splice_capacity(const struct oa_splice *sp)
{
    return sp->extra != NULL ? OA_SPLICE_MAX : OA_SPLICE_INLINE;
}

/* The ring's slot at position pos (0 <= pos < capacity). */
static inline struct oa_injection *oa_splice_slot(struct oa_splice *sp, unsigned pos)
{
    return pos < OA_SPLICE_INLINE ? &sp->inj[pos] : &sp->extra[pos - OA_SPLICE_INLINE];
}

/* Lends the ring OA_SPLICE_MAX - OA_SPLICE_INLINE more slots (the
 * protocol's, living as long as its state), while nothing is owed. */
static inline void oa_splice_lend(struct oa_splice *sp, struct oa_injection *extra)
{
    if (sp->count == 0) {
        sp->first = 0;
        sp->extra = extra;
    }
}

/* The i-th owed splice (0 = the next to go out), or NULL. */
static inline struct oa_injection *oa_splice_at(struct oa_splice *sp, unsigned i)
{
    return i < sp->count ? oa_splice_slot(sp, (sp->first + i) % oa_splice_capacity(sp)) : NULL;
}

/* Room for one more splice of need bytes: its buffer (inline, or malloc'd
 * when larger), to be filled and then queued by oa_splice_commit. NULL when
 * the ring is full or memory is short. */
struct oa_injection *oa_splice_reserve(struct oa_splice *sp, size_t need);
/* Queues the reserved splice: len bytes, inserted at (or, replaces, put in
 * place of the program's len bytes at) stream offset at. */
void oa_splice_commit(struct oa_splice *sp, struct oa_injection *inj, uint64_t at, size_t len, bool replaces);
/* Marks the last queued splice as going with the one before it (see
 * struct oa_injection). */
static inline void oa_splice_bind_last(struct oa_splice *sp)
{
    oa_splice_slot(sp, (sp->first + sp->count - 1) % oa_splice_capacity(sp))->with_previous = true;
}
/* Takes the last queued splice back, before any of it went out (a chain
 * whose second part found no room). */
void oa_splice_cancel_last(struct oa_splice *sp);
/* The two in one, from a copy of bytes. */
bool oa_splice_insert(struct oa_splice *sp, uint64_t at, const void *bytes, size_t len);
bool oa_splice_replace(struct oa_splice *sp, uint64_t at, const void *bytes, size_t len);

/* Accounting, after a call: n of the program's bytes went out; n bytes of
 * the i-th splice went out; drop what went out whole (true when nothing is
 * owed any more). */
void oa_splice_sent_app_owed(struct oa_splice *sp, size_t n);
static inline void oa_splice_sent_app(struct oa_splice *sp, size_t n)
{
    /* nothing owed (every call of a server, a client's but its request
     * heads'): no replacement to account, inline */
    if (__builtin_expect(sp->count == 0, 1)) {
        sp->sent += n;
        if (sp->parsed < sp->sent)
            sp->parsed = sp->sent;
        return;
    }
    oa_splice_sent_app_owed(sp, n);
}
void oa_splice_sent_injection(struct oa_splice *sp, unsigned i, size_t n);
bool oa_splice_settle(struct oa_splice *sp);
/* The common case in one step: the one splice owed (an insertion, inj_n
 * bytes of it still owed) and app program bytes all went out. False, with
 * nothing changed, when the call was not that case. Inline: a client's
 * every request head ends here. */
static inline bool oa_splice_sent_whole(struct oa_splice *sp, size_t inj_n, size_t app)
{
    if (sp->count != 1)
        return false;
    struct oa_injection *inj = oa_splice_slot(sp, sp->first);
    /* a replacement's progress follows the program's bytes (sent_app): the
     * long way */
    if (inj->replaces || inj->sent + inj_n != inj->len)
        return false;
    sp->sent += app;
    if (sp->parsed < sp->sent)
        sp->parsed = sp->sent;
    inj->sent = inj->len;
    /* gone: its buffer too, when it was not the inline one */
    if (inj->bytes != inj->inline_bytes)
        free(inj->bytes);
    inj->bytes = NULL;
    sp->first = (sp->first + 1) % oa_splice_capacity(sp);
    sp->count = 0;
    return true;
}
/* Bytes the program sent that nobody parsed (sendfile): both marks move. */
void oa_splice_skip(struct oa_splice *sp, size_t n);

/* Giving up: splices not begun are not sent; one begun is finished, or the
 * peer would see a broken line or frame, and so is one that goes with a
 * splice that began. True when nothing is owed. */
bool oa_splice_drop_unsent(struct oa_splice *sp);
/* Frees every owed splice's buffer (the connection's state is freed). */
void oa_splice_release_all(struct oa_splice *sp);

#endif
