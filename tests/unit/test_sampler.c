/* Head sampling decisions for every OTEL_TRACES_SAMPLER kind we support. */
#include <math.h>

#include "trace/ids.h"
#include "trace/sampler.h"
#include "oa_test.h"

/* A trace id whose last 8 bytes are v, big-endian. */
static void trace_id_with_low(uint8_t id[16], uint64_t v)
{
    memset(id, 0x5a, 8);
    for (int i = 15; i >= 8; i--) {
        id[i] = (uint8_t)v;
        v >>= 8;
    }
}

static struct oa_span_context parent_with(bool valid, bool sampled, bool remote)
{
    struct oa_span_context p = { .valid = valid, .remote = remote };
    memset(p.trace_id, 1, 16);
    memset(p.span_id, 2, 8);
    p.flags = sampled ? OA_TRACE_FLAG_SAMPLED : 0;
    return p;
}

static void test_kinds(void)
{
    uint8_t id[16];
    trace_id_with_low(id, 0);
    uint8_t high[16];
    trace_id_with_low(high, UINT64_MAX);
    struct oa_span_context sampled = parent_with(true, true, true);
    struct oa_span_context unsampled = parent_with(true, false, true);
    struct oa_span_context local_sampled = parent_with(true, true, false);
    struct oa_span_context local_unsampled = parent_with(true, false, false);
    struct oa_span_context invalid_sampled = parent_with(false, true, true);
    struct oa_span_context sampled_random = sampled;
    sampled_random.flags |= OA_TRACE_FLAG_RANDOM;
    struct oa_span_context unsampled_random = unsampled;
    unsampled_random.flags = OA_TRACE_FLAG_RANDOM;

    CHECK(oa_sampler_should_sample(OA_SAMPLER_ALWAYS_ON, 0.0, NULL, high), "always_on root");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_ALWAYS_ON, 0.0, &unsampled, high), "always_on ignores parent");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_ALWAYS_OFF, 1.0, NULL, id), "always_off root");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_ALWAYS_OFF, 1.0, &sampled, id), "always_off ignores parent");

    CHECK(oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.5, NULL, id), "traceidratio low id sampled");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.5, NULL, high), "traceidratio high id dropped");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.5, &sampled, high),
          "traceidratio ignores a sampled parent");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.5, &unsampled, id),
          "traceidratio ignores an unsampled parent");

    CHECK(oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, NULL, id), "pb_always_on root sampled");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, &invalid_sampled, id),
          "pb_always_on invalid parent => root sampler");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, &sampled, id),
          "pb_always_on sampled remote parent");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, &unsampled, id),
          "pb_always_on unsampled remote parent");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, &local_sampled, id),
          "pb_always_on sampled local parent");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, &local_unsampled, id),
          "pb_always_on unsampled local parent");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, &sampled_random, id),
          "pb_always_on: random flag does not hide sampled");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, &unsampled_random, id),
          "pb_always_on: random flag alone is not sampled");

    CHECK(!oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_OFF, 1.0, NULL, id), "pb_always_off root dropped");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_OFF, 1.0, &invalid_sampled, id),
          "pb_always_off invalid parent => root sampler");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_OFF, 1.0, &sampled, id),
          "pb_always_off sampled parent followed");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_OFF, 1.0, &unsampled, id),
          "pb_always_off unsampled parent followed");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_ALWAYS_OFF, 1.0, &local_sampled, id),
          "pb_always_off sampled local parent followed");

    CHECK(oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_TRACEIDRATIO, 0.5, NULL, id),
          "pb_traceidratio root low id sampled");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_TRACEIDRATIO, 0.5, NULL, high),
          "pb_traceidratio root high id dropped");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_TRACEIDRATIO, 0.5, &invalid_sampled, high),
          "pb_traceidratio invalid parent => ratio");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_TRACEIDRATIO, 0.0, &sampled, high),
          "pb_traceidratio sampled parent wins over ratio 0");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_PARENTBASED_TRACEIDRATIO, 1.0, &unsampled, id),
          "pb_traceidratio unsampled parent wins over ratio 1");
}

