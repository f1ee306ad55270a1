/* tracestate validation, normalisation and truncation. Inputs are parsed from
 * a heap copy without a trailing NUL so ASan catches any over-read. */
#include <stdlib.h>

#include "trace/tracestate.h"
#include "oa_test.h"

static char out[OA_TRACESTATE_MAX + 1];

static int normalize(const char *value)
{
    size_t n = strlen(value);
    char *copy = malloc(n > 0 ? n : 1);
    memcpy(copy, value, n);
    memset(out, 'X', sizeof(out));
    int r = oa_tracestate_normalize(copy, n, out, sizeof(out));
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

static bool normalizes_to(const char *value, const char *want)
{
    int r = normalize(value);
    return r >= 0 && (size_t)r == strlen(want) && strcmp(out, want) == 0;
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* "k=v" with both parts made of repeated characters */
static char *member(char kc, size_t klen, char vc, size_t vlen)
{
    char *s = malloc(klen + vlen + 2);
    memset(s, kc, klen);
    s[klen] = '=';
    memset(s + klen + 1, vc, vlen);
    s[klen + 1 + vlen] = '\0';
    return s;
}

static void test_valid(void)
{
    CHECK(normalizes_to("foo=1", "foo=1"), "single member");
    CHECK(normalizes_to("foo=1,bar=2", "foo=1,bar=2"), "two members, order kept");
    CHECK(normalizes_to("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
          "spec example");
    CHECK(normalizes_to("", "") && normalize("") == 0, "empty value is valid and empty");
    CHECK(normalizes_to(" \t ", ""), "whitespace-only value is valid and empty");
    CHECK(normalizes_to(",,,", ""), "only empty members");
    CHECK(normalizes_to("foo=1 \t , \t bar=2, \t baz=3", "foo=1,bar=2,baz=3"), "OWS around commas removed");
    CHECK(normalizes_to("foo=1\t \t,\t \tbar=2,\t \tbaz=3", "foo=1,bar=2,baz=3"), "tabs and spaces mixed");
    CHECK(normalizes_to(" foo=1", "foo=1"), "leading space");
    CHECK(normalizes_to("\tfoo=1", "foo=1"), "leading tab");
    CHECK(normalizes_to("foo=1 ", "foo=1"), "trailing space");
    CHECK(normalizes_to("foo=1\t", "foo=1"), "trailing tab");
    CHECK(normalizes_to("\t foo=1 \t", "foo=1"), "both");
    CHECK(normalizes_to("foo=1,,bar=2", "foo=1,bar=2"), "empty member in the middle");
    CHECK(normalizes_to(",foo=1, ,bar=2,", "foo=1,bar=2"), "empty members at both ends");
    CHECK(normalizes_to("foo=1,", "foo=1"), "joined with an empty second header");
    CHECK(normalizes_to(",foo=1", "foo=1"), "joined with an empty first header");
    CHECK(normalizes_to("foo=1,bar=2,rojo=1,congo=2,baz=3", "foo=1,bar=2,rojo=1,congo=2,baz=3"),
          "several joined headers keep their order");
    CHECK(normalizes_to("foo= 1", "foo= 1"), "leading space of a value is part of it");
    CHECK(normalizes_to("foo=a b", "foo=a b"), "inner space in a value");
    CHECK(normalizes_to("0abc=1", "0abc=1"), "key may start with a digit");
    CHECK(normalizes_to("a_-*/9=1", "a_-*/9=1"), "every key punctuation char");
    CHECK(normalizes_to("tenant@system=1", "tenant@system=1"), "multi-tenant key");
    CHECK(normalizes_to("foo@=1", "foo@=1"), "key ending in @ (current grammar)");
    CHECK(normalizes_to("a@@b=1", "a@@b=1"), "key with two @ (current grammar)");
    CHECK(normalizes_to("foo=1,Foo1=2", "") == false, "uppercase key is not silently accepted");

    /* the W3C suite's all-allowed-characters case */
    char key[64] = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
    char value[128];
    size_t v = 0;
    for (int c = 0x20; c <= 0x7e; c++) {
        if (c != ',' && c != '=')
            value[v++] = (char)c;
    }
    value[v] = '\0';
    char in[256];
    snprintf(in, sizeof(in), "%s=%s", key, value);
    CHECK(normalizes_to(in, in), "all allowed key and value characters");
    strcat(key, "@a-z0-9_-*/");
    snprintf(in, sizeof(in), "%s=%s", key, value);
    CHECK(normalizes_to(in, in), "all allowed characters with a tenant@system key");

    char *k256 = member('z', 256, '1', 1);
    char *k257 = member('z', 257, '1', 1);
    char buf[1200];
    snprintf(buf, sizeof(buf), "foo=1,%s", k256);
    CHECK(normalize(buf) > 0 && strncmp(out, "foo=1,", 6) == 0, "256-char key is valid");
    snprintf(buf, sizeof(buf), "foo=1,%s", k257);
    CHECK(normalize(buf) == -1, "257-char key is invalid");
    free(k256);
    free(k257);

    char *tenant = repeat('t', 241);
    char *system = repeat('v', 14);
    snprintf(buf, sizeof(buf), "foo=1,%s@%s=1", tenant, system);
    CHECK(normalize(buf) > 0, "241-char tenant @ 14-char system (256 chars) is valid");
    snprintf(buf, sizeof(buf), "foo=1,%st@%s=1", tenant, system);
    CHECK(normalize(buf) == -1, "257-char multi-tenant key is invalid");
    free(tenant);
    free(system);

    char *v256 = member('k', 1, 'v', 256);
    char *v257 = member('k', 1, 'v', 257);
    CHECK(normalizes_to(v256, v256), "256-char value is valid");
    CHECK(normalize(v257) == -1, "257-char value is invalid");
    free(v256);
    free(v257);
}

static void test_invalid(void)
{
    static const char *const cases[] = {
        "foo",              /* no '=' */
        "foo=1,bar",        /* trailing member without '=' */
        "=1",               /* empty key */
        "foo=",             /* empty value */
        "foo=,bar=3",       /* empty value, W3C suite */
        "foo=   ",          /* value of only OWS */
        "foo =1",           /* space in key */
        "FOO=1",            /* uppercase key */
        "fOo=1",
        "foo.bar=1",        /* '.' not allowed in key */
        "@foo=1,bar=2",     /* key must start with [a-z0-9] */
        "_foo=1",
        "*foo=1",
        "/foo=1",
        "-foo=1",
        "foo=bar=baz",      /* '=' in value */
        "foo=1\x7f",        /* DEL in value */
        "foo=\x01",         /* control char */
        "foo=a\tb",         /* tab inside value */
        "foo=\xc3\xa9",     /* non-ASCII */
        "f\xc3\xa9=1",
        "foo=1;bar=2,ok=3\n",
        "foo=1,foo=1",      /* duplicates */
        "foo=1,foo=2",
        "foo=1,bar=2,foo=3",
        "foo=1 ,  foo=2",
        "foo=1,bar=2,x y=3",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK(normalize(cases[i]) == -1, "invalid: \"%s\"", printable(cases[i]));
    CHECK(oa_tracestate_normalize("foo=1", 5, out, 0) == -1, "no room at all is an error, nothing written");
}

static void test_member_count(void)
{
    char buf[1024];
    size_t n = 0;
    for (int i = 1; i <= 32; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sbar%02d=%02d", i > 1 ? "," : "", i, i);
    CHECK(normalizes_to(buf, buf), "32 members are kept");
    char with_empties[1200];
    snprintf(with_empties, sizeof(with_empties), " , ,%s, ,,", buf);
    CHECK(normalizes_to(with_empties, buf), "32 members plus empty members are kept");
    snprintf(buf + n, sizeof(buf) - n, ",bar33=33");
    CHECK(normalize(buf) == -1, "33 members: whole value invalid");
}

static void test_truncation(void)
{
    char buf[4096];
    char want[1024];

    /* 6 entries of 100 chars: 605 chars. Right-most entries go until it fits. */
    size_t n = 0;
    for (int i = 0; i < 6; i++) {
        char *m = member((char)('a' + i), 2, 'x', 97);
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i > 0 ? "," : "", m);
        free(m);
    }
    int r = normalize(buf);
    /* 5 entries = 504 chars fit */
    memcpy(want, buf, 504);
    want[504] = '\0';
    CHECK(r == 504 && strcmp(out, want) == 0, "right-most entry dropped (got %d)", r);

    /* A long (>128) entry goes before any short one, even if it is left-most. */
    char *big = member('l', 3, 'y', 200);    /* 204 chars */
    char *e1 = member('a', 2, 'x', 97);      /* 100 chars each */
    char *e2 = member('b', 2, 'x', 97);
    char *e3 = member('c', 2, 'x', 97);
    char *e4 = member('d', 2, 'x', 97);
    snprintf(buf, sizeof(buf), "%s,%s,%s,%s,%s", big, e1, e2, e3, e4);
    snprintf(want, sizeof(want), "%s,%s,%s,%s", e1, e2, e3, e4);
    r = normalize(buf);
    CHECK(r == 403 && strcmp(out, want) == 0, "left-most long entry removed first (got %d)", r);

    /* Only as many long entries as needed go, right-most of them first. */
    char *big2 = member('m', 3, 'z', 200);
    snprintf(buf, sizeof(buf), "%s,%s,%s,%s", big, e1, big2, e2);   /* 204+100+204+100+3 = 611 */
    snprintf(want, sizeof(want), "%s,%s,%s", big, e1, e2);          /* 406 */
    r = normalize(buf);
    CHECK(r == 406 && strcmp(out, want) == 0, "right-most long entry removed, other long one kept (got %d)", r);

    /* Long entries first, then right-most short ones. */
    char *big3 = member('n', 3, 'w', 250);  /* 254 */
    snprintf(buf, sizeof(buf), "%s,%s,%s,%s,%s,%s", e1, big3, e2, e3, e4, big);
    /* without both long entries: 4*100+3 = 403 fits */
    snprintf(want, sizeof(want), "%s,%s,%s,%s", e1, e2, e3, e4);
    r = normalize(buf);
    CHECK(r == 403 && strcmp(out, want) == 0, "all long entries removed when needed (got %d)", r);

    /* Exactly 512 is kept as is. */
    char *e5 = member('e', 2, 'x', 104);     /* 107: 4*100 + 107 + 4 commas... */
    snprintf(buf, sizeof(buf), "%s,%s,%s,%s,%s", e1, e2, e3, e4, e5);
    r = normalize(buf);
    CHECK(r == 511 && strcmp(out, buf) == 0, "511 chars kept whole (got %d)", r);
    free(e5);
    e5 = member('e', 2, 'x', 105);
    snprintf(buf, sizeof(buf), "%s,%s,%s,%s,%s", e1, e2, e3, e4, e5);
    r = normalize(buf);
    CHECK(r == 512 && strcmp(out, buf) == 0, "512 chars kept whole (got %d)", r);
    free(e5);
    e5 = member('e', 2, 'x', 106);
    snprintf(buf, sizeof(buf), "%s,%s,%s,%s,%s", e1, e2, e3, e4, e5);
    snprintf(want, sizeof(want), "%s,%s,%s,%s", e1, e2, e3, e4);
    r = normalize(buf);
    CHECK(r == 403 && strcmp(out, want) == 0, "513 chars: last entry dropped (got %d)", r);

    /* OWS does not count: the normalised value fits. */
    snprintf(buf, sizeof(buf), "  %s ,\t%s , %s ,  %s  ", e1, e2, e3, e4);
    snprintf(want, sizeof(want), "%s,%s,%s,%s", e1, e2, e3, e4);
    CHECK(normalizes_to(buf, want), "OWS removed before measuring");

    /* A bigger output buffer does not raise the 512-char limit. */
    char large[2048];
    snprintf(buf, sizeof(buf), "%s,%s,%s,%s,%s", e1, e2, e3, e4, e5);
    r = oa_tracestate_normalize(buf, strlen(buf), large, sizeof(large));
    CHECK(r == 403 && strcmp(large, want) == 0, "512-char limit holds with a larger buffer (got %d)", r);

    /* A smaller output buffer truncates to its own size. */
    char small[250];
    snprintf(buf, sizeof(buf), "%s,%s,%s", e1, e2, e3);
    r = oa_tracestate_normalize(buf, strlen(buf), small, sizeof(small));
    CHECK(r == 201 && strncmp(small, buf, 201) == 0 && small[201] == '\0', "limited by out_cap (got %d)", r);

    /* A single entry longer than 512 cannot exist (key and value <= 256),
     * but a lone long entry that fits is kept. */
    CHECK(normalizes_to(big, big), "a lone long entry that fits is kept");

    /* invalid member past the limit still invalidates the whole value */
    snprintf(buf, sizeof(buf), "%s,%s,%s,%s,%s,%s,BAD=1", e1, e2, e3, e4, e5, big);
    CHECK(normalize(buf) == -1, "invalid member anywhere invalidates even when truncating");

    free(big);
    free(big2);
    free(big3);
    free(e1);
    free(e2);
    free(e3);
    free(e4);
    free(e5);
}

int main(void)
{
    test_valid();
    test_invalid();
    test_member_count();
    test_truncation();
    TEST_DONE();
}
