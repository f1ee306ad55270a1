/* RESP commands as a client sends them (see resp_command.h). */
#include <string.h>

#include "base/short_copy.h"
#include "protocols/redis/resp_command.h"
#include "protocols/redis/resp_scan.h"

/* Bounds beyond any server's limits (proto-max-bulk-len is 512 MiB by
 * default; a multibulk holds at most 2^31 - 1 elements): past them the
 * bytes are not RESP. */
#define MAX_ELEMENTS (1u << 30)
#define MAX_BULK (1ull << 40)
#define MAX_DIGITS 13

enum {
    S_ARRAY,      /* expects '*' */
    S_ARRAY_LEN,  /* digits, then '\r' */
    S_ARRAY_LF,
    S_BULK,       /* expects '$' */
    S_BULK_LEN,
    S_BULK_LF,
    S_DATA,       /* bulk_left bytes: the payload, then "\r\n" */
};

void oa_resp_command_init(struct oa_resp_command_parser *p)
{
    memset(p, 0, sizeof(*p));
}

static inline char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Bytes of command names: Redis's and modules' (JSON.SET, FT._LIST), as
 * the name keeps them (upper-cased); 0 for any other byte. A table: the
 * name of every command is checked and upper-cased byte by byte. */
#define NAME_BYTE(c)                                                                                            \
    ((c) >= 'a' && (c) <= 'z'                                                                                   \
         ? (c) - 'a' + 'A'                                                                                      \
         : ((c) >= 'A' && (c) <= 'Z') || ((c) >= '0' && (c) <= '9') || (c) == '_' || (c) == '-' || (c) == '.' || \
                   (c) == ':'                                                                                   \
               ? (c)                                                                                            \
               : 0)
#define NAME_BYTES4(c) NAME_BYTE(c), NAME_BYTE((c) + 1), NAME_BYTE((c) + 2), NAME_BYTE((c) + 3)
#define NAME_BYTES16(c) NAME_BYTES4(c), NAME_BYTES4((c) + 4), NAME_BYTES4((c) + 8), NAME_BYTES4((c) + 12)
#define NAME_BYTES64(c) NAME_BYTES16(c), NAME_BYTES16((c) + 16), NAME_BYTES16((c) + 32), NAME_BYTES16((c) + 48)
static const unsigned char name_bytes[256] = {NAME_BYTES64(0), NAME_BYTES64(64), NAME_BYTES64(128),
                                              NAME_BYTES64(192)};
#undef NAME_BYTE
#undef NAME_BYTES4
#undef NAME_BYTES16
#undef NAME_BYTES64

/* The payload bytes b[0..n) of the current element, at offset at in it. */
static void element_bytes(struct oa_resp_command_parser *p, uint64_t at, const char *b, size_t n)
{
    struct oa_resp_command *cmd = &p->cmd;
    if (p->element == 0) {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = name_bytes[(unsigned char)b[i]];
            if (at + i >= OA_RESP_NAME_MAX || c == 0) {
                cmd->name_unusable = true;
                break;
            }
            cmd->name[at + i] = (char)c;
        }
    } else if (p->element == 1 && at < OA_RESP_ARG1_MAX) {
        size_t k = OA_RESP_ARG1_MAX - (size_t)at;
        if (k > n)
            k = n;
        oa_short_copy(cmd->arg1 + at, b, k); /* a key: short, most often */
    }
}

/* A bulk string's length was read: its payload and CRLF follow. */
static void element_begins(struct oa_resp_command_parser *p)
{
    p->bulk_len = p->number;
    p->bulk_left = p->number + 2;
    if (p->element == 0) {
        p->cmd.name_len = p->number > OA_RESP_NAME_MAX ? 0 : (uint8_t)p->number;
        p->cmd.name_unusable = p->number > OA_RESP_NAME_MAX;
        p->cmd.name[p->cmd.name_len] = '\0';
    } else if (p->element == 1) {
        p->cmd.arg1_len = p->number > UINT32_MAX ? UINT32_MAX : (uint32_t)p->number;
    }
}

/* `<digits>\r\n` whole at b[*i] (1 to MAX_DIGITS digits), advancing *i
 * past it; false when anything else is there, or the bytes end first. */
