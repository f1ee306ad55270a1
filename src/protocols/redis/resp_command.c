/* RESP commands as a client sends them (see resp_command.h). */
#include <string.h>

#include "protocols/redis/resp_command.h"

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
    S_DATA,       /* bulk_left payload bytes */
    S_DATA_CR,
    S_DATA_LF,
};

void oa_resp_command_init(struct oa_resp_command_parser *p)
{
    memset(p, 0, sizeof(*p));
}

static inline char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Bytes of command names: Redis's and modules' (JSON.SET, FT._LIST). */
static inline bool name_byte(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':';
}

/* A digit of a length; false when it is not one or the length grows
 * beyond reason. */
static inline bool length_digit(struct oa_resp_command_parser *p, char c)
{
    if (c < '0' || c > '9' || p->digits >= MAX_DIGITS)
        return false;
    p->number = p->number * 10 + (uint64_t)(c - '0');
    p->digits++;
    return true;
}

/* The payload bytes b[0..n) of the current element. */
static void element_bytes(struct oa_resp_command_parser *p, const char *b, size_t n)
{
    struct oa_resp_command *cmd = &p->cmd;
    uint64_t at = p->bulk_len - p->bulk_left;
    if (p->element == 0) {
        for (size_t i = 0; i < n; i++) {
            char c = b[i];
            if (at + i >= OA_RESP_NAME_MAX || !name_byte(c)) {
                cmd->name_unusable = true;
                break;
            }
            cmd->name[at + i] = upper(c);
        }
    } else if (p->element == 1 && at < OA_RESP_ARG1_MAX) {
        size_t k = OA_RESP_ARG1_MAX - (size_t)at;
        if (k > n)
            k = n;
        memcpy(cmd->arg1 + at, b, k);
    }
}

/* A bulk string's length was read: its payload follows. */
static void element_begins(struct oa_resp_command_parser *p)
{
    p->bulk_len = p->bulk_left = p->number;
    if (p->element == 0) {
        p->cmd.name_len = p->number > OA_RESP_NAME_MAX ? 0 : (uint8_t)p->number;
        p->cmd.name_unusable = p->number > OA_RESP_NAME_MAX;
        p->cmd.name[p->cmd.name_len] = '\0';
    } else if (p->element == 1) {
        p->cmd.arg1_len = p->number > UINT32_MAX ? UINT32_MAX : (uint32_t)p->number;
    }
}

enum oa_resp_command_event oa_resp_command_feed(struct oa_resp_command_parser *p, const char *b, size_t n,
                                                size_t *used)
{
    size_t i = 0;
    while (i < n) {
        char c = b[i];
        switch (p->state) {
        case S_ARRAY:
            if (c != '*')
                goto error;
            p->number = 0;
            p->digits = 0;
            p->state = S_ARRAY_LEN;
            i++;
            break;
        case S_ARRAY_LEN:
            i++;
            if (c == '\r') {
                /* an empty multibulk gets no reply: not a command */
                if (p->digits == 0 || p->number == 0 || p->number > MAX_ELEMENTS)
                    goto error;
                p->state = S_ARRAY_LF;
            } else if (!length_digit(p, c)) {
                goto error;
            }
            break;
        case S_ARRAY_LF:
            if (c != '\n')
                goto error;
            i++;
            memset(&p->cmd, 0, sizeof(p->cmd));
            p->cmd.argc = (uint32_t)p->number - 1;
            p->elements_left = (uint32_t)p->number;
            p->element = 0;
            p->state = S_BULK;
            break;
        case S_BULK:
            if (c != '$')
                goto error;
            p->number = 0;
            p->digits = 0;
            p->state = S_BULK_LEN;
            i++;
            break;
        case S_BULK_LEN:
            i++;
            if (c == '\r') {
                if (p->digits == 0 || p->number > MAX_BULK || (p->element == 0 && p->number == 0))
                    goto error;
                p->state = S_BULK_LF;
            } else if (!length_digit(p, c)) {
                goto error;
            }
            break;
        case S_BULK_LF:
            if (c != '\n')
                goto error;
            i++;
            element_begins(p);
            p->state = p->bulk_left > 0 ? S_DATA : S_DATA_CR;
            break;
        case S_DATA: {
            size_t k = n - i;
            if (k > p->bulk_left)
                k = (size_t)p->bulk_left;
            if (p->element <= 1)
                element_bytes(p, b + i, k);
            p->bulk_left -= k;
            i += k;
            if (p->bulk_left == 0)
                p->state = S_DATA_CR;
            break;
        }
        case S_DATA_CR:
            if (c != '\r')
                goto error;
            i++;
            p->state = S_DATA_LF;
            break;
        case S_DATA_LF:
            if (c != '\n')
                goto error;
            i++;
            p->element++;
            if (--p->elements_left > 0) {
                p->state = S_BULK;
                break;
            }
            p->state = S_ARRAY;
            *used = i;
            return OA_RESP_CMD_DONE;
        default:
            goto error;
        }
    }
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
