/* Incremental HTTP/1.x parser: one direction of one connection, fed in
 * whatever pieces the program's reads and writes happen to have.
 *
 * The head is copied into a bounded buffer as it arrives, so that a head split
 * over many reads is parsed once, in place, with pointer+length results. The
 * start line is validated byte by byte as it arrives: the first bytes of a
 * stream decide whether it is HTTP at all, and that decision must come as soon
 * as the bytes allow and never from a prefix that could still be valid. Header
 * lines are only located (one memchr per line) and parsed together when the
 * empty line begins. Bodies are framed, never looked at: data is skipped in
 * bulk. */
#include "protocols/http1/http1_parser.h"
#include "base/pool.h"

#include <stdlib.h>
#include <string.h>

/* Above this a head buffer is shrunk back before the next message, so that
 * one huge head does not pin 64 KiB for the connection's lifetime. */
#define HEAD_BUF_KEEP 4096
#define METHOD_MAX 32
/* RFC 9112 asks for no limit on chunk extensions, but an endless one is an
 * attack, not HTTP. */
#define CHUNK_LINE_MAX 4096
#define CHUNK_SIZE_MAX (1ull << 60)

enum head_phase {
    HP_START_LINE = 0,  /* validating the request or status line */
    HP_LINE_START,      /* a line just ended: header line or empty line next */
    HP_IN_LINE,         /* inside a header line */
    HP_BLANK_LF,        /* the empty line's '\r' was seen, its '\n' is due */
};

enum start_step {
    SL_METHOD = 0,
    SL_TARGET_FIRST,
    SL_TARGET,
    SL_VERSION,         /* "HTTP/1.x", start_count bytes matched */
    SL_STATUS,          /* start_count digits seen */
    SL_REASON,
    SL_LF,
};

enum start_verdict {
    SV_MORE = 0,
    SV_DONE,
    SV_BAD,
};

enum chunk_step {
    CH_SIZE_FIRST = 0,
    CH_SIZE,
    CH_EXT,             /* extensions (or whitespace) up to the end of the size line */
    CH_SIZE_LF,
    CH_DATA,
    CH_DATA_CR,
    CH_DATA_LF,
    CH_TRAILER_LINE_START,
    CH_TRAILER_LINE,
    CH_TRAILER_END_LF,
};

static const char http_version_prefix[] = "HTTP/1.";
#define HTTP_VERSION_PREFIX_LEN (sizeof(http_version_prefix) - 1)

/* Character classes by table: one load per byte instead of a chain of
 * comparisons (the head of every traced request goes through these). */
enum char_class {
    CC_TCHAR = 1,   /* RFC 9110 tchar: "!#$%&'*+-.^_`|~" DIGIT ALPHA */
    CC_VISIBLE = 2, /* printable or obs-text: request target, reason phrase */
    CC_FIELD = 4,   /* visible, SP or HTAB: field values, reason phrase */
    CC_LOWER = 8,   /* lowercase letter, digit, '-': what name_is() compares */
};
#define TV (CC_TCHAR | CC_VISIBLE | CC_FIELD)
#define TL (TV | CC_LOWER)
#define VI (CC_VISIBLE | CC_FIELD)
static const uint8_t char_class[256] = {
    ['\t'] = CC_FIELD, [' '] = CC_FIELD,
    ['!'] = TV, ['"'] = VI, ['#' ... '\''] = TV, ['(' ... ')'] = VI, ['*' ... '+'] = TV,
    [','] = VI, ['-'] = TL, ['.'] = TV, ['/'] = VI, ['0' ... '9'] = TL, [':' ... '@'] = VI,
    ['A' ... 'Z'] = TV, ['[' ... ']'] = VI, ['^' ... '`'] = TV, ['a' ... 'z'] = TL,
    ['{'] = VI, ['|'] = TV, ['}'] = VI, ['~'] = TV, [0x80 ... 0xff] = VI,
};
#undef TV
#undef TL
#undef VI

/* How many bytes from s (at most n) are all of class cls. */
static size_t class_run(const unsigned char *s, size_t n, uint8_t cls)
{
    size_t k = 0;
    while (k < n && (char_class[s[k]] & cls))
        k++;
    return k;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Word at a time: true if some byte of x is below b (b <= 0x80), or is 0x7f.
 * May also flag a word that is fine (a byte >= 0x80 after a low one): the
 * caller then looks at its bytes one by one. */
static bool word_may_hold(uint64_t x, uint8_t below)
{
    uint64_t low = (x - ONES * below) & ~x & HIGHS;
    uint64_t y = x ^ (ONES * 0x7f);
    uint64_t del = (y - ONES) & ~y & HIGHS;
    return (low | del) != 0;
}

/* How many bytes from s (at most n) are all of class cls, eight at a time
 * while no byte can be outside it. Only for CC_VISIBLE (every byte above SP
 * but DEL) and CC_FIELD (the same, with SP and HTAB). Inlined: it runs for
 * the target, the reason and every field value, mostly short, where the call
 * cost as much as the scan. */
static inline __attribute__((always_inline)) size_t long_class_run(const unsigned char *s, size_t n, uint8_t cls)
{
    uint8_t below = cls == CC_VISIBLE ? 0x21 : 0x20;
    size_t k = 0;
    while (k + 8 <= n) {
        uint64_t x;
        memcpy(&x, s + k, 8);
        if (word_may_hold(x, below)) {
            size_t r = class_run(s + k, 8, cls);
            if (r < 8)
                return k + r;
        }
        k += 8;
    }
    /* the last bytes: as the eight ending the run, overlapping bytes already
     * known to be in the class, when there are eight */
    if (k < n && n >= 8) {
        uint64_t x;
        memcpy(&x, s + n - 8, 8);
        if (!word_may_hold(x, below))
            return n;
    }
    return k + class_run(s + k, n - k, cls);
}

/* Whether all n bytes are tchar: the class bits of all of them and-ed, four
 * at a time, with no early exit (names are short). */
static inline __attribute__((always_inline)) bool all_tchar(const unsigned char *s, size_t n)
{
    unsigned all = CC_TCHAR;
    size_t k = 0;
    for (; k + 4 <= n; k += 4)
        all &= char_class[s[k]] & char_class[s[k + 1]] & char_class[s[k + 2]] & char_class[s[k + 3]];
    for (; k < n; k++)
        all &= char_class[s[k]];
    return (all & CC_TCHAR) != 0;
}

/* ---- one pass over a whole head: 16 bytes at a time ----
 *
 * Each function gives, for the 16 bytes at s, a bit per byte that ends a run
 * (bit i for s[i]); the fast path asks only "where is the next such byte".
 *   field stop:  a control byte but HTAB, or DEL: ends a field value or a
 *                reason phrase (CR and LF among them), or makes it invalid
 *   token stop:  a field stop, SP or HTAB: ends the method and the target
 *   name stop:   a control byte or ':': ends a header name
 *   line stop:   '\n': ends a line whose value is not looked at (LIGHT)
 * SSE2 is part of x86-64; elsewhere the same bits come from the class table. */
enum stop_set {
    STOP_FIELD = 0,
    STOP_TOKEN,
    STOP_NAME,
    STOP_LINE,
};

#if defined(__SSE2__)
#include <emmintrin.h>

static inline __attribute__((always_inline)) unsigned block_stops(const unsigned char *s, enum stop_set set)
{
    __m128i x = _mm_loadu_si128((const void *)s);
    if (set == STOP_LINE)
        return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));
    __m128i del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f));
    if (set == STOP_TOKEN) {
        /* unsigned x <= 0x20: min(x, 0x20) == x */
        __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x20)), x);
        return (unsigned)_mm_movemask_epi8(_mm_or_si128(low, del));
    }
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
    __m128i tab = _mm_cmpeq_epi8(x, _mm_set1_epi8('\t'));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_andnot_si128(tab, ctl), del));
}
/* For a header name: its ':' or any control byte (HTAB too: no name holds
 * one). DEL needs no bit: neither a known name nor all_tchar() accepts it. */
static inline __attribute__((always_inline)) unsigned block_name_stops(const unsigned char *s)
{
    __m128i x = _mm_loadu_si128((const void *)s);
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(ctl, _mm_cmpeq_epi8(x, _mm_set1_epi8(':'))));
}
#else
static unsigned block_name_stops(const unsigned char *s)
{
    unsigned bits = 0;
    for (unsigned i = 0; i < 16; i++)
        bits |= (unsigned)(s[i] < 0x20 || s[i] == ':') << i;
    return bits;
}

static unsigned block_stops(const unsigned char *s, enum stop_set set)
{
    unsigned bits = 0;
    for (unsigned i = 0; i < 16; i++) {
        unsigned char c = s[i];
        bool stop = !(char_class[c] & CC_FIELD);
        if (set == STOP_LINE)
            stop = c == '\n';
        else if (set == STOP_TOKEN)
            stop = stop || c == ' ' || c == '\t';
        bits |= (unsigned)stop << i;
    }
    return bits;
}
#endif

/* Whether the n bytes at s + k (n <= 16, s + k + n <= s + end, end >= 16)
 * are all letters, digits or '-': what almost every header name is made of,
 * checked 16 at a time. False says nothing: then all_tchar() decides. */
