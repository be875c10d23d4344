/*
 * modscan32.c -- the module list of a 32-bit kernel without a `modules`
 * symbol: struct module headers searched in the kernel's mapped pages above
 * the direct map (vmalloc, where x86-32 loads modules), then the ring, its
 * head and the field offsets inferred by module32.c.
 *
 * The kernel's own page tables say what is mapped: every present 4 KiB
 * page from PAGE_OFFSET up whose address does not map linearly (the
 * direct map of low memory, which holds the image and no module) is read
 * once. Large pages are skipped (x86 never maps modules with them). The
 * result is kept for the instance: the list head does not move, and the
 * walk re-reads and re-checks every module.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/lxpriv.h"
#include "os/linux/module32.h"

#define IMAGE32_SPAN (64ULL << 20) /* as kernel32.c: _text.._end of a 32-bit kernel */
#define TOP32 0x100000000ULL
#define PTE_PRESENT 1u
#define PDE_LARGE 0x80u

struct scan {
    struct xa_instance *xa;
    const struct linux_os *lx;
    uint64_t *mods;
    size_t n, cap;
    uint64_t first_nonlinear; /* the lowest present page past the direct map; 0: none */
    linux_m32_page_fn fn;     /* called for each page (scan_one_page when finding the list) */
    void *fn_ctx;
    uint8_t page[M32_PAGE], table[M32_PAGE];
};

static int read_kva(void *ctx, uint64_t va, void *buf, size_t len)
{
    return xa__read_va(ctx, 0, va, buf, len, NULL);
}

static uint64_t frame(const struct linux_os *lx, uint64_t e)
{
    return e & (lx->mode == XA_PM_PAE ? 0x000FFFFFFFFFF000ull : 0xFFFFF000ull);
}

static uint64_t entry_at(const struct linux_os *lx, const uint8_t *t, size_t i)
{
    if (lx->mode != XA_PM_PAE)
        return (uint64_t)t[i * 4] | (uint64_t)t[i * 4 + 1] << 8 | (uint64_t)t[i * 4 + 2] << 16 |
               (uint64_t)t[i * 4 + 3] << 24;
    uint64_t v = 0;
    for (int b = 7; b >= 0; b--)
        v = v << 8 | t[i * 8 + (size_t)b];
    return v;
}

/* The page-directory entry mapping @va (PAE: through its PDPTE). */
static int dir_entry(struct scan *s, uint64_t va, uint64_t *e)
{
    const struct linux_os *lx = s->lx;
    uint8_t b[8] = {0};
    int rc;
    if (lx->mode == XA_PM_PAE) {
        if ((rc = xa__read_pa(s->xa, lx->kernel_dtb + ((va >> 30) & 3) * 8, b, 8)) < 0)
            return rc;
        uint64_t pdpte = entry_at(lx, b, 0);
        if (!(pdpte & PTE_PRESENT))
            return XA_EFAULT;
        rc = xa__read_pa(s->xa, frame(lx, pdpte) + ((va >> 21) & 511) * 8, b, 8);
    } else {
        rc = xa__read_pa(s->xa, lx->kernel_dtb + ((va >> 22) & 0x3ff) * 4, b, 4);
    }
    *e = entry_at(lx, b, 0);
    return rc;
}

static int add(struct scan *s, uint64_t mod)
{
    if (s->n >= M32_MAX_CANDIDATES)
        return xa__set_error(s->xa, XA_ELIMIT, "more than %u module headers in kernel memory",
                             M32_MAX_CANDIDATES);
    if (s->n == s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 64;
        uint64_t *nm = realloc(s->mods, ncap * sizeof(*nm));
        if (!nm)
            return xa__set_error(s->xa, XA_ENOMEM, "out of memory");
        s->mods = nm;
        s->cap = ncap;
    }
    s->mods[s->n++] = mod;
    return 0;
}

/* The headers in the page at @va (already in s->page); those that run into
 * the next page are read through the page tables. */
static int scan_one_page(struct scan *s, const struct m32_mem *m, uint64_t va)
{
    uint32_t offs[M32_PAGE / M32_ALIGN];
    size_t n;
    m32_scan_page(m, s->page, offs, sizeof(offs) / sizeof(offs[0]), &n);
    int rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = add(s, va + offs[i])) < 0)
            return rc;
    for (uint32_t off = (M32_PAGE - M32_HDR + M32_ALIGN) & ~(M32_ALIGN - 1); off < M32_PAGE;
         off += M32_ALIGN) {
        uint8_t hdr[M32_HDR];
        if (s->page[off] > M32_STATE_MAX || xa__read_va(s->xa, 0, va + off, hdr, M32_HDR, NULL) < 0)
            continue;
        if (m32_header_ok(m, hdr) && (rc = add(s, va + off)) < 0)
            return rc;
    }
    return 0;
}

