/* test.h — a minimal test harness.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_EQ_STR(s, "x"); }
 *   int main(void) { RUN(name); return test_summary("tokenizer"); }
 *
 * A failed CHECK prints file:line and the values, marks the test failed and goes
 * on with the next check. A test whose reference (a file, a tool) is missing calls
 * SKIP("why") and returns: it is reported "SKIP", never "ok". The summary prints
 * "N passed, N failed, N skipped" (a line CI reads) and fails when something failed,
 * or when something was skipped and ONNXLLM_REQUIRE_REFERENCES=1 (CI sets it: a
 * reference test that did not run is not a pass). */
#ifndef OLM_TEST_H
#define OLM_TEST_H

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static int test_passed_, test_failed_, test_skipped_, test_cur_failed_;
static const char *test_cur_skip_;

#define TEST(name) static void name(void)
#define RUN(name)                                                    \
    do {                                                             \
        test_cur_failed_ = 0;                                        \
        test_cur_skip_ = NULL;                                       \
        name();                                                      \
        if (test_cur_failed_) {                                      \
            test_failed_++;                                          \
            printf("FAIL %s\n", #name);                              \
        } else if (test_cur_skip_) {                                 \
            test_skipped_++;                                         \
            printf("SKIP %s (%s)\n", #name, test_cur_skip_);         \
        } else {                                                     \
            test_passed_++;                                          \
            printf("ok   %s\n", #name);                              \
        }                                                            \
        fflush(stdout);                                              \
    } while (0)
/* Inside a TEST: its reference is missing; reported SKIP (a failure under CI). */
#define SKIP(why)                                                    \
    do {                                                             \
        test_cur_skip_ = (why);                                      \
        return;                                                      \
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
    printf("%s: %d passed, %d failed, %d skipped\n", suite, test_passed_, test_failed_, test_skipped_);
    const char *req = getenv("ONNXLLM_REQUIRE_REFERENCES");
    if (test_skipped_ && req && !strcmp(req, "1")) {
        printf("%s: FAIL: %d test(s) skipped for a missing reference, and ONNXLLM_REQUIRE_REFERENCES=1\n", suite,
               test_skipped_);
        return 1;
    }
    return test_failed_ ? 1 : 0;
}

#endif
