/*
 * memory.c -- guest-physical memory: range checks, the page cache, reads
 * and writes. Every physical access of the library goes through here.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

#include "core/instance.h"
#include "core/mapguard.h"
#include "core/rangemap.h"

static struct xa_rangemap ram_map(const struct xa_instance *xa)
{
    return XA_RANGEMAP(xa->ranges, xa->nr_ranges, struct xa_mem_range, start, size);
}

bool xa__pa_valid(const struct xa_instance *xa, uint64_t pa, uint64_t len)
{
    struct xa_rangemap m = ram_map(xa);
    return xa_rangemap_covers(&m, pa, len);
}

/* Physical range check with the last hit remembered (reads cluster). */
bool xa__pa_in_ram(struct xa_instance *xa, uint64_t pa, uint64_t len)
{
    if (xa->last_range < xa->nr_ranges) {
        const struct xa_mem_range *r = &xa->ranges[xa->last_range];
        if (pa >= r->start && pa - r->start < r->size && len <= r->size - (pa - r->start) &&
            pa + len >= pa)
            return true;
    }
    struct xa_rangemap m = ram_map(xa);
    size_t i = xa_rangemap_find(&m, pa);
    if (i == XA_RANGE_NONE)
        return false;
    xa->last_range = i;
    const struct xa_mem_range *r = &xa->ranges[i];
    return pa + len >= pa && len <= r->size - (pa - r->start);
}

/* True when any byte of the page at @pa is RAM (ranges need not be page-aligned). */
bool xa__page_has_ram(const struct xa_instance *xa, uint64_t pa)
{
    /* Most pages fall in the range of the last hit: no search. */
    if (xa->last_range < xa->nr_ranges) {
        const struct xa_mem_range *r = &xa->ranges[xa->last_range];
        if (pa >= r->start && pa - r->start < r->size)
            return true;
    }
    struct xa_rangemap m = ram_map(xa);
    size_t i = xa_rangemap_first_from(&m, pa);
    /* Range i ends above pa: it holds pa, or starts later, maybe in this page. */
    return i < xa->nr_ranges &&
           (xa->ranges[i].start <= pa || xa->ranges[i].start - pa < XA_PAGE_SIZE);
}

/* What the page cache does with a page it drops. */
static void page_drop(void *ctx, uint64_t pfn, uint64_t unused, uint64_t val)
{
    (void)unused;
    struct xa_instance *xa = ctx;
    const void *page = (const void *)(uintptr_t)val;
    if (xa->be->caps & XA_CAP_STABLE_MAP)
        return;
    if (xa__be_can_map(xa))
        xa__be_unmap_page(xa, pfn, page);
    else
        free((void *)(uintptr_t)val);
}

void xa__page_cache_drop_all(struct xa_instance *xa)
{
    xa_lru_clear(&xa->pages, page_drop, xa);
    if (xa->be->caps & XA_CAP_STABLE_MAP) { /* the only ones the memos hold */
        memset(xa->page_memo, 0, sizeof(xa->page_memo));
        xa__host_memo_clear(xa);
    }
}

void xa__page_cache_flush(struct xa_instance *xa)
{
    /* The pointers of a stable mapping are not copies of guest memory: the
     * bytes behind them are the guest's (or the file's) as they are now,
     * and they stay valid until close. Only copies are dropped. */
    if (xa->be->caps & XA_CAP_STABLE_MAP)
        xa_lru_clear(&xa->pages, page_drop, xa);
    else
        xa__page_cache_drop_all(xa);
}

void xa__page_cache_destroy(struct xa_instance *xa)
{
    xa_lru_destroy(&xa->pages, page_drop, xa);
}

