/* Interposition of the libc socket API.
 *
 * Each exported function is short: bind the real symbol if needed, decide in
 * a few instructions whether the fd is a TCP connection we look at, and pass
 * straight through otherwise. Everything else happens in src/conn_io.c.
 *
 * Until the real symbols are bound (src/sys/real_libc.c; and on the thread
 * that is binding them, since dlsym may allocate and an allocator may call
 * read), calls go to the kernel directly through syscall(2). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/common.h"
#include "wire/fd_table.h"
#include "wire/conn_io.h"
#include "base/guard.h"
#include "sys/real_libc.h"
#include "lifecycle/library.h"

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Loads the real function into `fn`, binding first if necessary. Evaluates to
 * false when the real function is not available (yet): use the syscall. */
#define REAL(field) (LIKELY(__atomic_load_n(&oa_libc.field, __ATOMIC_ACQUIRE) != NULL) || (oa_libc_bind(), oa_libc.field != NULL))

/* The fd is one we trace: tracked, not given up, and not our own thread's.
 * Reached with oa_in_library up on a program thread, the hook was entered
 * from a signal handler that interrupted our bookkeeping: pass through, and
 * give the connection up since these bytes go by unseen. */
static inline struct oa_conn *traced(int fd)
{
    struct oa_conn *c = oa_fd_peek(fd);
    if (LIKELY(c == NULL))
        return NULL;
    if (c->mode == OA_MODE_PASS)
        return NULL;
    if (UNLIKELY(oa_in_library)) {
        oa_conn_abandon(c);
        return NULL;
    }
    return c;
}

static inline bool may_track(void)
{
    return oa_library_ready() && !oa_in_library;
}

static bool is_inet(const struct sockaddr *sa)
{
    return sa != NULL && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6);
}

/* A Unix-domain address with a path or an abstract name: the database
 * protocols follow clients of those (psql's host=/dir, a Redis unixsocket);
 * socket() does not track them, connect() does. */
static bool is_unix(const struct sockaddr *sa, socklen_t len)
{
    return sa != NULL && sa->sa_family == AF_UNIX && len > sizeof(sa_family_t);
}

OA_EXPORT int socket(int domain, int type, int protocol)
{
    int fd = REAL(socket) ? oa_libc.socket(domain, type, protocol)
                          : (int)syscall(SYS_socket, domain, type, protocol);
    if (fd < 0 || !oa_library_ready())
        return fd;
    int saved = errno;
    int base_type = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    bool tcp = (domain == AF_INET || domain == AF_INET6) && base_type == SOCK_STREAM &&
               (protocol == 0 || protocol == IPPROTO_TCP);
    if (tcp && !oa_in_library)
        oa_fd_track(fd, OA_ROLE_UNKNOWN, NULL, 0);
    else if (oa_fd_peek(fd) != NULL)
        oa_fd_forget(fd); /* stale state of a number closed behind our back */
    errno = saved;
    return fd;
}

OA_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    int r = REAL(connect) ? oa_libc.connect(fd, addr, len) : (int)syscall(SYS_connect, fd, addr, len);
    if ((r == 0 || errno == EINPROGRESS) && may_track() && (is_inet(addr) || is_unix(addr, len))) {
        int saved = errno;
        struct oa_conn *c = oa_fd_peek(fd);
        /* socket() tracks TCP sockets only: a Unix one is asked about */
        bool tcp = c != NULL && addr->sa_family != AF_UNIX;
        if (!tcp) {
            /* created before we were ready: ask the kernel what it is */
            int type = 0;
            socklen_t tl = sizeof(type);
            tcp = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM;
        }
        if (tcp)
            oa_fd_track(fd, OA_ROLE_CLIENT, addr, len);
        errno = saved;
    }
    return r;
}

static void track_accepted(int fd, const struct sockaddr *addr, const socklen_t *addrlen)
{
    int saved = errno;
    struct sockaddr_storage peer;
    socklen_t plen = 0;
    if (addr != NULL && addrlen != NULL && *addrlen >= sizeof(sa_family_t)) {
        plen = *addrlen < sizeof(peer) ? *addrlen : sizeof(peer);
        __builtin_memcpy(&peer, addr, plen);
    } else {
        plen = sizeof(peer);
        if (getpeername(fd, (struct sockaddr *)&peer, &plen) != 0)
            plen = 0;
    }
    if (plen >= sizeof(sa_family_t) && is_inet((struct sockaddr *)&peer))
        oa_fd_track(fd, OA_ROLE_SERVER, (struct sockaddr *)&peer, plen);
    else if (oa_fd_peek(fd) != NULL)
        oa_fd_forget(fd);
    errno = saved;
}

OA_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    int r = REAL(accept) ? oa_libc.accept(fd, addr, addrlen)
                         : (int)syscall(SYS_accept4, fd, addr, addrlen, 0);
    if (r >= 0 && may_track())
        track_accepted(r, addr, addrlen);
    return r;
}

