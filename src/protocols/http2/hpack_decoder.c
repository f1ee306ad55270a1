/* The HPACK decoder (see hpack_decoder.h). */
#include <stdlib.h>
#include <string.h>

#include "protocols/http2/hpack_decoder.h"
#include "protocols/http2/hpack_huffman.h"
#include "protocols/http2/hpack_integer.h"
#include "protocols/http2/hpack_static_table.h"

#define SCRATCH_MIN 256u
#define FIRST_DYNAMIC (OA_HPACK_STATIC_ENTRIES + 1)

/* ---- the dynamic table ------------------------------------------------ */

/* (nothing for len 0: dst may then be the scratch space never reserved) */
static void ring_read(const struct oa_hpack_decoder *d, uint32_t off, char *dst, size_t len)
{
    if (len == 0)
        return;
    size_t head = d->capacity - off < len ? d->capacity - off : len;
    memcpy(dst, d->ring + off, head);
    memcpy(dst + head, d->ring, len - head);
}

static void ring_write(struct oa_hpack_decoder *d, uint32_t off, const char *src, size_t len)
{
    if (len == 0)
        return;
    size_t head = d->capacity - off < len ? d->capacity - off : len;
    memcpy(d->ring + off, src, head);
    memcpy(d->ring, src + head, len - head);
}

static const struct oa_hpack_entry *entry_at(const struct oa_hpack_decoder *d, uint32_t newest_first)
{
    return &d->entries[(d->first + d->count - 1 - newest_first) % d->entry_cap];
}

static uint32_t entry_bytes(const struct oa_hpack_entry *e)
{
    return (uint32_t)e->name_len + e->value_len;
}

/* The ring and the entries in one allocation of `capacity` bytes of ring,
 * the entries kept (copied oldest first from offset 0). */
static int alloc_table(struct oa_hpack_decoder *d, uint32_t capacity)
{
    uint32_t entry_cap = capacity / OA_HPACK_ENTRY_OVERHEAD;
    size_t ring_room = ((size_t)capacity + 7) & ~(size_t)7;
    size_t total = ring_room + (size_t)entry_cap * sizeof(struct oa_hpack_entry);
    uint8_t *mem = malloc(total ? total : 1);
    if (mem == NULL)
        return -1;
    struct oa_hpack_entry *entries = (struct oa_hpack_entry *)(mem + ring_room);
    uint32_t off = 0;
    for (uint32_t k = 0; k < d->count; k++) {
        const struct oa_hpack_entry *e = entry_at(d, d->count - 1 - k);
        ring_read(d, e->off, (char *)mem + off, entry_bytes(e));
        entries[k] = (struct oa_hpack_entry){(uint16_t)off, e->name_len, e->value_len};
        off += entry_bytes(e);
    }
    free(d->ring);
    d->ring = mem;
    d->entries = entries;
    d->capacity = capacity;
    d->entry_cap = entry_cap;
    d->first = 0;
    return 0;
}

static void evict_oldest(struct oa_hpack_decoder *d)
{
    const struct oa_hpack_entry *e = &d->entries[d->first];
    d->bytes -= entry_bytes(e);
    d->size -= entry_bytes(e) + OA_HPACK_ENTRY_OVERHEAD;
    d->first = (d->first + 1) % d->entry_cap;
    d->count--;
}

static void evict_to(struct oa_hpack_decoder *d, uint32_t max)
{
    while (d->size > max)
        evict_oldest(d);
}

/* RFC 7541 4.4: make room by evicting the oldest entries; an entry larger
 * than the table's maximum empties it and is not added. The name and value
 * must not point into the ring (eviction frees the bytes the new entry may
 * be written over). */
static void insert(struct oa_hpack_decoder *d, const char *name, size_t name_len, const char *value,
                   size_t value_len)
{
    size_t entry_size = name_len + value_len + OA_HPACK_ENTRY_OVERHEAD;
    if (entry_size > d->max_size) {
        evict_to(d, 0);
        return;
    }
    evict_to(d, d->max_size - (uint32_t)entry_size);
    uint32_t off = d->count ? (d->entries[d->first].off + d->bytes) % d->capacity : 0;
    ring_write(d, off, name, name_len);
    ring_write(d, (uint32_t)((off + name_len) % d->capacity), value, value_len);
    d->entries[(d->first + d->count) % d->entry_cap] =
        (struct oa_hpack_entry){(uint16_t)off, (uint16_t)name_len, (uint16_t)value_len};
    d->count++;
    d->bytes += (uint32_t)(name_len + value_len);
    d->size += (uint32_t)entry_size;
}

/* ---- lifecycle --------------------------------------------------------- */

int oa_hpack_decoder_init(struct oa_hpack_decoder *d, uint32_t max_table)
{
    memset(d, 0, sizeof(*d));
    oa_hpack_huffman_init();
    if (max_table > OA_HPACK_TABLE_MAX || alloc_table(d, max_table) < 0) {
        d->failed = true;
        return -1;
    }
    d->limit = d->max_size = max_table;
    return 0;
}

