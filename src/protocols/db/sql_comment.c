/* The sqlcommenter comment (sql_comment.h). */
#include <string.h>

#include "protocols/db/sql_comment.h"
#include "protocols/db/sql_text.h"

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

bool oa_sql_comment_place(const char *sql, size_t len, unsigned dialect, size_t *at)
{
    char quote = 0;       /* the quote the text is inside, or 0 */
    bool escaped = false; /* after a backslash inside it */
    for (size_t i = 0; i < len; i++) {
        char ch = sql[i];
        if (ch == '\0')
            return false;
        if (ch == '#' && (dialect & OA_SQL_HASH_COMMENTS))
            return false;
        if (i + 1 < len && ((ch == '/' && sql[i + 1] == '*') || (ch == '-' && sql[i + 1] == '-')))
            return false;
        if (quote != 0) {
            /* a doubled quote needs nothing: it closes and reopens */
            if (escaped)
                escaped = false;
            else if (ch == '\\' && quote != '`' && (dialect & OA_SQL_BACKSLASH_QUOTES))
                escaped = true;
            else if (ch == quote)
                quote = 0;
        } else if (ch == '\'' || ch == '"' || (ch == '`' && (dialect & OA_SQL_BACKTICK_IDENTIFIERS))) {
            quote = ch;
        }
    }
    if (quote != 0)
        return false;
    size_t end = len;
    while (end > 0 && is_space(sql[end - 1]))
        end--;
    if (end > 0 && sql[end - 1] == ';') {
        end--;
        while (end > 0 && is_space(sql[end - 1]))
            end--;
    }
    if (end == 0)
        return false; /* nothing but spaces (and a `;`): the server's answer to an empty query stays */
    *at = end;
    return true;
}

size_t oa_sql_comment_format(const struct oa_span_context *sc, char out[OA_SQL_COMMENT_LEN])
{
    static const char head[] = " /*traceparent='";
    static const char tail[] = "'*/";
    char tp[OA_TRACEPARENT_LEN + 1];
    oa_traceparent_format(sc, tp);
    memcpy(out, head, sizeof head - 1);
    memcpy(out + sizeof head - 1, tp, OA_TRACEPARENT_LEN);
    memcpy(out + sizeof head - 1 + OA_TRACEPARENT_LEN, tail, sizeof tail - 1);
    return OA_SQL_COMMENT_LEN;
}
