/* Prepared statements and portals of a PostgreSQL connection
 * (pg_statements.h). A handful of entries: found by a linear walk. */
#include <string.h>

#include "protocols/postgres/pg_statements.h"

void oa_pg_statements_init(struct oa_pg_statements *s)
{
    memset(s, 0, sizeof *s);
}

static bool named(const char *slot_name, uint8_t slot_len, const char *name, size_t len)
{
    return slot_len == len && memcmp(slot_name, name, len) == 0;
}

/* The slot of a named statement, or -1 */
static int find_statement(const struct oa_pg_statements *s, const char *name, size_t len)
{
    if (len == 0)
        return 0;
    for (int i = 1; i < OA_PG_STATEMENTS; i++)
        if (s->st[i].used && named(s->st[i].name, s->st[i].name_len, name, len))
            return i;
    return -1;
}

struct oa_pg_statement *oa_pg_statement_define(struct oa_pg_statements *s, const char *name, size_t len)
{
    if (len > OA_PG_NAME_MAX)
        return NULL;
    int slot = find_statement(s, name, len);
    if (slot < 0) {
        /* a free slot, else the least recently used */
        slot = 1;
        for (int i = 1; i < OA_PG_STATEMENTS; i++) {
            if (!s->st[i].used) {
                slot = i;
                break;
            }
            if (s->st[i].last_used < s->st[slot].last_used)
                slot = i;
        }
    }
    struct oa_pg_statement *st = &s->st[slot];
    st->generation++;
    st->last_used = ++s->clock;
    st->used = true;
    memcpy(st->name, name, len);
    st->name[len] = '\0';
    st->name_len = (uint8_t)len;
    st->text_len = 0;
    st->text[0] = '\0';
    memset(&st->summary, 0, sizeof st->summary);
    oa_db_metric_memo_forget(&st->memo);
    return st;
}

void oa_pg_statement_close(struct oa_pg_statements *s, const char *name, size_t len)
{
    int slot = find_statement(s, name, len);
    if (slot >= 0) {
        s->st[slot].used = false;
        s->st[slot].generation++;
    }
}

static int find_portal(const struct oa_pg_statements *s, const char *name, size_t len)
{
    if (len == 0)
        return 0;
    for (int i = 1; i < OA_PG_PORTALS; i++)
        if (s->portal[i].used && named(s->portal[i].name, s->portal[i].name_len, name, len))
            return i;
    return -1;
}

void oa_pg_portal_bind(struct oa_pg_statements *s, const char *portal, size_t portal_len, const char *statement,
                       size_t statement_len)
{
    if (portal_len > OA_PG_NAME_MAX)
        return;
    int p = find_portal(s, portal, portal_len);
    if (p < 0) {
        p = 1;
        for (int i = 1; i < OA_PG_PORTALS; i++) {
            if (!s->portal[i].used) {
                p = i;
                break;
            }
        }
    }
    struct oa_pg_portal *po = &s->portal[p];
    int st = find_statement(s, statement, statement_len);
    po->used = st >= 0 && (st > 0 || s->st[0].used);
    if (!po->used)
        return;
    po->statement = (uint8_t)st;
    po->generation = s->st[st].generation;
    s->st[st].last_used = ++s->clock;
    memcpy(po->name, portal, portal_len);
    po->name_len = (uint8_t)portal_len;
}

void oa_pg_portal_close(struct oa_pg_statements *s, const char *name, size_t len)
{
    int p = find_portal(s, name, len);
    if (p >= 0)
        s->portal[p].used = false;
}

struct oa_pg_statement *oa_pg_portal_statement(struct oa_pg_statements *s, const char *name, size_t len)
{
    int p = find_portal(s, name, len);
    if (p < 0 || !s->portal[p].used)
        return NULL;
    struct oa_pg_statement *st = &s->st[s->portal[p].statement];
    return st->used && st->generation == s->portal[p].generation ? st : NULL;
}
