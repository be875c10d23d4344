/*
 * test_arm64.c -- the AArch64 walker on synthetic translation tables.
 *
 * Builds tables in a malloc'd fake physical memory (based at FAKE_BASE, as
 * RAM is on QEMU's virt machine) for 39-, 48- and 52-bit (LPA2) VAs and
 * checks pages, blocks, the TTBR0/TTBR1 split, permissions, invalid and
 * reserved encodings, RES0 bits, self-referencing and outside-RAM tables.
 * Exit 0 = pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64.h"
#include "check.h"

#define FAKE_BASE 0x40000000ull
#define FAKE_SIZE (2u << 20)

#define VALID (1ull << 0)
#define TABLE (VALID | (1ull << 1)) /* also "page" at level 3 */
#define BLOCK VALID
#define AF (1ull << 10)
#define AP_EL0 (1ull << 6)
#define AP_RO (1ull << 7)
#define PXN (1ull << 53)
#define UXN (1ull << 54)
#define T_RO (1ull << 62)
#define T_NOEL0 (1ull << 61)

static uint8_t *mem;
static uint64_t next_table;
static unsigned reads;

static int fake_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    (void)ctx;
    reads++;
    if (pa < FAKE_BASE || pa - FAKE_BASE >= FAKE_SIZE || len > FAKE_SIZE - (pa - FAKE_BASE))
        return XA_ERANGE;
    memcpy(buf, mem + (pa - FAKE_BASE), len);
    return 0;
}

static void reset(void)
{
    memset(mem, 0, FAKE_SIZE);
    next_table = FAKE_BASE + 0x1000;
}

static uint64_t new_table(void)
{
    uint64_t pa = next_table;
    next_table += 0x1000;
    if (next_table > FAKE_BASE + FAKE_SIZE) {
        fprintf(stderr, "fake memory exhausted\n");
        exit(1);
    }
    return pa;
}

static void put(uint64_t table, unsigned index, uint64_t desc)
{
    uint64_t pa = table + index * 8ull - FAKE_BASE;
    for (int i = 0; i < 8; i++)
        mem[pa + i] = (uint8_t)(desc >> (8 * i));
}

static unsigned idx(uint64_t va, int level)
{
    return (unsigned)((va >> (12 + 9 * (3 - level))) & 0x1ff);
}

static int xlate(const struct arm64_paging *pg, uint64_t t0, uint64_t t1, uint64_t va,
                 struct arm64_walk *w)
{
    reads = 0;
    return arm64_translate(pg, t0, t1, va, fake_read, NULL, w);
}

/* 48-bit VAs: four levels, 4 KiB page, 2 MiB and 1 GiB blocks, both halves. */
static void test_48(void)
{
    reset();
    struct arm64_paging pg = {.va_bits = 48};
    struct arm64_walk w;
    uint64_t l0 = new_table(), l1 = new_table(), l2 = new_table(), l3 = new_table();
    uint64_t kva = 0xffff800008123456ull; /* a kernel image address */
    put(l0, idx(kva, 0), l1 | TABLE);
    put(l1, idx(kva, 1), l2 | TABLE);
    put(l2, idx(kva, 2), l3 | TABLE);
    put(l3, idx(kva, 3), 0x41234000ull | TABLE | AF | UXN);
    CHECK_EQ(xlate(&pg, 0, l0, kva, &w), 0);
    CHECK_EQ(w.pa, 0x41234456ull);
    CHECK_EQ(w.page_size, 4096ull);
    CHECK_EQ(w.levels_read, 4);
    CHECK_EQ(reads, 4u);
    CHECK(w.writable && !w.user && w.uxn && !w.pxn);

    /* A 2 MiB block at level 2 and a 1 GiB block at level 1. */
    uint64_t kva2 = kva + (2ull << 20);
    put(l2, idx(kva2, 2), 0x40600000ull | BLOCK | AF | AP_RO);
    CHECK_EQ(xlate(&pg, 0, l0, kva2 + 0x1234, &w), 0);
    CHECK_EQ(w.pa, 0x40600000ull + ((kva2 + 0x1234) & 0x1fffff));
    CHECK_EQ(w.page_size, 2ull << 20);
    CHECK(!w.writable);
    uint64_t lin = 0xffff000000000000ull + 0x40000000ull + 0x12345; /* linear map */
    put(l0, idx(lin, 0), l1 | TABLE);
    put(l1, idx(lin, 1), 0x40000000ull | BLOCK | AF);
    CHECK_EQ(xlate(&pg, 0, l0, lin, &w), 0);
    CHECK_EQ(w.pa, 0x40012345ull);
    CHECK_EQ(w.page_size, 1ull << 30);

    /* The lower half goes through TTBR0 only. */
    uint64_t u0 = new_table(), u1 = new_table(), u2 = new_table(), u3 = new_table();
    uint64_t uva = 0x0000ffffcf9d2350ull;
    put(u0, idx(uva, 0), u1 | TABLE);
    put(u1, idx(uva, 1), u2 | TABLE);
    put(u2, idx(uva, 2), u3 | TABLE);
    put(u3, idx(uva, 3), 0x40789000ull | TABLE | AF | AP_EL0 | PXN);
    CHECK_EQ(xlate(&pg, u0, l0, uva, &w), 0);
    CHECK_EQ(w.pa, 0x40789350ull);
    CHECK(w.user && w.pxn && !w.uxn);
    CHECK(xlate(&pg, l0, u0, uva, &w) == XA_EFAULT, "user VA through the kernel's table");
    CHECK(xlate(&pg, u0, 0, kva, &w) == XA_EFAULT, "no TTBR1 root");
    CHECK(xlate(&pg, 0, l0, uva, &w) == XA_EFAULT, "no TTBR0 root");
    /* Neither half: top bits mixed. */
    CHECK_EQ(xlate(&pg, u0, l0, 0x0001000000000000ull, &w), XA_EFAULT);
    CHECK_EQ(xlate(&pg, u0, l0, 0xfffe800000000000ull, &w), XA_EFAULT);
    CHECK(reads == 0u, "a VA in neither half reads no table");

    /* Table limits apply below: read-only and no-EL0 from a table descriptor. */
    put(u2, idx(uva, 2), u3 | TABLE | T_RO | T_NOEL0);
    CHECK_EQ(xlate(&pg, u0, l0, uva, &w), 0);
    CHECK(!w.writable && !w.user);

    /* Invalid descriptors at each level fault there. */
    put(l3, idx(kva, 3), 0x41234000ull | (1ull << 1)); /* bit 0 clear: invalid */
    CHECK_EQ(xlate(&pg, 0, l0, kva, &w), XA_EFAULT);
    CHECK_EQ(w.fault_level, 3);
    put(l0, idx(kva, 0), 0);
    CHECK_EQ(xlate(&pg, 0, l0, kva, &w), XA_EFAULT);
    CHECK_EQ(w.fault_level, 0);
    CHECK_EQ(w.levels_read, 1);
}

