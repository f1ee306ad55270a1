/* Reading a partialSuccess out of a JSON response (see otlp_json_response.h). */
#include <string.h>

#include "export/otlp/otlp_json_response.h"

/* Where the value of member `name` starts (past the colon and spaces), or
 * NULL. */
static const char *member_value(const char *body, size_t len, const char *name)
{
    size_t n = strlen(name);
    const char *end = body + len;

    for (const char *p = body; p + n + 2 <= end; p++) {
        if (p[0] != '"' || memcmp(p + 1, name, n) != 0 || p[n + 1] != '"')
            continue;
        p += n + 2;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p == end || *p != ':')
            continue;
        p++;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        return p < end ? p : NULL;
    }
    return NULL;
}

static long long count_at(const char *p, const char *end)
{
    long long v = 0;

    if (p < end && *p == '"')
        p++;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (v < 1000000000000000LL)
            v = v * 10 + (*p - '0');
    }
    return v;
}

bool oa_otlp_json_partial_success(const char *body, size_t len, long long *rejected, char *message,
                                  size_t cap)
{
    const char *end = body + len;
    const char *v = member_value(body, len, "rejectedSpans");
    size_t used = 0;

    *rejected = 0;
    if (cap > 0)
        message[0] = '\0';
    if (v == NULL)
        v = member_value(body, len, "rejectedDataPoints");
    if (v != NULL)
        *rejected = count_at(v, end);
    v = member_value(body, len, "errorMessage");
    if (v != NULL && *v == '"' && cap > 0) {
        for (v++; v < end && *v != '"' && used + 1 < cap; v++) {
            if (*v == '\\' && v + 1 < end && (v[1] == '"' || v[1] == '\\'))
                v++;
            message[used++] = *v;
        }
        message[used] = '\0';
    }
    return *rejected > 0 || used > 0;
}
