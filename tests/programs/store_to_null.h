/* The test programs' real fault (tests/integration/36-crash.bats): a store
 * to address 0 the compiler cannot see coming, and not UBSan's report when
 * built with the sanitizers. Pass 0 from something the compiler does not
 * know (argc - N). */
#ifndef STORE_TO_NULL_H
#define STORE_TO_NULL_H

#include <stdint.h>

__attribute__((noinline, no_sanitize("undefined", "address"))) static void store_to_null(int zero)
{
    volatile int *null = (volatile int *)(uintptr_t)zero; /* 0, unknown to the compiler */
    *null = 1;
}

#endif
