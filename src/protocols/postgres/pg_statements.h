/* The prepared statements and portals of one PostgreSQL connection, as far
 * as spans need them: an Execute names a portal, a Bind made that portal
 * from a statement, a Parse gave the statement its text. Bounded: the
 * unnamed statement and OA_PG_STATEMENTS - 1 named ones (the least
 * recently used named one makes room for a new one; its Executes then go
 * without text), the unnamed portal and OA_PG_PORTALS - 1 named ones.
 * Names longer than OA_PG_NAME_MAX are not kept. */
#ifndef OA_PG_STATEMENTS_H
#define OA_PG_STATEMENTS_H

#include <stdint.h>

#include "protocols/db/db_metrics.h"
#include "protocols/db/sql_text.h"

#define OA_PG_STATEMENTS 16
#define OA_PG_PORTALS 4
#define OA_PG_NAME_MAX 63
/* the sanitized text kept per statement */
#define OA_PG_STATEMENT_TEXT 512

struct oa_pg_statement {
    uint32_t generation;     /* bumped whenever the slot gets another statement */
    uint32_t last_used;
    bool used;
    uint8_t name_len;
    uint16_t text_len;
    char name[OA_PG_NAME_MAX + 1];
    struct oa_sql_summary summary;
    /* the series its Executes found when they succeeded: a prepared
     * statement run again and again looks its metric up once (forgotten
     * when the slot gets another statement) */
    struct oa_db_metric_memo memo;
    char text[OA_PG_STATEMENT_TEXT];
};

struct oa_pg_portal {
    bool used;
    uint8_t name_len;
    uint8_t statement;       /* slot */
    uint32_t generation;     /* the slot's when bound */
    char name[OA_PG_NAME_MAX + 1];
};

struct oa_pg_statements {
    uint32_t clock;
    struct oa_pg_statement st[OA_PG_STATEMENTS]; /* [0]: the unnamed statement */
    struct oa_pg_portal portal[OA_PG_PORTALS];   /* [0]: the unnamed portal */
};

void oa_pg_statements_init(struct oa_pg_statements *s);
/* Parse: the slot for statement `name` (replacing any of that name), its
 * summary and text to be filled by the caller; NULL when the name is too
 * long. */
struct oa_pg_statement *oa_pg_statement_define(struct oa_pg_statements *s, const char *name, size_t len);
/* Close 'S' */
void oa_pg_statement_close(struct oa_pg_statements *s, const char *name, size_t len);
/* Bind: portal `portal` runs statement `statement` (unknown: no text). */
void oa_pg_portal_bind(struct oa_pg_statements *s, const char *portal, size_t portal_len, const char *statement,
                       size_t statement_len);
/* Close 'P' */
void oa_pg_portal_close(struct oa_pg_statements *s, const char *name, size_t len);
/* Execute: the statement portal `name` runs, or NULL when unknown. */
struct oa_pg_statement *oa_pg_portal_statement(struct oa_pg_statements *s, const char *name, size_t len);

#endif