OA_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    int r = REAL(accept4) ? oa_libc.accept4(fd, addr, addrlen, flags)
                          : (int)syscall(SYS_accept4, fd, addr, addrlen, flags);
    if (r >= 0 && may_track())
        track_accepted(r, addr, addrlen);
    return r;
}

OA_EXPORT int close(int fd)
{
    if (UNLIKELY(oa_fd_peek(fd) != NULL))
        oa_fd_forget(fd);
    return REAL(close) ? oa_libc.close(fd) : (int)syscall(SYS_close, fd);
}

/* A duplicate refers to the same connection; we keep following the original
 * fd only, and make sure the new number carries no stale state. */
static int forget_new_fd(int r)
{
    if (r >= 0 && UNLIKELY(oa_fd_peek(r) != NULL)) {
        int saved = errno;
        oa_fd_forget(r);
        errno = saved;
    }
    return r;
}

OA_EXPORT int dup(int fd)
{
    return forget_new_fd(REAL(dup) ? oa_libc.dup(fd) : (int)syscall(SYS_dup, fd));
}

OA_EXPORT int dup2(int oldfd, int newfd)
{
    int r = REAL(dup2) ? oa_libc.dup2(oldfd, newfd) : (int)syscall(SYS_dup2, oldfd, newfd);
    return r != oldfd ? forget_new_fd(r) : r;
}

OA_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    return forget_new_fd(REAL(dup3) ? oa_libc.dup3(oldfd, newfd, flags)
                                    : (int)syscall(SYS_dup3, oldfd, newfd, flags));
}

/* ---- sending ---- */

OA_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    if (UNLIKELY(!REAL(write)))
        return syscall(SYS_write, fd, buf, n);
    struct oa_conn *c = traced(fd);
    if (LIKELY(c == NULL))
        return oa_libc.write(fd, buf, n);
    struct oa_send_call call = {.kind = OA_CALL_WRITE, .fd = fd, .buf = buf, .len = n};
    return oa_io_send(c, &call);
}

OA_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    if (UNLIKELY(!REAL(send)))
        return syscall(SYS_sendto, fd, buf, n, flags, NULL, 0);
    struct oa_conn *c = traced(fd);
    if (LIKELY(c == NULL))
        return oa_libc.send(fd, buf, n, flags);
    struct oa_send_call call = {.kind = OA_CALL_SEND, .fd = fd, .buf = buf, .len = n, .flags = flags};
    return oa_io_send(c, &call);
}

OA_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tolen)
{
    if (UNLIKELY(!REAL(sendto)))
        return syscall(SYS_sendto, fd, buf, n, flags, to, tolen);
    struct oa_conn *c = traced(fd);
    if (LIKELY(c == NULL) || to != NULL)
        return oa_libc.sendto(fd, buf, n, flags, to, tolen);
    struct oa_send_call call = {.kind = OA_CALL_SENDTO, .fd = fd, .buf = buf, .len = n, .flags = flags};
    return oa_io_send(c, &call);
}

OA_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (UNLIKELY(!REAL(sendmsg)))
        return syscall(SYS_sendmsg, fd, msg, flags);
    struct oa_conn *c = traced(fd);
    if (LIKELY(c == NULL) || msg == NULL || msg->msg_name != NULL)
        return oa_libc.sendmsg(fd, msg, flags);
    struct oa_send_call call = {.kind = OA_CALL_SENDMSG, .fd = fd, .iov = msg->msg_iov,
                                .iovcnt = (int)msg->msg_iovlen, .flags = flags, .msg = msg};
    return oa_io_send(c, &call);
}

OA_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    if (UNLIKELY(!REAL(writev)))
        return syscall(SYS_writev, fd, iov, iovcnt);
    struct oa_conn *c = traced(fd);
    if (LIKELY(c == NULL))
        return oa_libc.writev(fd, iov, iovcnt);
    struct oa_send_call call = {.kind = OA_CALL_WRITEV, .fd = fd, .iov = iov, .iovcnt = iovcnt};
    return oa_io_send(c, &call);
}

static ssize_t sendfile_common(ssize_t (*real)(int, int, off_t *, size_t), int out_fd, int in_fd, off_t *off, size_t count)
{
    struct oa_conn *c = traced(out_fd);
    ssize_t r = real != NULL ? real(out_fd, in_fd, off, count)
                             : syscall(SYS_sendfile, out_fd, in_fd, off, count);
    if (UNLIKELY(c != NULL) && r > 0)
        oa_io_sendfile(c, out_fd, r);
    return r;
}

OA_EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *off, size_t count)
{
    return sendfile_common(REAL(sendfile) ? oa_libc.sendfile : NULL, out_fd, in_fd, off, count);
}