static inline __attribute__((always_inline)) bool plain_name(const unsigned char *s, size_t k, size_t n,
                                                             size_t end)
{
#if defined(__SSE2__)
    if (n > 16)
        return false;
    /* the 16 bytes from k, or the last 16 of the buffer (then the name is
     * at their end) */
    size_t at = k + 16 <= end ? k : end - 16;
    unsigned shift = (unsigned)(k - at);
    __m128i x = _mm_loadu_si128((const void *)(s + at));
    /* signed compares: bytes >= 0x80 are negative, in no range */
    __m128i y = _mm_or_si128(x, _mm_set1_epi8(0x20));
    __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(y, _mm_set1_epi8('a' - 1)),
                                  _mm_cmplt_epi8(y, _mm_set1_epi8('z' + 1)));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
    __m128i plain = _mm_or_si128(_mm_or_si128(alpha, digit), _mm_cmpeq_epi8(x, _mm_set1_epi8('-')));
    unsigned bits = (unsigned)_mm_movemask_epi8(plain) >> shift;
    unsigned want = (1u << n) - 1;
    return (bits & want) == want;
#else
    (void)s, (void)k, (void)n, (void)end;
    return false;
#endif
}

/* block_stops / block_name_stops by set */
static inline __attribute__((always_inline)) unsigned stops_of(const unsigned char *s, enum stop_set set)
{
    return set == STOP_NAME ? block_name_stops(s) : block_stops(s, set);
}

/* Index of the first byte of s[k, n) in the stop set, n if none. n >= 16:
 * the last bytes are looked at as the tail of the 16 ending at n, so no load
 * reaches past s + n. */
static inline __attribute__((always_inline)) size_t find_stop(const unsigned char *s, size_t k, size_t n,
                                                              enum stop_set set)
{
    for (; k + 16 <= n; k += 16) {
        unsigned bits = stops_of(s + k, set);
        if (bits)
            return k + (size_t)__builtin_ctz(bits);
    }
    if (k < n) {
        unsigned bits = stops_of(s + n - 16, set) >> (16 - (n - k));
        if (bits)
            return k + (size_t)__builtin_ctz(bits);
    }
    return n;
}

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

static bool equals_nocase(const char *a, size_t a_len, const char *b, size_t b_len)
{
    if (a_len != b_len)
        return false;
    for (size_t i = 0; i < a_len; i++) {
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    }
    return true;
}

/* A header name (tchar only) against a name in lowercase letters, digits and
 * '-': setting bit 0x20 lowercases a letter, and no other tchar becomes one of
 * those characters that way, so eight bytes are compared at a time. */
static inline __attribute__((always_inline)) bool name_is(const char *a, size_t a_len, const char *lower,
                                                           size_t len)
{
    uint64_t x;
    uint64_t y;
    size_t i = 0;

    if (a_len != len)
        return false;
    if (len >= 8) {
        for (; i + 8 <= len; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, lower + i, 8);
            if ((x | ONES * 0x20) != y)
                return false;
        }
        if (i == len)
            return true;
        /* the last eight bytes, overlapping what was compared */
        memcpy(&x, a + len - 8, 8);
        memcpy(&y, lower + len - 8, 8);
        return (x | ONES * 0x20) == y;
    }
    if (len >= 4) {
        /* the first four and the last four, overlapping ("host": one word) */
        uint32_t a4, b4;
        memcpy(&a4, a, 4);
        memcpy(&b4, lower, 4);
        if ((a4 | 0x20202020u) != b4)
            return false;
        memcpy(&a4, a + len - 4, 4);
        memcpy(&b4, lower + len - 4, 4);
        return (a4 | 0x20202020u) == b4;
    }
    for (; i < len; i++)
        if (((unsigned char)a[i] | 0x20) != (unsigned char)lower[i])
            return false;
    return true;
}

_Static_assert(OA_HTTP1_MAX_HEADERS < 255, "known_count holds a header count in a byte");
_Static_assert(OA_HTTP1_HEAD_MAX <= 65536, "struct oa_http1_field holds offsets into the head in 16 bits");

/* Appends a header (all offsets < OA_HTTP1_HEAD_MAX) to a head whose bytes
 * are at base; the first of each known name is also kept ready to read. */
static inline __attribute__((always_inline)) void add_header(struct oa_http1_head *h, const char *base,
                                                             size_t name_at, size_t name_len,
                                                             size_t value_at, size_t value_len,
                                                             enum oa_http1_known id)
{
    struct oa_http1_field *f = &h->fields[h->n_headers];
    f->name_at = (uint16_t)name_at;
    f->name_len = (uint16_t)name_len;
    f->value_at = (uint16_t)value_at;
    f->value_len = (uint16_t)value_len;
    h->known[h->n_headers] = (uint8_t)id;
    h->n_headers++;
    if (id != OA_HTTP1_H_OTHER && h->known_count[id]++ == 0) {
        struct oa_http1_header *first = &h->known_first[id];
        first->name = base + name_at;
        first->name_len = name_len;
        first->value = base + value_at;
        first->value_len = value_len;
    }
}

#define NAME_IS(name, name_len, lit) name_is(name, name_len, lit, sizeof(lit) - 1)

/* the prefix of OA_HTTP1_H_UBERCTX's names */
#define UBERCTX_LEN 8

/* name_id(): a name matched one of the names it lists, so it is valid (all
 * tchar: see name_is()) with no other test. */
#define NAME_LISTED 0x80u

/* Which of the headers the shim reads this name is (the low bits: enum
 * oa_http1_known), and NAME_LISTED when it is that one or one of the names
 * most heads carry: those need no byte-by-byte check. By its length first, so
 * most names are settled with one or two word compares. The name may hold any
 * byte but a control byte or ':' (see name_is()). */
static inline __attribute__((always_inline)) unsigned name_id(const char *name, size_t len)
{
#define LISTED(lit, id) \
    if (NAME_IS(name, len, lit)) \
        return NAME_LISTED | (id)
    switch (len) {
    case 2:
        LISTED("b3", OA_HTTP1_H_B3);
        break;
    case 4:
        LISTED("host", OA_HTTP1_H_HOST);
        LISTED("date", OA_HTTP1_H_OTHER);
        LISTED("etag", OA_HTTP1_H_OTHER);
        LISTED("vary", OA_HTTP1_H_OTHER);
        break;
    case 6:
        LISTED("server", OA_HTTP1_H_OTHER);
        LISTED("accept", OA_HTTP1_H_OTHER);
        LISTED("cookie", OA_HTTP1_H_OTHER);
        LISTED("origin", OA_HTTP1_H_OTHER);
        break;
    case 7:
        LISTED("baggage", OA_HTTP1_H_BAGGAGE);
        LISTED("expires", OA_HTTP1_H_OTHER);
        LISTED("referer", OA_HTTP1_H_OTHER);
        LISTED("upgrade", OA_HTTP1_H_UPGRADE);
        break;
    case 8:
        LISTED("location", OA_HTTP1_H_OTHER);
        break;
    case 10:
        LISTED("connection", OA_HTTP1_H_CONNECTION);
        LISTED("user-agent", OA_HTTP1_H_USER_AGENT);
        LISTED("tracestate", OA_HTTP1_H_TRACESTATE);
        LISTED("keep-alive", OA_HTTP1_H_OTHER);
        LISTED("set-cookie", OA_HTTP1_H_OTHER);
        LISTED("x-b3-flags", OA_HTTP1_H_X_B3_FLAGS);
        break;
    case 11:
        LISTED("traceparent", OA_HTTP1_H_TRACEPARENT);
        LISTED("x-b3-spanid", OA_HTTP1_H_X_B3_SPANID);
        break;
    case 12:
        LISTED("content-type", OA_HTTP1_H_OTHER);
        LISTED("x-b3-traceid", OA_HTTP1_H_X_B3_TRACEID);
        LISTED("x-b3-sampled", OA_HTTP1_H_X_B3_SAMPLED);
        break;
    case 13:
        LISTED("last-modified", OA_HTTP1_H_OTHER);
        LISTED("accept-ranges", OA_HTTP1_H_OTHER);
        LISTED("cache-control", OA_HTTP1_H_OTHER);
        LISTED("authorization", OA_HTTP1_H_OTHER);
        LISTED("uber-trace-id", OA_HTTP1_H_UBER_TRACE_ID);
        break;
    case 14:
        LISTED("content-length", OA_HTTP1_H_CONTENT_LENGTH);
        break;
    case 15:
        LISTED("x-forwarded-for", OA_HTTP1_H_X_FORWARDED_FOR);
        LISTED("accept-encoding", OA_HTTP1_H_OTHER);
        LISTED("accept-language", OA_HTTP1_H_OTHER);
        break;
    case 16:
        LISTED("content-encoding", OA_HTTP1_H_OTHER);
        break;
    case 17:
        LISTED("transfer-encoding", OA_HTTP1_H_TRANSFER_ENCODING);
        break;
    default:
        break;
    }
#undef LISTED
    /* Jaeger's baggage, a header per key: its name is checked by the caller */
    if (len > UBERCTX_LEN && ((unsigned char)name[0] | 0x20) == 'u' &&
        name_is(name, UBERCTX_LEN, "uberctx-", UBERCTX_LEN))
        return OA_HTTP1_H_UBERCTX;
    return OA_HTTP1_H_OTHER;
}

