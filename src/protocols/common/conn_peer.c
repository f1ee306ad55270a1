/* The peer of a connection as text (conn_peer.h). */
#include <arpa/inet.h>

#include "protocols/common/conn_peer.h"

/* "a.b.c.d", as inet_ntop writes it, without its trip through sprintf. */
static void ipv4_text(const struct in_addr *a, char *out)
{
    const unsigned char *b = (const unsigned char *)&a->s_addr;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (v >= 100)
            *out++ = (char)('0' + v / 100);
        if (v >= 10)
            *out++ = (char)('0' + v / 10 % 10);
        *out++ = (char)('0' + v % 10);
        *out++ = i < 3 ? '.' : '\0';
    }
}

/* Formats the peer once per connection (inet_ntop goes through sprintf). */
int oa_conn_peer_text(struct oa_conn *c, const char **text)
{
    *text = c->peer_text;
    if (c->peer_port != 0)
        return c->peer_port;
    c->peer_port = -1;
    c->peer_text[0] = '\0';
    if (c->peer_len == 0)
        return -1;
    if (c->peer.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&c->peer;
        ipv4_text(&in->sin_addr, c->peer_text);
        c->peer_port = ntohs(in->sin_port);
    } else if (c->peer.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&c->peer;
        inet_ntop(AF_INET6, &in6->sin6_addr, c->peer_text, sizeof(c->peer_text));
        c->peer_port = ntohs(in6->sin6_port);
    }
    return c->peer_port;
}
