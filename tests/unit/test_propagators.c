/* The B3 and Jaeger codecs (trace/b3.h, trace/jaeger.h): valid and invalid
 * values, padding, flags, debug, case, and what is written. Every value is
 * parsed from a heap copy that ends where it ends, so ASan catches a read
 * past it. */
#include <stdlib.h>

#include "config/config.h"
#include "trace/b3.h"
#include "trace/jaeger.h"
#include "trace/propagation.h"
#include "oa_test.h"

#define T32 "4bf92f3577b34da6a3ce929d0e0e4736"
#define T16 "a3ce929d0e0e4736"
#define S16 "00f067aa0ba902b7"

static char *copy_of(const char *s, size_t *n)
{
    *n = strlen(s);
    char *c = malloc(*n > 0 ? *n : 1);
    memcpy(c, s, *n);
    return c;
}

/* parse, one of the codecs' parsers, over a heap copy of v */
static bool parse_copy(bool (*parse)(const char *, size_t, struct oa_span_context *), const char *v,
                       struct oa_span_context *sc)
{
    size_t n;
    char *c = copy_of(v, &n);
    bool ok = parse(c, n, sc);
    free(c);
    return ok;
}

static bool b3(const char *v, struct oa_span_context *sc)
{
    return parse_copy(oa_b3_parse, v, sc);
}

static bool jaeger(const char *v, struct oa_span_context *sc)
{
    return parse_copy(oa_jaeger_parse, v, sc);
}

/* X-B3-* values (NULL: the header is absent) */
static bool b3multi(const char *trace, const char *span, const char *sampled, const char *flags,
                    struct oa_span_context *sc)
{
    const char *v[4] = {trace, span, sampled, flags};
    char *c[4] = {NULL};
    size_t n[4] = {0};
    for (int i = 0; i < 4; i++)
        if (v[i] != NULL)
            c[i] = copy_of(v[i], &n[i]);
    struct oa_b3_multi h = {c[0], c[1], c[2], c[3], n[0], n[1], n[2], n[3]};
    bool ok = oa_b3_multi_parse(&h, sc);
    for (int i = 0; i < 4; i++)
        free(c[i]);
    return ok;
}

static const char *hex(const uint8_t *b, size_t n)
{
    static char out[2][33];
    static int which;
    char *o = out[which ^= 1];
    for (size_t i = 0; i < n; i++)
        sprintf(o + 2 * i, "%02x", b[i]);
    return o;
}

static bool is(const struct oa_span_context *sc, const char *trace, const char *span, bool sampled)
{
    return sc->valid && sc->remote && strcmp(hex(sc->trace_id, 16), trace) == 0 &&
           strcmp(hex(sc->span_id, 8), span) == 0 && ((sc->flags & OA_TRACE_FLAG_SAMPLED) != 0) == sampled;
}

static void test_b3_single(void)
{
    struct oa_span_context sc;
    CHECK(b3(T32 "-" S16 "-1", &sc) && is(&sc, T32, S16, true), "b3: sampled");
    CHECK(b3(T32 "-" S16 "-0", &sc) && is(&sc, T32, S16, false), "b3: not sampled");
    CHECK(b3(T32 "-" S16 "-d", &sc) && is(&sc, T32, S16, true), "b3: debug is sampled");
    CHECK(b3(T32 "-" S16, &sc) && is(&sc, T32, S16, false), "b3: no sampling state (deferred): not sampled");
    CHECK(b3(T32 "-" S16 "-1-" "05e3ac9a4f6e3b90", &sc) && is(&sc, T32, S16, true), "b3: with a parent span id");
    CHECK(b3(T16 "-" S16 "-1", &sc) && is(&sc, "0000000000000000" T16, S16, true), "b3: 16-digit trace id padded");
    CHECK(b3(" \t" T32 "-" S16 "-1 ", &sc) && is(&sc, T32, S16, true), "b3: OWS around the value");
    CHECK(!b3("0", &sc) && !sc.valid, "b3: 0 (deny) carries no context");
    CHECK(!b3("1", &sc) && !b3("d", &sc), "b3: 1 and d alone carry no context");
    CHECK(!b3("", &sc), "b3: empty");
    CHECK(!b3("4BF92F3577B34DA6A3CE929D0E0E4736-" S16 "-1", &sc), "b3: uppercase hex refused");
    CHECK(!b3(T32 "-00F067AA0BA902B7-1", &sc), "b3: uppercase span id refused");
    CHECK(!b3("00000000000000000000000000000000-" S16 "-1", &sc), "b3: zero trace id");
    CHECK(!b3(T32 "-0000000000000000-1", &sc), "b3: zero span id");
    CHECK(!b3("4bf92f3577b34da6a3ce929d0e0e473-" S16 "-1", &sc), "b3: 31-digit trace id");
    CHECK(!b3(T32 "-00f067aa0ba902b-1", &sc), "b3: 15-digit span id");
    CHECK(!b3(T32 "-" S16 "-2", &sc), "b3: sampling state 2");
    CHECK(!b3(T32 "-" S16 "-", &sc), "b3: empty sampling state");
    CHECK(!b3(T32 "-" S16 "-1-", &sc), "b3: empty parent");
    CHECK(!b3(T32 "-" S16 "-1-05e3ac9a4f6e3b9", &sc), "b3: short parent");
    CHECK(!b3(T32 "-" S16 "-1-05e3ac9a4f6e3b90-x", &sc), "b3: trailing field");
    CHECK(!b3(T32 "-" S16 "x", &sc), "b3: garbage after the span id");
    CHECK(!b3(T32 S16, &sc), "b3: no separator");

    char out[OA_B3_LEN + 1];
    b3(T16 "-" S16 "-1", &sc);
    CHECK(oa_b3_format(&sc, out) == OA_B3_LEN && strcmp(out, "0000000000000000" T16 "-" S16 "-1") == 0,
          "b3 written sampled: %s", out);
    sc.flags = 0;
    oa_b3_format(&sc, out);
    CHECK(strcmp(out, "0000000000000000" T16 "-" S16 "-0") == 0, "b3 written not sampled: %s", out);
    char t[OA_B3_TRACE_ID_LEN + 1], s[OA_B3_SPAN_ID_LEN + 1];
    b3(T32 "-" S16 "-d", &sc);
    oa_b3_format_ids(&sc, t, s);
    CHECK(strcmp(t, T32) == 0 && strcmp(s, S16) == 0 && strcmp(oa_b3_sampled_value(&sc), "1") == 0,
          "X-B3 ids written, debug read as sampled written as 1");
}

