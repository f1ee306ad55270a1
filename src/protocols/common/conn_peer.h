/* A connection's peer as span attributes show it (server.address,
 * network.peer.address): formatted once per connection into the
 * connection's own room, for all the spans of every protocol on it. */
#ifndef OA_CONN_PEER_H
#define OA_CONN_PEER_H

#include "wire/fd_table.h"

/* The peer's port (its address as text in *text), or -1 when unknown
 * (*text is then ""). */
int oa_conn_peer_text(struct oa_conn *c, const char **text);

#endif