/* A page only partly RAM: read the RAM bytes, the rest reads as zero. */
static int read_ram_parts(struct xa_instance *xa, uint64_t pa, uint8_t *page)
{
    struct xa_rangemap m = ram_map(xa);
    memset(page, 0, XA_PAGE_SIZE);
    for (size_t i = xa_rangemap_first_from(&m, pa); i < xa->nr_ranges; i++) {
        const struct xa_mem_range *r = &xa->ranges[i];
        /* Offsets in the page; range i ends above pa (no wrap on the last page). */
        if (r->start > pa && r->start - pa >= XA_PAGE_SIZE)
            break;
        uint64_t from = r->start > pa ? r->start - pa : 0;
        uint64_t to = r->start + r->size - pa;
        if (to > XA_PAGE_SIZE)
            to = XA_PAGE_SIZE;
        int rc = xa__be_read_pa(xa, pa + from, page + from, (size_t)(to - from));
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Map or copy one page from the backend, without the cache. A copy goes
 * into a new buffer, or with @scratch into xa->fresh_page (valid until the
 * next copy there). */
static int page_fetch(struct xa_instance *xa, uint64_t pfn, const void **out,
                      enum xa_page_origin *origin, bool scratch)
{
    uint64_t pa = pfn << XA_PAGE_SHIFT;
    if (xa__be_can_map(xa)) {
        int rc = xa__be_map_page(xa, pfn, out); /* checks the range and the file */
        if (rc < 0)
            return rc;
        if (rc == 0) {
            *origin = (xa->be->caps & XA_CAP_STABLE_MAP) ? XA_PAGE_STABLE : XA_PAGE_MAPPED;
            return 0;
        }
        /* XA_MAP_COPY: read it below. */
    } else if (pfn > (UINT64_MAX >> XA_PAGE_SHIFT) || !xa__page_has_ram(xa, pa)) {
        return xa__set_error(xa, XA_ERANGE, "physical address 0x%llx is outside guest RAM",
                             (unsigned long long)pa);
    }
    if (scratch && !xa->fresh_page)
        xa->fresh_page = malloc(XA_PAGE_SIZE);
    uint8_t *buf = scratch ? xa->fresh_page : malloc(XA_PAGE_SIZE);
    if (!buf)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    int rc;
    if (xa__pa_in_ram(xa, pa, XA_PAGE_SIZE)) {
        rc = xa__be_read_pa(xa, pa, buf, XA_PAGE_SIZE);
    } else {
        rc = read_ram_parts(xa, pa, buf);
    }
    if (rc < 0) {
        if (!scratch)
            free(buf);
        return rc;
    }
    *out = buf;
    *origin = XA_PAGE_COPY;
    return 0;
}

int xa__page_fetch(struct xa_instance *xa, uint64_t pfn, const void **out,
                   enum xa_page_origin *origin)
{
    return page_fetch(xa, pfn, out, origin, false);
}

int xa__page(struct xa_instance *xa, uint64_t pfn, const uint8_t **out)
{
    return xa__page_fast(xa, pfn, out);
}

int xa__page_slow(struct xa_instance *xa, uint64_t pfn, const uint8_t **out)
{
    struct xa_backend *be = xa->be;
    const void *page = NULL;
    enum xa_page_origin origin;
    int rc;
    /* Pointers into a mapping that lives until close: remember the pointer,
     * checked once (a test's pending fault injection goes to the backend). */
    if (be->caps & XA_CAP_STABLE_MAP) {
        unsigned slot = (unsigned)(pfn & (XA_PAGE_MEMO - 1));
        /* (xa__page() answered from the memo when it could.) A page with no pointer (XA_MAP_COPY) is read into the scratch page:
         * valid until the next core call, as promised. */
        rc = page_fetch(xa, pfn, &page, &origin, true);
        if (rc < 0)
            return rc;
        if (origin == XA_PAGE_STABLE) {
            xa->page_memo[slot].pfn_plus1 = pfn + 1;
            xa->page_memo[slot].page = page;
        }
        *out = page;
        return 0;
    }
    /* A copy of a running guest's page is stale at once: read it afresh. */
    if ((be->caps & XA_CAP_LIVE) && !xa__be_can_map(xa)) {
        xa->page_misses++;
        rc = xa__page_fetch(xa, pfn, &page, &origin);
        if (rc < 0)
            return rc;
        free(xa->fresh_page);
        xa->fresh_page = (void *)(uintptr_t)page;
        *out = page;
        return 0;
    }
    uint64_t val;
    if (xa_lru_get(&xa->pages, pfn, 0, &val)) {
        xa->page_hits++;
        *out = (const uint8_t *)(uintptr_t)val;
        return 0;
    }
    xa->page_misses++;
    rc = xa__page_fetch(xa, pfn, &page, &origin);
    if (rc < 0)
        return rc;
    xa_lru_put(&xa->pages, pfn, 0, (uint64_t)(uintptr_t)page, page_drop, xa);
    *out = page;
    return 0;
}

int xa__span_in_place(struct xa_instance *xa, uint64_t pa, size_t len, const uint8_t **out)
{
    if (len == 0 || !(xa->be->caps & XA_CAP_STABLE_MAP) || !xa__memory_static(xa) ||
        !xa__be_can_map(xa) || !xa__pa_in_ram(xa, pa, len))
        return XA_ENOTSUP;
    uint64_t first = pa >> XA_PAGE_SHIFT, last = (pa + len - 1) >> XA_PAGE_SHIFT;
    const uint8_t *base = NULL;
    for (uint64_t pfn = first; pfn <= last; pfn++) {
        const void *page;
        enum xa_page_origin origin;
        /* The scratch page is never a pointer into the mapping. */
        if (page_fetch(xa, pfn, &page, &origin, true) < 0 || origin != XA_PAGE_STABLE)
            return XA_ENOTSUP;
        if (pfn == first)
            base = page;
        else if ((const uint8_t *)page != base + ((pfn - first) << XA_PAGE_SHIFT))
            return XA_ENOTSUP;
    }
    *out = base + (pa & (XA_PAGE_SIZE - 1));
    return 0;
}

void xa__span_prefault(const uint8_t *p, size_t len)
{
#ifdef MADV_POPULATE_READ
    uintptr_t lo = (uintptr_t)p & ~(uintptr_t)(XA_PAGE_SIZE - 1);
    uintptr_t hi = ((uintptr_t)p + len + XA_PAGE_SIZE - 1) & ~(uintptr_t)(XA_PAGE_SIZE - 1);
    if (len)
        (void)madvise((void *)lo, hi - lo, MADV_POPULATE_READ); /* a hint: faults still work */
#else
    (void)p;
    (void)len;
#endif
}

static int outside_ram(struct xa_instance *xa, uint64_t pa, size_t len)
{
    return xa__set_error(xa, XA_ERANGE, "physical range 0x%llx+0x%zx is outside guest RAM",
                         (unsigned long long)pa, len);
}

/* Reads larger than this go straight to the backend instead of the cache. */
#define XA_DIRECT_READ_MIN (2 * XA_PAGE_SIZE)

int xa__read_pa(struct xa_instance *xa, uint64_t pa, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (!xa__pa_in_ram(xa, pa, len))
        return outside_ram(xa, pa, len);
    if (len >= XA_DIRECT_READ_MIN)
        return xa__be_read_pa(xa, pa, buf, len);
    uint64_t first_off = pa & (XA_PAGE_SIZE - 1);
    if (len <= XA_PAGE_SIZE - first_off) { /* inside one page, the common case */
        const uint8_t *page = NULL;
        int rc = xa__page_fast(xa, pa >> XA_PAGE_SHIFT, &page);
        if (rc < 0)
            return rc;
        memcpy(buf, page + first_off, len);
        return xa__mapguard_check(xa);
    }
    uint8_t *dst = buf;
    while (len) {
        uint64_t off = pa & (XA_PAGE_SIZE - 1);
        size_t chunk = (size_t)(XA_PAGE_SIZE - off);
        if (chunk > len)
            chunk = len;
        const uint8_t *page = NULL;
        int rc = xa__page_fast(xa, pa >> XA_PAGE_SHIFT, &page);
        if (rc < 0)
            return rc;
        memcpy(dst, page + off, chunk);
        dst += chunk;
        pa += chunk;
        len -= chunk;
    }
    /* A page lost to a truncation during the copy reads as zeros: say so. */
    return xa__mapguard_check(xa);
}

XA_API int xa_read_pa(struct xa_instance *xa, uint64_t pa, void *buf, size_t len)
{
    if (!xa || (!buf && len))
        return xa__set_error(xa, XA_EINVAL, "xa_read_pa: NULL argument");
    return xa__read_pa(xa, pa, buf, len);
}

XA_API int xa_write_pa(struct xa_instance *xa, uint64_t pa, const void *buf, size_t len)
{
    if (!xa || (!buf && len))
        return xa__set_error(xa, XA_EINVAL, "xa_write_pa: NULL argument");
    int rc = xa__be_write_pa(xa, pa, buf, len); /* checks write access and the range */
    /* Cached copies of the written pages are now stale (also after a write
     * that failed part way). */
    if (len && xa__pa_in_ram(xa, pa, len) && !(xa->be->caps & XA_CAP_STABLE_MAP))
        for (uint64_t pfn = pa >> XA_PAGE_SHIFT; pfn <= (pa + len - 1) >> XA_PAGE_SHIFT; pfn++)
            xa_lru_remove(&xa->pages, pfn, 0, page_drop, xa);
    return rc;
}
