/* Span records: a single fixed-size heap block per span, so building one on
 * the program's thread costs exactly one allocation however many attributes
 * it gets, and handing it to the exporter is handing over one pointer. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "base/short_copy.h"
#include "trace/span.h"

/* The fields before the attributes zeroed in six 16-byte stores: memset of
 * those 96 bytes compiles to `rep stos`, about 20 instructions, on every
 * span's block (the program's raw and full spans, the exporter's compact
 * ones). */
typedef uint64_t oa_zero16 __attribute__((vector_size(16), aligned(1), may_alias));
_Static_assert(offsetof(struct oa_span, attrs) == 6 * sizeof(oa_zero16), "six stores clear the fields");
static inline void clear_fields(struct oa_span *s)
{
    oa_zero16 *w = (oa_zero16 *)(void *)s;
    const oa_zero16 zero = {0, 0};
    w[0] = zero;
    w[1] = zero;
    w[2] = zero;
    w[3] = zero;
    w[4] = zero;
    w[5] = zero;
}

/* Spans come from a pool: taking and giving back one is a compare-and-swap
 * each, not a malloc/free of 3.5 KiB. Enough for a full default queue plus
 * the batch being exported and the spans still open; beyond it, malloc. */
static struct oa_pool span_pool = OA_POOL_INIT(sizeof(struct oa_span), 32, 3072);

struct oa_span *oa_span_new(void)
{
    /* The arena is written before it is read, and so is every attribute
     * slot below n_attrs: zero only the other fields (the 24 slots are most
     * of the bytes). */
    struct oa_span *s = oa_pool_get(&span_pool);
    if (s != NULL) {
        clear_fields(s);
        s->arena_used = 0;
    }
    return s;
}

/* Finished spans that use little of their arena wait for export in these. */
#define COMPACT_ARENA OA_SPAN_COMPACT_ARENA
#define COMPACT_SIZE (offsetof(struct oa_span, arena) + COMPACT_ARENA)
static struct oa_pool compact_pool = OA_POOL_INIT(COMPACT_SIZE, 64, 4096);

struct oa_span *oa_span_new_compact(void)
{
    struct oa_span *s = oa_pool_get(&compact_pool);
    if (s != NULL) {
        clear_fields(s);
        s->form = OA_SPAN_COMPACT;
        s->arena_used = 0;
    }
    return s;
}


/* Raw spans wait for export in these: as many as a full default queue plus
 * the spans still open, of each size. */
#define RAW_SIZE (offsetof(struct oa_span, raw) + sizeof(struct oa_span_raw))
#define RAW_SMALL_SIZE (offsetof(struct oa_span, raw.bytes) + OA_SPAN_RAW_SMALL_BYTES)
_Static_assert(RAW_SIZE <= COMPACT_SIZE, "a raw span takes no more room in the queue than a compact one");
static struct oa_pool raw_pool = OA_POOL_INIT(RAW_SIZE, 64, 4096);
static struct oa_pool raw_small_pool = OA_POOL_INIT(RAW_SMALL_SIZE, 64, 4096);

struct oa_span *oa_span_new_raw(size_t bytes)
{
    bool small = bytes <= OA_SPAN_RAW_SMALL_BYTES;
    if (bytes > OA_SPAN_RAW_BYTES)
        return NULL;
    struct oa_span *s = oa_pool_get(small ? &raw_small_pool : &raw_pool);
    if (s != NULL) {
        clear_fields(s);
        s->form = small ? OA_SPAN_RAW_SMALL : OA_SPAN_RAW;
    }
    return s;
}

/* A raw span's bytes hold what the program sent as it was (a request head,
 * a statement before its literals are masked): wiped when the block goes
 * back to its pool, built or dropped, so that they never outlive the span. */
static void wipe_raw(struct oa_span *s, size_t capacity)
{
    size_t used = (size_t)s->raw.trace_state_len + 1 + s->raw.head_len;
    memset(s->raw.bytes, 0, used < capacity ? used : capacity);
}

void oa_span_free(struct oa_span *s)
{
    if (s == NULL)
        return;
    switch (s->form) {
    case OA_SPAN_COMPACT:
        oa_pool_put(&compact_pool, s);
        break;
    case OA_SPAN_RAW_SMALL:
        wipe_raw(s, OA_SPAN_RAW_SMALL_BYTES);
        oa_pool_put(&raw_small_pool, s);
        break;
    case OA_SPAN_RAW:
        wipe_raw(s, OA_SPAN_RAW_BYTES);
        oa_pool_put(&raw_pool, s);
        break;
    default:
        oa_pool_put(&span_pool, s);
        break;
    }
}