/* Reserved encodings and RES0 bits are rejected, not followed. */
static void test_reserved(void)
{
    reset();
    struct arm64_paging pg = {.va_bits = 48};
    struct arm64_walk w;
    uint64_t l0 = new_table(), l1 = new_table(), l2 = new_table(), l3 = new_table();
    uint64_t va = 0xffff800000200000ull;
    put(l0, idx(va, 0), l1 | TABLE);
    put(l1, idx(va, 1), l2 | TABLE);
    put(l2, idx(va, 2), l3 | TABLE);
    put(l3, idx(va, 3), 0x40001000ull | BLOCK); /* 0b01 at level 3: reserved */
    CHECK_EQ(xlate(&pg, 0, l0, va, &w), XA_EBADDATA);
    CHECK_EQ(w.fault_level, 3);
    put(l3, idx(va, 3), 0x40001000ull | TABLE | (1ull << 49)); /* OA bit 49 without LPA2 */
    CHECK_EQ(xlate(&pg, 0, l0, va, &w), XA_EBADDATA);
    /* GP (BTI, bit 50) and DBM (bit 51) are attributes of pages: Linux sets
     * GP on kernel text. */
    put(l3, idx(va, 3), 0x40001000ull | TABLE | AF | (1ull << 50) | (1ull << 51));
    CHECK_EQ(xlate(&pg, 0, l0, va, &w), 0);
    CHECK_EQ(w.pa, 0x40001000ull);
    put(l2, idx(va, 2), 0x40200000ull | BLOCK | (1ull << 13)); /* RES0 inside a 2 MiB block */
    CHECK_EQ(xlate(&pg, 0, l0, va, &w), XA_EBADDATA);
    CHECK_EQ(w.fault_level, 2);
    put(l2, idx(va, 2), 0x40200000ull | BLOCK | (1ull << 16)); /* nT is allowed */
    CHECK_EQ(xlate(&pg, 0, l0, va, &w), 0);
    put(l1, idx(va, 1), l2 | TABLE | (1ull << 50)); /* table address bit 50 */
    CHECK_EQ(xlate(&pg, 0, l0, va, &w), XA_EBADDATA);
    CHECK_EQ(w.fault_level, 1);
    put(l0, idx(va, 0), 0x0ull | BLOCK); /* level 0 block without LPA2 */
    CHECK_EQ(xlate(&pg, 0, l0, va, &w), XA_EBADDATA);
    CHECK_EQ(w.fault_level, 0);

    /* A table outside RAM is the read's error; a self-map ends after 4 reads. */
    put(l0, idx(va, 0), 0x80000000ull | TABLE);
    CHECK_EQ(xlate(&pg, 0, l0, va, &w), XA_ERANGE);
    uint64_t self = new_table();
    for (unsigned i = 0; i < 512; i++)
        put(self, i, self | TABLE);
    /* (a recursive map is legal: at level 3 the same descriptor is a page) */
    CHECK_EQ(xlate(&pg, 0, self, va | 0x123, &w), 0);
    CHECK_EQ(reads, 4u);
    CHECK_EQ(w.pa, self | 0x123);

    /* Bad VA sizes. */
    struct arm64_paging bad = {.va_bits = 53};
    CHECK_EQ(xlate(&bad, 0, l0, va, &w), XA_EINVAL);
    bad.va_bits = 49; /* 52-bit needs LPA2 with this granule */
    CHECK_EQ(xlate(&bad, 0, l0, va, &w), XA_EINVAL);
    bad.va_bits = 24;
    CHECK_EQ(xlate(&bad, 0, l0, va, &w), XA_EINVAL);
}

