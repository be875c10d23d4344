/*
 * access.c -- virtual memory: translation with the v2p cache, bulk virtual
 * reads and writes, and the paper's page-mapping calls.
 */
#include <stdlib.h>
#include <string.h>

#include "core/instance.h"
#include "core/mapguard.h"
#include "os/os.h"

/* A page-table entry, straight from its page: the range check, then the
 * page pointer (remembered under stable mappings). No mapguard check per
 * entry: xa__translate makes one after the walk. */
static int walker_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    struct xa_instance *xa = ctx;
    uint64_t off = pa & (XA_PAGE_SIZE - 1);
    if (len > XA_PAGE_SIZE - off) /* entries are aligned: never, but stay general */
        return xa__read_pa(xa, pa, buf, len);
    const struct xa_mem_range *last =
        xa->last_range < xa->nr_ranges ? &xa->ranges[xa->last_range] : NULL;
    bool in_last = last && pa >= last->start && pa - last->start < last->size &&
                   len <= last->size - (pa - last->start);
    if (!in_last && !xa__pa_in_ram(xa, pa, len))
        return xa__set_error(xa, XA_ERANGE, "physical range 0x%llx+0x%zx is outside guest RAM",
                             (unsigned long long)pa, len);
    const uint8_t *page = NULL;
    int rc = xa__page_fast(xa, pa >> XA_PAGE_SHIFT, &page);
    if (rc < 0)
        return rc;
    if (len == 8) /* the common entry: a move, not a call */
        memcpy(buf, page + off, 8);
    else
        memcpy(buf, page + off, len);
    return 0;
}

/* What the inline walk (x86_walk8) reads entries through: walker_read()'s
 * range check, by the range of the last hit only (taken once a walk), and
 * the page memo only. Anything else the generic walk reads. */
struct memo_walk {
    const struct xa_instance *xa;
    uint64_t start, size; /* the RAM range; size 0: none */
};

static inline const uint8_t *entry_at(void *ctx, uint64_t pa)
{
    const struct memo_walk *w = ctx;
    /* Below the range, off wraps to at least 2^64 - start >= size: ranges
     * never wrap (take_layout). */
    uint64_t off = pa - w->start;
    if (off >= w->size || w->size - off < 8)
        return NULL;
    uint64_t pfn = pa >> XA_PAGE_SHIFT;
    unsigned slot = (unsigned)(pfn & (XA_PAGE_MEMO - 1));
    if (w->xa->page_memo[slot].pfn_plus1 != pfn + 1)
        return NULL;
    return w->xa->page_memo[slot].page + (pa & (XA_PAGE_SIZE - 1));
}

/* The walk over remembered pages; false: take the generic walk. A pending
 * test fault must reach the backend, so none is taken then. */
static inline bool walk_from_memo(const struct xa_instance *xa, uint64_t dtb, uint64_t va,
                                  struct x86_walk8_result *out)
{
    if (xa->fault.countdown != 0 || xa->last_range >= xa->nr_ranges)
        return false;
    struct memo_walk w = {.xa = xa,
                          .start = xa->ranges[xa->last_range].start,
                          .size = xa->ranges[xa->last_range].size};
    return x86_walk8(&xa->walk8, dtb, va, entry_at, &w, out);
}

void xa__host_memo_clear(struct xa_instance *xa)
{
    memset(xa->host_memo, 0, sizeof(xa->host_memo));
}

void xa__v2p_clear(struct xa_instance *xa)
{
    xa_lru_clear(&xa->v2p, NULL, NULL);
    xa__host_memo_clear(xa); /* its translations go with the others */
    memset(xa->xlate_memo, 0, sizeof(xa->xlate_memo));
    memset(xa->region_xlate, 0, sizeof(xa->region_xlate));
}

void xa__pid_memo_clear(struct xa_instance *xa)
{
    for (size_t i = 0; i < XA_PID_MEMO; i++)
        xa->pid_memo[i].valid = false;
    for (size_t i = 0; i < XA_SYM_MEMO; i++)
        xa->sym_memo[i].key = NULL;
}

static uint64_t resolve_dtb(const struct xa_instance *xa, uint64_t dtb)
{
    return dtb ? dtb : xa->kernel_dtb;
}