/* A pointer into from's arena, moved to the same place in to's. */
static const char *moved(const char *p, const struct oa_span *from, struct oa_span *to)
{
    if (p >= from->arena && p < from->arena + from->arena_used)
        return to->arena + (p - from->arena);
    return p;
}

/* All of from into to (a block with room for from's arena bytes), its
 * strings pointing into to's arena; to's form is `form`. */
static void copy_moved(struct oa_span *to, const struct oa_span *from, uint8_t form)
{
    uint32_t n_attrs = from->n_attrs < OA_SPAN_MAX_ATTRS ? from->n_attrs : OA_SPAN_MAX_ATTRS;
    uint32_t used = from->arena_used < OA_SPAN_ARENA ? from->arena_used : OA_SPAN_ARENA;
    memcpy(to, from, offsetof(struct oa_span, attrs));
    memcpy(to->attrs, from->attrs, n_attrs * sizeof(from->attrs[0]));
    to->n_attrs = n_attrs;
    to->arena_used = used;
    memcpy(to->arena, from->arena, used);
    to->form = form;
    to->name = moved(from->name, from, to);
    to->trace_state = moved(from->trace_state, from, to);
    to->status_message = moved(from->status_message, from, to);
    for (uint32_t i = 0; i < to->n_attrs; i++) {
        if (to->attrs[i].type == OA_VALUE_STRING)
            to->attrs[i].v.str.ptr = moved(to->attrs[i].v.str.ptr, from, to);
    }
}

struct oa_span *oa_span_compact(struct oa_span *s)
{
    if (s == NULL || s->form != OA_SPAN_FULL || s->arena_used > COMPACT_ARENA)
        return s;
    struct oa_span *c = oa_pool_get(&compact_pool);
    if (c == NULL)
        return s;
    copy_moved(c, s, OA_SPAN_COMPACT);
    oa_span_free(s);
    return c;
}

void oa_span_copy_full(struct oa_span *dst, const struct oa_span *s)
{
    copy_moved(dst, s, OA_SPAN_FULL);
}

static bool is_utf8_continuation(unsigned char ch)
{
    return (ch & 0xc0) == 0x80;
}

/* Shortens a cut of str to len bytes so that it does not end in the middle
 * of a UTF-8 sequence. Only a few bytes are ever given back: a sequence is at
 * most 4 bytes long, and invalid input is not worth searching further. */
static size_t utf8_safe_cut(const char *str, size_t len)
{
    size_t cut = len;

    for (int back = 0; back < 3 && cut > 0 && is_utf8_continuation((unsigned char)str[cut]); back++)
        cut--;
    /* str[cut] now starts the sequence that did not fit (or is not UTF-8 at all). */
    if (is_utf8_continuation((unsigned char)str[cut]))
        return len;
    return cut;
}

/* A string that may not fit whole: cut to what fits, or left out. */
static __attribute__((noinline)) const char *store_cut(struct oa_span *s, const char *str, size_t len)
{
    size_t room = oa_span_arena_size(s) - s->arena_used;
    size_t keep = len;
    char *dst;

    if (room == 0) {
        s->arena_short = true;
        return NULL;
    }
    if (keep > OA_SPAN_MAX_VALUE_LEN)
        keep = OA_SPAN_MAX_VALUE_LEN;
    if (keep > room - 1)
        keep = room - 1;
    if (keep < len) {
        s->arena_short = true;
        keep = utf8_safe_cut(str, keep);
    }
    /* Nothing of a non-empty string fits: that is not a value, it is a loss. */
    if (keep == 0 && len > 0)
        return NULL;

    dst = s->arena + s->arena_used;
    if (keep > 0)
        memcpy(dst, str, keep);
    dst[keep] = '\0';
    s->arena_used += (uint32_t)(keep + 1);
    return dst;
}

/* oa_span_store, inlined into the attribute setter: every string attribute
 * of every traced request goes through it. Most fit whole: that case is
 * a copy and a NUL, the rest is store_cut's. */
static inline __attribute__((always_inline)) const char *store(struct oa_span *s, const char *str,
                                                               size_t len)
{
    uint32_t used = s->arena_used;

    if (__builtin_expect(len < oa_span_arena_size(s) - used && len <= OA_SPAN_MAX_VALUE_LEN, 1)) {
        char *dst = s->arena + used;
        oa_short_copy(dst, str, len);
        dst[len] = '\0';
        s->arena_used = used + (uint32_t)len + 1;
        return dst;
    }
    return store_cut(s, str, len);
}

