/* SQL text for database spans (src/protocols/db/sql_text.c): literals
 * masked, identifiers kept, secrets never recorded, the operation and the
 * first table; output bounded. */
#include <string.h>

#include "protocols/db/sql_text.h"
#include "oa_test.h"

static char out[1100];

static const char *san(const char *sql, unsigned dialect)
{
    oa_sql_sanitize(sql, strlen(sql), dialect, out, sizeof out);
    return out;
}

#define SAN(in, want) CHECK(strcmp(san(in, OA_SQL_POSTGRES), want) == 0, "pg: [%s] -> [%s] (got [%s])", in, want, out)
#define SAN_MY(in, want) CHECK(strcmp(san(in, OA_SQL_MYSQL), want) == 0, "mysql: [%s] -> [%s] (got [%s])", in, want, out)

static void summary(const char *sql, unsigned dialect, const char *op, const char *coll, bool secret)
{
    struct oa_sql_summary s;
    oa_sql_summarize(sql, strlen(sql), dialect, &s);
    CHECK(strcmp(s.operation, op) == 0 && strcmp(s.collection, coll) == 0 && s.secret == secret,
          "summary [%s]: op [%s] coll [%s] secret %d (got [%s] [%s] %d)", sql, op, coll, secret, s.operation,
          s.collection, s.secret);
    CHECK(s.operation_len == strlen(op) && s.collection_len == strlen(coll), "summary [%s]: lengths %u %u", sql,
          s.operation_len, s.collection_len);
}

static void test_literals(void)
{
    SAN("SELECT * FROM t WHERE a = 'x' AND b = 42", "SELECT * FROM t WHERE a = ? AND b = ?");
    SAN("select 'it''s', 'a''''b'", "select ?, ?");
    SAN("SELECT E'a\\'b\\\\' || 'c'", "SELECT ? || ?");
    SAN("SELECT e'\\'', x", "SELECT ?, x");
    SAN("SELECT $$dollar 'quoted' $$, $tag$ has $$ inside $tag$ FROM t", "SELECT ?, ? FROM t");
    SAN("SELECT $1, $2 FROM t WHERE id = $10", "SELECT $1, $2 FROM t WHERE id = $10");
    SAN("SELECT 3.14, .5, 1e10, 2.5E-3, 7., 1_000", "SELECT ?, ?, ?, ?, ?, ?");
    SAN("SELECT -5, x-1, t1.c2 FROM t1", "SELECT -?, x-?, t1.c2 FROM t1");
    SAN("SELECT X'1F', x'ab', B'0101', N'nat', U&'d\\0061t', 0xFF, 0b101, 0o17",
        "SELECT ?, ?, ?, ?, ?, ?, ?, ?");
    SAN("INSERT INTO t (a, b) VALUES (1, 2), (3, 'four')", "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)");
    SAN("SELECT \"Weird \"\"col\"\"\" FROM \"My Table\"", "SELECT \"Weird \"\"col\"\"\" FROM \"My Table\"");
    SAN("SELECT U&\"d\\0061t\" FROM t", "SELECT U&\"d\\0061t\" FROM t");
    SAN("SELECT a::text, b[1] FROM t", "SELECT a::text, b[?] FROM t");
    SAN("SELECT true, NULL", "SELECT true, NULL");
    SAN("SELECT 1; SELECT 'two'", "SELECT ?; SELECT ?");
    SAN("SELECT $notatag, $a$x$a$", "SELECT $notatag, ?");
}

static void test_comments_and_space(void)
{
    SAN("SELECT 1 -- secret 'x'\nFROM t", "SELECT ? FROM t");
    SAN("SELECT /* note 'x' /* nested */ still */ a FROM t", "SELECT a FROM t");
    SAN("  SELECT\n\t a ,\r\n b   FROM t  ", "SELECT a , b FROM t");
    SAN("SELECT a/*c*/FROM t", "SELECT a FROM t");
    SAN("", "");
    SAN("-- only a comment", "");
}

static void test_unterminated(void)
{
    /* text cut short: whatever follows an opening quote is masked */
    SAN("SELECT * FROM t WHERE a = 'unterminated secret", "SELECT * FROM t WHERE a = ?");
    SAN("SELECT $q$ never closed", "SELECT ?");
    SAN("SELECT E'abc\\", "SELECT ?");
    SAN("SELECT 1 /* open comment 'x'", "SELECT ?");
    SAN("SELECT \"open ident", "SELECT \"open ident");
}

static void test_secrets(void)
{
    const char *secret[] = {
        "ALTER ROLE bob PASSWORD 'hunter2'",
        "alter user bob with password 'hunter2' valid until 'infinity'",
        "CREATE ROLE bob LOGIN PASSWORD 'x''y'",
        "CREATE USER bob WITH ENCRYPTED PASSWORD 'md5abc'",
        "SET PASSWORD FOR bob = 'hunter2'",
        "CREATE USER 'bob'@'%' IDENTIFIED BY 'hunter2'",
        /* masking would fail here (an unknown quote form): still not recorded */
        "ALTER ROLE bob PASSWORD q'[hunter2]'",
        "SELECT 1; ALTER ROLE bob PASSWORD 'late'",
    };
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++) {
        char buf[64];
        memset(buf, 'z', sizeof buf);
        size_t n = oa_sql_sanitize(secret[i], strlen(secret[i]), OA_SQL_POSTGRES, buf, sizeof buf);
        CHECK(n == 0 && buf[0] == '\0', "secret statement not recorded: %s", secret[i]);
        struct oa_sql_summary s;
        oa_sql_summarize(secret[i], strlen(secret[i]), OA_SQL_POSTGRES, &s);
        CHECK(s.secret && s.collection[0] == '\0' && s.collection_len == 0, "summary says secret: %s", secret[i]);
    }
    /* the word in a literal or a quoted identifier is no secret */
    SAN("SELECT 'password' FROM t", "SELECT ? FROM t");
    SAN("SELECT \"pw\" FROM users", "SELECT \"pw\" FROM users");
    summary("ALTER ROLE bob PASSWORD 'x'", OA_SQL_POSTGRES, "ALTER", "", true);
}

