/* libFuzzer target for baggage sanitising: the output fits the buffer and
 * the bounds (bytes and members), is NUL-terminated, and is a fixed point
 * (sanitising it again gives the same bytes). The output buffer is sized
 * from the input, so small buffers are exercised too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/baggage.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_baggage: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cap;
    char *out;
    char *again;
    size_t n;
    size_t m;
    size_t members = 0;

    if (size < 1)
        return 0;
    /* first byte: 0 => the full bound, otherwise a small buffer */
    cap = data[0] == 0 ? OA_BAGGAGE_MAX + 1 : (size_t)data[0];
    data++;
    size--;
    out = malloc(cap);
    again = malloc(cap);
    if (!out || !again)
        abort();
    n = oa_baggage_sanitize((const char *)data, size, out, cap);
    if (n >= cap || n > OA_BAGGAGE_MAX)
        fail("output longer than the buffer or the bound");
    if (out[n] != '\0' || strlen(out) != n)
        fail("length does not match the NUL-terminated output");
    for (size_t i = 0; i < n; i++)
        members += out[i] == ',';
    if (n > 0 && members + 1 > OA_BAGGAGE_MAX_MEMBERS)
        fail("more members than the bound");
    m = oa_baggage_sanitize(out, n, again, cap);
    if (m != n || memcmp(out, again, n) != 0)
        fail("sanitised value is not a fixed point");
    free(out);
    free(again);
    return 0;
}
