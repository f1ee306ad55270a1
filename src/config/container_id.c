/* container.id detection (see oa_container_id.h). */
#include <string.h>

#include "config/container_id.h"
#include "base/line_file.h"

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* True when s[0..64) are hex digits and the run is exactly that long:
 * neither preceded (before > s) nor followed (s + 64 < end) by another. */
static bool hex_id_at(const char *start, const char *s, const char *end)
{
    if (end - s < OA_CONTAINER_ID_LEN)
        return false;
    if (s > start && is_lower_hex(s[-1]))
        return false;
    for (int i = 0; i < OA_CONTAINER_ID_LEN; i++) {
        if (!is_lower_hex(s[i]))
            return false;
    }
    return s + OA_CONTAINER_ID_LEN == end || !is_lower_hex(s[OA_CONTAINER_ID_LEN]);
}

static void copy_id(char id[OA_CONTAINER_ID_LEN + 1], const char *s)
{
    memcpy(id, s, OA_CONTAINER_ID_LEN);
    id[OA_CONTAINER_ID_LEN] = '\0';
}

bool oa_container_id_from_cgroup_line(const char *line, size_t len, char id[OA_CONTAINER_ID_LEN + 1])
{
    const char *end = line + len;
    const char *path, *segment;
    static const char scope[] = ".scope";

    /* hierarchy-ID:controllers:path; the path may itself hold ':' */
    path = memchr(line, ':', len);
    if (!path)
        return false;
    path = memchr(path + 1, ':', (size_t)(end - path - 1));
    if (!path)
        return false;
    path++;
    segment = end;
    while (segment > path && segment[-1] != '/')
        segment--;
    if (end - segment >= (long)(sizeof scope - 1) &&
        memcmp(end - (sizeof scope - 1), scope, sizeof scope - 1) == 0)
        end -= sizeof scope - 1;
    /* the id ends the segment, after the runtime's prefix if any */
    if (end - segment < OA_CONTAINER_ID_LEN)
        return false;
    if (!hex_id_at(segment, end - OA_CONTAINER_ID_LEN, end))
        return false;
    copy_id(id, end - OA_CONTAINER_ID_LEN);
    return true;
}

bool oa_container_id_from_mountinfo_line(const char *line, size_t len, char id[OA_CONTAINER_ID_LEN + 1])
{
    static const char marker[] = "containers/";
    const char *end = line + len;
    const char *p = line;

    while ((size_t)(end - p) >= sizeof marker - 1 + OA_CONTAINER_ID_LEN + 1) {
        const char *m = memmem(p, (size_t)(end - p), marker, sizeof marker - 1);
        if (!m)
            return false;
        const char *s = m + sizeof marker - 1;
        if (end - s > OA_CONTAINER_ID_LEN && hex_id_at(s, s, end) && s[OA_CONTAINER_ID_LEN] == '/') {
            copy_id(id, s);
            return true;
        }
        p = m + 1;
    }
    return false;
}

static bool cgroup_line(const char *line, size_t len, void *id)
{
    return oa_container_id_from_cgroup_line(line, len, id);
}

static bool mountinfo_line(const char *line, size_t len, void *id)
{
    return oa_container_id_from_mountinfo_line(line, len, id);
}

bool oa_container_id_detect(char id[OA_CONTAINER_ID_LEN + 1])
{
    return oa_line_file_find("/proc/self/cgroup", cgroup_line, id) ||
           oa_line_file_find("/proc/self/mountinfo", mountinfo_line, id);
}
