/*
 * test_x86.c -- x86 paging walker on synthetic page tables.
 *
 * Builds page tables in a malloc'd fake physical memory for every mode and
 * checks translations, faults, reserved bits, hostile tables (self-maps,
 * tables outside memory) and the register helpers. Exit 0 = pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/x86.h"
#include "check.h"

/* ---- fake physical memory ---------------------------------------------- */

#define FAKE_SIZE (4u << 20)

#define P  (1ull << 0)
#define RW (1ull << 1)
#define US (1ull << 2)
#define PS (1ull << 7)
#define XD (1ull << 63)
#define TBL (P | RW | US) /* a permissive non-leaf entry */

struct fake_mem {
    uint8_t *mem;
    uint64_t size;
    uint64_t next_page; /* bump allocator for tables */
    unsigned reads;
    size_t bad_len;     /* reads whose length was not 4 or 8 */
    uint64_t fail_pa;   /* reads at this page return fail_rc */
    int fail_rc;
};

static struct fake_mem fm;

static int fake_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    struct fake_mem *f = ctx;
    f->reads++;
    if (len != 4 && len != 8)
        f->bad_len++;
    if (f->fail_rc && (pa & ~0xFFFull) == f->fail_pa)
        return f->fail_rc;
    if (pa >= f->size || len > f->size - pa)
        return XA_ERANGE;
    memcpy(buf, f->mem + pa, len);
    return 0;
}

static void fm_reset(void)
{
    memset(fm.mem, 0, fm.size);
    fm.next_page = 0x1000;
    fm.reads = 0;
    fm.bad_len = 0;
    fm.fail_rc = 0;
}

static uint64_t new_table(void)
{
    uint64_t pa = fm.next_page;
    fm.next_page += 0x1000;
    if (fm.next_page > fm.size) {
        fprintf(stderr, "fake memory exhausted\n");
        exit(1);
    }
    return pa;
}

