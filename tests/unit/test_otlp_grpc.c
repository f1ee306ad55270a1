/* OTLP/gRPC's pieces that do not need a server: the message framing, the
 * grpc-timeout value, the method URL, the outcome read from header and
 * trailer lines (grpc-status, grpc-message, grpc-status-details-bin with a
 * google.rpc.RetryInfo), and which codes are retried. */
#include <stdlib.h>
#include <string.h>

#include "export/otlp/grpc_message.h"
#include "export/otlp/grpc_status.h"
#include "oa_test.h"

/* google.rpc.Status{code 8, message "slow down", details [Any{type_url
 * RetryInfo, value RetryInfo{retry_delay Duration{seconds 1, nanos
 * 500000000}}}]}: built field by field from the .proto numbers. */
static size_t retry_status(uint8_t *out, const char *type_url, int seconds, int nanos)
{
    uint8_t duration[16];
    size_t d = 0;
    if (seconds) {
        duration[d++] = 0x08;
        duration[d++] = (uint8_t)seconds;
    }
    if (nanos) {
        duration[d++] = 0x10;
        for (unsigned v = (unsigned)nanos; ; v >>= 7) {
            duration[d++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            if (v <= 0x7f)
                break;
        }
    }
    uint8_t retry_info[24];
    size_t r = 0;
    retry_info[r++] = 0x0a;
    retry_info[r++] = (uint8_t)d;
    memcpy(retry_info + r, duration, d);
    r += d;

    uint8_t any[128];
    size_t a = 0;
    size_t tl = strlen(type_url);
    any[a++] = 0x0a;
    any[a++] = (uint8_t)tl;
    memcpy(any + a, type_url, tl);
    a += tl;
    any[a++] = 0x12;
    any[a++] = (uint8_t)r;
    memcpy(any + a, retry_info, r);
    a += r;

    size_t n = 0;
    out[n++] = 0x08;
    out[n++] = 8;
    out[n++] = 0x12;
    out[n++] = 9;
    memcpy(out + n, "slow down", 9);
    n += 9;
    out[n++] = 0x1a;
    out[n++] = (uint8_t)a;
    memcpy(out + n, any, a);
    return n + a;
}

static void base64(const uint8_t *in, size_t len, char *out, bool pad)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < len ? in[i + 2] : 0);
        out[o++] = digits[v >> 18];
        out[o++] = digits[(v >> 12) & 63];
        out[o++] = i + 1 < len ? digits[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? digits[v & 63] : '=';
    }
    while (!pad && o > 0 && out[o - 1] == '=')
        o--;
    out[o] = '\0';
}

static void feed(struct oa_grpc_status *s, const char *line)
{
    oa_grpc_status_header(s, line, strlen(line));
}

static void test_framing(void)
{
    uint8_t p[OA_GRPC_PREFIX_LEN];

    oa_grpc_prefix(p, false, 0x01020304);
    CHECK(memcmp(p, "\x00\x01\x02\x03\x04", 5) == 0, "prefix: flag 0, big-endian length");
    oa_grpc_prefix(p, true, 300);
    CHECK(memcmp(p, "\x01\x00\x00\x01\x2c", 5) == 0, "prefix: compressed flag 1");

    const uint8_t body[] = {0, 0, 0, 0, 3, 'a', 'b', 'c', 0xff};
    const uint8_t *msg = NULL;
    size_t len = 0;
    bool compressed = true;
    CHECK(oa_grpc_first_message(body, sizeof body, &compressed, &msg, &len) && !compressed && len == 3 &&
              msg == body + 5,
          "first message read, bytes after it ignored");
    bool all_short_refused = true;
    for (size_t cut = 0; cut < 8; cut++)
        all_short_refused = all_short_refused && !oa_grpc_first_message(body, cut, &compressed, &msg, &len);
    CHECK(all_short_refused, "a body cut anywhere before the message's end is no message");
    const uint8_t empty[] = {0, 0, 0, 0, 0};
    CHECK(oa_grpc_first_message(empty, sizeof empty, &compressed, &msg, &len) && len == 0,
          "an empty message (the OK answer)");
    const uint8_t bad_flag[] = {2, 0, 0, 0, 0};
    CHECK(!oa_grpc_first_message(bad_flag, sizeof bad_flag, &compressed, &msg, &len), "flag 2 refused");
    const uint8_t huge[] = {1, 0xff, 0xff, 0xff, 0xff, 0};
    CHECK(!oa_grpc_first_message(huge, sizeof huge, &compressed, &msg, &len), "length past the body refused");
}