static void test_b3_multi(void)
{
    struct oa_span_context sc;
    CHECK(b3multi(T32, S16, "1", NULL, &sc) && is(&sc, T32, S16, true), "b3multi: sampled");
    CHECK(b3multi(T32, S16, "0", NULL, &sc) && is(&sc, T32, S16, false), "b3multi: not sampled");
    CHECK(b3multi(T32, S16, "true", NULL, &sc) && is(&sc, T32, S16, true), "b3multi: true (lenient)");
    CHECK(b3multi(T32, S16, "false", NULL, &sc) && is(&sc, T32, S16, false), "b3multi: false (lenient)");
    CHECK(b3multi(T32, S16, NULL, NULL, &sc) && is(&sc, T32, S16, false), "b3multi: no Sampled");
    CHECK(b3multi(T32, S16, NULL, "1", &sc) && is(&sc, T32, S16, true), "b3multi: Flags 1 (debug) is sampled");
    CHECK(b3multi(T32, S16, "0", "1", &sc) && is(&sc, T32, S16, true), "b3multi: debug wins over Sampled 0");
    CHECK(b3multi(T16, S16, "1", NULL, &sc) && is(&sc, "0000000000000000" T16, S16, true),
          "b3multi: 16-digit trace id padded");
    CHECK(b3multi(" " T32 " ", " " S16, " 1 ", NULL, &sc) && is(&sc, T32, S16, true), "b3multi: OWS trimmed");
    CHECK(!b3multi(NULL, S16, "1", NULL, &sc), "b3multi: no trace id");
    CHECK(!b3multi(T32, NULL, "1", NULL, &sc), "b3multi: no span id");
    CHECK(!b3multi(NULL, NULL, "1", NULL, &sc) && !sc.valid, "b3multi: Sampled alone carries no context");
    CHECK(!b3multi(T32, S16, "yes", NULL, &sc), "b3multi: Sampled yes refused");
    CHECK(!b3multi(T32, "00F067AA0BA902B7", "1", NULL, &sc), "b3multi: uppercase span id");
    CHECK(!b3multi(T32 "0", S16, "1", NULL, &sc), "b3multi: 33-digit trace id");
    CHECK(!b3multi("0000000000000000", S16, "1", NULL, &sc), "b3multi: zero trace id");
}

