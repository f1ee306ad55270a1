/* libFuzzer target for tracestate validation and normalisation: the result
 * is refused (-1) or fits the bound, is NUL-terminated, and is a fixed point
 * (normalising it again gives the same bytes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/tracestate.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_tracestate: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[OA_TRACESTATE_MAX + 1];
    char again[OA_TRACESTATE_MAX + 1];
    int n = oa_tracestate_normalize((const char *)data, size, out, sizeof out);
    int m;

    if (n < 0)
        return 0;
    if (n > OA_TRACESTATE_MAX)
        fail("longer than the bound");
    if (out[n] != '\0' || strlen(out) != (size_t)n)
        fail("length does not match the NUL-terminated output");
    m = oa_tracestate_normalize(out, (size_t)n, again, sizeof again);
    if (n == 0 ? m > 0 : (m != n || memcmp(out, again, (size_t)n) != 0))
        fail("normalised value is not a fixed point");
    return 0;
}
