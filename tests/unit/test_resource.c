/* The Resource: service.name precedence and default, OTEL_RESOURCE_ATTRIBUTES
 * decoding (and discarding), detected process/host attributes. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "oa_resource.h"
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
    TEST_DONE();
}
