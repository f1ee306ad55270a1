/* Decompression of a gzip request body (Content-Encoding: gzip). */
#ifndef OTELAUTO_GZIP_INFLATE_H
#define OTELAUTO_GZIP_INFLATE_H

#include <stddef.h>
#include <stdint.h>

enum gzip_result { GZIP_OK = 0, GZIP_MALFORMED = -1, GZIP_TOO_LARGE = -2, GZIP_NO_MEMORY = -3 };

/* Inflates in[0..len) into a malloc'ed *out of at most max_out bytes. */
enum gzip_result gzip_inflate(const uint8_t *in, size_t len, size_t max_out, uint8_t **out, size_t *out_len);

#endif
