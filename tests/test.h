/* test.h — a minimal test harness.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_EQ_STR(s, "x"); }
 *   int main(void) { RUN(name); return test_summary("tokenizer"); }
 *
 * A failed CHECK prints file:line and the values, marks the test failed and goes
 * on with the next check. The summary prints "N passed, N failed" (a line CI reads). */
#ifndef OLM_TEST_H
#define OLM_TEST_H

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static int test_passed_, test_failed_, test_cur_failed_;

#define TEST(name) static void name(void)
#define RUN(name)                                                    \
    do {                                                             \
        test_cur_failed_ = 0;                                        \
        name();                                                      \
        if (test_cur_failed_) {                                      \
            test_failed_++;                                          \
            printf("FAIL %s\n", #name);                              \
        } else {                                                     \
            test_passed_++;                                          \
            printf("ok   %s\n", #name);                              \
        }                                                            \
        fflush(stdout);                                              \
    } while (0)

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);    \
            test_cur_failed_ = 1;                                                \
        }                                                                        \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                                    \
    do {                                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                                   \
        if (a_ != b_) {                                                                       \
            printf("  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, a_, b_); \
            test_cur_failed_ = 1;                                                             \
        }                                                                                     \
    } while (0)
#define CHECK_EQ_STR(a, b)                                                                    \
    do {                                                                                      \
        const char *a_ = (a), *b_ = (b);                                                      \
        if (!a_ || !b_ || strcmp(a_, b_)) {                                                   \
            printf("  %s:%d: %s == %s failed:\n    got:      \"%s\"\n    expected: \"%s\"\n", \
                   __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");       \
            test_cur_failed_ = 1;                                                             \
        }                                                                                     \
    } while (0)

static inline int test_summary(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}

#endif
