/* The start and exit lines of OTEL_LOG_LEVEL=info: what they say for each
 * exporter and sampler, and the exit's arithmetic of unsent spans. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "lifecycle/run_report.h"
#include "oa_test.h"

static const char *env_table[16][2];

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < sizeof env_table / sizeof env_table[0] && env_table[i][0]; i++) {
        if (strcmp(env_table[i][0], name) == 0)
            return env_table[i][1];
    }
    return NULL;
}

static char line[1024];

/* Loads a configuration from NAME=VALUE pairs (NULL-terminated) and formats
 * the start line for service "svc". */
static const char *start_line(const char *const *pairs)
{
    static char storage[16][256];
    static struct oa_config c;
    size_t i = 0;

    memset(env_table, 0, sizeof env_table);
    for (; pairs[i]; i++) {
        snprintf(storage[i], sizeof storage[i], "%s", pairs[i]);
        char *eq = strchr(storage[i], '=');
        *eq = '\0';
        env_table[i][0] = storage[i];
        env_table[i][1] = eq + 1;
    }
    oa_config_load(&c, fake_getenv);
    oa_run_report_format_start(line, sizeof line, &c, "svc");
    return line;
}

static void test_start_line(void)
{
    const char *defaults[] = {NULL};
    const char *ratio[] = {"OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.25",
                           "OTEL_TRACES_EXPORTER=console", "OTEL_METRICS_EXPORTER=prometheus",
                           "OTEL_EXPORTER_PROMETHEUS_PORT=9999", "OTEL_PROPAGATORS=tracecontext", NULL};
    const char *gzip[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318",
                          "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=gzip", "OTEL_METRICS_EXPORTER=none",
                          "OTEL_PROPAGATORS=none", NULL};
    const char *b3[] = {"OTEL_PROPAGATORS=jaeger,b3multi,tracecontext", NULL};

    start_line(defaults);
    CHECK(strcmp(line, "otelauto " OA_VERSION " tracing service \"svc\"; traces: otlp "
                       "http://localhost:4318/v1/traces; metrics: otlp http://localhost:4318/v1/metrics; "
                       "sampler: parentbased_always_on; propagators: tracecontext,baggage") == 0,
          "defaults: %s", line);
    start_line(ratio);
    CHECK(strcmp(line, "otelauto " OA_VERSION " tracing service \"svc\"; traces: console; metrics: "
                       "prometheus on localhost:9999; sampler: parentbased_traceidratio 0.25; "
                       "propagators: tracecontext") == 0,
          "console, prometheus, ratio: %s", line);
    start_line(gzip);
    CHECK(strcmp(line, "otelauto " OA_VERSION " tracing service \"svc\"; traces: otlp "
                       "http://collector:4318/v1/traces (gzip); metrics: none; sampler: "
                       "parentbased_always_on; propagators: none") == 0,
          "gzip for traces only, metrics none: %s", line);

    start_line(b3);
    CHECK(strstr(line, "; propagators: tracecontext,b3multi,jaeger") != NULL, "b3multi and jaeger named: %s", line);

    char tiny[16];
    struct oa_config c;
    oa_config_load(&c, fake_getenv);
    oa_run_report_format_start(tiny, sizeof tiny, &c, "svc");
    CHECK(strlen(tiny) == sizeof tiny - 1 && strncmp(tiny, "otelauto ", 9) == 0,
          "a short buffer holds a cut, terminated line: '%s'", tiny);
}

static void test_exit_line(void)
{
    struct oa_export_counters k = {.submitted = 10, .exported = 6, .dropped_queue_full = 1, .failed = 2};

    oa_run_report_format_exit(line, sizeof line, &k);
    CHECK(strcmp(line, "exit: spans exported 6, dropped 1 (queue full), failed 2 (not accepted or "
                       "collector unreachable), unsent 1") == 0,
          "%s", line);
    k = (struct oa_export_counters){.submitted = 3, .exported = 3, .failed = 1};
    oa_run_report_format_exit(line, sizeof line, &k);
    CHECK(strstr(line, "unsent 0") != NULL, "more settled than submitted (a span failed before it was "
                                            "counted submitted) never gives a negative count: %s", line);
}

int main(void)
{
    test_start_line();
    test_exit_line();
    TEST_DONE();
}
