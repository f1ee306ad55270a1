/* The Resource: service.name precedence and default, OTEL_RESOURCE_ATTRIBUTES
 * decoding (and discarding), detected process/host attributes. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/container_id.h"
#include "base/line_file.h"
#include "config/resource.h"
#include "config/user_name.h"
#include "oa_test.h"

static struct oa_config cfg;
static struct oa_resource res;

static void build(const char *service_name, const char *attributes)
{
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.service_name, sizeof cfg.service_name, "%s", service_name);
    snprintf(cfg.resource_attributes, sizeof cfg.resource_attributes, "%s", attributes);
    memset(&res, 0x5a, sizeof res);
    oa_resource_build(&res, &cfg);
}

/* true when key is a string attribute equal to expect (which may hold NULs: len) */
static bool str_attr_is_n(const char *key, const char *expect, size_t len)
{
    const struct oa_attr *a = oa_resource_find(&res, key);
    return a && a->type == OA_VALUE_STRING && a->v.str.len == len &&
           memcmp(a->v.str.ptr, expect, len) == 0;
}

static bool str_attr_is(const char *key, const char *expect)
{
    return str_attr_is_n(key, expect, strlen(expect));
}

static size_t count_key(const char *key)
{
    size_t n = 0;
    for (size_t i = 0; i < res.n_attrs; i++)
        n += strcmp(res.attrs[i].key, key) == 0;
    return n;
}

static void test_detected(void)
{
    char exe[PATH_MAX];
    char expect[PATH_MAX + 32];
    char host[256];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const struct oa_attr *pid;

    exe[n > 0 ? n : 0] = '\0';
    build("", "");
    snprintf(expect, sizeof expect, "unknown_service:%s", strrchr(exe, '/') + 1);
    CHECK(str_attr_is("service.name", expect), "default service.name is %s", expect);
    CHECK(str_attr_is("telemetry.sdk.name", "opentelemetry"), "telemetry.sdk.name");
    CHECK(str_attr_is("telemetry.sdk.language", "c"), "telemetry.sdk.language");
    CHECK(str_attr_is("telemetry.sdk.version", OA_VERSION), "telemetry.sdk.version");
    CHECK(str_attr_is("telemetry.distro.name", "otelauto") &&
              str_attr_is("telemetry.distro.version", OA_VERSION),
          "telemetry.distro.*");
    pid = oa_resource_find(&res, "process.pid");
    CHECK(pid && pid->type == OA_VALUE_INT && pid->v.i == (int64_t)getpid(),
          "process.pid is an int");
    CHECK(str_attr_is("process.executable.name", strrchr(exe, '/') + 1), "process.executable.name");
    CHECK(str_attr_is("process.executable.path", exe), "process.executable.path");
    CHECK(str_attr_is("process.command", "test-argv0"), "process.command is argv[0]");
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    CHECK(str_attr_is("host.name", host), "host.name");
    CHECK(str_attr_is("os.type", "linux"), "os.type");
    CHECK(oa_resource_find(&res, "no.such.key") == NULL, "find of a missing key is NULL");
    CHECK(res.storage_used <= sizeof res.storage && res.n_attrs <= OA_RESOURCE_MAX_ATTRS,
          "bookkeeping within bounds");

    size_t first = res.n_attrs;
    oa_resource_build(&res, &cfg);
    CHECK(res.n_attrs == first && count_key("service.name") == 1, "rebuilding starts afresh");
}

static void test_service_name(void)
{
    build("checkout", "service.name=from-attrs,team=payments");
    CHECK(str_attr_is("service.name", "checkout") && count_key("service.name") == 1,
          "OTEL_SERVICE_NAME wins over service.name in the attributes");
    CHECK(str_attr_is("team", "payments"), "other attributes kept alongside");

    build("", "service.name=from-attrs");
    CHECK(str_attr_is("service.name", "from-attrs") && count_key("service.name") == 1,
          "service.name from the attributes replaces the default");

    build("checkout", "");
    CHECK(str_attr_is("service.name", "checkout"), "OTEL_SERVICE_NAME alone");
}

static void test_attributes(void)
{
    build("", "team=a%2Cb,k%20x=v%3Dw, env = prod ,empty=,utf=%C3%A9t%C3%A9");
    CHECK(str_attr_is("team", "a,b"), "percent-decoded value (%%2C)");
    CHECK(str_attr_is("k x", "v=w"), "percent-decoded key and value");
    CHECK(str_attr_is("env", "prod"), "spaces around key and value trimmed");
    CHECK(str_attr_is("empty", ""), "empty value kept");
    CHECK(str_attr_is("utf", "\xc3\xa9t\xc3\xa9"), "UTF-8 bytes decoded");

    build("", "a=1,a=2");
    CHECK(str_attr_is("a", "2") && count_key("a") == 1, "repeated key: the last one wins");

    build("", "host.name=custom-host,telemetry.sdk.language=other");
    CHECK(str_attr_is("host.name", "custom-host") && count_key("host.name") == 1,
          "attributes win over detected host.name");
    CHECK(str_attr_is("telemetry.sdk.language", "other"), "attributes may replace telemetry.sdk.*");

    build("", "nul=a%00b");
    CHECK(str_attr_is_n("nul", "a\0b", 3), "encoded NUL kept in a value (pointer + length)");
}