int xa__translate_arm64(struct xa_instance *xa, const struct arm64_paging *pg, uint64_t ttbr0,
                        uint64_t ttbr1, uint64_t va, uint64_t *pa)
{
    struct arm64_walk walk;
    int rc = arm64_translate(pg, ttbr0, ttbr1, va, walker_read, xa, &walk);
    if (rc == 0)
        rc = xa__mapguard_check(xa); /* entries read from a file that shrank */
    uint64_t root = arm64_va_is_upper(pg, va) ? ttbr1 : ttbr0;
    if (rc == XA_EFAULT)
        return xa__set_error(xa, rc, "virtual address 0x%llx not mapped (level %d, table 0x%llx)",
                             (unsigned long long)va, walk.fault_level,
                             (unsigned long long)root);
    if (rc == XA_EBADDATA)
        return xa__set_error(xa, rc,
                             "translation table descriptor for 0x%llx is reserved or has RES0 "
                             "bits set (level %d)",
                             (unsigned long long)va, walk.fault_level);
    if (rc == XA_EINVAL)
        return xa__set_error(xa, rc, "bad AArch64 VA size %u", (unsigned)pg->va_bits);
    if (rc < 0)
        return xa__prefix_error(xa, rc, "translating 0x%llx", (unsigned long long)va);
    *pa = walk.pa;
    return 0;
}

static int translate_walk(struct xa_instance *xa, const struct x86_paging *pg, uint64_t dtb,
                          uint64_t va, struct x86_walk *out)
{
    struct x86_walk walk = {0};
    int rc = x86_translate(pg, dtb, va, walker_read, xa, &walk);
    if (rc == 0)
        rc = xa__mapguard_check(xa); /* entries read from a file that shrank */
    if (rc == XA_EFAULT)
        return xa__set_error(xa, rc, "virtual address 0x%llx not mapped (level %d, dtb 0x%llx)",
                             (unsigned long long)va, walk.fault_level,
                             (unsigned long long)dtb);
    if (rc == XA_EBADDATA)
        return xa__set_error(xa, rc,
                             "page-table entry for 0x%llx has reserved bits set (level %d)",
                             (unsigned long long)va, walk.fault_level);
    if (rc < 0)
        return xa__prefix_error(xa, rc, "translating 0x%llx", (unsigned long long)va);
    *out = walk;
    return 0;
}

/* A new 4 KiB page of a region whose page table an earlier walk found:
 * one entry read (see region_xlate in core/instance.h). */
static int translate_pte(struct xa_instance *xa, uint64_t pt, uint64_t va, struct x86_walk *out)
{
    struct x86_walk walk = {0};
    int rc = x86_translate_pte(&xa->paging, pt, va, walker_read, xa, &walk);
    if (rc == 0)
        rc = xa__mapguard_check(xa); /* the entry read from a file that shrank */
    if (rc == XA_EFAULT)
        return xa__set_error(xa, rc, "virtual address 0x%llx not mapped (level 1, table 0x%llx)",
                             (unsigned long long)va, (unsigned long long)pt);
    if (rc == XA_EBADDATA)
        return xa__set_error(xa, rc, "page-table entry for 0x%llx has reserved bits set (level 1)",
                             (unsigned long long)va);
    if (rc < 0)
        return xa__prefix_error(xa, rc, "translating 0x%llx", (unsigned long long)va);
    *out = walk;
    out->pt = pt;
    return 0;
}

int xa__translate_mode(struct xa_instance *xa, const struct x86_paging *pg, uint64_t dtb,
                       uint64_t va, uint64_t *pa)
{
    /* The upper half is the kernel's (TTBR1) whatever table @dtb names; the
     * kernel's own root has no lower half (TTBR0 holds no user mappings). */
    if (pg->mode == XA_PM_AARCH64)
        return xa__translate_arm64(xa, &xa->arm64, dtb == xa->kernel_dtb ? 0 : dtb,
                                   xa->kernel_dtb, va, pa);
    struct x86_walk walk = {0};
    int rc = translate_walk(xa, pg, dtb, va, &walk);
    if (rc == 0)
        *pa = walk.pa;
    return rc;
}

/* The page [base, base + size) -> pa, into the memo slot xa__translate()
 * looks at for @va (inside it). */
