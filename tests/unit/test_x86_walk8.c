/*
 * test_x86_walk8.c -- the inline walk of the 8-byte-entry modes
 * (arch/x86_walk8.h) against the generic walker (x86_translate) on
 * synthetic page tables.
 *
 * The rule it is held to: with every table page at hand, it translates
 * exactly when x86_translate() does, to the same address, page size and
 * page table; with pages missing it may only decline. Checked on chains
 * with a leaf at each level, each entry of them with each of its 64 bits
 * flipped in turn (presence, reserved bits, PS where no large page can be,
 * the bits a large page must leave clear, table addresses moved out of
 * RAM), entries that straddle the end of RAM, CR3 values with flag bits,
 * non-canonical addresses, and random tables. Exit 0 = pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86.h"
#include "arch/x86_walk8.h"
#include "check.h"

#define MEM_SIZE (1u << 20)
#define PAGES (MEM_SIZE >> 12)

#define P  (1ull << 0)
#define RW (1ull << 1)
#define US (1ull << 2)
#define PS (1ull << 7)
#define XD (1ull << 63)
#define TBL (P | RW | US)

/* Guest RAM is [0, ram_end); a page is "at hand" (as the core's page memo
 * holds it) when at_hand[pfn]. */
static struct {
    uint8_t *bytes;
    uint64_t ram_end;
    uint64_t next_page;
    bool at_hand[PAGES];
} mem;

static int read_generic(void *ctx, uint64_t pa, void *buf, size_t len)
{
    (void)ctx;
    if (pa >= mem.ram_end || len > mem.ram_end - pa)
        return XA_ERANGE;
    memcpy(buf, mem.bytes + pa, len);
    return 0;
}

static const uint8_t *entry_at(void *ctx, uint64_t pa)
{
    (void)ctx;
    if (pa >= mem.ram_end || mem.ram_end - pa < 8 || !mem.at_hand[pa >> 12])
        return NULL;
    return mem.bytes + pa;
}

static void mem_reset(void)
{
    memset(mem.bytes, 0, MEM_SIZE);
    mem.ram_end = MEM_SIZE;
    mem.next_page = 0x1000;
    for (unsigned i = 0; i < PAGES; i++)
        mem.at_hand[i] = true;
}

static uint64_t get64(uint64_t pa)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | mem.bytes[pa + (unsigned)i];
    return v;
}

static void put64(uint64_t pa, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        mem.bytes[pa + (unsigned)i] = (uint8_t)(v >> (8 * i));
}

static uint64_t new_table(void)
{
    uint64_t pa = mem.next_page;
    mem.next_page += 0x1000;
    if (mem.next_page > MEM_SIZE) {
        fprintf(stderr, "test memory exhausted\n");
        exit(1);
    }
    return pa;
}

static int levels_of(enum xa_page_mode mode)
{
    return mode == XA_PM_LA57 ? 5 : mode == XA_PM_IA32E ? 4 : 3;
}

static unsigned entry_index(int top, uint64_t va, int level)
{
    if (top == 3 && level == 3)
        return (unsigned)((va >> 30) & 3);
    return (unsigned)((va >> (12 + 9 * (level - 1))) & 511);
}

/* Tables for @va from @top down to @leaf_level (its entry @leaf); where
 * each entry is goes to entry_pa[level]. The root's address is returned. */
static uint64_t build(int top, uint64_t va, int leaf_level, uint64_t leaf, uint64_t entry_pa[6])
{
    uint64_t root = new_table(), table = root;
    for (int level = top; level >= leaf_level; level--) {
        uint64_t epa = table + entry_index(top, va, level) * 8ull;
        entry_pa[level] = epa;
        if (level == leaf_level) {
            put64(epa, leaf);
            break;
        }
        uint64_t next = new_table();
        put64(epa, next | (top == 3 && level == 3 ? P : TBL));
        table = next;
    }
    return root;
}

static unsigned compared, fast_translated;

/*
 * Both walks of @va. With every page at hand they must agree on whether it
 * translates, and on the result; otherwise the inline walk may decline.
 * Returns whether the inline walk translated.
 */