static void test_timeout_and_url(void)
{
    char v[32];
    char url[128];

    CHECK(oa_grpc_timeout_value(v, sizeof v, 10000) && strcmp(v, "10000m") == 0, "10 s: %s", v);
    CHECK(oa_grpc_timeout_value(v, sizeof v, 86400000) && strcmp(v, "86400000m") == 0,
          "a day still fits 8 digits of ms: %s", v);
    CHECK(oa_grpc_timeout_value(v, sizeof v, 100000000) && strcmp(v, "100000S") == 0,
          "more than 8 digits of ms: seconds: %s", v);
    CHECK(!oa_grpc_timeout_value(v, sizeof v, 0), "0 = no limit: no header");
    CHECK(!oa_grpc_timeout_value(v, 4, 10000), "too small a buffer");

    CHECK(oa_grpc_url(url, sizeof url, "http://localhost:4317", OA_GRPC_TRACES_METHOD) &&
              strcmp(url, "http://localhost:4317/opentelemetry.proto.collector.trace.v1.TraceService/Export") == 0,
          "method appended: %s", url);
    CHECK(oa_grpc_url(url, sizeof url, "https://c:1/some/path?q", OA_GRPC_METRICS_METHOD) &&
              strcmp(url, "https://c:1/opentelemetry.proto.collector.metrics.v1.MetricsService/Export") == 0,
          "the endpoint's path replaced: %s", url);
    CHECK(!oa_grpc_url(url, sizeof url, "localhost:4317", OA_GRPC_TRACES_METHOD), "no scheme: refused");
    CHECK(!oa_grpc_url(url, sizeof url, "http://", OA_GRPC_TRACES_METHOD), "no host: refused");
    CHECK(!oa_grpc_url(url, 20, "http://localhost:4317", OA_GRPC_TRACES_METHOD), "too long: refused");
}

static void test_status_lines(void)
{
    struct oa_grpc_status s;

    oa_grpc_status_reset(&s);
    CHECK(s.code == -1 && s.retry_delay_ms == -1 && s.message[0] == '\0', "reset: nothing seen");
    feed(&s, "content-type: application/grpc\r\n");
    feed(&s, "grpc-statusx: 3\r\n");
    CHECK(s.code == -1, "other headers ignored, names matched whole");
    feed(&s, "grpc-status: 0\r\n");
    CHECK(s.code == 0, "trailer grpc-status: 0");
    feed(&s, "Grpc-Status:14\r\n");
    CHECK(s.code == 14, "any case, no space");
    feed(&s, "grpc-status: 1x\r\n");
    CHECK(s.code == OA_GRPC_UNKNOWN, "not a number: UNKNOWN, never OK");
    feed(&s, "grpc-status: \r\n");
    CHECK(s.code == OA_GRPC_UNKNOWN, "empty: UNKNOWN");
    feed(&s, "grpc-message: try%20later%2C please%\r\n");
    CHECK(strcmp(s.message, "try later, please%") == 0, "grpc-message percent-decoded: [%s]", s.message);
    feed(&s, "grpc-message: a%0Ab\x01" "c\r\n");
    CHECK(strcmp(s.message, "a?b?c") == 0, "control characters not logged: [%s]", s.message);
    char long_message[600] = "grpc-message: ";
    memset(long_message + strlen(long_message), 'x', 500);
    feed(&s, long_message);
    CHECK(strlen(s.message) == sizeof s.message - 1, "a long message cut to the buffer");
}

