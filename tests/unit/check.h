/*
 * check.h -- the smallest test framework, shared by the C tests:
 *   CHECK(cond) or CHECK(cond, fmt, ...)  prints where it failed (and why);
 *   CHECK_EQ(a, b)                        prints both values;
 *   CHECK_DONE()                          returns 1 from main if any failed.
 * A file may define CHECK_CONTEXT (a string expression) before including
 * this, to print it with every failure (e.g. the last library message).
 */
#ifndef XA_TEST_CHECK_H
#define XA_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int check_failures;

/* The optional message of CHECK(cond, fmt, ...); CHECK(cond) passes "". */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static inline void check_note_(const char *fmt, ...)
{
    if (fmt[0]) {
        va_list ap;
        va_start(ap, fmt);
        fputs(": ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
#ifdef CHECK_CONTEXT
    fprintf(stderr, " (%s)", CHECK_CONTEXT);
#endif
    fputc('\n', stderr);
}
#pragma GCC diagnostic pop

#define CHECK(...) CHECK_(__VA_ARGS__, "")
#define CHECK_(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s", __FILE__, __LINE__, #cond);                \
            check_note_(__VA_ARGS__);                                                              \
            check_failures++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        unsigned long long check_a_ = (unsigned long long)(a), check_b_ = (unsigned long long)(b); \
        if (check_a_ != check_b_) {                                                                \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = 0x%llx, %s = 0x%llx", __FILE__,          \
                    __LINE__, #a, check_a_, #b, check_b_);                                         \
            check_note_("");                                                                       \
            check_failures++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_DONE()                                                                               \
    do {                                                                                           \
        if (check_failures)                                                                        \
            fprintf(stderr, "%d check(s) failed\n", check_failures);                               \
        return check_failures ? 1 : 0;                                                             \
    } while (0)

#endif