/* 39-bit VAs: three levels from level 1. */
static void test_39(void)
{
    reset();
    struct arm64_paging pg = {.va_bits = 39};
    struct arm64_walk w;
    CHECK_EQ(arm64_start_level(39), 1);
    CHECK_EQ(arm64_start_level(48), 0);
    CHECK_EQ(arm64_start_level(52), -1);
    CHECK_EQ(arm64_start_level(30), 2);
    uint64_t l1 = new_table(), l2 = new_table(), l3 = new_table();
    uint64_t va = 0xffffffc008010abcull;
    put(l1, idx(va, 1), l2 | TABLE);
    put(l2, idx(va, 2), l3 | TABLE);
    put(l3, idx(va, 3), 0x40abc000ull | TABLE | AF);
    CHECK_EQ(xlate(&pg, 0, l1, va, &w), 0);
    CHECK_EQ(w.pa, 0x40abcabcull);
    CHECK_EQ(w.levels_read, 3);
    CHECK(arm64_va_is_upper(&pg, va));
    CHECK(!arm64_va_is_upper(&pg, 0xffff800008000000ull), "a 48-bit kernel VA is not 39-bit");
    CHECK_EQ(xlate(&pg, 0, l1, 0xffff800008010abcull, &w), XA_EFAULT);
    /* A 1 GiB block at level 1 (the first level here). */
    uint64_t va2 = 0xffffffc040000000ull + 0x321;
    put(l1, idx(va2, 1), 0x40000000ull | BLOCK | AF);
    CHECK_EQ(xlate(&pg, 0, l1, va2, &w), 0);
    CHECK_EQ(w.pa, 0x40000321ull);
}

/* 52-bit VAs with LPA2: five levels, OA bits 51:50 in descriptor bits 9:8. */
static void test_52_lpa2(void)
{
    reset();
    struct arm64_paging pg = {.va_bits = 52, .lpa2 = true};
    struct arm64_walk w;
    uint64_t lm1 = new_table(), l0 = new_table(), l1 = new_table(), l2 = new_table(),
             l3 = new_table();
    uint64_t va = 0xfff0000012345678ull; /* the bottom of a 52-bit kernel half */
    CHECK(arm64_va_is_upper(&pg, va));
    CHECK_EQ((unsigned)((va >> 48) & 0xf), 0u);
    put(lm1, (unsigned)((va >> 48) & 0xf), l0 | TABLE);
    put(l0, idx(va, 0), l1 | TABLE);
    put(l1, idx(va, 1), l2 | TABLE);
    put(l2, idx(va, 2), l3 | TABLE);
    /* OA 0xc_0000_4123_4000: bits 51:50 = 0b11 in descriptor bits 9:8. */
    put(l3, idx(va, 3), 0x41234000ull | (3ull << 8) | TABLE | AF);
    CHECK_EQ(xlate(&pg, 0, lm1, va, &w), 0);
    CHECK_EQ(w.pa, 0xc000041234678ull);
    CHECK_EQ(w.levels_read, 5);
    /* Level 0 blocks exist with LPA2 (512 GiB); level -1 blocks do not. */
    put(l0, idx(va, 0), 0x0ull | BLOCK | AF);
    CHECK_EQ(xlate(&pg, 0, lm1, va, &w), 0);
    CHECK_EQ(w.page_size, 1ull << 39);
    CHECK_EQ(w.pa, va & ((1ull << 39) - 1));
    put(lm1, 0, BLOCK | AF);
    CHECK_EQ(xlate(&pg, 0, lm1, va, &w), XA_EBADDATA);
    CHECK_EQ(w.fault_level, -1);
    /* TTBR helpers. */
    /* ASID 1, BADDR[51:48] = 3 in bits 5:2, CnP set. */
    CHECK_EQ(arm64_root_from_ttbr(&pg, 0x0001000040001001ull | (0x3ull << 2)),
             0x0003000040001000ull);
    struct arm64_paging pg48 = {.va_bits = 48};
    CHECK_EQ(arm64_root_from_ttbr(&pg48, 0x00aa000041234001ull), 0x41234000ull);
}

int main(void)
{
    mem = malloc(FAKE_SIZE);
    if (!mem)
        return 1;
    test_48();
    test_reserved();
    test_39();
    test_52_lpa2();
    free(mem);
    CHECK_DONE();
}
