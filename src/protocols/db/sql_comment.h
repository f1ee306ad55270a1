/* sqlcommenter: trace context carried into the database inside the SQL text
 * (https://google.github.io/sqlcommenter/spec/), so that the server's own
 * tools (its log, pg_stat_activity, the slow query log) can join the trace
 * under the CLIENT span of the query.
 *
 * The comment is one key=value pair, the value URL-encoded (a traceparent
 * needs no escape) and in single quotes, in a comment placed at the end of
 * the statement: before a trailing `;`, so that it belongs to the last
 * statement and adds no empty one after it:
 *     SELECT 1 <comment>;   where <comment> is
 *     slash star traceparent='00-<trace>-<span>-<flags>' star slash
 * Opt-in (OTELAUTO_DB_SQLCOMMENTER): the protocols splice it into the query
 * message and patch its length. */
#ifndef OA_SQL_COMMENT_H
#define OA_SQL_COMMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "trace/traceparent.h"

/* The comment's length (its leading space included) */
#define OA_SQL_COMMENT_LEN (sizeof(" /*traceparent=''*/") - 1 + OA_TRACEPARENT_LEN)

/* Where the comment goes into the statement text sql[0..len) (dialect: the
 * flags of sql_text.h), as an offset into it; false when none may be added:
 * the text already holds a comment or anything that could start one (slash
 * star, `--`, and `#` where it starts one: the simplest rule that never puts our
 * comment inside or after someone else's), a NUL, nothing but spaces, or
 * ends inside a quoted string or identifier (quotes are only counted: a
 * text they cannot be sure of is left alone). */
bool oa_sql_comment_place(const char *sql, size_t len, unsigned dialect, size_t *at);

/* Writes the comment for span context sc into out; returns
 * OA_SQL_COMMENT_LEN. */
size_t oa_sql_comment_format(const struct oa_span_context *sc, char out[OA_SQL_COMMENT_LEN]);

#endif
