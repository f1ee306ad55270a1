/* Encoding the one HPACK representation the shim adds to a peer's header
 * blocks. */
#ifndef OA_HPACK_LITERAL_H
#define OA_HPACK_LITERAL_H

#include <stddef.h>
#include <stdint.h>

/* Encodes a literal header field without indexing, new name, no Huffman
 * (RFC 7541 6.2.2): the injection form that leaves the peer's table
 * untouched. Returns bytes written, 0 when cap is too small. */
size_t oa_hpack_literal_without_indexing(uint8_t *out, size_t cap, const char *name, size_t name_len,
                                         const char *value, size_t value_len);

#endif