/* Which of the headers the shim reads this (valid, tchar-only) name is. */
static inline __attribute__((always_inline)) enum oa_http1_known known_header(const char *name, size_t len)
{
    return (enum oa_http1_known)(name_id(name, len) & ~NAME_LISTED);
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* The stream is lost: nothing will be parsed on it again. */
static size_t fail(struct oa_http1_parser *p, size_t consumed, enum oa_http1_event kind,
                   enum oa_http1_event *ev)
{
    p->state = OA_HTTP1_S_DEAD;
    *ev = kind;
    return consumed;
}

static size_t message_done(struct oa_http1_parser *p, size_t consumed, enum oa_http1_event *ev)
{
    p->state = p->opaque_after_message ? OA_HTTP1_S_OPAQUE : OA_HTTP1_S_START;
    p->opaque_after_message = false;
    *ev = OA_HTTP1_MESSAGE_DONE;
    return consumed;
}

/* ---- work area ---- */

/* The work areas of parsers with no caller to attach one (the exporter's
 * re-parser, tests): lock-free like every pool, so a head's first byte on a
 * program's thread never waits. */
static struct oa_pool work_pool = OA_POOL_INIT(sizeof(struct oa_http1_work), 16, 1024);

static bool take_work(struct oa_http1_parser *p)
{
    p->work = oa_pool_get(&work_pool);
    if (p->work == NULL)
        return false;
    p->work_owned = true;
    p->work->head.n_headers = 0;
    p->work->head.base = NULL;
    return true;
}

/* A long head's buffer goes with the work area (it outgrew its inline bytes). */
static void drop_head_buffer(struct oa_http1_parser *p)
{
    if (p->head_buf != NULL && (p->work == NULL || p->head_buf != p->work->head_inline))
        free(p->head_buf);
    p->head_buf = NULL;
    p->head_len = 0;
    p->head_cap = 0;
}

void oa_http1_attach(struct oa_http1_parser *p, struct oa_http1_work *w)
{
    p->work = w;
    p->work_owned = false;
    w->head.n_headers = 0;
    w->head.base = NULL;
}

struct oa_http1_work *oa_http1_park(struct oa_http1_parser *p)
{
    struct oa_http1_work *w = p->work;
    drop_head_buffer(p);
    p->work = NULL;
    if (w != NULL && p->work_owned) {
        oa_pool_put(&work_pool, w);
        w = NULL;
    }
    p->work_owned = false;
    return w;
}

/* ---- head buffer ---- */

static bool head_append(struct oa_http1_parser *p, const char *bytes, size_t n)
{
    size_t need = p->head_len + n;
    if (n == 0)
        return true;
    if (p->head_buf == NULL) {
        p->head_buf = p->work->head_inline;
        p->head_cap = sizeof(p->work->head_inline);
    }
    if (need > p->head_cap) {
        /* a long head: only these pay for an allocation */
        size_t cap = p->head_cap;
        while (cap < need)
            cap *= 2;
        if (cap > OA_HTTP1_HEAD_MAX)
            cap = OA_HTTP1_HEAD_MAX;
        bool was_inline = p->head_buf == p->work->head_inline;
        char *grown = realloc(was_inline ? NULL : p->head_buf, cap);
        if (!grown)
            return false;
        if (was_inline)
            memcpy(grown, p->work->head_inline, p->head_len);
        p->head_buf = grown;
        p->head_cap = cap;
    }
    memcpy(p->head_buf + p->head_len, bytes, n);
    p->head_len = need;
    return true;
}

/* A head with nothing parsed yet; its header slots are written before they
 * are read (n_headers, known_count guard them) and are left as they are. */
static void head_clear(struct oa_http1_head *h)
{
    h->method = NULL;
    h->method_len = 0;
    h->target = NULL;
    h->target_len = 0;
    h->status = 0;
    h->version_minor = 0;
    h->n_headers = 0;
    memset(h->known_count, 0, sizeof(h->known_count));
    h->chunked = false;
    h->has_content_length = false;
    h->content_length = 0;
    h->connection_close = false;
}

static void begin_message(struct oa_http1_parser *p)
{
    if (p->head_cap > HEAD_BUF_KEEP) {
        char *shrunk = realloc(p->head_buf, HEAD_BUF_KEEP);
        if (shrunk) {
            p->head_buf = shrunk;
            p->head_cap = HEAD_BUF_KEEP;
        }
    }
    p->head_len = 0;
    p->start_line_len = 0;
    p->head_parsed = false;
    p->head_phase = HP_START_LINE;
    p->start_step = p->direction == OA_HTTP1_REQUESTS ? SL_METHOD : SL_VERSION;
    p->start_count = 0;
    p->opaque_after_message = false;

    head_clear(&p->work->head);
    p->state = OA_HTTP1_S_HEAD;
}

/* ---- start line ---- */

/* Validates the next bytes of the start line. Returns how many bytes belong
 * to it: through the '\n' for SV_DONE, all of them for SV_MORE, the bytes
 * before the offending one for SV_BAD. */
static size_t scan_start_line(struct oa_http1_parser *p, const unsigned char *s, size_t n,
                              enum start_verdict *verdict)
{
    struct oa_http1_head *h = &p->work->head;
    bool request = p->direction == OA_HTTP1_REQUESTS;
    size_t k = 0;

    /* Runs of bytes of one class (method, target, reason) are taken in one
     * go; the byte that ends a run is then judged like any other. */
    while (k < n) {
        unsigned char c = s[k];
        bool ok = false;
        switch (p->start_step) {
        case SL_METHOD: {
            size_t run = class_run(s + k, min_size(n - k, METHOD_MAX - h->method_len), CC_TCHAR);
            h->method_len += run;
            k += run;
            if (k == n)
                continue;
            c = s[k];
            if (c == ' ' && h->method_len > 0) {
                p->start_step = SL_TARGET_FIRST;
                ok = true;
            }
            break;
        }
        case SL_TARGET_FIRST:
        case SL_TARGET: {
            size_t run = long_class_run(s + k, n - k, CC_VISIBLE);
            if (run > 0) {
                h->target_len += run;
                p->start_step = SL_TARGET;
                k += run;
                if (k == n)
                    continue;
                c = s[k];
            }
            if (c == ' ' && p->start_step == SL_TARGET) {
                p->start_step = SL_VERSION;
                p->start_count = 0;
                ok = true;
            }
            break;
        }
        case SL_VERSION:
            /* the whole "HTTP/1.x" at once when it is all there */
            if (p->start_count == 0 && n - k > HTTP_VERSION_PREFIX_LEN &&
                memcmp(s + k, http_version_prefix, HTTP_VERSION_PREFIX_LEN) == 0 &&
                s[k + HTTP_VERSION_PREFIX_LEN] >= '0' && s[k + HTTP_VERSION_PREFIX_LEN] <= '9') {
                h->version_minor = s[k + HTTP_VERSION_PREFIX_LEN] > '0' ? 1 : 0;
                p->start_count = HTTP_VERSION_PREFIX_LEN + 1;
                k += HTTP_VERSION_PREFIX_LEN + 1;
                continue;
            }
            if (p->start_count < HTTP_VERSION_PREFIX_LEN) {
                ok = c == (unsigned char)http_version_prefix[p->start_count];
            } else if (p->start_count == HTTP_VERSION_PREFIX_LEN) {
                /* A higher minor version is handled as the highest we know. */
                ok = c >= '0' && c <= '9';
                h->version_minor = c > '0' ? 1 : 0;
            } else if (request) {
                if (c == '\r') {
                    p->start_step = SL_LF;
                    ok = true;
                } else if (c == '\n') {
                    *verdict = SV_DONE;
                    return k + 1;
                }
            } else if (c == ' ') {
                p->start_step = SL_STATUS;
                p->start_count = 0;
                ok = true;
                break;
            }
            p->start_count++;
            break;
        case SL_STATUS:
            if (p->start_count < 3) {
                ok = c >= '0' && c <= '9' && (p->start_count > 0 || c != '0');
                h->status = h->status * 10 + (c - '0');
                p->start_count++;
            } else if (c == ' ') {
                p->start_step = SL_REASON;
                ok = true;
            } else if (c == '\r') {
                p->start_step = SL_LF;
                ok = true;
            } else if (c == '\n') {
                *verdict = SV_DONE;
                return k + 1;
            }
            break;
        case SL_REASON:
            k += long_class_run(s + k, n - k, CC_FIELD);
            if (k == n)
                continue;
            c = s[k];
            if (c == '\r') {
                p->start_step = SL_LF;
                ok = true;
            } else if (c == '\n') {
                *verdict = SV_DONE;
                return k + 1;
            }
            break;
        case SL_LF:
            if (c == '\n') {
                *verdict = SV_DONE;
                return k + 1;
            }
            break;
        default:
            break;
        }
        if (!ok) {
            *verdict = SV_BAD;
            return k;
        }
        k++;
    }
    *verdict = SV_MORE;
    return n;
}

/* ---- complete head ---- */

/* A header line's name: its length, 0 if the line has no valid one. No
 * name, obs-fold (a line starting with whitespace), or whitespace between
 * name and colon: all rejected, as RFC 9112 requires. ':' is no tchar, so
 * the name is valid exactly when every byte before the first ':' is one:
 * found by memchr, then checked without a branch per byte. */
static size_t header_name_len(const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || !all_tchar((const unsigned char *)line, (size_t)(colon - line)))
        return 0;
    return (size_t)(colon - line);
}