static void test_discard(void)
{
    size_t base;

    build("", "");
    base = res.n_attrs;

    build("", "a=1,b=%zz,c=3");
    CHECK(!oa_resource_find(&res, "a") && !oa_resource_find(&res, "c") && res.n_attrs == base,
          "bad escape discards the whole variable");
    build("", "a=1,b=%4");
    CHECK(!oa_resource_find(&res, "a") && res.n_attrs == base,
          "truncated escape discards everything");
    build("", "a=1,justakey");
    CHECK(!oa_resource_find(&res, "a") && res.n_attrs == base,
          "member without '=' discards everything");
    build("", "a=1,=v");
    CHECK(!oa_resource_find(&res, "a") && res.n_attrs == base, "empty key discards everything");
    build("", "a=1,k%00=v");
    CHECK(!oa_resource_find(&res, "a") && res.n_attrs == base, "NUL in a key discards everything");
    build("x", "service.name=%zz");
    CHECK(str_attr_is("service.name", "x"), "service name survives a discarded list");
}

static void test_limits(void)
{
    char list[4096];
    size_t len = 0;

    for (int i = 0; len + 16 < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "k%d=v%d,", i, i);
    build("", list);
    CHECK(res.n_attrs == OA_RESOURCE_MAX_ATTRS, "attribute count capped at %d",
          OA_RESOURCE_MAX_ATTRS);
    CHECK(oa_resource_find(&res, "service.name") && oa_resource_find(&res, "telemetry.sdk.name") &&
              oa_resource_find(&res, "telemetry.sdk.language") &&
              oa_resource_find(&res, "telemetry.sdk.version"),
          "required attributes survive a long list");

    memset(list, 'v', sizeof list - 1);
    list[0] = 'k';
    list[1] = '=';
    list[sizeof list - 1] = '\0';
    build("", list);
    const struct oa_attr *k = oa_resource_find(&res, "k");
    CHECK(k && k->v.str.len == sizeof list - 3 && res.storage_used <= sizeof res.storage,
          "a 4 KB value fits in the storage");
}

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static bool cgroup_id(const char *line, char *id)
{
    return oa_container_id_from_cgroup_line(line, strlen(line), id);
}

static bool mountinfo_id(const char *line, char *id)
{
    return oa_container_id_from_mountinfo_line(line, strlen(line), id);
}

/* Lines as the runtimes write them: docker on cgroup v1 and v2 (systemd
 * driver), containerd and CRI-O under Kubernetes, podman; and the lines that
 * must give nothing (a host, a 32-digit id, a 65-digit run, a pod sandbox). */
static void test_container_id(void)
{
    char id[OA_CONTAINER_ID_LEN + 1];
    static const char *const found[] = {
        "12:memory:/docker/" ID,
        "0::/system.slice/docker-" ID ".scope",
        "11:cpu,cpuacct:/kubepods/besteffort/pod5e0a7a57-0c54-4b8e-9b6a-2f55d3b0f4c1/" ID,
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5e0a.slice/cri-containerd-" ID ".scope",
        "0::/kubepods.slice/kubepods-pod1.slice/crio-" ID ".scope",
        "0::/machine.slice/libpod-" ID ".scope",
        "1:name=systemd:/docker/" ID,
    };
    static const char *const none[] = {
        "0::/",
        "9:name=systemd:/",
        "4:memory:/process_api/c0b9b6c05938996fb326469d5f250969",
        "0::/user.slice/user-1000.slice/session-2.scope",
        "12:memory:/docker/0" ID,
        "12:memory:/docker/" ID "/sub",
        "no colon at all " ID,
        "0::/docker-" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef" ".scope",
    };
    for (size_t i = 0; i < sizeof found / sizeof found[0]; i++) {
        memset(id, 0, sizeof id);
        CHECK(cgroup_id(found[i], id) && strcmp(id, ID) == 0, "cgroup line %zu gives the id", i);
    }
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        CHECK(!cgroup_id(none[i], id), "cgroup line '%s' gives no id", none[i]);

    CHECK(mountinfo_id("1234 1200 0:45 /var/lib/docker/containers/" ID "/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw", id) &&
              strcmp(id, ID) == 0,
          "docker's bind-mounted hostname gives the id");
    CHECK(mountinfo_id("600 590 0:50 /containers/storage/overlay-containers/" ID "/userdata/resolv.conf /etc/resolv.conf rw - tmpfs tmpfs rw", id) &&
              strcmp(id, ID) == 0,
          "podman's overlay-containers gives the id");
    CHECK(!mountinfo_id("700 690 0:51 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/" ID "/hostname /etc/hostname rw - ext4 /dev/vda1 rw", id),
          "a pod sandbox's hostname is not the container's id");
    CHECK(!mountinfo_id("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw", id), "a host's root gives nothing");
    CHECK(!mountinfo_id("30 22 0:26 /containers/" ID "x/hostname /etc/hostname rw - ext4 /dev/sda1 rw", id),
          "an id followed by more than '/' is not taken");
}

