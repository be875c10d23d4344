/* require.h -- for tests that need something from outside (real guest dumps):
 * where the dumps are, and the one way to say that a test cannot run. Outside
 * CI that is a skip (exit 77, with the reason); under CI=true or
 * XA_REQUIRE=all it is a failure, so a green run means every test ran. */
#ifndef XA_TEST_REQUIRE_H
#define XA_TEST_REQUIRE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline bool xa_test_strict(void)
{
    const char *ci = getenv("CI"), *req = getenv("XA_REQUIRE");
    return (ci && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0 || strcmp(ci, "yes") == 0)) ||
           (req && strcmp(req, "all") == 0);
}

/* Prints why the test (or a part of it) cannot run; returns the exit status
 * to give: 77 (skip) normally, 1 (failure) under CI=true / XA_REQUIRE=all. */
__attribute__((format(printf, 1, 2))) static inline int xa_test_cannot_run(const char *fmt, ...)
{
    bool strict = xa_test_strict();
    va_list ap;
    va_start(ap, fmt);
    fprintf(strict ? stderr : stdout, "%s: ", strict ? "FAIL (CI=true / XA_REQUIRE=all)" : "SKIP");
    vfprintf(strict ? stderr : stdout, fmt, ap);
    fputc('\n', strict ? stderr : stdout);
    va_end(ap);
    return strict ? 1 : 77;
}

/* The guest dumps' directory: $XA_TEST_DUMPS, else $XA_CACHE/dumps, else
 * the default cache's. */
static inline const char *xa_test_dumps_dir(void)
{
    static char buf[4096];
    const char *d = getenv("XA_TEST_DUMPS"), *cache = getenv("XA_CACHE");
    if (d && *d)
        return d;
    snprintf(buf, sizeof(buf), "%s/dumps", cache && *cache ? cache : "/var/tmp/xenaccess-cache");
    return buf;
}

#endif