/* The value of a header line whose name (name_len bytes, valid) is known. */
static bool parse_header_value(const char *line, size_t len, size_t name_len, struct oa_http1_header *out)
{
    size_t k = name_len;
    out->name = line;
    out->name_len = k;
    k++;
    while (k < len && is_ows((unsigned char)line[k]))
        k++;
    size_t end = len;
    while (end > k && is_ows((unsigned char)line[end - 1]))
        end--;
    if (long_class_run((const unsigned char *)line + k, end - k, CC_FIELD) != end - k)
        return false;
    out->value = line + k;
    out->value_len = end - k;
    return true;
}

/* Calls element() for each non-empty element of a comma-separated list,
 * with OWS around it removed. Stops and returns false when element() does. */
static bool for_each_list_element(const char *s, size_t len,
                                  bool (*element)(const char *e, size_t n, void *ctx), void *ctx)
{
    size_t k = 0;
    while (k <= len) {
        size_t start = k;
        while (k < len && s[k] != ',')
            k++;
        size_t end = k;
        while (start < end && is_ows((unsigned char)s[start]))
            start++;
        while (end > start && is_ows((unsigned char)s[end - 1]))
            end--;
        if (end > start && !element(s + start, end - start, ctx))
            return false;
        k++;
    }
    return true;
}

struct content_length_scan {
    bool seen;
    uint64_t value;
    size_t elements;          /* in the header being scanned */
};

/* RFC 9110 8.6: a list of identical values is the same as one value. */
static bool content_length_element(const char *e, size_t n, void *ctx)
{
    struct content_length_scan *scan = ctx;
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)e[k];
        if (c < '0' || c > '9')
            return false;
        if (v > (UINT64_MAX - (c - '0')) / 10)
            return false;
        v = v * 10 + (c - '0');
    }
    if (n == 0 || (scan->seen && scan->value != v))
        return false;
    scan->elements++;
    scan->seen = true;
    scan->value = v;
    return true;
}

struct coding_scan {
    bool last_is_chunked;
};

static bool coding_element(const char *e, size_t n, void *ctx)
{
    struct coding_scan *scan = ctx;
    size_t name_len = 0;
    while (name_len < n && e[name_len] != ';' && !is_ows((unsigned char)e[name_len]))
        name_len++;
    scan->last_is_chunked = equals_nocase(e, name_len, "chunked", 7);
    return true;
}

struct connection_scan {
    bool close;
    bool keep_alive;
};

static bool connection_element(const char *e, size_t n, void *ctx)
{
    struct connection_scan *scan = ctx;
    if (equals_nocase(e, n, "close", 5))
        scan->close = true;
    else if (equals_nocase(e, n, "keep-alive", 10))
        scan->keep_alive = true;
    return true;
}

/* Fills in the framing fields of the head and decides where HEAD_DONE leads. */
/* A single Content-Length that is a plain number of at most 19 digits (no
 * overflow possible): the common case, read without the list walk. */
static bool plain_number(const char *s, size_t n, uint64_t *value)
{
    uint64_t v = 0;
    if (n == 0 || n > 19)
        return false;
    for (size_t k = 0; k < n; k++) {
        unsigned digit = (unsigned)((unsigned char)s[k] - '0');
        if (digit > 9)
            return false;
        v = v * 10 + digit;
    }
    *value = v;
    return true;
}

struct framing_scan {
    struct content_length_scan length;
    struct coding_scan coding;
    struct connection_scan connection;
};

/* The general walk over every header of the framing kinds asked for: lists,
 * repeated headers, Transfer-Encoding. */
__attribute__((noinline)) static bool walk_framing_lists(const struct oa_http1_head *h, bool walk_length,
                                                        bool walk_connection, struct framing_scan *scan)
{
    for (size_t i = 0; i < h->n_headers; i++) {
        const char *value = h->base + h->fields[i].value_at;
        size_t value_len = h->fields[i].value_len;
        if (h->known[i] == OA_HTTP1_H_CONTENT_LENGTH && walk_length) {
            scan->length.elements = 0;
            if (!for_each_list_element(value, value_len, content_length_element, &scan->length))
                return false;
            if (scan->length.elements == 0)
                return false;
        } else if (h->known[i] == OA_HTTP1_H_TRANSFER_ENCODING) {
            for_each_list_element(value, value_len, coding_element, &scan->coding);
        } else if (h->known[i] == OA_HTTP1_H_CONNECTION && walk_connection) {
            for_each_list_element(value, value_len, connection_element, &scan->connection);
        }
    }
    return true;
}

/* Inlined in both callers: for most heads it is a few tests. */
static inline __attribute__((always_inline)) bool derive_framing(struct oa_http1_parser *p)
{
    struct oa_http1_head *h = &p->work->head;
    struct framing_scan scan;
    /* Nearly every head: no Transfer-Encoding, no Connection, at most one
     * Content-Length, a plain number. What the general code below decides
     * for it, in a few tests. */
    if ((h->known_count[OA_HTTP1_H_TRANSFER_ENCODING] | h->known_count[OA_HTTP1_H_CONNECTION]) == 0 &&
        h->known_count[OA_HTTP1_H_CONTENT_LENGTH] <= 1) {
        uint64_t length = 0;
        bool seen = h->known_count[OA_HTTP1_H_CONTENT_LENGTH] != 0;
        const struct oa_http1_header *f = &h->known_first[OA_HTTP1_H_CONTENT_LENGTH];
        if (!seen || plain_number(f->value, f->value_len, &length)) {
            h->has_content_length = seen;
            h->content_length = length;
            h->chunked = false;
            h->connection_close = h->version_minor == 0;
            p->body_state = OA_HTTP1_S_BODY_LENGTH;
            p->body_remaining = 0;
            if (p->direction == OA_HTTP1_RESPONSES) {
                if (h->status < 200 || h->status == 204 || h->status == 304) {
                    p->opaque_after_message = h->status == 101;
                    return true;
                }
                if (!seen) {
                    p->body_state = OA_HTTP1_S_BODY_UNTIL_CLOSE;
                    return true;
                }
            }
            p->body_remaining = length;
            return true;
        }
    }
    bool has_transfer_encoding = h->known_count[OA_HTTP1_H_TRANSFER_ENCODING] > 0;
    /* The usual forms first: one Content-Length with one number, one
     * Connection with one token. Field values hold no control bytes, so
     * name_is() compares them exactly as equals_nocase() would. Lists and
     * repeated headers take the general walk. */
    bool walk_length = false;
    bool walk_connection = false;
    scan.length.seen = false;
    scan.length.value = 0;
    scan.coding.last_is_chunked = false;
    scan.connection.close = false;
    scan.connection.keep_alive = false;
    if (h->known_count[OA_HTTP1_H_CONTENT_LENGTH]) {
        const struct oa_http1_header *f = &h->known_first[OA_HTTP1_H_CONTENT_LENGTH];
        walk_length = h->known_count[OA_HTTP1_H_CONTENT_LENGTH] > 1 ||
                      !plain_number(f->value, f->value_len, &scan.length.value);
        scan.length.seen = !walk_length;
    }
    if (h->known_count[OA_HTTP1_H_CONNECTION]) {
        const struct oa_http1_header *f = &h->known_first[OA_HTTP1_H_CONNECTION];
        if (h->known_count[OA_HTTP1_H_CONNECTION] > 1)
            walk_connection = true;
        else if (NAME_IS(f->value, f->value_len, "keep-alive"))
            scan.connection.keep_alive = true;
        else if (NAME_IS(f->value, f->value_len, "close"))
            scan.connection.close = true;
        else
            walk_connection = true;
    }
    if ((walk_length || walk_connection || has_transfer_encoding) &&
        !walk_framing_lists(h, walk_length, walk_connection, &scan))
        return false;
    struct content_length_scan length = scan.length;
    struct coding_scan coding = scan.coding;
    struct connection_scan connection = scan.connection;
    h->has_content_length = length.seen;
    h->content_length = length.value;
    h->chunked = has_transfer_encoding && coding.last_is_chunked;
    h->connection_close = connection.close || (h->version_minor == 0 && !connection.keep_alive);

    p->body_remaining = 0;
    if (p->direction == OA_HTTP1_RESPONSES) {
        if (h->status < 200 || h->status == 204 || h->status == 304) {
            p->body_state = OA_HTTP1_S_BODY_LENGTH;
            p->opaque_after_message = h->status == 101;
            return true;
        }
    } else if (has_transfer_encoding && !h->chunked) {
        /* RFC 9112 6.3: a request body of unknown length cannot be framed. */
        return false;
    }
    /* Transfer-Encoding overrides Content-Length (RFC 9112 6.3 item 3). */
    if (h->chunked) {
        p->body_state = OA_HTTP1_S_BODY_CHUNKED;
    } else if (has_transfer_encoding || (!length.seen && p->direction == OA_HTTP1_RESPONSES)) {
        p->body_state = OA_HTTP1_S_BODY_UNTIL_CLOSE;
    } else {
        p->body_state = OA_HTTP1_S_BODY_LENGTH;
        p->body_remaining = length.value;
    }
    return true;
}

/* feed_head's fast path did not apply: the general path takes the bytes */
#define NOT_WHOLE ((size_t)-1)