static void remember_xlate(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint64_t base,
                           uint64_t size, uint64_t pa)
{
    xa->xlate_memo[(va >> 21) & (XA_XLATE_MEMO - 1)] =
        (struct xa_xlate_memo){.dtb = dtb, .va = base, .size = size, .pa = pa};
}

/* A target whose memory is kept by kernel virtual address (XA_CAP_VIRTUAL):
 * the kernel's addresses are their own "physical" ones; no other address
 * space exists in it. */
static bool virtual_target(const struct xa_instance *xa)
{
    return xa->be && (xa->be->caps & XA_CAP_VIRTUAL);
}

int xa__translate(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint64_t *pa)
{
    return xa__translate_fast(xa, dtb, va, pa);
}

/* A 4 KiB page of a region whose page table is known, when that table's
 * page is at hand (page memo) and its entry is an ordinary present one:
 * one load, no LRU (the region slot stands for it). Anything else -- and
 * every error -- goes the checked way (translate_pte). */
static inline bool pte_from_memo(struct xa_instance *xa, uint64_t pt, uint64_t va, uint64_t *pa)
{
    uint64_t pfn = pt >> XA_PAGE_SHIFT;
    unsigned slot = (unsigned)(pfn & (XA_PAGE_MEMO - 1));
    if (xa->page_memo[slot].pfn_plus1 != pfn + 1 || xa->fault.countdown != 0)
        return false;
    uint64_t e;
    memcpy(&e, xa->page_memo[slot].page + ((va >> XA_PAGE_SHIFT) & 511) * 8, sizeof(e));
    if (!(e & 1) || (e & xa->pte_reserved))
        return false;
    *pa = (e & 0x000ffffffffff000ull) | (va & (XA_PAGE_SIZE - 1));
    return true;
}

int xa__translate_slow(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint64_t *pa)
{
    dtb = resolve_dtb(xa, dtb);
    if (virtual_target(xa)) {
        if (dtb != 0 && dtb != xa->kernel_dtb)
            return xa__set_error(xa, XA_ENOTSUP,
                                 "this dump keeps only kernel memory, by virtual address: "
                                 "there are no page tables to translate 0x%llx through page-table "
                                 "root 0x%llx",
                                 (unsigned long long)va, (unsigned long long)dtb);
        *pa = va;
        return 0;
    }
    if (xa->paging.mode == XA_PM_NONE) {
        *pa = va;
        return 0;
    }
    if (xa->paging.mode == XA_PM_UNKNOWN || dtb == 0)
        return xa__set_error(xa, XA_EINVAL,
                             "paging mode or page-table root unknown (no registers and no OS "
                             "recognised): set them with xa_set_kernel_paging()");
    /* AArch64: an upper-half VA is translated by TTBR1, the kernel's table. */
    if (xa->paging.mode == XA_PM_AARCH64 && arm64_va_is_upper(&xa->arm64, va))
        dtb = xa->kernel_dtb;
    uint64_t vpn = va >> XA_PAGE_SHIFT, pfn_pa;
    struct xa_xlate_memo *region = &xa->region_xlate[(va >> 21) & (XA_REGION_XLATE - 1)];
    if (region->dtb == dtb && va - region->va < region->size) {
        xa->v2p_hits++;
        remember_xlate(xa, dtb, va, region->va, region->size, region->pa);
        *pa = region->pa + (va - region->va);
        return 0;
    }
    /* A region of 4 KiB pages with its page table known (x86, 8-byte entries). */
    uint64_t region_va = va & ~((2ull << 20) - 1);
    bool have_pt = region->dtb == dtb && region->size == 0 && region->pa && region->va == region_va;
    if (have_pt && pte_from_memo(xa, region->pa, va, pa)) {
        xa->v2p_misses++; /* an entry was read */
        remember_xlate(xa, dtb, va, va & XA_PAGE_MASK, XA_PAGE_SIZE, *pa & XA_PAGE_MASK);
        return 0;
    }
    uint32_t bucket = xa_lru_bucket(&xa->v2p, dtb, vpn);
    if (xa_lru_get_inline(&xa->v2p, bucket, dtb, vpn, &pfn_pa)) {
        xa->v2p_hits++;
        remember_xlate(xa, dtb, va, va & XA_PAGE_MASK, XA_PAGE_SIZE, pfn_pa);
        *pa = pfn_pa | (va & (XA_PAGE_SIZE - 1));
        return 0;
    }
    xa->v2p_misses++;
    if (xa->paging.mode == XA_PM_AARCH64) { /* remembered by its 4 KiB page */
        int rc = xa__translate_mode(xa, &xa->paging, dtb, va, pa);
        if (rc < 0)
            return rc;
        xa_lru_put(&xa->v2p, dtb, vpn, *pa & XA_PAGE_MASK, NULL, NULL);
        remember_xlate(xa, dtb, va, va & XA_PAGE_MASK, XA_PAGE_SIZE, *pa & XA_PAGE_MASK);
        return 0;
    }
    /* The inline walk over remembered pages when it can; the generic one
     * for anything it declines (and for every error). */
    struct x86_walk8_result walk;
    if (!have_pt && walk_from_memo(xa, dtb, va, &walk)) {
        int rc = xa__mapguard_check(xa); /* entries read from a file that shrank */
        if (rc < 0)
            return rc;
    } else {
        struct x86_walk slow = {0};
        int rc = have_pt ? translate_pte(xa, region->pa, va, &slow)
                         : translate_walk(xa, &xa->paging, dtb, va, &slow);
        if (rc < 0)
            return rc;
        walk = (struct x86_walk8_result){.pa = slow.pa, .page_size = slow.page_size, .pt = slow.pt};
    }
    *pa = walk.pa;
    xa_lru_put_at(&xa->v2p, bucket, dtb, vpn, *pa & XA_PAGE_MASK, NULL, NULL);
    /* The whole page the walk found (2 MiB or 1 GiB for large pages). */
    uint64_t base = va & ~(walk.page_size - 1), base_pa = walk.pa & ~(walk.page_size - 1);
    remember_xlate(xa, dtb, va, base, walk.page_size, base_pa);
    if (walk.page_size > XA_PAGE_SIZE)
        *region = (struct xa_xlate_memo){
            .dtb = dtb, .va = base, .size = walk.page_size, .pa = base_pa};
    else if (walk.pt)
        *region = (struct xa_xlate_memo){.dtb = dtb, .va = region_va, .size = 0, .pa = walk.pt};
    return 0;
}