static inline bool whole_number(const char *b, size_t n, size_t *i, uint64_t *value)
{
    size_t j = *i;
    uint64_t v = 0;
    while (j < n && (unsigned)((unsigned char)b[j] - '0') <= 9u) {
        v = v * 10 + (unsigned)((unsigned char)b[j] - '0');
        j++;
    }
    if (j == *i || j - *i > MAX_DIGITS || n - j < 2 || b[j] != '\r' || b[j + 1] != '\n')
        return false;
    *i = j + 2;
    *value = v;
    return true;
}

/* The common case, a command whole at the start of b, in one pass with
 * nothing kept between its steps: the elements' framing checked and their
 * payloads skipped by length, the name and first argument found by offset
 * and copied once at the end. false when the command is not whole here,
 * or anything about it is not the common case (a name that is not usable,
 * a framing error): the state machine then parses the same bytes from the
 * same state, so it alone decides what is odd, and only the common case's
 * results come from here. Nothing of p is changed then but cmd's bytes,
 * which the state machine sets again. */
static bool whole_command(struct oa_resp_command_parser *p, const char *b, size_t n, size_t *used)
{
    size_t i = 1;
    uint64_t count, len;
    if (b[0] != '*' || !whole_number(b, n, &i, &count) || count == 0 || count > MAX_ELEMENTS)
        return false;
    size_t name_at = 0, name_len = 0, arg1_at = 0;
    uint64_t arg1_len = 0;
    for (uint64_t e = 0; e < count; e++) {
        if (i == n || b[i] != '$')
            return false;
        i++;
        if (!whole_number(b, n, &i, &len) || len > MAX_BULK || n - i < len + 2 || b[i + len] != '\r' ||
            b[i + len + 1] != '\n')
            return false;
        if (e == 0) {
            name_at = i;
            name_len = (size_t)len;
        } else if (e == 1) {
            arg1_at = i;
            arg1_len = len;
        }
        i += (size_t)len + 2;
    }
    if (name_len == 0 || name_len > OA_RESP_NAME_MAX)
        return false;
    struct oa_resp_command *cmd = &p->cmd;
    for (size_t k = 0; k < name_len; k++) {
        unsigned char c = name_bytes[(unsigned char)b[name_at + k]];
        if (c == 0)
            return false;
        cmd->name[k] = (char)c;
    }
    cmd->name[name_len] = '\0';
    cmd->name_len = (uint8_t)name_len;
    cmd->name_unusable = false;
    cmd->argc = (uint32_t)count - 1;
    cmd->arg1_len = arg1_len > UINT32_MAX ? UINT32_MAX : (uint32_t)arg1_len;
    oa_short_copy(cmd->arg1, b + arg1_at, arg1_len < OA_RESP_ARG1_MAX ? (size_t)arg1_len : OA_RESP_ARG1_MAX);
    *used = i;
    return true;
}

/* A command's states in the order its bytes come, each falling into the
 * next while bytes last: a command whole in the buffer is parsed in one
 * pass of the switch, its payloads skipped by length (whole_command's
 * pass first, when a command starts here). */
