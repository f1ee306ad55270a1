/* process.owner (see oa_user_name.h). */
#include <stdio.h>
#include <string.h>

#include "base/line_file.h"
#include "config/user_name.h"

bool oa_user_name_from_passwd_line(const char *line, size_t len, uid_t uid, char *out, size_t cap)
{
    const char *end = line + len;
    const char *name_end = memchr(line, ':', len);
    const char *p;
    unsigned long long value = 0;

    if (!name_end || name_end == line || (size_t)(name_end - line) >= cap)
        return false;
    p = memchr(name_end + 1, ':', (size_t)(end - name_end - 1)); /* past the password field */
    if (!p)
        return false;
    p++;
    if (p == end || *p < '0' || *p > '9')
        return false;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        value = value * 10 + (unsigned)(*p - '0');
        if (value > (uid_t)-1)
            return false;
    }
    if (p == end || *p != ':' || value != (unsigned long long)uid)
        return false;
    memcpy(out, line, (size_t)(name_end - line));
    out[name_end - line] = '\0';
    return true;
}

struct lookup {
    uid_t uid;
    char *out;
    size_t cap;
};

static bool passwd_line(const char *line, size_t len, void *ctx)
{
    struct lookup *l = ctx;
    return oa_user_name_from_passwd_line(line, len, l->uid, l->out, l->cap);
}

void oa_user_name(uid_t uid, char *out, size_t cap)
{
    struct lookup l = {uid, out, cap};

    if (cap == 0)
        return;
    if (!oa_line_file_find("/etc/passwd", passwd_line, &l))
        snprintf(out, cap, "%lu", (unsigned long)uid);
}