/* ---- LIGHT: only the lines that may be a header the shim reads ----
 *
 * The program's threads read nothing of a head but its start line, its
 * framing and the headers of enum oa_http1_known, whose names begin with
 * h, t, b, u, x or c. A header line beginning with any other letter is
 * neither checked nor kept: it costs its first byte and its '\n'. A line
 * beginning with one of those letters is compared with the known names of
 * that letter, and only a known header's value is checked and kept. The
 * exporter's FULL parse of the head (or the peer) judges the rest. */
enum line_start {
    LS_SKIP = 0,        /* cannot be a header the shim reads */
    LS_B, LS_C, LS_H, LS_T, LS_U, LS_X, /* the first letter of known names */
    LS_EMPTY,           /* CR or LF: the empty line that ends the head */
    LS_BAD,             /* a control byte, SP or HTAB: no header name at all.
                         * Refused as in FULL: a line beginning with SP or
                         * HTAB continues the previous one (obs-fold), which
                         * may be a header the shim reads. */
};
static const uint8_t line_start[256] = {
    [0 ... '\t'] = LS_BAD, ['\n'] = LS_EMPTY, ['\v' ... '\f'] = LS_BAD, ['\r'] = LS_EMPTY,
    [0x0e ... ' '] = LS_BAD,
    ['B'] = LS_B, ['C'] = LS_C, ['H'] = LS_H, ['T'] = LS_T, ['U'] = LS_U, ['X'] = LS_X,
    ['b'] = LS_B, ['c'] = LS_C, ['h'] = LS_H, ['t'] = LS_T, ['u'] = LS_U, ['x'] = LS_X,
};

/* Whether the len bytes at a are the name lower (lowercase letters and '-')
 * in any case: a letter may differ from lower's only in bit 0x20 (which
 * lower's letters mark with bit 0x40), a '-' not at all, so no other byte
 * passes for either. Words of 8 (or 4) bytes, the last one overlapping. */
static inline __attribute__((always_inline)) bool name_at_is(const unsigned char *a, const char *lower, size_t len)
{
    if (len >= 8) {
        uint64_t x, y;
        for (size_t i = 0; i + 8 <= len; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, lower + i, 8);
            if ((x ^ y) & ~((y & ONES * 0x40) >> 1))
                return false;
        }
        memcpy(&x, a + len - 8, 8);
        memcpy(&y, lower + len - 8, 8);
        return !((x ^ y) & ~((y & ONES * 0x40) >> 1));
    }
    uint32_t x, y, z;
    memcpy(&x, a, 4);
    memcpy(&y, lower, 4);
    memcpy(&z, a + len - 4, 4);
    uint32_t w;
    memcpy(&w, lower + len - 4, 4);
    return !((x ^ y) & ~((y & 0x40404040u) >> 1)) && !((z ^ w) & ~((w & 0x40404040u) >> 1));
}

/* The line at a (avail bytes readable from a) begins with the name lit
 * and its ':'. A name's bytes are letters and '-', so no '\n' comes before
 * the ':': the name is within the line, wherever that ends. */
#define LINE_NAMES(a, avail, lit) \
    ((avail) > sizeof(lit) - 1 && (a)[sizeof(lit) - 1] == ':' && name_at_is(a, lit, sizeof(lit) - 1))

/* Which header the shim reads the line at a (avail bytes readable from a,
 * its first byte of class kind) names, and its name's length. */
static inline __attribute__((always_inline)) enum oa_http1_known line_known(const unsigned char *a, size_t avail,
                                                                           unsigned kind, size_t *name_len)
{
#define KNOWN(lit, id) \
    if (LINE_NAMES(a, avail, lit)) { \
        *name_len = sizeof(lit) - 1; \
        return id; \
    }
    switch (kind) {
    case LS_B:
        KNOWN("baggage", OA_HTTP1_H_BAGGAGE);
        /* too short for name_at_is's words; its 'b' is the line's first byte */
        if (avail > 2 && a[1] == '3' && a[2] == ':') {
            *name_len = 2;
            return OA_HTTP1_H_B3;
        }
        break;
    case LS_C:
        KNOWN("connection", OA_HTTP1_H_CONNECTION);
        KNOWN("content-length", OA_HTTP1_H_CONTENT_LENGTH);
        break;
    case LS_H:
        KNOWN("host", OA_HTTP1_H_HOST);
        break;
    case LS_T:
        KNOWN("traceparent", OA_HTTP1_H_TRACEPARENT);
        KNOWN("tracestate", OA_HTTP1_H_TRACESTATE);
        KNOWN("transfer-encoding", OA_HTTP1_H_TRANSFER_ENCODING);
        break;
    case LS_U:
        KNOWN("user-agent", OA_HTTP1_H_USER_AGENT);
        KNOWN("uber-trace-id", OA_HTTP1_H_UBER_TRACE_ID);
        KNOWN("upgrade", OA_HTTP1_H_UPGRADE);
        if (avail > UBERCTX_LEN && name_at_is(a, "uberctx-", UBERCTX_LEN)) {
            /* a key of tchar up to the ':', as FULL checks a name (no
             * tchar is CR or LF: the scan stays within the line) */
            size_t i = UBERCTX_LEN;
            while (i < avail && (char_class[a[i]] & CC_TCHAR))
                i++;
            if (i > UBERCTX_LEN && i < avail && a[i] == ':') {
                *name_len = i;
                return OA_HTTP1_H_UBERCTX;
            }
        }
        break;
    case LS_X:
        KNOWN("x-forwarded-for", OA_HTTP1_H_X_FORWARDED_FOR);
        KNOWN("x-b3-traceid", OA_HTTP1_H_X_B3_TRACEID);
        KNOWN("x-b3-spanid", OA_HTTP1_H_X_B3_SPANID);
        KNOWN("x-b3-sampled", OA_HTTP1_H_X_B3_SAMPLED);
        KNOWN("x-b3-flags", OA_HTTP1_H_X_B3_FLAGS);
        break;
    default:
        break;
    }
#undef KNOWN
    return OA_HTTP1_H_OTHER;
}

/* Keeps the header whose line starts at k (name name_len bytes) with its
 * value s[v, end), checked, where s[end] is the line's CR or LF: OWS trimmed
 * off both ends, mostly one SP before the value and none after it. The only
 * bytes <= SP in a checked value are SP and HTAB, and s[end] is one too (so
 * an empty value needs no test of its own). Offsets into base. */
static inline __attribute__((always_inline)) void keep_value(struct oa_http1_head *h, const unsigned char *s,
                                                             size_t k, size_t name_len, size_t v, size_t end,
                                                             enum oa_http1_known id, const char *base)
{
    if (s[v] == ' ')
        v++;
    if (s[v] <= ' ' || s[end - 1] <= ' ') {
        while (v < end && is_ows(s[v]))
            v++;
        while (end > v && is_ows(s[end - 1]))
            end--;
    }
    add_header(h, base, k, name_len, v, end - v, id);
}

/* A LIGHT header line whose first byte is of class kind (LS_B .. LS_X):
 * s[k, nl), nl its '\n', within s[0, n). Only the bytes of the line are
 * read (but for a 16-byte load ending at or before n). If it is a header the
 * shim reads, its value is checked and trimmed as in FULL and the header
 * kept (offsets into base); any other line is left alone. False: a read
 * header's value holds a forbidden byte. Both the one-pass path and the
 * general one take their lines here, so a head gets the same verdict and
 * fields wherever the stream was cut. */
static inline __attribute__((always_inline)) bool light_line(struct oa_http1_head *h, const unsigned char *s,
                                                             size_t k, size_t nl, size_t n, unsigned kind,
                                                             const char *base)
{
    size_t name_len;
    enum oa_http1_known id = line_known(s + k, n - k, kind, &name_len);
    if (id == OA_HTTP1_H_OTHER)
        return true;
    size_t v = k + name_len + 1;
    size_t end = s[nl - 1] == '\r' ? nl - 1 : nl;
    /* every byte of the value a field byte (no load past end, nor before s) */
    if (end >= 16 && n >= 16 ? find_stop(s, v, end, STOP_FIELD) != end
                             : long_class_run(s + v, end - v, CC_FIELD) != end - v)
        return false;
    keep_value(h, s, k, name_len, v, end, id, base);
    return true;
}

/* The one-pass path's header line at k in s[0, n) whose name (name_len
 * bytes, valid) is known: its value checked (every byte up to the line's
 * end a field byte), trimmed and kept with the header (offsets into base).
 * Returns the next line's start, NOT_WHOLE if the value is refused or the
 * line not complete in s. */
static inline __attribute__((always_inline)) size_t whole_value(struct oa_http1_head *h, const unsigned char *s,
                                                                size_t k, size_t name_len, size_t n,
                                                                enum oa_http1_known id, const char *base)
{
    size_t v = k + name_len + 1;
    size_t end = find_stop(s, v, n, STOP_FIELD);
    size_t next;
    if (end + 1 < n && s[end] == '\r' && s[end + 1] == '\n')
        next = end + 2;
    else if (end < n && s[end] == '\n')
        next = end + 1;
    else
        return NOT_WHOLE;
    keep_value(h, s, k, name_len, v, end, id, base);
    return next;
}

