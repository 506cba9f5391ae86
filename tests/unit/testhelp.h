/*
 * testhelp.h -- the unit tests' harness (STYLE.md 2.9), modeled on redis's
 * src/testhelp.h and hiredis's test.c: no framework, nothing forks, so ASan,
 * LSan, valgrind and gdb see the real process.
 *
 * Each test file #defines TEST_SUITE, writes `static void test_x(void)`
 * functions that call CHECK(), and ends with TEST_MAIN(test_x, test_y, ...).
 * The binary's last line is "<suite>: N passed, M failed" (tests/run-unit.sh
 * and CI read it) and it exits non-zero when a check failed.
 *
 * A check that fails prints its file, line and expression on stderr and the
 * test goes on: one run shows every failing check, not only the first.
 */
#pragma once

#include "common/defs.h"

#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (c) {                                                                                   \
            t_pass++;                                                                              \
        } else {                                                                                   \
            t_fail++;                                                                              \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                           \
        }                                                                                          \
    } while (0)

/* Integer equality that prints both values when it fails: a bare CHECK
 * says only that they differ. */
#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ == b_) {                                                                            \
            t_pass++;                                                                              \
        } else {                                                                                   \
            t_fail++;                                                                              \
            fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b,   \
                    a_, b_);                                                                       \
        }                                                                                          \
    } while (0)

/* C-string equality, both printed on failure (NULL prints as "(null)"). */
#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ != NULL && b_ != NULL && strcmp(a_, b_) == 0) {                                     \
            t_pass++;                                                                              \
        } else {                                                                                   \
            t_fail++;                                                                              \
            fprintf(stderr, "FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", __FILE__, __LINE__, #a,   \
                    #b, a_ != NULL ? a_ : "(null)", b_ != NULL ? b_ : "(null)");                   \
        }                                                                                          \
    } while (0)

/* Counted bytes equal to a literal: checks length and content. */
#define CHECK_MEM(p, n, lit)                                                                       \
    do {                                                                                           \
        size_t n_ = (n);                                                                           \
        if (n_ == sizeof(lit) - 1 && memcmp((p), (lit), n_) == 0) {                                \
            t_pass++;                                                                              \
        } else {                                                                                   \
            t_fail++;                                                                              \
            fprintf(stderr, "FAIL %s:%d: %s == %s (\"%.*s\" != \"%s\")\n", __FILE__, __LINE__, #p, \
                    #lit, (int)n_, (const char *)(p), lit);                                        \
        }                                                                                          \
    } while (0)

#define TEST_MAIN(...)                                                                             \
    int main(void)                                                                                 \
    {                                                                                              \
        void (*t_tests[])(void) = {__VA_ARGS__};                                                   \
        for (size_t t_i = 0; t_i < ARRAY_LEN(t_tests); t_i++) {                                    \
            t_tests[t_i]();                                                                        \
        }                                                                                          \
        printf("%s: %d passed, %d failed\n", TEST_SUITE, t_pass, t_fail);                          \
        return t_fail != 0;                                                                        \
    }
