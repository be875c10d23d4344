/*
 * instance.c -- opening and closing targets: the target-string parser,
 * backend lifecycle, memory layout, registers, pause/resume.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/instance.h"
#include "core/mapguard.h"
#include "os/os.h"

#define XA_DEFAULT_V2P_ENTRIES 65536
#define XA_DEFAULT_PAGE_ENTRIES 4096
/* More RAM ranges than any real machine has: a cap against hostile dumps. */
#define XA_MAX_RANGES 65536

static _Thread_local char init_errmsg[XA_ERRMSG_LEN];

XA_API const char *xa_last_init_error(void)
{
    return init_errmsg[0] ? init_errmsg : "no error";
}

static int range_cmp(const void *a, const void *b)
{
    const struct xa_mem_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Copy, sort and check the backend's ranges; merge adjacent ones. */
static int take_layout(struct xa_instance *xa)
{
    struct xa_backend *be = xa->be;
    if (be->nr_ranges == 0 || !be->ranges)
        return xa__set_error(xa, XA_EBADDATA, "target has no guest memory");
    if (be->nr_ranges > XA_MAX_RANGES)
        return xa__set_error(xa, XA_ELIMIT, "target has %zu memory ranges (limit %d)",
                             be->nr_ranges, XA_MAX_RANGES);
    xa->ranges = calloc(be->nr_ranges, sizeof(*xa->ranges));
    if (!xa->ranges)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    memcpy(xa->ranges, be->ranges, be->nr_ranges * sizeof(*xa->ranges));
    qsort(xa->ranges, be->nr_ranges, sizeof(*xa->ranges), range_cmp);
    size_t n = 0;
    for (size_t i = 0; i < be->nr_ranges; i++) {
        struct xa_mem_range r = xa->ranges[i];
        if (r.size == 0)
            continue;
        if (r.start + r.size < r.start)
            return xa__set_error(xa, XA_EBADDATA, "memory range 0x%llx+0x%llx wraps around",
                                 (unsigned long long)r.start, (unsigned long long)r.size);
        if (n > 0) {
            struct xa_mem_range *prev = &xa->ranges[n - 1];
            if (r.start < prev->start + prev->size)
                return xa__set_error(xa, XA_EBADDATA, "memory ranges overlap at 0x%llx",
                                     (unsigned long long)r.start);
            if (r.start == prev->start + prev->size) {
                prev->size += r.size;
                continue;
            }
        }
        xa->ranges[n++] = r;
    }
    if (n == 0)
        return xa__set_error(xa, XA_EBADDATA, "target has no guest memory");
    xa->nr_ranges = n;
    for (size_t i = 0; i < n; i++)
        xa->memsize += xa->ranges[i].size;
    xa->max_pa = xa->ranges[n - 1].start + xa->ranges[n - 1].size;
    return 0;
}

int xa__vcpu0_regs(struct xa_instance *xa, struct xa_regs *out)
{
    struct xa_backend *be = xa->be;
    if (!(be->caps & XA_CAP_REGS) || !be->ops->get_vcpu_regs || be->nr_vcpus == 0)
        return XA_ENOTSUP;
    return xa__be_vcpu_regs(xa, 0, out);
}

struct x86_paging xa__kernel_paging(const struct xa_instance *xa)
{
    return xa->paging;
}

bool xa__memory_is_virtual(const struct xa_instance *xa)
{
    return (xa->be->caps & XA_CAP_VIRTUAL) != 0;
}

bool xa__memory_static(const struct xa_instance *xa)
{
    /* A test's pending fault injection must reach the backend. */
    return !(xa->be->caps & XA_CAP_LIVE) && !xa__be_can_write(xa) && xa->fault.countdown == 0;
}

int xa__memory_check(struct xa_instance *xa)
{
    return xa__mapguard_check(xa);
}

void xa__set_kernel_paging(struct xa_instance *xa, const struct x86_paging *pg, uint64_t dtb)
{
    if (xa->paging.mode != pg->mode || xa->kernel_dtb != dtb)
        xa_cache_flush(xa, XA_CACHE_V2P | XA_CACHE_OS); /* what was decoded through the old */
    xa->paging = *pg;
    xa->pte_reserved = x86_pte_reserved(pg);
    x86_walk8_setup(pg, &xa->walk8);
    xa->kernel_dtb = dtb;
}

int xa__set_ram_base(struct xa_instance *xa, uint64_t base)
{
    if (base == xa->ram_base)
        return 0;
    if (xa->nr_ranges != 1 || xa->ranges[0].start != xa->ram_base ||
        (base & (XA_PAGE_SIZE - 1)) || base + xa->ranges[0].size < base)
        return XA_EINVAL;
    xa__release_all_pages(xa);
    xa__page_cache_drop_all(xa);
    xa__v2p_clear(xa);
    xa->ranges[0].start = base;
    xa->max_pa = base + xa->ranges[0].size;
    xa->ram_base = base;
    xa->last_range = 0;
    return 0;
}

void xa__set_kernel_paging_arm64(struct xa_instance *xa, const struct arm64_paging *pg,
                                 uint64_t ttbr1)
{
    struct x86_paging mode = {.mode = XA_PM_AARCH64};
    xa->arm64 = *pg;
    xa__v2p_clear(xa);
    xa__set_kernel_paging(xa, &mode, ttbr1);
}

/* Paging from vCPU 0's registers, if the target has them. */
static void paging_from_registers(struct xa_instance *xa)
{
    struct xa_regs regs;
    if (xa__vcpu0_regs(xa, &regs) < 0)
        return;
    struct x86_paging pg = {0};
    x86_paging_from_regs(&pg, regs.cr0, regs.cr4, regs.efer);
    if (pg.mode == XA_PM_UNKNOWN)
        return;
    /* Some backends derive EFER (an ELF core does not record it). A running
     * guest's entries can only carry XD if NXE was on, so allow it rather
     * than call every no-execute mapping a reserved-bit fault. */
    if (pg.mode != XA_PM_LEGACY)
        pg.nxe = true;
    xa__set_kernel_paging(xa, &pg, x86_dtb_from_cr3(pg.mode, regs.cr3));
}

/* Split "prefix:rest"; a bare path (with a '/' or existing) means "file:". */
static int parse_target(struct xa_instance *xa, const char *target, char *prefix, size_t plen,
                        const char **spec)
{
    const char *colon = strchr(target, ':');
    size_t n = colon ? (size_t)(colon - target) : 0;
    bool has_prefix = n > 0 && n < plen && strspn(target, "abcdefghijklmnopqrstuvwxyz") == n;
    if (!has_prefix) {
        struct stat st;
        if (strchr(target, '/') || stat(target, &st) == 0) {
            snprintf(prefix, plen, "file");
            *spec = target;
            return 0;
        }
        return xa__set_error(xa, XA_EINVAL,
                             "%s: not a target (use file:PATH, qemu:QMP_SOCKET, xen:DOMAIN or "
                             "libvirt:NAME)",
                             target);
    }
    memcpy(prefix, target, n);
    prefix[n] = '\0';
    *spec = colon + 1;
    if (!**spec)
        return xa__set_error(xa, XA_EINVAL, "%s: nothing after '%s:'", target, prefix);
    return 0;
}

static int open_backend(struct xa_instance *xa, const char *target, uint32_t flags)
{
    char prefix[32];
    const char *spec = NULL;
    int rc = parse_target(xa, target, prefix, sizeof(prefix), &spec);
    if (rc < 0)
        return rc;
    const struct xa_backend_ops *ops;
    rc = xa__backend_find(xa, target, prefix, &ops);
    if (rc < 0)
        return rc;
    rc = xa__be_open(xa, ops, spec, flags);
    if (rc < 0 && !xa->errmsg[0])
        xa__set_error(xa, rc, "%s: %s", target, xa_strerror(rc));
    return rc < 0 ? rc : 0;
}

XA_API int xa_init_opts(const struct xa_init_opts *opts, struct xa_instance **out)
{
    init_errmsg[0] = '\0';
    if (!out) {
        snprintf(init_errmsg, sizeof(init_errmsg), "xa_init: NULL output handle");
        return XA_EINVAL;
    }
    *out = NULL;
    if (!opts || opts->sz < sizeof(size_t) || !opts->target) {
        snprintf(init_errmsg, sizeof(init_errmsg), "xa_init: no target given");
        return XA_EINVAL;
    }
    /* Callers built against an older, smaller struct: copy what they have. */
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));

    struct xa_instance *xa = calloc(1, sizeof(*xa));
    if (!xa) {
        snprintf(init_errmsg, sizeof(init_errmsg), "out of memory");
        return XA_ENOMEM;
    }
    xa->flags = o.flags;
    xa->progress = o.progress;
    xa->progress_ctx = o.progress_ctx;
    int rc = open_backend(xa, o.target, o.flags);
    if (rc == 0)
        rc = take_layout(xa);
    if (rc < 0)
        goto fail;
    rc = xa_lru_init(&xa->v2p, o.v2p_cache_entries ? o.v2p_cache_entries
                                                   : XA_DEFAULT_V2P_ENTRIES);
    if (rc == 0)
        rc = xa_lru_init(&xa->pages, o.page_cache_entries ? o.page_cache_entries
                                                          : XA_DEFAULT_PAGE_ENTRIES);
    if (rc < 0) {
        xa__set_error(xa, rc, "cannot set up caches of that size: %s", xa_strerror(rc));
        goto fail;
    }

    paging_from_registers(xa);

    if (!(o.flags & XA_INIT_NO_OS)) {
        /* A guest we cannot read an OS from still gives memory access; OS calls
         * then fail with the reason kept here. */
        int orc = xa__os_init(xa, &o);
        /* The dump shrank under discovery: say that, not what it made the
         * scan miss (discovery passes over pages it cannot read). */
        if ((rc = xa__mapguard_check(xa)) < 0)
            goto fail;
        if (orc < 0) {
            xa->os_err = orc;
            snprintf(xa->os_errmsg, sizeof(xa->os_errmsg), "%s", xa->errmsg);
            xa->errmsg[0] = '\0';
        }
    } else {
        xa->os_err = XA_ENOOS;
        snprintf(xa->os_errmsg, sizeof(xa->os_errmsg), "OS layer disabled (XA_INIT_NO_OS)");
    }
    *out = xa;
    return 0;

