/* libFuzzer target for the traceparent parser: any input either is refused
 * (and leaves the context invalid) or is accepted, and then formatting the
 * context gives a strict version-00 value that parses back to the same
 * context. ASan catches any read outside the input (copied to an exact-size
 * buffer by libFuzzer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/traceparent.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_traceparent: %s\n", what);
    abort();
}

static bool lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oa_span_context sc;
    struct oa_span_context again;
    char out[OA_TRACEPARENT_LEN + 1];

    memset(&sc, 0xa5, sizeof sc);
    if (!oa_traceparent_parse((const char *)data, size, &sc)) {
        if (sc.valid)
            fail("refused but marked valid");
        return 0;
    }
    if (!sc.valid || !sc.remote)
        fail("accepted but not valid and remote");
    if (oa_traceparent_format(&sc, out) != OA_TRACEPARENT_LEN || out[OA_TRACEPARENT_LEN] != '\0')
        fail("formatted value has the wrong length");
    for (size_t i = 0; i < OA_TRACEPARENT_LEN; i++) {
        bool dash = i == 2 || i == 35 || i == 52;
        if (dash ? out[i] != '-' : !lower_hex(out[i]))
            fail("formatted value is not version-00 lowercase hex");
    }
    if (memcmp(out, "00-", 3) != 0)
        fail("formatted value is not version 00");
    if (!oa_traceparent_parse(out, OA_TRACEPARENT_LEN, &again))
        fail("our own formatted value is refused");
    if (memcmp(again.trace_id, sc.trace_id, 16) != 0 || memcmp(again.span_id, sc.span_id, 8) != 0 ||
        again.flags != sc.flags)
        fail("round trip changed the context");
    return 0;
}
