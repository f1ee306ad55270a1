/* What RESP's two parsers (resp_command.c, resp_reply.c) share: a length's
 * digits read up to its '\r', and a bulk string's payload and closing CRLF
 * counted, never buffered. Both take as many bytes as are there in one
 * step, so a whole command or reply in one buffer costs a few loops, not a
 * state change per byte; a buffer cut anywhere gives the same results (the
 * state is in the caller's fields). */
#ifndef OA_RESP_SCAN_H
#define OA_RESP_SCAN_H

#include <stddef.h>
#include <stdint.h>

enum oa_resp_scan {
    OA_RESP_SCAN_MORE,  /* every byte given was taken */
    OA_RESP_SCAN_END,   /* the item ended: *i is just past it */
    OA_RESP_SCAN_BAD,   /* b[*i] is not what RESP has there */
};

/* Digits of a length from b[*i..n) into *number (*digits of them so far,
 * at most max), through the '\r' that ends them; the caller checks the
 * count and reads the '\n'. */
static inline enum oa_resp_scan oa_resp_scan_digits(const char *b, size_t n, size_t *i, uint64_t *number,
                                                    uint8_t *digits, unsigned max)
{
    size_t j = *i;
    uint64_t v = *number;
    unsigned d = *digits;
    enum oa_resp_scan r = OA_RESP_SCAN_MORE;
    while (j < n) {
        unsigned c = (unsigned char)b[j];
        if (c - '0' <= 9u && d < max) {
            v = v * 10 + (c - '0');
            d++;
            j++;
        } else {
            if (c == '\r') {
                j++;
                r = OA_RESP_SCAN_END;
            } else {
                r = OA_RESP_SCAN_BAD;
            }
            break;
        }
    }
    *i = j;
    *number = v;
    *digits = (uint8_t)d;
    return r;
}

/* The rest of a bulk string from b[*i..n): *left bytes of it still to come,
 * its payload then "\r\n". *payload says how many of the bytes taken (from
 * the old *i) are payload. */
static inline enum oa_resp_scan oa_resp_scan_bulk(uint64_t *left, const char *b, size_t n, size_t *i, size_t *payload)
{
    size_t k = n - *i;
    if (k > *left)
        k = (size_t)*left;
    uint64_t data_left = *left > 2 ? *left - 2 : 0;
    size_t data = k < data_left ? k : (size_t)data_left;
    *payload = data;
    if (k == *left && k >= 2 && b[*i + k - 2] == '\r' && b[*i + k - 1] == '\n') {
        /* the item whole here and well closed (the common case): no loop
         * over its CRLF; a bad one is found below */
        *left = 0;
        *i += k;
        return OA_RESP_SCAN_END;
    }
    for (size_t j = data; j < k; j++) {
        /* the closing CRLF: '\r' when two bytes are left, then '\n' */
        if (b[*i + j] != (*left - j == 2 ? '\r' : '\n')) {
            *left -= j;
            *i += j;
            return OA_RESP_SCAN_BAD;
        }
    }
    *left -= k;
    *i += k;
    return *left == 0 ? OA_RESP_SCAN_END : OA_RESP_SCAN_MORE;
}

#endif
