/* Span records: arena storage and truncation, attribute limits, lookup. */
#include <stdlib.h>
#include <string.h>

#include "trace/span.h"
#include "oa_test.h"

static bool in_arena(const struct oa_span *s, const char *p)
{
    return p >= s->arena && p < s->arena + sizeof s->arena;
}

/* true when s[0..len) does not end inside a UTF-8 sequence */
static bool utf8_complete(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
        if (i + n > len)
            return false;
        i += n;
    }
    return true;
}

static void test_new_and_store(void)
{
    struct oa_span *s = oa_span_new();
    const char *p;

    CHECK(s && s->n_attrs == 0 && s->arena_used == 0 && s->name == NULL && s->dropped_attrs == 0,
          "new span is zeroed");
    p = oa_span_store(s, "hello world", 5);
    CHECK(p && in_arena(s, p) && strcmp(p, "hello") == 0 && s->arena_used == 6,
          "store copies len bytes and a NUL");
    p = oa_span_store(s, "", 0);
    CHECK(p && p[0] == '\0' && s->arena_used == 7, "empty string stored");
    oa_span_set_name(s, "GET /users/{id}", 15);
    CHECK(s->name && strcmp(s->name, "GET /users/{id}") == 0 && in_arena(s, s->name), "name set");
    oa_span_free(s);
    oa_span_free(NULL);
    CHECK(1, "free of NULL is harmless");
}

static void test_value_cap(void)
{
    struct oa_span *s = oa_span_new();
    char big[3000];
    char utf[3000];
    const char *p;

    memset(big, 'x', sizeof big);
    p = oa_span_store(s, big, sizeof big);
    CHECK(p && strlen(p) == OA_SPAN_MAX_VALUE_LEN, "value capped at %d bytes",
          OA_SPAN_MAX_VALUE_LEN);

    /* "a" then two-byte characters: a cut at 1024 would split one */
    utf[0] = 'a';
    for (size_t i = 1; i + 1 < sizeof utf; i += 2) {
        utf[i] = (char)0xc3;
        utf[i + 1] = (char)0xa9;
    }
    p = oa_span_store(s, utf, sizeof utf - 1);
    CHECK(p && strlen(p) == OA_SPAN_MAX_VALUE_LEN - 1 && utf8_complete(p, strlen(p)),
          "two-byte character not split at the cap");

    /* four-byte characters after one ASCII byte */
    utf[0] = 'a';
    for (size_t i = 1; i + 4 <= sizeof utf; i += 4)
        memcpy(utf + i, "\xf0\x9f\x98\x80", 4);
    oa_span_free(s);
    s = oa_span_new();
    p = oa_span_store(s, utf, 1 + 4 * 700);
    CHECK(p && strlen(p) == 1 + 4 * 255 && utf8_complete(p, strlen(p)),
          "four-byte character not split at the cap (len %zu)", p ? strlen(p) : 0);

    /* invalid UTF-8 (continuation bytes only) is cut at the cap, not emptied */
    memset(utf, 0x80, sizeof utf);
    p = oa_span_store(s, utf, sizeof utf);
    CHECK(p && strlen(p) == OA_SPAN_MAX_VALUE_LEN, "invalid UTF-8 cut at the cap");
    oa_span_free(s);
}

static void test_arena_full(void)
{
    struct oa_span *s = oa_span_new();
    char chunk[1000];
    const char *p;
    int ok = 1;

    memset(chunk, 'y', sizeof chunk);
    /* 3 x 1001 bytes = 3003 of 3072 */
    for (int i = 0; i < 3; i++) {
        p = oa_span_store(s, chunk, sizeof chunk);
        EXPECT(ok, p && strlen(p) == sizeof chunk, "chunk %d", i);
    }
    CHECK(ok && s->arena_used == 3003, "three chunks stored whole");
    p = oa_span_store(s, chunk, sizeof chunk);
    CHECK(p && strlen(p) == sizeof s->arena - 3003 - 1 && s->arena_used == sizeof s->arena,
          "the next one truncated to the room left");
    p = oa_span_store(s, "z", 1);
    CHECK(p == NULL && s->arena_used == sizeof s->arena, "a full arena refuses");
    p = oa_span_store(s, "", 0);
    CHECK(p == NULL, "a full arena refuses even an empty string");
    oa_span_set_name(s, "late name", 9);
    CHECK(s->name && s->name[0] == '\0', "name falls back to empty when the arena is full");
    oa_span_attr_str(s, "k", "v", 1);
    CHECK(s->n_attrs == 0 && s->dropped_attrs == 1,
          "string attribute without room is dropped and counted");
    oa_span_attr_int(s, "n", 42);
    CHECK(s->n_attrs == 1 && oa_span_find_attr(s, "n") && oa_span_find_attr(s, "n")->v.i == 42,
          "int attribute needs no arena");
    oa_span_free(s);

    /* room for exactly a NUL: a non-empty string cannot fit at all */
    s = oa_span_new();
    s->arena_used = sizeof s->arena - 1;
    CHECK(oa_span_store(s, "ab", 2) == NULL, "one byte left: a non-empty string is refused");
    p = oa_span_store(s, "", 0);
    CHECK(p && p[0] == '\0' && s->arena_used == sizeof s->arena,
          "one byte left: empty string fits");
    oa_span_free(s);
}