static bool compare(const struct x86_paging *pg, uint64_t dtb, uint64_t va, bool all_at_hand)
{
    struct x86_walk8 w8;
    x86_walk8_setup(pg, &w8);
    struct x86_walk gen;
    int rc = x86_translate(pg, dtb, va, read_generic, NULL, &gen);
    struct x86_walk8_result fast = {0};
    bool ok = x86_walk8(&w8, dtb, va, entry_at, NULL, &fast);
    compared++;
    if (ok) {
        fast_translated++;
        CHECK(rc == 0, "inline walk of 0x%llx (mode %d, cr3 0x%llx) translated what "
              "x86_translate refused (%d)", (unsigned long long)va, pg->mode,
              (unsigned long long)dtb, rc);
        if (rc == 0) {
            CHECK_EQ(fast.pa, gen.pa);
            CHECK_EQ(fast.page_size, gen.page_size);
            CHECK_EQ(fast.pt, gen.pt);
        }
    } else if (all_at_hand) {
        CHECK(rc != 0, "inline walk of 0x%llx (mode %d) declined what x86_translate "
              "translated", (unsigned long long)va, pg->mode);
    }
    return ok;
}

static const enum xa_page_mode modes[] = {XA_PM_PAE, XA_PM_IA32E, XA_PM_LA57};
static const uint8_t maxphys[] = {0, 36, 46};

/* An address for @mode with index 5 at every level, an offset, and the
 * top bits as the mode wants them (canonical, or 32-bit). */
static uint64_t sample_va(enum xa_page_mode mode)
{
    if (mode == XA_PM_PAE)
        return 0xC0A05123ull;
    uint64_t va = 0x0000A05A05A05123ull; /* index 0x140-ish at each level */
    if (mode == XA_PM_LA57)
        va |= 0x00FF000000000000ull;
    va |= 1ull << (mode == XA_PM_LA57 ? 56 : 47); /* upper half: sign-extended */
    unsigned bits = mode == XA_PM_LA57 ? 57 : 48;
    return (uint64_t)((int64_t)(va << (64 - bits)) >> (64 - bits));
}

/* A chain with its leaf at each level (PS where a large page is not
 * allowed too), then each bit of each entry flipped in turn. */
static void test_chains_bit_flips(void)
{
    for (size_t m = 0; m < 3; m++)
        for (size_t x = 0; x < 3; x++)
            for (int nxe = 0; nxe < 2; nxe++) {
                enum xa_page_mode mode = modes[m];
                struct x86_paging pg = {.mode = mode, .maxphyaddr = maxphys[x], .nxe = nxe};
                int top = levels_of(mode);
                uint64_t va = sample_va(mode);
                for (int leaf_level = 1; leaf_level <= top; leaf_level++) {
                    if (mode == XA_PM_PAE && leaf_level == 3)
                        continue; /* a PDPTE is never a leaf */
                    mem_reset();
                    uint64_t epa[6] = {0};
                    uint64_t shift = 12 + 9 * (unsigned)(leaf_level - 1);
                    uint64_t target = (0x40000000ull >> shift) << shift; /* 1 GiB: aligned for all */
                    uint64_t leaf = target | TBL | (leaf_level > 1 ? PS : 0) | (nxe ? XD : 0);
                    uint64_t root = build(top, va, leaf_level, leaf, epa);
                    /* A valid chain translates inline; PS at level 4/5 never. */
                    bool valid = leaf_level <= 3;
                    CHECK(compare(&pg, root, va, true) == valid,
                          "mode %d leaf level %d maxphy %u nxe %d", mode, leaf_level,
                          maxphys[x], nxe);
                    for (int level = top; level >= leaf_level; level--)
                        for (unsigned bit = 0; bit < 64; bit++) {
                            uint64_t old = get64(epa[level]);
                            put64(epa[level], old ^ (1ull << bit));
                            compare(&pg, root, va, true);
                            /* and with the root given as a CR3 with flag bits */
                            compare(&pg, root | 0x18 | (mode == XA_PM_PAE ? 0 : 0xFE7ull),
                                    va, true);
                            put64(epa[level], old);
                        }
                }
            }
}

/* An entry across the end of RAM, or just past it: refused both ways. */
static void test_ram_end(void)
{
    for (size_t m = 0; m < 3; m++) {
        enum xa_page_mode mode = modes[m];
        struct x86_paging pg = {.mode = mode, .nxe = true};
        int top = levels_of(mode);
        for (int level = top; level >= 1; level--)
            for (int cut = 0; cut <= 8; cut += 4) {
                mem_reset();
                uint64_t va = sample_va(mode), epa[6] = {0};
                uint64_t root = build(top, va, 1, 0x123000ull | TBL, epa);
                /* RAM ends inside (cut 4), at the start of (cut 8: none of
                 * it) or just after (cut 0) the entry of @level. */
                mem.ram_end = epa[level] + 8 - (uint64_t)cut;
                bool ok = compare(&pg, root, va, true);
                /* Every other entry lies below it only for the lowest
                 * table; what matters is that both walks agree. */
                if (cut)
                    CHECK(!ok, "mode %d level %d cut %d", mode, level, cut);
            }
    }
}

