/* The traced send and receive paths.
 *
 * Sending: under the connection lock, parse what the program is about to
 * send and plan the call (its buffers, with any owed header lines spliced in
 * at their stream offsets); release the lock for the system call itself, so a
 * blocked send never holds up a reader of the same connection; lock again to
 * account for what the kernel took. The program is told only how many of its
 * own bytes went out; if a call moved only injected bytes, it is repeated, so
 * that it never returns 0 for a non-empty buffer. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "wire/conn_io.h"
#include "base/guard.h"
#include "wire/protocol.h"
#include "wire/splice.h"
#include "sys/real_libc.h"
#include "base/log.h"

#define PLAN_STACK_SEGMENTS 64
/* beyond this many buffers in one call we do not splice (IOV_MAX is 1024) */
#define MAX_PROGRAM_IOVECS (IOV_MAX - 2 * OA_SPLICE_MAX)


static ssize_t pass_through(const struct oa_send_call *call)
{
    switch (call->kind) {
    case OA_CALL_WRITE:
        return oa_libc.write(call->fd, call->buf, call->len);
    case OA_CALL_SEND:
        return oa_libc.send(call->fd, call->buf, call->len, call->flags);
    case OA_CALL_SENDTO:
        return oa_libc.sendto(call->fd, call->buf, call->len, call->flags, NULL, 0);
    case OA_CALL_SENDMSG:
        return oa_libc.sendmsg(call->fd, call->msg, call->flags);
    case OA_CALL_WRITEV:
        return oa_libc.writev(call->fd, call->iov, call->iovcnt);
    }
    errno = EINVAL;
    return -1;
}

static ssize_t send_spliced(const struct oa_send_call *call, struct iovec *v, int nv)
{
    if (call->kind == OA_CALL_WRITE || call->kind == OA_CALL_WRITEV)
        return oa_libc.writev(call->fd, v, nv);
    struct msghdr m;
    if (call->msg != NULL)
        m = *call->msg;
    else
        memset(&m, 0, sizeof(m));
    m.msg_iov = v;
    m.msg_iovlen = (size_t)nv;
    return oa_libc.sendmsg(call->fd, &m, call->flags);
}

/* The program's call (with the spliced buffers when nv > 0), made with our
 * bookkeeping flag down (see oa_io_send). Inline in the two calls every
 * traced send makes one of (send_as_is, send_traced's loop). */
static inline __attribute__((always_inline)) ssize_t syscall_unguarded(const struct oa_send_call *call, struct iovec *v,
                                                                   int nv)
{
    oa_in_library--;
    ssize_t r = nv > 0 ? send_spliced(call, v, nv) : pass_through(call);
    oa_in_library++;
    return r;
}

/* The program's call as it is, where we let it go untraced: one copy. */
static __attribute__((noinline)) ssize_t pass_unguarded(const struct oa_send_call *call)
{
    return syscall_unguarded(call, NULL, 0);
}

bool oa_io_decide_outgoing(struct oa_conn *c, const unsigned char *b, size_t n)
{
    if (oa_in_traced_transfer) {
        /* an HTTP library traces this connection at its own level */
        c->mode = OA_MODE_PASS;
        return false;
    }
    return oa_protocol_decide(c, true, b, n);
}

/* The first non-empty buffer of a call, or NULL. */
static const struct iovec *first_buffer(const struct iovec *iov, int iovcnt)
{
    for (int i = 0; i < iovcnt; i++)
        if (iov[i].iov_len > 0)
            return &iov[i];
    return NULL;
}

/* The start of a call for detection: its first non-empty buffer when that
 * holds OA_PROTOCOL_DETECT_BYTES, else as many of the call's first bytes,
 * gathered across its buffers into room (a writev of a message's length in
 * one buffer and its body in the next). Empty when the call has no byte. */