static void test_jaeger(void)
{
    struct oa_span_context sc;
    CHECK(jaeger(T32 ":" S16 ":0:1", &sc) && is(&sc, T32, S16, true), "jaeger: sampled");
    CHECK(jaeger(T32 ":" S16 ":0:0", &sc) && is(&sc, T32, S16, false), "jaeger: not sampled");
    CHECK(jaeger(T32 ":" S16 ":0:2", &sc) && is(&sc, T32, S16, true), "jaeger: debug (0x2) is sampled");
    CHECK(jaeger(T32 ":" S16 ":0:03", &sc) && is(&sc, T32, S16, true), "jaeger: two flag digits");
    CHECK(jaeger(T32 ":" S16 ":0:4", &sc) && is(&sc, T32, S16, false), "jaeger: other flag bits ignored");
    CHECK(jaeger(T32 ":" S16 ":05e3ac9a4f6e3b90:1", &sc) && is(&sc, T32, S16, true), "jaeger: a parent span id");
    CHECK(jaeger("abc:def:0:1", &sc) && is(&sc, "00000000000000000000000000000abc", "0000000000000def", true),
          "jaeger: short ids left-padded");
    CHECK(jaeger("4BF92F3577B34DA6A3CE929D0E0E4736:00F067AA0BA902B7:0:1", &sc) && is(&sc, T32, S16, true),
          "jaeger: uppercase hex");
    CHECK(jaeger(T32 "%3A" S16 "%3a0%3A1", &sc) && is(&sc, T32, S16, true), "jaeger: URL-encoded separators");
    CHECK(jaeger(" " T32 ":" S16 ":0:1\t", &sc) && is(&sc, T32, S16, true), "jaeger: OWS around the value");
    CHECK(!jaeger("0:" S16 ":0:1", &sc), "jaeger: zero trace id");
    CHECK(!jaeger(T32 ":0:0:1", &sc), "jaeger: zero span id");
    CHECK(!jaeger(T32 "0:" S16 ":0:1", &sc), "jaeger: 33-digit trace id");
    CHECK(!jaeger(T32 ":" S16 "0:0:1", &sc), "jaeger: 17-digit span id");
    CHECK(!jaeger(T32 ":" S16 ":0", &sc), "jaeger: three fields");
    CHECK(!jaeger(T32 ":" S16 ":0:1:0", &sc), "jaeger: five fields");
    CHECK(!jaeger(T32 ":" S16 "::1", &sc), "jaeger: empty parent");
    CHECK(!jaeger(T32 ":" S16 ":0:", &sc), "jaeger: empty flags");
    CHECK(!jaeger(T32 ":" S16 ":0:100", &sc), "jaeger: three flag digits");
    CHECK(!jaeger(T32 ":g" S16 ":0:1", &sc), "jaeger: not hex");
    CHECK(!jaeger(T32 "%3" S16 ":0:1", &sc), "jaeger: a broken escape");
    CHECK(!jaeger("", &sc) && !sc.valid, "jaeger: empty");

    char out[OA_JAEGER_LEN + 1];
    jaeger("abc:" S16 ":0:3", &sc);
    CHECK(oa_jaeger_format(&sc, out) == OA_JAEGER_LEN &&
              strcmp(out, "00000000000000000000000000000abc:" S16 ":0:1") == 0,
          "uber-trace-id written: %s", out);
    sc.flags = 0;
    oa_jaeger_format(&sc, out);
    CHECK(strcmp(out, "00000000000000000000000000000abc:" S16 ":0:0") == 0, "not sampled written: %s", out);
}

static size_t member(const char *key, const char *value, char *out, size_t cap)
{
    size_t kn, vn;
    char *k = copy_of(key, &kn), *v = copy_of(value, &vn);
    size_t n = oa_jaeger_baggage_member(k, kn, v, vn, out, cap);
    free(k);
    free(v);
    return n;
}

static void test_jaeger_baggage(void)
{
    char out[64];
    CHECK(member("user", "42", out, sizeof out) == 7 && strcmp(out, "user=42") == 0, "uberctx: plain");
    CHECK(member("k", "a%20b+c,d", out, sizeof out) && strcmp(out, "k=a%20b%20c%2Cd") == 0,
          "uberctx: URL-decoded, then baggage-encoded: %s", out);
    CHECK(member("k", "%E2%82%AC", out, sizeof out) && strcmp(out, "k=%E2%82%AC") == 0, "uberctx: UTF-8 kept encoded");
    CHECK(member("k", "", out, sizeof out) == 2 && strcmp(out, "k=") == 0, "uberctx: empty value");
    CHECK(member("", "v", out, sizeof out) == 0, "uberctx: no key");
    CHECK(member("a b", "v", out, sizeof out) == 0, "uberctx: key not a token");
    CHECK(member("k", "%zz", out, sizeof out) == 0 && out[0] == '\0', "uberctx: broken escape");
    CHECK(member("k", "0123456789", out, 8) == 0, "uberctx: does not fit");

    const char *bg = "user=42;p=1,k=a%20b%2Bc,x=~ok";
    const char *cur = bg;
    char line[64];
    size_t n = oa_jaeger_baggage_next_line(&cur, line, sizeof line);
    CHECK(n > 0 && memcmp(line, "uberctx-user: 42\r\n", n) == 0, "uberctx line, properties left out");
    n = oa_jaeger_baggage_next_line(&cur, line, sizeof line);
    CHECK(n > 0 && memcmp(line, "uberctx-k: a%20b%2Bc\r\n", n) == 0, "uberctx line URL-encoded: %.*s", (int)n, line);
    n = oa_jaeger_baggage_next_line(&cur, line, sizeof line);
    CHECK(n > 0 && memcmp(line, "uberctx-x: ~ok\r\n", n) == 0, "uberctx line, unreserved kept");
    CHECK(oa_jaeger_baggage_next_line(&cur, line, sizeof line) == 0, "end of the list");
    cur = "long=0123456789,s=1";
    n = oa_jaeger_baggage_next_line(&cur, line, 20);
    CHECK(n > 0 && memcmp(line, "uberctx-s: 1\r\n", n) == 0, "a member that does not fit is skipped");
}