static void put64(uint64_t pa, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        fm.mem[pa + i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint64_t pa, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        fm.mem[pa + i] = (uint8_t)(v >> (8 * i));
}

static unsigned idx9(uint64_t va, int level)
{
    return (unsigned)((va >> (12 + 9 * (level - 1))) & 511);
}

/*
 * Build a chain of 8-byte tables for @va from level @top down to @leaf_level
 * (PAE: top = 3, the PDPT has 4 entries and its own rules). Non-leaf entries
 * are @tbl_flags | next table; the leaf entry is @leaf. Returns the root.
 * entry_pa[level] receives where each entry was written.
 */
static uint64_t build8(int top, uint64_t va, int leaf_level, uint64_t tbl_flags, uint64_t leaf,
                       uint64_t entry_pa[6])
{
    bool pae = top == 3;
    uint64_t root = new_table();
    uint64_t table = root;
    for (int level = top; level >= leaf_level; level--) {
        unsigned index = (pae && level == 3) ? (unsigned)((va >> 30) & 3) : idx9(va, level);
        uint64_t epa = table + index * 8ull;
        if (entry_pa)
            entry_pa[level] = epa;
        if (level == leaf_level) {
            put64(epa, leaf);
        } else {
            uint64_t next = new_table();
            uint64_t flags = (pae && level == 3) ? P : tbl_flags;
            put64(epa, next | flags);
            table = next;
        }
    }
    return root;
}

static struct x86_paging mkpg(enum xa_page_mode mode, uint8_t maxphy, bool nxe, bool pse)
{
    struct x86_paging pg = {.mode = mode, .maxphyaddr = maxphy, .nxe = nxe, .pse = pse};
    return pg;
}

static int xlate(const struct x86_paging *pg, uint64_t dtb, uint64_t va, struct x86_walk *w)
{
    fm.reads = 0;
    return x86_translate(pg, dtb, va, fake_read, &fm, w);
}

static int levels_of(enum xa_page_mode mode)
{
    return mode == XA_PM_LA57 ? 5 : mode == XA_PM_IA32E ? 4 : mode == XA_PM_PAE ? 3 : 2;
}

/* ---- translations with known offsets ----------------------------------- */

static void test_long_mode_pages(enum xa_page_mode mode, uint64_t va)
{
    int top = levels_of(mode);
    struct x86_paging pg = mkpg(mode, 0, true, false);
    struct x86_walk w;
    uint64_t epa[6];

    /* 4 KiB */
    fm_reset();
    uint64_t root = build8(top, va, 1, TBL, 0x7654000ull | TBL, epa);
    CHECK_EQ(xlate(&pg, root, va, &w), 0);
    CHECK_EQ(w.pa, 0x7654000ull | (va & 0xFFF));
    CHECK_EQ(w.page_size, 4096);
    CHECK_EQ(w.levels_read, top);
    CHECK_EQ(fm.reads, (unsigned)top);
    CHECK_EQ(fm.bad_len, 0);
    CHECK_EQ(w.entries[top - 1], 0x7654000ull | TBL);
    CHECK_EQ(w.entries[0] & ~0xFFFull, root + 0x1000);
    CHECK(w.writable && w.user && !w.nx);

    /* 2 MiB: bit 12 (PAT) is allowed and not part of the address. */
    fm_reset();
    root = build8(top, va, 2, TBL, 0x12345600000ull | PS | (1ull << 12) | TBL, NULL);
    CHECK_EQ(xlate(&pg, root, va, &w), 0);
    CHECK_EQ(w.pa, 0x12345600000ull | (va & 0x1FFFFF));
    CHECK_EQ(w.page_size, 2ull << 20);
    CHECK_EQ(w.levels_read, top - 1);

    /* 1 GiB */
    fm_reset();
    root = build8(top, va, 3, TBL, 0xABC40000000ull | PS | (1ull << 12) | TBL, NULL);
    CHECK_EQ(xlate(&pg, root, va, &w), 0);
    CHECK_EQ(w.pa, 0xABC40000000ull | (va & 0x3FFFFFFF));
    CHECK_EQ(w.page_size, 1ull << 30);
    CHECK_EQ(w.levels_read, top - 2);

    /* PS at a PTE is PAT, not a large page. */
    fm_reset();
    root = build8(top, va, 1, TBL, 0x5000ull | PS | TBL, NULL);
    CHECK_EQ(xlate(&pg, root, va, &w), 0);
    CHECK_EQ(w.pa, 0x5000ull | (va & 0xFFF));
    CHECK_EQ(w.page_size, 4096);
}

static void test_pae_pages(void)
{
    struct x86_paging pg = mkpg(XA_PM_PAE, 36, true, false);
    struct x86_walk w;
    uint64_t va = 0xC1234567;

    /* PDPT at a 32-byte (not page) aligned address, CR3 low bits ignored. */
    fm_reset();
    uint64_t pdpt = new_table() + 0x60;
    uint64_t pd = new_table(), pt = new_table();
    put64(pdpt + 3 * 8, pd | P);
    put64(pd + idx9(va, 2) * 8, pt | TBL);
    put64(pt + idx9(va, 1) * 8, 0xF12345000ull | TBL | XD);
    CHECK_EQ(xlate(&pg, pdpt | 0x18, va, &w), 0);
    CHECK_EQ(w.pa, 0xF12345567ull);
    CHECK_EQ(w.page_size, 4096);
    CHECK_EQ(w.levels_read, 3);
    CHECK_EQ(fm.reads, 3);
    CHECK(w.writable && w.user && w.nx);

    /* 2 MiB page */
    put64(pd + idx9(va, 2) * 8, 0x3C0000000ull | PS | TBL);
    CHECK_EQ(xlate(&pg, pdpt, va, &w), 0);
    CHECK_EQ(w.pa, 0x3C0000000ull | (va & 0x1FFFFF));
    CHECK_EQ(w.page_size, 2ull << 20);
    CHECK_EQ(w.levels_read, 2);

    /* 2 MiB page: bits 20:13 reserved */
    put64(pd + idx9(va, 2) * 8, 0x3C0000000ull | PS | TBL | (1ull << 13));
    CHECK_EQ(xlate(&pg, pdpt, va, &w), XA_EBADDATA);
    CHECK_EQ(w.fault_level, 2);
    put64(pd + idx9(va, 2) * 8, 0x3C0000000ull | PS | TBL);

    /* PDPTE rules: 2:1, 8:6 and 63:M reserved even with NXE; no PS. */
    const uint64_t bad_pdpte_bits[] = {1ull << 1, 1ull << 2, 1ull << 6, 1ull << 7, 1ull << 8,
                                       1ull << 36, 1ull << 51, 1ull << 55, XD};
    for (size_t i = 0; i < sizeof(bad_pdpte_bits) / sizeof(bad_pdpte_bits[0]); i++) {
        put64(pdpt + 3 * 8, pd | P | bad_pdpte_bits[i]);
        CHECK_EQ(xlate(&pg, pdpt, va, &w), XA_EBADDATA);
        CHECK_EQ(w.fault_level, 3);
        CHECK_EQ(w.levels_read, 1);
    }
    /* PWT/PCD (3, 4) and ignored bits 11:9 are fine. */
    put64(pdpt + 3 * 8, pd | P | (1ull << 3) | (1ull << 4) | (7ull << 9));
    CHECK_EQ(xlate(&pg, pdpt, va, &w), 0);
    /* So is accessed (5): QEMU's TCG sets it in the PDPTEs it walks. */
    put64(pdpt + 3 * 8, pd | P | (1ull << 5));
    CHECK_EQ(xlate(&pg, pdpt, va, &w), 0);
    CHECK_EQ(w.pa, 0x3C0000000ull | (va & 0x1FFFFF));
    /* PDPTE has no RW/US: the PDE alone decides. */
    CHECK(w.writable && w.user);
    /* Not present PDPTE */
    put64(pdpt + 3 * 8, pd);
    CHECK_EQ(xlate(&pg, pdpt, va, &w), XA_EFAULT);
    CHECK_EQ(w.fault_level, 3);
    /* Not-present entries ignore all other bits (no reserved-bit fault). */
    put64(pdpt + 3 * 8, ~0ull & ~P);
    CHECK_EQ(xlate(&pg, pdpt, va, &w), XA_EFAULT);
    CHECK_EQ(w.fault_level, 3);
    put64(pdpt + 3 * 8, pd | P);
    /* Other PDPT slots are independent. */
    CHECK_EQ(xlate(&pg, pdpt, va & 0x3FFFFFFF, &w), XA_EFAULT);
    CHECK_EQ(w.fault_level, 3);
    /* 32-bit linear addresses only. */
    CHECK_EQ(xlate(&pg, pdpt, 0x100000000ull, &w), XA_EFAULT);
    CHECK_EQ(fm.reads, 0);
    /* PDE bit above MAXPHYADDR (36) */
    put64(pd + idx9(va, 2) * 8, pt | TBL | (1ull << 40));
    CHECK_EQ(xlate(&pg, pdpt, va, &w), XA_EBADDATA);
    CHECK_EQ(w.fault_level, 2);
    /* XD without NXE */
    put64(pd + idx9(va, 2) * 8, pt | TBL);
    struct x86_paging nonx = mkpg(XA_PM_PAE, 36, false, false);
    CHECK_EQ(xlate(&nonx, pdpt, va, &w), XA_EBADDATA);
    CHECK_EQ(w.fault_level, 1);
}

static void test_legacy_pages(void)
{
    struct x86_paging pg = mkpg(XA_PM_LEGACY, 40, false, true);
    struct x86_walk w;
    uint64_t va = 0xC0ABC123;

    fm_reset();
    uint64_t pd = new_table(), pt = new_table();
    put32(pd + (va >> 22) * 4, (uint32_t)(pt | TBL));
    put32(pt + ((va >> 12) & 0x3FF) * 4, 0x89ABC000u | (uint32_t)TBL);
    CHECK_EQ(xlate(&pg, pd | 0x18, va, &w), 0);
    CHECK_EQ(w.pa, 0x89ABC123ull);
    CHECK_EQ(w.page_size, 4096);
    CHECK_EQ(w.levels_read, 2);
    CHECK_EQ(fm.reads, 2);
    CHECK_EQ(fm.bad_len, 0);
    CHECK(w.writable && w.user && !w.nx);

    /* 32-bit entries: the high half of an 8-byte read must not leak in. */
    put32(pt + ((va >> 12) & 0x3FF) * 4 + 4, 0xFFFFFFFFu);
    CHECK_EQ(xlate(&pg, pd, va, &w), 0);
    CHECK_EQ(w.pa, 0x89ABC123ull);

    /* 4 MiB page (pse), PAT bit 12 allowed. */
    put32(pd + (va >> 22) * 4, 0x87C00000u | (uint32_t)(PS | TBL) | (1u << 12));
    CHECK_EQ(xlate(&pg, pd, va, &w), 0);
    CHECK_EQ(w.pa, 0x87C00000ull | (va & 0x3FFFFF));
    CHECK_EQ(w.page_size, 4ull << 20);
    CHECK_EQ(w.levels_read, 1);

    /* PSE-36: bits 20:13 are PA 39:32 */
    put32(pd + (va >> 22) * 4, 0x87C00000u | (uint32_t)(PS | TBL) | (0xA5u << 13));
    CHECK_EQ(xlate(&pg, pd, va, &w), 0);
    CHECK_EQ(w.pa, 0xA587C00000ull | (va & 0x3FFFFF));
    /* bit 21 reserved */
    put32(pd + (va >> 22) * 4, 0x87C00000u | (uint32_t)(PS | TBL) | (1u << 21));
    CHECK_EQ(xlate(&pg, pd, va, &w), XA_EBADDATA);
    CHECK_EQ(w.fault_level, 2);
    /* MAXPHYADDR 36: PA bits 39:36 (PDE bits 20:17) reserved */
    struct x86_paging pg36 = mkpg(XA_PM_LEGACY, 36, false, true);
    put32(pd + (va >> 22) * 4, 0x87C00000u | (uint32_t)(PS | TBL) | (0x10u << 13));
    CHECK_EQ(xlate(&pg36, pd, va, &w), XA_EBADDATA);
    put32(pd + (va >> 22) * 4, 0x87C00000u | (uint32_t)(PS | TBL) | (0x0Fu << 13));
    CHECK_EQ(xlate(&pg36, pd, va, &w), 0);
    CHECK_EQ(w.pa, 0xF87C00000ull | (va & 0x3FFFFF));

    /* Without CR4.PSE the PS bit is ignored: the PDE points at a page table. */
    struct x86_paging nopse = mkpg(XA_PM_LEGACY, 0, false, false);
    put32(pd + (va >> 22) * 4, (uint32_t)(pt | PS | TBL));
    put32(pt + ((va >> 12) & 0x3FF) * 4, 0x89ABC000u | (uint32_t)TBL);
    CHECK_EQ(xlate(&nopse, pd, va, &w), 0);
    CHECK_EQ(w.pa, 0x89ABC123ull);
    CHECK_EQ(w.page_size, 4096);

    /* Not present at each level */
    put32(pd + (va >> 22) * 4, (uint32_t)(pt | TBL));
    put32(pt + ((va >> 12) & 0x3FF) * 4, 0x89ABC000u);
    CHECK_EQ(xlate(&pg, pd, va, &w), XA_EFAULT);
    CHECK_EQ(w.fault_level, 1);
    put32(pd + (va >> 22) * 4, (uint32_t)(pt));
    CHECK_EQ(xlate(&pg, pd, va, &w), XA_EFAULT);
    CHECK_EQ(w.fault_level, 2);

    /* Permissions: AND of RW/US over both levels */
    put32(pd + (va >> 22) * 4, (uint32_t)(pt | P | US));
    put32(pt + ((va >> 12) & 0x3FF) * 4, 0x89ABC000u | (uint32_t)(P | RW));
    CHECK_EQ(xlate(&pg, pd, va, &w), 0);
    CHECK(!w.writable && !w.user && !w.nx);

    /* Above 4 GiB */
    CHECK_EQ(xlate(&pg, pd, 0x100000000ull, &w), XA_EFAULT);
    CHECK_EQ(fm.reads, 0);
}

/* ---- faults ------------------------------------------------------------ */

static void test_not_present_each_level(enum xa_page_mode mode, uint64_t va)
{
    int top = levels_of(mode);
    struct x86_paging pg = mkpg(mode, 0, true, false);
    struct x86_walk w;
    for (int level = top; level >= 1; level--) {
        uint64_t epa[6];
        fm_reset();
        uint64_t root = build8(top, va, 1, TBL, 0x9000ull | TBL, epa);
        CHECK_EQ(xlate(&pg, root, va, &w), 0);
        /* Clear P only; leave the address and the other flags set. */
        uint64_t e;
        memcpy(&e, fm.mem + epa[level], 8);
        put64(epa[level], e & ~P);
        CHECK_EQ(xlate(&pg, root, va, &w), XA_EFAULT);
        CHECK_EQ(w.fault_level, level);
        CHECK_EQ(w.levels_read, top - level + 1);
        CHECK_EQ(fm.reads, (unsigned)(top - level + 1));
    }
}

static void test_reserved_each_level(enum xa_page_mode mode, uint64_t va)
{
    int top = levels_of(mode);
    struct x86_walk w;
    for (int level = top; level >= 1; level--) {
        bool pdpt = mode == XA_PM_PAE && level == 3;
        /* Bits MAXPHYADDR..51, with MAXPHYADDR 46 (and PAE PDPTE 63:M). */
        const uint64_t bits[] = {1ull << 46, 1ull << 51};
        for (size_t i = 0; i < 2; i++) {
            uint64_t epa[6];
            fm_reset();
            uint64_t root = build8(top, va, 1, TBL, 0x9000ull | TBL, epa);
            struct x86_paging pg = mkpg(mode, 46, true, false);
            CHECK_EQ(xlate(&pg, root, va, &w), 0);
            uint64_t e;
            memcpy(&e, fm.mem + epa[level], 8);
            put64(epa[level], e | bits[i]);
            CHECK_EQ(xlate(&pg, root, va, &w), XA_EBADDATA);
            CHECK_EQ(w.fault_level, level);
            /* With MAXPHYADDR 52 the same bit is an address bit: a table
             * (or page) far outside fake memory. */
            struct x86_paging wide = mkpg(mode, 52, true, false);
            int rc = xlate(&wide, root, va, &w);
            if (level == 1)
                CHECK_EQ(rc, 0);
            else
                CHECK_EQ(rc, XA_ERANGE);
        }
        /* Bit 63 without NXE; with NXE it is XD (except in a PAE PDPTE). */
        {
            uint64_t epa[6];
            fm_reset();
            uint64_t root = build8(top, va, 1, TBL, 0x9000ull | TBL, epa);
            uint64_t e;
            memcpy(&e, fm.mem + epa[level], 8);
            put64(epa[level], e | XD);
            struct x86_paging nonx = mkpg(mode, 0, false, false);
            CHECK_EQ(xlate(&nonx, root, va, &w), XA_EBADDATA);
            CHECK_EQ(w.fault_level, level);
            struct x86_paging nx = mkpg(mode, 0, true, false);
            int rc = xlate(&nx, root, va, &w);
            CHECK_EQ(rc, pdpt ? XA_EBADDATA : 0);
            if (!pdpt)
                CHECK(w.nx);
        }
    }
    if (mode == XA_PM_PAE)
        return;
    /* PS at PML4 (and PML5) level is reserved. */
    for (int level = top; level >= 4; level--) {
        uint64_t epa[6];
        fm_reset();
        uint64_t root = build8(top, va, 1, TBL, 0x9000ull | TBL, epa);
        uint64_t e;
        memcpy(&e, fm.mem + epa[level], 8);
        put64(epa[level], e | PS);
        struct x86_paging pg = mkpg(mode, 0, true, false);
        CHECK_EQ(xlate(&pg, root, va, &w), XA_EBADDATA);
        CHECK_EQ(w.fault_level, level);
    }
    /* Large-page address bits: 20:13 of a 2 MiB PDE, 29:13 of a 1 GiB PDPTE. */
    struct x86_paging pg = mkpg(mode, 0, true, false);
    const unsigned pde_bits[] = {13, 16, 20};
    for (size_t i = 0; i < 3; i++) {
        fm_reset();
        uint64_t root = build8(top, va, 2, TBL, 0x40000000ull | PS | TBL | (1ull << pde_bits[i]),
                               NULL);
        CHECK_EQ(xlate(&pg, root, va, &w), XA_EBADDATA);
        CHECK_EQ(w.fault_level, 2);
    }
    const unsigned pdpte_bits[] = {13, 20, 21, 29};
    for (size_t i = 0; i < 4; i++) {
        fm_reset();
        uint64_t root = build8(top, va, 3, TBL, 0x40000000ull | PS | TBL | (1ull << pdpte_bits[i]),
                               NULL);
        CHECK_EQ(xlate(&pg, root, va, &w), XA_EBADDATA);
        CHECK_EQ(w.fault_level, 3);
    }
    /* Ignored bits 62:52 and 11:8 in every entry are fine. */
    fm_reset();
    uint64_t root = build8(top, va, 1, TBL | (0x7FFull << 52) | (0xEull << 8),
                           0x9000ull | TBL | (0x7FFull << 52), NULL);
    CHECK_EQ(xlate(&pg, root, va, &w), 0);
    CHECK_EQ(w.pa, 0x9000ull | (va & 0xFFF));
}

static void test_canonical(void)
{
    struct x86_walk w;
    struct x86_paging pg4 = mkpg(XA_PM_IA32E, 0, true, false);
    struct x86_paging pg5 = mkpg(XA_PM_LA57, 0, true, false);
    fm_reset();
    uint64_t root4 = build8(4, 0x00007FFFFFFFF000ull, 1, TBL, 0x9000ull | TBL, NULL);
    uint64_t root5 = build8(5, 0x00FFFFFFFFFFF000ull, 1, TBL, 0x9000ull | TBL, NULL);

    const uint64_t bad48[] = {0x0000800000000000ull, 0xFFFF7FFFFFFFFFFFull, 0x8000000000000000ull,
                              0x0001000000000000ull, 0x00FFFFFFFFFFF000ull};
    for (size_t i = 0; i < 5; i++) {
        CHECK_EQ(xlate(&pg4, root4, bad48[i], &w), XA_EFAULT);
        CHECK_EQ(fm.reads, 0);
    }
    CHECK_EQ(xlate(&pg4, root4, 0x00007FFFFFFFF123ull, &w), 0);
    CHECK_EQ(w.pa, 0x9123);
    CHECK_EQ(xlate(&pg4, root4, 0xFFFF800000000000ull, &w), XA_EFAULT); /* canonical, unmapped */
    CHECK_EQ(w.fault_level, 4);

    const uint64_t bad57[] = {0x0100000000000000ull, 0xFEFFFFFFFFFFFFFFull, 0x8000000000000000ull,
                              0x7F00000000000000ull};
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ(xlate(&pg5, root5, bad57[i], &w), XA_EFAULT);
        CHECK_EQ(fm.reads, 0);
    }
    /* Non-canonical for 48 bits, canonical for 57. */
    CHECK_EQ(xlate(&pg5, root5, 0x00FFFFFFFFFFF456ull, &w), 0);
    CHECK_EQ(w.pa, 0x9456);
    CHECK_EQ(xlate(&pg5, root5, 0xFF00000000000000ull, &w), XA_EFAULT);
    CHECK_EQ(w.fault_level, 5);
}