static int not_in_dump(struct xa_instance *xa, uint64_t va, size_t len)
{
    return xa__set_error(xa, XA_EFAULT, "kernel virtual 0x%llx (+%zu) is not in the dump",
                         (unsigned long long)va, len);
}

/* Where the @len bytes at @va (inside one page) are: translated, checked
 * against the dump for a virtual target, and the page found. */
static inline int locate_in_page(struct xa_instance *xa, uint64_t dtb, uint64_t va, size_t len,
                                 const uint8_t **src)
{
    uint64_t pa = 0;
    const uint8_t *page = NULL;
    int rc = xa__translate_fast(xa, dtb, va, &pa);
    if (rc == 0 && virtual_target(xa) && !xa__pa_in_ram(xa, pa, len))
        rc = not_in_dump(xa, va, len);
    if (rc == 0)
        rc = xa__page_fast(xa, pa >> XA_PAGE_SHIFT, &page);
    if (rc == 0)
        *src = page + (va & (XA_PAGE_SIZE - 1));
    return rc;
}

static int read_pages(struct xa_instance *xa, uint64_t dtb, uint64_t va, void *buf, size_t len,
                      size_t *nread);

/* Inside one page: the translation or the page pointer not remembered. */
__attribute__((noinline)) static int read_in_page(struct xa_instance *xa, uint64_t dtb,
                                                  uint64_t va, void *buf, size_t len,
                                                  size_t *nread)
{
    const uint8_t *src = NULL;
    int rc = locate_in_page(xa, dtb, va, len, &src);
    if (rc == 0) {
        memcpy(buf, src, len);
        rc = xa__mapguard_check(xa); /* see read_pages */
    }
    if (nread)
        *nread = rc == 0 ? len : 0;
    return rc;
}

/* The bytes at @va inside one page when its host page is remembered
 * (host_memo): one compare before the copy. NULL: not remembered. */
