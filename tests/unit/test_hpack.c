/* HPACK (src/protocols/http2/hpack_*): RFC 7541 Appendix C's examples
 * (integers, each literal form, requests with and without Huffman,
 * responses with eviction), the errors a decoder must refuse, the dynamic
 * table against a plain model, and the injection literal. */
#include <stdlib.h>

#include "oa_test.h"
#include "protocols/http2/hpack_decoder.h"
#include "protocols/http2/hpack_huffman.h"
#include "protocols/http2/hpack_integer.h"

/* ---- helpers ---------------------------------------------------------- */

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (const char *h = hex; h[0] && h[1] && n < cap;) {
        if (h[0] == ' ') {
            h++;
            continue;
        }
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

/* The fields of a block as "name: value\n" lines ("name:: value" when never
 * indexed). */
struct listing {
    char text[4096];
    size_t len;
    int fields;
    size_t skipped; /* the fields' skipped_len, added up */
};

static void list_field(void *arg, const struct oa_hpack_field *f)
{
    struct listing *l = arg;
    l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%.*s%s %.*s\n", (int)f->name_len,
                               f->name, f->never_indexed ? "::" : ":", (int)f->value_len, f->value);
    l->fields++;
    l->skipped += f->skipped_len;
}

static int decode_hex(struct oa_hpack_decoder *d, const char *hex, struct listing *l)
{
    static uint8_t block[8192];
    size_t n = unhex(hex, block, sizeof(block));
    memset(l, 0, sizeof(*l));
    return oa_hpack_decode_block(d, block, n, list_field, l);
}

/* The dynamic table as "name: value\n" lines, newest first. */
static const char *table_text(const struct oa_hpack_decoder *d)
{
    static char text[4096];
    char entry[1024];
    size_t len = 0, name_len;
    text[0] = '\0';
    for (uint32_t i = 1; i <= d->count; i++) {
        long n = oa_hpack_dynamic_entry(d, i, entry, sizeof(entry), &name_len);
        if (n < 0)
            return "(unreadable entry)";
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%.*s: %.*s\n", (int)name_len, entry,
                                (int)(n - (long)name_len), entry + name_len);
    }
    return text;
}

/* A listing under a failed check, as TAP comments. */
static void show(const char *label, const char *text)
{
    printf("# %s:\n", label);
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        int len = end ? (int)(end - line) : (int)strlen(line);
        printf("#   %.*s\n", len, line);
        line += len + (end != NULL);
    }
}

/* Decodes one block of hex on d and checks the fields and the dynamic table
 * (newest first) and its size after it. */
static void check_block(struct oa_hpack_decoder *d, const char *what, const char *hex, const char *want_fields,
                        const char *want_table, uint32_t want_size)
{
    struct listing l;
    int rc = decode_hex(d, hex, &l);
    bool fields_ok = rc == 0 && strcmp(l.text, want_fields) == 0;
    CHECK(fields_ok, "%s: fields", what);
    if (!fields_ok)
        show("got", l.text);
    bool table_ok = strcmp(table_text(d), want_table) == 0 && d->size == want_size;
    CHECK(table_ok, "%s: table (size %u)", what, d->size);
    if (!table_ok)
        show("table", table_text(d));
}

/* Appendix C's three blocks in sequence on one decoder. */
struct sequence {
    const char *what;
    const char *hex[3];
};

static void check_sequence(const struct sequence *q, uint32_t table, const char *const fields[3],
                           const char *const tables[3], const uint32_t sizes[3])
{
    struct oa_hpack_decoder d;
    char what[64];
    oa_hpack_decoder_init(&d, table);
    for (int i = 0; i < 3; i++) {
        snprintf(what, sizeof(what), "%s.%d", q->what, i + 1);
        check_block(&d, what, q->hex[i], fields[i], tables[i], sizes[i]);
    }
    oa_hpack_decoder_release(&d);
}

