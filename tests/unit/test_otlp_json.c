/* The OTLP/HTTP JSON encoder (src/export/otlp/otlp_json_encoder.c): the
 * exact text for a known span and a known metric batch (hex ids, 64-bit
 * integers as decimal strings, enums as numbers, lowerCamelCase names),
 * string escaping and UTF-8 repair, numbers whatever the locale; every text
 * also goes through Python's json module when python3 is there, so that
 * "exact" cannot mean "exactly wrong". And the partial success read from a
 * JSON response. */
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/otlp/json_writer.h"
#include "export/otlp/otlp_json_encoder.h"
#include "export/otlp/otlp_json_response.h"
#include "oa_test.h"

static struct oa_span span;
static struct oa_resource resource;

static void attr_str(struct oa_attr *a, const char *key, const char *ptr, uint32_t len)
{
    a->key = key;
    a->type = OA_VALUE_STRING;
    a->v.str.ptr = ptr;
    a->v.str.len = len;
}

/* python3's json module accepts the text (skipped, and said, without python3) */
static int python_accepts(const char *text, size_t len)
{
    if (access("/usr/bin/python3", X_OK) != 0)
        return -1;
    FILE *p = popen("/usr/bin/python3 -c 'import json,sys; json.load(sys.stdin)'", "w");
    if (p == NULL)
        return -1;
    fwrite(text, 1, len, p);
    return pclose(p) == 0;
}

static void check_valid_json(const char *what, const char *text, size_t len)
{
    int accepted = python_accepts(text, len);
    if (accepted < 0)
        printf("# no /usr/bin/python3: %s not parsed\n", what);
    else
        CHECK(accepted == 1, "python3's json module reads %s", what);
}

