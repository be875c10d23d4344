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

/* ---- a lazy table ----------------------------------------------------------- */

static const char *const lazy_set[] = {"_text", "absent", "dup", "init_task"};

struct fake_source {
    int fills, releases;
    int fail; /* fill's error, 0: none */
    size_t extra; /* symbols added beyond the list (a count mismatch) */
};

static int fake_fill(void *arg, struct linux_symtab *t)
{
    struct fake_source *f = arg;
    f->fills++;
    if (f->fail)
        return f->fail;
    static const struct {
        const char *name;
        uint64_t addr;
        char type;
    } list[] = {{"_text", 0x1000, 'T'}, {"dup", 0x3000, 't'}, {"init_task", 0x9000, 'D'},
                {"dup", 0x2000, 't'},   {"other", 0x4000, 'T'}, {"later", 0x5000, 'T'}};
    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
        if (symtab_add(t, list[i].name, strlen(list[i].name), list[i].addr, list[i].type) < 0)
            return XA_ENOMEM;
    for (size_t i = 0; i < f->extra; i++)
        if (symtab_add(t, "extra", 5, 0x6000 + i, 'T') < 0)
            return XA_ENOMEM;
    return 0;
}

static void fake_release(void *arg)
{
    ((struct fake_source *)arg)->releases++;
}

/* What a pass over fake_fill's list finds for lazy_set: the first "dup". */
static void make_lazy(struct linux_symtab *t, struct fake_source *f)
{
    const struct symtab_pick picks[] = {{0x1000, 'T', true},
                                        {0, 0, false},
                                        {0x3000, 't', true},
                                        {0x9000, 'D', true}};
    struct symtab_source src = {.fill = fake_fill, .release = fake_release, .arg = f};
    CHECK(symtab_set_lazy(t, lazy_set, 4, picks, 6, &src) == 0 && t->lazy);
}

static void test_lazy(void)
{
    struct linux_symtab t = {0};
    struct fake_source f = {0};
    const char *name;
    uint64_t a = 0, off;

    /* Names of the set answer without the table being built. */
    make_lazy(&t, &f);
    CHECK(symtab_count(&t) == 6 && t.n == 0);
    CHECK(symtab_lookup(&t, "init_task", &a) == 0 && a == 0x9000);
    CHECK(symtab_lookup(&t, "dup", &a) == 0 && a == 0x3000);
    CHECK(symtab_lookup(&t, "absent", &a) == XA_ENOENT);
    CHECK(f.fills == 0 && t.lazy != NULL);
    CHECK(symtab_add(&t, "late", 4, 1, 'T') == XA_EINVAL); /* not a plain table */
    CHECK(symtab_freeze(&t) == XA_EINVAL);
    /* A name outside it builds the table once, with the same answers. */
    CHECK(symtab_lookup(&t, "other", &a) == 0 && a == 0x4000);
    CHECK(f.fills == 1 && f.releases == 1 && t.lazy == NULL && t.n == 6);
    CHECK(symtab_lookup(&t, "dup", &a) == 0 && a == 0x3000); /* first added, as the pick said */
    CHECK(symtab_lookup(&t, "nowhere", &a) == XA_ENOENT);
    CHECK(symtab_lookup(&t, "absent", &a) == XA_ENOENT);
    CHECK(symtab_count(&t) == 6 && f.fills == 1);
    symtab_free(&t);
    CHECK(f.releases == 1);

    /* An address lookup builds it too. */
    f = (struct fake_source){0};
    make_lazy(&t, &f);
    CHECK(symtab_at(&t, 0x4010, &name, &off) == 0 && strcmp(name, "other") == 0 && off == 0x10);
    CHECK(f.fills == 1 && t.lazy == NULL);
    CHECK(symtab_at(&t, 0x2004, &name, &off) == 0 && strcmp(name, "dup") == 0 && off == 4);
    symtab_free(&t);

    /* So does symtab_complete (a walk over all of it); an absent name
     * outside the set after a lookup inside it. */
    f = (struct fake_source){0};
    make_lazy(&t, &f);
    CHECK(symtab_lookup(&t, "_text", &a) == 0 && a == 0x1000 && f.fills == 0);
    CHECK(symtab_lookup(&t, "nowhere", &a) == XA_ENOENT && f.fills == 1);
    CHECK(symtab_complete(&t) == 0 && f.fills == 1 && t.n == 6);
    symtab_free(&t);

    /* A build that fails: its error, kept; the set still answers. */
    f = (struct fake_source){.fail = XA_EBADDATA};
    make_lazy(&t, &f);
    CHECK(symtab_lookup(&t, "other", &a) == XA_EBADDATA);
    CHECK(symtab_at(&t, 0x4000, &name, &off) == XA_EBADDATA);
    CHECK(symtab_complete(&t) == XA_EBADDATA && f.fills == 1);
    CHECK(symtab_lookup(&t, "init_task", &a) == 0 && a == 0x9000);
    CHECK(t.n == 0 && t.syms == NULL && f.releases == 0);
    symtab_free(&t);
    CHECK(f.releases == 1 && t.lazy == NULL);

    /* A source that does not give the symbols it was counted with. */
    f = (struct fake_source){.extra = 3};
    make_lazy(&t, &f);
    CHECK(symtab_complete(&t) == XA_EBADDATA && t.n == 0);
    symtab_free(&t);

    /* Only an empty table becomes lazy, with a sorted set; the source is
     * released either way. */
    static const char *const unsorted[] = {"b", "a"};
    struct symtab_pick none[2] = {{0}};
    struct symtab_source src = {.fill = fake_fill, .release = fake_release, .arg = &f};
    f = (struct fake_source){0};
    CHECK(symtab_set_lazy(&t, unsorted, 2, none, 0, &src) == XA_EINVAL && f.releases == 1);
    add(&t, "x", 1, 'T');
    CHECK(symtab_set_lazy(&t, lazy_set, 1, none, 0, &src) == XA_EINVAL && f.releases == 2);
    CHECK(t.lazy == NULL);
    symtab_free(&t);
}

int main(void)
{
    test_basic();
    test_lazy();
    test_sorted_reserved();
    test_bad_input();
    test_many();
    if (check_failures)
        fprintf(stderr, "%d failure(s)\n", check_failures);
    else
        printf("symtab: all tests passed\n");
    return check_failures ? 1 : 0;
}