static void check_error(uint32_t table, const char *hex, const char *what)
{
    struct oa_hpack_decoder d;
    struct listing l;
    oa_hpack_decoder_init(&d, table);
    int rc = decode_hex(&d, hex, &l);
    CHECK(rc == -1 && d.failed, "refused: %s", what);
    oa_hpack_decoder_release(&d);
}

/* ---- C.1 integers ----------------------------------------------------- */

static void test_integers(void)
{
    static const struct {
        uint32_t value;
        unsigned prefix;
        const char *hex;
    } cases[] = {
        {10, 5, "0a"},       /* C.1.1 */
        {1337, 5, "1f9a0a"}, /* C.1.2 */
        {42, 8, "2a"},       /* C.1.3 */
        {UINT32_MAX, 7, "7f80ffffff0f"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t want[8], got[8];
        size_t n = unhex(cases[i].hex, want, sizeof(want));
        size_t m = oa_hpack_int_encode(got, sizeof(got), 0, cases[i].prefix, cases[i].value);
        CHECK(m == n && memcmp(got, want, n) == 0, "integer %u, %u-bit prefix: encoded", cases[i].value,
              cases[i].prefix);
        const uint8_t *p = want;
        uint32_t v = 0;
        CHECK(oa_hpack_int_decode(&p, want + n, cases[i].prefix, &v) && v == cases[i].value && p == want + n,
              "integer %u, %u-bit prefix: decoded %u", cases[i].value, cases[i].prefix, v);
        CHECK(oa_hpack_int_encode(got, n - 1, 0, cases[i].prefix, cases[i].value) == 0,
              "integer %u: no room, nothing written", cases[i].value);
    }
    static const char *bad[] = {
        "1f",               /* prefix all ones, nothing follows */
        "1f9a",             /* a continuation announced, none follows */
        "1fffffffff0f",     /* 2^32 + 30: beyond 32 bits */
        "1f808080808000",   /* six continuation bytes, all zero */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t b[8];
        size_t n = unhex(bad[i], b, sizeof(b));
        const uint8_t *p = b;
        uint32_t v;
        CHECK(!oa_hpack_int_decode(&p, b + n, 5, &v) && p == b, "integer %s refused", bad[i]);
    }
}

/* ---- C.2 literal forms --------------------------------------------------- */

static void test_literal_forms(void)
{
    struct oa_hpack_decoder d;
    static const struct {
        const char *what, *hex, *fields, *table;
        uint32_t size;
    } forms[] = {
        {"C.2.1 with indexing", "400a637573746f6d2d6b65790d637573746f6d2d686561646572", "custom-key: custom-header\n",
         "custom-key: custom-header\n", 55},
        {"C.2.2 without indexing", "040c2f73616d706c652f70617468", ":path: /sample/path\n", "", 0},
        {"C.2.3 never indexed", "100870617373776f726406736563726574", "password:: secret\n", "", 0},
        {"C.2.4 indexed", "82", ":method: GET\n", "", 0},
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        CHECK(oa_hpack_decoder_init(&d, 4096) == 0, "init 4096");
        check_block(&d, forms[i].what, forms[i].hex, forms[i].fields, forms[i].table, forms[i].size);
        oa_hpack_decoder_release(&d);
    }
}

/* ---- C.3 / C.4 requests ------------------------------------------------- */

static const char *request1 = ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n";
static const char *request2 =
    ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\ncache-control: no-cache\n";
static const char *request3 =
    ":method: GET\n:scheme: https\n:path: /index.html\n:authority: www.example.com\ncustom-key: custom-value\n";
static const char *req_table1 = ":authority: www.example.com\n";
static const char *req_table2 = "cache-control: no-cache\n:authority: www.example.com\n";
static const char *req_table3 = "custom-key: custom-value\ncache-control: no-cache\n:authority: www.example.com\n";

static void test_requests(void)
{
    static const struct sequence plain = {"C.3", {"828684410f7777772e6578616d706c652e636f6d",
                                                  "828684be58086e6f2d6361636865",
                                                  "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"}};
    static const struct sequence huffman = {"C.4", {"828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
                                                    "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"}};
    const char *const fields[3] = {request1, request2, request3};
    const char *const tables[3] = {req_table1, req_table2, req_table3};
    static const uint32_t sizes[3] = {57, 110, 164};
    check_sequence(&plain, 4096, fields, tables, sizes);
    check_sequence(&huffman, 4096, fields, tables, sizes);
}

/* ---- C.5 / C.6 responses, table size 256 ----------------------------- */

#define DATE1 "Mon, 21 Oct 2013 20:13:21 GMT"
#define DATE2 "Mon, 21 Oct 2013 20:13:22 GMT"
#define LOC "https://www.example.com"
#define COOKIE "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"

static const char *response1 = ":status: 302\ncache-control: private\ndate: " DATE1 "\nlocation: " LOC "\n";
static const char *response2 = ":status: 307\ncache-control: private\ndate: " DATE1 "\nlocation: " LOC "\n";
static const char *response3 = ":status: 200\ncache-control: private\ndate: " DATE2 "\nlocation: " LOC
                               "\ncontent-encoding: gzip\nset-cookie: " COOKIE "\n";
static const char *resp_table1 = "location: " LOC "\ndate: " DATE1 "\ncache-control: private\n:status: 302\n";
static const char *resp_table2 = ":status: 307\nlocation: " LOC "\ndate: " DATE1 "\ncache-control: private\n";
static const char *resp_table3 = "set-cookie: " COOKIE "\ncontent-encoding: gzip\ndate: " DATE2 "\n";

static void test_responses(void)
{
    static const struct sequence plain = {
        "C.5",
        {"4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e"
         "1768747470733a2f2f7777772e6578616d706c652e636f6d",
         "4803333037c1c0bf",
         "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d"
         "4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b20766572"
         "73696f6e3d31"}};
    static const struct sequence huffman = {
        "C.6",
        {"488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b"
         "97c8e9ae82ae43d3",
         "4883640effc1c0bf",
         "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdf"
         "cd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"}};
    const char *const fields[3] = {response1, response2, response3};
    const char *const tables[3] = {resp_table1, resp_table2, resp_table3};
    static const uint32_t sizes[3] = {222, 222, 215};
    /* table size 256: the second block evicts :status 302, the third two more */
    check_sequence(&plain, 256, fields, tables, sizes);
    check_sequence(&huffman, 256, fields, tables, sizes);
}

/* ---- errors ------------------------------------------------------------ */

static void test_errors(void)
{
    check_error(4096, "80", "indexed field, index 0");
    check_error(4096, "be", "indexed field 62, the dynamic table empty");
    check_error(4096, "828684410f7777772e6578616d706c652e636f6d bf", "indexed field 63, one dynamic entry");
    check_error(4096, "7e00", "literal with indexing, name index 62, the dynamic table empty");
    check_error(4096, "ff", "indexed field, integer truncated");
    check_error(4096, "ff80", "indexed field, continuation truncated");
    check_error(4096, "ffffffffff0f", "indexed field, index beyond 32 bits");
    check_error(4096, "400a637573746f6d", "literal, name shorter than its length");
    check_error(4096, "400a637573746f6d2d6b6579", "literal, no value");
    check_error(4096, "400a637573746f6d2d6b65790d6375", "literal, value shorter than its length");
    check_error(4096, "00 7f ffffffff0f", "literal, string length beyond 32 bits");
    check_error(4096, "00 84 ffffffff 00", "Huffman name holding EOS");
    check_error(4096, "00 81 18 00", "Huffman padding not all ones");
    check_error(4096, "00 82 1fff 00", "Huffman padding longer than 7 bits");
    check_error(4096, "3fe21f", "size update 4097 above the limit 4096");
    check_error(4096, "82 20", "size update after a field");
    check_error(0, "21", "size update 1 above the limit 0");

    /* the same shapes accepted when valid */
    struct oa_hpack_decoder d;
    struct listing l;
    oa_hpack_decoder_init(&d, 4096);
    CHECK(decode_hex(&d, "00 81 1f 00", &l) == 0 && strcmp(l.text, "a: \n") == 0, "Huffman 'a' with 3 bits of padding");
    CHECK(decode_hex(&d, "3fe11f 20 3fe11f 82", &l) == 0 && d.max_size == 4096 && l.fields == 1,
          "size updates at the start of a block, up to the limit");
    CHECK(decode_hex(&d, "", &l) == 0 && l.fields == 0, "an empty block");
    CHECK(decode_hex(&d, "00 80 80", &l) == 0 && strcmp(l.text, ": \n") == 0, "empty Huffman name and value");
    CHECK(decode_hex(&d, "40 00 00 7e 80 be", &l) == 0 && strcmp(l.text, ": \n: \n: \n") == 0 && d.count == 2 &&
              d.size == 64,
          "empty entries: added, named by index, referenced");
    CHECK(decode_hex(&d, "bd", &l) == 0 && strcmp(l.text, "www-authenticate: \n") == 0, "static index 61");
    CHECK(decode_hex(&d, "80", &l) == -1, "index 0 fails the decoder");
    CHECK(decode_hex(&d, "82", &l) == -1 && l.fields == 0, "a failed decoder refuses every later block");
    oa_hpack_decoder_release(&d);

    CHECK(oa_hpack_decoder_init(&d, OA_HPACK_TABLE_MAX + 1) == -1, "a limit above %u refused", OA_HPACK_TABLE_MAX);
    oa_hpack_decoder_release(&d);
}

/* ---- the limit changing --------------------------------------------------- */

static void test_limits(void)
{
    struct oa_hpack_decoder d;
    struct listing l;
    oa_hpack_decoder_init(&d, 256);
    decode_hex(&d, "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e"
                   "1768747470733a2f2f7777772e6578616d706c652e636f6d", &l);
    CHECK(oa_hpack_decoder_set_limit(&d, 4096) == 0 && d.capacity == 4096 && d.max_size == 256 &&
              strcmp(table_text(&d), resp_table1) == 0,
          "a larger limit keeps the entries and the table's maximum");
    CHECK(decode_hex(&d, "3fe11f bf", &l) == 0 && strcmp(l.text, "date: " DATE1 "\n") == 0 && d.max_size == 4096,
          "the encoder raises the maximum to the new limit");
    CHECK(oa_hpack_decoder_set_limit(&d, 100) == 0 && d.update_due && d.size <= 100 && d.count == 1,
          "a smaller limit evicts at once (size %u, %u entries)", d.size, d.count);
    CHECK(decode_hex(&d, "82", &l) == -1, "then a block not starting with a size update is refused");
    oa_hpack_decoder_release(&d);

    oa_hpack_decoder_init(&d, 4096);
    decode_hex(&d, "828684410f7777772e6578616d706c652e636f6d", &l);
    oa_hpack_decoder_set_limit(&d, 100);
    CHECK(decode_hex(&d, "3f45 be", &l) == 0 && strcmp(l.text, ":authority: www.example.com\n") == 0 &&
              !d.update_due,
          "a block starting with an update to the new limit is decoded");
    CHECK(decode_hex(&d, "3f46", &l) == -1, "an update above the new limit is refused");
    oa_hpack_decoder_release(&d);

    oa_hpack_decoder_init(&d, 4096);
    CHECK(oa_hpack_decoder_set_limit(&d, OA_HPACK_TABLE_MAX + 1) == -1 && d.failed,
          "set_limit above %u: the decoder is failed", OA_HPACK_TABLE_MAX);
    oa_hpack_decoder_release(&d);
}

/* ---- long strings ------------------------------------------------------- */

static size_t put_length(uint8_t *out, bool huffman, uint32_t len)
{
    return oa_hpack_int_encode(out, 8, huffman ? 0x80 : 0x00, 7, len);
}

/* A literal without indexing, new name "x-big", whose value is `count`
 * 'a's, Huffman-coded ('a' is 00011) or not. */
static size_t big_block(uint8_t *out, size_t count, bool huffman)
{
    size_t n = 0;
    out[n++] = 0x00;
    n += put_length(out + n, false, 5);
    memcpy(out + n, "x-big", 5);
    n += 5;
    if (!huffman) {
        n += put_length(out + n, false, (uint32_t)count);
        memset(out + n, 'a', count);
        return n + count;
    }
    size_t bytes = (count * 5 + 7) / 8;
    n += put_length(out + n, true, (uint32_t)bytes);
    memset(out + n, 0, bytes);
    for (size_t i = 0; i < count; i++)
        for (size_t b = 0; b < 5; b++)
            if ((0x03 >> (4 - b)) & 1)
                out[n + (i * 5 + b) / 8] |= (uint8_t)(0x80 >> ((i * 5 + b) % 8));
    for (size_t bit = count * 5; bit < bytes * 8; bit++)
        out[n + bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
    return n + bytes;
}

struct big_seen {
    size_t value_len;
    bool all_a;
};

static void see_big(void *arg, const struct oa_hpack_field *f)
{
    struct big_seen *s = arg;
    s->value_len = f->value_len;
    s->all_a = true;
    for (size_t i = 0; i < f->value_len; i++)
        s->all_a &= f->value[i] == 'a';
}

static void test_long_strings(void)
{
    static uint8_t block[80000];
    struct oa_hpack_decoder d;
    static const size_t sizes[] = {16384, 70000};
    for (int h = 0; h < 2; h++) {
        for (size_t i = 0; i < 2; i++) {
            struct big_seen s = {0, false};
            oa_hpack_decoder_init(&d, 4096);
            size_t n = big_block(block, sizes[i], h);
            int rc = oa_hpack_decode_block(&d, block, n, see_big, &s);
            bool want = !h || sizes[i] == 16384;
            CHECK(want ? rc == 0 && s.value_len == sizes[i] && s.all_a : rc == -1,
                  "a %zu-byte value, %s: %s", sizes[i], h ? "Huffman" : "plain", want ? "decoded" : "refused");
            if (h && want)
                CHECK(d.scratch_cap <= 32768, "its scratch space: %u bytes", d.scratch_cap);
            oa_hpack_decoder_release(&d);
        }
    }
}

/* ---- Huffman: every symbol ---------------------------------------------- */

static void test_huffman_symbols(void)
{
    char text[256 * 3], back[sizeof(text) * 8 / 5 + 2];
    uint8_t coded[sizeof(text) * 4];
    int ok = 1;
    /* every symbol alone (1 to 30 bits: every padding length), then all of
     * them in a row and in reverse */
    for (int sym = 0; sym < 256; sym++) {
        text[0] = (char)sym;
        size_t n = oa_hpack_huffman_encode(text, 1, coded, sizeof(coded));
        long m = oa_hpack_huffman_decode(coded, n, back);
        EXPECT(ok, n == oa_hpack_huffman_encoded_len(text, 1) && m == 1 && back[0] == (char)sym, "symbol %d", sym);
    }
    for (int i = 0; i < 256; i++) {
        text[i] = (char)i;
        text[256 + i] = (char)(255 - i);
        text[512 + i] = (char)(i * 7);
    }
    size_t n = oa_hpack_huffman_encode(text, sizeof(text), coded, sizeof(coded));
    long m = oa_hpack_huffman_decode(coded, n, back);
    EXPECT(ok, n > 0 && m == (long)sizeof(text) && memcmp(back, text, sizeof(text)) == 0, "all symbols: %ld", m);
    CHECK(ok, "every one of the 256 symbols round-trips through the Huffman code, alone and in a row");
    uint8_t small[4];
    CHECK(oa_hpack_huffman_encode("www.example.com", 15, small, sizeof(small)) == 0, "no room: nothing encoded");
    n = oa_hpack_huffman_encode("www.example.com", 15, coded, sizeof(coded));
    uint8_t want[12];
    unhex("f1e3c2e5f23a6ba0ab90f4ff", want, sizeof(want));
    CHECK(n == 12 && memcmp(coded, want, 12) == 0, "www.example.com encodes as in RFC 7541 C.4.1");
}

/* ---- the dynamic table against a model ------------------------------- */

struct model_entry {
    char name[40], value[80];
    size_t name_len, value_len;
};

static struct model_entry model[256];
static size_t model_count;
static uint32_t model_size;

static void model_insert(const char *name, size_t nl, const char *value, size_t vl, uint32_t max)
{
    uint32_t sz = (uint32_t)(nl + vl + 32);
    while (model_count && model_size + sz > max) {
        model_count--;
        model_size -= (uint32_t)(model[model_count].name_len + model[model_count].value_len + 32);
    }
    if (sz > max)
        return;
    memmove(model + 1, model, model_count * sizeof(model[0]));
    memcpy(model[0].name, name, nl);
    memcpy(model[0].value, value, vl);
    model[0].name_len = nl;
    model[0].value_len = vl;
    model_count++;
    model_size += sz;
}

static void test_table_model(void)
{
    struct oa_hpack_decoder d;
    struct listing l;
    uint8_t block[256];
    int ok = 1;
    srand(7);
    const uint32_t max = 300; /* a few entries: the ring wraps often */
    oa_hpack_decoder_init(&d, max);
    model_count = model_size = 0;
    for (int round = 0; round < 20000 && ok; round++) {
        size_t n = 0;
        char want[256];
        int kind = rand() % 3;
        if (kind == 0 || model_count == 0) {
            /* a new entry: literal with indexing, new name or a dynamic name */
            char name[40], value[80];
            size_t nl, vl = (size_t)(rand() % 70);
            for (size_t i = 0; i < vl; i++)
                value[i] = (char)('a' + rand() % 26);
            if (model_count && rand() % 2) {
                size_t k = (size_t)rand() % model_count;
                nl = model[k].name_len;
                memcpy(name, model[k].name, nl);
                n += oa_hpack_int_encode(block + n, 8, 0x40, 6, (uint32_t)(62 + k));
            } else {
                nl = 1 + (size_t)(rand() % 30);
                for (size_t i = 0; i < nl; i++)
                    name[i] = (char)('a' + rand() % 26);
                block[n++] = 0x40;
                block[n++] = (uint8_t)nl;
                memcpy(block + n, name, nl);
                n += nl;
            }
            block[n++] = (uint8_t)vl;
            memcpy(block + n, value, vl);
            n += vl;
            snprintf(want, sizeof(want), "%.*s: %.*s\n", (int)nl, name, (int)vl, value);
            model_insert(name, nl, value, vl, max);
        } else {
            size_t k = (size_t)rand() % model_count;
            block[n++] = (uint8_t)(0x80 | (62 + k));
            snprintf(want, sizeof(want), "%.*s: %.*s\n", (int)model[k].name_len, model[k].name,
                     (int)model[k].value_len, model[k].value);
        }
        memset(&l, 0, sizeof(l));
        int rc = oa_hpack_decode_block(&d, block, n, list_field, &l);
        EXPECT(ok, rc == 0 && strcmp(l.text, want) == 0, "round %d: got %.*s, want %.*s", round,
               (int)strcspn(l.text, "\n"), l.text, (int)strcspn(want, "\n"), want);
        EXPECT(ok, d.count == model_count && d.size == model_size && d.size <= max,
               "round %d: %u entries, size %u; model %zu, %u", round, d.count, d.size, model_count, model_size);
    }
    CHECK(ok, "20000 random insertions and references into a 300-byte table match a plain model");
    oa_hpack_decoder_release(&d);
}

/* ---- the injection literal -------------------------------------------- */

/* ---- values the consumer does not read ------------------------------- */

static bool wants_pseudo(void *arg, const char *name, size_t name_len)
{
    (void)arg;
    return name_len > 0 && name[0] == ':';
}

static int decode_wanted(struct oa_hpack_decoder *d, const char *hex, struct listing *l)
{
    static uint8_t block[1024];
    size_t n = unhex(hex, block, sizeof(block));
    memset(l, 0, sizeof(*l));
    return oa_hpack_decode_block_wanted(d, block, n, list_field, wants_pseudo, l);
}

static void test_unwanted_values(void)
{
    struct oa_hpack_decoder d;
    struct listing l;
    CHECK(oa_hpack_decoder_init(&d, 4096) == 0, "decoder");
    /* :authority (static 1) and server (static 54), both literals without
     * indexing, Huffman "www.example.com" (C.4.1's 12 octets) */
    CHECK(decode_wanted(&d, "018cf1e3c2e5f23a6ba0ab90f4ff" "0f278cf1e3c2e5f23a6ba0ab90f4ff", &l) == 0 &&
              strcmp(l.text, ":authority: www.example.com\nserver: \n") == 0 && l.skipped == 12 * 8 / 5,
          "a wanted value decoded, an unwanted one not (empty)");
    /* an unwanted value that is not valid Huffman, not indexed: no table
     * changes, so the block still decodes */
    CHECK(decode_wanted(&d, "0f2781ff", &l) == 0 && l.fields == 1, "an unwanted invalid value left alone");
    CHECK(decode_hex(&d, "0f2781ff", &l) == -1, "the same block decoded in full fails");
    oa_hpack_decoder_release(&d);
    CHECK(oa_hpack_decoder_init(&d, 4096) == 0, "decoder");
    /* with incremental indexing (0x76: static name 54): decoded whatever
     * the consumer reads, since the table keeps it */
    CHECK(decode_wanted(&d, "768cf1e3c2e5f23a6ba0ab90f4ff", &l) == 0 && strcmp(l.text, "server: www.example.com\n") == 0 &&
              strcmp(table_text(&d), "server: www.example.com\n") == 0,
          "an indexed literal's value decoded and kept in the table");
    oa_hpack_decoder_release(&d);
}

static void test_literal_encoder(void)
{
    static const char tp[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    uint8_t out[128];
    size_t n = oa_hpack_literal_without_indexing(out, sizeof(out), "traceparent", 11, tp, 55);
    uint8_t want[69];
    want[0] = 0x00;
    want[1] = 0x0b;
    memcpy(want + 2, "traceparent", 11);
    want[13] = 0x37;
    memcpy(want + 14, tp, 55);
    CHECK(n == 69 && memcmp(out, want, 69) == 0, "traceparent: the 69-byte literal without indexing (%zu)", n);
    int ok = 1;
    for (size_t cap = 0; cap < 69; cap++)
        EXPECT(ok, oa_hpack_literal_without_indexing(out, cap, "traceparent", 11, tp, 55) == 0, "cap %zu", cap);
    CHECK(ok, "every cap below 69 writes nothing");

    struct oa_hpack_decoder d;
    struct listing l = {0};
    oa_hpack_decoder_init(&d, 4096);
    n = oa_hpack_literal_without_indexing(out, sizeof(out), "traceparent", 11, tp, 55);
    CHECK(oa_hpack_decode_block(&d, out, n, list_field, &l) == 0 &&
              strcmp(l.text, "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n") == 0 &&
              d.count == 0 && d.size == 0,
          "it decodes back, the table untouched");
    oa_hpack_decoder_release(&d);

    /* a value longer than the 7-bit prefix holds */
    static char longv[300];
    static uint8_t buf[400];
    memset(longv, 'v', sizeof(longv));
    n = oa_hpack_literal_without_indexing(buf, sizeof(buf), "baggage", 7, longv, sizeof(longv));
    struct big_seen s = {0, false};
    oa_hpack_decoder_init(&d, 4096);
    CHECK(n == 1 + 1 + 7 + 3 + 300 && oa_hpack_decode_block(&d, buf, n, see_big, &s) == 0 && s.value_len == 300,
          "a 300-byte value round-trips (%zu bytes)", n);
    oa_hpack_decoder_release(&d);
}

int main(void)
{
    test_integers();
    test_literal_forms();
    test_requests();
    test_responses();
    test_errors();
    test_limits();
    test_long_strings();
    test_huffman_symbols();
    test_table_model();
    test_literal_encoder();
    test_unwanted_values();
    TEST_DONE();
}