/* Pages not at hand: the inline walk declines or agrees. */
static void test_not_at_hand(void)
{
    for (size_t m = 0; m < 3; m++) {
        enum xa_page_mode mode = modes[m];
        struct x86_paging pg = {.mode = mode, .nxe = true};
        int top = levels_of(mode);
        for (int level = top; level >= 1; level--) {
            mem_reset();
            uint64_t va = sample_va(mode), epa[6] = {0};
            uint64_t root = build(top, va, 1, 0x123000ull | TBL, epa);
            mem.at_hand[epa[level] >> 12] = false;
            CHECK(!compare(&pg, root, va, false), "mode %d level %d", mode, level);
        }
    }
}

/* Addresses the mode cannot translate, and modes it does not walk. */
static void test_addresses_and_modes(void)
{
    mem_reset();
    uint64_t epa[6];
    struct x86_paging pg = {.mode = XA_PM_IA32E, .nxe = true};
    uint64_t root = build(4, 0x00007F0000001000ull, 1, 0x5000 | TBL, epa);
    CHECK(compare(&pg, root, 0x00007F0000001000ull, true));
    CHECK(!compare(&pg, root, 0x00017F0000001000ull, true)); /* not canonical */
    CHECK(!compare(&pg, root, 0xFFFF7F0000001000ull, true));
    pg.mode = XA_PM_LA57;
    root = build(5, 0x00FF7F0000001000ull, 1, 0x5000 | TBL, epa);
    CHECK(compare(&pg, root, 0x00FF7F0000001000ull, true));
    CHECK(!compare(&pg, root, 0x01FF7F0000001000ull, true));
    pg.mode = XA_PM_PAE;
    root = build(3, 0xC0001000ull, 1, 0x5000 | TBL, epa);
    CHECK(compare(&pg, root, 0xC0001000ull, true));
    CHECK(!compare(&pg, root, 0x1C0001000ull, true)); /* above 4 GiB */
    /* Not walked inline: legacy, no paging, unknown, a bad MAXPHYADDR. */
    struct x86_walk8 w8;
    static const struct x86_paging others[] = {
        {.mode = XA_PM_LEGACY}, {.mode = XA_PM_NONE}, {.mode = XA_PM_UNKNOWN},
        {.mode = XA_PM_AARCH64}, {.mode = XA_PM_IA32E, .maxphyaddr = 31},
        {.mode = XA_PM_IA32E, .maxphyaddr = 53}};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        x86_walk8_setup(&others[i], &w8);
        CHECK_EQ(w8.top, 0);
        struct x86_walk8_result r;
        CHECK(!x86_walk8(&w8, root, 0xC0001000ull, entry_at, NULL, &r));
    }
}

/* Random entries over 64 KiB of tables, random addresses and CR3 values. */
static void test_random(void)
{
    uint64_t s = 0x2545F4914F6CDD1Dull;
    mem_reset();
    for (uint64_t pa = 0; pa < 0x10000; pa += 8) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        uint64_t e = s;
        if (s & 0x300) { /* mostly a plausible entry pointing into the tables */
            e = (s & 0xFFFFull) | P;
            if (((s >> 20) & 7) == 0) /* now and then a high bit: reserved or out of RAM */
                e |= s & (XD | (1ull << 40) | (1ull << 46) | (1ull << 51));
        }
        put64(pa, e);
    }
    mem.ram_end = 0x10000 - 4; /* the last entry straddles the end */
    unsigned before = fast_translated;
    for (int i = 0; i < 300000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        struct x86_paging pg = {
            .mode = modes[(unsigned)i % 3], .maxphyaddr = maxphys[(unsigned)(i / 3) % 3],
            .nxe = (i & 8) != 0};
        uint64_t va = s;
        if (i & 32)
            va = (uint64_t)((int64_t)(va << 16) >> 16);
        if (i & 64)
            va &= 0xFFFFFFFFull;
        uint64_t cr3 = ((s >> 20) & 0xF000) | (s & (i & 128 ? 0xFFF0000000000FFFull : 0));
        compare(&pg, cr3, va, true);
    }
    printf("random tables: %u of 300000 translated inline\n", fast_translated - before);
    CHECK(fast_translated - before > 1000);
}

int main(void)
{
    mem.bytes = malloc(MEM_SIZE);
    if (!mem.bytes)
        return 1;
    test_chains_bit_flips();
    test_ram_end();
    test_not_at_hand();
    test_addresses_and_modes();
    test_random();
    printf("%u walks compared, %u translated inline\n", compared, fast_translated);
    free(mem.bytes);
    CHECK_DONE();
}
