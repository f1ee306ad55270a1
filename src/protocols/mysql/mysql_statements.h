/* The prepared statements of one MySQL connection: what each statement id
 * stands for (its operation, first table and sanitized text), so that
 * COM_STMT_EXECUTE, which carries only the id, gets the span its text
 * deserves. Bounded: beyond OA_MYSQL_STATEMENTS the least recently used is
 * forgotten (its executions then get spans without text).
 *
 * A COM_STMT_PREPARE adds its statement before the server names it
 * (pending); the server's answers name the pending ones in the order they
 * were sent. Pure: no allocation. */
#ifndef OA_MYSQL_STATEMENTS_H
#define OA_MYSQL_STATEMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/db/sql_text.h"

#define OA_MYSQL_STATEMENTS 16
/* db.query.text kept of a prepared statement (bytes, NUL included) */
#define OA_MYSQL_STATEMENT_TEXT 384

/* MariaDB's COM_STMT_EXECUTE id for "the statement prepared last" */
#define OA_MYSQL_LAST_PREPARED 0xffffffffu

struct oa_mysql_statement {
    uint32_t id;
    uint8_t state;          /* 0 free, 1 pending (no id yet), 2 named */
    uint32_t order;         /* when it was prepared */
    uint32_t used;          /* when it was last prepared or executed */
    struct oa_sql_summary summary;
    uint16_t text_len;      /* 0: no text */
    char text[OA_MYSQL_STATEMENT_TEXT];
};

struct oa_mysql_statements {
    uint32_t clock;
    struct oa_mysql_statement s[OA_MYSQL_STATEMENTS];
};

void oa_mysql_statements_init(struct oa_mysql_statements *m);
/* A COM_STMT_PREPARE went out: a pending entry to fill (summary, text),
 * evicting the least recently used named one if need be. */
struct oa_mysql_statement *oa_mysql_statements_prepare(struct oa_mysql_statements *m);
/* The server answered the oldest pending prepare: id names it (ok), or it
 * failed (forgotten). */
void oa_mysql_statements_answered(struct oa_mysql_statements *m, bool ok, uint32_t id);
/* The statement of an execution (OA_MYSQL_LAST_PREPARED: the last
 * prepared), or NULL when unknown. */
struct oa_mysql_statement *oa_mysql_statements_find(struct oa_mysql_statements *m, uint32_t id);
/* COM_STMT_CLOSE */
void oa_mysql_statements_close(struct oa_mysql_statements *m, uint32_t id);

#endif
