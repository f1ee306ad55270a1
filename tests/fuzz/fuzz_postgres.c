/* libFuzzer target for the PostgreSQL protocol's pure parts: the framer
 * (src/protocols/postgres/pg_framer.c), the message fields
 * (pg_messages.c), the statements and portals map (pg_statements.c) and
 * the SQL text functions (src/protocols/db/sql_text.c).
 *
 * The first input byte picks the direction (bit 0: frontend, its stream
 * starting with an untyped message; else backend) and the room kept per
 * body (bits 1-3); the rest is one stream, framed twice: whole, and in
 * pieces whose sizes come from the stream itself (1 to 16 bytes), each
 * copied into a buffer of exactly its size (ASan catches a read past it).
 * Both runs must cut the same messages (type, length, kept bytes) and stop
 * at the same bad length. The framer must use at most what it was given
 * and use nothing only at a message's end. Every message's fields are read
 * as the connection reads them; SQL text is sanitized into a small room:
 * the result fits and is terminated, and secret statements give nothing;
 * the sqlcommenter comment's place is inside the text, in a text without
 * comment markers, and only spaces and one `;` follow it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/db/sql_comment.h"
#include "protocols/db/sql_text.h"
#include "protocols/postgres/pg_framer.h"
#include "protocols/postgres/pg_messages.h"
#include "protocols/postgres/pg_statements.h"

#define MAX_MESSAGES 4096

struct trace {
    size_t n;
    char type[MAX_MESSAGES];
    uint32_t len[MAX_MESSAGES];
    uint64_t digest[MAX_MESSAGES];
    bool bad;
};

static uint64_t digest_bytes(const char *b, size_t n)
{
    uint64_t d = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        d = (d ^ (unsigned char)b[i]) * 0x100000001b3ull;
    return d;
}

static struct oa_pg_statements statements;

static void check_sql(const char *sql, size_t len)
{
    char out[64];
    struct oa_sql_summary s;
    oa_sql_summarize(sql, len, OA_SQL_POSTGRES, &s);
    size_t n = oa_sql_sanitize(sql, len, OA_SQL_POSTGRES, out, sizeof out);
    if (n >= sizeof out || strlen(out) != n)
        abort();
    if (s.secret && n != 0)
        abort();
    if (strlen(s.operation) > OA_SQL_OPERATION_MAX || strlen(s.collection) > OA_SQL_COLLECTION_MAX)
        abort();
    n = oa_sql_sanitize(sql, len, OA_SQL_MYSQL, out, sizeof out);
    if (n >= sizeof out || strlen(out) != n)
        abort();
    size_t at;
    if (oa_sql_comment_place(sql, len, OA_SQL_MYSQL, &at)) {
        if (at == 0 || at > len || memchr(sql, '#', len) != NULL || memmem(sql, len, "/*", 2) != NULL ||
            memmem(sql, len, "--", 2) != NULL)
            abort();
        int semicolons = 0;
        for (size_t i = at; i < len; i++) {
            if (sql[i] == ';')
                semicolons++;
            else if (sql[i] != ' ' && sql[i] != '\t' && sql[i] != '\n' && sql[i] != '\r' && sql[i] != '\f' &&
                     sql[i] != '\v')
                abort();
        }
        if (semicolons > 1)
            abort();
    }
}

/* The fields a connection reads of one message. */
static void read_fields(bool frontend, char type, const char *b, size_t n)
{
    struct oa_pg_text a, c;
    char what;
    uint32_t code;
    if (!frontend) {
        if (type == 'E' && oa_pg_error_sqlstate(b, n, &a) && a.s + a.len > b + n)
            abort();
        return;
    }
    switch (type) {
    case 0:
        if (oa_pg_untyped_code(b, n, &code) && oa_pg_startup_database(b, n, &a) && a.s + a.len > b + n)
            abort();
        break;
    case 'Q':
        a = oa_pg_query_text(b, n);
        check_sql(a.s, a.len);
        break;
    case 'P':
        if (oa_pg_parse(b, n, &a, &c)) {
            check_sql(c.s, c.len);
            oa_pg_statement_define(&statements, a.s, a.len);
        }
        break;
    case 'B':
        if (oa_pg_bind(b, n, &a, &c))
            oa_pg_portal_bind(&statements, a.s, a.len, c.s, c.len);
        break;
    case 'E':
        if (oa_pg_execute(b, n, &a))
            oa_pg_portal_statement(&statements, a.s, a.len);
        break;
    case 'C':
        if (oa_pg_close(b, n, &what, &a)) {
            if (what == 'S')
                oa_pg_statement_close(&statements, a.s, a.len);
            else
                oa_pg_portal_close(&statements, a.s, a.len);
        }
        break;
    }
}

static void run(const uint8_t *data, size_t size, bool frontend, size_t room, bool pieces, struct trace *t)
{
    char *buf = malloc(room > 0 ? room : 1);
    struct oa_pg_framer f;
    oa_pg_framer_init(&f, buf, room, frontend);
    const char keep[] = {'Q', 'P', 'B', 'E', 'C'};
    for (size_t i = 0; i < sizeof keep; i++)
        oa_pg_framer_keep(&f, keep[i]);
    oa_pg_framer_keep(&f, 'E');
    oa_pg_statements_init(&statements);
    memset(t, 0, sizeof *t);
    size_t pos = 0;
    while (pos < size && !t->bad) {
        size_t piece = size - pos;
        if (pieces) {
            piece = 1 + data[pos] % 16;
            if (piece > size - pos)
                piece = size - pos;
        }
        char *copy = malloc(piece);
        memcpy(copy, data + pos, piece);
        size_t off = 0;
        while (off < piece) {
            enum oa_pg_frame_event ev;
            size_t used = oa_pg_framer_feed(&f, copy + off, piece - off, &ev);
            if (used > piece - off || (used == 0 && ev == OA_PG_NEED_MORE))
                abort();
            off += used;
            if (ev == OA_PG_BAD) {
                t->bad = true;
                break;
            }
            if (ev == OA_PG_MESSAGE) {
                if (f.kept > room || f.kept > f.len)
                    abort();
                if (t->n < MAX_MESSAGES) {
                    t->type[t->n] = f.type;
                    t->len[t->n] = f.len;
                    t->digest[t->n] = digest_bytes(buf, f.kept);
                    t->n++;
                }
                read_fields(frontend, f.type, buf, f.kept);
            }
        }
        free(copy);
        pos += piece;
    }
    free(buf);
}

static struct trace whole, cut;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool frontend = data[0] & 1;
    size_t room = (size_t)((data[0] >> 1) & 7) * 64;
    run(data + 1, size - 1, frontend, room, false, &whole);
    run(data + 1, size - 1, frontend, room, true, &cut);
    if (whole.n != cut.n || whole.bad != cut.bad)
        abort();
    for (size_t i = 0; i < whole.n; i++)
        if (whole.type[i] != cut.type[i] || whole.len[i] != cut.len[i] || whole.digest[i] != cut.digest[i])
            abort();
    return 0;
}