static void test_ratio_rule(void)
{
    uint8_t id[16];
    /* x = low64 >> 1, sampled iff x < ratio * 2^63. At 0.5 the bound is 2^62. */
    trace_id_with_low(id, (1ull << 63) - 2);   /* x = 2^62 - 1 */
    CHECK(oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.5, NULL, id), "just below the 0.5 bound");
    trace_id_with_low(id, (1ull << 63) - 1);   /* x = 2^62 - 1 too: the low bit is shifted out */
    CHECK(oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.5, NULL, id), "lowest bit ignored");
    trace_id_with_low(id, 1ull << 63);         /* x = 2^62 */
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.5, NULL, id), "exactly at the 0.5 bound");
    trace_id_with_low(id, 1ull << 61);         /* x = 2^60 = 0.125 * 2^63 */
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.125, NULL, id), "at the 0.125 bound");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.13, NULL, id), "above the 0.125 bound");

    /* only the last 8 bytes count, and big-endian */
    uint8_t a[16];
    uint8_t b[16];
    trace_id_with_low(a, 1);
    trace_id_with_low(b, 1);
    memset(b, 0xff, 8);
    CHECK(oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.01, NULL, a) &&
              oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.01, NULL, b),
          "first 8 bytes do not matter");
    memset(a, 0, 16);
    a[8] = 0xff;   /* most significant byte of the big-endian value */
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.9, NULL, a), "byte 8 is the most significant");
    memset(a, 0, 16);
    a[15] = 0xff;
    CHECK(oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.0001, NULL, a), "byte 15 is the least significant");

    /* ratio 0 never samples, ratio 1 always does, even at the extremes */
    uint8_t lowest[16] = { 0 };
    lowest[0] = 1;
    uint8_t highest[16];
    memset(highest, 0xff, 16);
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.0, NULL, lowest), "ratio 0 never samples");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 1.0, NULL, highest), "ratio 1 always samples");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, -0.5, NULL, lowest), "negative ratio never samples");
    CHECK(oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 7.0, NULL, highest), "ratio above 1 always samples");
    CHECK(!oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, NAN, NULL, lowest), "NaN ratio never samples");
}

static void test_ratio_statistics(void)
{
    const int n = 100000;
    int sampled_half = 0;
    int sampled_quarter = 0;
    int deterministic = 1;
    int superset = 1;
    int zero_never = 1;
    int one_always = 1;
    for (int i = 0; i < n; i++) {
        uint8_t id[16];
        oa_ids_new_trace_id(id);
        bool q = oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.25, NULL, id);
        bool h = oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.5, NULL, id);
        EXPECT(deterministic, h == oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.5, NULL, id),
               "same id, same answer");
        EXPECT(superset, !q || h, "sampled at 0.25 but not at 0.5");
        EXPECT(superset, !h || oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.75, NULL, id),
               "sampled at 0.5 but not at 0.75");
        EXPECT(zero_never, !oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 0.0, NULL, id), "sampled at 0");
        EXPECT(one_always, oa_sampler_should_sample(OA_SAMPLER_TRACEIDRATIO, 1.0, NULL, id), "dropped at 1");
        sampled_half += h;
        sampled_quarter += q;
    }
    CHECK(deterministic, "decision is deterministic on the trace id");
    CHECK(superset, "a higher ratio samples a superset");
    CHECK(zero_never && one_always, "ratio 0 / 1 over %d random ids", n);
    /* binomial sd at p=0.5 is ~158: 1500 is ~9.5 sd */
    CHECK(sampled_half > 48500 && sampled_half < 51500, "ratio 0.5 sampled %d of %d", sampled_half, n);
    CHECK(sampled_quarter > 23500 && sampled_quarter < 26500, "ratio 0.25 sampled %d of %d", sampled_quarter, n);
}

int main(void)
{
    test_kinds();
    test_ratio_rule();
    test_ratio_statistics();
    TEST_DONE();
}
