/* W3C tracestate: validation, normalisation and truncation of a received
 * value before it is forwarded (see oa_propagation.h, otel-facts §1). */
#include <string.h>

#include "trace/tracestate.h"

#define MAX_MEMBERS 32
#define MAX_KEY_LEN 256
#define MAX_VALUE_LEN 256
/* Entries longer than this are the first to go when truncating. */
#define LONG_ENTRY_LEN 128

struct member {
    const char *start; /* "key=value", OWS already trimmed */
    size_t len;
    size_t key_len;
    bool kept;
};

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_key_start_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* The current key grammar allows '@' anywhere after the first char: the
 * older "tenant@system" form is a special case of it. */
static bool is_key_char(char c)
{
    return is_key_start_char(c) || c == '_' || c == '-' || c == '*' || c == '/' || c == '@';
}

static bool is_value_char(char c)
{
    return c >= 0x20 && c <= 0x7e && c != ',' && c != '=';
}

static bool key_is_valid(const char *k, size_t n)
{
    if (n == 0 || n > MAX_KEY_LEN || !is_key_start_char(k[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        if (!is_key_char(k[i]))
            return false;
    }
    return true;
}

/* Leading spaces belong to the value; trailing ones are OWS and were already
 * trimmed, but the grammar's last-char rule is checked here all the same. */
static bool value_is_valid(const char *v, size_t n)
{
    if (n == 0 || n > MAX_VALUE_LEN || v[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_value_char(v[i]))
            return false;
    }
    return true;
}

/* Fills m from the trimmed text of one non-empty member. */
static bool member_parse(const char *p, size_t n, struct member *m)
{
    const char *eq = memchr(p, '=', n);
    if (eq == NULL)
        return false;
    size_t key_len = (size_t)(eq - p);
    if (!key_is_valid(p, key_len) || !value_is_valid(eq + 1, n - key_len - 1))
        return false;
    m->start = p;
    m->len = n;
    m->key_len = key_len;
    m->kept = true;
    return true;
}

static bool has_duplicate_keys(const struct member *m, int n)
{
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            if (m[i].key_len == m[j].key_len && memcmp(m[i].start, m[j].start, m[i].key_len) == 0)
                return true;
        }
    }
    return false;
}

/* Length of the kept members joined by ",". */
static size_t joined_len(const struct member *m, int n)
{
    size_t total = 0;
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (m[i].kept) {
            total += m[i].len;
            kept++;
        }
    }
    return kept > 0 ? total + (size_t)(kept - 1) : 0;
}

/* Index of the right-most kept member, only among long ones if long_only;
 * -1 if there is none. */
static int rightmost_kept(const struct member *m, int n, bool long_only)
{
    for (int i = n - 1; i >= 0; i--) {
        if (m[i].kept && (!long_only || m[i].len > LONG_ENTRY_LEN))
            return i;
    }
    return -1;
}

/* Drops whole entries until the joined list fits in limit: long entries
 * first (right-most of them first), then right-most entries. */
static void truncate_members(struct member *m, int n, size_t limit)
{
    while (joined_len(m, n) > limit) {
        int victim = rightmost_kept(m, n, true);
        if (victim < 0)
            victim = rightmost_kept(m, n, false);
        if (victim < 0)
            return;
        m[victim].kept = false;
    }
}

int oa_tracestate_normalize(const char *s, size_t len, char *out, size_t out_cap)
{
    if (out == NULL || out_cap == 0)
        return -1;
    out[0] = '\0';
    if (s == NULL)
        return 0;

    struct member members[MAX_MEMBERS];
    int n = 0;
    size_t pos = 0;
    while (pos <= len) {
        const char *comma = memchr(s + pos, ',', len - pos);
        size_t end = comma != NULL ? (size_t)(comma - s) : len;
        size_t b = pos;
        size_t e = end;
        while (b < e && is_ows(s[b]))
            b++;
        while (e > b && is_ows(s[e - 1]))
            e--;
        if (e > b) {
            if (n == MAX_MEMBERS)
                return -1;
            if (!member_parse(s + b, e - b, &members[n]))
                return -1;
            n++;
        }
        pos = end + 1;
    }
    if (has_duplicate_keys(members, n))
        return -1;

    size_t limit = out_cap - 1 < OA_TRACESTATE_MAX ? out_cap - 1 : OA_TRACESTATE_MAX;
    truncate_members(members, n, limit);

    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (!members[i].kept)
            continue;
        if (o > 0)
            out[o++] = ',';
        memcpy(out + o, members[i].start, members[i].len);
        o += members[i].len;
    }
    out[o] = '\0';
    return (int)o;
}