static void test_bounds(void)
{
    char big[4000];
    size_t pos = 0;
    pos += (size_t)snprintf(big, sizeof big, "SELECT ");
    while (pos < sizeof big - 20)
        pos += (size_t)snprintf(big + pos, sizeof big - pos, "col_%zu, ", pos);
    big[pos] = '\0';
    char small[64];
    size_t n = oa_sql_sanitize(big, pos, OA_SQL_POSTGRES, small, sizeof small);
    CHECK(n > 0 && n < sizeof small && strlen(small) == n, "cut to the room (%zu)", n);
    CHECK(small[n - 1] != ' ', "cut at a token's end, no trailing space: [%s]", small);
    CHECK(oa_sql_sanitize("SELECT 1", 8, OA_SQL_POSTGRES, small, 0) == 0, "no room: nothing");
    n = oa_sql_sanitize("SELECT 'abc'", 12, OA_SQL_POSTGRES, small, 9);
    CHECK(n == 8 && strcmp(small, "SELECT ?") == 0, "exactly enough room: [%s]", small);
    n = oa_sql_sanitize("SELECT 'abc'", 12, OA_SQL_POSTGRES, small, 8);
    CHECK(n == 6 && strcmp(small, "SELECT") == 0, "one byte short: the literal's mark left out: [%s]", small);
    /* not NUL-terminated input, a NUL inside */
    n = oa_sql_sanitize("SELECT 'a\0b' FROM t", 19, OA_SQL_POSTGRES, small, sizeof small);
    CHECK(strcmp(small, "SELECT ? FROM t") == 0, "NUL inside a literal: [%s]", small);
}

static void test_mysql(void)
{
    SAN_MY("SELECT \"str\", 'it\\'s', `col` FROM `db`.`t` # tail 'x'", "SELECT ?, ?, `col` FROM `db`.`t`");
    SAN_MY("SELECT 'a''b', 0x1f", "SELECT ?, ?");
    summary("SELECT `a` FROM `shop`.`orders` o", OA_SQL_MYSQL, "SELECT", "`shop`.`orders`", false);
}

static void test_summary(void)
{
    summary("SELECT * FROM accounts WHERE id = 1", OA_SQL_POSTGRES, "SELECT", "accounts", false);
    summary("select a from public.users u join orders o on 1=1", OA_SQL_POSTGRES, "SELECT", "public.users", false);
    summary("insert into pgbench_history (tid) values (1)", OA_SQL_POSTGRES, "INSERT", "pgbench_history", false);
    summary("UPDATE ONLY t SET a = 1", OA_SQL_POSTGRES, "UPDATE", "t", false);
    summary("DELETE FROM \"Quoted Table\" WHERE x", OA_SQL_POSTGRES, "DELETE", "\"Quoted Table\"", false);
    summary("CREATE TABLE IF NOT EXISTS s.t (a int)", OA_SQL_POSTGRES, "CREATE", "s.t", false);
    summary("DROP TABLE t", OA_SQL_POSTGRES, "DROP", "t", false);
    summary("TRUNCATE TABLE t1, t2", OA_SQL_POSTGRES, "TRUNCATE", "t1", false);
    summary("COPY pgbench_accounts FROM STDIN", OA_SQL_POSTGRES, "COPY", "pgbench_accounts", false);
    summary("COPY (SELECT 1) TO STDOUT", OA_SQL_POSTGRES, "COPY", "", false);
    summary("SELECT * FROM (SELECT a FROM inner_t) s", OA_SQL_POSTGRES, "SELECT", "inner_t", false);
    summary("  (SELECT 1)", OA_SQL_POSTGRES, "SELECT", "", false);
    summary("/* c */ -- x\n begin", OA_SQL_POSTGRES, "BEGIN", "", false);
    summary("BEGIN; SELECT * FROM later", OA_SQL_POSTGRES, "BEGIN", "", false);
    summary("SELECT 'FROM x' FROM y", OA_SQL_POSTGRES, "SELECT", "y", false);
    summary("SELECT 1 FOR UPDATE", OA_SQL_POSTGRES, "SELECT", "", false);
    summary("", OA_SQL_POSTGRES, "", "", false);
    summary("'x'", OA_SQL_POSTGRES, "", "", false);
    summary("SELECT * FROM aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", OA_SQL_POSTGRES,
            "SELECT", "", false);
    summary("AVERYLONGOPERATIONWORDTHATISTOOLONG x", OA_SQL_POSTGRES, "", "", false);
}

int main(void)
{
    test_literals();
    test_comments_and_space();
    test_unterminated();
    test_secrets();
    test_bounds();
    test_mysql();
    test_summary();
    TEST_DONE();
}
