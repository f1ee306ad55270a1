/* MySQL / MariaDB client connections behind the protocol interface
 * (wire/protocol.h): the parser's events (mysql_parser.h) become database
 * CLIENT spans (protocols/db/db_operation.h). All functions run with the
 * connection locked. */
#ifndef OA_MYSQL_EXCHANGE_H
#define OA_MYSQL_EXCHANGE_H

#include "wire/protocol.h"

/* A client connection whose first incoming bytes are a server greeting. */
extern const struct oa_protocol oa_mysql_protocol;
/* Registers it (the life cycle, at start-up; unit tests). */
void oa_mysql_register(void);

#endif