/* A top-level table whose every entry points back at itself. */
static void test_self_map(enum xa_page_mode mode)
{
    int top = levels_of(mode);
    struct x86_paging pg = mkpg(mode, 0, true, false);
    struct x86_walk w;
    fm_reset();
    uint64_t root = new_table();
    for (unsigned i = 0; i < 512; i++)
        put64(root + i * 8, root | (mode == XA_PM_PAE ? 0 : TBL) | P);
    /* PAE: only the 4 PDPTEs are PDPTEs; all 512 also act as PDE/PTEs. */
    uint64_t vas[] = {0, 0x1234, 0xFFFFFFFFull, 0x00007FFFFFFFFFFFull, 0xFFFFFFFFFFFFFFFFull,
                      0xFFFF800000000ABCull, 0x00FFFFFFFFFFFFFFull};
    for (size_t i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
        int rc = xlate(&pg, root, vas[i], &w);
        if (rc == XA_EFAULT && w.levels_read == 0)
            continue; /* not a valid VA for this mode */
        CHECK_EQ(rc, 0);
        CHECK_EQ(w.levels_read, top);
        CHECK_EQ(fm.reads, (unsigned)top);
        CHECK_EQ(w.pa, root | (vas[i] & 0xFFF));
        /* Deterministic: same answer again. */
        struct x86_walk w2;
        CHECK_EQ(xlate(&pg, root, vas[i], &w2), 0);
        CHECK_EQ(w2.pa, w.pa);
    }
    /* With PS set everywhere: reserved at PML4/5, else a large page of itself. */
    for (unsigned i = 0; i < 512; i++)
        put64(root + i * 8, root | TBL | PS);
    int rc = xlate(&pg, root, 0x1234, &w);
    if (mode == XA_PM_PAE)
        CHECK_EQ(rc, XA_EBADDATA); /* PS (bit 7) is reserved in a PDPTE */
    else if (mode == XA_PM_IA32E || mode == XA_PM_LA57)
        CHECK_EQ(rc, XA_EBADDATA);
    CHECK(fm.reads <= (unsigned)top);
}