/* Bit i: s[at + i] is '\n', for the 32 bytes from at (< n; n >= 16).
 * Bits at or past n are clear, and so is that of a '\n' that is the last
 * byte, s[n - 1]: no line can start after it, so the walk below needs no
 * test for one that would. */
static inline __attribute__((always_inline)) uint32_t newlines32(const unsigned char *s, size_t at, size_t n)
{
    if (at + 32 < n)
        return block_stops(s + at, STOP_LINE) | block_stops(s + at + 16, STOP_LINE) << 16;
    uint32_t bits;
    if (at + 16 < n)
        bits = block_stops(s + at, STOP_LINE) | (block_stops(s + n - 16, STOP_LINE) >> (32 - (n - at))) << 16;
    else
        bits = block_stops(s + n - 16, STOP_LINE) >> (16 - (n - at));
    return bits & ~(1u << (n - 1 - at));
}

/* The one-pass path's header lines in LIGHT, from k (the first one's start)
 * in s[0, n), n >= 16. The '\n's come 32 bytes at a time, and each line is
 * judged by its first byte: most cost that byte and their '\n'. A header
 * the shim reads is checked as the FULL path checks it, its value scanned
 * to the line's end. Returns the offset of the empty line's first byte, or
 * NOT_WHOLE (a line refused, more than OA_HTTP1_MAX_HEADERS of them, or the
 * head not complete in s). */
static inline __attribute__((always_inline)) size_t light_whole_lines(struct oa_http1_head *h,
                                                                      const unsigned char *s, size_t k,
                                                                      size_t n, const char *base)
{
    size_t lines_left = OA_HTTP1_MAX_HEADERS + 1;
    /* the '\n's of [at, at + 32) at or after k; found only when a line is
     * skipped (none yet: the next block is the one at k; at may wrap) */
    size_t at = k - 32;
    uint32_t nls = 0;
    if (k >= n)
        return NOT_WHOLE;
    for (;;) {
        unsigned kind = line_start[s[k]];
        if (__builtin_expect(kind != LS_SKIP, 0)) {
            if (kind >= LS_EMPTY)
                return kind == LS_EMPTY ? k : NOT_WHOLE;
            size_t name_len;
            enum oa_http1_known id = line_known(s + k, n - k, kind, &name_len);
            if (id != OA_HTTP1_H_OTHER) {
                if (--lines_left == 0)
                    return NOT_WHOLE;
                size_t next = whole_value(h, s, k, name_len, n, id, base);
                if (next >= n)
                    return NOT_WHOLE;
                k = next;
                at = next - 32;
                nls = 0;
                continue;
            }
        }
        if (--lines_left == 0)
            return NOT_WHOLE;
        /* not read: on to the next '\n' */
        while (nls == 0) {
            at += 32;
            if (at >= n)
                return NOT_WHOLE;
            nls = newlines32(s, at, n);
        }
        k = at + (unsigned)__builtin_ctz(nls) + 1;
        nls &= nls - 1;
    }
}

/* Parses every line stored so far (all complete) into p->work->head. */
static bool parse_head(struct oa_http1_parser *p)
{
    struct oa_http1_head *h = &p->work->head;
    const char *b = p->head_buf;

    if (p->direction == OA_HTTP1_REQUESTS) {
        h->method = b;
        h->target = b + h->method_len + 1;
    }
    h->base = b;
    h->n_headers = 0;
    memset(h->known_count, 0, sizeof(h->known_count));
    size_t pos = p->start_line_len;
    size_t lines = 0;
    if (p->light) {
        /* the lines as the one-pass path judges them (light_whole_lines) */
        const unsigned char *s = (const unsigned char *)b;
        while (pos < p->head_len) {
            const char *nl = memchr(b + pos, '\n', p->head_len - pos);
            unsigned kind = line_start[s[pos]];
            if (!nl || kind >= LS_EMPTY || lines++ == OA_HTTP1_MAX_HEADERS)
                return false;
            if (kind != LS_SKIP && !light_line(h, s, pos, (size_t)(nl - b), p->head_len, kind, b))
                return false;
            pos = (size_t)(nl - b) + 1;
        }
        return derive_framing(p);
    }
    while (pos < p->head_len) {
        const char *line = b + pos;
        const char *nl = memchr(line, '\n', p->head_len - pos);
        if (!nl)
            return false;
        size_t len = (size_t)(nl - line);
        pos += len + 1;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (lines++ == OA_HTTP1_MAX_HEADERS)
            return false;
        size_t name_len = header_name_len(line, len);
        if (name_len == 0)
            return false;
        enum oa_http1_known id = known_header(line, name_len);
        struct oa_http1_header f;
        if (!parse_header_value(line, len, name_len, &f))
            return false;
        add_header(h, b, (size_t)(f.name - b), f.name_len, (size_t)(f.value - b), f.value_len, id);
    }
    return derive_framing(p);
}

static size_t head_done(struct oa_http1_parser *p, size_t consumed, enum oa_http1_event *ev)
{
    p->state = p->body_state;
    if (p->state == OA_HTTP1_S_BODY_CHUNKED) {
        p->chunk_state = CH_SIZE_FIRST;
        p->chunk_remaining = 0;
        p->chunk_line_len = 0;
    }
    p->head_done_last = true;
    *ev = OA_HTTP1_HEAD_DONE;
    return consumed;
}


/* The common case in one pass: a message's whole head (up to its empty line)
 * in the bytes given, valid and short enough for head_inline. Each line is
 * scanned once, 16 bytes at a time, and checked while it is split into its
 * parts; then the head is copied once. Anything else (a head cut short,
 * anything invalid, a limit reached) returns NOT_WHOLE having changed nothing
 * the general path relies on: that path then decides, so events, their
 * positions and NOT_HTTP versus ERROR are the same wherever the stream was
 * cut. Called at a message's first byte in place of begin_message, whose
 * work it does itself when it succeeds. */
static size_t parse_whole_head(struct oa_http1_parser *p, const char *buf, size_t len,
                               enum oa_http1_event *ev)
{
    const unsigned char *s = (const unsigned char *)buf;
    struct oa_http1_head *h = &p->work->head;
    /* pointers go straight to where the head will be copied */
    char *dst = p->head_buf != NULL ? p->head_buf : p->work->head_inline;
    /* a long head's buffer is shrunk by begin_message first */
    if (p->head_cap > HEAD_BUF_KEEP)
        return NOT_WHOLE;
    size_t n = min_size(len, OA_HTTP1_HEAD_INLINE + 2);
    size_t k;
    size_t method_len = 0;
    size_t target_len = 0;
    int status = 0;
    int version_minor;

    if (n < 16)
        return NOT_WHOLE;
    if (p->direction == OA_HTTP1_REQUESTS) {
        /* the method's and, mostly, the target's end from the first block */
        unsigned first = stops_of(s, STOP_TOKEN);
        size_t sp = first ? (size_t)__builtin_ctz(first) : find_stop(s, 16, n, STOP_TOKEN);
        if (sp == 0 || sp > METHOD_MAX || sp >= n || s[sp] != ' ')
            return NOT_WHOLE;
        if (!(sp == 3 && memcmp(s, "GET", 3) == 0) && !all_tchar(s, sp))
            return NOT_WHOLE;
        method_len = sp;
        first = sp < 16 ? first & (~1u << sp) : 0;
        size_t sp2 = first ? (size_t)__builtin_ctz(first)
                           : find_stop(s, sp < 16 ? 16 : sp + 1, n, STOP_TOKEN);
        if (sp2 == sp + 1 || n - sp2 < 1 + HTTP_VERSION_PREFIX_LEN + 2 || s[sp2] != ' ')
            return NOT_WHOLE;
        target_len = sp2 - sp - 1;
        k = sp2 + 1;
    } else {
        k = 0;
    }
    /* "HTTP/1.x" (n - k >= 10 here) */
    if (memcmp(s + k, http_version_prefix, HTTP_VERSION_PREFIX_LEN) != 0 ||
        s[k + HTTP_VERSION_PREFIX_LEN] < '0' || s[k + HTTP_VERSION_PREFIX_LEN] > '9')
        return NOT_WHOLE;
    version_minor = s[k + HTTP_VERSION_PREFIX_LEN] > '0' ? 1 : 0;
    k += HTTP_VERSION_PREFIX_LEN + 1;
    if (p->direction == OA_HTTP1_RESPONSES) {
        /* " ddd" then " reason", or the line's end (n >= 16 > k + 4) */
        if (s[k] != ' ' || s[k + 1] < '1' || s[k + 1] > '9' || s[k + 2] < '0' || s[k + 2] > '9' ||
            s[k + 3] < '0' || s[k + 3] > '9')
            return NOT_WHOLE;
        status = (s[k + 1] - '0') * 100 + (s[k + 2] - '0') * 10 + (s[k + 3] - '0');
        k += 4;
        if (s[k] == ' ')
            k = find_stop(s, k + 1, n, STOP_FIELD);
    }
    /* the start line's end: CRLF or a bare LF */
    if (k + 1 < n && s[k] == '\r' && s[k + 1] == '\n')
        k += 2;
    else if (k < n && s[k] == '\n')
        k++;
    else
        return NOT_WHOLE;
    size_t start_line_len = k;