static void test_attributes(void)
{
    struct oa_span *s = oa_span_new();
    static const char *const keys[] = {
        "k00", "k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09", "k10", "k11", "k12",
        "k13", "k14", "k15", "k16", "k17", "k18", "k19", "k20", "k21", "k22", "k23", "k24", "k25",
    };
    const struct oa_attr *a;
    char key_copy[32];

    oa_span_attr_str(s, "http.request.method", "GET", 3);
    oa_span_attr_int(s, "http.response.status_code", 200);
    a = oa_span_find_attr(s, "http.request.method");
    CHECK(a && a->type == OA_VALUE_STRING && a->v.str.len == 3 &&
              memcmp(a->v.str.ptr, "GET", 3) == 0 && in_arena(s, a->v.str.ptr),
          "string attribute stored in the arena");
    a = oa_span_find_attr(s, "http.response.status_code");
    CHECK(a && a->type == OA_VALUE_INT && a->v.i == 200, "int attribute");
    strcpy(key_copy, "http.request.method");
    CHECK(oa_span_find_attr(s, key_copy) != NULL, "lookup compares contents, not pointers");
    CHECK(oa_span_find_attr(s, "url.full") == NULL, "missing attribute is NULL");

    oa_span_attr_int(s, "http.response.status_code", 503);
    oa_span_attr_str(s, "http.request.method", "POST", 4);
    CHECK(s->n_attrs == 2 && oa_span_find_attr(s, "http.response.status_code")->v.i == 503 &&
              oa_span_find_attr(s, "http.request.method")->v.str.len == 4,
          "setting a key again replaces its value");

    oa_span_attr_str(s, "bin", "a\0b", 3);
    a = oa_span_find_attr(s, "bin");
    CHECK(a && a->v.str.len == 3 && memcmp(a->v.str.ptr, "a\0b", 3) == 0,
          "value length counts NUL bytes");

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        oa_span_attr_str(s, keys[i], "v", 1);
    /* 3 attributes + 26 = 29: 24 kept, 5 dropped */
    CHECK(s->n_attrs == OA_SPAN_MAX_ATTRS && s->dropped_attrs == 5,
          "beyond %d attributes: dropped and counted (n=%u dropped=%u)", OA_SPAN_MAX_ATTRS,
          s->n_attrs, s->dropped_attrs);
    CHECK(oa_span_find_attr(s, "k20") != NULL && oa_span_find_attr(s, "k21") == NULL,
          "the first ones are kept");
    oa_span_attr_int(s, "k00", 7);
    CHECK(s->dropped_attrs == 5 && oa_span_find_attr(s, "k00")->type == OA_VALUE_INT,
          "replacing a key when full is not a drop");
    oa_span_attr_int(s, "another", 1);
    CHECK(s->dropped_attrs == 6, "a new int key when full is dropped");
    oa_span_free(s);
}

/* A finished span moves into a block sized for its arena; values survive
 * and point into the new block; a big span stays where it is. */
static void test_compact(void)
{
    struct oa_span *s = oa_span_new();
    oa_span_set_name(s, "GET", 3);
    s->trace_state = oa_span_store(s, "k=v", 3);
    s->status_message = "static message";
    oa_span_attr_str(s, "url.path", "/a/b", 4);
    oa_span_attr_int(s, "server.port", 8080);
    oa_span_attr_str(s, "user_agent.original", "curl/8", 6);
    s->start_unix_nano = 42;
    struct oa_span *c = oa_span_compact(s);
    const struct oa_attr *path = oa_span_find_attr(c, "url.path");
    const struct oa_attr *ua = oa_span_find_attr(c, "user_agent.original");
    const struct oa_attr *port = oa_span_find_attr(c, "server.port");
    CHECK(c != s && c->form == OA_SPAN_COMPACT && c->start_unix_nano == 42 && c->n_attrs == 3 &&
              strcmp(c->name, "GET") == 0 && c->name >= c->arena && c->name < c->arena + c->arena_used &&
              strcmp(c->trace_state, "k=v") == 0 && c->trace_state >= c->arena &&
              strcmp(c->status_message, "static message") == 0,
          "compact: fields and strings moved into the new block");
    CHECK(path && path->v.str.len == 4 && memcmp(path->v.str.ptr, "/a/b", 4) == 0 &&
              path->v.str.ptr >= c->arena && path->v.str.ptr < c->arena + c->arena_used && ua &&
              memcmp(ua->v.str.ptr, "curl/8", 6) == 0 && port && port->v.i == 8080,
          "compact: attribute values intact and relocated");
    CHECK(oa_span_compact(c) == c, "compact: a compact span is left alone");
    oa_span_free(c);

    struct oa_span *big = oa_span_new();
    char v[1000];
    memset(v, 'x', sizeof v);
    oa_span_attr_str(big, "a", v, sizeof v);
    CHECK(oa_span_compact(big) == big && big->form == OA_SPAN_FULL, "compact: a span with a big arena stays");
    oa_span_free(big);
    CHECK(oa_span_compact(NULL) == NULL, "compact: NULL is NULL");
}

