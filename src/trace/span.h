/* A finished (or finishing) span: one heap block holding the ids, timing,
 * status, attributes and the bytes of every string they refer to. Built on
 * the program's thread, handed to the export queue, freed by the exporter.
 * A span may also travel raw: its ids and timing with the facts its
 * attributes are made of (src/http_raw_span.c), built into a full span by
 * the exporter thread. */
#ifndef OA_SPAN_H
#define OA_SPAN_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "base/common.h"
#include "base/short_copy.h"
#include "trace/traceparent.h"

/* OTLP SpanKind / StatusCode numbers */
enum oa_span_kind {
    OA_SPAN_KIND_INTERNAL = 1,
    OA_SPAN_KIND_SERVER = 2,
    OA_SPAN_KIND_CLIENT = 3,
};

enum oa_status_code {
    OA_STATUS_UNSET = 0,
    OA_STATUS_OK = 1,
    OA_STATUS_ERROR = 2,
};

#define OA_SPAN_MAX_ATTRS 24
/* Room for all string bytes of a span (name, attribute values, tracestate).
 * A string that does not fit is truncated; one that cannot fit at all is
 * dropped and counted in dropped_attrs. */
#define OA_SPAN_ARENA 3072
/* No single attribute value longer than this (url.full, user_agent.original) */
#define OA_SPAN_MAX_VALUE_LEN 1024

/* Which block a span is, and so which pool it goes back to. */
enum oa_span_form {
    OA_SPAN_FULL = 0,
    OA_SPAN_COMPACT, /* arena cut to its used part (oa_span_compact) */
    OA_SPAN_RAW_SMALL, /* attributes not built yet: see struct oa_span_raw */
    OA_SPAN_RAW,       /* the same, in a block with all OA_SPAN_RAW_BYTES */
};

/* Room for the tracestate and the request head of a raw span. With the
 * other fields, a raw block is no larger than a compact span; most heads
 * fit the small blocks, with room for OA_SPAN_RAW_SMALL_BYTES only. */
#define OA_SPAN_RAW_BYTES 1280
#define OA_SPAN_RAW_SMALL_BYTES 512

struct oa_span;

/* What the exporter thread does with a raw span of one protocol. The raw
 * span carries a pointer to its protocol's table, so that the exporter
 * builds spans of any protocol without knowing one (the protocols sit above
 * the exporter); recording costs the program's thread one pointer store. */
struct oa_span_raw_ops {
    /* The full span (compacted when it can be) that the program's thread
     * would have built, with s freed; NULL, with s freed, when it cannot be
     * built. Called by one thread at a time. */
    struct oa_span *(*materialize)(struct oa_span *s);
    /* The same span built into the full block dst, s left as it is: no
     * allocation, no lock, scratch of its own (the crash capture, in a
     * signal handler, while the exporter may be materializing). false when
     * it cannot be built. Called by one thread at a time. */
    bool (*build_into)(struct oa_span *dst, const struct oa_span *s);
};

/* The facts a span's name and attributes are made of, recorded on the
 * program's thread in place of the attributes (for HTTP, see
 * src/protocols/http1/http_raw_span.h). */
struct oa_span_raw {
    const struct oa_span_raw_ops *ops; /* set by the protocol that records it */
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } peer;
    socklen_t peer_len;
    bool tls;
    int status;               /* final response status, 0 if none */
    const char *error;        /* error.type (a static string) or NULL */
    uint16_t trace_state_len; /* bytes[0..len), then a NUL, or 0: none */
    uint16_t head_len;        /* the request head, after the tracestate */
    char bytes[OA_SPAN_RAW_BYTES];
};

struct oa_span {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_span_id[8];
    bool has_parent;
    bool parent_is_remote;
    uint8_t trace_flags;         /* W3C flags (sampled, random) */
    uint8_t kind;                /* enum oa_span_kind */
    uint8_t status_code;         /* enum oa_status_code */
    uint8_t form;                /* enum oa_span_form */
    bool arena_short;            /* a string was cut or left out (no room, or too long) */
    uint64_t start_unix_nano;
    uint64_t end_unix_nano;
    const char *name;            /* NUL-terminated, in arena */
    const char *trace_state;     /* NUL-terminated, in arena, or NULL */
    const char *status_message;  /* NUL-terminated, in arena, or NULL */
    uint32_t n_attrs;
    uint32_t dropped_attrs;
    uint64_t key_bloom;          /* which key hashes are among attrs (span.c) */
    union {
        struct {
            struct oa_attr attrs[OA_SPAN_MAX_ATTRS];
            uint32_t arena_used;
            char arena[OA_SPAN_ARENA];
        };
        struct oa_span_raw raw;  /* form OA_SPAN_RAW[_SMALL] (a block that ends after it, or
                                  * after OA_SPAN_RAW_SMALL_BYTES of its bytes) */
    };
};