    h->n_headers = 0;
    memset(h->known_count, 0, sizeof(h->known_count));
    size_t lines = 0;
    if (p->light) {
        k = light_whole_lines(h, s, k, n, dst);
        if (k == NOT_WHOLE)
            return NOT_WHOLE;
    }
    while (!p->light) {
        if (k >= n)
            return NOT_WHOLE;
        /* the empty line; any other control byte fails the name below */
        if (s[k] < 0x20) {
            if (s[k] == '\r' || s[k] == '\n')
                break;
            return NOT_WHOLE;
        }
        /* name: up to ':' with no control byte before it, found in the 16
         * bytes from the line's start (or the buffer's last 16, the line's
         * start among them) unless it is longer */
        size_t at = k + 16 <= n ? k : n - 16;
        unsigned stops = block_name_stops(s + at) >> (k - at);
        size_t colon = stops ? k + (size_t)__builtin_ctz(stops) : find_stop(s, at + 16, n, STOP_NAME);
        if (colon >= n || s[colon] != ':' || colon == k || lines++ == OA_HTTP1_MAX_HEADERS)
            return NOT_WHOLE;
        size_t name_len = colon - k;
        /* a listed name is all tchar; any other is checked */
        unsigned listed = name_id(buf + k, name_len);
        enum oa_http1_known id = (enum oa_http1_known)(listed & ~NAME_LISTED);
        if (!(listed & NAME_LISTED) && !plain_name(s, k, name_len, n) && !all_tchar(s + k, name_len))
            return NOT_WHOLE;
        size_t next = whole_value(h, s, k, name_len, n, id, dst);
        if (next == NOT_WHOLE)
            return NOT_WHOLE;
        k = next;
    }
    /* k: the empty line's first byte; a response's needs its '\n' too, and
     * so does a request's with no HEAD_END_NEXT before its HEAD_DONE */
    size_t through = k + 1;
    if (!p->head_end_next && s[k] == '\r') {
        if (k + 1 >= n || s[k + 1] != '\n')
            return NOT_WHOLE;
        through = k + 2;
    }
    if (k > OA_HTTP1_HEAD_INLINE)
        return NOT_WHOLE;

    h->base = dst;
    h->method = p->direction == OA_HTTP1_REQUESTS ? dst : NULL;
    h->method_len = method_len;
    h->target = p->direction == OA_HTTP1_REQUESTS ? dst + method_len + 1 : NULL;
    h->target_len = target_len;
    h->status = status;
    h->version_minor = version_minor;
    /* the rest of what begin_message would have set */
    p->state = OA_HTTP1_S_HEAD;
    p->opaque_after_message = false;
    if (p->head_buf == NULL) {
        p->head_buf = p->work->head_inline;
        p->head_cap = sizeof(p->work->head_inline);
    }
    /* gcc, knowing k <= OA_HTTP1_HEAD_INLINE here, copies with "rep movsq",
     * slower for a few hundred bytes than libc's memcpy: hide the bound */
    size_t copy_len = k;
    __asm__("" : "+r"(copy_len));
    memcpy(p->head_buf, buf, copy_len);
    p->head_len = k;
    p->start_line_len = start_line_len;
    p->head_parsed = true;
    p->head_phase = HP_LINE_START;
    p->seen_first_message = true;
    /* what the general path does at the empty line's first byte */
    if (!derive_framing(p))
        return fail(p, k + 1, OA_HTTP1_ERROR, ev);
    if (p->head_end_next) {
        *ev = OA_HTTP1_HEAD_END_NEXT;
        return k;
    }
    return head_done(p, through, ev);
}

/* Not inlined into oa_http1_feed (nor feed_chunked): most calls (body bytes,
 * an event due without more bytes) need neither, and the dispatcher stays
 * cheap to enter. */
__attribute__((noinline)) static size_t feed_head(struct oa_http1_parser *p, const char *buf, size_t len,
                        enum oa_http1_event *ev)
{
    size_t i = 0;

    if (p->state == OA_HTTP1_S_START) {
        /* RFC 9112 2.2: empty lines between messages are ignored. */
        if (p->seen_first_message && (unsigned char)buf[0] <= '\r') {
            while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
                i++;
        }
        if (i == len)
            return len;
        if (__builtin_expect(p->work == NULL, 0) && !take_work(p))
            return fail(p, i + 1, OA_HTTP1_ERROR, ev);
        size_t whole = parse_whole_head(p, buf + i, len - i, ev);
        if (whole != NOT_WHOLE)
            return i + whole;
        begin_message(p);
    }

    while (i < len) {
        size_t avail = len - i;
        size_t room = OA_HTTP1_HEAD_MAX - p->head_len;
        unsigned char c = (unsigned char)buf[i];

        switch (p->head_phase) {
        case HP_START_LINE: {
            enum start_verdict verdict;
            size_t scan_len = min_size(avail, room);
            size_t n = scan_start_line(p, (const unsigned char *)buf + i, scan_len, &verdict);
            if (verdict == SV_BAD)
                return fail(p, i + n + 1,
                            p->seen_first_message ? OA_HTTP1_ERROR : OA_HTTP1_NOT_HTTP, ev);
            if (!head_append(p, buf + i, n))
                return fail(p, i + n, OA_HTTP1_ERROR, ev);
            i += n;
            if (verdict == SV_DONE) {
                p->start_line_len = p->head_len;
                p->head_phase = HP_LINE_START;
                p->seen_first_message = true;
            } else if (scan_len < avail) {
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            }
            break;
        }
        case HP_LINE_START:
            if (c != '\r' && c != '\n') {
                p->head_phase = HP_IN_LINE;
                break;
            }
            if (!p->head_parsed) {
                if (!parse_head(p))
                    return fail(p, i + 1, OA_HTTP1_ERROR, ev);
                p->head_parsed = true;
                if (p->head_end_next) {
                    *ev = OA_HTTP1_HEAD_END_NEXT;
                    return i;
                }
            }
            if (room < 1)
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            i++;
            if (c == '\n')
                return head_done(p, i, ev);
            p->head_phase = HP_BLANK_LF;
            break;
        case HP_IN_LINE: {
            /* every header line of this piece in one append: stop after a
             * '\n' that is followed by the empty line or by nothing yet */
            size_t scan_len = min_size(avail, room);
            const char *line = buf + i;
            const char *end = line + scan_len;
            const char *nl;
            while ((nl = memchr(line, '\n', (size_t)(end - line))) != NULL && nl + 1 < end &&
                   nl[1] != '\r' && nl[1] != '\n')
                line = nl + 1;
            size_t n = nl ? (size_t)(nl - (buf + i)) + 1 : scan_len;
            if (!head_append(p, buf + i, n))
                return fail(p, i + n, OA_HTTP1_ERROR, ev);
            i += n;
            if (nl)
                p->head_phase = HP_LINE_START;
            else if (scan_len < avail)
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            break;
        }
        case HP_BLANK_LF:
            if (c != '\n' || room < 2)
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            return head_done(p, i + 1, ev);
        default:
            return fail(p, i, OA_HTTP1_ERROR, ev);
        }
    }
    return len;
}

/* ---- bodies ---- */

static size_t feed_body_length(struct oa_http1_parser *p, size_t len, enum oa_http1_event *ev)
{
    if (p->body_remaining == 0)
        return message_done(p, 0, ev);
    size_t n = p->body_remaining < len ? (size_t)p->body_remaining : len;
    p->body_remaining -= n;
    if (p->body_remaining == 0)
        return message_done(p, n, ev);
    return n;
}

/* Skips to the end of a line, counting its bytes against `limit`. Returns
 * the bytes consumed; *ended tells whether the '\n' was among them, *over
 * whether the limit was hit first (then the offending byte is the next one). */
static size_t skip_line(struct oa_http1_parser *p, const char *s, size_t n, size_t limit,
                        bool *ended, bool *over)
{
    size_t room = limit - p->chunk_line_len;
    size_t scan_len = min_size(n, room);
    const char *nl = memchr(s, '\n', scan_len);
    size_t used = nl ? (size_t)(nl - s) + 1 : scan_len;
    p->chunk_line_len += used;
    *ended = nl != NULL;
    *over = !nl && scan_len < n;
    return used;
}

static void chunk_size_line_done(struct oa_http1_parser *p)
{
    p->chunk_line_len = 0;
    p->chunk_state = p->chunk_remaining ? CH_DATA : CH_TRAILER_LINE_START;
}

__attribute__((noinline)) static size_t feed_chunked(struct oa_http1_parser *p, const char *buf, size_t len,
                           enum oa_http1_event *ev)
{
    size_t i = 0;

