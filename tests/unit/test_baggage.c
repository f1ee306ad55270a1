/* baggage sanitising: valid/invalid members, properties, percent-encoding,
 * limits. Inputs are parsed from a heap copy without a trailing NUL so ASan
 * catches any over-read. */
#include <stdlib.h>

#include "trace/baggage.h"
#include "oa_test.h"

static char out[OA_BAGGAGE_MAX + 1];

static size_t sanitize(const char *value, size_t n)
{
    char *copy = malloc(n > 0 ? n : 1);
    memcpy(copy, value, n);
    memset(out, 'X', sizeof(out));
    size_t r = oa_baggage_sanitize(copy, n, out, sizeof(out));
    free(copy);
    return r;
}

/* The value as a one-line TAP-safe test name: control and non-ASCII bytes
 * are shown as \xNN. */
static const char *printable(const char *s)
{
    static char buf[512];
    size_t o = 0;
    for (; *s != '\0' && o + 5 < sizeof(buf); s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
    return buf;
}

static bool sanitizes_to(const char *value, const char *want)
{
    size_t r = sanitize(value, strlen(value));
    return r == strlen(want) && strcmp(out, want) == 0;
}

static void test_members(void)
{
    CHECK(sanitizes_to("userId=alice", "userId=alice"), "single member");
    CHECK(sanitizes_to("userId=alice,serverNode=DF%2028,isProduction=false",
                       "userId=alice,serverNode=DF%2028,isProduction=false"),
          "spec example, percent-encoded value kept as is");
    CHECK(sanitizes_to("userId =   alice", "userId=alice"), "OWS around '=' trimmed");
    CHECK(sanitizes_to("  serverNode = DF%2028 ,\t isProduction = false\t", "serverNode=DF%2028,isProduction=false"),
          "OWS around members trimmed");
    CHECK(sanitizes_to("key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
                       "key1=value1;property1;property2,key2=value2,key3=value3;propertyKey=propertyValue"),
          "spec example with properties");
    CHECK(sanitizes_to("k=v ; p1 ; p2 = x ;p3=y", "k=v;p1;p2=x;p3=y"), "OWS around ';' and property '=' trimmed");
    CHECK(sanitizes_to("k=a=b=c", "k=a=b=c"), "'=' allowed inside a value");
    CHECK(sanitizes_to("k=", "k="), "empty value is valid");
    CHECK(sanitizes_to("k=;p=", "k=;p="), "empty property value is valid");
    CHECK(sanitizes_to("!#$%&'*+-.^_`|~09azAZ=v", "!#$%&'*+-.^_`|~09azAZ=v"), "every token char in a key");
    char value[128];
    size_t n = 0;
    for (int c = 0x21; c <= 0x7e; c++) {
        if (c != '"' && c != ',' && c != ';' && c != '\\' && c != '%')
            value[n++] = (char)c;
    }
    value[n] = '\0';
    char in[160];
    snprintf(in, sizeof(in), "k=%s", value);
    CHECK(sanitizes_to(in, in), "every allowed value octet");
    CHECK(sanitizes_to("k=%41%e2%82%AC", "k=%41%e2%82%AC"), "percent escapes of either case kept");
    CHECK(sanitizes_to("a=1,a=2", "a=1,a=2"), "duplicate keys are not an error");
    CHECK(sanitizes_to("", ""), "empty input");
    CHECK(sanitizes_to(" , ,, ", ""), "only empty members");
    CHECK(sanitizes_to("a=1,,b=2,", "a=1,b=2"), "empty members skipped");
}

static void test_invalid_members(void)
{
    static const char *const bad[] = {
        "novalue",
        "=v",
        " = v",
        "k v=1",
        "k(=1",
        "k@=1",
        "k:=1",
        "k\"=1",
        "k=a b",
        "k=a\"b",
        "k=a\\b",
        "k=a\tb",
        "k=\x01",
        "k=\x7f",
        "k=caf\xc3\xa9",
        "k=%",
        "k=%4",
        "k=%4g",
        "k=%g4",
        "k=100%",
        "k=v;",
        "k=v;;p",
        "k=v;=x",
        "k=v;p=a b",
        "k=v;p=%zz",
        "k=v;p q",
        "k=v x;p",
        "k=\"quoted\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char buf[128];
        snprintf(buf, sizeof(buf), "first=1,%s,last=2", bad[i]);
        CHECK(sanitizes_to(buf, "first=1,last=2"), "invalid member dropped whole: \"%s\"", printable(bad[i]));
    }
    CHECK(sanitizes_to("bad value=1", ""), "nothing valid => empty output");
    CHECK(sanitize("x", 1) == 0 && out[0] == '\0', "output NUL-terminated when empty");
    CHECK(oa_baggage_sanitize("a=1", 3, out, 0) == 0, "zero-capacity output");
}

static void test_limits(void)
{
    char *buf = malloc(40000);
    char *want = malloc(40000);

    /* 64 members kept, the 65th and later dropped */
    size_t n = 0;
    size_t want_len = 0;
    for (int i = 0; i < 70; i++) {
        n += (size_t)sprintf(buf + n, "%sk%d=%d", i > 0 ? "," : "", i, i);
        if (i == 63)
            want_len = n;
    }
    memcpy(want, buf, want_len);
    want[want_len] = '\0';
    size_t r = sanitize(buf, n);
    CHECK(r == want_len && strcmp(out, want) == 0, "at most 64 members kept");

    /* invalid members do not count against the member limit */
    n = 0;
    for (int i = 0; i < 64; i++)
        n += (size_t)sprintf(buf + n, "%sk%d=%d,bad member", i > 0 ? "," : "", i, i);
    r = sanitize(buf, n);
    CHECK(r > 0 && strstr(out, "k63=63") != NULL && strstr(out, "bad") == NULL,
          "64 valid members kept among invalid ones");

    /* 8192 bytes total: exactly 8192 kept, one more byte drops the last member */
    n = 0;
    for (int i = 0; i < 8; i++) {
        /* "kN=" + 1020 'v' = 1023 chars; 8 members + 7 commas = 8191 */
        n += (size_t)sprintf(buf + n, "%sk%d=", i > 0 ? "," : "", i);
        memset(buf + n, 'v', 1020);
        n += 1020;
    }
    buf[n++] = 'v';   /* last member one longer: 8192 */
    buf[n] = '\0';
    r = sanitize(buf, n);
    CHECK(r == 8192 && memcmp(out, buf, 8192) == 0 && out[8192] == '\0', "8192 bytes kept whole (got %zu)", r);
    buf[n++] = 'v';   /* 8193 */
    buf[n] = '\0';
    r = sanitize(buf, n);
    CHECK(r == 8192 - 1025 && memcmp(out, buf, r) == 0 && out[r] == '\0',
          "8193 bytes: right-most member dropped whole (got %zu)", r);

    /* once a member does not fit, nothing right of it is kept */
    n = (size_t)sprintf(buf, "a=1,big=");
    memset(buf + n, 'v', 9000);
    n += 9000;
    n += (size_t)sprintf(buf + n, ",c=3");
    r = sanitize(buf, n);
    CHECK(r == 3 && strcmp(out, "a=1") == 0, "members dropped from the right, never partially");

    /* OWS does not count against the byte limit */
    n = 0;
    for (int i = 0; i < 8; i++) {
        n += (size_t)sprintf(buf + n, "%s   k%d = ", i > 0 ? "  ,  " : "", i);
        memset(buf + n, 'v', 1020);
        n += 1020;
    }
    buf[n++] = 'v';
    r = sanitize(buf, n);
    CHECK(r == 8192, "OWS removed before measuring (got %zu)", r);

    /* a bigger output buffer does not raise the 8192-byte limit */
    char *large = malloc(20000);
    r = oa_baggage_sanitize(buf, n, large, 20000);
    CHECK(r == 8192, "8192-byte limit holds with a larger buffer (got %zu)", r);
    buf[n++] = 'v';
    r = oa_baggage_sanitize(buf, n, large, 20000);
    CHECK(r == 8192 - 1025, "8193 bytes with a larger buffer: last member dropped (got %zu)", r);
    free(large);

    /* a small output buffer is respected */
    char small[16];
    memset(small, 'X', sizeof(small));
    r = oa_baggage_sanitize("aa=1,bb=2,cc=3,dd=4", 19, small, sizeof(small));
    CHECK(r == 14 && strcmp(small, "aa=1,bb=2,cc=3") == 0, "limited by out_cap (got %zu)", r);
    r = oa_baggage_sanitize("aaaaaaaaaaaaaaaa=1", 18, small, sizeof(small));
    CHECK(r == 0 && small[0] == '\0', "member larger than out_cap dropped");

    free(buf);
    free(want);
}

int main(void)
{
    test_members();
    test_invalid_members();
    test_limits();
    TEST_DONE();
}
