/* SQL text for database spans (sql_text.h): one lexer, two readers of its
 * tokens. The lexer knows only what separates literals from the rest
 * (quotes, comments, numbers, dollar quoting); it never needs a grammar. */
#include <string.h>

#include "protocols/db/sql_text.h"

enum token_kind {
    TOK_END = 0,
    TOK_SPACE,   /* white space or a comment */
    TOK_WORD,    /* keyword or unquoted identifier */
    TOK_QUOTED,  /* quoted identifier */
    TOK_LITERAL, /* string, number, hex or bit string, dollar-quoted body */
    TOK_OTHER,   /* operator, punctuation, parameter marker */
};

struct lexer {
    const char *s;
    size_t len;
    size_t pos;
    unsigned dialect;
};

struct token {
    enum token_kind kind;
    const char *p;
    size_t len;
};

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_ident_char(unsigned char c)
{
    return is_ident_start(c) || is_digit(c) || c == '$';
}

static bool is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned char at(const struct lexer *l, size_t i)
{
    return i < l->len ? (unsigned char)l->s[i] : 0;
}

/* Past a quoted run that opened at `open` (its quote q), doubled quotes
 * escaping one, backslashes too when asked; the end of the text when it
 * never closes. */
static size_t skip_quoted(const struct lexer *l, size_t open, char q, bool backslash)
{
    size_t i = open + 1;
    while (i < l->len) {
        char c = l->s[i];
        if (backslash && c == '\\') {
            i += 2;
            continue;
        }
        if (c == q) {
            if (i + 1 < l->len && l->s[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return l->len;
}

/* A dollar quote's tag "$tag$" at i: its length, or 0 when there is none. */
static size_t dollar_tag(const struct lexer *l, size_t i)
{
    size_t j = i + 1;
    if (at(l, j) != '$') {
        if (!is_ident_start(at(l, j)))
            return 0;
        while (j < l->len && (is_ident_start(at(l, j)) || is_digit(at(l, j))))
            j++;
        if (at(l, j) != '$')
            return 0;
    }
    return j + 1 - i;
}

/* Past a number at i (digits with '_' separators, a fraction, an exponent;
 * 0x, 0o, 0b forms). */
static size_t skip_number(const struct lexer *l, size_t i)
{
    if (at(l, i) == '0' && (at(l, i + 1) == 'x' || at(l, i + 1) == 'X' || at(l, i + 1) == 'o' ||
                            at(l, i + 1) == 'O' || at(l, i + 1) == 'b' || at(l, i + 1) == 'B') &&
        is_hex(at(l, i + 2))) {
        i += 2;
        while (is_hex(at(l, i)) || at(l, i) == '_')
            i++;
        return i;
    }
    while (is_digit(at(l, i)) || (at(l, i) == '_' && is_digit(at(l, i + 1))))
        i++;
    if (at(l, i) == '.' && at(l, i + 1) != '.') {
        i++;
        while (is_digit(at(l, i)) || (at(l, i) == '_' && is_digit(at(l, i + 1))))
            i++;
    }
    if ((at(l, i) == 'e' || at(l, i) == 'E') &&
        (is_digit(at(l, i + 1)) || ((at(l, i + 1) == '+' || at(l, i + 1) == '-') && is_digit(at(l, i + 2))))) {
        i += 2;
        while (is_digit(at(l, i)))
            i++;
    }
    return i;
}

/* Past a block comment opened at i ("/ *"); nested ones count (PostgreSQL). */
static size_t skip_block_comment(const struct lexer *l, size_t i)
{
    int depth = 0;
    while (i < l->len) {
        if (at(l, i) == '/' && at(l, i + 1) == '*') {
            depth++;
            i += 2;
        } else if (at(l, i) == '*' && at(l, i + 1) == '/') {
            i += 2;
            if (--depth == 0)
                return i;
        } else {
            i++;
        }
    }
    return l->len;
}

static size_t literal_end(const struct lexer *l, size_t i, enum token_kind *kind);

static void next_token(struct lexer *l, struct token *t)
{
    size_t i = l->pos;
    t->p = l->s + i;
    if (i >= l->len) {
        t->kind = TOK_END;
        t->len = 0;
        return;
    }
    unsigned char c = at(l, i);
    size_t end = i + 1;
    enum token_kind kind = TOK_OTHER;
    if (is_space(c)) {
        while (is_space(at(l, end)))
            end++;
        kind = TOK_SPACE;
    } else if (c == '-' && at(l, i + 1) == '-') {
        while (end < l->len && at(l, end) != '\n')
            end++;
        kind = TOK_SPACE;
    } else if (c == '#' && (l->dialect & OA_SQL_HASH_COMMENTS)) {
        while (end < l->len && at(l, end) != '\n')
            end++;
        kind = TOK_SPACE;
    } else if (c == '/' && at(l, i + 1) == '*') {
        end = skip_block_comment(l, i);
        kind = TOK_SPACE;
    } else {
        end = literal_end(l, i, &kind);
    }
    t->kind = kind;
    t->len = end - i;
    l->pos = end;
}

/* What starts at i that is not white space: its end and kind. */
static size_t literal_end(const struct lexer *l, size_t i, enum token_kind *kind)
{
    unsigned char c = at(l, i);
    unsigned char n = at(l, i + 1);
    bool mysql_strings = (l->dialect & OA_SQL_DOUBLE_QUOTED_STRINGS) != 0;
    *kind = TOK_LITERAL;
    if (c == '\'')
        return skip_quoted(l, i, '\'', (l->dialect & OA_SQL_BACKSLASH_QUOTES) != 0);
    if (c == '"') {
        if (mysql_strings)
            return skip_quoted(l, i, '"', true);
        *kind = TOK_QUOTED;
        return skip_quoted(l, i, '"', false);
    }
    if (c == '`' && (l->dialect & OA_SQL_BACKTICK_IDENTIFIERS)) {
        *kind = TOK_QUOTED;
        return skip_quoted(l, i, '`', false);
    }
    /* E'..' (escapes), X'..' B'..' (hex, bits), N'..' (national) */
    if (n == '\'' && (c == 'e' || c == 'E'))
        return skip_quoted(l, i + 1, '\'', true);
    if (n == '\'' && (c == 'x' || c == 'X' || c == 'b' || c == 'B' || c == 'n' || c == 'N'))
        return skip_quoted(l, i + 1, '\'', (l->dialect & OA_SQL_BACKSLASH_QUOTES) != 0);
    /* U&'..' (unicode escapes); U&".." is an identifier */
    if ((c == 'u' || c == 'U') && n == '&' && at(l, i + 2) == '\'')
        return skip_quoted(l, i + 2, '\'', false);
    if ((c == 'u' || c == 'U') && n == '&' && at(l, i + 2) == '"' && !mysql_strings) {
        *kind = TOK_QUOTED;
        return skip_quoted(l, i + 2, '"', false);
    }
    if (is_digit(c) || (c == '.' && is_digit(n)))
        return skip_number(l, i);
    if (c == '$') {
        if (is_digit(n)) { /* $1: a parameter */
            size_t j = i + 1;
            while (is_digit(at(l, j)))
                j++;
            *kind = TOK_OTHER;
            return j;
        }
        size_t tag = dollar_tag(l, i);
        if (tag > 0) {
            const char *close = tag <= l->len - i - tag
                                    ? memmem(l->s + i + tag, l->len - i - tag, l->s + i, tag)
                                    : NULL;
            return close != NULL ? (size_t)(close - l->s) + tag : l->len;
        }
    }
    if (is_ident_start(c)) {
        size_t j = i + 1;
        while (is_ident_char(at(l, j)))
            j++;
        *kind = TOK_WORD;
        return j;
    }
    *kind = TOK_OTHER;
    return i + 1;
}

static bool word_is(const struct token *t, const char *upper)
{
    size_t n = strlen(upper);
    if (t->kind != TOK_WORD || t->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t->p[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != upper[i])
            return false;
    }
    return true;
}

static bool is_secret_word(const struct token *t)
{
    return word_is(t, "PASSWORD") || word_is(t, "IDENTIFIED");
}

size_t oa_sql_sanitize(const char *sql, size_t len, unsigned dialect, char *out, size_t cap)
{
    struct lexer l = {sql, len, 0, dialect};
    struct token t;
    size_t pos = 0;
    bool space = false;
    bool full = cap == 0;
    if (cap > 0)
        out[0] = '\0';
    for (next_token(&l, &t); t.kind != TOK_END; next_token(&l, &t)) {
        if (is_secret_word(&t)) {
            if (cap > 0)
                out[0] = '\0';
            return 0;
        }
        if (t.kind == TOK_SPACE) {
            space = pos > 0;
            continue;
        }
        if (full)
            continue; /* still read to the end: a secret may come later */
        const char *p = t.kind == TOK_LITERAL ? "?" : t.p;
        size_t n = t.kind == TOK_LITERAL ? 1 : t.len;
        if (pos + (space ? 1 : 0) + n + 1 > cap) {
            full = true;
            continue;
        }
        if (space)
            out[pos++] = ' ';
        space = false;
        memcpy(out + pos, p, n);
        pos += n;
    }
    if (cap > 0)
        out[pos] = '\0';
    return pos;
}

/* The next token that is not white space. */
static void next_significant(struct lexer *l, struct token *t)
{
    do
        next_token(l, t);
    while (t->kind == TOK_SPACE);
}

/* A (possibly qualified) name starting with t, into out; the token after
 * it is left in t. False when t starts none or it is too long. */
static bool read_name(struct lexer *l, struct token *t, char *out, size_t cap)
{
    size_t pos = 0;
    bool ok = true;
    for (;;) {
        if (t->kind != TOK_WORD && t->kind != TOK_QUOTED)
            return false;
        if (pos + t->len + 1 > cap)
            ok = false;
        else {
            memcpy(out + pos, t->p, t->len);
            pos += t->len;
        }
        /* a qualified name is written without spaces around its dots */
        next_token(l, t);
        if (t->kind != TOK_OTHER || t->len != 1 || t->p[0] != '.' ||
            (at(l, l->pos) != '"' && at(l, l->pos) != '`' && !is_ident_start(at(l, l->pos))))
            break;
        if (pos + 2 > cap)
            ok = false;
        else
            out[pos++] = '.';
        next_token(l, t);
    }
    out[ok ? pos : 0] = '\0';
    return ok && pos > 0;
}

/* Words that may stand between a table keyword and the table. */
static bool is_table_noise(const struct token *t)
{
    return word_is(t, "ONLY") || word_is(t, "IF") || word_is(t, "NOT") || word_is(t, "EXISTS") ||
           word_is(t, "TABLE") || word_is(t, "LATERAL");
}

static bool is_table_keyword(const struct token *t, bool first)
{
    return word_is(t, "FROM") || word_is(t, "INTO") || word_is(t, "JOIN") || word_is(t, "TABLE") ||
           (first && (word_is(t, "UPDATE") || word_is(t, "TRUNCATE") || word_is(t, "COPY")));
}

static void summarize(const char *sql, size_t len, unsigned dialect, struct oa_sql_summary *out);

void oa_sql_summarize(const char *sql, size_t len, unsigned dialect, struct oa_sql_summary *out)
{
    summarize(sql, len, dialect, out);
    out->operation_len = (uint8_t)strlen(out->operation);
    out->collection_len = (uint8_t)strlen(out->collection);
}

static void summarize(const char *sql, size_t len, unsigned dialect, struct oa_sql_summary *out)
{
    struct lexer l = {sql, len, 0, dialect};
    struct token t;
    out->operation[0] = '\0';
    out->collection[0] = '\0';
    out->secret = false;

    /* the operation: the first word, past any opening parentheses */
    next_significant(&l, &t);
    while (t.kind == TOK_OTHER && t.len == 1 && t.p[0] == '(')
        next_significant(&l, &t);
    if (t.kind == TOK_WORD && t.len <= OA_SQL_OPERATION_MAX) {
        for (size_t i = 0; i < t.len; i++) {
            char c = t.p[i];
            out->operation[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        }
        out->operation[t.len] = '\0';
    }

    bool first = true;
    bool statement_over = false;
    while (t.kind != TOK_END) {
        if (is_secret_word(&t)) {
            out->secret = true;
            out->collection[0] = '\0';
            return;
        }
        if (t.kind == TOK_OTHER && t.len == 1 && t.p[0] == ';')
            statement_over = true;
        if (!statement_over && out->collection[0] == '\0' && is_table_keyword(&t, first)) {
            next_significant(&l, &t);
            while (is_table_noise(&t))
                next_significant(&l, &t);
            if (read_name(&l, &t, out->collection, sizeof out->collection))
                continue; /* t is the token after the name */
            first = false;
            continue;
        }
        first = false;
        next_significant(&l, &t);
    }
}
