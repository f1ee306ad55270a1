/* A minimal TAP unit-test harness: each CHECK is one numbered test line; the
 * program exits non-zero if any failed. scripts/run-tests.sh counts the lines. */
#ifndef OA_TEST_H
#define OA_TEST_H

#include <stdio.h>
#include <string.h>

static int oa_test_count;
static int oa_test_failed;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        ++oa_test_count;                                                        \
        if (cond) {                                                             \
            printf("ok %d - ", oa_test_count);                                  \
        } else {                                                                \
            ++oa_test_failed;                                                   \
            printf("not ok %d - %s:%d: (%s) ", oa_test_count, __FILE__,         \
                   __LINE__, #cond);                                            \
        }                                                                       \
        printf(__VA_ARGS__);                                                    \
        printf("\n");                                                           \
    } while (0)

/* Silent unless it fails: for loops over thousands of cases (byte splits);
 * counts as one test line per call site via CHECK at the end of the loop. */
#define EXPECT(ok_var, cond, ...)                                               \
    do {                                                                        \
        if (!(cond)) {                                                          \
            if (ok_var)                                                         \
                printf("# %s:%d: (%s) ", __FILE__, __LINE__, #cond),            \
                    printf(__VA_ARGS__), printf("\n");                          \
            ok_var = 0;                                                         \
        }                                                                       \
    } while (0)

#define TEST_DONE()                                                             \
    do {                                                                        \
        printf("1..%d\n", oa_test_count);                                       \
        return oa_test_failed ? 1 : 0;                                          \
    } while (0)

#endif