static void test_self_map_legacy(void)
{
    struct x86_paging pg = mkpg(XA_PM_LEGACY, 0, false, false);
    struct x86_walk w;
    fm_reset();
    uint64_t pd = new_table();
    for (unsigned i = 0; i < 1024; i++)
        put32(pd + i * 4, (uint32_t)(pd | TBL | PS)); /* PS ignored: no pse */
    CHECK_EQ(xlate(&pg, pd, 0xFFFFF123, &w), 0);
    CHECK_EQ(w.pa, pd | 0x123);
    CHECK_EQ(fm.reads, 2);
}

/* Tables outside fake memory: the read error comes back as is. */
static void test_outside_memory(enum xa_page_mode mode, uint64_t va)
{
    int top = levels_of(mode);
    struct x86_paging pg = mkpg(mode, 0, true, false);
    struct x86_walk w;
    for (int level = top; level >= 2; level--) {
        uint64_t epa[6];
        fm_reset();
        uint64_t root = build8(top, va, 1, TBL, 0x9000ull | TBL, epa);
        uint64_t e;
        memcpy(&e, fm.mem + epa[level], 8);
        uint64_t far = (mode == XA_PM_PAE && level == 3) ? 0xFFFFF000ull : 0xFFFFFFF000ull;
        put64(epa[level], (e & 0xFFF) | far);
        CHECK_EQ(xlate(&pg, root, va, &w), XA_ERANGE);
        CHECK_EQ(w.fault_level, level - 1);
        CHECK_EQ(w.levels_read, top - level + 1);
    }
    /* Root itself outside; and the last entry straddling the end. */
    CHECK_EQ(xlate(&pg, 0xFFFFF000ull, va, &w), XA_ERANGE);
    CHECK_EQ(w.fault_level, top);
    CHECK_EQ(w.levels_read, 0);
    /* Other read errors pass through unchanged, with the failing level. */
    uint64_t epa[6];
    fm_reset();
    uint64_t root = build8(top, va, 1, TBL, 0x9000ull | TBL, epa);
    fm.fail_pa = epa[1] & ~0xFFFull;
    fm.fail_rc = XA_EIO;
    CHECK_EQ(xlate(&pg, root, va, &w), XA_EIO);
    CHECK_EQ(w.fault_level, 1);
    fm.fail_rc = XA_EGONE;
    CHECK_EQ(xlate(&pg, root, va, &w), XA_EGONE);
    fm.fail_rc = 0;
}

