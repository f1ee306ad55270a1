/* SQL text as database spans may show it: pure functions over the bytes a
 * client sent, shared by the SQL protocols (PostgreSQL, MySQL).
 *
 * - oa_sql_sanitize: the text with every literal (strings, numbers, hex and
 *   bit strings, dollar-quoted bodies) replaced by `?`, comments dropped,
 *   runs of white space made one space; quoted identifiers and parameter
 *   markers ($1, ?) kept. The stable database conventions' db.query.text.
 * - oa_sql_summarize: the operation (the statement's first keyword,
 *   upper-cased: db.operation.name) and the first table named after FROM,
 *   INTO, UPDATE, TABLE, JOIN, TRUNCATE or COPY (db.collection.name, as
 *   written), and whether the text may hold a secret.
 *
 * A statement that sets a password (any PASSWORD or IDENTIFIED keyword
 * outside literals: ALTER ROLE .. PASSWORD '..', CREATE USER .. IDENTIFIED
 * BY, SET PASSWORD) is secret: its text is never recorded, even masked, in
 * case the masking misreads it; only its operation is.
 *
 * Text cut short (a message longer than what the protocol keeps) is safe:
 * an unterminated literal or comment runs to the end and is masked or
 * dropped whole. */
#ifndef OA_SQL_TEXT_H
#define OA_SQL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Dialect flags */
enum {
    /* backslash escapes in '..' (MySQL; PostgreSQL only in E'..') */
    OA_SQL_BACKSLASH_QUOTES = 1u << 0,
    /* ".." is a string, not an identifier (MySQL without ANSI_QUOTES) */
    OA_SQL_DOUBLE_QUOTED_STRINGS = 1u << 1,
    /* `..` is an identifier (MySQL) */
    OA_SQL_BACKTICK_IDENTIFIERS = 1u << 2,
    /* '#' starts a comment to the end of the line (MySQL) */
    OA_SQL_HASH_COMMENTS = 1u << 3,
};
#define OA_SQL_POSTGRES 0u
#define OA_SQL_MYSQL \
    (OA_SQL_BACKSLASH_QUOTES | OA_SQL_DOUBLE_QUOTED_STRINGS | OA_SQL_BACKTICK_IDENTIFIERS | OA_SQL_HASH_COMMENTS)

/* db.operation.name and db.collection.name bounds (bytes, NUL excluded):
 * longer ones are left out rather than cut (a cut name is a wrong name). */
#define OA_SQL_OPERATION_MAX 23
#define OA_SQL_COLLECTION_MAX 63

struct oa_sql_summary {
    char operation[OA_SQL_OPERATION_MAX + 1];   /* "" when none */
    char collection[OA_SQL_COLLECTION_MAX + 1]; /* "" when none */
    /* their lengths: a prepared statement's are read at every execution */
    uint8_t operation_len, collection_len;
    bool secret;                                /* never record the text */
};

/* Writes the sanitized text of sql[0..len) into out (NUL-terminated, at
 * most cap - 1 bytes, cut at a token's end). Returns its length; 0 when
 * nothing may be recorded (a secret statement, or no room). */
size_t oa_sql_sanitize(const char *sql, size_t len, unsigned dialect, char *out, size_t cap);

/* The operation and first table of sql[0..len). */
void oa_sql_summarize(const char *sql, size_t len, unsigned dialect, struct oa_sql_summary *out);

#endif