fail:
    snprintf(init_errmsg, sizeof(init_errmsg), "%s",
             xa->errmsg[0] ? xa->errmsg : xa_strerror(rc));
    xa_destroy(xa);
    return rc;
}

XA_API int xa_init(const char *target, uint32_t flags, struct xa_instance **out)
{
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = target;
    o.flags = flags;
    return xa_init_opts(&o, out);
}

XA_API void xa_destroy(struct xa_instance *xa)
{
    if (!xa)
        return;
    xa__os_destroy(xa);
    xa__release_all_pages(xa);
    if (xa->pages.e)
        xa__page_cache_destroy(xa);
    xa_lru_destroy(&xa->v2p, NULL, NULL);
    free(xa->fresh_page);
    xa__be_close(xa);
    free(xa->ranges);
    free(xa);
}

XA_API const char *xa_backend_name(const struct xa_instance *xa)
{
    return xa && xa->be ? xa->be->ops->name : "";
}

XA_API const char *xa_access_method(const struct xa_instance *xa)
{
    return xa && xa->be ? xa->be->method : "";
}

XA_API uint64_t xa_memsize(const struct xa_instance *xa)
{
    return xa ? xa->memsize : 0;
}

XA_API uint64_t xa_max_pa(const struct xa_instance *xa)
{
    return xa ? xa->max_pa : 0;
}