static struct iovec call_start(const struct iovec *iov, int iovcnt, unsigned char room[OA_PROTOCOL_DETECT_BYTES])
{
    const struct iovec *b = first_buffer(iov, iovcnt);
    if (b == NULL)
        return (struct iovec){NULL, 0};
    if (b->iov_len >= OA_PROTOCOL_DETECT_BYTES)
        return *b;
    size_t n = 0;
    for (int i = (int)(b - iov); i < iovcnt && n < OA_PROTOCOL_DETECT_BYTES; i++) {
        size_t take = iov[i].iov_len < OA_PROTOCOL_DETECT_BYTES - n ? iov[i].iov_len : OA_PROTOCOL_DETECT_BYTES - n;
        memcpy(room + n, iov[i].iov_base, take);
        n += take;
    }
    return (struct iovec){room, n};
}

/* The plan of the common call that owes something: one buffer, in which
 * starts the one injection owed, none of it sent yet (a request head written
 * whole). The same plan as the general walk below, without the walk; -1 when
 * the call is not that case. */
static inline __attribute__((always_inline)) int plan_one_injection(struct oa_splice *sp, const struct iovec *iov, int iovcnt, uint64_t base,
                              struct iovec *v, struct oa_io_segment *seg, int cap, struct oa_io_plan_sums *sums)
{
    if (iovcnt != 1 || sp->count != 1 || cap < 3)
        return -1;
    const struct oa_injection *inj = oa_splice_slot(sp, sp->first);
    size_t len = iov[0].iov_len;
    if (inj->replaces || inj->sent != 0 || inj->at < base || inj->at >= base + len)
        return -1;
    const char *p = iov[0].iov_base;
    size_t before = (size_t)(inj->at - base);
    int nv = 0;
    if (before > 0) {
        v[nv] = (struct iovec){(void *)p, before};
        seg[nv++].injection = -1;
    }
    v[nv] = (struct iovec){inj->bytes, inj->len};
    seg[nv++].injection = 0;
    if (len > before) {
        v[nv] = (struct iovec){(void *)(p + before), len - before};
        seg[nv++].injection = -1;
    }
    *sums = (struct oa_io_plan_sums){len + inj->len, inj->len};
    return nv;
}

/* oa_io_plan's general walk: any buffers, any injections owed. */
static int plan_walk(struct oa_splice *sp, const struct iovec *iov, int iovcnt, uint64_t base,
                     struct iovec *v, struct oa_io_segment *seg, int cap, struct oa_io_plan_sums *sums)
{
    *sums = (struct oa_io_plan_sums){0, 0};
    int nv = 0;
    unsigned k = 0;
    bool spliced = false;
    uint64_t pos = base;
    for (int i = 0; i < iovcnt; i++) {
        const char *p = iov[i].iov_base;
        size_t len = iov[i].iov_len;
        for (;;) {
            struct oa_injection *inj = oa_splice_at(sp, k);
            if (inj == NULL || inj->at >= pos + len)
                break;
            size_t before = inj->at > pos ? (size_t)(inj->at - pos) : 0;
            if (nv + 2 > cap)
                return -1;
            if (before > 0) {
                v[nv] = (struct iovec){(void *)p, before};
                seg[nv++].injection = -1;
            }
            p += before;
            len -= before;
            pos += before;
            spliced = true;
            if (inj->replaces) {
                size_t off = (size_t)(pos - inj->at);
                size_t take = inj->len - off < len ? inj->len - off : len;
                v[nv] = (struct iovec){inj->bytes + off, take};
                seg[nv++].injection = -1;
                p += take;
                len -= take;
                pos += take;
                if (off + take < inj->len)
                    break; /* continues in the next buffer */
            } else {
                v[nv] = (struct iovec){inj->bytes + inj->sent, inj->len - inj->sent};
                seg[nv++].injection = (int)k;
            }
            k++;
        }
        if (len > 0) {
            if (nv + 1 > cap)
                return -1;
            v[nv] = (struct iovec){(void *)p, len};
            seg[nv++].injection = -1;
        }
        pos += len;
    }
    return spliced ? nv : 0;
}

/* Inlined in send_traced (a client's request head: every traced request
 * of a client plans once); tls_io.c calls oa_io_plan. */
