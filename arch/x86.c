/*
 * x86.c -- x86 address translation over a "read physical" callback.
 *
 * Follows the Intel SDM vol. 3 ch. 4 (paging). Entries come from the guest
 * and are hostile: a walk reads exactly one entry per level (so even tables
 * that point at themselves terminate), checks presence before anything else
 * (the CPU ignores every other bit of a not-present entry) and then checks
 * the reserved bits the CPU would fault on.
 */
#include "arch/x86.h"
#include "arch/x86_walk8.h"

#include <string.h>

#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)

#define PAGE_SHIFT 12
#define PAGE_4K    (1ull << 12)

#define CR0_PG    (1ull << 31)
#define CR4_PSE   (1ull << 4)
#define CR4_PAE   (1ull << 5)
#define CR4_LA57  (1ull << 12)
#define EFER_LMA  (1ull << 10)
#define EFER_NXE  (1ull << 11)

/* Mask of bits hi..lo inclusive (hi >= lo, both < 64). */
static inline uint64_t bit_range(unsigned hi, unsigned lo)
{
    return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

/* Entries are little-endian in guest memory whatever the host is. */
static inline uint64_t load_le(const uint8_t *b, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* A little-endian host: one load (a walk reads four or five of these). */
    if (len == 8) {
        uint64_t v;
        memcpy(&v, b, sizeof(v));
        return v;
    }
    if (len == 4) {
        uint32_t v;
        memcpy(&v, b, sizeof(v));
        return v;
    }
#endif
    uint64_t v = 0;
    for (size_t i = len; i-- > 0;)
        v = (v << 8) | b[i];
    return v;
}

static int read_entry(x86_read_pa_fn read, void *ctx, uint64_t pa, size_t len,
                      int level, struct x86_walk *walk, uint64_t *entry)
{
    uint8_t buf[8];
    int rc = read(ctx, pa, buf, len);
    if (rc < 0) {
        walk->fault_level = level;
        return rc;
    }
    *entry = load_le(buf, len);
    walk->entries[walk->levels_read++] = *entry;
    if (!(*entry & PTE_P)) {
        walk->fault_level = level;
        return XA_EFAULT;
    }
    return 0;
}

static int reserved_bits(struct x86_walk *walk, int level)
{
    walk->fault_level = level;
    return XA_EBADDATA;
}

/* 32-bit paging: 4-byte entries, 2 levels, 4 MiB pages with CR4.PSE. */
static int walk_legacy(const struct x86_paging *pg, unsigned maxphy, uint64_t dtb,
                       uint64_t va, x86_read_pa_fn read, void *ctx, struct x86_walk *walk)
{
    if (va > 0xFFFFFFFFull)
        return XA_EFAULT; /* no such linear address */

    uint64_t pde, pte;
    int rc = read_entry(read, ctx, (dtb & 0xFFFFF000ull) + ((va >> 22) & 0x3FF) * 4, 4, 2,
                        walk, &pde);
    if (rc < 0)
        return rc;

    if (pg->pse && (pde & PTE_PS)) {
        /* PSE-36: PDE bits 20:13 carry PA bits 39:32, up to MAXPHYADDR (max 40). */
        unsigned m = maxphy < 40 ? maxphy : 40;
        if (pde & bit_range(21, m - 19))
            return reserved_bits(walk, 2);
        uint64_t high = (pde >> 13) & 0xFF;
        walk->page_size = 4ull << 20;
        walk->pa = (pde & 0xFFC00000ull) | (high << 32) | (va & 0x3FFFFF);
        walk->writable = pde & PTE_RW;
        walk->user = pde & PTE_US;
        return 0;
    }

    rc = read_entry(read, ctx, (pde & 0xFFFFF000ull) + ((va >> 12) & 0x3FF) * 4, 4, 1, walk,
                    &pte);
    if (rc < 0)
        return rc;
    walk->page_size = PAGE_4K;
    walk->pa = (pte & 0xFFFFF000ull) | (va & 0xFFF);
    walk->writable = (pde & pte & PTE_RW) != 0;
    walk->user = (pde & pte & PTE_US) != 0;
    return 0;
}

/* Bits MAXPHYADDR..51 are reserved in every 8-byte entry; bit 63 unless NXE. */
static uint64_t entry_reserved(bool nxe, unsigned maxphy)
{
    uint64_t rsvd = maxphy < 52 ? bit_range(51, maxphy) : 0;
    return nxe ? rsvd : rsvd | PTE_XD;
}

/* PAE PDPTEs have no RW/US/XD: bits 2:1, 8:5 and 63:MAXPHYADDR are
 * reserved, but for bit 5 (accessed): QEMU's TCG sets it in the PDPTEs it
 * walks (a Debian 686-pae guest's swapper_pg_dir holds 0x...021), and a
 * walker that refused it could not read such a guest at all. */
static uint64_t pdpte_reserved(unsigned maxphy)
{
    return bit_range(63, maxphy) | bit_range(8, 6) | bit_range(2, 1);
}

/*
 * PAE, IA-32e and LA57: 8-byte entries, 9 index bits per level (2 for the
 * PAE PDPT). Level numbers count down to 1 (PTE).
 */
static int walk_8byte(const struct x86_paging *pg, unsigned maxphy, uint64_t dtb, uint64_t va,
                      int top, x86_read_pa_fn read, void *ctx, struct x86_walk *walk)
{
    bool pae = pg->mode == XA_PM_PAE;
    uint64_t rsvd = entry_reserved(pg->nxe, maxphy);
    uint64_t pdpte_rsvd = pdpte_reserved(maxphy);

    uint64_t table = dtb;
    uint64_t rw = PTE_RW, us = PTE_US, xd = 0;

    for (int level = top; level >= 1; level--) {
        unsigned shift = PAGE_SHIFT + 9u * (unsigned)(level - 1);
        bool pae_pdpt = pae && level == 3;
        uint64_t index = pae_pdpt ? (va >> 30) & 3 : (va >> shift) & 511;
        uint64_t entry;
        int rc = read_entry(read, ctx, table + index * 8, 8, level, walk, &entry);
        if (rc < 0)
            return rc;

        if (pae_pdpt) {
            if (entry & pdpte_rsvd)
                return reserved_bits(walk, level);
            table = entry & bit_range(51, 12);
            continue;
        }
        if ((entry & rsvd) || (level >= 4 && (entry & PTE_PS)))
            return reserved_bits(walk, level);
        rw &= entry;
        us &= entry;
        xd |= entry & PTE_XD;

        bool large = (level == 2 || level == 3) && (entry & PTE_PS);
        if (level == 1 || large) {
            uint64_t size = 1ull << shift;
            /* Bit 12 is PAT in a large entry; 13..shift-1 must be 0. */
            if (large && (entry & bit_range(shift - 1, 13)))
                return reserved_bits(walk, level);
            walk->page_size = size;
            walk->pa = (entry & bit_range(51, 12) & ~(size - 1)) | (va & (size - 1));
            walk->writable = rw != 0;
            walk->user = us != 0;
            walk->nx = xd != 0;
            walk->pt = level == 1 ? table : 0;
            return 0;
        }
        table = entry & bit_range(51, 12);
    }
    return XA_EINVAL; /* unreachable: level 1 always returns */
}

/* IA-32e addresses must sign-extend their top translated bit. */
static bool is_canonical(uint64_t va, unsigned bits)
{
    unsigned unused = 64 - bits;
    return (uint64_t)((int64_t)(va << unused) >> unused) == va;
}

int x86_translate(const struct x86_paging *pg, uint64_t dtb, uint64_t va,
                  x86_read_pa_fn read, void *ctx, struct x86_walk *walk)
{
    memset(walk, 0, sizeof(*walk));
    if (!pg || !read)
        return XA_EINVAL;
    unsigned maxphy = pg->maxphyaddr ? pg->maxphyaddr : 52;
    if (maxphy < 32 || maxphy > 52)
        return XA_EINVAL;

    dtb = x86_dtb_from_cr3(pg->mode, dtb);
    switch (pg->mode) {
    case XA_PM_NONE:
        walk->pa = va;
        walk->page_size = PAGE_4K;
        walk->writable = walk->user = true;
        return 0;
    case XA_PM_LEGACY:
        return walk_legacy(pg, maxphy, dtb, va, read, ctx, walk);
    case XA_PM_PAE:
        if (va > 0xFFFFFFFFull)
            return XA_EFAULT;
        return walk_8byte(pg, maxphy, dtb, va, 3, read, ctx, walk);
    case XA_PM_IA32E:
        if (!is_canonical(va, 48))
            return XA_EFAULT;
        return walk_8byte(pg, maxphy, dtb, va, 4, read, ctx, walk);
    case XA_PM_LA57:
        if (!is_canonical(va, 57))
            return XA_EFAULT;
        return walk_8byte(pg, maxphy, dtb, va, 5, read, ctx, walk);
    case XA_PM_AARCH64: /* not x86: arch/arm64.c */
    case XA_PM_UNKNOWN:
        break;
    }
    return XA_EINVAL;
}

int x86_translate_pte(const struct x86_paging *pg, uint64_t pt, uint64_t va,
                      x86_read_pa_fn read, void *ctx, struct x86_walk *walk)
{
    memset(walk, 0, sizeof(*walk));
    if (!pg || !read || (pt & (PAGE_4K - 1)))
        return XA_EINVAL;
    unsigned maxphy = pg->maxphyaddr ? pg->maxphyaddr : 52;
    if (maxphy < 32 || maxphy > 52)
        return XA_EINVAL;
    if (pg->mode != XA_PM_PAE && pg->mode != XA_PM_IA32E && pg->mode != XA_PM_LA57)
        return XA_EINVAL;
    return walk_8byte(pg, maxphy, pt, va, 1, read, ctx, walk);
}

uint64_t x86_pte_reserved(const struct x86_paging *pg)
{
    return entry_reserved(pg->nxe, pg->maxphyaddr ? pg->maxphyaddr : 52);
}

void x86_walk8_setup(const struct x86_paging *pg, struct x86_walk8 *w)
{
    *w = (struct x86_walk8){0};
    unsigned maxphy = pg->maxphyaddr ? pg->maxphyaddr : 52;
    if (maxphy < 32 || maxphy > 52)
        return; /* x86_translate() says why */
    /* The masks walk_8byte() uses, for the same entries. */
    w->rsvd = entry_reserved(pg->nxe, maxphy);
    w->pdpte_rsvd = pdpte_reserved(maxphy);
    w->dtb_mask = x86_dtb_from_cr3(pg->mode, ~0ull);
    switch (pg->mode) {
    case XA_PM_PAE:
        w->top = 3;
        break;
    case XA_PM_IA32E:
        w->top = 4;
        break;
    case XA_PM_LA57:
        w->top = 5;
        break;
    default:
        return;
    }
    w->va_bits = (uint8_t)x86_va_bits(pg->mode);
}

enum xa_page_mode x86_mode_from_regs(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
    if (!(cr0 & CR0_PG))
        return XA_PM_NONE;
    if (!(cr4 & CR4_PAE))
        /* Long mode requires PAE: LMA without PAE is not a real CPU state. */
        return (efer & EFER_LMA) ? XA_PM_UNKNOWN : XA_PM_LEGACY;
    if (!(efer & EFER_LMA))
        return XA_PM_PAE; /* CR4.LA57 has no effect outside long mode */
    return (cr4 & CR4_LA57) ? XA_PM_LA57 : XA_PM_IA32E;
}

void x86_paging_from_regs(struct x86_paging *pg, uint64_t cr0, uint64_t cr4, uint64_t efer)
{
    pg->mode = x86_mode_from_regs(cr0, cr4, efer);
    pg->maxphyaddr = 0;
    pg->nxe = (efer & EFER_NXE) != 0;
    pg->pse = (cr4 & CR4_PSE) != 0;
}

uint64_t x86_dtb_from_cr3(enum xa_page_mode mode, uint64_t cr3)
{
    switch (mode) {
    case XA_PM_IA32E:
    case XA_PM_LA57:
        return cr3 & bit_range(51, 12); /* drops PCID (11:0) and bits 63:52 */
    case XA_PM_PAE:
        return cr3 & bit_range(31, 5);
    case XA_PM_LEGACY:
        return cr3 & bit_range(31, 12);
    case XA_PM_NONE:
    case XA_PM_AARCH64:
    case XA_PM_UNKNOWN:
        break;
    }
    return 0;
}

unsigned x86_va_bits(enum xa_page_mode mode)
{
    switch (mode) {
    case XA_PM_NONE:   /* protected-mode linear addresses (translation is identity) */
    case XA_PM_LEGACY:
    case XA_PM_PAE:
        return 32;
    case XA_PM_IA32E:
        return 48;
    case XA_PM_LA57:
        return 57;
    case XA_PM_AARCH64:
    case XA_PM_UNKNOWN:
        break;
    }
    return 0;
}

const char *x86_mode_name(enum xa_page_mode mode)
{
    switch (mode) {
    case XA_PM_NONE:   return "no paging";
    case XA_PM_LEGACY: return "32-bit legacy";
    case XA_PM_PAE:    return "PAE";
    case XA_PM_IA32E:  return "IA-32e 4-level";
    case XA_PM_LA57:   return "IA-32e 5-level (LA57)";
    case XA_PM_AARCH64:
    case XA_PM_UNKNOWN: break;
    }
    return "unknown";
}
