/* zlib with a gzip wrapper (16 + MAX_WBITS). The output is capped: a small
 * compressed body can claim gigabytes. */
#include "gzip_inflate.h"

#include <stdlib.h>
#include <zlib.h>

enum gzip_result gzip_inflate(const uint8_t *in, size_t len, size_t max_out, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    z_stream zs = {0};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return GZIP_NO_MEMORY;
    size_t cap = len * 4 + 1024;
    if (cap > max_out)
        cap = max_out;
    uint8_t *buf = malloc(cap ? cap : 1);
    enum gzip_result result = GZIP_OK;
    size_t used = 0;
    zs.next_in = (Bytef *)in;
    size_t in_left = len;
    for (;;) {
        if (buf == NULL) {
            result = GZIP_NO_MEMORY;
            break;
        }
        if (used == cap) {
            if (cap >= max_out) {
                result = GZIP_TOO_LARGE;
                break;
            }
            size_t bigger_cap = cap * 2 > max_out ? max_out : cap * 2;
            uint8_t *bigger = realloc(buf, bigger_cap);
            if (bigger == NULL) {
                result = GZIP_NO_MEMORY;
                break;
            }
            buf = bigger;
            cap = bigger_cap;
        }
        /* zlib counts in uInt: feed at most 1 GiB at a time */
        if (zs.avail_in == 0 && in_left > 0) {
            zs.avail_in = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
            in_left -= zs.avail_in;
        }
        size_t room = cap - used;
        zs.next_out = buf + used;
        zs.avail_out = room > (1u << 30) ? (1u << 30) : (uInt)room;
        uInt before = zs.avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        used += before - zs.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) {
            result = GZIP_MALFORMED; /* truncated */
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            result = rc == Z_MEM_ERROR ? GZIP_NO_MEMORY : GZIP_MALFORMED;
            break;
        }
    }
    inflateEnd(&zs);
    if (result != GZIP_OK) {
        free(buf);
        return result;
    }
    *out = buf;
    *out_len = used;
    return GZIP_OK;
}
