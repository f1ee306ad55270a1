/* Runtime hints: reading the placeholder, finding the request it names. */
#include <string.h>

#include "protocols/common/conn_peer.h"
#include "protocols/http1/http_exchange.h"
#include "protocols/http1/http_hint.h"
#include "trace/hex_id.h"
#include "trace/thread_context.h"

#define HINT_PREFIX "00-00000000000000000000000000000000-"
#define HINT_LEN 55

bool oa_http_hint_parse(const char *value, size_t len, struct oa_http_hint *h)
{
    if (len != HINT_LEN || memcmp(value, HINT_PREFIX, sizeof(HINT_PREFIX) - 1) != 0 ||
        memcmp(value + 52, "-00", 3) != 0)
        return false;
    const char *id = value + sizeof(HINT_PREFIX) - 1;
    if (memcmp(id, "0000000000000000", 16) == 0) {
        *h = (struct oa_http_hint){.fd = -1, .port = 0, .seq = 0};
        return true;
    }
    uint8_t b[8];
    if (!oa_decode_hex16(id, b))
        return false;
    uint32_t fd = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
    uint32_t port = (uint32_t)b[3] << 8 | b[4];
    uint32_t seq = (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
    if (seq == 0)
        return false;
    h->fd = (int)fd;
    h->port = port;
    h->seq = seq;
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

struct oa_server_context *oa_http_hint_resolve(const struct oa_http_hint *h)
{
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