int oa_hpack_decoder_set_limit(struct oa_hpack_decoder *d, uint32_t max_table)
{
    if (d->failed)
        return -1;
    if (max_table > d->capacity &&
        (max_table > OA_HPACK_TABLE_MAX || alloc_table(d, max_table) < 0)) {
        d->failed = true;
        return -1;
    }
    d->limit = max_table;
    if (d->max_size > max_table) {
        d->max_size = max_table;
        evict_to(d, max_table);
        d->update_due = true;
    }
    return 0;
}

void oa_hpack_decoder_release(struct oa_hpack_decoder *d)
{
    free(d->ring);
    free(d->scratch);
    memset(d, 0, sizeof(*d));
    d->failed = true;
}

long oa_hpack_dynamic_entry(const struct oa_hpack_decoder *d, uint32_t i, char *out, size_t cap,
                            size_t *name_len)
{
    if (i == 0 || i > d->count)
        return -1;
    const struct oa_hpack_entry *e = entry_at(d, i - 1);
    if (entry_bytes(e) > cap)
        return -1;
    ring_read(d, e->off, out, entry_bytes(e));
    *name_len = e->name_len;
    return entry_bytes(e);
}

/* ---- decoding ---------------------------------------------------------- */

/* Room for `need` bytes of decoded strings, the old contents dropped. */
static int reserve_scratch(struct oa_hpack_decoder *d, size_t need)
{
    if (need <= d->scratch_cap)
        return 0;
    if (need > OA_HPACK_SCRATCH_MAX)
        return -1;
    uint32_t cap = SCRATCH_MIN;
    while (cap < need)
        cap *= 2;
    char *s = malloc(cap);
    if (s == NULL)
        return -1;
    free(d->scratch);
    d->scratch = s;
    d->scratch_cap = cap;
    return 0;
}

/* A string literal (RFC 7541 5.2) as it stands in the block. */
struct raw_string {
    const uint8_t *bytes;
    uint32_t len;
    bool huffman;
};

static bool read_string(const uint8_t **p, const uint8_t *end, struct raw_string *s)
{
    if (*p == end)
        return false;
    s->huffman = (**p & 0x80) != 0;
    if (!oa_hpack_int_decode(p, end, 7, &s->len) || (size_t)(end - *p) < s->len)
        return false;
    s->bytes = *p;
    *p += s->len;
    return true;
}

static size_t string_room(const struct raw_string *s)
{
    return s->huffman && s->len > 0 ? oa_hpack_huffman_room(s->len) : 0;
}

/* The string's bytes: in the block itself (also an empty Huffman string:
 * no room was reserved for it), or Huffman-decoded at *room (which then
 * moves past them). */
static bool decode_string(const struct raw_string *s, char **room, const char **out, size_t *out_len)
{
    if (!s->huffman || s->len == 0) {
        *out = (const char *)s->bytes;
        *out_len = s->len;
        return true;
    }
    long n = oa_hpack_huffman_decode(s->bytes, s->len, *room);
    if (n < 0)
        return false;
    *out = *room;
    *out_len = (size_t)n;
    *room += n;
    return true;
}

/* An indexed name and value (1-based index, static then dynamic). A dynamic
 * entry's bytes are in the ring when they do not wrap (copy_always false),
 * else copied to *room, which must hold them. */
struct indexed {
    const struct oa_hpack_static_entry *stat;
    const struct oa_hpack_entry *dyn;
};

static bool lookup(const struct oa_hpack_decoder *d, uint32_t index, struct indexed *x)
{
    x->stat = NULL;
    x->dyn = NULL;
    if (index == 0)
        return false;
    if (index < FIRST_DYNAMIC) {
        x->stat = &oa_hpack_static_table[index - 1];
        return true;
    }
    if (index - FIRST_DYNAMIC >= d->count)
        return false;
    x->dyn = entry_at(d, index - FIRST_DYNAMIC);
    return true;
}

static bool dyn_wraps(const struct oa_hpack_decoder *d, const struct oa_hpack_entry *e)
{
    return (uint32_t)e->off + entry_bytes(e) > d->capacity;
}

/* The field's name (and value when want_value) from an indexed entry. */
static void indexed_strings(const struct oa_hpack_decoder *d, const struct indexed *x, bool copy, char **room,
                            struct oa_hpack_field *f, bool want_value)
{
    if (x->stat != NULL) {
        f->name = x->stat->name;
        f->name_len = x->stat->name_len;
        if (want_value) {
            f->value = x->stat->value;
            f->value_len = x->stat->value_len;
        }
        return;
    }
    const struct oa_hpack_entry *e = x->dyn;
    size_t len = want_value ? entry_bytes(e) : e->name_len;
    const char *at;
    if (len == 0) {
        at = ""; /* no room was reserved for nothing */
    } else if (copy || dyn_wraps(d, e)) {
        ring_read(d, e->off, *room, len);
        at = *room;
        *room += len;
    } else {
        at = (const char *)d->ring + e->off;
    }
    f->name = at;
    f->name_len = e->name_len;
    if (want_value) {
        f->value = at + e->name_len;
        f->value_len = e->value_len;
    }
}

