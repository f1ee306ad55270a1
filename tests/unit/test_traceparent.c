/* traceparent parsing (the W3C test suite's valid and invalid forms) and
 * formatting. Every input is parsed from a buffer that ends exactly where the
 * value ends, so ASan catches any read past it. */
#include <stdlib.h>

#include "trace/traceparent.h"
#include "oa_test.h"

#define TRACE_HEX "12345678901234567890123456789012"
#define SPAN_HEX "1234567890123456"
#define VALID_00 "00-" TRACE_HEX "-" SPAN_HEX "-01"

static const uint8_t trace_bytes[16] = { 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56,
                                         0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12 };
static const uint8_t span_bytes[8] = { 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56 };

/* Parses a heap copy holding exactly the value's bytes (no NUL after it). */
static bool parse(const char *value, struct oa_span_context *sc)
{
    size_t n = strlen(value);
    char *copy = malloc(n > 0 ? n : 1);
    memcpy(copy, value, n);
    bool ok = oa_traceparent_parse(copy, n, sc);
    free(copy);
    return ok;
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

static bool parses_to_test_ids(const char *value, uint8_t want_flags)
{
    struct oa_span_context sc;
    memset(&sc, 0xaa, sizeof(sc));
    if (!parse(value, &sc))
        return false;
    return sc.valid && sc.remote && memcmp(sc.trace_id, trace_bytes, 16) == 0 &&
           memcmp(sc.span_id, span_bytes, 8) == 0 && sc.flags == want_flags;
}

static bool rejected(const char *value)
{
    struct oa_span_context sc;
    memset(&sc, 0xaa, sizeof(sc));
    return !parse(value, &sc) && !sc.valid;
}

static void test_valid(void)
{
    CHECK(parses_to_test_ids(VALID_00, 0x01), "version 00, sampled");
    CHECK(parses_to_test_ids("00-" TRACE_HEX "-" SPAN_HEX "-00", 0x00), "version 00, not sampled");
    CHECK(parses_to_test_ids("00-" TRACE_HEX "-" SPAN_HEX "-03", 0x03), "sampled and random flags kept");
    CHECK(parses_to_test_ids("00-" TRACE_HEX "-" SPAN_HEX "-ff", 0x03), "unknown flag bits dropped");
    CHECK(parses_to_test_ids("00-" TRACE_HEX "-" SPAN_HEX "-fc", 0x00), "only unknown flag bits => 0");
    CHECK(parses_to_test_ids(" " VALID_00, 0x01), "leading space");
    CHECK(parses_to_test_ids("\t" VALID_00, 0x01), "leading tab");
    CHECK(parses_to_test_ids(VALID_00 " ", 0x01), "trailing space");
    CHECK(parses_to_test_ids(VALID_00 "\t", 0x01), "trailing tab");
    CHECK(parses_to_test_ids("\t " VALID_00 " \t", 0x01), "spaces and tabs both sides");
    CHECK(parses_to_test_ids("cc-" TRACE_HEX "-" SPAN_HEX "-01", 0x01), "future version cc, 55 chars");
    CHECK(parses_to_test_ids("cc-" TRACE_HEX "-" SPAN_HEX "-01-what-the-future-will-be-like", 0x01),
          "future version cc with extra fields");
    CHECK(parses_to_test_ids("01-" TRACE_HEX "-" SPAN_HEX "-09-x", 0x01),
          "future version 01: unknown flag bits dropped");
    CHECK(parses_to_test_ids("fe-" TRACE_HEX "-" SPAN_HEX "-01-", 0x01), "future version fe, trailing dash");
    CHECK(parses_to_test_ids("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0x01) == false,
          "sanity: different ids do not compare equal to the test ids");

    struct oa_span_context sc;
    CHECK(parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", &sc) && sc.trace_id[0] == 0x0a &&
              sc.trace_id[15] == 0x9c && sc.span_id[0] == 0xb7 && sc.span_id[7] == 0x31,
          "spec example decodes byte by byte");
    CHECK(parse("00-00000000000000000000000000000001-0000000000000001-00", &sc) && sc.trace_id[15] == 1 &&
              sc.span_id[7] == 1,
          "ids with a single non-zero bit are valid");
}

static void test_invalid(void)
{
    static const char *const cases[] = {
        "",
        " ",
        "\t \t",
        "garbage",
        "00",
        "00-",
        "00-" TRACE_HEX,
        "00-" TRACE_HEX "-" SPAN_HEX,
        "00-" TRACE_HEX "-" SPAN_HEX "-",
        /* version */
        "ff-" TRACE_HEX "-" SPAN_HEX "-01",
        "ff-" TRACE_HEX "-" SPAN_HEX "-01-extra",
        ".0-" TRACE_HEX "-" SPAN_HEX "-01",
        "0.-" TRACE_HEX "-" SPAN_HEX "-01",
        "000-" TRACE_HEX "-" SPAN_HEX "-01",
        "0000-" TRACE_HEX "-" SPAN_HEX "-01",
        "0-" TRACE_HEX "-" SPAN_HEX "-01",
        "0A-" TRACE_HEX "-" SPAN_HEX "-01",
        "CC-" TRACE_HEX "-" SPAN_HEX "-01",
        /* version 00 must end after the flags */
        VALID_00 ".",
        VALID_00 "-",
        VALID_00 "-what-the-future-will-be-like",
        VALID_00 "0",
        /* future versions: flags must be followed by the end or '-' */
        "cc-" TRACE_HEX "-" SPAN_HEX "-01.what-the-future-will-be-like",
        "cc-" TRACE_HEX "-" SPAN_HEX "-010",
        "cc-" TRACE_HEX "-" SPAN_HEX "-0",
        "cc-" TRACE_HEX "-" SPAN_HEX,
        /* trace id */
        "00-00000000000000000000000000000000-" SPAN_HEX "-01",
        "00-.2345678901234567890123456789012-" SPAN_HEX "-01",
        "00-1234567890123456789012345678901.-" SPAN_HEX "-01",
        "00-123456789012345678901234567890123-" SPAN_HEX "-01",
        "00-1234567890123456789012345678901-" SPAN_HEX "-01",
        "00-ABCDEF78901234567890123456789012-" SPAN_HEX "-01",
        "00-1234567890123456789012345678901A-" SPAN_HEX "-01",
        "00-1234567890123456789012345678901g-" SPAN_HEX "-01",
        "00-12345678901234567890 23456789012-" SPAN_HEX "-01",
        /* parent id */
        "00-" TRACE_HEX "-0000000000000000-01",
        "00-" TRACE_HEX "-.234567890123456-01",
        "00-" TRACE_HEX "-123456789012345.-01",
        "00-" TRACE_HEX "-12345678901234567-01",
        "00-" TRACE_HEX "-123456789012345-01",
        "00-" TRACE_HEX "-B7AD6B7169203331-01",
        "00-" TRACE_HEX "-b7ad6b716920333F-01",
        /* flags */
        "00-" TRACE_HEX "-" SPAN_HEX "-.0",
        "00-" TRACE_HEX "-" SPAN_HEX "-0.",
        "00-" TRACE_HEX "-" SPAN_HEX "-001",
        "00-" TRACE_HEX "-" SPAN_HEX "-1",
        "00-" TRACE_HEX "-" SPAN_HEX "-0A",
        "00-" TRACE_HEX "-" SPAN_HEX "-g1",
        /* separators */
        "00_" TRACE_HEX "-" SPAN_HEX "-01",
        "00-" TRACE_HEX "_" SPAN_HEX "-01",
        "00-" TRACE_HEX "-" SPAN_HEX "_01",
        "00 " TRACE_HEX " " SPAN_HEX " 01",
        "00-" TRACE_HEX "--" SPAN_HEX "01",
        "-00" TRACE_HEX "-" SPAN_HEX "-01",
        /* whitespace only allowed around the value, and only spaces/tabs */
        "00-" TRACE_HEX "-" SPAN_HEX " -01",
        "\n" VALID_00,
        VALID_00 "\r\n",
        " " VALID_00 "x",
        /* two values joined, as a proxy might do with duplicate headers */
        VALID_00 "," VALID_00,
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK(rejected(cases[i]), "invalid: \"%s\"", printable(cases[i]));

    struct oa_span_context sc;
    memset(&sc, 0xaa, sizeof(sc));
    CHECK(!oa_traceparent_parse(NULL, 0, &sc) && !sc.valid, "NULL input is invalid");
    CHECK(!oa_traceparent_parse(VALID_00, 54, &sc) && !sc.valid, "length honoured: 54 of 55 chars invalid");
    CHECK(oa_traceparent_parse(VALID_00 "garbage", 55, &sc) && sc.valid,
          "length honoured: bytes past len are not looked at");
}

/* Every corruption of one character of a valid header by a non-hex char
 * must be rejected. */
static void test_every_position(void)
{
    const char base[] = VALID_00;
    int ok = 1;
    for (size_t pos = 0; pos < OA_TRACEPARENT_LEN; pos++) {
        /* none is a lowercase hex digit; a space at either end is OWS and
         * leaves a value one char short */
        static const char replacements[] = "G-.Z #x";
        for (const char *r = replacements; *r != '\0'; r++) {
            char v[OA_TRACEPARENT_LEN + 1];
            memcpy(v, base, sizeof(v));
            if (v[pos] == *r)
                continue;
            v[pos] = *r;
            struct oa_span_context sc;
            EXPECT(ok, !oa_traceparent_parse(v, OA_TRACEPARENT_LEN, &sc), "pos %zu char '%c' accepted", pos, *r);
        }
    }
    CHECK(ok, "every single-char corruption of a valid header is rejected");
}

static bool is_lower_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static unsigned hex_value(unsigned char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* Every byte value at every position of a valid header, against the rule
 * char by char: the parser reads its ids 8 digits at a time, so a wrong
 * lane, a byte >= 0x80 carrying into its neighbour, or a bound off by one
 * (':' '`' 'g' '/') shows up here. */
static void test_every_byte_everywhere(void)
{
    const char base[] = "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01";
    int ok = 1;
    for (size_t pos = 0; pos < OA_TRACEPARENT_LEN; pos++) {
        for (int c = 0; c < 256; c++) {
            char v[OA_TRACEPARENT_LEN];
            memcpy(v, base, OA_TRACEPARENT_LEN);
            v[pos] = (char)c;
            bool dash = pos == 2 || pos == 35 || pos == 52;
            bool expect = dash ? c == '-' : is_lower_hex((unsigned char)c);
            if (pos < 2 && v[0] == 'f' && v[1] == 'f')
                expect = false; /* version ff is invalid */
            struct oa_span_context sc;
            bool got = oa_traceparent_parse(v, OA_TRACEPARENT_LEN, &sc);
            EXPECT(ok, got == expect, "pos %zu byte 0x%02x: %d", pos, c, got);
            if (!got || !expect)
                continue;
            for (size_t i = 0; i < 16; i++)
                EXPECT(ok, sc.trace_id[i] == (hex_value((unsigned char)v[3 + 2 * i]) << 4 |
                                             hex_value((unsigned char)v[4 + 2 * i])),
                       "pos %zu byte 0x%02x: trace id byte %zu", pos, c, i);
            for (size_t i = 0; i < 8; i++)
                EXPECT(ok, sc.span_id[i] == (hex_value((unsigned char)v[36 + 2 * i]) << 4 |
                                            hex_value((unsigned char)v[37 + 2 * i])),
                       "pos %zu byte 0x%02x: span id byte %zu", pos, c, i);
        }
    }
    CHECK(ok, "each of the 256 byte values at each of the 55 positions: accepted exactly when the rule says, ids decoded digit by digit");
}

/* Both digits of one id byte take every byte value together, at the first
 * and last byte of each id: the two share a 16-bit lane of the decode, so a
 * value that leaked from one digit into the other, or a pair of wrong chars
 * that passed together, would show here. */
static void test_every_digit_pair(void)
{
    const char base[] = "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01";
    static const size_t pairs[] = { 3, 17, 19, 33, 36, 50 };
    int ok = 1;
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        size_t pos = pairs[k];
        for (int hi = 0; hi < 256; hi++) {
            for (int lo = 0; lo < 256; lo++) {
                char v[OA_TRACEPARENT_LEN];
                memcpy(v, base, OA_TRACEPARENT_LEN);
                v[pos] = (char)hi;
                v[pos + 1] = (char)lo;
                bool expect = is_lower_hex((unsigned char)hi) && is_lower_hex((unsigned char)lo);
                struct oa_span_context sc;
                bool got = oa_traceparent_parse(v, OA_TRACEPARENT_LEN, &sc);
                EXPECT(ok, got == expect, "pos %zu bytes 0x%02x 0x%02x: %d", pos, hi, lo, got);
                if (!got || !expect)
                    continue;
                unsigned want = hex_value((unsigned char)hi) << 4 | hex_value((unsigned char)lo);
                uint8_t byte = pos < 35 ? sc.trace_id[(pos - 3) / 2] : sc.span_id[(pos - 36) / 2];
                EXPECT(ok, byte == want, "pos %zu bytes 0x%02x 0x%02x: decoded 0x%02x", pos, hi, lo, byte);
            }
        }
    }
    CHECK(ok, "both digits of an id byte, every pair of byte values, at each id's ends: accepted exactly when both are lowercase hex, decoded to their value");
}

/* A version-00 value of 55 chars is decoded straight into the caller's
 * context: one refused at any position, the ids' last digits included, must
 * leave no partly decoded id behind, only zeros. */
static void test_refused_leaves_nothing(void)
{
    const char base[] = "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01";
    static const uint8_t zeros[sizeof(struct oa_span_context)];
    int ok = 1;
    for (size_t pos = 2; pos < OA_TRACEPARENT_LEN; pos++) {
        char v[OA_TRACEPARENT_LEN];
        memcpy(v, base, OA_TRACEPARENT_LEN);
        v[pos] = 'G';
        struct oa_span_context sc;
        memset(&sc, 0xaa, sizeof(sc));
        EXPECT(ok, !oa_traceparent_parse(v, OA_TRACEPARENT_LEN, &sc), "pos %zu accepted", pos);
        EXPECT(ok, memcmp(&sc, zeros, sizeof(sc)) == 0, "pos %zu: the context is not all zeros", pos);
    }
    struct oa_span_context sc;
    memset(&sc, 0xaa, sizeof(sc));
    CHECK(!oa_traceparent_parse("00-" TRACE_HEX "-0000000000000000-01", OA_TRACEPARENT_LEN, &sc) &&
              memcmp(&sc, zeros, sizeof(sc)) == 0,
          "a zero parent id refused: the trace id decoded before it is not left behind");
    CHECK(ok, "a version-00 value refused at any position leaves the context all zeros");
}

/* Every byte value at every position of the ids, formatted digit by digit. */
static void test_format_every_byte(void)
{
    static const char digits[] = "0123456789abcdef";
    int ok = 1;
    for (size_t pos = 0; pos < 24; pos++) {
        for (int b = 0; b < 256; b++) {
            struct oa_span_context sc = { .valid = true };
            for (size_t i = 0; i < 16; i++)
                sc.trace_id[i] = (uint8_t)(i * 17 + 3);
            for (size_t i = 0; i < 8; i++)
                sc.span_id[i] = (uint8_t)(i * 29 + 5);
            if (pos < 16)
                sc.trace_id[pos] = (uint8_t)b;
            else
                sc.span_id[pos - 16] = (uint8_t)b;
            char out[OA_TRACEPARENT_LEN + 1];
            oa_traceparent_format(&sc, out);
            char want[OA_TRACEPARENT_LEN + 1];
            char *p = want;
            *p++ = '0', *p++ = '0', *p++ = '-';
            for (size_t i = 0; i < 16; i++)
                *p++ = digits[sc.trace_id[i] >> 4], *p++ = digits[sc.trace_id[i] & 15];
            *p++ = '-';
            for (size_t i = 0; i < 8; i++)
                *p++ = digits[sc.span_id[i] >> 4], *p++ = digits[sc.span_id[i] & 15];
            *p++ = '-', *p++ = '0', *p++ = '0', *p = '\0';
            EXPECT(ok, strcmp(out, want) == 0, "byte %zu = 0x%02x: %s", pos, b, out);
        }
    }
    CHECK(ok, "each of the 256 byte values at each of the 24 id positions formats as its two digits");
}

static void test_format(void)
{
    struct oa_span_context sc = { .flags = OA_TRACE_FLAG_SAMPLED, .valid = true };
    memcpy(sc.trace_id, trace_bytes, 16);
    memcpy(sc.span_id, span_bytes, 8);
    char out[OA_TRACEPARENT_LEN + 1];
    memset(out, 'X', sizeof(out));
    size_t n = oa_traceparent_format(&sc, out);
    CHECK(n == OA_TRACEPARENT_LEN && strcmp(out, VALID_00) == 0, "format: %s", out);

    static const uint8_t hi[16] = { 0xab, 0xcd, 0xef, 0xff, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa0, 0x0b };
    memcpy(sc.trace_id, hi, 16);
    sc.flags = 0xff;
    oa_traceparent_format(&sc, out);
    CHECK(strcmp(out, "00-abcdefff00010203040506070809a00b-" SPAN_HEX "-03") == 0,
          "format: lowercase hex, flags masked to sampled|random: %s", out);
    sc.flags = 0;
    oa_traceparent_format(&sc, out);
    CHECK(strcmp(out + 53, "00") == 0, "format: flags 00");
    sc.flags = OA_TRACE_FLAG_RANDOM;
    oa_traceparent_format(&sc, out);
    CHECK(strcmp(out + 53, "02") == 0, "format: random flag alone");

    /* round trips */
    struct oa_span_context back;
    CHECK(oa_traceparent_parse(out, n, &back) && memcmp(back.trace_id, hi, 16) == 0 &&
              memcmp(back.span_id, span_bytes, 8) == 0 && back.flags == OA_TRACE_FLAG_RANDOM,
          "format -> parse round trip");

    int ok = 1;
    uint32_t x = 12345;
    for (int i = 0; i < 2000; i++) {
        struct oa_span_context a = { .valid = true };
        for (int j = 0; j < 16; j++) {
            x = x * 1103515245u + 12345u;
            a.trace_id[j] = (uint8_t)(x >> 16);
        }
        for (int j = 0; j < 8; j++) {
            x = x * 1103515245u + 12345u;
            a.span_id[j] = (uint8_t)(x >> 16);
        }
        a.trace_id[0] |= 1;
        a.span_id[0] |= 1;
        a.flags = (uint8_t)(i & 3);
        char buf[OA_TRACEPARENT_LEN + 1];
        oa_traceparent_format(&a, buf);
        struct oa_span_context b;
        EXPECT(ok, oa_traceparent_parse(buf, strlen(buf), &b), "parse %s", buf);
        EXPECT(ok, memcmp(a.trace_id, b.trace_id, 16) == 0 && memcmp(a.span_id, b.span_id, 8) == 0 &&
                       a.flags == b.flags,
               "round trip %s", buf);
        char again[OA_TRACEPARENT_LEN + 1];
        oa_traceparent_format(&b, again);
        EXPECT(ok, strcmp(buf, again) == 0, "re-format %s", again);
    }
    CHECK(ok, "2000 random format/parse/format round trips");

    /* A future version is re-emitted as 00 without its extra fields. */
    CHECK(parse("cc-" TRACE_HEX "-" SPAN_HEX "-01-future", &back), "parse future version");
    oa_traceparent_format(&back, out);
    CHECK(strcmp(out, VALID_00) == 0, "future version re-emitted as 00: %s", out);
}

int main(void)
{
    test_valid();
    test_invalid();
    test_every_position();
    test_every_byte_everywhere();
    test_refused_leaves_nothing();
    test_every_digit_pair();
    test_format();
    test_format_every_byte();
    TEST_DONE();
}
