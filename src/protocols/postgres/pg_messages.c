/* Fields of PostgreSQL messages (pg_messages.h). */
#include <string.h>

#include "protocols/postgres/pg_messages.h"

/* The NUL-terminated string at b[*pos..n); false when it does not end
 * within n (a cut message). */
static bool cstring(const char *b, size_t n, size_t *pos, struct oa_pg_text *t)
{
    if (*pos >= n)
        return false;
    const char *end = memchr(b + *pos, '\0', n - *pos);
    if (end == NULL)
        return false;
    t->s = b + *pos;
    t->len = (size_t)(end - t->s);
    *pos += t->len + 1;
    return true;
}

bool oa_pg_untyped_code(const char *b, size_t n, uint32_t *code)
{
    if (n < 4)
        return false;
    const unsigned char *u = (const unsigned char *)b;
    *code = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
    return true;
}

bool oa_pg_startup_database(const char *b, size_t n, struct oa_pg_text *database)
{
    struct oa_pg_text user = {NULL, 0}, name, value;
    size_t pos = 4;
    database->s = NULL;
    database->len = 0;
    while (cstring(b, n, &pos, &name) && name.len > 0 && cstring(b, n, &pos, &value)) {
        if (name.len == 4 && memcmp(name.s, "user", 4) == 0)
            user = value;
        else if (name.len == 8 && memcmp(name.s, "database", 8) == 0)
            *database = value;
    }
    if (database->len == 0)
        *database = user;
    return database->len > 0;
}

struct oa_pg_text oa_pg_query_text(const char *b, size_t n)
{
    const char *end = memchr(b, '\0', n);
    return (struct oa_pg_text){b, end != NULL ? (size_t)(end - b) : n};
}

bool oa_pg_parse(const char *b, size_t n, struct oa_pg_text *name, struct oa_pg_text *sql)
{
    size_t pos = 0;
    if (!cstring(b, n, &pos, name))
        return false;
    *sql = oa_pg_query_text(b + pos, n - pos);
    return true;
}

bool oa_pg_bind(const char *b, size_t n, struct oa_pg_text *portal, struct oa_pg_text *statement)
{
    size_t pos = 0;
    return cstring(b, n, &pos, portal) && cstring(b, n, &pos, statement);
}

bool oa_pg_execute(const char *b, size_t n, struct oa_pg_text *portal)
{
    size_t pos = 0;
    return cstring(b, n, &pos, portal);
}

bool oa_pg_close(const char *b, size_t n, char *what, struct oa_pg_text *name)
{
    size_t pos = 1;
    if (n < 1 || !cstring(b, n, &pos, name))
        return false;
    *what = b[0];
    return true;
}

bool oa_pg_error_sqlstate(const char *b, size_t n, struct oa_pg_text *code)
{
    size_t pos = 0;
    while (pos < n && b[pos] != '\0') {
        char field = b[pos++];
        struct oa_pg_text value;
        if (!cstring(b, n, &pos, &value))
            return false;
        if (field == 'C') {
            *code = value;
            return true;
        }
    }
    return false;
}