XA_API const struct xa_mem_range *xa_mem_ranges(const struct xa_instance *xa, size_t *count)
{
    if (count)
        *count = xa ? xa->nr_ranges : 0;
    return xa ? xa->ranges : NULL;
}

XA_API unsigned xa_vcpu_count(const struct xa_instance *xa)
{
    return xa && xa->be && (xa->be->caps & XA_CAP_REGS) ? xa->be->nr_vcpus : 0;
}

XA_API int xa_get_vcpu_regs(struct xa_instance *xa, unsigned vcpu, struct xa_regs *out)
{
    if (!xa || !out)
        return xa__set_error(xa, XA_EINVAL, "xa_get_vcpu_regs: NULL argument");
    return xa__be_vcpu_regs(xa, vcpu, out);
}

XA_API int xa_get_vcpu_dtables(struct xa_instance *xa, unsigned vcpu,
                                struct xa_vcpu_dtables *out)
{
    size_t first = offsetof(struct xa_vcpu_dtables, gdt_limit) + sizeof(out->gdt_limit);
    if (!xa || !out || out->sz < first)
        return xa__set_error(xa, XA_EINVAL, "xa_get_vcpu_dtables: NULL argument or sz < %zu",
                             first);
    /* the backend fills the whole of our struct; the caller gets what it has room for */
    struct xa_vcpu_dtables all = {.sz = sizeof(all)};
    int rc = xa__be_vcpu_dtables(xa, vcpu, &all);
    if (rc < 0)
        return rc;
    size_t sz = out->sz < sizeof(all) ? out->sz : sizeof(all);
    all.sz = out->sz;
    memcpy(out, &all, sz);
    return 0;
}

