/* HPACK decoding (RFC 7541), one decoder per connection and direction: the
 * static table, the dynamic table with its eviction and size updates,
 * integers, string literals plain and Huffman-coded, never-indexed fields.
 *
 * Memory is bounded and allocated at init and set_limit only, except the
 * scratch space for Huffman-decoded strings:
 *   - the dynamic table is a ring of bytes as big as the limit (names and
 *     values back to back; the 32 bytes of overhead per entry are not
 *     stored) and a ring of entries (offset, lengths) of limit / 32, the most
 *     entries the limit allows: 4096 -> 4 KiB + 768 bytes. Limits above
 *     OA_HPACK_TABLE_MAX are refused (-1: the caller passes the connection
 *     through).
 *   - the scratch space holds a field's Huffman-decoded name and value, and
 *     an entry that wraps around the end of the ring. It grows on demand
 *     (powers of two from 256 bytes) up to OA_HPACK_SCRATCH_MAX = 64 KiB, so
 *     most connections keep a few hundred bytes, and a field whose Huffman
 *     strings take up to 40 KiB in the block (decoding to 64 KiB at most:
 *     every code is 5 bits or more) still decodes, a 16 KiB header easily;
 *     a field that needs more is a decoding error (-1). Strings sent
 *     without Huffman are never copied: they point into the block.
 * Decoding allocates only when the scratch grows: at most once per new
 * largest field on the connection. */
#ifndef OA_HPACK_DECODER_H
#define OA_HPACK_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/http2/hpack_literal.h"

#define OA_HPACK_TABLE_MAX 65536u
#define OA_HPACK_SCRATCH_MAX 65536u
/* RFC 7541 4.1: an entry's size is its name, its value and this */
#define OA_HPACK_ENTRY_OVERHEAD 32u

struct oa_hpack_field {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
    /* a value not decoded (oa_hpack_want_fn): value is "" and value_len 0,
     * and this is its decoded length's upper bound; else 0 */
    size_t skipped_len;
    bool never_indexed; /* a literal never indexed (RFC 7541 6.2.3) */
};

/* Called for every field of a block, in order; the strings are valid only
 * during the call. */
typedef void (*oa_hpack_field_fn)(void *arg, const struct oa_hpack_field *f);
/* Whether the consumer reads the value of a field of this name. A value it
 * does not read, Huffman-coded in a literal that is not indexed, is not
 * decoded (it changes no table): the field then comes with an empty value
 * and skipped_len, the decoded length's upper bound (8/5 of the coded one). */
typedef bool (*oa_hpack_want_fn)(void *arg, const char *name, size_t name_len);

/* An entry of the dynamic table: where its name starts in the byte ring
 * (the value follows it, both possibly wrapping). */
struct oa_hpack_entry {
    uint16_t off;
    uint16_t name_len;
    uint16_t value_len;
};

struct oa_hpack_decoder {
    uint8_t *ring;                  /* `capacity` bytes */
    struct oa_hpack_entry *entries; /* `entry_cap` entries, oldest at `first` */
    uint32_t capacity;              /* bytes of the ring: the largest limit so far */
    uint32_t entry_cap;             /* capacity / 32 */
    uint32_t first;                 /* the oldest entry */
    uint32_t count;                 /* entries in the table */
    uint32_t bytes;                 /* ring bytes in use, from the oldest entry's offset */
    uint32_t size;                  /* the table's size (RFC 7541 4.1) */
    uint32_t max_size;              /* its maximum, from the last size update */
    uint32_t limit;                 /* SETTINGS_HEADER_TABLE_SIZE: the most a size update may ask */
    bool update_due;                /* the limit fell below max_size: the next block starts with an update */
    bool failed;                    /* a decoding error happened: every later block fails too */
    char *scratch;
    uint32_t scratch_cap;
};

/* max_table: SETTINGS_HEADER_TABLE_SIZE of the decoding side (4096 until
 * SETTINGS say otherwise), also the table's initial maximum size. 0, or -1
 * (above OA_HPACK_TABLE_MAX, or no memory). */
int oa_hpack_decoder_init(struct oa_hpack_decoder *d, uint32_t max_table);

/* The decoding side's SETTINGS_HEADER_TABLE_SIZE changed (acknowledged): the
 * new limit for size updates. A limit below the table's current maximum
 * shrinks the table now and requires the next block to start with a size
 * update (RFC 7541 4.2), as nghttp2 does; a larger one grows the ring (the
 * table's maximum stays until the encoder raises it). 0, or -1 (above
 * OA_HPACK_TABLE_MAX, or no memory: the decoder is then failed). */
int oa_hpack_decoder_set_limit(struct oa_hpack_decoder *d, uint32_t max_table);

/* Decodes one complete header block (the fragments of HEADERS/PUSH_PROMISE
 * and CONTINUATIONs, concatenated, padding removed), calling fn (when not
 * NULL) for each field. 0 = ok; -1 = a decoding error: the decoder is then
 * failed for good (the caller gives the connection up). Every field is
 * decoded and the table updated even if the caller only wants a few fields,
 * so the table never diverges. */
int oa_hpack_decode_block(struct oa_hpack_decoder *d, const uint8_t *block, size_t n, oa_hpack_field_fn fn,
                          void *arg);
/* The same, but a Huffman-coded value of a literal that is not indexed and
 * whose name want (when not NULL) refuses is not decoded (see
 * oa_hpack_want_fn): nothing the table keeps is skipped, so it never
 * diverges; such a value is not checked either (the peer's own decoder
 * judges it). */
int oa_hpack_decode_block_wanted(struct oa_hpack_decoder *d, const uint8_t *block, size_t n, oa_hpack_field_fn fn,
                                 oa_hpack_want_fn want, void *arg);

void oa_hpack_decoder_release(struct oa_hpack_decoder *d);

/* The dynamic table's entry `i` (1 = the newest, as index 62 of a block),
 * its name then its value copied to out. The total length, or -1 when there
 * is no such entry or it does not fit. For tests and diagnostics. */
long oa_hpack_dynamic_entry(const struct oa_hpack_decoder *d, uint32_t i, char *out, size_t cap,
                            size_t *name_len);

#endif