static void test_user_name(void)
{
    char name[64];
    static const char line[] = "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin";

    CHECK(oa_user_name_from_passwd_line(line, sizeof line - 1, 33, name, sizeof name) &&
              strcmp(name, "www-data") == 0,
          "passwd line of uid 33");
    CHECK(!oa_user_name_from_passwd_line(line, sizeof line - 1, 3, name, sizeof name), "uid 3 is not 33");
    CHECK(!oa_user_name_from_passwd_line(line, sizeof line - 1, 333, name, sizeof name), "uid 333 is not 33");
    CHECK(!oa_user_name_from_passwd_line(line, sizeof line - 1, 33, name, 8), "a name longer than the buffer is refused");
    CHECK(!oa_user_name_from_passwd_line("+::::::", 7, 0, name, sizeof name), "a NIS '+' line is no user");
    CHECK(!oa_user_name_from_passwd_line("root:x:", 7, 0, name, sizeof name), "a cut line is no user");
    oa_user_name((uid_t)4000000000u, name, sizeof name);
    CHECK(strcmp(name, "4000000000") == 0, "a uid /etc/passwd does not know is its number (%s)", name);
}

static bool count_line(const char *line, size_t len, void *ctx)
{
    size_t *n = ctx;
    (void)line;
    (void)len;
    (*n)++;
    return false;
}

static bool find_marker(const char *line, size_t len, void *ctx)
{
    (void)ctx;
    return len == 6 && strcmp(line, "marker") == 0;
}

/* Lines longer than the buffer are skipped whole, wherever the reads cut
 * them; a last line without '\n' still counts. */
static void test_line_file(void)
{
    char path[] = "/tmp/oa-line-file-XXXXXX";
    int fd = mkstemp(path);
    static char text[3 * OA_LINE_FILE_MAX];
    size_t n = 0, at = 0;

    at += (size_t)snprintf(text + at, sizeof text - at, "a\n");
    memset(text + at, 'x', OA_LINE_FILE_MAX + 10);
    at += OA_LINE_FILE_MAX + 10;
    at += (size_t)snprintf(text + at, sizeof text - at, "\nmarker\nlast");
    CHECK(fd >= 0 && write(fd, text, at) == (ssize_t)at, "wrote the file");
    close(fd);
    CHECK(!oa_line_file_find(path, count_line, &n) && n == 3, "3 lines handed over (a, marker, last), got %zu", n);
    CHECK(oa_line_file_find(path, find_marker, NULL), "the line after a too-long one is found");
    unlink(path);
    CHECK(!oa_line_file_find(path, count_line, &n), "a missing file finds nothing");
}

static void test_detected_process(void)
{
    const struct oa_attr *a;
    char owner[64];
    char id[OA_CONTAINER_ID_LEN + 1];

    build("", "");
    a = oa_resource_find(&res, "process.parent_pid");
    CHECK(a && a->type == OA_VALUE_INT && a->v.i == (int64_t)getppid(), "process.parent_pid is getppid()");
    oa_user_name(geteuid(), owner, sizeof owner);
    CHECK(str_attr_is("process.owner", owner), "process.owner is %s", owner);
    CHECK(geteuid() != 0 || str_attr_is("process.owner", "root"), "uid 0 is root");
#if defined(__x86_64__)
    CHECK(str_attr_is("host.arch", "amd64"), "host.arch is amd64");
#endif
    if (oa_container_id_detect(id))
        CHECK(str_attr_is("container.id", id), "container.id is the detected one");
    else
        CHECK(oa_resource_find(&res, "container.id") == NULL, "no container.id outside a container");
    build("", "process.owner=someone,host.arch=arm64");
    CHECK(str_attr_is("process.owner", "someone") && str_attr_is("host.arch", "arm64"),
          "OTEL_RESOURCE_ATTRIBUTES wins over the detected owner and arch");
}

int main(int argc, char **argv)
{
    /* process.command is argv[0]: re-run with a known one. */
    if (argc < 2 || strcmp(argv[1], "--child") != 0) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            char *args[] = {"test-argv0", "--child", NULL};
            fflush(stdout);
            execv(exe, args);
        }
        perror("execv");
        return 1;
    }
    (void)argv;
    test_detected();
    test_service_name();
    test_attributes();
    test_discard();
    test_limits();
    test_container_id();
    test_user_name();
    test_line_file();
    test_detected_process();
    TEST_DONE();
}