static void fill_span(void)
{
    static const uint8_t trace_id[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                         0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
    static const uint8_t span_id[8] = {0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5, 0x06, 0x17};
    static const uint8_t parent_id[8] = {0, 0, 0, 0, 0, 0, 0, 0x2a};

    memcpy(span.trace_id, trace_id, sizeof trace_id);
    memcpy(span.span_id, span_id, sizeof span_id);
    memcpy(span.parent_span_id, parent_id, sizeof parent_id);
    span.has_parent = true;
    span.parent_is_remote = true;
    span.trace_flags = 1;
    span.kind = OA_SPAN_KIND_SERVER;
    span.status_code = OA_STATUS_ERROR;
    span.status_message = "boom";
    span.name = "GET /x";
    span.trace_state = "k=v";
    span.start_unix_nano = 1700000000000000001ull;
    span.end_unix_nano = UINT64_MAX;
    span.dropped_attrs = 1;
    /* quote, backslash, newline, a control byte, a bad byte, NUL, é */
    attr_str(&span.attrs[0], "url.full", "a\"b\\c\nd\x01" "e\xff" "f\0g\xc3\xa9", 15);
    span.attrs[1].key = "http.response.status_code";
    span.attrs[1].type = OA_VALUE_INT;
    span.attrs[1].v.i = INT64_MIN;
    span.attrs[2].key = "tls";
    span.attrs[2].type = OA_VALUE_BOOL;
    span.attrs[2].v.b = true;
    span.attrs[3].key = "ratio";
    span.attrs[3].type = OA_VALUE_DOUBLE;
    span.attrs[3].v.d = 0.1;
    span.attrs[4].key = "nan";
    span.attrs[4].type = OA_VALUE_DOUBLE;
    span.attrs[4].v.d = NAN;
    span.n_attrs = 5;

    attr_str(&resource.attrs[0], "service.name", "svc", 3);
    resource.n_attrs = 1;
}

#define SPAN_JSON                                                                                          \
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":" \
    "\"svc\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"otelauto\",\"version\":\"" OA_VERSION "\"},"         \
    "\"spans\":[{\"traceId\":\"0123456789abcdeffedcba9876543210\",\"spanId\":\"a0b1c2d3e4f50617\","          \
    "\"traceState\":\"k=v\",\"parentSpanId\":\"000000000000002a\",\"name\":\"GET /x\",\"kind\":2,"           \
    "\"startTimeUnixNano\":\"1700000000000000001\",\"endTimeUnixNano\":\"18446744073709551615\","            \
    "\"attributes\":[{\"key\":\"url.full\",\"value\":{\"stringValue\":"                                     \
    "\"a\\\"b\\\\c\\u000ad\\u0001e\xef\xbf\xbd" "f\xef\xbf\xbdg\xc3\xa9\"}},"                               \
    "{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"            \
    "{\"key\":\"tls\",\"value\":{\"boolValue\":true}},{\"key\":\"ratio\",\"value\":{\"doubleValue\":0.1}},"  \
    "{\"key\":\"nan\",\"value\":{\"doubleValue\":\"NaN\"}}],\"droppedAttributesCount\":1,"                  \
    "\"status\":{\"message\":\"boom\",\"code\":2},\"flags\":769}]}]}]}"

static void test_span(void)
{
    struct oa_span *spans[] = {&span};
    size_t len = 0;
    char *json = (char *)oa_otlp_json_encode_traces(&resource, spans, 1, &len);

    CHECK(json != NULL && len == strlen(json), "a request, NUL-terminated, its length returned");
    CHECK(json != NULL && strcmp(json, SPAN_JSON) == 0, "the span's exact JSON");
    if (json == NULL || strcmp(json, SPAN_JSON) != 0)
        printf("#   got  %s\n#   want %s\n", json ? json : "(null)", SPAN_JSON);
    if (json)
        check_valid_json("the span request", json, len);
    free(json);

    /* a root span: no parent, no tracestate, no status message, no flags */
    struct oa_span root = {.kind = OA_SPAN_KIND_CLIENT, .name = "GET"};
    struct oa_span *roots[] = {&root};
    json = (char *)oa_otlp_json_encode_traces(NULL, roots, 1, &len);
    CHECK(json != NULL && strstr(json, "\"spans\":[{\"traceId\":\"00000000000000000000000000000000\","
                                       "\"spanId\":\"0000000000000000\",\"name\":\"GET\",\"kind\":3,"
                                       "\"status\":{}}]") != NULL,
          "defaults left out as protobuf leaves them out: %s", json ? json : "(null)");
    CHECK(json != NULL && strstr(json, "\"resource\":{}") != NULL, "no resource: an empty one");
    free(json);
}

#define METRICS_JSON                                                                                       \
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"            \
    "{\"stringValue\":\"svc\"}}]},\"scopeMetrics\":[{\"scope\":{\"name\":\"otelauto\",\"version\":\""       \
    OA_VERSION "\"},\"metrics\":["                                                                          \
    "{\"name\":\"http.server.request.duration\",\"description\":\"Duration\",\"unit\":\"s\","               \
    "\"histogram\":{\"dataPoints\":[{\"attributes\":[{\"key\":\"http.request.method\",\"value\":"          \
    "{\"stringValue\":\"GET\"}}],\"startTimeUnixNano\":\"1\",\"timeUnixNano\":\"5000000000\","              \
    "\"count\":\"3\",\"sum\":3.5,\"bucketCounts\":[\"1\",\"0\",\"2\"],\"explicitBounds\":[0.005,2.5],"       \
    "\"min\":0.05,\"max\":3}],\"aggregationTemporality\":2}},"                                              \
    "{\"name\":\"requests\",\"unit\":\"{request}\",\"sum\":{\"dataPoints\":[{\"startTimeUnixNano\":\"1\","  \
    "\"timeUnixNano\":\"2\",\"asInt\":\"5000000000\"}],\"aggregationTemporality\":1,\"isMonotonic\":true}}," \
    "{\"name\":\"active\",\"sum\":{\"dataPoints\":[{\"asInt\":\"-3\"}],\"aggregationTemporality\":2}}"       \
    "]}]}]}"

static void test_metrics(void)
{
    static const double bounds[] = {0.005, 2.5};
    static struct oa_metric_point hp, counter, active;
    struct oa_metric metrics[3];

    memset(metrics, 0, sizeof metrics);
    attr_str(&hp.attrs[0], "http.request.method", "GET", 3);
    hp.n_attrs = 1;
    hp.start_unix_nano = 1;
    hp.time_unix_nano = 5000000000ull;
    hp.count = 3;
    hp.sum = 3.5;
    hp.has_min_max = true;
    hp.min = 0.05;
    hp.max = 3;
    hp.bucket_counts[0] = 1;
    hp.bucket_counts[2] = 2;
    metrics[0] = (struct oa_metric){.name = "http.server.request.duration", .description = "Duration",
                                    .unit = "s", .kind = OA_METRIC_HISTOGRAM,
                                    .temporality = OA_TEMPORALITY_CUMULATIVE, .bounds = bounds,
                                    .n_bounds = 2, .points = &hp, .n_points = 1};
    counter.start_unix_nano = 1;
    counter.time_unix_nano = 2;
    counter.value = 5000000000ll;
    metrics[1] = (struct oa_metric){.name = "requests", .unit = "{request}", .kind = OA_METRIC_SUM,
                                    .temporality = OA_TEMPORALITY_DELTA, .monotonic = true,
                                    .points = &counter, .n_points = 1};
    active.value = -3;
    metrics[2] = (struct oa_metric){.name = "active", .kind = OA_METRIC_SUM,
                                    .temporality = OA_TEMPORALITY_CUMULATIVE, .points = &active,
                                    .n_points = 1};
    struct oa_metric_batch batch = {.metrics = metrics, .n_metrics = 3};
    size_t len = 0;
    char *json = (char *)oa_otlp_json_encode_metrics(&resource, &batch, &len);

    CHECK(json != NULL && strcmp(json, METRICS_JSON) == 0, "the metrics' exact JSON");
    if (json == NULL || strcmp(json, METRICS_JSON) != 0)
        printf("#   got  %s\n#   want %s\n", json ? json : "(null)", METRICS_JSON);
    if (json)
        check_valid_json("the metrics request", json, len);
    free(json);
}

static char *written(void (*write)(struct oa_json *j))
{
    static char text[256];
    struct oa_json j;
    size_t len;

    oa_json_init(&j, 0);
    write(&j);
    char *out = oa_json_finish(&j, &len);
    snprintf(text, sizeof text, "%s", out ? out : "(failed)");
    free(out);
    return text;
}

static void write_doubles(struct oa_json *j)
{
    oa_json_begin_array(j);
    oa_json_double(j, 0.25);
    oa_json_double(j, 1e300);
    oa_json_double(j, -0.1);
    oa_json_double(j, 1.0 / 3);
    oa_json_double(j, INFINITY);
    oa_json_double(j, -INFINITY);
    oa_json_end_array(j);
}

static void write_controls(struct oa_json *j)
{
    oa_json_string(j, "\x1f\t\r\x7f/", 5);
}

static void write_truncated_utf8(struct oa_json *j)
{
    /* the first two bytes of a three-byte sequence, an overlong '/', a
     * surrogate: each byte replaced */
    oa_json_begin_array(j);
    oa_json_string(j, "\xe2\x82", 2);
    oa_json_string(j, "\xc0\xaf", 2);
    oa_json_string(j, "\xed\xa0\x80", 3);
    oa_json_cstring(j, NULL);
    oa_json_end_array(j);
}

static void write_integers(struct oa_json *j)
{
    oa_json_begin_object(j);
    oa_json_key(j, "u");
    oa_json_u64_string(j, 0);
    oa_json_key(j, "i");
    oa_json_i64_string(j, INT64_MAX);
    oa_json_key(j, "n");
    oa_json_uint(j, UINT32_MAX);
    oa_json_key(j, "empty");
    oa_json_begin_array(j);
    oa_json_end_array(j);
    oa_json_end_object(j);
}

static void test_writer(void)
{
    CHECK(strcmp(written(write_doubles), "[0.25,1e+300,-0.1,0.3333333333333333,\"Infinity\",\"-Infinity\"]") == 0,
          "doubles: shortest round trip, infinities as strings: %s", written(write_doubles));
    CHECK(strcmp(written(write_controls), "\"\\u001f\\u0009\\u000d\x7f/\"") == 0,
          "control characters as \\u00XX, DEL and / as they are: %s", written(write_controls));
    CHECK(strcmp(written(write_truncated_utf8),
                 "[\"\xef\xbf\xbd\xef\xbf\xbd\",\"\xef\xbf\xbd\xef\xbf\xbd\",\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\",\"\"]") ==
              0,
          "invalid UTF-8, byte by byte, as U+FFFD; NULL as \"\"");
    CHECK(strcmp(written(write_integers), "{\"u\":\"0\",\"i\":\"9223372036854775807\",\"n\":4294967295,\"empty\":[]}") == 0,
          "integers, commas, an empty array: %s", written(write_integers));

    /* a locale with a decimal comma, if this machine has one */
    if (setlocale(LC_ALL, "de_DE.UTF-8") != NULL || setlocale(LC_ALL, "fr_FR.UTF-8") != NULL) {
        CHECK(strncmp(written(write_doubles), "[0.25,", 6) == 0, "a decimal point under a decimal-comma locale");
        setlocale(LC_ALL, "C");
    } else {
        printf("# no decimal-comma locale here: not checked\n");
    }
}

static void test_response(void)
{
    long long rejected;
    char message[64];
    static const char body[] = "{\"partialSuccess\": {\"rejectedSpans\": \"2\", \"errorMessage\": \"bad \\\"span\\\"\"}}";
    static const char points[] = "{\"partialSuccess\":{\"rejectedDataPoints\":7}}";

    CHECK(oa_otlp_json_partial_success(body, strlen(body), &rejected, message, sizeof message) && rejected == 2 &&
              strcmp(message, "bad \"span\"") == 0,
          "rejectedSpans as a string, errorMessage unescaped: %lld %s", rejected, message);
    CHECK(oa_otlp_json_partial_success(points, strlen(points), &rejected, message, sizeof message) &&
              rejected == 7 && message[0] == '\0',
          "rejectedDataPoints as a number");
    CHECK(!oa_otlp_json_partial_success("{}", 2, &rejected, message, sizeof message) && rejected == 0,
          "an empty answer rejects nothing");
    CHECK(!oa_otlp_json_partial_success("{\"partialSuccess\":{}}", 21, &rejected, message, sizeof message),
          "an empty partialSuccess rejects nothing");
}

int main(void)
{
    fill_span();
    test_span();
    test_metrics();
    test_writer();
    test_response();
    TEST_DONE();
}