static inline __attribute__((always_inline)) int plan(struct oa_splice *sp, const struct iovec *iov, int iovcnt,
                                                      uint64_t base, struct iovec *v, struct oa_io_segment *seg,
                                                      int cap, struct oa_io_plan_sums *sums)
{
    int one = plan_one_injection(sp, iov, iovcnt, base, v, seg, cap, sums);
    return one >= 0 ? one : plan_walk(sp, iov, iovcnt, base, v, seg, cap, sums);
}

int oa_io_plan(struct oa_splice *sp, const struct iovec *iov, int iovcnt, uint64_t base,
               struct iovec *v, struct oa_io_segment *seg, int cap, struct oa_io_plan_sums *sums)
{
    return plan(sp, iov, iovcnt, base, v, seg, cap, sums);
}

static size_t account_walk(struct oa_conn *c, const struct iovec *v, const struct oa_io_segment *seg, int nv,
                           size_t r);

/* oa_io_account, inlined in send_traced like plan(). */
static inline __attribute__((always_inline)) size_t account(struct oa_conn *c, const struct iovec *v,
                                                            const struct oa_io_segment *seg, int nv,
                                                            const struct oa_io_plan_sums *sums, size_t r)
{
    /* the common case (plan_one_injection's plan, all of it sent): the
     * owed lines are gone and the rest was the program's, in one step */
    size_t inj_n = sums->whole_injection;
    if (inj_n != 0 && r == sums->total && oa_splice_sent_whole(&c->proto->out, inj_n, r - inj_n)) {
        if (c->proto->gave_up)
            c->mode = OA_MODE_PASS;
        return r - inj_n;
    }
    return account_walk(c, v, seg, nv, r);
}

size_t oa_io_account(struct oa_conn *c, const struct iovec *v, const struct oa_io_segment *seg, int nv,
                     const struct oa_io_plan_sums *sums, size_t r)
{
    return account(c, v, seg, nv, sums, r);
}

/* oa_io_account's walk over the segments: any plan, any part of it sent. */
static size_t account_walk(struct oa_conn *c, const struct iovec *v, const struct oa_io_segment *seg, int nv,
                           size_t r)
{
    size_t app = 0;
    for (int i = 0; i < nv && r > 0; i++) {
        size_t n = v[i].iov_len < r ? v[i].iov_len : r;
        r -= n;
        if (seg[i].injection < 0)
            app += n;
        else
            oa_splice_sent_injection(&c->proto->out, (unsigned)seg[i].injection, n);
    }
    oa_splice_sent_app(&c->proto->out, app);
    if (oa_splice_settle(&c->proto->out) && c->proto->gave_up)
        c->mode = OA_MODE_PASS;
    return app;
}

void oa_io_relock_lost(struct oa_conn *c, struct oa_proto_conn *x)
{
    if (x->orphaned && x->busy == 0) {
        int saved = errno; /* the system call's, which the caller reports */
        oa_protocol_free(x);
        errno = saved;
    }
    oa_conn_unlock(c);
}

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
    size_t n = 0;
    for (int i = 0; i < iovcnt; i++)
        n += iov[i].iov_len;
    return n;
}

/* The call when nothing is owed (every call but a request head's, so every
 * call of a server): the program's buffers go as they are. What the loop of
 * send_traced does for a plan of no segments, without making one. c locked
 * on entry, not on return. Nothing after the system call can change errno
 * (the relock keeps it, the accounting is arithmetic): no save. */
static ssize_t send_as_is(struct oa_conn *c, const struct oa_send_call *call, struct oa_proto_conn *x, int fd)
{
    x->busy++;
    oa_conn_unlock(c);
    ssize_t r = syscall_unguarded(call, NULL, 0);
    if (oa_io_relock(c, fd, x)) {
        if (r >= 0)
            oa_splice_sent_app(&x->out, (size_t)r);
        oa_conn_unlock(c);
    }
    return r;
}