/* from the span pool, fields zeroed; NULL on allocation failure */
struct oa_span *oa_span_new(void);
/* The same in a compact block (form OA_SPAN_COMPACT), with room for
 * OA_SPAN_COMPACT_ARENA bytes of strings: for a span whose strings are
 * known to be few, built where it will wait. A string that does not fit
 * sets arena_short: the span then differs from one built in a full block. */
#define OA_SPAN_COMPACT_ARENA 640
struct oa_span *oa_span_new_compact(void);
/* A raw span with room for `bytes` in raw.bytes (form OA_SPAN_RAW_SMALL or
 * OA_SPAN_RAW), from pools of smaller blocks, the fields before attrs
 * zeroed, raw not; NULL when bytes is over OA_SPAN_RAW_BYTES or on
 * allocation failure. */
struct oa_span *oa_span_new_raw(size_t bytes);
static inline bool oa_span_is_raw(const struct oa_span *s)
{
    return s->form == OA_SPAN_RAW || s->form == OA_SPAN_RAW_SMALL;
}
/* The bytes a raw span's block has in raw.bytes: what a record read back
 * (on the exporter, or by the crash capture from a state half written) is
 * checked against. */
static inline size_t oa_span_raw_capacity(const struct oa_span *s)
{
    return s->form == OA_SPAN_RAW_SMALL ? OA_SPAN_RAW_SMALL_BYTES : OA_SPAN_RAW_BYTES;
}
/* A raw record's start, on the program's thread: raw.bytes get the
 * tracestate (ts_len bytes, then a NUL) and raw its lengths; returns where
 * the protocol's own head_len bytes (its facts, then its strings) go. The
 * block (oa_span_new_raw) has room for ts_len + 1 + head_len. */
static inline char *oa_span_raw_put_head(struct oa_span *s, const char *tracestate, size_t ts_len, size_t head_len)
{
    struct oa_span_raw *r = &s->raw;
    r->trace_state_len = (uint16_t)ts_len;
    r->head_len = (uint16_t)head_len;
    if (ts_len > 0)
        memcpy(r->bytes, tracestate, ts_len);
    r->bytes[ts_len] = '\0';
    return r->bytes + ts_len + 1;
}
/* Read back: the protocol's head_len bytes of the raw span s, or NULL when
 * they are fewer than min_len or do not fit its block (only a record read
 * while it is being written, by the crash capture, can have such). */
static inline const char *oa_span_raw_head(const struct oa_span *s, size_t min_len)
{
    const struct oa_span_raw *r = &s->raw;
    if ((size_t)r->trace_state_len + 1 + r->head_len > oa_span_raw_capacity(s) || r->head_len < min_len)
        return NULL;
    return r->bytes + r->trace_state_len + 1;
}
void oa_span_free(struct oa_span *s);
/* The exporter's side: a raw span built by its protocol's materialize (see
 * struct oa_span_raw_ops), any other span s itself. */
static inline struct oa_span *oa_span_materialize(struct oa_span *s)
{
    return s != NULL && oa_span_is_raw(s) ? s->raw.ops->materialize(s) : s;
}
/* The exporter's side of a raw span s, for its protocol's materialize:
 * build(m, s, arg) writes the span into the fresh block m (false: s cannot
 * be built). Most spans' strings fit a compact block: built there at once,
 * with no full block filled and copied. One whose strings do not fit is
 * built again in a full block, so that it is the span the program's thread
 * would have built (cut where that one is cut, not sooner), then compacted.
 * s is freed; NULL when it cannot be built or no block is free. */
struct oa_span *oa_span_build_from_raw(struct oa_span *s,
                                       bool (*build)(struct oa_span *m, const struct oa_span *s, void *arg),
                                       void *arg);
