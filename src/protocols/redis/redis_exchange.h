/* Redis client connections: the commands a program sends, the replies it
 * receives, matched in order (pipelining), each command a CLIENT span of
 * the database conventions (protocols/db/db_operation.h). All functions are
 * called with the connection locked.
 *
 * Replies that answer no command are told apart and skipped:
 *   - RESP3 pushes (`>`): pub/sub messages and confirmations, invalidations;
 *   - RESP2 pub/sub: while the connection is subscribed (the subscription
 *     counts the confirmations report are above 0), or a (P|S)SUBSCRIBE /
 *     (P|S)UNSUBSCRIBE awaits its confirmation, an array whose first element
 *     is `message`, `pmessage`, `smessage` or a confirmation's kind (a
 *     subscribed RESP2 connection may run no other command whose reply
 *     could look like one: the server refuses them).
 * A (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE ends at its first confirmation of its
 * kind (one comes per channel: the others are skipped like pushes), so that
 * no count of confirmations can be wrong and hold later replies back.
 * MULTI / EXEC: every command is its own span; a queued one ends at its
 * +QUEUED. What the protocol cannot follow gives the connection up: a reply
 * with no command waiting, MONITOR's stream, CLIENT REPLY (replies
 * suppressed), SYNC / PSYNC (replication), a (P|S)SUBSCRIBE inside MULTI. */
#ifndef OA_REDIS_EXCHANGE_H
#define OA_REDIS_EXCHANGE_H

#include "wire/protocol.h"

/* Commands awaiting their replies on one connection (a power of two):
 * deeper pipelines give the connection up. */
#define OA_REDIS_MAX_PENDING 64

/* Redis behind the protocol interface (wire/protocol.h): a client
 * connection whose first outgoing bytes are a RESP command Redis knows. */
extern const struct oa_protocol oa_redis_protocol;
/* Registers it (the life cycle, at start-up; unit tests). */
void oa_redis_register(void);

#endif