static void test_pcid_cr3(void)
{
    struct x86_paging pg = mkpg(XA_PM_IA32E, 0, true, false);
    struct x86_walk w;
    uint64_t va = 0xFFFF888001234567ull;
    fm_reset();
    uint64_t root = build8(4, va, 1, TBL, 0x9000ull | TBL, NULL);
    uint64_t cr3 = root | 0x123 | (1ull << 63) | (1ull << 62) | (1ull << 61);
    CHECK_EQ(xlate(&pg, cr3, va, &w), 0);
    CHECK_EQ(w.pa, 0x9567);

    CHECK_EQ(x86_dtb_from_cr3(XA_PM_IA32E, 0x8000000012345FFFull), 0x12345000ull);
    CHECK_EQ(x86_dtb_from_cr3(XA_PM_LA57, 0xFFF0001234567ABCull), 0x0001234567000ull);
    CHECK_EQ(x86_dtb_from_cr3(XA_PM_IA32E, 0x000FFFFFFFFFFFFFull), 0x000FFFFFFFFFF000ull);
    CHECK_EQ(x86_dtb_from_cr3(XA_PM_PAE, 0x12345FFFull), 0x12345FE0ull);
    CHECK_EQ(x86_dtb_from_cr3(XA_PM_PAE, 0x1FFFFFFFFull), 0xFFFFFFE0ull);
    CHECK_EQ(x86_dtb_from_cr3(XA_PM_LEGACY, 0x12345FFFull), 0x12345000ull);
    CHECK_EQ(x86_dtb_from_cr3(XA_PM_LEGACY, 0x112345018ull), 0x12345000ull);
    CHECK_EQ(x86_dtb_from_cr3(XA_PM_NONE, 0x12345000ull), 0);
}