/* The fields of oa_propagation_other_fields, "name=value;" each. */
struct collected {
    char text[1024];
    size_t len;
    int calls, stop_after;
};

static bool collect(void *arg, const char *name, size_t name_len, const char *value, size_t value_len)
{
    struct collected *c = arg;
    c->len += (size_t)snprintf(c->text + c->len, sizeof(c->text) - c->len, "%.*s=%.*s;", (int)name_len, name,
                               (int)value_len, value);
    return ++c->calls != c->stop_after;
}

/* The other propagators' fields handed over as name and value (HTTP/2's
 * literals are made from them), lowercase on request, and as the lines
 * HTTP/1 injects: the same fields in the same order. */
static void test_other_fields(void)
{
    unsigned saved = oa_config.propagators;
    oa_config.propagators = 1u << OA_PROPAGATOR_B3MULTI | 1u << OA_PROPAGATOR_JAEGER;
    struct oa_span_context own = {.valid = true, .flags = 1};
    for (int i = 0; i < 16; i++)
        own.trace_id[i] = (uint8_t)(0x10 + i);
    for (int i = 0; i < 8; i++)
        own.span_id[i] = (uint8_t)(0xa0 + i);
    const char *baggage = "User=4%202;p=1,k=v";
    struct collected lower = {.len = 0}, mixed = {.len = 0}, stopped = {.stop_after = 2};
    CHECK(oa_propagation_other_fields(&own, baggage, true, collect, &lower) && lower.calls == 6,
          "other fields: six, all handed over");
    CHECK(strcmp(lower.text, "x-b3-traceid=101112131415161718191a1b1c1d1e1f;x-b3-spanid=a0a1a2a3a4a5a6a7;"
                             "x-b3-sampled=1;uber-trace-id=101112131415161718191a1b1c1d1e1f:a0a1a2a3a4a5a6a7:0:1;"
                             "uberctx-user=4%202;uberctx-k=v;") == 0,
          "other fields, lowercase names (the baggage key's too): %s", lower.text);
    CHECK(oa_propagation_other_fields(&own, baggage, false, collect, &mixed) &&
              strncmp(mixed.text, "X-B3-TraceId=", 13) == 0 && strstr(mixed.text, "uberctx-User=4%202;") != NULL,
          "other fields, HTTP/1's names: %s", mixed.text);
    CHECK(!oa_propagation_other_fields(&own, baggage, true, collect, &stopped) && stopped.calls == 2,
          "a field refused stops the rest");
    char lines[1024];
    size_t n = oa_propagation_other_lines(&own, baggage, NULL);
    CHECK(n < sizeof lines && oa_propagation_other_lines(&own, baggage, lines) == n, "lines: measured as written");
    lines[n < sizeof lines ? n : 0] = '\0';
    CHECK(strcmp(lines, "X-B3-TraceId: 101112131415161718191a1b1c1d1e1f\r\nX-B3-SpanId: a0a1a2a3a4a5a6a7\r\n"
                        "X-B3-Sampled: 1\r\nuber-trace-id: 101112131415161718191a1b1c1d1e1f:a0a1a2a3a4a5a6a7:0:1\r\n"
                        "uberctx-User: 4%202\r\nuberctx-k: v\r\n") == 0,
          "lines: the same fields, as HTTP/1 writes them");
    oa_config.propagators = saved;

    const char *cur = "k=a%20b;p,x=1";
    char field[32];
    size_t name_len = 0;
    n = oa_jaeger_baggage_next_field(&cur, field, sizeof field, &name_len);
    CHECK(n == 14 && name_len == 9 && memcmp(field, "uberctx-ka%20b", n) == 0, "uberctx field: name, then value");
    cur = "long=0123456789,s=1";
    n = oa_jaeger_baggage_next_field(&cur, field, 16, &name_len);
    CHECK(n == 10 && memcmp(field, "uberctx-s1", n) == 0, "uberctx field: one that does not fit is skipped");
}

int main(void)
{
    test_b3_single();
    test_b3_multi();
    test_jaeger();
    test_jaeger_baggage();
    test_other_fields();
    TEST_DONE();
}
