/* The peer of a connection as text (conn_peer.h). */
#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

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
static int format_peer(struct oa_conn *c)
{
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
    } else if (c->peer.ss_family == AF_UNIX && c->peer_len > offsetof(struct sockaddr_un, sun_path)) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)&c->peer;
        size_t n = c->peer_len - offsetof(struct sockaddr_un, sun_path);
        if (n > sizeof(un->sun_path))
            n = sizeof(un->sun_path);
        const char *name = un->sun_path;
        size_t at = 0;
        if (n > 0 && name[0] == '\0') {
            /* abstract: "@name", as ss and systemd show it */
            c->peer_text[at++] = '@';
            name++;
            n--;
        } else {
            n = strnlen(name, n);
        }
        /* printable bytes only: it is an attribute's text */
        for (size_t i = 0; i < n && at + 1 < sizeof(c->peer_text); i++) {
            unsigned char ch = (unsigned char)name[i];
            c->peer_text[at++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
        }
        c->peer_text[at] = '\0';
        c->peer_port = OA_PEER_UNIX;
    }
    return c->peer_port;
}

int oa_conn_peer_text_or_path(struct oa_conn *c, const char **text, size_t *len)
{
    *text = c->peer_text;
    if (c->peer_port == 0) {
        format_peer(c);
        c->peer_text_len = (uint8_t)strlen(c->peer_text);
    }
    *len = c->peer_text_len;
    return c->peer_port;
}

int oa_conn_peer_text_len(struct oa_conn *c, const char **text, size_t *len)
{
    int port = oa_conn_peer_text_or_path(c, text, len);
    if (port == OA_PEER_UNIX) {
        *text = "";
        *len = 0;
        return -1;
    }
    return port;
}

int oa_conn_peer_text(struct oa_conn *c, const char **text)
{
    size_t len;
    return oa_conn_peer_text_len(c, text, &len);
}
