/*
 * fuzz_x86.c -- the x86 page-table walker over fuzzed physical memory.
 *
 * Input: mode, flags, MAXPHYADDR, CR3 and four virtual addresses, then the
 * guest's physical memory from address 0. With the "wrap" flag every
 * physical address is taken modulo the memory size, so that the fuzzer's
 * table pointers land somewhere and walks go deep.
 *
 * Oracles beyond the sanitizers: a walk reads at most one entry per level;
 * the result code is one of those x86.h documents; a translation keeps the
 * page offset, uses a real page size and stays below 2^MAXPHYADDR; the
 * inline walk (arch/x86_walk8.h) over the same memory, every page at hand,
 * translates exactly when x86_translate() does, to the same result.
 */
#include "fuzz_common.h"

#include "arena.h"

#include "arch/x86.h"
#include "arch/x86_walk8.h"

static int levels_of(enum xa_page_mode m)
{
    switch (m) {
    case XA_PM_LEGACY: return 2;
    case XA_PM_PAE: return 3;
    case XA_PM_IA32E: return 4;
    case XA_PM_LA57: return 5;
    default: return 0;
    }
}

static void check_walk(const struct x86_paging *pg, uint64_t va, int rc, const struct x86_walk *w,
                       const struct arena *p)
{
    int levels = levels_of(pg->mode);
    if (p->reads > levels || w->levels_read > levels)
        abort(); /* more than one entry per level */
    if (rc == 0) {
        uint64_t ps = w->page_size;
        if (ps != 4096 && ps != (2u << 20) && ps != (4u << 20) && ps != (1u << 30))
            abort();
        if ((w->pa & (ps - 1)) != (va & (ps - 1)))
            abort(); /* page offset lost */
        unsigned maxphy = pg->maxphyaddr ? pg->maxphyaddr : 52;
        if (pg->mode != XA_PM_NONE && maxphy < 64 && (w->pa >> maxphy) != 0)
            abort();
        if (pg->mode == XA_PM_NONE && w->pa != va)
            abort();
        return;
    }
    if (rc != XA_EFAULT && rc != XA_EBADDATA && rc != XA_ERANGE && rc != XA_EINVAL)
        abort();
    if (rc == XA_EFAULT && w->levels_read && (w->fault_level < 1 || w->fault_level > levels))
        abort();
}

/* arena_read()'s view of the memory, as a pointer to the entry. */
static const uint8_t *arena_entry(void *ctx, uint64_t pa)
{
    const struct arena *a = ctx;
    if (pa < a->base)
        return NULL;
    uint64_t off = pa - a->base;
    size_t size = a->len;
    if (a->wrap) {
        size &= ~(size_t)7;
        if (size < 8)
            return NULL;
        off %= size;
    }
    if (off > size || 8 > size - off)
        return NULL;
    return a->mem + off;
}

static void check_inline_walk(const struct x86_paging *pg, uint64_t cr3, uint64_t va, int rc,
                              const struct x86_walk *w, struct arena *p)
{
    struct x86_walk8 w8;
    x86_walk8_setup(pg, &w8);
    struct x86_walk8_result r;
    bool ok = x86_walk8(&w8, cr3, va, arena_entry, p, &r);
    if (!w8.top) {
        if (ok)
            abort();
        return;
    }
    if (ok != (rc == 0))
        abort(); /* one walker translated what the other refused */
    if (ok && (r.pa != w->pa || r.page_size != w->page_size || r.pt != w->pt))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    uint8_t mode = (uint8_t)fz_take(&r, 1), flags = (uint8_t)fz_take(&r, 1),
            phy = (uint8_t)fz_take(&r, 1);
    uint64_t cr3 = fz_take(&r, 8), va[4];
    for (int i = 0; i < 4; i++)
        va[i] = fz_take(&r, 8);

    struct x86_paging pg = {
        .mode = (enum xa_page_mode)(mode % 7),
        .maxphyaddr = phy & 0x80 ? (uint8_t)(phy & 0x7f) : 0, /* may be out of range */
        .nxe = flags & 1,
        .pse = flags & 2,
    };
    struct arena p = {.mem = r.p, .len = r.left, .wrap = (flags & 4) != 0, .miss = XA_ERANGE};

    for (int i = 0; i < 4; i++) {
        struct x86_walk w;
        p.reads = 0;
        int rc = x86_translate(&pg, cr3, va[i], arena_read, &p, &w);
        check_walk(&pg, va[i], rc, &w, &p);
        check_inline_walk(&pg, cr3, va[i], rc, &w, &p);
        /* The next address: in the same page table neighbourhood. */
        if (flags & 8)
            va[(i + 1) % 4] ^= va[i] & 0x1ff000;
    }

    /* The register helpers take any value. */
    enum xa_page_mode m = x86_mode_from_regs(cr3, va[0], va[1]);
    if (m > XA_PM_LA57)
        abort();
    struct x86_paging from_regs;
    x86_paging_from_regs(&from_regs, cr3, va[0], va[1]);
    (void)x86_dtb_from_cr3(pg.mode, cr3);
    (void)x86_va_bits(pg.mode);
    if (!x86_mode_name(pg.mode))
        abort();
    return 0;
}