static void test_permissions(void)
{
    struct x86_paging pg = mkpg(XA_PM_IA32E, 0, true, false);
    struct x86_walk w;
    uint64_t va = 0x00007F0012345678ull;
    for (int level = 4; level >= 1; level--) {
        for (int which = 0; which < 3; which++) {
            uint64_t epa[6];
            fm_reset();
            uint64_t root = build8(4, va, 1, TBL, 0x9000ull | TBL, epa);
            uint64_t e;
            memcpy(&e, fm.mem + epa[level], 8);
            e = which == 0 ? e & ~RW : which == 1 ? e & ~US : e | XD;
            put64(epa[level], e);
            CHECK_EQ(xlate(&pg, root, va, &w), 0);
            CHECK_EQ(w.writable, which != 0);
            CHECK_EQ(w.user, which != 1);
            CHECK_EQ(w.nx, which == 2);
        }
    }
    /* Large pages: only the levels walked count. */
    fm_reset();
    uint64_t root = build8(4, va, 3, P | US, 0x40000000ull | PS | P | RW | US | XD, NULL);
    CHECK_EQ(xlate(&pg, root, va, &w), 0);
    CHECK(!w.writable && w.user && w.nx);
}

static void test_regs(void)
{
    const uint64_t PG = 1ull << 31, PAE = 1ull << 5, PSE = 1ull << 4, LA57 = 1ull << 12;
    const uint64_t LMA = 1ull << 10, LME = 1ull << 8, NXE = 1ull << 11;
    for (int bitsel = 0; bitsel < 16; bitsel++) {
        bool pg = bitsel & 1, pae = bitsel & 2, lma = bitsel & 4, la57 = bitsel & 8;
        uint64_t cr0 = (pg ? PG : 0) | 1; /* PE */
        uint64_t cr4 = (pae ? PAE : 0) | (la57 ? LA57 : 0);
        uint64_t efer = (lma ? LMA | LME : 0);
        enum xa_page_mode want;
        if (!pg)
            want = XA_PM_NONE;
        else if (!pae)
            want = lma ? XA_PM_UNKNOWN : XA_PM_LEGACY;
        else if (!lma)
            want = XA_PM_PAE;
        else
            want = la57 ? XA_PM_LA57 : XA_PM_IA32E;
        CHECK_EQ(x86_mode_from_regs(cr0, cr4, efer), want);
    }
    /* Real values: Linux x86_64 (CR0 0x80050033, CR4 0x3506f0 / LA57 0x3516f0, EFER 0xd01). */
    CHECK_EQ(x86_mode_from_regs(0x80050033, 0x3506f0, 0xd01), XA_PM_IA32E);
    CHECK_EQ(x86_mode_from_regs(0x80050033, 0x3516f0, 0xd01), XA_PM_LA57);
    CHECK_EQ(x86_mode_from_regs(0x60000010, 0, 0), XA_PM_NONE);

    struct x86_paging p;
    memset(&p, 0xAA, sizeof(p));
    x86_paging_from_regs(&p, 0x80050033, 0x3506f0, 0xd01);
    CHECK_EQ(p.mode, XA_PM_IA32E);
    CHECK(p.nxe && p.pse);
    CHECK_EQ(p.maxphyaddr, 0);
    x86_paging_from_regs(&p, PG, PAE, LMA);
    CHECK(!p.nxe && !p.pse);
    x86_paging_from_regs(&p, PG, PSE, NXE);
    CHECK_EQ(p.mode, XA_PM_LEGACY);
    CHECK(p.nxe && p.pse);

    CHECK_EQ(x86_va_bits(XA_PM_IA32E), 48);
    CHECK_EQ(x86_va_bits(XA_PM_LA57), 57);
    CHECK_EQ(x86_va_bits(XA_PM_PAE), 32);
    CHECK_EQ(x86_va_bits(XA_PM_LEGACY), 32);
    CHECK_EQ(x86_va_bits(XA_PM_UNKNOWN), 0);
    CHECK(!strcmp(x86_mode_name(XA_PM_LEGACY), "32-bit legacy"));
    CHECK(!strcmp(x86_mode_name(XA_PM_PAE), "PAE"));
    CHECK(!strcmp(x86_mode_name(XA_PM_IA32E), "IA-32e 4-level"));
    CHECK(!strcmp(x86_mode_name(XA_PM_LA57), "IA-32e 5-level (LA57)"));
    CHECK(!strcmp(x86_mode_name(XA_PM_NONE), "no paging"));
    CHECK(!strcmp(x86_mode_name(XA_PM_UNKNOWN), "unknown"));
    CHECK(!strcmp(x86_mode_name((enum xa_page_mode)99), "unknown"));
}

