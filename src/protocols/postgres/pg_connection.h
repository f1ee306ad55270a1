/* PostgreSQL client connections behind the protocol interface
 * (wire/protocol.h): the two framers, the connection's database, its
 * prepared statements, and the operations waiting for their replies. All
 * functions are called with the connection locked.
 *
 * Spans: one per simple Query message (several statements in one Query
 * make one span, named from the first statement; it ends at ReadyForQuery)
 * and one per Execute of the extended protocol (ended by its
 * CommandComplete, EmptyQueryResponse or PortalSuspended). An
 * ErrorResponse fails the operation it answers (db.response.status_code =
 * error.type = its SQLSTATE); in an extended-protocol pipeline the server
 * then skips everything up to the Sync, so the Executes still waiting
 * before that Sync end too, status Error, error.type "pipeline_aborted".
 *
 * The first bytes decide: a StartupMessage (protocol 3), an SSLRequest or
 * a GSSENCRequest. After an SSLRequest answered 'S' the rest of the socket
 * is TLS: this view gives up, and the StartupMessage is seen again in the
 * session's plaintext (wire/tls_io.c), a connection of its own. */
#ifndef OA_PG_CONNECTION_H
#define OA_PG_CONNECTION_H

#include "wire/protocol.h"

extern const struct oa_protocol oa_postgres_protocol;
/* Registers it (the life cycle, at start-up; unit tests). */
void oa_postgres_register(void);

#endif
