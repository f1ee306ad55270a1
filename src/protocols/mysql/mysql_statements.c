/* The prepared statements of one MySQL connection (see mysql_statements.h). */
#include <string.h>

#include "protocols/mysql/mysql_statements.h"

enum { FREE = 0, PENDING, NAMED };

void oa_mysql_statements_init(struct oa_mysql_statements *m)
{
    m->clock = 0;
    for (int i = 0; i < OA_MYSQL_STATEMENTS; i++)
        m->s[i].state = FREE;
}

struct oa_mysql_statement *oa_mysql_statements_prepare(struct oa_mysql_statements *m)
{
    struct oa_mysql_statement *pick = NULL;
    for (int i = 0; i < OA_MYSQL_STATEMENTS; i++) {
        struct oa_mysql_statement *s = &m->s[i];
        if (s->state == FREE) {
            pick = s;
            break;
        }
        if (s->state == NAMED && (pick == NULL || s->used < pick->used))
            pick = s;
    }
    if (pick == NULL) { /* every one pending: the oldest pending gives way */
        pick = &m->s[0];
        for (int i = 1; i < OA_MYSQL_STATEMENTS; i++)
            if (m->s[i].order < pick->order)
                pick = &m->s[i];
    }
    memset(pick, 0, sizeof(*pick));
    pick->state = PENDING;
    pick->order = pick->used = ++m->clock;
    return pick;
}

void oa_mysql_statements_answered(struct oa_mysql_statements *m, bool ok, uint32_t id)
{
    struct oa_mysql_statement *oldest = NULL;
    for (int i = 0; i < OA_MYSQL_STATEMENTS; i++) {
        struct oa_mysql_statement *s = &m->s[i];
        if (s->state == PENDING && (oldest == NULL || s->order < oldest->order))
            oldest = s;
    }
    if (oldest == NULL)
        return;
    if (ok) {
        /* an id the server reuses names the new statement only */
        oa_mysql_statements_close(m, id);
        oldest->state = NAMED;
        oldest->id = id;
    } else {
        oldest->state = FREE;
    }
}

struct oa_mysql_statement *oa_mysql_statements_find(struct oa_mysql_statements *m, uint32_t id)
{
    struct oa_mysql_statement *found = NULL;
    for (int i = 0; i < OA_MYSQL_STATEMENTS; i++) {
        struct oa_mysql_statement *s = &m->s[i];
        if (s->state == FREE)
            continue;
        if (id == OA_MYSQL_LAST_PREPARED ? (found == NULL || s->order > found->order)
                                         : (s->state == NAMED && s->id == id))
            found = s;
    }
    if (found != NULL)
        found->used = ++m->clock;
    return found;
}

void oa_mysql_statements_close(struct oa_mysql_statements *m, uint32_t id)
{
    for (int i = 0; i < OA_MYSQL_STATEMENTS; i++)
        if (m->s[i].state == NAMED && m->s[i].id == id)
            m->s[i].state = FREE;
}