static void test_misc_modes(void)
{
    struct x86_walk w;
    struct x86_paging none = mkpg(XA_PM_NONE, 0, false, false);
    CHECK_EQ(xlate(&none, 0, 0x123456789ull, &w), 0);
    CHECK_EQ(w.pa, 0x123456789ull);
    CHECK_EQ(fm.reads, 0);
    struct x86_paging unk = mkpg(XA_PM_UNKNOWN, 0, false, false);
    CHECK_EQ(xlate(&unk, 0x1000, 0x1000, &w), XA_EINVAL);
    struct x86_paging badm = mkpg((enum xa_page_mode)42, 0, false, false);
    CHECK_EQ(xlate(&badm, 0x1000, 0x1000, &w), XA_EINVAL);
    struct x86_paging badphy = mkpg(XA_PM_IA32E, 60, false, false);
    CHECK_EQ(xlate(&badphy, 0x1000, 0x1000, &w), XA_EINVAL);
    CHECK_EQ(fm.reads, 0);
}

/* Random tables: whatever the bytes, the walk stays bounded and consistent. */
static void test_random_tables(void)
{
    static const enum xa_page_mode modes[] = {XA_PM_LEGACY, XA_PM_PAE, XA_PM_IA32E, XA_PM_LA57};
    uint64_t s = 0x9E3779B97F4A7C15ull;
    fm_reset();
    /* Fill 64 KiB of tables with random entries pointing inside it mostly. */
    for (uint64_t pa = 0; pa < 0x10000; pa += 8) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        uint64_t e = s;
        if (s & 0x300) /* usually a plausible pointer into the tables */
            e = (e & (0xF000ull | 0xFFF | XD | (1ull << 46))) | P;
        put64(pa, e);
    }
    unsigned ok = 0, faults = 0, bad = 0, range = 0;
    for (int i = 0; i < 200000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        struct x86_paging pg = mkpg(modes[i & 3], (i & 4) ? 46 : 0, i & 8, i & 16);
        struct x86_walk w;
        uint64_t va = s;
        if (i & 32)
            va = (uint64_t)((int64_t)(va << 16) >> 16);
        int rc = xlate(&pg, (s >> 20) & 0xF000, va, &w);
        int top = levels_of(pg.mode);
        CHECK(w.levels_read <= top);
        CHECK(fm.reads <= (unsigned)top);
        if (rc == 0) {
            ok++;
            CHECK(w.page_size == 4096 || w.page_size == (2u << 20) || w.page_size == (4u << 20) ||
                  w.page_size == (1u << 30));
            CHECK_EQ(w.pa & (w.page_size - 1), va & (w.page_size - 1));
        } else if (rc == XA_EFAULT) {
            faults++;
        } else if (rc == XA_EBADDATA) {
            bad++;
            CHECK(w.fault_level >= 1 && w.fault_level <= top);
        } else {
            CHECK_EQ(rc, XA_ERANGE);
            range++;
        }
    }
    printf("random tables: %u ok, %u not present, %u reserved, %u out of range\n", ok, faults,
           bad, range);
    CHECK(ok > 0 && faults > 0 && bad > 0);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Informational: cost of a full 4-level walk with a memory-backed callback. */
