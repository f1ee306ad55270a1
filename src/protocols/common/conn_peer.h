/* A connection's peer as span attributes show it (server.address,
 * network.peer.address): formatted once per connection into the
 * connection's own room, for all the spans of every protocol on it. */
#ifndef OA_CONN_PEER_H
#define OA_CONN_PEER_H

#include "wire/fd_table.h"

/* The peer's port (its address as text in *text), or -1 when unknown or
 * not an IP peer (*text is then ""). */
int oa_conn_peer_text(struct oa_conn *c, const char **text);
/* The same with the text's length. */
int oa_conn_peer_text_len(struct oa_conn *c, const char **text, size_t *len);

/* The same, but a Unix socket's peer is OA_PEER_UNIX, *text its path (an
 * abstract name as "@name"): what network.peer.address shows (there is no
 * server.address, no port). The database spans' view; HTTP's stays the
 * one above (a Unix peer unknown), as it was. *len is the text's length
 * (kept with the text: every database span start wants it). */
#define OA_PEER_UNIX (-2)
int oa_conn_peer_text_or_path(struct oa_conn *c, const char **text, size_t *len);

/* Whether oa_conn_peer_text_or_path's port says the peer is known. */
static inline bool oa_peer_known(int port)
{
    return port >= 0 || port == OA_PEER_UNIX;
}

#endif
