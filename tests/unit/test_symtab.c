/* Unit tests for os/linux/symtab.c: lookups by name and by address. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/symtab.h"
#include "xenaccess.h"
#include "check.h"

static void add(struct linux_symtab *t, const char *name, uint64_t addr, char type)
{
    CHECK(symtab_add(t, name, strlen(name), addr, type) == 0);
}

static void test_basic(void)
{
    struct linux_symtab t = {0};
    const char *name;
    uint64_t a, off;
    /* Added out of order, with a duplicate name and equal addresses. */
    add(&t, "zeta", 0x3000, 'T');
    add(&t, "alpha", 0x1000, 'T');
    add(&t, "percpu_thing", 0x1800, 'A');
    add(&t, "dup", 0x5000, 't');
    add(&t, "beta", 0x2000, 'D');
    add(&t, "dup", 0x0800, 't');
    add(&t, "alias_a", 0x4000, 'T');
    add(&t, "alias_b", 0x4000, 'T');
    CHECK(symtab_lookup(&t, "alpha", &a) == XA_ENOENT); /* not frozen yet */
    CHECK(symtab_freeze(&t) == 0);
    CHECK(symtab_add(&t, "late", 4, 1, 'T') == XA_EINVAL);

    CHECK(symtab_lookup(&t, "alpha", &a) == 0 && a == 0x1000);
    CHECK(symtab_lookup(&t, "zeta", &a) == 0 && a == 0x3000);
    CHECK(symtab_lookup(&t, "dup", &a) == 0 && a == 0x5000); /* first added wins */
    CHECK(symtab_lookup(&t, "nope", &a) == XA_ENOENT);
    CHECK(symtab_lookup(&t, "", &a) == XA_ENOENT);

    for (size_t i = 1; i < t.n; i++)
        CHECK(t.syms[i - 1].addr <= t.syms[i].addr);

    CHECK(symtab_at(&t, 0x7ff, &name, &off) == XA_ENOENT);
    CHECK(symtab_at(&t, 0x1004, &name, &off) == 0 && strcmp(name, "alpha") == 0 && off == 4);
    /* The absolute symbol at 0x1800 is skipped. */
    CHECK(symtab_at(&t, 0x1900, &name, &off) == 0 && strcmp(name, "alpha") == 0 && off == 0x900);
    CHECK(symtab_at(&t, 0x2000, &name, &off) == 0 && strcmp(name, "beta") == 0 && off == 0);
    CHECK(symtab_at(&t, 0x4010, &name, &off) == 0 && strcmp(name, "alias_a") == 0 && off == 0x10);
    CHECK(symtab_at(&t, UINT64_MAX, &name, &off) == 0 && strcmp(name, "dup") == 0);
    symtab_free(&t);
    symtab_free(&t); /* idempotent */
}

static void test_bad_input(void)
{
    struct linux_symtab t = {0};
    CHECK(symtab_add(&t, "", 0, 1, 'T') == XA_EINVAL);
    CHECK(symtab_add(&t, "a\0b", 3, 1, 'T') == XA_EINVAL);
    char big[2048];
    memset(big, 'x', sizeof(big));
    CHECK(symtab_add(&t, big, sizeof(big), 1, 'T') == XA_EINVAL);
    CHECK(symtab_freeze(&t) == 0); /* empty table */
    const char *name;
    uint64_t a, off;
    CHECK(symtab_lookup(&t, "x", &a) == XA_ENOENT);
    CHECK(symtab_at(&t, 5, &name, &off) == XA_ENOENT);
    symtab_free(&t);
}

static void test_many(void)
{
    struct linux_symtab t = {0};
    char name[32];
    const size_t n = 200000;
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "sym_%zu", i);
        /* Reverse address order, so sorting matters. */
        CHECK(symtab_add(&t, name, strlen(name), 0xffffffff81000000ULL + (n - i) * 16, 'T') == 0);
    }
    CHECK(symtab_freeze(&t) == 0);
    CHECK(t.n == n);
    int bad = 0;
    for (size_t i = 0; i < n; i += 7) {
        uint64_t a;
        snprintf(name, sizeof(name), "sym_%zu", i);
        bad += symtab_lookup(&t, name, &a) != 0 || a != 0xffffffff81000000ULL + (n - i) * 16;
        const char *got;
        uint64_t off;
        bad += symtab_at(&t, a + 3, &got, &off) != 0 || strcmp(got, name) != 0 || off != 3;
    }
    CHECK(bad == 0);
    symtab_free(&t);
}

/* Already in address order (as kallsyms lists them): no sort, and the first
 * added of a name still wins; a reservation is a hint, not a cap. */
static void test_sorted_reserved(void)
{
    struct linux_symtab t = {0};
    uint64_t a;
    CHECK(symtab_reserve(&t, LINUX_SYMTAB_MAX + 1, 0) == XA_ELIMIT);
    CHECK(symtab_reserve(&t, 2, 8) == 0);
    add(&t, "first", 0x1000, 'T');
    add(&t, "dup", 0x2000, 't');
    add(&t, "dup", 0x3000, 't');
    add(&t, "a_name_longer_than_the_reserved_bytes", 0x4000, 'T');
    CHECK(symtab_freeze(&t) == 0);
    CHECK(symtab_reserve(&t, 10, 10) == XA_EINVAL); /* frozen */
    CHECK(t.n == 4);
    CHECK(symtab_lookup(&t, "dup", &a) == 0 && a == 0x2000);
    CHECK(symtab_lookup(&t, "first", &a) == 0 && a == 0x1000);
    CHECK(symtab_lookup(&t, "a_name_longer_than_the_reserved_bytes", &a) == 0 && a == 0x4000);
    CHECK(symtab_lookup(&t, "du", &a) == XA_ENOENT);
    symtab_free(&t);
}

int main(void)
{
    test_basic();
    test_sorted_reserved();
    test_bad_input();
    test_many();
    if (check_failures)
        fprintf(stderr, "%d failure(s)\n", check_failures);
    else
        printf("symtab: all tests passed\n");
    return check_failures ? 1 : 0;
}