/* Every present, non-linear 4 KiB page in [PAGE_OFFSET, 4 GiB), handed to
 * s->fn. */
static int scan_kernel_pages(struct scan *s)
{
    const struct linux_os *lx = s->lx;
    const bool pae = lx->mode == XA_PM_PAE;
    const uint64_t span = pae ? 2ULL << 20 : 4ULL << 20;
    const size_t esize = pae ? 8 : 4;
    for (uint64_t dir = lx->page_offset & ~(span - 1); dir < TOP32; dir += span) {
        uint64_t pde;
        if (dir_entry(s, dir, &pde) < 0 || !(pde & PTE_PRESENT) || (pde & PDE_LARGE) ||
            xa__read_pa(s->xa, frame(lx, pde), s->table, M32_PAGE) < 0)
            continue;
        for (size_t k = 0; k < M32_PAGE / esize; k++) {
            uint64_t pte = entry_at(lx, s->table, k), va = dir + k * M32_PAGE;
            if (!(pte & PTE_PRESENT) || va < lx->page_offset || frame(lx, pte) == va - lx->page_offset)
                continue;
            if (!s->first_nonlinear)
                s->first_nonlinear = va; /* pages go up: the first is the lowest */
            if (xa__read_pa(s->xa, frame(lx, pte), s->page, M32_PAGE) < 0)
                continue;
            int rc = s->fn(s->fn_ctx, va, s->page);
            if (rc)
                return rc;
        }
    }
    return 0;
}

struct find_ctx {
    struct scan *s;
    const struct m32_mem *m;
};

static int find_in_page(void *ctx, uint64_t va, const uint8_t *page)
{
    const struct find_ctx *f = ctx;
    (void)page; /* the same as f->s->page */
    return scan_one_page(f->s, f->m, va);
}

int linux_modules32_pages(struct xa_instance *xa, linux_m32_page_fn fn, void *ctx)
{
    struct scan *s = calloc(1, sizeof(*s));
    if (!s)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    s->xa = xa;
    s->lx = linux_os(xa);
    s->fn = fn;
    s->fn_ctx = ctx;
    int rc = scan_kernel_pages(s);
    free(s);
    return rc;
}

int linux_modules32_find(struct xa_instance *xa, struct linux_priv *p)
{
    if (p->modules32_ready)
        return 0;
    struct linux_os *lx = &p->lx;
    uint64_t etext;
    if (symtab_lookup(&lx->syms, "_etext", &etext) < 0 || etext <= lx->text_start)
        etext = lx->text_start;
    uint64_t hi = lx->text_start + IMAGE32_SPAN;
    struct m32_mem m = {.read = read_kva, .ctx = xa, .page_offset = lx->page_offset,
                        .head_lo = etext, .head_hi = hi < TOP32 ? hi : TOP32};
    struct scan *s = calloc(1, sizeof(*s));
    if (!s)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    s->xa = xa;
    s->lx = lx;
    struct find_ctx f = {s, &m};
    s->fn = find_in_page;
    s->fn_ctx = &f;
    int rc = scan_kernel_pages(s);
    /* The head is in the image's data, which the direct map holds. With the
     * image loaded high (physical KASLR) image + IMAGE32_SPAN reaches into
     * vmalloc, where every module is: there a module's neighbour would pass
     * for the head. */
    if (s->first_nonlinear && s->first_nonlinear < m.head_hi)
        m.head_hi = s->first_nonlinear;
    char why[256];
    uint64_t head = 0;
    struct m32_layout l;
    if (rc == 0 && (rc = m32_find_head(&m, s->mods, s->n, &head, why, sizeof(why))) < 0)
        xa__set_error(xa, rc, "module list not found in memory: %s", why);
    if (rc == 0 && (rc = m32_infer(&m, head, &l, why, sizeof(why))) < 0)
        xa__set_error(xa, rc, "struct module layout not found in memory: %s", why);
    free(s->mods);
    free(s);
    if (rc < 0)
        return rc;

    struct linux_offsets *o = &lx->off;
    o->module_state = M32_STATE;
    o->module_list = M32_LIST;
    o->module_name = M32_NAME;
    o->module_core_base = l.core_base == UINT32_MAX ? LX_NO_OFFSET : l.core_base;
    o->module_core_size = l.core_size == UINT32_MAX ? LX_NO_OFFSET : l.core_size;
    o->module_refcnt = l.refcnt == UINT32_MAX ? LX_NO_OFFSET : l.refcnt;
    p->more.module_mem_count = 1; /* 6.1: core_layout.size alone */
    p->more.module_mem_stride = 0;
    p->modules_head = head;
    /* Kept once a module showed the layout; with none loaded, the next
     * walk searches again (on a running guest one may come). */
    p->modules32_ready = l.core_base != UINT32_MAX;
    return 0;
}
