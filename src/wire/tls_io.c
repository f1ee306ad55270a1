/* The traced plaintext of TLS sessions (see oa_tls_io.h).
 *
 * A TLS write cannot be split into several buffers the way writev splices
 * headers into a socket write, so a write that owes trace headers is given to
 * the library as one buffer: the program's bytes with the header lines copied
 * in. That buffer is kept until the library accepts it, because a refused
 * write must be repeated with the very same buffer and length. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire/conn_io.h"
#include "base/guard.h"
#include "wire/protocol.h"
#include "wire/splice.h"
#include "wire/tls_io.h"

/* one program buffer with every injection spliced in */
#define PLAN_SEGMENTS (2 * OA_SPLICE_MAX + 1)

struct tls_stream {
    struct oa_conn conn; /* first: a stream is used as its conn */
    pid_t owner;         /* a forked child freeing an inherited session does not own its spans */
    int crash_slot;      /* its slot in `open_streams`, or -1 */
    /* the spliced write the library has not accepted yet, and its plan */
    char *pending;
    size_t pending_len;
    int pending_nv;
    struct iovec pending_v[PLAN_SEGMENTS];
    struct oa_io_segment pending_seg[PLAN_SEGMENTS];
    struct oa_io_plan_sums pending_sums;
};

/* The open sessions, for the crash capture (a signal handler cannot walk a
 * list that another thread may be changing): a slot taken with one
 * compare-and-swap at open, cleared at close before the stream is freed. */
static struct oa_conn *open_streams[OA_TLS_CRASH_SLOTS];