static inline const uint8_t *host_page_bytes(struct xa_instance *xa, uint64_t dtb, uint64_t va,
                                             size_t len)
{
    uint64_t off = va & (XA_PAGE_SIZE - 1);
    const struct xa_host_memo *h = &xa->host_memo[(va >> XA_PAGE_SHIFT) & (XA_HOST_MEMO - 1)];
    if (h->vpage_plus1 != ((va & XA_PAGE_MASK) | 1) || h->root != (dtb ? dtb : xa->kernel_dtb) ||
        len > XA_PAGE_SIZE - off)
        return NULL;
    xa->v2p_hits++;
    return h->page + off;
}

/* The bytes at @va inside one page when both its translation and its page
 * pointer are remembered (the memos): then the host memo learns the page.
 * NULL: take the general way. */
static inline const uint8_t *remembered_bytes(struct xa_instance *xa, uint64_t dtb, uint64_t va,
                                              size_t len)
{
    uint64_t off = va & (XA_PAGE_SIZE - 1);
    uint64_t root = dtb ? dtb : xa->kernel_dtb;
    const struct xa_xlate_memo *m = &xa->xlate_memo[(va >> 21) & (XA_XLATE_MEMO - 1)];
    if (len > XA_PAGE_SIZE - off || m->dtb != root || va - m->va >= m->size ||
        virtual_target(xa))
        return NULL;
    uint64_t pfn = (m->pa + (va - m->va)) >> XA_PAGE_SHIFT;
    unsigned slot = (unsigned)(pfn & (XA_PAGE_MEMO - 1));
    if (xa->page_memo[slot].pfn_plus1 != pfn + 1 || xa->fault.countdown != 0)
        return NULL;
    xa->v2p_hits++;
    /* Only a stable mapping's pointers are in the page memo, never the
     * scratch page; a virtual target and a pending test fault were ruled
     * out above. */
    xa->host_memo[(va >> XA_PAGE_SHIFT) & (XA_HOST_MEMO - 1)] = (struct xa_host_memo){
        .vpage_plus1 = (va & XA_PAGE_MASK) | 1, .root = root, .page = xa->page_memo[slot].page};
    return xa->page_memo[slot].page + off;
}

/* Copy @len bytes from @src, then the mapguard check (see read_pages). */
static inline int copy_checked(struct xa_instance *xa, const uint8_t *src, void *buf, size_t len,
                               size_t *nread)
{
    memcpy(buf, src, len);
    int rc = xa__mapguard_check(xa);
    if (nread)
        *nread = rc == 0 ? len : 0;
    return rc;
}

/* Any read but one inside a remembered host page. Apart, so that the
 * common read saves few registers on entry. */
__attribute__((noinline)) static int read_va_slow(struct xa_instance *xa, uint64_t dtb,
                                                  uint64_t va, void *buf, size_t len,
                                                  size_t *nread)
{
    const uint8_t *src = remembered_bytes(xa, dtb, va, len);
    if (src)
        return copy_checked(xa, src, buf, len, nread);
    if (len > XA_PAGE_SIZE - (va & (XA_PAGE_SIZE - 1)))
        return read_pages(xa, dtb, va, buf, len, nread);
    return read_in_page(xa, dtb, va, buf, len, nread);
}

int xa__read_va(struct xa_instance *xa, uint64_t dtb, uint64_t va, void *buf, size_t len,
                size_t *nread)
{
    const uint8_t *src = host_page_bytes(xa, dtb, va, len);
    if (!src)
        return read_va_slow(xa, dtb, va, buf, len, nread);
    return copy_checked(xa, src, buf, len, nread);
}

