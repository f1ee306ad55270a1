/* RESP2/RESP3 replies as a server sends them (see resp_reply.h). */
#include <string.h>

#include "protocols/redis/resp_reply.h"
#include "protocols/redis/resp_scan.h"

#define MAX_DIGITS 13   /* lengths: beyond any server's limits */
#define MAX_INT_DIGITS 19

enum {
    S_TYPE,      /* a value's type byte */
    S_LINE,      /* a simple value's text, up to '\r' */
    S_LINE_LF,
    S_LEN,       /* a length, up to '\r' */
    S_LEN_LF,
    S_DATA,      /* bulk_left bytes: the payload, then "\r\n" */
};

void oa_resp_reply_init(struct oa_resp_reply_parser *p)
{
    memset(p, 0, sizeof(*p));
}

/* Where the reply's head (its first string) is read: the reply itself, or
 * its top aggregate's first element; never inside an attribute. */
static inline bool at_head(const struct oa_resp_reply_parser *p)
{
    return p->attributes == 0 && (p->depth == 0 || (p->depth == 1 && p->element == 0)) && p->reply.head_len == 0;
}

static inline void head_bytes(struct oa_resp_reply_parser *p, const char *b, size_t n)
{
    size_t room = OA_RESP_HEAD_MAX - p->reply.head_len;
    if (n > room)
        n = room;
    memcpy(p->reply.head + p->reply.head_len, b, n);
    p->reply.head_len = (uint8_t)(p->reply.head_len + n);
}

/* A value ended at the current depth: true when it completes the reply. */
static bool value_done(struct oa_resp_reply_parser *p)
{
    p->capture = false;
    while (p->depth > 0) {
        struct oa_resp_frame *f = &p->frames[p->depth - 1];
        if (p->depth == 1)
            p->element++;
        if (--f->left > 0)
            return false;
        p->depth--;
        if (f->attribute) {
            /* what follows is the value the attribute describes */
            p->attributes--;
            return false;
        }
    }
    return true;
}

/* The type byte c of a value. */
static bool value_type(struct oa_resp_reply_parser *p, char c)
{
    if (p->depth == 0 && p->attributes == 0 && c != '|') {
        p->reply.type = c;
        p->reply.is_error = c == '-' || c == '!';
    }
    p->line_type = c;
    p->number = 0;
    p->digits = 0;
    p->negative = false;
    switch (c) {
    case '+':
    case '-':
        p->capture = at_head(p);
        p->state = S_LINE;
        return true;
    case ':':
    case ',':
    case '(':
    case '#':
    case '_':
        p->capture = false;
        p->state = S_LINE;
        return true;
    case '$':
    case '!':
    case '=':
    case '*':
    case '%':
    case '~':
    case '>':
    case '|':
        p->state = S_LEN;
        return true;
    default:
        return false;
    }
}

/* A simple value's text ended (its '\n' read): checks it, notes it. */
static bool line_done(struct oa_resp_reply_parser *p)
{
    switch (p->line_type) {
    case ':':
        if (p->digits == 0)
            return false;
        if (p->depth == 1 && p->attributes == 0) {
            p->reply.has_int = true;
            p->reply.last_int = p->negative ? -(int64_t)p->number : (int64_t)p->number;
        }
        break;
    case '_':
        if (p->digits != 0)
            return false;
        if (p->depth == 0 && p->attributes == 0)
            p->reply.is_null = true;
        break;
    default:
        break;
    }
    return true;
}

/* A byte of a simple value's text (not '\r'). */
static bool line_byte(struct oa_resp_reply_parser *p, char c)
{
    if (c == '\n')
        return false;
    switch (p->line_type) {
    case ':':
        if (c == '-' && p->digits == 0 && !p->negative) {
            p->negative = true;
            return true;
        }
        if (c < '0' || c > '9' || p->digits >= MAX_INT_DIGITS)
            return false;
        p->number = p->number * 10 + (uint64_t)(c - '0');
        p->digits++;
        return true;
    case '_':
        p->digits++;  /* null has no text */
        return true;
    default:
        return true;
    }
}

/* A length ended: the value's payload or elements follow; *done when the
 * value is complete already. False when the length is not RESP. */
static bool length_done(struct oa_resp_reply_parser *p, bool *done)
{
    char t = p->line_type;
    *done = false;
    if (p->digits == 0)
        return false;
    if (p->negative) {
        /* -1: RESP2's null bulk string and null array */
        if (p->number != 1 || (t != '$' && t != '*'))
            return false;
        if (p->depth == 0 && p->attributes == 0)
            p->reply.is_null = true;
        *done = true;
        return true;
    }
    if (t == '$' || t == '!' || t == '=') {
        p->capture = at_head(p);
        p->bulk_left = p->number + 2;
        p->state = S_DATA;
        return true;
    }
    uint64_t n = p->number;
    if (t == '%' || t == '|')
        n *= 2;
    if (n == 0) {
        /* an empty attribute describes the value that follows */
        if (t == '|') {
            p->state = S_TYPE;
            return true;
        }
        *done = true;
        return true;
    }
    if (p->depth >= OA_RESP_MAX_DEPTH)
        return false;
    if (p->depth == 0)
        p->element = 0;
    p->frames[p->depth].left = n;
    p->frames[p->depth].attribute = t == '|';
    if (t == '|')
        p->attributes++;
    p->depth++;
    p->state = S_TYPE;
    return true;
}

/* `[-]<digits>\r\n` whole at b[*i] (1 to max digits, the sign when
 * allowed), advancing *i past it; false when anything else is there, or
 * the bytes end first. */
