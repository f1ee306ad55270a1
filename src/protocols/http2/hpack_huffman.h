/* The Huffman code of HPACK string literals (RFC 7541 5.2, Appendix B),
 * decoded four bits at a time through a table of transitions: a state is an
 * internal node of the code's tree (256 of them), and a nibble takes it to
 * another node, emitting at most one symbol on the way (the shortest code is
 * 5 bits). The table is built once from the code itself, by
 * oa_hpack_huffman_init. */
#ifndef OA_HPACK_HUFFMAN_H
#define OA_HPACK_HUFFMAN_H

#include <stddef.h>
#include <stdint.h>

/* Builds the decoding table, once per process (pthread_once); every decoder
 * calls it at init so decoding itself checks nothing. */
void oa_hpack_huffman_init(void);

/* The room decoding n bytes needs: the most they decode to (every code is
 * at least 5 bits), and one byte of slack for the decoder's writes. */
static inline size_t oa_hpack_huffman_room(size_t n)
{
    return n / 5 * 8 + (n % 5) * 8 / 5 + 1;
}

/* Decodes n bytes into out, which holds oa_hpack_huffman_room(n) bytes. Returns the decoded length, or -1 when the input is not a valid
 * encoding: it holds EOS, or ends in padding longer than 7 bits or not all
 * ones (RFC 7541 5.2). */
long oa_hpack_huffman_decode(const uint8_t *in, size_t n, char *out);

/* The length n bytes take Huffman-coded, in bytes (the last one padded). */
size_t oa_hpack_huffman_encoded_len(const char *in, size_t n);

/* Huffman-codes n bytes into out (RFC 7541 5.2: padded with the start of
 * EOS). Returns the bytes written, 0 when cap is too small. */
size_t oa_hpack_huffman_encode(const char *in, size_t n, uint8_t *out, size_t cap);

#endif
