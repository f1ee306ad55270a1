/* The traced I/O paths, called by the hooks for fds that oa_fd_peek found.
 * Sending performs the real call itself (through oa_libc) and returns exactly
 * what the program must see, with errno as the real call left it. Receiving
 * is told what the real call returned and changes neither result nor errno. */
#ifndef OA_CONN_IO_H
#define OA_CONN_IO_H

#include <sys/socket.h>
#include <sys/uio.h>

#include "wire/fd_table.h"
#include "wire/protocol.h"

enum oa_call_kind {
    OA_CALL_WRITE = 0,
    OA_CALL_SEND,
    OA_CALL_SENDTO,
    OA_CALL_SENDMSG,
    OA_CALL_WRITEV,
};

/* One send-side call exactly as the program made it. Single-buffer calls use
 * buf/len; the others iov/iovcnt (and msg for sendmsg). */
struct oa_send_call {
    enum oa_call_kind kind;
    int fd;
    const void *buf;
    size_t len;
    const struct iovec *iov;
    int iovcnt;
    int flags;
    const struct msghdr *msg;
};

ssize_t oa_io_send(struct oa_conn *c, const struct oa_send_call *call);

void oa_io_received(struct oa_conn *c, int fd, const struct iovec *iov, int iovcnt, ssize_t r, int flags);
/* Returns r, so that a hook's last act is a tail call. */
ssize_t oa_io_received_buf(struct oa_conn *c, int fd, const void *buf, ssize_t r, int flags);

/* sendfile moved r body bytes out of fd without us seeing them. */
void oa_io_sendfile(struct oa_conn *c, int fd, ssize_t r);

/* ---- building blocks of the send path, shared with src/tls_io.c ---- */

/* What one planned iovec is: the program's bytes, or injection i. */
struct oa_io_segment {
    int injection; /* -1 for program bytes */
};

/* What a plan sends in all, and, for the common plan of one injection owed
 * whole inside one buffer (a request head written whole), that injection's
 * length (0 for any other plan): when all of it goes out, the accounting is
 * one step instead of a walk over the segments. */
struct oa_io_plan_sums {
    size_t total;
    size_t whole_injection;
};

/* Decides, at the first outgoing bytes (n > 0), whether a protocol parses c
 * (opening its state) or c is passed through from now on. c locked. */
bool oa_io_decide_outgoing(struct oa_conn *c, const unsigned char *b, size_t n);
/* Builds the spliced buffers: program bytes [base, base+total) with every
 * owed injection whose offset falls inside inserted before its byte, and
 * replacements sent instead of the program bytes they cover (as program
 * bytes: one for one). Returns
 * the number of segments, 0 when nothing is to be inserted, -1 past cap. */
int oa_io_plan(struct oa_splice *sp, const struct iovec *iov, int iovcnt, uint64_t base,
               struct iovec *v, struct oa_io_segment *seg, int cap, struct oa_io_plan_sums *sums);
/* Splits r bytes that went out over the planned segments (sums as
 * oa_io_plan gave them); returns how many were the program's. */
size_t oa_io_account(struct oa_conn *c, const struct iovec *v, const struct oa_io_segment *seg, int nv,
                     const struct oa_io_plan_sums *sums, size_t r);
/* oa_io_relock's way out: c no longer carries x for fd (closed, or its
 * protocol switched, during the unlocked call). c locked on entry, not on
 * return; frees x if it was retired meanwhile and this was its last user. */
void oa_io_relock_lost(struct oa_conn *c, struct oa_proto_conn *x);

/* After the unlocked call: locks c again if it still carries x for fd; else
 * frees x if it was retired meanwhile and it is the last user. Keeps errno
 * (the system call's). Inline: every traced send makes it once, and the
 * common case is a few tests. */
static inline bool oa_io_relock(struct oa_conn *c, int fd, struct oa_proto_conn *x)
{
    if (!oa_conn_lock_raw_inline(c))
        return false;
    x->busy--;
    if (__builtin_expect(c->proto == x && c->fd == fd && c->in_use, 1))
        return true;
    oa_io_relock_lost(c, x);
    return false;
}

#endif