static ssize_t send_traced(struct oa_conn *c, const struct oa_send_call *call)
{
    struct iovec one;
    const struct iovec *iov = call->iov;
    int iovcnt = call->iovcnt;
    if (call->kind == OA_CALL_WRITE || call->kind == OA_CALL_SEND || call->kind == OA_CALL_SENDTO) {
        one = (struct iovec){(void *)call->buf, call->len};
        iov = &one;
        iovcnt = 1;
    }
    if (iovcnt < 0 || iovcnt > MAX_PROGRAM_IOVECS || (iovcnt > 0 && iov == NULL))
        return pass_unguarded(call);

    int fd = call->fd;
    if (!oa_conn_lock(c, fd))
        return pass_unguarded(call);
    if (c->mode == OA_MODE_UNDECIDED) {
        unsigned char start[OA_PROTOCOL_DETECT_BYTES];
        struct iovec first = call_start(iov, iovcnt, start);
        if (first.iov_len == 0 || !oa_io_decide_outgoing(c, first.iov_base, first.iov_len)) {
            oa_conn_unlock(c);
            return pass_unguarded(call);
        }
    }
    struct oa_proto_conn *x = c->proto;
    if (c->mode != OA_MODE_PARSING || x == NULL) {
        oa_conn_unlock(c);
        return pass_unguarded(call);
    }
    if (!x->gave_up) {
        x->protocol->outgoing(c, iov, iovcnt);
        if (x->next != NULL) {
            /* the rest of the call is the next protocol's (its offsets
             * skip what the old one parsed) */
            x = oa_protocol_take_next(c);
            if (!x->gave_up)
                x->protocol->outgoing(c, iov, iovcnt);
        }
    }
    if (x->out.count == 0)
        return send_as_is(c, call, x, fd);

    struct iovec v_stack[PLAN_STACK_SEGMENTS];
    struct oa_io_segment seg_stack[PLAN_STACK_SEGMENTS];
    struct iovec *v = v_stack;
    struct oa_io_segment *seg = seg_stack;
    int cap = PLAN_STACK_SEGMENTS;
    if (iovcnt + 2 * OA_SPLICE_MAX > PLAN_STACK_SEGMENTS) {
        cap = iovcnt + 2 * OA_SPLICE_MAX;
        v = malloc(sizeof(*v) * (size_t)cap);
        seg = malloc(sizeof(*seg) * (size_t)cap);
        if (v == NULL || seg == NULL) {
            free(v);
            free(seg);
            oa_conn_unlock(c);
            return pass_unguarded(call);
        }
    }

    ssize_t result;
    int err;
    for (;;) {
        /* nothing owed any more (the injection went out with an earlier
         * go): the program's buffers go as they are */
        struct oa_io_plan_sums sums = {0, 0};
        int nv = x->out.count > 0 ? plan(&x->out, iov, iovcnt, x->out.sent, v, seg, cap, &sums) : 0;
        x->busy++;
        oa_conn_unlock(c);
        ssize_t r = syscall_unguarded(call, v, nv);
        err = errno;
        if (!oa_io_relock(c, fd, x)) {
            /* closed under us: report what the kernel said, as best we can */
            result = r;
            break;
        }
        if (r < 0) {
            result = r;
            oa_conn_unlock(c);
            break;
        }
        size_t app;
        if (nv > 0) {
            app = account(c, v, seg, nv, &sums, (size_t)r);
        } else {
            app = (size_t)r;
            oa_splice_sent_app(&x->out, app);
        }
        if (app > 0 || r == 0 || iov_total(iov, iovcnt) == 0) {
            result = (ssize_t)app;
            oa_conn_unlock(c);
            break;
        }
        /* only injected bytes went out: go again for the program's bytes;
         * a non-blocking socket then says EAGAIN, which is the truth for
         * the program's bytes */
    }
    if (v != v_stack) {
        free(v);
        free(seg);
    }
    errno = err;
    return result;
}

/* Our bookkeeping runs with oa_in_library raised, so that a signal handler
 * interrupting it (inside malloc, or holding a connection lock) and calling a
 * hook passes through instead of re-entering it; the system call itself runs
 * with the flag down: a thread blocked in send() holds nothing, and a
 * handler's own traced call is fine there. */