int xa__va_in_page(struct xa_instance *xa, uint64_t dtb, uint64_t va, size_t len,
                   const uint8_t **out)
{
    /* xa__memory_static() inline, and stricter (any write access refused). */
    if (len == 0 || len > XA_PAGE_SIZE - (va & (XA_PAGE_SIZE - 1)) ||
        (xa->be->caps & XA_CAP_LIVE) || (xa->flags & XA_INIT_WRITE) || xa->fault.countdown)
        return XA_ENOTSUP;
    /* The memos hold only a stable mapping's pointers (never the scratch
     * page, never a virtual target's): what they answer lives until close. */
    const uint8_t *src = host_page_bytes(xa, dtb, va, len);
    if (!src)
        src = remembered_bytes(xa, dtb, va, len);
    if (!src) {
        const uint8_t *any;
        if (locate_in_page(xa, dtb, va, len, &any) < 0)
            return XA_ENOTSUP; /* the copy says why */
        src = remembered_bytes(xa, dtb, va, len); /* if it went into the memos */
        if (!src)
            return XA_ENOTSUP;
    }
    *out = src;
    return 0;
}

int xa__va_span_in_place(struct xa_instance *xa, uint64_t dtb, uint64_t va, size_t len,
                         const uint8_t **out)
{
    if (len == 0 || va + len - 1 < va)
        return XA_ENOTSUP;
    uint64_t first_pa = 0;
    for (uint64_t page = va & XA_PAGE_MASK; page <= va + len - 1; page += XA_PAGE_SIZE) {
        uint64_t pa;
        if (xa__translate(xa, dtb, page, &pa) < 0)
            return XA_ENOTSUP;
        if (page == (va & XA_PAGE_MASK))
            first_pa = pa;
        else if (pa != first_pa + (page - (va & XA_PAGE_MASK)))
            return XA_ENOTSUP; /* not physically contiguous: copy it */
        if (page + XA_PAGE_SIZE < page)
            break;
    }
    return xa__span_in_place(xa, first_pa + (va & (XA_PAGE_SIZE - 1)), len, out);
}

/* Reads that cross pages. */
__attribute__((noinline)) static int read_pages(struct xa_instance *xa, uint64_t dtb,
                                                uint64_t va, void *buf, size_t len,
                                                size_t *nread)
{
    uint8_t *dst = buf;
    size_t done = 0;
    int rc = 0;
    /* Under stable mappings pages stay put, so runs that are contiguous in
     * the mapping are copied with one memcpy; otherwise (and for a page read
     * into the scratch page) the next xa__page() may drop or overwrite the
     * page, so each is copied at once. */
    bool stable = (xa->be->caps & XA_CAP_STABLE_MAP) != 0;
    const uint8_t *run = NULL; /* source of the bytes not yet copied */
    size_t run_len = 0;
    while (done + run_len < len) {
        uint64_t off = va & (XA_PAGE_SIZE - 1);
        size_t chunk = (size_t)(XA_PAGE_SIZE - off);
        if (chunk > len - done - run_len)
            chunk = len - done - run_len;
        uint64_t pa = 0;
        const uint8_t *page = NULL;
        rc = xa__translate_fast(xa, dtb, va, &pa);
        /* Kept by virtual address, a page may be there only in part: the
         * bytes not kept are unknown, not zero. */
        if (rc == 0 && virtual_target(xa) && !xa__pa_in_ram(xa, pa, chunk))
            rc = not_in_dump(xa, va, chunk);
        if (rc == 0)
            rc = xa__page_fast(xa, pa >> XA_PAGE_SHIFT, &page);
        if (rc < 0)
            break;
        if (run && page + off != run + run_len) {
            memcpy(dst + done, run, run_len);
            done += run_len;
            run = NULL;
            run_len = 0;
        }
        if (!run)
            run = page + off;
        run_len += chunk;
        if (!stable || page == xa->fresh_page) { /* the scratch page is reused */
            memcpy(dst + done, run, run_len);
            done += run_len;
            run = NULL;
            run_len = 0;
        }
        va += chunk;
    }
    if (run_len) {
        memcpy(dst + done, run, run_len);
        done += run_len;
    }
    /* A mapped page lost to a truncation during a copy read as zeros: none
     * of the bytes can be vouched for. */
    if (rc == 0 && (rc = xa__mapguard_check(xa)) < 0)
        done = 0;
    if (nread)
        *nread = done;
    return rc;
}

/* Fixed-size reads: the copy is a move, not a call. */
/* A read of @n (4 or 8) bytes: one page lookup and an inline copy when it
 * does not cross a page. Always inlined, so each caller's memcpy has a
 * constant size. */
