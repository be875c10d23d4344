/*
 * access.c -- virtual memory: translation with the v2p cache, bulk virtual
 * reads and writes, and the paper's page-mapping calls.
 */
#include <stdlib.h>
#include <string.h>

#include "core/instance.h"
#include "core/mapguard.h"
#include "os/os.h"

static int walker_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    return xa__read_pa(ctx, pa, buf, len);
}

static uint64_t resolve_dtb(const struct xa_instance *xa, uint64_t dtb)
{
    return dtb ? dtb : xa->kernel_dtb;
}

int xa__translate_mode(struct xa_instance *xa, const struct x86_paging *pg, uint64_t dtb,
                       uint64_t va, uint64_t *pa)
{
    struct x86_walk walk;
    int rc = x86_translate(pg, dtb, va, walker_read, xa, &walk);
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
    *pa = walk.pa;
    return 0;
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
    uint64_t vpn = va >> XA_PAGE_SHIFT, pfn_pa;
    if (xa_lru_get(&xa->v2p, dtb, vpn, &pfn_pa)) {
        xa->v2p_hits++;
        *pa = pfn_pa | (va & (XA_PAGE_SIZE - 1));
        return 0;
    }
    xa->v2p_misses++;
    int rc = xa__translate_mode(xa, &xa->paging, dtb, va, pa);
    if (rc < 0)
        return rc;
    xa_lru_put(&xa->v2p, dtb, vpn, *pa & XA_PAGE_MASK, NULL, NULL);
    return 0;
}

int xa__read_va(struct xa_instance *xa, uint64_t dtb, uint64_t va, void *buf, size_t len,
                size_t *nread)
{
    uint8_t *dst = buf;
    size_t done = 0;
    int rc = 0;
    while (done < len) {
        uint64_t off = va & (XA_PAGE_SIZE - 1);
        size_t chunk = (size_t)(XA_PAGE_SIZE - off);
        if (chunk > len - done)
            chunk = len - done;
        uint64_t pa = 0;
        const uint8_t *page = NULL;
        rc = xa__translate(xa, dtb, va, &pa);
        /* Kept by virtual address, a page may be there only in part: the
         * bytes not kept are unknown, not zero. */
        if (rc == 0 && virtual_target(xa) && !xa__pa_in_ram(xa, pa, chunk))
            rc = xa__set_error(xa, XA_EFAULT, "kernel virtual 0x%llx (+%zu) is not in the dump",
                               (unsigned long long)va, chunk);
        if (rc == 0)
            rc = xa__page(xa, pa >> XA_PAGE_SHIFT, &page);
        if (rc < 0)
            break;
        memcpy(dst + done, page + off, chunk);
        done += chunk;
        va += chunk;
    }
    /* A mapped page lost to a truncation during a copy read as zeros: none
     * of the bytes can be vouched for. */
    if (rc == 0 && (rc = xa__mapguard_check(xa)) < 0)
        done = 0;
    if (nread)
        *nread = done;
    return rc;
}

int xa__read_u64(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint64_t *out)
{
    return xa__read_va(xa, dtb, va, out, sizeof(*out), NULL);
}

int xa__read_u32(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint32_t *out)
{
    return xa__read_va(xa, dtb, va, out, sizeof(*out), NULL);
}

XA_API int xa_translate(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint64_t *pa)
{
    if (!xa || !pa)
        return xa__set_error(xa, XA_EINVAL, "xa_translate: NULL argument");
    return xa__translate(xa, dtb, va, pa);
}

XA_API int xa_translate_kv(struct xa_instance *xa, uint64_t va, uint64_t *pa)
{
    return xa_translate(xa, 0, va, pa);
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
        rc = xa__translate(xa, dtb, va, &pa);
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

XA_API int xa_read_kva_u64(struct xa_instance *xa, uint64_t va, uint64_t *out)
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
    if (!xa || xa__translate(xa, dtb, va, &pa) < 0)
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
        xa_lru_clear(&xa->v2p, NULL, NULL);
    if (kinds & XA_CACHE_PAGES)
        xa__page_cache_drop_all(xa);
    if (kinds & XA_CACHE_OS)
        xa__os_flush(xa);
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