/* The size update `001xxxxx` (RFC 7541 6.3). */
static bool size_update(struct oa_hpack_decoder *d, const uint8_t **p, const uint8_t *end)
{
    uint32_t max;
    if (!oa_hpack_int_decode(p, end, 5, &max) || max > d->limit)
        return false;
    d->max_size = max;
    evict_to(d, max);
    d->update_due = false;
    return true;
}

/* An indexed field `1xxxxxxx` (RFC 7541 6.1). */
static bool indexed_field(struct oa_hpack_decoder *d, const uint8_t **p, const uint8_t *end,
                          oa_hpack_field_fn fn, void *arg)
{
    uint32_t index;
    struct indexed x;
    if (!oa_hpack_int_decode(p, end, 7, &index) || !lookup(d, index, &x))
        return false;
    if (fn == NULL)
        return true;
    if (x.dyn != NULL && dyn_wraps(d, x.dyn) && reserve_scratch(d, entry_bytes(x.dyn)) < 0)
        return false;
    char *room = d->scratch;
    struct oa_hpack_field f = {0};
    indexed_strings(d, &x, false, &room, &f, true);
    fn(arg, &f);
    return true;
}

/* A literal `01xxxxxx` (incremental indexing), `0000xxxx` (without
 * indexing) or `0001xxxx` (never indexed) (RFC 7541 6.2). */
static bool literal_field(struct oa_hpack_decoder *d, const uint8_t **p, const uint8_t *end,
                          oa_hpack_field_fn fn, oa_hpack_want_fn want, void *arg)
{
    bool indexing = (**p & 0x40) != 0;
    struct oa_hpack_field f = {.never_indexed = !indexing && (**p & 0x10) != 0};
    uint32_t index;
    struct indexed x = {0};
    struct raw_string name = {0}, value;
    if (!oa_hpack_int_decode(p, end, indexing ? 6 : 4, &index))
        return false;
    if (index == 0 ? !read_string(p, end, &name) : !lookup(d, index, &x))
        return false;
    if (!read_string(p, end, &value))
        return false;
    /* a name from the dynamic table is copied when the field is added:
     * making room for it may evict the entry it came from */
    bool copy_name = indexing && x.dyn != NULL;
    /* decided once the name is known: whether the value is decoded at all */
    bool maybe_skip = !indexing && want != NULL && fn != NULL && value.huffman && value.len > 0;
    size_t need = string_room(&name) + string_room(&value);
    if (x.dyn != NULL && (copy_name || dyn_wraps(d, x.dyn)))
        need += x.dyn->name_len;
    if (need > 0 && reserve_scratch(d, need) < 0)
        return false;
    char *room = d->scratch;
    if (index == 0) {
        if (!decode_string(&name, &room, &f.name, &f.name_len))
            return false;
    } else {
        indexed_strings(d, &x, copy_name, &room, &f, false);
    }
    if (maybe_skip && !want(arg, f.name, f.name_len)) {
        f.value = "";
        f.skipped_len = (size_t)value.len * 8 / 5; /* the shortest code has 5 bits */
    } else if (!decode_string(&value, &room, &f.value, &f.value_len)) {
        return false;
    }
    if (fn != NULL)
        fn(arg, &f);
    if (indexing)
        insert(d, f.name, f.name_len, f.value, f.value_len);
    return true;
}

int oa_hpack_decode_block(struct oa_hpack_decoder *d, const uint8_t *block, size_t n, oa_hpack_field_fn fn,
                          void *arg)
{
    return oa_hpack_decode_block_wanted(d, block, n, fn, NULL, arg);
}

int oa_hpack_decode_block_wanted(struct oa_hpack_decoder *d, const uint8_t *block, size_t n, oa_hpack_field_fn fn,
                                 oa_hpack_want_fn want, void *arg)
{
    if (d->failed)
        return -1;
    const uint8_t *p = block, *end = block + n;
    bool at_start = true;
    while (p < end) {
        bool ok;
        if ((*p & 0xe0) == 0x20) {
            /* RFC 7541 4.2: only at the start of a block */
            ok = at_start && size_update(d, &p, end);
        } else if (d->update_due) {
            ok = false; /* the limit fell: the block had to start with an update */
        } else {
            at_start = false;
            ok = (*p & 0x80) ? indexed_field(d, &p, end, fn, arg) : literal_field(d, &p, end, fn, want, arg);
        }
        if (!ok) {
            d->failed = true;
            return -1;
        }
    }
    return 0;
}