static inline __attribute__((always_inline)) int read_small(struct xa_instance *xa, uint64_t dtb,
                                                            uint64_t va, void *out, size_t n)
{
    if ((va & (XA_PAGE_SIZE - 1)) > XA_PAGE_SIZE - n)
        return read_pages(xa, dtb, va, out, n, NULL);
    const uint8_t *src = NULL;
    int rc = locate_in_page(xa, dtb, va, n, &src);
    if (rc < 0)
        return rc;
    memcpy(out, src, n);
    return xa__mapguard_check(xa);
}

int xa__read_u64(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint64_t *out)
{
    return read_small(xa, dtb, va, out, sizeof(*out));
}

int xa__read_u32(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint32_t *out)
{
    return read_small(xa, dtb, va, out, sizeof(*out));
}

XA_API int xa_translate(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint64_t *pa)
{
    if (!xa || !pa)
        return xa__set_error(xa, XA_EINVAL, "xa_translate: NULL argument");
    return xa__translate_fast(xa, dtb, va, pa);
}

XA_HOT XA_API int xa_translate_kv(struct xa_instance *xa, uint64_t va, uint64_t *pa)
{
    if (!xa || !pa) /* checked here: xa_translate() would be a call through the PLT */
        return xa__set_error(xa, XA_EINVAL, "xa_translate_kv: NULL argument");
    return xa__translate_fast(xa, 0, va, pa);
}

XA_API int xa_read_va(struct xa_instance *xa, uint64_t dtb, uint64_t va, void *buf, size_t len,
                      size_t *nread)
{
    if (nread)
        *nread = 0;
    if (!xa || (!buf && len))
        return xa__set_error(xa, XA_EINVAL, "xa_read_va: NULL argument");
    return xa__read_va(xa, dtb, va, buf, len, nread);
}

XA_API int xa_write_va(struct xa_instance *xa, uint64_t dtb, uint64_t va, const void *buf,
                       size_t len, size_t *nwritten)
{
    size_t done = 0;
    int rc = 0;
    if (!xa || (!buf && len))
        return xa__set_error(xa, XA_EINVAL, "xa_write_va: NULL argument");
    while (done < len) {
        size_t chunk = (size_t)(XA_PAGE_SIZE - (va & (XA_PAGE_SIZE - 1)));
        if (chunk > len - done)
            chunk = len - done;
        uint64_t pa = 0;
        rc = xa__translate_fast(xa, dtb, va, &pa);
        if (rc == 0)
            rc = xa_write_pa(xa, pa, (const uint8_t *)buf + done, chunk);
        if (rc < 0)
            break;
        done += chunk;
        va += chunk;
    }
    if (nwritten)
        *nwritten = done;
    return rc;
}

XA_HOT XA_API int xa_read_kva_u64(struct xa_instance *xa, uint64_t va, uint64_t *out)
{
    if (!xa || !out)
        return xa__set_error(xa, XA_EINVAL, "NULL argument");
    return xa__read_u64(xa, 0, va, out);
}

XA_API int xa_read_kva_u32(struct xa_instance *xa, uint64_t va, uint32_t *out)
{
    if (!xa || !out)
        return xa__set_error(xa, XA_EINVAL, "NULL argument");
    return xa__read_u32(xa, 0, va, out);
}

XA_API int xa_read_va_str(struct xa_instance *xa, uint64_t dtb, uint64_t va, char *buf,
                          size_t max)
{
    if (!xa || !buf || max == 0)
        return xa__set_error(xa, XA_EINVAL, "xa_read_va_str: bad argument");
    size_t done = 0;
    /* Read up to page ends so a string ending before an unmapped page works. */
    while (done + 1 < max) {
        size_t chunk = (size_t)(XA_PAGE_SIZE - (va & (XA_PAGE_SIZE - 1)));
        if (chunk > max - 1 - done)
            chunk = max - 1 - done;
        int rc = xa__read_va(xa, dtb, va, buf + done, chunk, NULL);
        if (rc < 0) {
            buf[done] = '\0';
            return rc;
        }
        char *nul = memchr(buf + done, '\0', chunk);
        if (nul)
            return 0;
        done += chunk;
        va += chunk;
    }
    buf[done] = '\0';
    return 0;
}

/* ---- pages handed to callers (the paper's xa_access_* calls) ---- */

