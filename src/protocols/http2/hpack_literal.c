/* The literal encoder (see hpack_literal.h). */
#include <string.h>

#include "protocols/http2/hpack_integer.h"
#include "protocols/http2/hpack_literal.h"

/* A string literal without Huffman: H = 0, a 7-bit-prefix length, the bytes. */
static size_t put_string(uint8_t *out, size_t cap, const char *s, size_t len)
{
    if (len > UINT32_MAX)
        return 0;
    size_t n = oa_hpack_int_encode(out, cap, 0x00, 7, (uint32_t)len);
    if (n == 0 || cap - n < len)
        return 0;
    memcpy(out + n, s, len);
    return n + len;
}

size_t oa_hpack_literal_without_indexing(uint8_t *out, size_t cap, const char *name, size_t name_len,
                                         const char *value, size_t value_len)
{
    if (cap < 1)
        return 0;
    out[0] = 0x00; /* 0000 + index 0: without indexing, new name */
    size_t n = put_string(out + 1, cap - 1, name, name_len);
    if (n == 0)
        return 0;
    size_t v = put_string(out + 1 + n, cap - 1 - n, value, value_len);
    if (v == 0)
        return 0;
    return 1 + n + v;
}