static void bench_walk(void)
{
    struct x86_paging pg = mkpg(XA_PM_IA32E, 0, true, false);
    fm_reset();
    /* 512 PTEs in one PT, so the VAs vary. */
    uint64_t va0 = 0xFFFF888000000000ull;
    uint64_t epa[6];
    uint64_t root = build8(4, va0, 1, TBL, 0x100000ull | TBL, epa);
    for (unsigned i = 0; i < 512; i++)
        put64((epa[1] & ~0xFFFull) + i * 8, (0x100000ull + i * 0x1000ull) | TBL | XD);
    const int n = 2000000;
    uint64_t sum = 0;
    struct x86_walk w;
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        uint64_t va = va0 + ((uint64_t)(i & 511) << 12) + (uint64_t)(i & 0xFFF);
        if (x86_translate(&pg, root, va, fake_read, &fm, &w) == 0)
            sum += w.pa;
    }
    double t1 = now_ns();
    CHECK(sum != 0);
    printf("4-level walk: %.1f ns per translation (%d walks, informational)\n", (t1 - t0) / n, n);
}

int main(void)
{
    fm.size = FAKE_SIZE;
    fm.mem = malloc(fm.size);
    if (!fm.mem)
        return 1;

    const uint64_t va4 = 0xFFFF888123456789ull;
    const uint64_t va5 = 0xFF91A2B3C4D5E6F7ull;
    const uint64_t vapae = 0xC7654321ull;

    test_long_mode_pages(XA_PM_IA32E, va4);
    test_long_mode_pages(XA_PM_IA32E, 0x00007F0012345678ull);
    test_long_mode_pages(XA_PM_LA57, va5);
    test_long_mode_pages(XA_PM_LA57, 0x0012345678ABCDEFull);
    test_pae_pages();
    test_legacy_pages();
    test_not_present_each_level(XA_PM_IA32E, va4);
    test_not_present_each_level(XA_PM_LA57, va5);
    test_not_present_each_level(XA_PM_PAE, vapae);
    test_reserved_each_level(XA_PM_IA32E, va4);
    test_reserved_each_level(XA_PM_LA57, va5);
    test_reserved_each_level(XA_PM_PAE, vapae);
    test_canonical();
    test_self_map(XA_PM_IA32E);
    test_self_map(XA_PM_LA57);
    test_self_map(XA_PM_PAE);
    test_self_map_legacy();
    test_outside_memory(XA_PM_IA32E, va4);
    test_outside_memory(XA_PM_LA57, va5);
    test_outside_memory(XA_PM_PAE, vapae);
    test_pcid_cr3();
    test_permissions();
    test_regs();
    test_misc_modes();
    test_random_tables();
    bench_walk();

    free(fm.mem);
    if (check_failures) {
        fprintf(stderr, "test_x86: %d check(s) failed\n", check_failures);
        return 1;
    }
    printf("test_x86: all checks passed\n");
    return 0;
}
