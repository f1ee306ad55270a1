/* The Resource describing this process, built once in the library
 * constructor (and again in a forked child, whose pid differs).
 *
 * Precedence, highest first: OTEL_SERVICE_NAME for service.name, then
 * OTEL_RESOURCE_ATTRIBUTES, then what we know or detect ourselves
 * (the unknown_service default, telemetry.sdk.*, process.* with the parent
 * pid and the owner, host.name, host.arch, os.type, container.id). Everything is copied into the struct's own
 * storage; nothing is allocated. /proc is read with raw system calls so that
 * the reads never pass through our own read/close hooks. */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config/container_id.h"
#include "base/log.h"
#include "config/resource.h"
#include "config/user_name.h"

struct oa_resource oa_resource;

/* The semantic conventions list no telemetry.sdk.language value for C (the
 * known ones are cpp, dotnet, erlang, go, java, nodejs, php, python, ruby,
 * rust, swift, webjs); the attribute is an open enumeration, so we say what
 * we are written in rather than borrow "cpp". */
#define SDK_LANGUAGE "c"

/* host.arch, in the semantic conventions' values: the architecture this
 * library was built for is the one the process runs (a preloaded object of
 * another architecture is not loaded at all). */
#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#elif defined(__i386__)
#define HOST_ARCH "x86"
#elif defined(__arm__)
#define HOST_ARCH "arm32"
#elif defined(__powerpc64__)
#define HOST_ARCH "ppc64"
#elif defined(__powerpc__)
#define HOST_ARCH "ppc32"
#elif defined(__s390x__)
#define HOST_ARCH "s390x"
#elif defined(__ia64__)
#define HOST_ARCH "ia64"
#else
#error "host.arch: add this architecture's semantic-conventions value"
#endif

static bool add_bytes(struct oa_resource *r, const char *s, size_t len, const char **out)
{
    char *dst;

    if (len + 1 > sizeof r->storage - r->storage_used)
        return false;
    dst = r->storage + r->storage_used;
    memcpy(dst, s, len);
    dst[len] = '\0';
    r->storage_used += len + 1;
    *out = dst;
    return true;
}

static struct oa_attr *find_mutable(struct oa_resource *r, const char *key)
{
    for (size_t i = 0; i < r->n_attrs; i++) {
        if (strcmp(r->attrs[i].key, key) == 0)
            return &r->attrs[i];
    }
    return NULL;
}

/* Returns the attribute for key, appending it if it does not exist yet, or
 * NULL when there is no room. *existed tells which. */
static struct oa_attr *slot_for(struct oa_resource *r, const char *key, bool *existed)
{
    struct oa_attr *a = find_mutable(r, key);
    const char *stored_key;

    *existed = a != NULL;
    if (a)
        return a;
    if (r->n_attrs >= OA_RESOURCE_MAX_ATTRS || !add_bytes(r, key, strlen(key), &stored_key)) {
        OA_WARN("resource: no room for attribute %s", key);
        return NULL;
    }
    a = &r->attrs[r->n_attrs++];
    a->key = stored_key;
    return a;
}

/* replace=false keeps an attribute that is already set (a higher-precedence
 * source set it first). */
static void put_string(struct oa_resource *r, const char *key, const char *val, size_t len,
                       bool replace)
{
    bool existed;
    const char *stored;
    struct oa_attr *a = slot_for(r, key, &existed);

    if (!a || (existed && !replace))
        return;
    if (!add_bytes(r, val, len, &stored)) {
        OA_WARN("resource: no room for the value of %s", key);
        if (!existed) {
            /* Freshly appended: take it back rather than leave it empty. */
            r->n_attrs--;
        }
        return;
    }
    a->type = OA_VALUE_STRING;
    a->v.str.ptr = stored;
    a->v.str.len = (uint32_t)len;
}

static void put_cstring(struct oa_resource *r, const char *key, const char *val, bool replace)
{
    put_string(r, key, val, strlen(val), replace);
}

static void put_int(struct oa_resource *r, const char *key, int64_t val)
{
    bool existed;
    struct oa_attr *a = slot_for(r, key, &existed);

    if (!a || existed)
        return;
    a->type = OA_VALUE_INT;
    a->v.i = val;
}

/* One pass to validate, one to store: a single bad member must discard the
 * whole variable, including the members before it. */
static bool resource_attributes_valid(const char *list)
{
    struct oa_config_member m;
    char scratch[sizeof((struct oa_config *)0)->resource_attributes];
    long n;

    while (oa_config_next_member(&list, &m)) {
        if (!m.value)
            return false;
        n = oa_config_percent_decode(m.key, m.key_len, scratch, sizeof scratch);
        /* Keys are C strings here: an encoded NUL cannot be kept. */
        if (n <= 0 || strlen(scratch) != (size_t)n)
            return false;
        if (oa_config_percent_decode(m.value, m.value_len, scratch, sizeof scratch) < 0)
            return false;
    }
    return true;
}