    while (i < len) {
        /* Chunk data is skipped without being looked at. */
        if (p->chunk_state == CH_DATA) {
            size_t n = len - i;
            if (n > p->chunk_remaining)
                n = (size_t)p->chunk_remaining;
            p->chunk_remaining -= n;
            i += n;
            if (p->chunk_remaining == 0)
                p->chunk_state = CH_DATA_CR;
            continue;
        }
        unsigned char c = (unsigned char)buf[i];
        bool ended;
        bool over;
        int digit;

        switch (p->chunk_state) {
        case CH_SIZE_FIRST:
        case CH_SIZE:
            digit = hex_value(c);
            if (digit >= 0) {
                if (p->chunk_remaining > (CHUNK_SIZE_MAX >> 4) || p->chunk_line_len >= CHUNK_LINE_MAX)
                    return fail(p, i + 1, OA_HTTP1_ERROR, ev);
                p->chunk_remaining = p->chunk_remaining * 16 + (uint64_t)digit;
                if (p->chunk_remaining > CHUNK_SIZE_MAX)
                    return fail(p, i + 1, OA_HTTP1_ERROR, ev);
                p->chunk_line_len++;
                p->chunk_state = CH_SIZE;
                i++;
            } else if (p->chunk_state == CH_SIZE_FIRST) {
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            } else if (c == ';' || is_ows(c)) {
                p->chunk_state = CH_EXT;
            } else if (c == '\r') {
                p->chunk_state = CH_SIZE_LF;
                i++;
            } else if (c == '\n') {
                chunk_size_line_done(p);
                i++;
            } else {
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            }
            break;
        case CH_EXT:
            i += skip_line(p, buf + i, len - i, CHUNK_LINE_MAX, &ended, &over);
            if (over)
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            if (ended)
                chunk_size_line_done(p);
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            chunk_size_line_done(p);
            i++;
            break;
        case CH_DATA_CR:
        case CH_DATA_LF:
            if (c == '\n') {
                p->chunk_state = CH_SIZE_FIRST;
            } else if (c == '\r' && p->chunk_state == CH_DATA_CR) {
                p->chunk_state = CH_DATA_LF;
            } else {
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            }
            i++;
            break;
        case CH_TRAILER_LINE_START:
            /* The trailer section shares the head's limit. */
            if (p->chunk_line_len >= OA_HTTP1_HEAD_MAX)
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            if (c == '\n')
                return message_done(p, i + 1, ev);
            if (c == '\r') {
                p->chunk_line_len++;
                p->chunk_state = CH_TRAILER_END_LF;
                i++;
            } else {
                p->chunk_state = CH_TRAILER_LINE;
            }
            break;
        case CH_TRAILER_LINE:
            i += skip_line(p, buf + i, len - i, OA_HTTP1_HEAD_MAX, &ended, &over);
            if (over)
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            if (ended)
                p->chunk_state = CH_TRAILER_LINE_START;
            break;
        case CH_TRAILER_END_LF:
            if (c != '\n' || p->chunk_line_len >= OA_HTTP1_HEAD_MAX)
                return fail(p, i + 1, OA_HTTP1_ERROR, ev);
            return message_done(p, i + 1, ev);
        default:
            return fail(p, i, OA_HTTP1_ERROR, ev);
        }
    }
    return len;
}

/* ---- public ---- */

void oa_http1_init_mode(struct oa_http1_parser *p, enum oa_http1_direction dir, enum oa_http1_mode mode)
{
    memset(p, 0, sizeof(*p));
    p->direction = dir;
    p->light = mode == OA_HTTP1_LIGHT;
    p->head_end_next = dir == OA_HTTP1_REQUESTS;
    p->state = OA_HTTP1_S_START;
}

void oa_http1_without_head_end(struct oa_http1_parser *p)
{
    p->head_end_next = false;
}

void oa_http1_init(struct oa_http1_parser *p, enum oa_http1_direction dir)
{
    oa_http1_init_mode(p, dir, OA_HTTP1_FULL);
}

/* What oa_http1_init_mode leaves, field by field, but the work area is kept
 * (its arrays a new message writes before it reads them: the head's fields,
 * known and known_first slots, guarded by n_headers and known_count, and the
 * inline head buffer): the exporter's re-parser neither clears nor takes
 * again ~2,500 bytes for every span. */
void oa_http1_reset(struct oa_http1_parser *p, enum oa_http1_direction dir, enum oa_http1_mode mode)
{
    struct oa_http1_work *w = p->work;
    drop_head_buffer(p);
    p->direction = dir;
    p->light = mode == OA_HTTP1_LIGHT;
    p->head_end_next = dir == OA_HTTP1_REQUESTS;
    p->state = OA_HTTP1_S_START;
    p->seen_first_message = false;
    p->opaque_after_message = false;
    p->head_done_last = false;
    p->start_line_len = 0;
    p->head_parsed = false;
    p->head_phase = 0;
    p->start_step = 0;
    p->start_count = 0;

    if (w != NULL) {
        head_clear(&w->head);
        w->head.base = NULL;
    }

    p->body_state = OA_HTTP1_S_START;
    p->body_remaining = 0;
    p->chunk_state = 0;
    p->chunk_remaining = 0;
    p->chunk_line_len = 0;
}

void oa_http1_release(struct oa_http1_parser *p)
{
    oa_http1_park(p);
}

size_t oa_http1_feed_parse(struct oa_http1_parser *p, const char *buf, size_t len,
                           enum oa_http1_event *ev)
{
    *ev = OA_HTTP1_NEED_MORE;
    p->head_done_last = false;

    switch (p->state) {
    case OA_HTTP1_S_START:
    case OA_HTTP1_S_HEAD:
        /* asked again after an event with nothing left: nothing to do */
        if (len == 0)
            return 0;
        /* a request's empty line right after HEAD_END_NEXT (what feed_head
         * would do, without entering it) */
        if (p->state == OA_HTTP1_S_HEAD && p->head_parsed && p->head_phase == HP_LINE_START &&
            len >= 2 && buf[0] == '\r' && buf[1] == '\n' && p->head_len <= OA_HTTP1_HEAD_MAX - 2)
            return head_done(p, 2, ev);
        return feed_head(p, buf, len, ev);
    case OA_HTTP1_S_BODY_LENGTH:
        return feed_body_length(p, len, ev);
    case OA_HTTP1_S_BODY_CHUNKED:
        return feed_chunked(p, buf, len, ev);
    case OA_HTTP1_S_BODY_UNTIL_CLOSE:
    case OA_HTTP1_S_OPAQUE:
    case OA_HTTP1_S_DEAD:
    default:
        return len;
    }
}

const struct oa_http1_head *oa_http1_head(const struct oa_http1_parser *p)
{
    /* a parked parser has no head to show: an empty one */
    static const struct oa_http1_head none;
    return p->work != NULL ? &p->work->head : &none;
}

void oa_http1_response_has_no_body(struct oa_http1_parser *p, bool tunnel)
{
    if (p->direction != OA_HTTP1_RESPONSES || !p->head_done_last)
        return;
    p->state = OA_HTTP1_S_BODY_LENGTH;
    p->body_remaining = 0;
    if (tunnel)
        p->opaque_after_message = true;
}

enum oa_http1_event oa_http1_skip(struct oa_http1_parser *p, size_t n)
{
    p->head_done_last = false;

    switch (p->state) {
    case OA_HTTP1_S_BODY_LENGTH:
        if (n > p->body_remaining)
            break;
        p->body_remaining -= n;
        if (p->body_remaining == 0) {
            enum oa_http1_event ev;
            message_done(p, 0, &ev);
            return ev;
        }
        return OA_HTTP1_NEED_MORE;
    case OA_HTTP1_S_BODY_CHUNKED:
        /* Chunk data may be sent from a file while the framing is written. */
        if (n == 0)
            return OA_HTTP1_NEED_MORE;
        if (p->chunk_state != CH_DATA || n > p->chunk_remaining)
            break;
        p->chunk_remaining -= n;
        if (p->chunk_remaining == 0)
            p->chunk_state = CH_DATA_CR;
        return OA_HTTP1_NEED_MORE;
    case OA_HTTP1_S_BODY_UNTIL_CLOSE:
    case OA_HTTP1_S_OPAQUE:
        return OA_HTTP1_NEED_MORE;
    default:
        break;
    }
    p->state = OA_HTTP1_S_DEAD;
    return OA_HTTP1_ERROR;
}

enum oa_http1_event oa_http1_eof(struct oa_http1_parser *p)
{
    enum oa_http1_event ev = OA_HTTP1_NEED_MORE;
    p->head_done_last = false;

    switch (p->state) {
    case OA_HTTP1_S_BODY_UNTIL_CLOSE:
        message_done(p, 0, &ev);
        break;
    case OA_HTTP1_S_BODY_LENGTH:
        /* A message whose end was already reached but not yet reported. */
        if (p->body_remaining == 0) {
            message_done(p, 0, &ev);
            break;
        }
        fail(p, 0, OA_HTTP1_ERROR, &ev);
        break;
    case OA_HTTP1_S_HEAD:
    case OA_HTTP1_S_BODY_CHUNKED:
        fail(p, 0, OA_HTTP1_ERROR, &ev);
        break;
    default:
        break;
    }
    return ev;
}

bool oa_http1_find(const struct oa_http1_head *h, const char *name, struct oa_http1_header *out,
                   size_t *count)
{
    size_t n = 0;
    size_t name_len = strlen(name);
    /* the names we look up are lowercase already: then compared a word at a
     * time (checked at the first header of the same length, if any) */
    int fast = -1;

    for (size_t i = 0; i < h->n_headers; i++) {
        struct oa_http1_header f = oa_http1_header_at(h, i);
        if (f.name_len != name_len)
            continue;
        if (fast < 0)
            fast = class_run((const unsigned char *)name, name_len, CC_LOWER) == name_len;
        if (fast ? !name_is(f.name, f.name_len, name, name_len)
                 : !equals_nocase(f.name, f.name_len, name, name_len))
            continue;
        if (n == 0 && out != NULL)
            *out = f;
        n++;
    }
    if (count)
        *count = n;
    return n > 0;
}
