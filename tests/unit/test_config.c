/* Configuration from OTEL_* variables: defaults, each variable, bad values
 * falling back, endpoint resolution, header decoding, propagator lists. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "base/log.h"
#include "oa_test.h"

/* The fake environment: NULL-terminated name/value pairs. */
static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; fake_env && fake_env[i]; i += 2) {
        if (strcmp(fake_env[i], name) == 0)
            return fake_env[i + 1];
    }
    return NULL;
}

static struct oa_config cfg;

static void load(const char *const *env)
{
    /* garbage first: the loader must set every field */
    memset(&cfg, 0xa5, sizeof cfg);
    fake_env = env;
    oa_config_load(&cfg, fake_getenv);
}

#define LOAD(...)                                                                                  \
    do {                                                                                           \
        static const char *const env_[] = {__VA_ARGS__, NULL};                                     \
        load(env_);                                                                                \
    } while (0)

static void test_defaults(void)
{
    load(NULL);
    CHECK(!cfg.sdk_disabled, "default: SDK enabled");
    CHECK(cfg.service_name[0] == '\0', "default: no service name");
    CHECK(cfg.resource_attributes[0] == '\0', "default: no resource attributes");
    CHECK(cfg.sampler == OA_SAMPLER_PARENTBASED_ALWAYS_ON, "default sampler parentbased_always_on");
    CHECK(cfg.sampler_ratio == 1.0, "default ratio 1.0");
    CHECK(oa_config_propagates(&cfg, OA_PROPAGATOR_TRACECONTEXT) && oa_config_propagates(&cfg, OA_PROPAGATOR_BAGGAGE),
          "default propagators tracecontext,baggage");
    CHECK(cfg.n_traces_exporters == 1 && cfg.traces_exporters[0] == OA_TRACES_EXPORTER_OTLP,
          "default exporter otlp");
    CHECK(cfg.traces_otlp.protocol == OA_OTLP_HTTP_PROTOBUF && cfg.metrics_otlp.protocol == OA_OTLP_HTTP_PROTOBUF,
          "default protocol http/protobuf");
    CHECK(strcmp(cfg.traces_otlp.endpoint, "http://localhost:4318/v1/traces") == 0,
          "default endpoint (%s)", cfg.traces_otlp.endpoint);
    CHECK(cfg.traces_otlp.n_headers == 0, "default: no headers");
    CHECK(cfg.traces_otlp.timeout_ms == 10000, "default export timeout 10000");
    CHECK(!cfg.traces_otlp.compression_gzip, "default: no compression");
    CHECK(cfg.max_queue_size == 2048, "default queue 2048");
    CHECK(cfg.max_export_batch_size == 512, "default batch 512");
    CHECK(cfg.schedule_delay_ms == 5000, "default schedule delay 5000");
    CHECK(cfg.bsp_export_timeout_ms == 30000, "default BSP export timeout 30000");
    CHECK(cfg.log_level == OA_LOG_NONE && oa_log_threshold == OA_LOG_NONE, "default: silent");

    /* empty values are the same as unset */
    LOAD("OTEL_SDK_DISABLED", "", "OTEL_TRACES_SAMPLER", "", "OTEL_PROPAGATORS", "",
         "OTEL_BSP_MAX_QUEUE_SIZE", "", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "");
    CHECK(!cfg.sdk_disabled && cfg.sampler == OA_SAMPLER_PARENTBASED_ALWAYS_ON &&
              oa_config_propagates(&cfg, OA_PROPAGATOR_TRACECONTEXT) && oa_config_propagates(&cfg, OA_PROPAGATOR_BAGGAGE) && cfg.max_queue_size == 2048 &&
              strcmp(cfg.traces_otlp.endpoint, "http://localhost:4318/v1/traces") == 0,
          "empty values are unset");
}

static void test_sdk_disabled(void)
{
    LOAD("OTEL_SDK_DISABLED", "true");
    CHECK(cfg.sdk_disabled, "OTEL_SDK_DISABLED=true");
    LOAD("OTEL_SDK_DISABLED", "TRUE");
    CHECK(cfg.sdk_disabled, "OTEL_SDK_DISABLED=TRUE (case-insensitive)");
    LOAD("OTEL_SDK_DISABLED", "1");
    CHECK(!cfg.sdk_disabled, "OTEL_SDK_DISABLED=1 is not true");
    LOAD("OTEL_SDK_DISABLED", "yes");
    CHECK(!cfg.sdk_disabled, "OTEL_SDK_DISABLED=yes is not true");
    LOAD("OTEL_SDK_DISABLED", "false");
    CHECK(!cfg.sdk_disabled, "OTEL_SDK_DISABLED=false");
}

static void test_db_query_text(void)
{
    load(NULL);
    CHECK(cfg.db_query_text, "default: database spans carry their sanitized query text");
    LOAD("OTELAUTO_DB_QUERY_TEXT", "false");
    CHECK(!cfg.db_query_text, "OTELAUTO_DB_QUERY_TEXT=false");
    LOAD("OTELAUTO_DB_QUERY_TEXT", "True");
    CHECK(cfg.db_query_text, "OTELAUTO_DB_QUERY_TEXT=True");
    LOAD("OTELAUTO_DB_QUERY_TEXT", "no");
    CHECK(!cfg.db_query_text, "OTELAUTO_DB_QUERY_TEXT=no: not true, so no text (the safe side)");
}