static const void *hand_out_page(struct xa_instance *xa, uint64_t pa, uint32_t *offset)
{
    const void *page = NULL;
    enum xa_page_origin origin;
    if (xa__page_fetch(xa, pa >> XA_PAGE_SHIFT, &page, &origin) < 0)
        return NULL;
    if (xa->nr_outstanding == xa->cap_outstanding) {
        size_t cap = xa->cap_outstanding ? xa->cap_outstanding * 2 : 16;
        struct xa_outstanding_page *n = realloc(xa->outstanding, cap * sizeof(*n));
        if (!n) {
            if (origin == XA_PAGE_MAPPED)
                xa__be_unmap_page(xa, pa >> XA_PAGE_SHIFT, page);
            else if (origin == XA_PAGE_COPY)
                free((void *)(uintptr_t)page);
            xa__set_error(xa, XA_ENOMEM, "out of memory");
            return NULL;
        }
        xa->outstanding = n;
        xa->cap_outstanding = cap;
    }
    xa->outstanding[xa->nr_outstanding++] =
        (struct xa_outstanding_page){.page = page, .pfn = pa >> XA_PAGE_SHIFT, .origin = origin};
    if (offset)
        *offset = (uint32_t)(pa & (XA_PAGE_SIZE - 1));
    return page;
}

static void release_one(struct xa_instance *xa, const struct xa_outstanding_page *p)
{
    if (p->origin == XA_PAGE_MAPPED)
        xa__be_unmap_page(xa, p->pfn, p->page);
    else if (p->origin == XA_PAGE_COPY)
        free((void *)(uintptr_t)p->page);
}

XA_API void xa_release_page(struct xa_instance *xa, const void *page)
{
    if (!xa || !page)
        return;
    /* Most recent first: callers usually release what they just took. */
    for (size_t i = xa->nr_outstanding; i-- > 0;) {
        if (xa->outstanding[i].page == page) {
            release_one(xa, &xa->outstanding[i]);
            xa->outstanding[i] = xa->outstanding[--xa->nr_outstanding];
            return;
        }
    }
}

void xa__release_all_pages(struct xa_instance *xa)
{
    for (size_t i = 0; i < xa->nr_outstanding; i++)
        release_one(xa, &xa->outstanding[i]);
    free(xa->outstanding);
    xa->outstanding = NULL;
    xa->nr_outstanding = xa->cap_outstanding = 0;
}

XA_API const void *xa_access_physical_address(struct xa_instance *xa, uint64_t pa,
                                              uint32_t *offset)
{
    if (!xa)
        return NULL;
    return hand_out_page(xa, pa, offset);
}

XA_API const void *xa_access_dtb_virtual_address(struct xa_instance *xa, uint64_t dtb,
                                                 uint64_t va, uint32_t *offset)
{
    uint64_t pa = 0;
    if (!xa || xa__translate_fast(xa, dtb, va, &pa) < 0)
        return NULL;
    return hand_out_page(xa, pa, offset);
}

XA_API const void *xa_access_virtual_address(struct xa_instance *xa, uint64_t va,
                                             uint32_t *offset)
{
    return xa_access_dtb_virtual_address(xa, 0, va, offset);
}

/* ---- caches ---- */

XA_API void xa_cache_flush(struct xa_instance *xa, unsigned kinds)
{
    if (!xa)
        return;
    if (kinds & XA_CACHE_V2P)
        xa__v2p_clear(xa);
    if (kinds & XA_CACHE_PAGES)
        xa__page_cache_flush(xa);
    if (kinds & XA_CACHE_OS) {
        xa__pid_memo_clear(xa);
        xa__os_flush(xa);
    }
}

XA_API void xa_cache_stats(const struct xa_instance *xa, struct xa_cache_stats *out)
{
    if (!xa || !out)
        return;
    *out = (struct xa_cache_stats){
        .v2p_hits = xa->v2p_hits,
        .v2p_misses = xa->v2p_misses,
        .v2p_entries = xa->v2p.count,
        .v2p_capacity = xa->v2p.cap,
        .page_hits = xa->page_hits,
        .page_misses = xa->page_misses,
        .page_entries = xa->pages.count,
        .page_capacity = xa->pages.cap,
    };
}