static int crash_slot_take(struct oa_conn *c, int fd)
{
    for (unsigned i = 0; i < OA_TLS_CRASH_SLOTS; i++) {
        unsigned slot = ((unsigned)fd + i) % OA_TLS_CRASH_SLOTS;
        struct oa_conn *expected = NULL;
        if (__atomic_load_n(&open_streams[slot], __ATOMIC_RELAXED) == NULL &&
            __atomic_compare_exchange_n(&open_streams[slot], &expected, c, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            return (int)slot;
    }
    return -1;
}

void oa_tls_crash_walk(const struct oa_crash_walk *w)
{
    for (unsigned i = 0; i < OA_TLS_CRASH_SLOTS; i++)
        oa_protocol_crash_walk_conn(__atomic_load_n(&open_streams[i], __ATOMIC_ACQUIRE), w);
}

/* The socket carries ciphertext from now on: its own view stops parsing. */
static void socket_view_passes(int fd, struct oa_conn *stream)
{
    struct oa_conn *sc = oa_fd_peek(fd);
    if (sc != NULL && oa_conn_lock(sc, fd)) {
        struct oa_proto_conn *x = sc->proto;
        if (x != NULL && !x->gave_up && x->protocol->tls_follows != NULL && stream->role == sc->role) {
            /* the protocol negotiated TLS inside its own conversation: the
             * session's plaintext continues it */
            struct oa_proto_conn *next = x->protocol->tls_follows(sc);
            if (next != NULL) {
                next->protocol = x->protocol;
                stream->proto = next;
                stream->mode = OA_MODE_PARSING;
            }
        }
        if (sc->proto != NULL)
            oa_protocol_give_up(sc);
        sc->mode = OA_MODE_PASS;
        if (sc->peer_len > 0) {
            stream->peer = sc->peer;
            stream->peer_len = sc->peer_len;
        }
        oa_conn_unlock(sc);
    }
    if (stream->peer_len == 0) {
        socklen_t len = sizeof(stream->peer);
        if (getpeername(fd, (struct sockaddr *)&stream->peer, &len) == 0 && len <= sizeof(stream->peer))
            stream->peer_len = len;
    }
}

struct oa_conn *oa_tls_open(int fd, bool server)
{
    if (fd < 0)
        return NULL;
    int saved = errno;
    oa_wire_configure();
    struct tls_stream *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        errno = saved;
        return NULL;
    }
    struct oa_conn *c = &st->conn;
    c->fd = fd;
    c->role = (uint8_t)(server ? OA_ROLE_SERVER : OA_ROLE_CLIENT);
    c->mode = OA_MODE_UNDECIDED;
    c->in_use = true;
    c->tls = true;
    st->owner = getpid();
    socket_view_passes(fd, c);
    st->crash_slot = crash_slot_take(c, fd);
    errno = saved;
    return c;
}

void oa_tls_close(struct oa_conn *c)
{
    struct tls_stream *st = (struct tls_stream *)c;
    int saved = errno;
    if (!oa_conn_lock_raw(c))
        return; /* re-entered from a signal handler: leak rather than race */
    if (st->crash_slot >= 0)
        __atomic_store_n(&open_streams[st->crash_slot], NULL, __ATOMIC_RELEASE);
    if (c->proto != NULL && st->owner != getpid())
        c->proto->protocol->disown(c->proto);
    oa_protocol_retire(c, 0);
    c->in_use = false;
    c->fd = -1;
    c->mode = OA_MODE_PASS;
    oa_conn_unlock(c);
    free(st->pending);
    free(st);
    errno = saved;
}

/* Copies the planned segments into one buffer, kept as the pending write. */
static bool make_pending(struct tls_stream *st, const struct iovec *v, const struct oa_io_segment *seg, int nv,
                         const struct oa_io_plan_sums *sums)
{
    size_t total = 0;
    for (int i = 0; i < nv; i++)
        total += v[i].iov_len;
    char *b = malloc(total);
    if (b == NULL)
        return false;
    size_t pos = 0;
    for (int i = 0; i < nv; i++) {
        memcpy(b + pos, v[i].iov_base, v[i].iov_len);
        st->pending_v[i] = (struct iovec){b + pos, v[i].iov_len};
        st->pending_seg[i] = seg[i];
        pos += v[i].iov_len;
    }
    st->pending = b;
    st->pending_len = total;
    st->pending_nv = nv;
    st->pending_sums = *sums;
    return true;
}

static void drop_pending(struct tls_stream *st)
{
    free(st->pending);
    st->pending = NULL;
    st->pending_len = 0;
    st->pending_nv = 0;
}

int oa_tls_send(struct oa_conn *c, void *session, oa_tls_write_fn w, const void *buf, size_t n, size_t *written)
{
    struct tls_stream *st = (struct tls_stream *)c;
    if (!oa_conn_lock_raw(c))
        return w(session, buf, n, written);
    if (st->pending == NULL) {
        if (c->mode == OA_MODE_UNDECIDED && (n == 0 || !oa_io_decide_outgoing(c, buf, n))) {
            oa_conn_unlock(c);
            return w(session, buf, n, written);
        }
        if (c->mode != OA_MODE_PARSING || c->proto == NULL) {
            oa_conn_unlock(c);
            return w(session, buf, n, written);
        }
        struct iovec all = {(void *)buf, n};
        if (!c->proto->gave_up)
            c->proto->protocol->outgoing(c, &all, 1);
    }
    struct oa_proto_conn *x = c->proto;
    if (x == NULL) { /* a pending write outlived its exchange: cannot happen while open */
        oa_conn_unlock(c);
        return w(session, buf, n, written);
    }
    int fd = c->fd;
    for (;;) {
        if (st->pending == NULL) {
            struct iovec all = {(void *)buf, n};
            struct iovec v[PLAN_SEGMENTS];
            struct oa_io_segment seg[PLAN_SEGMENTS];
            struct oa_io_plan_sums sums;
            int nv = oa_io_plan(&x->out, &all, 1, x->out.sent, v, seg, PLAN_SEGMENTS, &sums);
            if (nv > 0 && !make_pending(st, v, seg, nv, &sums)) {
                oa_protocol_give_up(c); /* out of memory: the spliced bytes are not sent */
                nv = 0;
            }
            if (nv <= 0) {
                x->busy++;
                oa_conn_unlock(c);
                int r = w(session, buf, n, written);
                int err = errno;
                if (oa_io_relock(c, fd, x)) {
                    if (r > 0)
                        oa_splice_sent_app(&x->out, *written);
                    oa_conn_unlock(c);
                }
                errno = err;
                return r;
            }
        }
        size_t out = 0;
        x->busy++;
        oa_conn_unlock(c);
        int r = w(session, st->pending, st->pending_len, &out);
        int err = errno;
        if (!oa_io_relock(c, fd, x)) {
            *written = out < n ? out : n;
            errno = err;
            return r;
        }
        if (r <= 0) {
            /* kept: the program must repeat this write */
            oa_conn_unlock(c);
            errno = err;
            return r;
        }
        size_t app = oa_io_account(c, st->pending_v, st->pending_seg, st->pending_nv, &st->pending_sums, out);
        drop_pending(st);
        if (app > 0 || n == 0) {
            oa_conn_unlock(c);
            *written = app < n ? app : n;
            errno = err;
            return r;
        }
        /* a partial write (SSL_MODE_ENABLE_PARTIAL_WRITE) took only header
         * bytes: the program must not see 0, go on with the rest */
    }
}

void oa_tls_received(struct oa_conn *c, const void *buf, size_t n)
{
    oa_io_received_buf(c, c->fd, buf, (ssize_t)n, 0);
}