static void add_resource_attributes(struct oa_resource *r, const struct oa_config *c)
{
    const char *list = c->resource_attributes;
    struct oa_config_member m;
    char key[sizeof c->resource_attributes];
    char value[sizeof c->resource_attributes];
    long value_len;

    if (!list[0])
        return;
    if (!resource_attributes_valid(list)) {
        OA_WARN("OTEL_RESOURCE_ATTRIBUTES is malformed; ignored");
        return;
    }
    while (oa_config_next_member(&list, &m)) {
        oa_config_percent_decode(m.key, m.key_len, key, sizeof key);
        value_len = oa_config_percent_decode(m.value, m.value_len, value, sizeof value);
        if (c->service_name[0] && strcmp(key, "service.name") == 0)
            continue;
        /* A key repeated in the list: the last one wins. */
        put_string(r, key, value, (size_t)value_len, true);
    }
}

/* Reads up to cap-1 bytes of a small /proc file; returns the length or -1. */
static long read_proc_file(const char *path, char *buf, size_t cap)
{
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    long total = 0;

    if (fd < 0)
        return -1;
    while ((size_t)total < cap - 1) {
        long n = syscall(SYS_read, (int)fd, buf + total, cap - 1 - (size_t)total);
        if (n <= 0)
            break;
        total += n;
    }
    syscall(SYS_close, (int)fd);
    buf[total] = '\0';
    return total;
}

static void add_process_attributes(struct oa_resource *r, const char *exe, const char *exe_name)
{
    char cmdline[PATH_MAX];

    char owner[256];

    put_int(r, "process.pid", (int64_t)getpid());
    put_int(r, "process.parent_pid", (int64_t)getppid());
    oa_user_name(geteuid(), owner, sizeof owner);
    put_cstring(r, "process.owner", owner, false);
    if (exe) {
        put_cstring(r, "process.executable.name", exe_name, false);
        put_cstring(r, "process.executable.path", exe, false);
    }
    /* The arguments are NUL-separated: argv[0] is the first string. */
    if (read_proc_file("/proc/self/cmdline", cmdline, sizeof cmdline) > 0 && cmdline[0])
        put_cstring(r, "process.command", cmdline, false);
}

static void add_host_attributes(struct oa_resource *r)
{
    char host[HOST_NAME_MAX + 1];

    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        if (host[0])
            put_cstring(r, "host.name", host, false);
    }
    put_cstring(r, "os.type", "linux", false);
    put_cstring(r, "host.arch", HOST_ARCH, false);
}

/* container.id, when the process runs in a container whose id it can see. */
static void add_container_attributes(struct oa_resource *r)
{
    char id[OA_CONTAINER_ID_LEN + 1];

    if (oa_container_id_detect(id))
        put_cstring(r, "container.id", id, false);
}

void oa_resource_build(struct oa_resource *r, const struct oa_config *c)
{
    char exe[PATH_MAX];
    char service[sizeof "unknown_service:" + PATH_MAX];
    const char *exe_name = NULL;
    ssize_t exe_len = readlink("/proc/self/exe", exe, sizeof exe - 1);

    memset(r, 0, sizeof *r);
    if (exe_len > 0) {
        exe[exe_len] = '\0';
        const char *slash = strrchr(exe, '/');
        exe_name = slash ? slash + 1 : exe;
    }

    /* The required attributes go first, so that a long OTEL_RESOURCE_ATTRIBUTES
     * cannot take all the room; the variable may still replace them. */
    if (c->service_name[0]) {
        put_cstring(r, "service.name", c->service_name, true);
    } else if (exe_name && exe_name[0]) {
        memcpy(service, "unknown_service:", sizeof "unknown_service:");
        strncat(service, exe_name, sizeof service - sizeof "unknown_service:");
        put_cstring(r, "service.name", service, false);
    } else {
        put_cstring(r, "service.name", "unknown_service", false);
    }
    put_cstring(r, "telemetry.sdk.name", "opentelemetry", false);
    put_cstring(r, "telemetry.sdk.language", SDK_LANGUAGE, false);
    put_cstring(r, "telemetry.sdk.version", OA_VERSION, false);
    put_cstring(r, "telemetry.distro.name", "otelauto", false);
    put_cstring(r, "telemetry.distro.version", OA_VERSION, false);

    add_resource_attributes(r, c);
    add_process_attributes(r, exe_len > 0 ? exe : NULL, exe_name);
    add_host_attributes(r);
    add_container_attributes(r);
}

const struct oa_attr *oa_resource_find(const struct oa_resource *r, const char *key)
{
    for (size_t i = 0; i < r->n_attrs; i++) {
        if (strcmp(r->attrs[i].key, key) == 0)
            return &r->attrs[i];
    }
    return NULL;
}
