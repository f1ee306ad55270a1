/* libFuzzer target for the b3 and Jaeger codecs (trace/b3.h, trace/jaeger.h):
 * the input is read as a b3 value, an uber-trace-id value and an uberctx
 * header value. Refused values leave the context invalid; accepted ones
 * give a context that, written back, parses to the same ids and sampling.
 * ASan catches any read outside the input (an exact-size buffer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/b3.h"
#include "trace/jaeger.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_propagators: %s\n", what);
    abort();
}

static bool same(const struct oa_span_context *a, const struct oa_span_context *b)
{
    return memcmp(a->trace_id, b->trace_id, 16) == 0 && memcmp(a->span_id, b->span_id, 8) == 0 &&
           (a->flags & OA_TRACE_FLAG_SAMPLED) == (b->flags & OA_TRACE_FLAG_SAMPLED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct oa_span_context sc, again;

    memset(&sc, 0xa5, sizeof sc);
    if (oa_b3_parse(s, size, &sc)) {
        char out[OA_B3_LEN + 1];
        if (!sc.valid || !sc.remote)
            fail("b3 accepted but not valid and remote");
        if (oa_b3_format(&sc, out) != OA_B3_LEN || strlen(out) != OA_B3_LEN)
            fail("b3 written with the wrong length");
        if (!oa_b3_parse(out, OA_B3_LEN, &again) || !same(&sc, &again))
            fail("b3 written does not parse back to the same context");
    } else if (sc.valid) {
        fail("b3 refused but marked valid");
    }

    struct oa_b3_multi m = {s, s, s, s, size, size, size, size};
    memset(&sc, 0xa5, sizeof sc);
    if (!oa_b3_multi_parse(&m, &sc) && sc.valid)
        fail("X-B3 refused but marked valid");

    memset(&sc, 0xa5, sizeof sc);
    if (oa_jaeger_parse(s, size, &sc)) {
        char out[OA_JAEGER_LEN + 1];
        if (!sc.valid || !sc.remote)
            fail("uber-trace-id accepted but not valid and remote");
        if (oa_jaeger_format(&sc, out) != OA_JAEGER_LEN || strlen(out) != OA_JAEGER_LEN)
            fail("uber-trace-id written with the wrong length");
        if (!oa_jaeger_parse(out, OA_JAEGER_LEN, &again) || !same(&sc, &again))
            fail("uber-trace-id written does not parse back to the same context");
    } else if (sc.valid) {
        fail("uber-trace-id refused but marked valid");
    }

    /* an uberctx value as a baggage member, and that member back as a line */
    char member[256];
    size_t n = oa_jaeger_baggage_member("k", 1, s, size, member, sizeof member);
    if (n >= sizeof member || (n > 0 && strlen(member) != n))
        fail("uberctx member length");
    if (n > 0) {
        const char *cursor = member;
        char line[1024];
        size_t l = oa_jaeger_baggage_next_line(&cursor, line, sizeof line);
        if (l < 12 || memcmp(line, "uberctx-k: ", 11) != 0 || memcmp(line + l - 2, "\r\n", 2) != 0)
            fail("uberctx line not well formed");
        for (size_t i = 0; i + 2 < l; i++)
            if (line[i] == '\r' || line[i] == '\n')
                fail("uberctx line breaks inside");
    }
    return 0;
}
