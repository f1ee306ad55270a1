/* Runtime hints: reading the placeholder, finding the request it names. */
#include <netinet/in.h>
#include <string.h>

#include "protocols/http1/http_exchange.h"
#include "protocols/http1/http_hint.h"
#include "trace/thread_context.h"

#define HINT_PREFIX "00-00000000000000000000000000000000-"
#define HINT_LEN 55

static bool hex_field(const char *p, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

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
    uint32_t fd, port, seq;
    if (!hex_field(id, 6, &fd) || !hex_field(id + 6, 4, &port) || !hex_field(id + 10, 6, &seq) || seq == 0)
        return false;
    h->fd = (int)fd;
    h->port = port;
    h->seq = seq;
    return true;
}

static int peer_port(const struct oa_conn *c)
{
    if (c->peer.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&c->peer)->sin_port);
    if (c->peer.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&c->peer)->sin6_port);
    return -1;
}

/* With s locked: the unanswered request number seq of its exchange. */
static struct oa_server_context *request_numbered(struct oa_conn *s, const struct oa_http_hint *h)
{
    if (s->role != OA_ROLE_SERVER || s->tls || s->mode != OA_MODE_PARSING || s->proto == NULL ||
        s->proto->protocol != &oa_http1_protocol || s->proto->gave_up || peer_port(s) != (int)h->port)
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