static void test_db_sqlcommenter(void)
{
    load(NULL);
    CHECK(!cfg.db_sqlcommenter, "default: no trace context in the SQL (it changes the statements)");
    LOAD("OTELAUTO_DB_SQLCOMMENTER", "true");
    CHECK(cfg.db_sqlcommenter, "OTELAUTO_DB_SQLCOMMENTER=true");
    LOAD("OTELAUTO_DB_SQLCOMMENTER", "yes");
    CHECK(!cfg.db_sqlcommenter, "OTELAUTO_DB_SQLCOMMENTER=yes: not true, so off");
}

static void test_sampler(void)
{
    LOAD("OTEL_TRACES_SAMPLER", "always_off");
    CHECK(cfg.sampler == OA_SAMPLER_ALWAYS_OFF, "sampler always_off");
    LOAD("OTEL_TRACES_SAMPLER", "Always_On");
    CHECK(cfg.sampler == OA_SAMPLER_ALWAYS_ON, "sampler names are case-insensitive");
    LOAD("OTEL_TRACES_SAMPLER", "parentbased_always_off");
    CHECK(cfg.sampler == OA_SAMPLER_PARENTBASED_ALWAYS_OFF, "sampler parentbased_always_off");
    LOAD("OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "0.25");
    CHECK(cfg.sampler == OA_SAMPLER_TRACEIDRATIO && cfg.sampler_ratio == 0.25, "traceidratio 0.25");
    LOAD("OTEL_TRACES_SAMPLER", "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG", ".5");
    CHECK(cfg.sampler == OA_SAMPLER_PARENTBASED_TRACEIDRATIO && cfg.sampler_ratio == 0.5,
          "parentbased_traceidratio .5");
    LOAD("OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "0");
    CHECK(cfg.sampler_ratio == 0.0, "ratio 0");
    LOAD("OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "1");
    CHECK(cfg.sampler_ratio == 1.0, "ratio 1");
    LOAD("OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "0.001");
    CHECK(fabs(cfg.sampler_ratio - 0.001) < 1e-12, "ratio 0.001");
    LOAD("OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "1.5");
    CHECK(cfg.sampler_ratio == 1.0, "ratio above 1 ignored");
    LOAD("OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "-0.5");
    CHECK(cfg.sampler_ratio == 1.0, "negative ratio ignored");
    LOAD("OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "0.5x");
    CHECK(cfg.sampler_ratio == 1.0, "trailing garbage ratio ignored");
    LOAD("OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "abc");
    CHECK(cfg.sampler_ratio == 1.0, "non-numeric ratio ignored");
    LOAD("OTEL_TRACES_SAMPLER_ARG", "0.25");
    CHECK(cfg.sampler == OA_SAMPLER_PARENTBASED_ALWAYS_ON && cfg.sampler_ratio == 1.0,
          "ARG ignored when the sampler is not set");
    LOAD("OTEL_TRACES_SAMPLER", "always_on", "OTEL_TRACES_SAMPLER_ARG", "0.25");
    CHECK(cfg.sampler_ratio == 1.0, "ARG ignored for a non-ratio sampler");
    LOAD("OTEL_TRACES_SAMPLER", "bogus", "OTEL_TRACES_SAMPLER_ARG", "0.25");
    CHECK(cfg.sampler == OA_SAMPLER_PARENTBASED_ALWAYS_ON && cfg.sampler_ratio == 1.0,
          "unknown sampler falls back to the default");
    LOAD("OTEL_TRACES_SAMPLER", "jaeger_remote");
    CHECK(cfg.sampler == OA_SAMPLER_PARENTBASED_ALWAYS_ON, "unsupported sampler falls back");
}

static void test_propagators(void)
{
    LOAD("OTEL_PROPAGATORS", "baggage");
    CHECK(!oa_config_propagates(&cfg, OA_PROPAGATOR_TRACECONTEXT) && oa_config_propagates(&cfg, OA_PROPAGATOR_BAGGAGE), "propagators: baggage only");
    LOAD("OTEL_PROPAGATORS", "tracecontext");
    CHECK(oa_config_propagates(&cfg, OA_PROPAGATOR_TRACECONTEXT) && !oa_config_propagates(&cfg, OA_PROPAGATOR_BAGGAGE), "propagators: tracecontext only");
    LOAD("OTEL_PROPAGATORS", "none");
    CHECK(!oa_config_propagates(&cfg, OA_PROPAGATOR_TRACECONTEXT) && !oa_config_propagates(&cfg, OA_PROPAGATOR_BAGGAGE), "propagators: none");
    LOAD("OTEL_PROPAGATORS", " TraceContext , ,Baggage ");
    CHECK(oa_config_propagates(&cfg, OA_PROPAGATOR_TRACECONTEXT) && oa_config_propagates(&cfg, OA_PROPAGATOR_BAGGAGE),
          "propagators: spaces, case, empty items");
    LOAD("OTEL_PROPAGATORS", "xray,tracecontext,bogus");
    CHECK(cfg.propagators == 1u << OA_PROPAGATOR_TRACECONTEXT, "propagators: unknown ones ignored");
    LOAD("OTEL_PROPAGATORS", "jaeger, B3multi,baggage,b3,tracecontext,jaeger");
    CHECK(cfg.propagators == (1u << OA_PROPAGATOR_N) - 1, "propagators: b3, b3multi, jaeger (%#x)", cfg.propagators);
    CHECK(cfg.n_context_propagators == 4 && cfg.context_propagators[0] == OA_PROPAGATOR_JAEGER &&
              cfg.context_propagators[1] == OA_PROPAGATOR_B3MULTI && cfg.context_propagators[2] == OA_PROPAGATOR_B3 &&
              cfg.context_propagators[3] == OA_PROPAGATOR_TRACECONTEXT,
          "propagators: context ones in the order listed, each once, baggage apart");
    LOAD("OTEL_PROPAGATORS", "b3");
    CHECK(cfg.propagators == 1u << OA_PROPAGATOR_B3 && cfg.n_context_propagators == 1, "propagators: b3 alone");
    LOAD("OTEL_PROPAGATORS", "xray");
    CHECK(!oa_config_propagates(&cfg, OA_PROPAGATOR_TRACECONTEXT) && !oa_config_propagates(&cfg, OA_PROPAGATOR_BAGGAGE),
          "propagators: only unsupported => none");
}

/* the loaded list of exporters as "a,b" */
static const char *exporters_loaded(void)
{
    static char out[128];
    size_t used = 0;

    out[0] = '\0';
    for (unsigned i = 0; i < cfg.n_traces_exporters && i < OA_CONFIG_MAX_TRACES_EXPORTERS; i++)
        used += (size_t)snprintf(out + used, sizeof out - used, "%s%s", i ? "," : "",
                                 oa_config_traces_exporter_name(cfg.traces_exporters[i]));
    return out;
}

static void test_exporter(void)
{
    static const struct {
        const char *value, *expect;
    } cases[] = {
        {"console", "console"},
        {"NONE", ""},
        {"zipkin", "zipkin"},
        {"jaeger", "otlp"}, /* nothing known: the default */
        {"console,otlp", "console,otlp"},
        {" otlp , console ", "otlp,console"},
        {"otlp,console,otlp", "otlp,console"},
        {"otlp,zipkin,console", "otlp,zipkin,console"},
        {"otlp,jaeger,console", "otlp,console"},
        {"none,console", "console"},
        {",,console,", "console"},
        {"none,none", ""},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *env[] = {"OTEL_TRACES_EXPORTER", cases[i].value, NULL};
        load(env);
        CHECK(strcmp(exporters_loaded(), cases[i].expect) == 0, "OTEL_TRACES_EXPORTER=\"%s\": [%s], want [%s]",
              cases[i].value, exporters_loaded(), cases[i].expect);
    }
    LOAD("OTEL_TRACES_EXPORTER", "otlp,console");
    CHECK(oa_config_traces_exporter_on(&cfg, OA_TRACES_EXPORTER_CONSOLE) &&
              oa_config_traces_exporter_on(&cfg, OA_TRACES_EXPORTER_OTLP) &&
              !oa_config_traces_exporter_on(&cfg, OA_TRACES_EXPORTER_NONE),
          "oa_config_traces_exporter_on");
}

static void test_zipkin_options(void)
{
    LOAD("OTEL_TRACES_EXPORTER", "zipkin");
    CHECK(strcmp(cfg.traces_zipkin.endpoint, "http://localhost:9411/api/v2/spans") == 0,
          "default Zipkin endpoint");
    CHECK(cfg.traces_zipkin.timeout_ms == 10000, "default Zipkin timeout 10000");
    LOAD("OTEL_EXPORTER_ZIPKIN_ENDPOINT", " http://zipkin:9411/api/v2/spans ",
         "OTEL_EXPORTER_ZIPKIN_TIMEOUT", "2500", "OTEL_EXPORTER_OTLP_TIMEOUT", "700");
    CHECK(strcmp(cfg.traces_zipkin.endpoint, "http://zipkin:9411/api/v2/spans") == 0,
          "Zipkin endpoint used as it is (trimmed), no path appended");
    CHECK(cfg.traces_zipkin.timeout_ms == 2500 && cfg.traces_otlp.timeout_ms == 700,
          "Zipkin timeout is its own, apart from OTLP's");
    LOAD("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "zipkin:9411", "OTEL_EXPORTER_ZIPKIN_TIMEOUT", "abc");
    CHECK(strcmp(cfg.traces_zipkin.endpoint, "http://localhost:9411/api/v2/spans") == 0,
          "a Zipkin endpoint that is not an http(s) URL gives the default");
    CHECK(cfg.traces_zipkin.timeout_ms == 10000, "bad Zipkin timeout => default");
    LOAD("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
    CHECK(strcmp(cfg.traces_zipkin.endpoint, "http://localhost:9411/api/v2/spans") == 0,
          "the OTLP endpoint does not move the Zipkin one");
}

static void check_endpoint(const char *generic, const char *traces, const char *expect)
{
    const char *env[5];
    size_t n = 0;

    if (generic) {
        env[n++] = "OTEL_EXPORTER_OTLP_ENDPOINT";
        env[n++] = generic;
    }
    if (traces) {
        env[n++] = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
        env[n++] = traces;
    }
    env[n] = NULL;
    load(env);
    CHECK(strcmp(cfg.traces_otlp.endpoint, expect) == 0, "endpoint generic=%s traces=%s -> %s (got %s)",
          generic ? generic : "-", traces ? traces : "-", expect, cfg.traces_otlp.endpoint);
}

static void test_endpoints(void)
{
    static char long_url[3000];

    check_endpoint("http://c:4318", NULL, "http://c:4318/v1/traces");
    check_endpoint("http://c:4318/", NULL, "http://c:4318/v1/traces");
    check_endpoint("http://c:4318/x/", NULL, "http://c:4318/x/v1/traces");
    check_endpoint("http://c:4318/x", NULL, "http://c:4318/x/v1/traces");
    check_endpoint("https://collector.example.com", NULL,
                   "https://collector.example.com/v1/traces");
    check_endpoint(NULL, "http://c:4318", "http://c:4318/");
    check_endpoint(NULL, "http://c:4318/custom/path", "http://c:4318/custom/path");
    check_endpoint(NULL, "http://c:4318/v1/traces", "http://c:4318/v1/traces");
    check_endpoint(NULL, "http://c:4318?tenant=a", "http://c:4318/?tenant=a");
    check_endpoint("http://generic:4318", "http://specific:4318/t", "http://specific:4318/t");
    check_endpoint("http://generic:4318", "specific:4318", "http://generic:4318/v1/traces");
    check_endpoint("collector:4318", NULL, "http://localhost:4318/v1/traces");
    check_endpoint("ftp://c/", NULL, "http://localhost:4318/v1/traces");
    check_endpoint("http://", NULL, "http://localhost:4318/v1/traces");
    check_endpoint(" http://c:4318 ", NULL, "http://c:4318/v1/traces");

    memcpy(long_url, "http://c/", 9);
    memset(long_url + 9, 'a', sizeof long_url - 10);
    check_endpoint(NULL, long_url, "http://localhost:4318/v1/traces");
}

static bool has_header(const char *line)
{
    for (int i = 0; i < cfg.traces_otlp.n_headers; i++) {
        if (strcmp(cfg.traces_otlp.headers[i], line) == 0)
            return true;
    }
    return false;
}

static void test_headers(void)
{
    static char many[4096];
    static char long_value[700];
    size_t len = 0;

    LOAD("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret,other-config-value=value%20with%20space");
    CHECK(cfg.traces_otlp.n_headers == 2 && strcmp(cfg.traces_otlp.headers[0], "api-key: secret") == 0 &&
              strcmp(cfg.traces_otlp.headers[1], "other-config-value: value with space") == 0,
          "headers decoded into lines");
    LOAD("OTEL_EXPORTER_OTLP_HEADERS", " a = b ,, Authorization=Basic%20dXNlcjpwYXNz%3D ");
    CHECK(cfg.traces_otlp.n_headers == 2 && has_header("a: b") &&
              has_header("Authorization: Basic dXNlcjpwYXNz="),
          "headers trimmed, empty members skipped, %%3D decoded");
    LOAD("OTEL_EXPORTER_OTLP_HEADERS", "novalue,k=v,=v2,bad key=v3,x=%zz,y=%0d%0aInjected: 1,z=%");
    CHECK(cfg.traces_otlp.n_headers == 1 && has_header("k: v"),
          "invalid pairs skipped (no '=', empty name, bad name, bad escape, CRLF)");
    LOAD("OTEL_EXPORTER_OTLP_HEADERS", "a=1", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=2");
    CHECK(cfg.traces_otlp.n_headers == 1 && has_header("b: 2"), "traces headers override the generic ones");
    LOAD("OTEL_EXPORTER_OTLP_HEADERS", "a=1", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "");
    CHECK(cfg.traces_otlp.n_headers == 1 && has_header("a: 1"), "empty traces headers = unset");
    LOAD("OTEL_EXPORTER_OTLP_HEADERS", "tab=a%09b");
    CHECK(cfg.traces_otlp.n_headers == 1 && has_header("tab: a\tb"), "a tab is allowed in a value");

    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(many + len, sizeof many - len, "h%d=v%d,", i, i);
    const char *env_many[] = {"OTEL_EXPORTER_OTLP_HEADERS", many, NULL};
    load(env_many);
    CHECK(cfg.traces_otlp.n_headers == OA_CONFIG_MAX_HEADERS && has_header("h31: v31") &&
              !has_header("h32: v32"),
          "at most %d headers", OA_CONFIG_MAX_HEADERS);

    memcpy(long_value, "big=", 4);
    memset(long_value + 4, 'x', sizeof long_value - 5);
    const char *env_long[] = {"OTEL_EXPORTER_OTLP_HEADERS", "small=1",
                              "OTEL_EXPORTER_OTLP_TRACES_HEADERS", long_value, NULL};
    load(env_long);
    CHECK(cfg.traces_otlp.n_headers == 0, "a header too long for the line is skipped, not cut");
}

static void test_exporter_options(void)
{
    LOAD("OTEL_EXPORTER_OTLP_TIMEOUT", "700", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "500");
    CHECK(cfg.traces_otlp.timeout_ms == 500, "traces timeout overrides the generic one");
    LOAD("OTEL_EXPORTER_OTLP_TIMEOUT", "700");
    CHECK(cfg.traces_otlp.timeout_ms == 700, "generic timeout");
    LOAD("OTEL_EXPORTER_OTLP_TIMEOUT", "0");
    CHECK(cfg.traces_otlp.timeout_ms == 0, "timeout 0 = no limit");
    LOAD("OTEL_EXPORTER_OTLP_TIMEOUT", "abc");
    CHECK(cfg.traces_otlp.timeout_ms == 10000, "bad timeout => default");
    LOAD("OTEL_EXPORTER_OTLP_TIMEOUT", "-5");
    CHECK(cfg.traces_otlp.timeout_ms == 10000, "negative timeout => default");
    LOAD("OTEL_EXPORTER_OTLP_TIMEOUT", "99999999999999999999999");
    CHECK(cfg.traces_otlp.timeout_ms == 10000, "overflowing timeout => default");

    LOAD("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip");
    CHECK(cfg.traces_otlp.compression_gzip, "compression gzip");
    LOAD("OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP");
    CHECK(cfg.traces_otlp.compression_gzip, "compression GZIP");
    LOAD("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none");
    CHECK(!cfg.traces_otlp.compression_gzip, "traces compression overrides the generic one");
    LOAD("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli");
    CHECK(!cfg.traces_otlp.compression_gzip, "unknown compression => none");
}

/* Per-signal exporter options: OTEL_EXPORTER_OTLP_<SIGNAL>_<OPTION> over
 * OTEL_EXPORTER_OTLP_<OPTION>, for traces and metrics alike, and never one
 * signal's for the other. */
enum { GENERIC, TRACES, METRICS };

struct signal_option {
    const char *option;            /* HEADERS: OTEL_EXPORTER_OTLP_[<SIGNAL>_]HEADERS */
    const char *set[3];            /* the value given to the GENERIC, TRACES, METRICS variable */
    /* What the traces and the metrics options hold: from the generic
     * variable, from their own, and by default. */
    const char *from_generic[2];
    const char *from_own[2];
    const char *by_default[2];
};

static const struct signal_option signal_options[] = {
    {"ENDPOINT", {"http://g:1", "http://t:2/t", "http://m:3/m"},
     {"http://g:1/v1/traces", "http://g:1/v1/metrics"}, {"http://t:2/t", "http://m:3/m"},
     {"http://localhost:4318/v1/traces", "http://localhost:4318/v1/metrics"}},
    {"HEADERS", {"x-key=g", "x-key=t,x-t=1", "x-key=m"}, {"x-key: g", "x-key: g"},
     {"x-key: t|x-t: 1", "x-key: m"}, {"", ""}},
    {"TIMEOUT", {"700", "500", "300"}, {"700", "700"}, {"500", "300"}, {"10000", "10000"}},
    /* "none" is also the default: generic gzip is checked on its own below */
    {"COMPRESSION", {"none", "gzip", "GZIP"}, {"none", "none"}, {"gzip", "gzip"}, {"none", "none"}},
    {"CERTIFICATE", {"/g/ca.pem", "/t/ca.pem", "/m/ca.pem"}, {"/g/ca.pem", "/g/ca.pem"},
     {"/t/ca.pem", "/m/ca.pem"}, {"", ""}},
    {"CLIENT_CERTIFICATE", {"/g/c.pem", "/t/c.pem", "/m/c.pem"}, {"/g/c.pem", "/g/c.pem"},
     {"/t/c.pem", "/m/c.pem"}, {"", ""}},
    {"CLIENT_KEY", {"/g/k.pem", "/t/k.pem", "/m/k.pem"}, {"/g/k.pem", "/g/k.pem"},
     {"/t/k.pem", "/m/k.pem"}, {"", ""}},
};

/* The option as text, for comparing and printing. */
static void show_option(const char *option, const struct oa_config_otlp *o, char *out, size_t cap)
{
    size_t len = 0;

    out[0] = '\0';
    if (strcmp(option, "ENDPOINT") == 0)
        snprintf(out, cap, "%s", o->endpoint);
    else if (strcmp(option, "TIMEOUT") == 0)
        snprintf(out, cap, "%ld", o->timeout_ms);
    else if (strcmp(option, "COMPRESSION") == 0)
        snprintf(out, cap, "%s", o->compression_gzip ? "gzip" : "none");
    else if (strcmp(option, "CERTIFICATE") == 0)
        snprintf(out, cap, "%s", o->certificate);
    else if (strcmp(option, "CLIENT_CERTIFICATE") == 0)
        snprintf(out, cap, "%s", o->client_certificate);
    else if (strcmp(option, "CLIENT_KEY") == 0)
        snprintf(out, cap, "%s", o->client_key);
    else if (strcmp(option, "HEADERS") == 0) {
        for (int i = 0; i < o->n_headers && len < cap; i++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "|" : "", o->headers[i]);
    }
}

/* Loads an environment where only the variables in `given` (bits 1 << GENERIC,
 * 1 << TRACES, 1 << METRICS) set the option, and checks both signals. */
static void check_signal_option(const struct signal_option *t, unsigned given)
{
    static const char *const var_format[] = {"OTEL_EXPORTER_OTLP_%s%s", "OTEL_EXPORTER_OTLP_TRACES_%s%s",
                                             "OTEL_EXPORTER_OTLP_METRICS_%s%s"};
    char names[3][64];
    const char *env[7];
    size_t n = 0;
    char seen[2][4096];

    for (int v = GENERIC; v <= METRICS; v++) {
        snprintf(names[v], sizeof names[v], var_format[v], t->option, "");
        if (given & (1u << v)) {
            env[n++] = names[v];
            env[n++] = t->set[v];
        }
    }
    env[n] = NULL;
    load(env);
    show_option(t->option, &cfg.traces_otlp, seen[0], sizeof seen[0]);
    show_option(t->option, &cfg.metrics_otlp, seen[1], sizeof seen[1]);
    for (int signal = 0; signal < 2; signal++) {
        const char *expect = (given & (1u << (TRACES + signal))) ? t->from_own[signal]
                             : (given & (1u << GENERIC))          ? t->from_generic[signal]
                                                                  : t->by_default[signal];
        CHECK(strcmp(seen[signal], expect) == 0, "%s set by {%s%s%s}: %s has \"%s\" (expected \"%s\")",
              t->option, given & 1 ? " generic" : "", given & 2 ? " TRACES_" : "",
              given & 4 ? " METRICS_" : "", signal ? "metrics" : "traces", seen[signal], expect);
    }
}

static int occurrences(const char *haystack, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* What loading env writes to stderr at warn level (the log writes to fd 2). */
static void warnings_of(const char *const *env, char *out, size_t cap)
{
    FILE *f = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n = 0;

    out[0] = '\0';
    if (!f || saved < 0)
        return;
    fflush(stderr);
    dup2(fileno(f), STDERR_FILENO);
    load(env);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(f);
    n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    for (char *nl = strchr(out, '\n'); nl; nl = strchr(nl, '\n'))
        *nl = ' ';
    fclose(f);
}

static void test_signal_options(void)
{
    static char log[4096];

    for (size_t i = 0; i < sizeof signal_options / sizeof signal_options[0]; i++) {
        /* unset, generic alone, each signal's alone, each over the generic, all three */
        for (unsigned given = 0; given < 8; given++)
            check_signal_option(&signal_options[i], given);
    }
    LOAD("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip");
    CHECK(cfg.traces_otlp.compression_gzip && cfg.metrics_otlp.compression_gzip,
          "generic compression gzip applies to both signals");
    LOAD("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none");
    CHECK(cfg.traces_otlp.compression_gzip && !cfg.metrics_otlp.compression_gzip,
          "metrics compression none over the generic gzip, traces keep gzip");
    LOAD("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "abc", "OTEL_EXPORTER_OTLP_TIMEOUT", "700");
    CHECK(cfg.metrics_otlp.timeout_ms == 10000 && cfg.traces_otlp.timeout_ms == 700,
          "a bad metrics timeout => the default, not the generic value (as for traces)");

    /* _PROTOCOL: http/protobuf, http/json or grpc, the signal's own
     * variable first; unknown values are warned about, naming the variable
     * the value came from, and give http/protobuf. */
    LOAD("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json");
    CHECK(cfg.traces_otlp.protocol == OA_OTLP_HTTP_JSON && cfg.metrics_otlp.protocol == OA_OTLP_HTTP_JSON,
          "generic http/json applies to both signals");
    LOAD("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "HTTP/Protobuf");
    CHECK(cfg.traces_otlp.protocol == OA_OTLP_HTTP_JSON && cfg.metrics_otlp.protocol == OA_OTLP_HTTP_PROTOBUF,
          "metrics' own protocol wins over the generic one (any case)");
    LOAD("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", " http/json ");
    CHECK(cfg.traces_otlp.protocol == OA_OTLP_HTTP_JSON && cfg.metrics_otlp.protocol == OA_OTLP_HTTP_PROTOBUF,
          "traces' own protocol for traces only");
    CHECK(strcmp(oa_config_otlp_protocol_name(OA_OTLP_HTTP_JSON), "http/json") == 0 &&
              strcmp(oa_config_otlp_protocol_name(OA_OTLP_GRPC), "grpc") == 0,
          "protocol names");
    const char *env_protocol[] = {"OTEL_LOG_LEVEL", "warn", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "GRPC",
                                  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf", NULL};
    warnings_of(env_protocol, log, sizeof log);
    CHECK(log[0] == '\0', "grpc and http/protobuf are not warned about: [%s]", log);
    CHECK(cfg.metrics_otlp.protocol == OA_OTLP_GRPC && cfg.traces_otlp.protocol == OA_OTLP_HTTP_PROTOBUF,
          "metrics grpc, traces http/protobuf");

    /* grpc endpoints: the default is port 4317, no signal path is appended
     * to either variable, a scheme-less endpoint is https unless INSECURE. */
    LOAD("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    CHECK(strcmp(cfg.traces_otlp.endpoint, "http://localhost:4317") == 0 &&
              strcmp(cfg.metrics_otlp.endpoint, "http://localhost:4317") == 0,
          "grpc default endpoint: [%s] [%s]", cfg.traces_otlp.endpoint, cfg.metrics_otlp.endpoint);
    LOAD("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT", "https://c.example:9999");
    CHECK(strcmp(cfg.traces_otlp.endpoint, "https://c.example:9999") == 0 &&
              strcmp(cfg.metrics_otlp.endpoint, "https://c.example:9999") == 0,
          "grpc generic endpoint used as is: [%s]", cfg.traces_otlp.endpoint);
    LOAD("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc");
    CHECK(strcmp(cfg.traces_otlp.endpoint, "http://localhost:4317") == 0 &&
              strcmp(cfg.metrics_otlp.endpoint, "http://localhost:4318/v1/metrics") == 0,
          "default endpoint by each signal's protocol: [%s] [%s]", cfg.traces_otlp.endpoint,
          cfg.metrics_otlp.endpoint);
    LOAD("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "collector:4317",
         "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "collector:4317", "OTEL_EXPORTER_OTLP_METRICS_INSECURE", "TRUE");
    CHECK(strcmp(cfg.traces_otlp.endpoint, "https://collector:4317") == 0 &&
              strcmp(cfg.metrics_otlp.endpoint, "http://collector:4317") == 0,
          "scheme-less grpc endpoint: https, http with INSECURE: [%s] [%s]", cfg.traces_otlp.endpoint,
          cfg.metrics_otlp.endpoint);
    LOAD("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:1",
         "OTEL_EXPORTER_OTLP_INSECURE", "true");
    CHECK(strcmp(cfg.traces_otlp.endpoint, "https://c:1") == 0, "a scheme wins over INSECURE");
    LOAD("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://c:1");
    CHECK(strcmp(cfg.traces_otlp.endpoint, "http://localhost:4317") == 0, "another scheme is refused");
    const char *env_protocol_generic[] = {"OTEL_LOG_LEVEL", "warn", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/xml",
                                          "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json", NULL};
    warnings_of(env_protocol_generic, log, sizeof log);
    CHECK(occurrences(log, "OTEL_EXPORTER_OTLP_PROTOCOL: unknown value \"http/xml\"") == 1,
          "generic unknown protocol warned about for traces only (metrics has its own): [%s]", log);
    const char *env_exporters[] = {"OTEL_LOG_LEVEL", "warn", "OTEL_TRACES_EXPORTER", "otlp,xray,jaeger,XRAY,none", NULL};
    warnings_of(env_exporters, log, sizeof log);
    CHECK(occurrences(log, "\"xray\" skipped") == 1 && occurrences(log, "\"jaeger\" skipped") == 1 &&
              occurrences(log, "\"none\" beside other exporters") == 1,
          "unknown exporters each warned about once (even listed twice), none beside others too: [%s]", log);
    oa_log_threshold = OA_LOG_NONE;
}

static void test_batch_options(void)
{
    LOAD("OTEL_BSP_MAX_QUEUE_SIZE", "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1000");
    CHECK(cfg.max_queue_size == 100 && cfg.max_export_batch_size == 100,
          "batch clamped to the queue");
    LOAD("OTEL_BSP_MAX_QUEUE_SIZE", "100");
    CHECK(cfg.max_queue_size == 100 && cfg.max_export_batch_size == 100,
          "default batch clamped to the queue");
    LOAD("OTEL_BSP_MAX_QUEUE_SIZE", "0", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "x");
    CHECK(cfg.max_queue_size == 2048 && cfg.max_export_batch_size == 512,
          "bad queue/batch sizes => defaults");
    LOAD("OTEL_BSP_MAX_QUEUE_SIZE", "4096", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64",
         "OTEL_BSP_SCHEDULE_DELAY", "250", "OTEL_BSP_EXPORT_TIMEOUT", "45000");
    CHECK(cfg.max_queue_size == 4096 && cfg.max_export_batch_size == 64 &&
              cfg.schedule_delay_ms == 250 && cfg.bsp_export_timeout_ms == 45000,
          "BSP variables");
    LOAD("OTEL_BSP_SCHEDULE_DELAY", "1.5", "OTEL_BSP_EXPORT_TIMEOUT", "-1");
    CHECK(cfg.schedule_delay_ms == 5000 && cfg.bsp_export_timeout_ms == 30000,
          "bad BSP times => defaults");
    LOAD("OTEL_BSP_MAX_QUEUE_SIZE", "100000000");
    CHECK(cfg.max_queue_size == (1u << 20), "huge queue size capped (%u)", cfg.max_queue_size);
}

static void test_log_level(void)
{
    LOAD("OTEL_LOG_LEVEL", "debug");
    CHECK(cfg.log_level == OA_LOG_DEBUG && oa_log_threshold == OA_LOG_DEBUG,
          "log level debug sets the threshold");
    LOAD("OTEL_LOG_LEVEL", "INFO");
    CHECK(cfg.log_level == OA_LOG_INFO && oa_log_threshold == OA_LOG_INFO, "log level INFO");
    LOAD("OTEL_LOG_LEVEL", "warn");
    CHECK(cfg.log_level == OA_LOG_WARN, "log level warn");
    LOAD("OTEL_LOG_LEVEL", "error");
    CHECK(cfg.log_level == OA_LOG_ERROR, "log level error");
    LOAD("OTEL_LOG_LEVEL", "off");
    CHECK(cfg.log_level == OA_LOG_NONE && oa_log_threshold == OA_LOG_NONE, "log level off");
    LOAD("OTEL_LOG_LEVEL", "none");
    CHECK(cfg.log_level == OA_LOG_NONE, "log level none");
    LOAD("OTEL_LOG_LEVEL", "chatty");
    CHECK(cfg.log_level == OA_LOG_NONE && oa_log_threshold == OA_LOG_NONE,
          "unknown log level => silent");
}

static void test_service_and_resource(void)
{
    static char long_name[300];

    LOAD("OTEL_SERVICE_NAME", "checkout");
    CHECK(strcmp(cfg.service_name, "checkout") == 0, "service name");
    memset(long_name, 'n', sizeof long_name - 1);
    const char *env_long[] = {"OTEL_SERVICE_NAME", long_name, NULL};
    load(env_long);
    CHECK(strlen(cfg.service_name) == sizeof cfg.service_name - 1, "long service name truncated");

    LOAD("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,team=a%2Cb");
    CHECK(strcmp(cfg.resource_attributes, "deployment.environment=prod,team=a%2Cb") == 0,
          "resource attributes kept raw");
    LOAD("OTEL_RESOURCE_ATTRIBUTES", "a=1,b=%zz");
    CHECK(cfg.resource_attributes[0] == '\0', "resource attributes with a bad escape discarded");
    LOAD("OTEL_RESOURCE_ATTRIBUTES", "a=1,justakey");
    CHECK(cfg.resource_attributes[0] == '\0',
          "resource attributes with a member without '=' discarded");
    LOAD("OTEL_RESOURCE_ATTRIBUTES", "a=1,=v");
    CHECK(cfg.resource_attributes[0] == '\0', "resource attributes with an empty key discarded");
}

static void test_list_helpers(void)
{
    char out[16];
    const char *cursor = " a = 1 ,, b=2,c ";
    struct oa_config_member m;
    int ok = 1;

    EXPECT(ok, oa_config_next_member(&cursor, &m), "first member");
    EXPECT(ok,
           m.key_len == 1 && m.key[0] == 'a' && m.value && m.value_len == 1 && m.value[0] == '1',
           "a=1");
    EXPECT(ok, oa_config_next_member(&cursor, &m), "second member");
    EXPECT(ok, m.key_len == 1 && m.key[0] == 'b' && m.value && m.value[0] == '2', "b=2");
    EXPECT(ok, oa_config_next_member(&cursor, &m), "third member");
    EXPECT(ok, m.key_len == 1 && m.key[0] == 'c' && m.value == NULL, "c without '='");
    EXPECT(ok, !oa_config_next_member(&cursor, &m), "end");
    CHECK(ok, "member iteration: trimming, empty members, missing '='");

    CHECK(oa_config_percent_decode("a%2Cb%3d", 8, out, sizeof out) == 4 && strcmp(out, "a,b=") == 0,
          "percent decoding");
    CHECK(oa_config_percent_decode("ab%", 3, out, sizeof out) == -1, "truncated escape rejected");
    CHECK(oa_config_percent_decode("ab%4", 4, out, sizeof out) == -1, "short escape rejected");
    CHECK(oa_config_percent_decode("%g0", 3, out, sizeof out) == -1, "non-hex escape rejected");
    CHECK(oa_config_percent_decode("0123456789abcdef", 16, out, sizeof out) == -1,
          "output too small rejected");
    CHECK(oa_config_percent_decode("0123456789abcde", 15, out, sizeof out) == 15,
          "exact fit accepted");
}

int main(void)
{
    test_defaults();
    test_sdk_disabled();
    test_db_query_text();
    test_db_sqlcommenter();
    test_sampler();
    test_propagators();
    test_exporter();
    test_zipkin_options();
    test_endpoints();
    test_headers();
    test_exporter_options();
    test_signal_options();
    test_batch_options();
    test_log_level();
    test_service_and_resource();
    test_list_helpers();
    oa_log_threshold = OA_LOG_NONE;
    TEST_DONE();
}
