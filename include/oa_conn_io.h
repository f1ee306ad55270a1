/* The traced I/O paths, called by the hooks for fds that oa_fd_peek found.
 * Sending performs the real call itself (through oa_libc) and returns exactly
 * what the program must see, with errno as the real call left it. Receiving
 * is told what the real call returned and changes neither result nor errno. */
#ifndef OA_CONN_IO_H
#define OA_CONN_IO_H

#include <sys/socket.h>
#include <sys/uio.h>

#include "oa_conn.h"

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
void oa_io_received_buf(struct oa_conn *c, int fd, const void *buf, ssize_t r, int flags);

/* sendfile moved r body bytes out of fd without us seeing them. */
void oa_io_sendfile(struct oa_conn *c, int fd, ssize_t r);

#endif