const char *oa_span_store(struct oa_span *s, const char *str, size_t len)
{
    return store(s, str, len);
}

void oa_span_set_name(struct oa_span *s, const char *name, size_t len)
{
    const char *stored = store(s, name, len);

    /* Exporters may rely on a name; an empty one beats none. */
    s->name = stored ? stored : "";
}

/* Setting a key again replaces its value, as in the OpenTelemetry API.
 * Inlined into both setters: a call per attribute cost more than its body. */
static inline __attribute__((always_inline)) struct oa_attr *attr_slot(struct oa_span *s, const char *key, uint64_t bit)
{
    /* a key whose bit is not set yet cannot be among the attributes, so the
     * common case (every key set once) needs no string comparison at all */
    if (s->key_bloom & bit) {
        for (uint32_t i = 0; i < s->n_attrs; i++) {
            const char *k = s->attrs[i].key;
            if (k == key || (k[0] == key[0] && strcmp(k, key) == 0))
                return &s->attrs[i];
        }
    }
    if (s->n_attrs >= OA_SPAN_MAX_ATTRS) {
        s->dropped_attrs++;
        return NULL;
    }
    s->key_bloom |= bit;
    return &s->attrs[s->n_attrs];
}

/* The setters in full: a key set again, no slot left, a value cut. */
void oa_span_attr_str_any(struct oa_span *s, const char *key, uint64_t key_bit, size_t key_len, const char *val,
                          size_t len)
{
    struct oa_attr *a = attr_slot(s, key, key_bit);
    const char *stored;

    if (!a)
        return;
    stored = store(s, val, len);
    if (!stored) {
        s->dropped_attrs++;
        return;
    }
    if (a == &s->attrs[s->n_attrs])
        s->n_attrs++;
    a->key = key;
    a->key_len = (uint32_t)key_len;
    a->type = OA_VALUE_STRING;
    a->v.str.ptr = stored;
    /* The value may hold NUL bytes: its length is what the arena took. */
    a->v.str.len = (uint32_t)(s->arena + s->arena_used - 1 - stored);
}

void oa_span_attr_int_any(struct oa_span *s, const char *key, uint64_t key_bit, size_t key_len, int64_t val)
{
    struct oa_attr *a = attr_slot(s, key, key_bit);

    if (!a)
        return;
    if (a == &s->attrs[s->n_attrs])
        s->n_attrs++;
    a->key = key;
    a->key_len = (uint32_t)key_len;
    a->type = OA_VALUE_INT;
    a->v.i = val;
}

void oa_span_attr_str_keyed(struct oa_span *s, const char *key, uint64_t key_bit, size_t key_len,
                            const char *val, size_t len)
{
    oa_span_attr_str_fast(s, key, key_bit, key_len, val, len);
}

void oa_span_attr_int_keyed(struct oa_span *s, const char *key, uint64_t key_bit, size_t key_len, int64_t val)
{
    oa_span_attr_int_fast(s, key, key_bit, key_len, val);
}

const struct oa_attr *oa_span_find_attr(const struct oa_span *s, const char *key)
{
    for (uint32_t i = 0; i < s->n_attrs; i++) {
        if (s->attrs[i].key == key || strcmp(s->attrs[i].key, key) == 0)
            return &s->attrs[i];
    }
    return NULL;
}

void oa_span_take_raw_context(struct oa_span *m, const struct oa_span *s)
{
    uint8_t form = m->form;
    memcpy(m, s, offsetof(struct oa_span, attrs));
    m->form = form;
    if (s->raw.trace_state_len > 0)
        m->trace_state = oa_span_store(m, s->raw.bytes, s->raw.trace_state_len);
}

void oa_span_clear_full(struct oa_span *dst)
{
    memset(dst, 0, offsetof(struct oa_span, attrs));
    dst->form = OA_SPAN_FULL;
    dst->arena_used = 0;
}

struct oa_span *oa_span_build_from_raw(struct oa_span *s,
                                       bool (*build)(struct oa_span *m, const struct oa_span *s, void *arg),
                                       void *arg)
{
    struct oa_span *m = oa_span_new_compact();
    if (m != NULL) {
        bool built = build(m, s, arg);
        if (built && !m->arena_short) {
            oa_span_free(s);
            return m;
        }
        oa_span_free(m);
        if (!built) {
            oa_span_free(s);
            return NULL;
        }
    }
    m = oa_span_new();
    if (m == NULL || !build(m, s, arg)) {
        oa_span_free(m);
        oa_span_free(s);
        return NULL;
    }
    oa_span_free(s);
    return oa_span_compact(m);
}
