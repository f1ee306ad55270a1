/* The registered protocols, detection, and the life of a connection's
 * protocol state (see protocol.h). */
#include <string.h>

#include "wire/protocol.h"

static const struct oa_protocol *registered[OA_PROTOCOLS_MAX];
static unsigned n_registered;

void oa_protocol_register(const struct oa_protocol *p)
{
    for (unsigned i = 0; i < n_registered; i++) {
        if (registered[i] == p)
            return;
    }
    if (n_registered < OA_PROTOCOLS_MAX) {
        registered[n_registered] = p;
        /* registered before any connection, from the constructor: the
         * release makes it visible to every thread that reads the count */
        __atomic_store_n(&n_registered, n_registered + 1, __ATOMIC_RELEASE);
    }
}

bool oa_protocol_is_registered(const struct oa_protocol *p)
{
    unsigned count = __atomic_load_n(&n_registered, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < count && i < OA_PROTOCOLS_MAX; i++) {
        if (registered[i] == p)
            return true;
    }
    return false;
}

void oa_protocol_crash_walk_conn(const struct oa_conn *c, const struct oa_crash_walk *w)
{
    if (c == NULL || !c->in_use || c->mode != OA_MODE_PARSING)
        return;
    const struct oa_proto_conn *p = __atomic_load_n(&c->proto, __ATOMIC_ACQUIRE);
    if (p == NULL || ((uintptr_t)p & 7) != 0)
        return;
    const struct oa_protocol *proto = __atomic_load_n(&p->protocol, __ATOMIC_ACQUIRE);
    if (!oa_protocol_is_registered(proto) || proto->crash == NULL || p->gave_up)
        return;
    proto->crash(p, w);
}

void oa_protocol_reset(void)
{
    __atomic_store_n(&n_registered, 0, __ATOMIC_RELEASE);
}

bool oa_protocol_decide(struct oa_conn *c, bool outgoing, const unsigned char *b, size_t n)
{
    unsigned count = __atomic_load_n(&n_registered, __ATOMIC_ACQUIRE);

    for (unsigned i = 0; i < count; i++) {
        const struct oa_protocol *p = registered[i];
        /* a TLS session's plaintext is offered to all, whatever its socket */
        if (!c->tls && c->peer.ss_family == AF_UNIX && !p->unix_sockets)
            continue;
        if (!p->detect((enum oa_conn_role)c->role, outgoing, b, n))
            continue;
        struct oa_proto_conn *s = p->open((enum oa_conn_role)c->role);
        if (s == NULL)
            break;
        s->protocol = p;
        c->proto = s;
        c->mode = OA_MODE_PARSING;
        return true;
    }
    c->mode = OA_MODE_PASS;
    return false;
}

bool oa_protocol_switch(struct oa_conn *c, const char *name, const void *handover, size_t at)
{
    struct oa_proto_conn *old = c->proto;
    unsigned count = __atomic_load_n(&n_registered, __ATOMIC_ACQUIRE);
    /* taken over only on a socket's own stream (conn_io.c), not in a TLS
     * session's plaintext, where no protocol upgrades this way */
    if (old == NULL || old->next != NULL || old->gave_up || c->tls)
        return false;
    for (unsigned i = 0; i < count; i++) {
        const struct oa_protocol *p = registered[i];
        if (p->switch_in == NULL || strcmp(p->name, name) != 0)
            continue;
        struct oa_proto_conn *next = p->switch_in(c, handover);
        if (next == NULL)
            return false;
        next->protocol = p;
        old->next = next;
        old->next_at = at;
        return true;
    }
    return false;
}

struct oa_proto_conn *oa_protocol_take_next(struct oa_conn *c)
{
    struct oa_proto_conn *old = c->proto;
    struct oa_proto_conn *next = old->next;
    old->next = NULL;
    if (next == NULL)
        return old;
    if (old->out.count != 0) {
        oa_protocol_free(next);
        oa_protocol_give_up(c);
        return c->proto;
    }
    next->out.parsed = old->out.parsed;
    next->out.sent = old->out.sent;
    /* what the old state still holds (nothing, normally: its request went
     * to the next) is dropped; its end is the next one's */
    old->gave_up = true;
    old->protocol->give_up(c);
    __atomic_store_n(&c->proto, next, __ATOMIC_RELEASE);
    if (old->busy > 0)
        old->orphaned = true; /* a sender between its two locked sections frees it */
    else
        oa_protocol_free(old);
    return next;
}

void oa_protocol_give_up(struct oa_conn *c)
{
    struct oa_proto_conn *s = c->proto;
    if (s->gave_up)
        return;
    s->gave_up = true;
    s->protocol->give_up(c);
    if (oa_splice_drop_unsent(&s->out))
        c->mode = OA_MODE_PASS;
}

void oa_protocol_free(struct oa_proto_conn *p)
{
    if (p == NULL)
        return;
    /* a switch asked where no one takes it (inside TLS) */
    if (p->next != NULL)
        oa_protocol_free(p->next);
    oa_splice_release_all(&p->out);
    p->protocol->free(p);
}

void oa_protocol_retire(struct oa_conn *c, int err)
{
    struct oa_proto_conn *s = c->proto;
    if (s == NULL)
        return;
    /* the state still points at c while it finishes its spans */
    if (!s->gave_up)
        s->protocol->end(c, err != 0 ? err : s->io_error);
    c->proto = NULL;
    if (s->busy > 0)
        s->orphaned = true; /* a sender between its two locked sections frees it */
    else
        oa_protocol_free(s);
}