XA_API enum xa_page_mode xa_get_page_mode(const struct xa_instance *xa)
{
    return xa ? xa->paging.mode : XA_PM_UNKNOWN;
}

XA_API const char *xa_page_mode_name(enum xa_page_mode mode)
{
    return mode == XA_PM_AARCH64 ? "AArch64 4 KiB granule" : x86_mode_name(mode);
}

XA_API uint64_t xa_kernel_dtb(const struct xa_instance *xa)
{
    return xa ? xa->kernel_dtb : 0;
}

XA_API int xa_set_kernel_paging(struct xa_instance *xa, enum xa_page_mode mode, uint64_t dtb)
{
    if (!xa)
        return XA_EINVAL;
    if (mode < XA_PM_NONE || mode > XA_PM_AARCH64)
        return xa__set_error(xa, XA_EINVAL, "bad paging mode %d", (int)mode);
    if (mode == XA_PM_AARCH64) {
        struct arm64_paging a64 = {.va_bits = 48};
        xa__set_kernel_paging_arm64(xa, &a64, dtb);
        return 0;
    }
    struct x86_paging pg = {.mode = mode, .nxe = true, .pse = true};
    xa__set_kernel_paging(xa, &pg, dtb);
    return 0;
}

void xa__progress(struct xa_instance *xa, const char *what, uint64_t done, uint64_t total)
{
    if (xa->progress)
        xa->progress(xa->progress_ctx, what, done, total);
}

XA_API int xa_is_live(const struct xa_instance *xa)
{
    return xa && xa->be && (xa->be->caps & XA_CAP_LIVE);
}

static int pause_or_resume(struct xa_instance *xa, bool pause)
{
    if (!xa)
        return XA_EINVAL;
    int rc = pause ? xa__be_pause(xa) : xa__be_resume(xa);
    if (rc == XA_ENOTSUP)
        return rc;
    /* Whatever the guest did before the pause, or will do after the resume,
     * invalidates what we cached. */
    xa_cache_flush(xa, XA_CACHE_ALL);
    return rc;
}

XA_API int xa_pause(struct xa_instance *xa)
{
    return pause_or_resume(xa, true);
}

XA_API int xa_resume(struct xa_instance *xa)
{
    return pause_or_resume(xa, false);
}