/* Static values and names are pointed to, not copied; the inline setters
 * are the setters; a static value set again over a key is replaced as any;
 * compacting and copying keep the pointers to constants. */
static void test_static_and_inline(void)
{
    static const char method[] = "GET";
    struct oa_span *s = oa_span_new();
    oa_span_set_static_name(s, method);
    oa_span_attr_static_inline(s, "http.request.method", method, 3);
    oa_span_attr_str_inline(s, "url.path", "/p", 2);
    oa_span_attr_int_inline(s, "server.port", 80);
    const struct oa_attr *m = oa_span_find_attr(s, "http.request.method");
    CHECK(s->name == method && m != NULL && m->v.str.ptr == method && m->v.str.len == 3 && m->key_len == 19 &&
              s->arena_used == 3 && s->n_attrs == 3,
          "static: name and value pointed to, only the copied value in the arena");
    oa_span_attr_static_inline(s, "url.path", "/q", 2);
    const struct oa_attr *p = oa_span_find_attr(s, "url.path");
    CHECK(s->n_attrs == 3 && p != NULL && p->v.str.len == 2 && memcmp(p->v.str.ptr, "/q", 2) == 0,
          "static: a key set again is replaced, not added");
    struct oa_span *full = oa_span_new();
    oa_span_copy_full(full, s);
    struct oa_span *c = oa_span_compact(s);
    m = oa_span_find_attr(c, "http.request.method");
    const struct oa_attr *fm = oa_span_find_attr(full, "http.request.method");
    CHECK(c->form == OA_SPAN_COMPACT && c->name == method && m != NULL && m->v.str.ptr == method && fm != NULL &&
              fm->v.str.ptr == method && full->name == method,
          "static: compacted and copied spans point to the same constants");
    oa_span_free(c);
    oa_span_free(full);

    char cut[OA_SPAN_MAX_VALUE_LEN + 10];
    memset(cut, 'c', sizeof cut);
    s = oa_span_new();
    oa_span_attr_static_inline(s, "long", cut, sizeof cut);
    const struct oa_attr *l = oa_span_find_attr(s, "long");
    CHECK(l != NULL && l->v.str.len == OA_SPAN_MAX_VALUE_LEN && in_arena(s, l->v.str.ptr) && s->arena_short,
          "static: a value over the length cap is cut into the arena, as any");
    oa_span_free(s);
}

/* The setters keep each key's length for the encoder; a compact block takes
 * what its arena holds and says when a string did not fit. */
static void test_key_len_and_compact_new(void)
{
    struct oa_span *s = oa_span_new();
    oa_span_attr_str(s, "url.path", "/", 1);
    oa_span_attr_int(s, "network.peer.port", 1);
    CHECK(s->attrs[0].key_len == 8 && s->attrs[1].key_len == 17, "setters store the key's length");
    oa_span_free(s);

    static char big[OA_SPAN_COMPACT_ARENA + 1];
    memset(big, 'x', sizeof big);
    struct oa_span *c = oa_span_new_compact();
    CHECK(c != NULL && c->form == OA_SPAN_COMPACT && c->arena_used == 0 && c->n_attrs == 0 && !c->arena_short,
          "a new compact span is empty");
    oa_span_attr_str(c, "a.b", big, 100);
    CHECK(!c->arena_short && c->n_attrs == 1, "a value that fits is stored");
    oa_span_attr_str(c, "c.d", big, OA_SPAN_COMPACT_ARENA);
    CHECK(c->arena_short && c->arena_used <= OA_SPAN_COMPACT_ARENA, "one that does not is cut, and said so");
    oa_span_free(c);
}

/* A raw span's bytes (a head or a statement as the program sent it) are
 * wiped when the block goes back to its pool, built or dropped. */
static void test_raw_wiped(void)
{
    static const char secret[] = "Authorization: Basic aHVudGVyMg==";
    for (size_t bytes = 64; bytes <= 1024; bytes += 960) {
        struct oa_span *s = oa_span_new_raw(bytes);
        CHECK(s != NULL, "raw block of %zu bytes", bytes);
        if (s == NULL)
            continue;
        memcpy(s->raw.bytes, secret, sizeof secret);
        s->raw.head_len = sizeof secret - 1;
        oa_span_free(s);
        struct oa_span *again = oa_span_new_raw(bytes);
        CHECK(again == s, "the pool hands the same block back");
        bool clean = again != NULL && memmem(again->raw.bytes, sizeof secret, "aHVudGVy", 8) == NULL;
        CHECK(clean, "a freed raw block of %zu bytes keeps nothing the program sent", bytes);
        oa_span_free(again);
    }
}

int main(void)
{
    test_raw_wiped();
    test_new_and_store();
    test_value_cap();
    test_arena_full();
    test_attributes();
    test_compact();
    test_key_len_and_compact_new();
    test_static_and_inline();
    TEST_DONE();
}