OA_EXPORT ssize_t sendfile64(int out_fd, int in_fd, off_t *off, size_t count)
{
    return sendfile_common(REAL(sendfile64) ? oa_libc.sendfile64 : NULL, out_fd, in_fd, off, count);
}

/* ---- receiving: the real call first, then we look at what it returned ---- */

OA_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    if (UNLIKELY(!REAL(read)))
        return syscall(SYS_read, fd, buf, n);
    struct oa_conn *c = traced(fd);
    /* a read of no bytes returns 0 without meaning the end of the stream */
    if (LIKELY(c == NULL) || UNLIKELY(n == 0))
        return oa_libc.read(fd, buf, n);
    ssize_t r = oa_libc.read(fd, buf, n);
    return oa_io_received_buf(c, fd, buf, r, 0);
}

OA_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    if (UNLIKELY(!REAL(read_chk))) {
        if (n > buflen)
            abort();
        return syscall(SYS_read, fd, buf, n);
    }
    struct oa_conn *c = traced(fd);
    /* a read of no bytes returns 0 without meaning the end of the stream */
    if (LIKELY(c == NULL) || UNLIKELY(n == 0))
        return oa_libc.read_chk(fd, buf, n, buflen);
    ssize_t r = oa_libc.read_chk(fd, buf, n, buflen);
    return oa_io_received_buf(c, fd, buf, r, 0);
}

OA_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    if (UNLIKELY(!REAL(recv)))
        return syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL);
    struct oa_conn *c = traced(fd);
    /* a read of no bytes returns 0 without meaning the end of the stream */
    if (LIKELY(c == NULL) || UNLIKELY(n == 0))
        return oa_libc.recv(fd, buf, n, flags);
    ssize_t r = oa_libc.recv(fd, buf, n, flags);
    return oa_io_received_buf(c, fd, buf, r, flags);
}

OA_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    if (UNLIKELY(!REAL(recv_chk))) {
        if (n > buflen)
            abort();
        return syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL);
    }
    struct oa_conn *c = traced(fd);
    /* a read of no bytes returns 0 without meaning the end of the stream */
    if (LIKELY(c == NULL) || UNLIKELY(n == 0))
        return oa_libc.recv_chk(fd, buf, n, buflen, flags);
    ssize_t r = oa_libc.recv_chk(fd, buf, n, buflen, flags);
    return oa_io_received_buf(c, fd, buf, r, flags);
}

OA_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from, socklen_t *fromlen)
{
    if (UNLIKELY(!REAL(recvfrom)))
        return syscall(SYS_recvfrom, fd, buf, n, flags, from, fromlen);
    struct oa_conn *c = traced(fd);
    /* a read of no bytes returns 0 without meaning the end of the stream */
    if (LIKELY(c == NULL) || UNLIKELY(n == 0))
        return oa_libc.recvfrom(fd, buf, n, flags, from, fromlen);
    ssize_t r = oa_libc.recvfrom(fd, buf, n, flags, from, fromlen);
    return oa_io_received_buf(c, fd, buf, r, flags);
}

OA_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
                                 struct sockaddr *from, socklen_t *fromlen)
{
    if (UNLIKELY(!REAL(recvfrom_chk))) {
        if (n > buflen)
            abort();
        return syscall(SYS_recvfrom, fd, buf, n, flags, from, fromlen);
    }
    struct oa_conn *c = traced(fd);
    /* a read of no bytes returns 0 without meaning the end of the stream */
    if (LIKELY(c == NULL) || UNLIKELY(n == 0))
        return oa_libc.recvfrom_chk(fd, buf, n, buflen, flags, from, fromlen);
    ssize_t r = oa_libc.recvfrom_chk(fd, buf, n, buflen, flags, from, fromlen);
    return oa_io_received_buf(c, fd, buf, r, flags);
}

OA_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    if (UNLIKELY(!REAL(recvmsg)))
        return syscall(SYS_recvmsg, fd, msg, flags);
    struct oa_conn *c = traced(fd);
    if (LIKELY(c == NULL))
        return oa_libc.recvmsg(fd, msg, flags);
    ssize_t r = oa_libc.recvmsg(fd, msg, flags);
    oa_io_received(c, fd, msg->msg_iov, (int)msg->msg_iovlen, r, flags);
    return r;
}

OA_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
    if (UNLIKELY(!REAL(readv)))
        return syscall(SYS_readv, fd, iov, iovcnt);
    struct oa_conn *c = traced(fd);
    if (LIKELY(c == NULL))
        return oa_libc.readv(fd, iov, iovcnt);
    ssize_t r = oa_libc.readv(fd, iov, iovcnt);
    oa_io_received(c, fd, iov, iovcnt, r, 0);
    return r;
}

/* Every exported function here matches its entry in the list of interposed
 * symbols (sys/interposed.def), from which the real table is made. */
#define OA_LIBC(name, field, ret, params, args) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) params), #name " as listed");
#include "sys/interposed.def"
