/* The fields of PostgreSQL messages that spans need, read from a message's
 * kept body (pg_framer.h): pure functions, each false (or empty) when the
 * body is cut before the field ends. Nothing else of a message is read:
 * never a password message, a parameter value or a row. */
#ifndef OA_PG_MESSAGES_H
#define OA_PG_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The untyped first messages' codes */
#define OA_PG_SSL_REQUEST 80877103u
#define OA_PG_GSSENC_REQUEST 80877104u
#define OA_PG_CANCEL_REQUEST 80877102u
#define OA_PG_PROTOCOL_MAJOR 3u

/* A string field: not NUL-terminated in the body's copy. */
struct oa_pg_text {
    const char *s;
    size_t len;
};

/* An untyped message's code (protocol version or request code); false when
 * the body is shorter than it. */
bool oa_pg_untyped_code(const char *b, size_t n, uint32_t *code);
/* StartupMessage: the database to connect to (the user's name when no
 * database is given), the only parameter read. */
bool oa_pg_startup_database(const char *b, size_t n, struct oa_pg_text *database);
/* Query: its text (all that was kept when cut). */
struct oa_pg_text oa_pg_query_text(const char *b, size_t n);
/* Parse: statement name, then text (all that was kept when cut). */
bool oa_pg_parse(const char *b, size_t n, struct oa_pg_text *name, struct oa_pg_text *sql);
/* Bind: portal and statement names. */
bool oa_pg_bind(const char *b, size_t n, struct oa_pg_text *portal, struct oa_pg_text *statement);
/* Execute: portal name. */
bool oa_pg_execute(const char *b, size_t n, struct oa_pg_text *portal);
/* Close: 'S' (statement) or 'P' (portal), and the name. */
bool oa_pg_close(const char *b, size_t n, char *what, struct oa_pg_text *name);
/* ErrorResponse: its SQLSTATE (field 'C'). */
bool oa_pg_error_sqlstate(const char *b, size_t n, struct oa_pg_text *code);

#endif