static void test_retry_info(void)
{
    uint8_t status[256];
    char b64[400];
    char line[512];
    long ms = -2;
    struct oa_grpc_status s;

    size_t n = retry_status(status, "type.googleapis.com/google.rpc.RetryInfo", 1, 500000000);
    CHECK(oa_grpc_status_retry_delay(status, n, &ms) && ms == 1500, "RetryInfo 1.5 s: %ld ms", ms);
    n = retry_status(status, "type.googleapis.com/google.rpc.RetryInfo", 0, 200000000);
    CHECK(oa_grpc_status_retry_delay(status, n, &ms) && ms == 200, "RetryInfo 0.2 s: %ld ms", ms);
    n = retry_status(status, "type.googleapis.com/google.rpc.RetryInfo", 0, 0);
    CHECK(oa_grpc_status_retry_delay(status, n, &ms) && ms == 0, "RetryInfo with an empty Duration: at once");
    size_t other = retry_status(status, "type.googleapis.com/google.rpc.QuotaFailure", 1, 0);
    CHECK(!oa_grpc_status_retry_delay(status, other, &ms), "another detail type is no RetryInfo");

    /* every truncation decodes or not without reading past the end (ASan
     * builds check that), and none gives a delay but the whole */
    n = retry_status(status, "type.googleapis.com/google.rpc.RetryInfo", 2, 0);
    bool only_whole = true;
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, status, cut);
        only_whole = only_whole && !oa_grpc_status_retry_delay(copy, cut, &ms);
        free(copy);
    }
    CHECK(only_whole, "truncated statuses give no delay");

    for (int pad = 0; pad < 2; pad++) {
        oa_grpc_status_reset(&s);
        n = retry_status(status, "type.googleapis.com/google.rpc.RetryInfo", 3, 0);
        base64(status, n, b64, pad);
        snprintf(line, sizeof line, "grpc-status-details-bin: %s\r\n", b64);
        feed(&s, "grpc-status: 8\r\n");
        feed(&s, line);
        CHECK(s.code == OA_GRPC_RESOURCE_EXHAUSTED && s.retry_delay_ms == 3000,
              "details header, base64 %s padding: %ld ms", pad ? "with" : "without", s.retry_delay_ms);
    }
    oa_grpc_status_reset(&s);
    feed(&s, "grpc-status-details-bin: CA4SAmhp\r\n"); /* Status{14, "hi"}: no details */
    CHECK(s.retry_delay_ms == -1, "a status without details: no delay");
    feed(&s, "grpc-status-details-bin: !!!!\r\n");
    CHECK(s.retry_delay_ms == -1, "not base64: ignored");
    char too_long[2000] = "grpc-status-details-bin: ";
    memset(too_long + strlen(too_long), 'A', 1500);
    feed(&s, too_long);
    CHECK(s.retry_delay_ms == -1, "a details header past the bound: ignored");

    /* a delay beyond a day is a day; a negative one is now */
    uint8_t far[] = {0x1a, 0x3a, 0x0a, 0x28, 't', 'y', 'p', 'e', '.', 'g', 'o', 'o', 'g', 'l', 'e', 'a', 'p', 'i', 's',
                     '.', 'c', 'o', 'm', '/', 'g', 'o', 'o', 'g', 'l', 'e', '.', 'r', 'p', 'c', '.', 'R', 'e', 't',
                     'r', 'y', 'I', 'n', 'f', 'o', 0x12, 0x0e, 0x0a, 0x0c, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                     0xff, 0xff, 0xff, 0x7f, 0x10, 0x01};
    CHECK(oa_grpc_status_retry_delay(far, sizeof far, &ms) && ms == 86400000L, "huge delay capped: %ld", ms);
}

static void test_codes(void)
{
    static const int retryable[] = {1, 4, 10, 11, 14, 15};
    bool ok = true;
    int n_retryable = 0;

    for (int code = 0; code <= 16; code++) {
        bool r = oa_grpc_code_retryable(code, false);
        bool listed = false;
        for (size_t i = 0; i < sizeof retryable / sizeof retryable[0]; i++)
            listed = listed || retryable[i] == code;
        ok = ok && r == listed;
        n_retryable += r;
    }
    CHECK(ok && n_retryable == 6, "retryable without RetryInfo: exactly CANCELLED, DEADLINE_EXCEEDED, ABORTED, "
                                  "OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS");
    CHECK(oa_grpc_code_retryable(OA_GRPC_RESOURCE_EXHAUSTED, true) &&
              !oa_grpc_code_retryable(OA_GRPC_RESOURCE_EXHAUSTED, false),
          "RESOURCE_EXHAUSTED only with RetryInfo");
    CHECK(!oa_grpc_code_retryable(OA_GRPC_INVALID_ARGUMENT, true) && !oa_grpc_code_retryable(OA_GRPC_OK, true),
          "RetryInfo does not make other codes retryable");
    CHECK(oa_grpc_code_from_http(503) == OA_GRPC_UNAVAILABLE && oa_grpc_code_from_http(429) == OA_GRPC_UNAVAILABLE &&
              oa_grpc_code_from_http(404) == OA_GRPC_UNIMPLEMENTED && oa_grpc_code_from_http(401) == OA_GRPC_UNAUTHENTICATED &&
              oa_grpc_code_from_http(200) == OA_GRPC_INTERNAL && oa_grpc_code_from_http(500) == OA_GRPC_UNKNOWN,
          "HTTP status without grpc-status mapped as gRPC says");
    CHECK(strcmp(oa_grpc_code_name(14), "UNAVAILABLE") == 0 && strcmp(oa_grpc_code_name(16), "UNAUTHENTICATED") == 0 &&
              oa_grpc_code_name(17) == NULL && oa_grpc_code_name(-1) == NULL,
          "code names");
}

int main(void)
{
    test_framing();
    test_timeout_and_url();
    test_status_lines();
    test_retry_info();
    test_codes();
    TEST_DONE();
}