ssize_t oa_io_send(struct oa_conn *c, const struct oa_send_call *call)
{
    oa_in_library++;
    ssize_t r = send_traced(c, call);
    oa_in_library--;
    return r;
}

/* Whether a receive asked for no byte at all (its buffers all empty). */
static bool no_room(const struct iovec *iov, int iovcnt)
{
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > 0)
            return false;
    }
    return true;
}

/* Inlined in both entry points: read(), recv() and the like pass one buffer
 * (oa_io_received_buf), and that copy knows it. */
static inline __attribute__((always_inline)) void received(struct oa_conn *c, int fd, const struct iovec *iov, int iovcnt,
                                                          ssize_t r, int flags)
{
    if (flags & MSG_PEEK)
        return;
    int err = errno;
    if (r < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR))
        return;
    if (!oa_conn_lock(c, fd)) {
        errno = err;
        return;
    }
    if (flags & MSG_TRUNC) {
        /* the bytes were discarded unseen */
        if (c->proto != NULL)
            oa_protocol_give_up(c);
        else
            c->mode = OA_MODE_PASS;
    } else if (r < 0) {
        if (c->proto != NULL)
            c->proto->io_error = err;
    } else if (r == 0) {
        /* end of stream (unless no byte was asked for: a read of empty
         * buffers, which some programs make, returns 0 too); a connection
         * that never sent a byte stays undecided */
        if (c->proto != NULL && !c->proto->gave_up && !no_room(iov, iovcnt))
            c->proto->protocol->eof(c);
    } else {
        if (c->mode == OA_MODE_UNDECIDED) {
            /* the first bytes of the connection are the peer's */
            const struct iovec *b = first_buffer(iov, iovcnt);
            size_t n = b != NULL ? (b->iov_len < (size_t)r ? b->iov_len : (size_t)r) : 0;
            if (n == 0)
                c->mode = OA_MODE_PASS;
            else
                oa_protocol_decide(c, false, b->iov_base, n);
        }
        if (c->mode == OA_MODE_PARSING) {
            size_t left = (size_t)r;
            for (int i = 0; i < iovcnt && left > 0; i++) {
                struct oa_proto_conn *x = c->proto;
                if (x == NULL || x->gave_up)
                    break;
                size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
                left -= n;
                if (n == 0)
                    continue;
                x->protocol->incoming(c, iov[i].iov_base, n);
                if (x->next != NULL) {
                    size_t at = x->next_at;
                    struct oa_proto_conn *y = oa_protocol_take_next(c);
                    if (y != x && !y->gave_up && at < n)
                        y->protocol->incoming(c, (const char *)iov[i].iov_base + at, n - at);
                }
            }
        }
    }
    oa_conn_unlock(c);
    errno = err;
}

void oa_io_received(struct oa_conn *c, int fd, const struct iovec *iov, int iovcnt, ssize_t r, int flags)
{
    oa_in_library++; /* see oa_io_send */
    received(c, fd, iov, iovcnt, r, flags);
    oa_in_library--;
}

ssize_t oa_io_received_buf(struct oa_conn *c, int fd, const void *buf, ssize_t r, int flags)
{
    /* its callers never pass a read of no bytes (the hooks let those
     * through): a 0 here is the end of the stream */
    struct iovec one = {(void *)buf, r > 0 ? (size_t)r : 1};
    oa_in_library++;
    received(c, fd, &one, 1, r, flags);
    oa_in_library--;
    return r;
}

void oa_io_sendfile(struct oa_conn *c, int fd, ssize_t r)
{
    int err = errno;
    oa_in_library++;
    if (oa_conn_lock(c, fd)) {
        if (c->mode == OA_MODE_PARSING && c->proto != NULL && !c->proto->gave_up)
            c->proto->protocol->skipped(c, (size_t)r);
        else if (c->mode == OA_MODE_UNDECIDED)
            c->mode = OA_MODE_PASS;
        oa_conn_unlock(c);
    }
    oa_in_library--;
    errno = err;
}