/* The exporter's (and the crash capture's) first step in building the raw
 * span s into the fresh block m: m takes s's ids, flags, parent, kind and
 * times, and its tracestate (the first string of m's arena, as
 * oa_span_begin stores it). */
void oa_span_take_raw_context(struct oa_span *m, const struct oa_span *s);
/* dst, a full block of the caller's (the crash capture's scratch), made an
 * empty full span to build a raw one into. */
void oa_span_clear_full(struct oa_span *dst);
/* A finished span moved into a block that holds only the arena bytes it uses
 * (most spans use a few hundred of the 3 KiB), so that spans waiting in the
 * export queue take a third of the memory. Returns the moved span (s is then
 * freed) or s itself when it does not fit or nothing is free. The result may
 * only be read, encoded and freed: its arena has no room left. */
struct oa_span *oa_span_compact(struct oa_span *s);
/* A copy of the built span s (full or compact, not raw) in the full block
 * dst, its strings in dst's arena: s is left as it is. No allocation, no
 * lock (the crash capture builds its copies this way, src/lifecycle/crash.c). */
void oa_span_copy_full(struct oa_span *dst, const struct oa_span *s);

/* Copies len bytes (truncated to fit, NUL added) into the arena. Returns the
 * copy or NULL if the arena is full. */
const char *oa_span_store(struct oa_span *s, const char *str, size_t len);

void oa_span_set_name(struct oa_span *s, const char *name, size_t len);
/* A name with static lifetime, pointed to (NUL-terminated). */
static inline void oa_span_set_static_name(struct oa_span *s, const char *name)
{
    s->name = name;
}
/* key must be a string with static lifetime (semantic convention names).
 * Setting a key again replaces its value. These are macros so that the key's
 * bloom bit (see key_bloom) and length (the encoder's: struct oa_attr's
 * key_len) are computed by the compiler for a literal key; key is evaluated
 * more than once. */
#define oa_span_attr_str(s, key, val, len) \
    oa_span_attr_str_keyed((s), (key), oa_span_key_bit(key), __builtin_strlen(key), (val), (len))
#define oa_span_attr_int(s, key, val) \
    oa_span_attr_int_keyed((s), (key), oa_span_key_bit(key), __builtin_strlen(key), (val))
/* A value with static lifetime (a literal, an entry of a constant table):
 * pointed to, not copied into the arena (as keys are), its common case
 * inlined. A span's strings are then no longer all in its arena; nothing
 * reads them but through their pointers. */
#define oa_span_attr_static_inline(s, key, val, len) \
    oa_span_attr_static_fast((s), (key), oa_span_key_bit(key), __builtin_strlen(key), (val), (len))
/* The same with the common case inlined where it is called: for the code
 * that sets a span's many attributes in a row on every request (the HTTP
 * spans the exporter thread builds), where a call cost about as much as
 * its body. Elsewhere the calls above keep the library small. */
#define oa_span_attr_str_inline(s, key, val, len) \
    oa_span_attr_str_fast((s), (key), oa_span_key_bit(key), __builtin_strlen(key), (val), (len))
#define oa_span_attr_int_inline(s, key, val) \
    oa_span_attr_int_fast((s), (key), oa_span_key_bit(key), __builtin_strlen(key), (val))

/* One of 64 bits for a key, from its length and three of its bytes: equal
 * keys get equal bits, so a key whose bit is not in key_bloom is new. (The
 * mix gives the HTTP semantic-convention keys of a span distinct bits.) */
static inline uint64_t oa_span_key_bit(const char *key)
{
    size_t len = __builtin_strlen(key);
    unsigned first = (unsigned char)key[0];
    unsigned last = len > 0 ? (unsigned char)key[len - 1] : 0;
    unsigned mid = (unsigned char)key[len / 2];
    return 1ull << ((len + first + last + mid * 3u) & 63);
}

void oa_span_attr_str_keyed(struct oa_span *s, const char *key, uint64_t key_bit, size_t key_len,
                            const char *val, size_t len);
void oa_span_attr_int_keyed(struct oa_span *s, const char *key, uint64_t key_bit, size_t key_len, int64_t val);

/* The setters in full (a key set again, no slot left, a value that is long
 * or does not fit): what the fast paths below fall back to. */
