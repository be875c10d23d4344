/*
 * test_rangemap.c -- core/rangemap.c against a linear search, on random
 * layouts (gaps, adjacent ranges, one-byte ranges, ranges at both ends of
 * the address space) and on two element layouts, plus a 65,536-range map
 * whose lookups must stay logarithmic.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core/rangemap.h"
#include "xenaccess.h"

struct seg { /* another layout: size before start, extra fields */
    uint32_t tag;
    uint64_t size;
    uint64_t pad;
    uint64_t start;
};

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static size_t linear_find(const struct xa_mem_range *r, size_t n, uint64_t addr)
{
    for (size_t i = 0; i < n; i++)
        if (addr >= r[i].start && addr - r[i].start < r[i].size)
            return i;
    return XA_RANGE_NONE;
}

static size_t linear_first_from(const struct xa_mem_range *r, size_t n, uint64_t addr)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].start + r[i].size > addr)
            return i;
    return n;
}

/* n sorted ranges starting at @first, with random gaps (sometimes none). */
static void make_layout(struct xa_mem_range *r, size_t n, uint64_t first, uint64_t maxsize)
{
    uint64_t at = first;
    for (size_t i = 0; i < n; i++) {
        uint64_t gap = rnd() % 3 == 0 ? 0 : rnd() % 0x3000;
        at += i ? gap : 0;
        r[i].start = at;
        r[i].size = 1 + rnd() % maxsize;
        at += r[i].size;
    }
}

static void check_against_linear(const struct xa_mem_range *r, size_t n)
{
    struct xa_rangemap m = XA_RANGEMAP(r, n, struct xa_mem_range, start, size);
    CHECK(xa_rangemap_valid(&m));
    uint64_t end = n ? r[n - 1].start + r[n - 1].size : 0;
    for (int k = 0; k < 4000; k++) {
        uint64_t addr;
        switch (k % 4) {
        case 0: addr = n ? r[rnd() % n].start : 0; break;           /* a start */
        case 1: addr = n ? r[rnd() % n].start - 1 : 1; break;       /* just before */
        case 2: addr = n ? r[rnd() % n].start + r[rnd() % n].size : 2; break;
        default: addr = end + 0x2000 > end ? rnd() % (end + 0x2000) : rnd(); break;
        }
        CHECK_EQ(xa_rangemap_find(&m, addr), linear_find(r, n, addr));
        CHECK_EQ(xa_rangemap_first_from(&m, addr), linear_first_from(r, n, addr));
        uint64_t len = 1 + rnd() % 0x2000;
        size_t i = linear_find(r, n, addr);
        bool want = i != XA_RANGE_NONE && len <= r[i].size - (addr - r[i].start);
        CHECK_EQ(xa_rangemap_covers(&m, addr, len), want);
    }
    CHECK(!xa_rangemap_covers(&m, n ? r[0].start : 0, 0));
}

static void test_random_layouts(void)
{
    static struct xa_mem_range r[300];
    for (int round = 0; round < 200; round++) {
        size_t n = rnd() % 300;
        make_layout(r, n, round % 2 ? rnd() % 0x10000 : 0, round % 3 ? 0x5000 : 1);
        check_against_linear(r, n);
    }
    /* Ranges touching the top of the address space. */
    struct xa_mem_range top[2] = {{0, 0x1000}, {UINT64_MAX - 0x1000, 0x1000}};
    struct xa_rangemap m = XA_RANGEMAP(top, 2, struct xa_mem_range, start, size);
    CHECK(xa_rangemap_valid(&m));
    CHECK_EQ(xa_rangemap_find(&m, UINT64_MAX - 1), 1);
    CHECK_EQ(xa_rangemap_find(&m, UINT64_MAX), XA_RANGE_NONE);
    CHECK_EQ(xa_rangemap_find(&m, 0xfff), 0);
    CHECK_EQ(xa_rangemap_find(&m, 0x1000), XA_RANGE_NONE);
    CHECK_EQ(xa_rangemap_first_from(&m, 0x1000), 1);
    CHECK_EQ(xa_rangemap_first_from(&m, UINT64_MAX), 2);
    CHECK(xa_rangemap_covers(&m, UINT64_MAX - 0x1000, 0x1000));
    CHECK(!xa_rangemap_covers(&m, UINT64_MAX - 0x1000, 0x1001));
    CHECK(!xa_rangemap_covers(&m, 0xfff, UINT64_MAX));
}

static void test_validation(void)
{
    struct xa_mem_range bad[3] = {{0, 0x2000}, {0x1000, 0x1000}, {0x5000, 1}};
    struct xa_rangemap m = XA_RANGEMAP(bad, 3, struct xa_mem_range, start, size);
    CHECK(!xa_rangemap_valid(&m)); /* overlap */
    bad[1] = (struct xa_mem_range){0x3000, 0};
    CHECK(!xa_rangemap_valid(&m)); /* empty */
    bad[1] = (struct xa_mem_range){0x6000, 1};
    CHECK(!xa_rangemap_valid(&m)); /* unsorted */
    bad[1] = (struct xa_mem_range){0x2000, 0x3000};
    CHECK(xa_rangemap_valid(&m)); /* adjacent is fine */
    bad[2] = (struct xa_mem_range){0x5000, UINT64_MAX};
    CHECK(!xa_rangemap_valid(&m)); /* wraps */
}

/* Another element layout gives the same answers. */
static void test_other_layout(void)
{
    static struct xa_mem_range r[500];
    static struct seg s[500];
    make_layout(r, 500, 0x1000, 0x4000);
    for (size_t i = 0; i < 500; i++)
        s[i] = (struct seg){.tag = 7, .size = r[i].size, .pad = ~0ull, .start = r[i].start};
    struct xa_rangemap a = XA_RANGEMAP(r, 500, struct xa_mem_range, start, size);
    struct xa_rangemap b = XA_RANGEMAP(s, 500, struct seg, start, size);
    for (int k = 0; k < 20000; k++) {
        uint64_t addr = rnd() % (r[499].start + r[499].size + 0x1000);
        CHECK_EQ(xa_rangemap_find(&a, addr), xa_rangemap_find(&b, addr));
        CHECK_EQ(xa_rangemap_first_from(&a, addr), xa_rangemap_first_from(&b, addr));
    }
}

/* 65,536 ranges (the limit of a target): 2^20 lookups must take well under
 * a second even with sanitizers; a linear scan would take tens of seconds. */
static void test_many_ranges_fast(void)
{
    size_t n = 65536;
    struct xa_mem_range *r = calloc(n, sizeof(*r));
    for (size_t i = 0; i < n; i++)
        r[i] = (struct xa_mem_range){(uint64_t)i << 12, 16};
    struct xa_rangemap m = XA_RANGEMAP(r, n, struct xa_mem_range, start, size);
    clock_t t0 = clock();
    size_t hits = 0;
    for (uint64_t k = 0; k < (1u << 20); k++) {
        uint64_t addr = (rnd() % n) << 12 | (k & 31);
        hits += xa_rangemap_find(&m, addr) != XA_RANGE_NONE;
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(hits > (1u << 18) && hits < (3u << 18));
    CHECK(secs < 5.0);
    free(r);
}

int main(void)
{
    test_random_layouts();
    test_validation();
    test_other_layout();
    test_many_ranges_fast();
    CHECK_DONE();
}
