/* Trace and span ids from a per-thread xoshiro256** generator (see oa_ids.h).
 *
 * Each thread owns its generator state, so generating an id takes no lock and
 * no syscall. A fork copies the forking thread's state into the child, which
 * would then repeat the parent's ids: a pthread_atfork child handler bumps a
 * process-wide fork generation, and a thread whose state was seeded under an
 * older generation seeds itself again before its next id. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "trace/ids.h"

#ifndef GRND_NONBLOCK
#define GRND_NONBLOCK 0x0001
#endif

struct id_generator {
    uint64_t s[4];
    /* fork_generation at seeding time; 0 = never seeded */
    unsigned generation;
    /* set while this thread seeds, so a signal handler that interrupts the
     * seeding and asks for an id does not re-enter pthread_once */
    bool seeding;
};

/* Tiny and initial-exec: a preloaded library must not make the first access
 * from a hook allocate a TLS block. */
static __thread struct id_generator generator __attribute__((tls_model("initial-exec")));

/* Starts at 1 so that a zeroed thread state always differs from it. */
static unsigned fork_generation = 1;
/* Distinguishes two seedings that happen in the same nanosecond when the
 * fallback seed is used. */
static uint64_t seed_counter;
void oa_ids_atfork_child(void)
{
    unsigned next = __atomic_add_fetch(&fork_generation, 1, __ATOMIC_RELAXED);
    if (next == 0)
        __atomic_store_n(&fork_generation, 1, __ATOMIC_RELAXED);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64: spreads weak seed material over all 64 bits. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t clock_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Everything that differs between threads, processes and moments, for when
 * the kernel cannot give us random bytes (old kernel, seccomp filter). */
static uint64_t fallback_seed(void)
{
    uint64_t mix = clock_ns(CLOCK_REALTIME);
    mix ^= rotl(clock_ns(CLOCK_MONOTONIC), 17);
    mix ^= (uint64_t)getpid() << 32;
    mix ^= rotl((uint64_t)syscall(SYS_gettid), 48);
    mix ^= (uint64_t)(uintptr_t)&generator;
    mix ^= rotl(__atomic_add_fetch(&seed_counter, 1, __ATOMIC_RELAXED), 23);
    return mix;
}

static void fill_state(struct id_generator *g)
{
    uint64_t seed[4];
    long got = syscall(SYS_getrandom, seed, sizeof(seed), GRND_NONBLOCK);
    if (got != (long)sizeof(seed)) {
        uint64_t x = fallback_seed();
        for (int i = 0; i < 4; i++)
            seed[i] = splitmix64(&x);
    }
    memcpy(g->s, seed, sizeof(g->s));
    /* xoshiro never leaves the all-zero state, so it must never start there */
    if ((g->s[0] | g->s[1] | g->s[2] | g->s[3]) == 0)
        g->s[0] = 0x9e3779b97f4a7c15ull;
}

static __attribute__((noinline)) void seed_generator(void)
{
    int saved_errno = errno;
    if (generator.seeding) {
        fill_state(&generator);
        errno = saved_errno;
        return;
    }
    generator.seeding = true;
    /* The handler is registered by the library's constructor, before any id
     * is drawn: a fork from now on bumps the counter. */
    unsigned current = __atomic_load_n(&fork_generation, __ATOMIC_RELAXED);
    fill_state(&generator);
    generator.generation = current;
    generator.seeding = false;
    errno = saved_errno;
}

/* This thread's generator, seeded for this process. */
static uint64_t *generator_state(void)
{
    if (__builtin_expect(generator.generation != __atomic_load_n(&fork_generation, __ATOMIC_RELAXED), 0))
        seed_generator();
    return generator.s;
}

/* xoshiro256** */
static inline uint64_t next_u64(uint64_t *s)
{
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void oa_ids_trace_id_from(uint64_t s[4], uint8_t out[16])
{
    uint64_t hi;
    uint64_t lo;
    do {
        hi = next_u64(s);
        lo = next_u64(s);
    } while ((hi | lo) == 0);
    memcpy(out, &hi, sizeof(hi));
    memcpy(out + 8, &lo, sizeof(lo));
}

void oa_ids_span_id_from(uint64_t s[4], uint8_t out[8])
{
    uint64_t v;
    do {
        v = next_u64(s);
    } while (v == 0);
    memcpy(out, &v, sizeof(v));
}

void oa_ids_trace_and_span_id_from(uint64_t s[4], uint8_t trace[16], uint8_t span[8])
{
    /* a local copy of the state: the compiler keeps it in registers across
     * the three steps (next_u64 on the generator's memory reloads and
     * stores the four words at each step) */
    uint64_t st[4];
    memcpy(st, s, sizeof(st));
    uint64_t hi, lo, v;
    do {
        hi = next_u64(st);
        lo = next_u64(st);
    } while ((hi | lo) == 0);
    do {
        v = next_u64(st);
    } while (v == 0);
    memcpy(s, st, sizeof(st));
    memcpy(trace, &hi, sizeof(hi));
    memcpy(trace + 8, &lo, sizeof(lo));
    memcpy(span, &v, sizeof(v));
}

void oa_ids_new_trace_id(uint8_t out[16])
{
    oa_ids_trace_id_from(generator_state(), out);
}

void oa_ids_new_span_id(uint8_t out[8])
{
    oa_ids_span_id_from(generator_state(), out);
}

void oa_ids_new_trace_and_span_id(uint8_t trace[16], uint8_t span[8])
{
    oa_ids_trace_and_span_id_from(generator_state(), trace, span);
}
