/* The JSON text writer (see json_writer.h). */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp/json_writer.h"
#include "export/otlp/otlp_text.h"

void oa_json_init(struct oa_json *j, size_t hint)
{
    memset(j, 0, sizeof *j);
    j->cap = hint < 256 ? 256 : hint;
    j->buf = malloc(j->cap);
    j->failed = j->buf == NULL;
}

char *oa_json_finish(struct oa_json *j, size_t *len)
{
    char *out = j->buf;

    *len = 0;
    if (j->failed || j->len == j->cap) {
        free(j->buf);
        out = NULL;
    } else {
        out[j->len] = '\0';
        *len = j->len;
    }
    memset(j, 0, sizeof *j);
    return out;
}

/* Room for n more bytes and the final NUL. */
static bool reserve(struct oa_json *j, size_t n)
{
    if (j->failed)
        return false;
    if (j->len + n < j->cap)
        return true;
    size_t cap = j->cap;
    while (j->len + n >= cap)
        cap *= 2;
    char *grown = realloc(j->buf, cap);
    if (grown == NULL) {
        j->failed = true;
        return false;
    }
    j->buf = grown;
    j->cap = cap;
    return true;
}

static void put(struct oa_json *j, const char *s, size_t n)
{
    if (!reserve(j, n))
        return;
    memcpy(j->buf + j->len, s, n);
    j->len += n;
}

static void put_char(struct oa_json *j, char c)
{
    if (!reserve(j, 1))
        return;
    j->buf[j->len++] = c;
}

/* Every value (and key) after the first of its object or array follows a
 * comma. */
static void before_value(struct oa_json *j)
{
    if (j->need_comma)
        put_char(j, ',');
    j->need_comma = true;
}

void oa_json_begin_object(struct oa_json *j)
{
    before_value(j);
    put_char(j, '{');
    j->need_comma = false;
}

void oa_json_end_object(struct oa_json *j)
{
    put_char(j, '}');
    j->need_comma = true;
}

void oa_json_begin_array(struct oa_json *j)
{
    before_value(j);
    put_char(j, '[');
    j->need_comma = false;
}

void oa_json_end_array(struct oa_json *j)
{
    put_char(j, ']');
    j->need_comma = true;
}

void oa_json_key(struct oa_json *j, const char *name)
{
    before_value(j);
    put_char(j, '"');
    put(j, name, strlen(name));
    put(j, "\":", 2);
    /* the member's value follows the colon, not a comma */
    j->need_comma = false;
}

static const char hex_digits[] = "0123456789abcdef";

/* U+FFFD REPLACEMENT CHARACTER */
static const char replacement[3] = {'\xef', '\xbf', '\xbd'};

void oa_json_string(struct oa_json *j, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    before_value(j);
    put_char(j, '"');
    while (s != NULL && i < len) {
        unsigned char c = p[i];
        size_t run = i;

        /* a run of bytes that go out as they are: printable ASCII other
         * than the two escaped ones */
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            put(j, s + i, run - i);
            i = run;
            continue;
        }
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            put(j, esc, 2);
            i++;
        } else if (c > 0 && c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 15]};
            put(j, esc, 6);
            i++;
        } else {
            size_t seq = oa_otlp_utf8_sequence_len(p + i, len - i);
            if (seq == 0) {
                put(j, replacement, sizeof replacement);
                i++;
            } else {
                put(j, s + i, seq);
                i += seq;
            }
        }
    }
    put_char(j, '"');
}

void oa_json_cstring(struct oa_json *j, const char *s)
{
    oa_json_string(j, s, s ? strlen(s) : 0);
}

void oa_json_hex(struct oa_json *j, const uint8_t *bytes, size_t n)
{
    before_value(j);
    put_char(j, '"');
    if (reserve(j, 2 * n)) {
        for (size_t i = 0; i < n; i++) {
            j->buf[j->len++] = hex_digits[bytes[i] >> 4];
            j->buf[j->len++] = hex_digits[bytes[i] & 15];
        }
    }
    put_char(j, '"');
}

/* Decimal digits of v, written backwards ending at end; returns the start. */
static char *digits(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return end;
}

void oa_json_u64_string(struct oa_json *j, uint64_t v)
{
    char text[24];
    char *start = digits(text + sizeof text, v);

    before_value(j);
    put_char(j, '"');
    put(j, start, (size_t)(text + sizeof text - start));
    put_char(j, '"');
}

void oa_json_i64_string(struct oa_json *j, int64_t v)
{
    char text[24];
    /* the magnitude as unsigned: -INT64_MIN does not fit an int64_t */
    uint64_t magnitude = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *start = digits(text + sizeof text, magnitude);

    if (v < 0)
        *--start = '-';
    before_value(j);
    put_char(j, '"');
    put(j, start, (size_t)(text + sizeof text - start));
    put_char(j, '"');
}

void oa_json_uint(struct oa_json *j, uint32_t v)
{
    char text[16];
    char *start = digits(text + sizeof text, v);

    before_value(j);
    put(j, start, (size_t)(text + sizeof text - start));
}

void oa_json_bool(struct oa_json *j, bool v)
{
    before_value(j);
    if (v)
        put(j, "true", 4);
    else
        put(j, "false", 5);
}

/* The "C" numeric locale, made once: the program may have set another
 * (a decimal comma would make the number invalid JSON), and the exporter
 * thread switches to this one only around its own formatting. */
static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void make_c_numeric(void)
{
    c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

void oa_json_double(struct oa_json *j, double v)
{
    char text[40];
    int n = 0;

    if (isnan(v) || isinf(v)) {
        before_value(j);
        if (isnan(v))
            put(j, "\"NaN\"", 5);
        else if (v > 0)
            put(j, "\"Infinity\"", 10);
        else
            put(j, "\"-Infinity\"", 11);
        return;
    }
    pthread_once(&c_numeric_once, make_c_numeric);
    locale_t previous = c_numeric != (locale_t)0 ? uselocale(c_numeric) : (locale_t)0;
    /* the fewest digits that read back as v: 0.1 is "0.1", not
     * "0.10000000000000001" */
    for (int precision = 15; precision <= 17; precision++) {
        n = snprintf(text, sizeof text, "%.*g", precision, v);
        if (precision == 17 || strtod(text, NULL) == v)
            break;
    }
    if (previous != (locale_t)0)
        uselocale(previous);
    before_value(j);
    if (n > 0 && (size_t)n < sizeof text)
        put(j, text, (size_t)n);
    else
        put_char(j, '0');
}
