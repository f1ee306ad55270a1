/* Runtime hints: reading the placeholder, finding the request it names. */
#include <string.h>

#include "protocols/common/conn_peer.h"
#include "protocols/common/unanswered.h"
#include "protocols/http1/http_exchange.h"
#include "protocols/http1/http_hint.h"
#include "trace/hex_id.h"
#include "trace/thread_context.h"

#define HINT_PREFIX "00-00000000000000000000000000000000-"
#define HINT_LEN 55

/* ffPPPPDDDDDDDDDD (http_hint.h), as octets. */
static bool parse_by_peer(const uint8_t b[8], struct oa_http_hint *h)
{
    unsigned port = (unsigned)b[1] << 8 | b[2];
    uint64_t d = 0;
    for (int i = 3; i < 8; i++)
        d = d << 8 | b[i];
    uint64_t marker = UINT64_C(1) << OA_HTTP_HINT_PARENT_BITS;
    if (port == 0 || (d != 0 && !(d & marker)))
        return false;
    *h = (struct oa_http_hint){.fd = -1, .port = port, .seq = 0, .by_peer = true, .by_parent = d != 0,
                               .parent_low = d & (marker - 1)};
    return true;
}

bool oa_http_hint_parse(const char *value, size_t len, struct oa_http_hint *h)
{
    if (len != HINT_LEN || memcmp(value, HINT_PREFIX, sizeof(HINT_PREFIX) - 1) != 0 ||
        memcmp(value + 52, "-00", 3) != 0)
        return false;
    const char *id = value + sizeof(HINT_PREFIX) - 1;
    if (memcmp(id, "0000000000000000", 16) == 0) {
        *h = (struct oa_http_hint){.fd = -1};
        return true;
    }
    uint8_t b[8];
    if (!oa_decode_hex16(id, b))
        return false;
    if (b[0] == 0xff)
        return parse_by_peer(b, h);
    uint32_t fd = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
    uint32_t port = (uint32_t)b[3] << 8 | b[4];
    uint32_t seq = (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
    if (seq == 0)
        return false;
    *h = (struct oa_http_hint){.fd = (int)fd, .port = port, .seq = seq};
    return true;
}

/* With s locked: the unanswered request number seq of its exchange. */
static struct oa_server_context *request_numbered(struct oa_conn *s, const struct oa_http_hint *h)
{
    const char *peer;
    if (s->role != OA_ROLE_SERVER || s->tls || s->mode != OA_MODE_PARSING || s->proto == NULL ||
        s->proto->protocol != &oa_http1_protocol || s->proto->gave_up || oa_conn_peer_text(s, &peer) != (int)h->port)
        return NULL;
    struct oa_http_exchange *x = (struct oa_http_exchange *)s->proto;
    /* the FIFO holds the unanswered requests, the newest numbered heads_read */
    uint32_t back = (x->heads_read - h->seq) & OA_HTTP_HINT_SEQ_MASK;
    if (back >= x->pending.count)
        return NULL;
    struct oa_pending *e = oa_pending_fifo_at(&x->pending, x->pending.count - 1 - back);
    if (e->ctx == NULL || __atomic_load_n(&e->ctx->answered, __ATOMIC_ACQUIRE))
        return NULL;
    oa_server_context_ref(e->ctx);
    return e->ctx;
}

/* A server connection from the hint's peer port: its protocol adds its
 * matching unanswered requests to q. Unlocked, a connection whose peer is
 * formatted already and is another port is passed by. */
static void ask_server(struct oa_conn *s, int fd, const struct oa_http_hint *h, struct oa_unanswered_query *q)
{
    int port = __atomic_load_n(&s->peer_port, __ATOMIC_RELAXED);
    if (__atomic_load_n(&s->role, __ATOMIC_RELAXED) != OA_ROLE_SERVER ||
        __atomic_load_n(&s->mode, __ATOMIC_RELAXED) != OA_MODE_PARSING || (port != 0 && port != (int)h->port) ||
        !oa_conn_lock(s, fd))
        return;
    const char *peer;
    if (s->role == OA_ROLE_SERVER && !s->tls && s->mode == OA_MODE_PARSING && s->proto != NULL &&
        !s->proto->gave_up && s->proto->protocol->unanswered != NULL && oa_conn_peer_text(s, &peer) == (int)h->port)
        s->proto->protocol->unanswered(s, q);
    oa_conn_unlock(s);
}

/* By peer port: the one match over every server connection from it. */
static struct oa_server_context *resolve_by_peer(const struct oa_http_hint *h)
{
    struct oa_unanswered_query q = {
        .by_parent = h->by_parent, .parent_low = h->parent_low, .bits = OA_HTTP_HINT_PARENT_BITS};
    int end = oa_fd_table_high_water();
    for (int fd = 0; fd < end && q.count < 2; fd++) {
        struct oa_conn *s = oa_fd_peek(fd);
        if (s != NULL)
            ask_server(s, fd, h, &q);
    }
    if (q.count == 1)
        return q.found;
    if (q.found != NULL)
        oa_server_context_unref(q.found);
    return NULL;
}

struct oa_server_context *oa_http_hint_resolve(const struct oa_http_hint *h)
{
    if (h->by_peer)
        return resolve_by_peer(h);
    if (h->seq == 0)
        return NULL;
    struct oa_conn *s = oa_fd_peek(h->fd);
    /* only a server connection is ever locked from here (see the header);
     * the role is checked again under its lock */
    if (s == NULL || __atomic_load_n(&s->role, __ATOMIC_RELAXED) != OA_ROLE_SERVER || !oa_conn_lock(s, h->fd))
        return NULL;
    struct oa_server_context *ctx = request_numbered(s, h);
    oa_conn_unlock(s);
    return ctx;
}