void oa_span_attr_str_any(struct oa_span *s, const char *key, uint64_t key_bit, size_t key_len, const char *val,
                          size_t len);
void oa_span_attr_int_any(struct oa_span *s, const char *key, uint64_t key_bit, size_t key_len, int64_t val);

/* The bytes of arena a span's block has. */
static inline size_t oa_span_arena_size(const struct oa_span *s)
{
    return s->form == OA_SPAN_COMPACT ? OA_SPAN_COMPACT_ARENA : OA_SPAN_ARENA;
}

/* The common tail of the fast setters: slot n (free, checked by the
 * caller) takes key, of the type given, and the key is marked set; the
 * caller writes the value into the slot returned. */
static inline __attribute__((always_inline)) struct oa_attr *oa_span_take_slot(struct oa_span *s, uint32_t n,
                                                                                const char *key, uint64_t key_bit,
                                                                                size_t key_len, enum oa_value_type type)
{
    struct oa_attr *a = &s->attrs[n];
    s->key_bloom |= key_bit;
    s->n_attrs = n + 1;
    a->key = key;
    a->key_len = (uint32_t)key_len;
    a->type = type;
    return a;
}

/* A string slot: the value's bytes at ptr. */
static inline __attribute__((always_inline)) void oa_span_fill_str_slot(struct oa_span *s, uint32_t n, const char *key,
                                                                          uint64_t key_bit, size_t key_len,
                                                                          const char *ptr, size_t len)
{
    struct oa_attr *a = oa_span_take_slot(s, n, key, key_bit, key_len, OA_VALUE_STRING);
    a->v.str.ptr = ptr;
    a->v.str.len = (uint32_t)len;
}

/* The common case in a few instructions (oa_span_attr_str_keyed is this,
 * not inlined): a key not set before (its bit is not in key_bloom), a free
 * slot, and room for a short value. What it does is what the full setters
 * do in that case. */
static inline __attribute__((always_inline)) void oa_span_attr_str_fast(struct oa_span *s, const char *key,
                                                                         uint64_t key_bit, size_t key_len,
                                                                         const char *val, size_t len)
{
    uint32_t n = s->n_attrs;
    uint32_t used = s->arena_used;

    /* (short values: copied without a call, so that this path makes none) */
    if (__builtin_expect(!(s->key_bloom & key_bit) && n < OA_SPAN_MAX_ATTRS && len <= 32 &&
                             len < oa_span_arena_size(s) - used,
                         1)) {
        char *dst = s->arena + used;
        oa_copy_upto32(dst, val, len);
        dst[len] = '\0';
        s->arena_used = used + (uint32_t)len + 1;
        oa_span_fill_str_slot(s, n, key, key_bit, key_len, dst, len);
        return;
    }
    oa_span_attr_str_any(s, key, key_bit, key_len, val, len);
}

static inline __attribute__((always_inline)) void oa_span_attr_static_fast(struct oa_span *s, const char *key,
                                                                           uint64_t key_bit, size_t key_len,
                                                                           const char *val, size_t len)
{
    uint32_t n = s->n_attrs;

    if (__builtin_expect(!(s->key_bloom & key_bit) && n < OA_SPAN_MAX_ATTRS && len <= OA_SPAN_MAX_VALUE_LEN, 1)) {
        oa_span_fill_str_slot(s, n, key, key_bit, key_len, val, len);
        return;
    }
    /* a key set again, no slot left, a value to cut: copied, as any */
    oa_span_attr_str_any(s, key, key_bit, key_len, val, len);
}

static inline __attribute__((always_inline)) void oa_span_attr_int_fast(struct oa_span *s, const char *key,
                                                                         uint64_t key_bit, size_t key_len,
                                                                         int64_t val)
{
    uint32_t n = s->n_attrs;

    if (__builtin_expect(!(s->key_bloom & key_bit) && n < OA_SPAN_MAX_ATTRS, 1)) {
        oa_span_take_slot(s, n, key, key_bit, key_len, OA_VALUE_INT)->v.i = val;
        return;
    }
    oa_span_attr_int_any(s, key, key_bit, key_len, val);
}
const struct oa_attr *oa_span_find_attr(const struct oa_span *s, const char *key);

#endif