static inline bool whole_number(const char *b, size_t n, size_t *i, unsigned max, bool sign, bool *negative,
                                uint64_t *value)
{
    size_t j = *i;
    *negative = sign && j < n && b[j] == '-';
    if (*negative)
        j++;
    size_t from = j;
    uint64_t v = 0;
    while (j < n && (unsigned)((unsigned char)b[j] - '0') <= 9u) {
        v = v * 10 + (unsigned)((unsigned char)b[j] - '0');
        j++;
    }
    if (j == from || j - from > max || n - j < 2 || b[j] != '\r' || b[j + 1] != '\n')
        return false;
    *i = j + 2;
    *value = v;
    return true;
}

/* The common case, a reply that is one value whole at the start of b: a
 * bulk string (a GET's value, its null), a simple string or error (SET's
 * OK), an integer. Its summary is made in one pass with nothing kept
 * between steps. false for anything else, or anything odd: the state
 * machine then parses the same bytes from the same state, so it alone
 * decides what is not RESP. Nothing of p is changed then but reply's
 * bytes, which the state machine clears again. */
static bool whole_reply(struct oa_resp_reply_parser *p, const char *b, size_t n, size_t *used)
{
    struct oa_resp_reply *r = &p->reply;
    char t = b[0];
    size_t i = 1;
    bool negative;
    uint64_t v;
    const char *text = NULL;
    size_t text_len = 0;
    switch (t) {
    case '$':
        if (!whole_number(b, n, &i, MAX_DIGITS, true, &negative, &v))
            return false;
        if (negative) {
            if (v != 1)
                return false; /* -1 alone is a null */
        } else {
            if (n - i < v + 2 || b[i + v] != '\r' || b[i + v + 1] != '\n')
                return false;
            text = b + i;
            text_len = (size_t)v;
            i += (size_t)v + 2;
        }
        break;
    case '+':
    case '-': {
        size_t j = i;
        while (j < n && b[j] != '\r' && b[j] != '\n')
            j++;
        if (n - j < 2 || b[j] != '\r' || b[j + 1] != '\n')
            return false;
        text = b + i;
        text_len = j - i;
        i = j + 2;
        break;
    }
    case ':':
        if (!whole_number(b, n, &i, MAX_INT_DIGITS, true, &negative, &v))
            return false;
        break;
    default:
        return false;
    }
    memset(r, 0, sizeof(*r));
    r->type = t;
    r->is_error = t == '-';
    r->is_null = text == NULL && t == '$';
    size_t head = text_len < OA_RESP_HEAD_MAX ? text_len : OA_RESP_HEAD_MAX;
    if (head > 0)
        memcpy(r->head, text, head);
    r->head_len = (uint8_t)head;
    p->capture = false;
    *used = i;
    return true;
}

enum oa_resp_reply_event oa_resp_reply_feed(struct oa_resp_reply_parser *p, const char *b, size_t n, size_t *used)
{
    size_t i = 0;
    bool done = false;
    /* a reply starts here, outside any aggregate: whole_reply's pass first */
    if (p->state == S_TYPE && !p->started && p->depth == 0 && p->attributes == 0 && n > 0 &&
        whole_reply(p, b, n, used))
        return OA_RESP_REPLY_DONE;
    while (i < n) {
        char c = b[i];
        switch (p->state) {
        case S_TYPE:
            if (!p->started) {
                memset(&p->reply, 0, sizeof(p->reply));
                p->started = true;
            }
            if (!value_type(p, c))
                goto error;
            i++;
            break;
        case S_LINE: {
            /* the text up to '\r' in one step */
            const char *cr = memchr(b + i, '\r', n - i);
            size_t k = cr != NULL ? (size_t)(cr - (b + i)) : n - i;
            if (p->capture)
                head_bytes(p, b + i, k);
            for (size_t j = 0; j < k; j++) {
                if (!line_byte(p, b[i + j])) {
                    i += j; /* where the stream broke, however it was cut */
                    goto error;
                }
            }
            i += k;
            if (cr != NULL) {
                i++;
                p->state = S_LINE_LF;
            }
            break;
        }
        case S_LINE_LF:
            if (c != '\n' || !line_done(p))
                goto error;
            i++;
            p->state = S_TYPE;
            done = value_done(p);
            break;
        case S_LEN: {
            if (c == '-' && p->digits == 0 && !p->negative) {
                p->negative = true;
                i++;
                break;
            }
            /* '?' (streamed) is BAD */
            enum oa_resp_scan r = oa_resp_scan_digits(b, n, &i, &p->number, &p->digits, MAX_DIGITS);
            if (r == OA_RESP_SCAN_BAD)
                goto error;
            if (r == OA_RESP_SCAN_END)
                p->state = S_LEN_LF;
            break;
        }
        case S_LEN_LF: {
            if (c != '\n')
                goto error;
            i++;
            p->state = S_TYPE;
            bool complete;
            if (!length_done(p, &complete))
                goto error;
            if (complete)
                done = value_done(p);
            break;
        }
        case S_DATA: {
            size_t from = i, payload;
            enum oa_resp_scan r = oa_resp_scan_bulk(&p->bulk_left, b, n, &i, &payload);
            if (p->capture && payload > 0)
                head_bytes(p, b + from, payload);
            if (r == OA_RESP_SCAN_BAD)
                goto error;
            if (r == OA_RESP_SCAN_END) {
                p->state = S_TYPE;
                done = value_done(p);
            }
            break;
        }
        default:
            goto error;
        }
        if (done) {
            *used = i;
            p->started = false;
            return OA_RESP_REPLY_DONE;
        }
    }
    *used = i;
    return OA_RESP_REPLY_NEED_MORE;
error:
    *used = i;
    return OA_RESP_REPLY_ERROR;
}