enum oa_resp_command_event oa_resp_command_feed(struct oa_resp_command_parser *p, const char *b, size_t n,
                                                size_t *used)
{
    size_t i = 0;
    enum oa_resp_scan r;
    if (p->state == S_ARRAY && n > 0 && whole_command(p, b, n, used))
        return OA_RESP_CMD_DONE;
    while (i < n) {
        switch (p->state) {
        case S_ARRAY:
            if (b[i] != '*')
                goto error;
            i++;
            p->number = 0;
            p->digits = 0;
            p->state = S_ARRAY_LEN;
            /* fallthrough */
        case S_ARRAY_LEN:
            r = oa_resp_scan_digits(b, n, &i, &p->number, &p->digits, MAX_DIGITS);
            if (r == OA_RESP_SCAN_MORE)
                goto more;
            /* an empty multibulk gets no reply: not a command */
            if (r == OA_RESP_SCAN_BAD || p->digits == 0 || p->number == 0 || p->number > MAX_ELEMENTS)
                goto error;
            p->state = S_ARRAY_LF;
            /* fallthrough */
        case S_ARRAY_LF:
            if (i == n)
                goto more;
            if (b[i] != '\n')
                goto error;
            i++;
            /* arg1's and name's bytes are read only up to their lengths */
            p->cmd.name_len = 0;
            p->cmd.name_unusable = false;
            p->cmd.name[0] = '\0';
            p->cmd.arg1_len = 0;
            p->cmd.argc = (uint32_t)p->number - 1;
            p->elements_left = (uint32_t)p->number;
            p->element = 0;
            p->state = S_BULK;
            /* fallthrough */
        case S_BULK:
            if (i == n)
                goto more;
            if (b[i] != '$')
                goto error;
            i++;
            p->number = 0;
            p->digits = 0;
            p->state = S_BULK_LEN;
            /* fallthrough */
        case S_BULK_LEN:
            r = oa_resp_scan_digits(b, n, &i, &p->number, &p->digits, MAX_DIGITS);
            if (r == OA_RESP_SCAN_MORE)
                goto more;
            if (r == OA_RESP_SCAN_BAD || p->digits == 0 || p->number > MAX_BULK || (p->element == 0 && p->number == 0))
                goto error;
            p->state = S_BULK_LF;
            /* fallthrough */
        case S_BULK_LF:
            if (i == n)
                goto more;
            if (b[i] != '\n')
                goto error;
            i++;
            element_begins(p);
            p->state = S_DATA;
            /* fallthrough */
        case S_DATA: {
            size_t from = i, payload;
            uint64_t at = p->bulk_len + 2 - p->bulk_left;
            r = oa_resp_scan_bulk(&p->bulk_left, b, n, &i, &payload);
            if (payload > 0 && p->element <= 1)
                element_bytes(p, at, b + from, payload);
            if (r == OA_RESP_SCAN_MORE)
                goto more;
            if (r == OA_RESP_SCAN_BAD)
                goto error;
            p->element++;
            if (--p->elements_left > 0) {
                p->state = S_BULK;
                break;
            }
            p->state = S_ARRAY;
            *used = i;
            return OA_RESP_CMD_DONE;
        }
        default:
            goto error;
        }
    }
more:
    *used = i;
    return OA_RESP_CMD_NEED_MORE;
error:
    *used = i;
    return OA_RESP_CMD_ERROR;
}

/* `<digits>\r\n` at b[*i] (at most max digits), advancing *i; what is
 * there may end early (*cut: the bytes ran out before the line's end). */
static bool digits_line(const unsigned char *b, size_t n, size_t *i, unsigned max, uint64_t *value, bool *cut)
{
    unsigned d = 0;
    uint64_t v = 0;
    while (*i < n && b[*i] >= '0' && b[*i] <= '9') {
        if (++d > max)
            return false;
        v = v * 10 + (uint64_t)(b[*i] - '0');
        (*i)++;
    }
    *value = v;
    *cut = *i == n || (*i + 1 == n && b[*i] == '\r');
    if (*cut)
        return true;
    if (d == 0 || b[*i] != '\r' || b[*i + 1] != '\n')
        return false;
    *i += 2;
    return true;
}

bool oa_resp_command_starts(const unsigned char *b, size_t n, bool (*known)(const char *upper, size_t len, bool whole))
{
    size_t i = 1;
    uint64_t elements, len;
    bool cut;
    if (n == 0 || b[0] != '*')
        return false;
    if (!digits_line(b, n, &i, 7, &elements, &cut))
        return false;
    if (cut || (elements > 0 && i == n))
        return true;
    if (elements == 0 || b[i] != '$')
        return false;
    if (++i == n)
        return true;
    if (!digits_line(b, n, &i, 2, &len, &cut) || len > OA_RESP_NAME_MAX)
        return false;
    if (cut || i == n)
        return true; /* the name is checked when it comes */
    if (len == 0)
        return false;
    size_t have = n - i < len ? n - i : (size_t)len;
    char name[OA_RESP_NAME_MAX + 1];
    for (size_t k = 0; k < have; k++) {
        unsigned char c = b[i + k];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-'))
            return false;
        name[k] = upper((char)c);
    }
    name[have] = '\0';
    if (have == len && i + len < n && b[i + len] != '\r')
        return false;
    if (have == len && i + len + 1 < n && b[i + len + 1] != '\n')
        return false;
    return known(name, have, have == len);
}
