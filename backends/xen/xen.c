/*
 * xen.c -- the "xen" backend: a domain on the Xen hypervisor we run beside,
 * from dom0 (or any domain privileged over the target). Target
 * "xen:NAME" or "xen:ID". Nothing in the guest, no hypervisor patches.
 *
 * Memory: libxenforeignmemory maps guest frames into our address space,
 * read-only unless XA_INIT_WRITE (maps.c caches them). Guest-physical
 * addresses are gfns for HVM/PVH and pseudo-physical pfns for PV (pv.c
 * translates; see xen.h for what holds for each kind).
 * Registers: xc_vcpu_getcontext() for PV (CR3 is an mfn there and is
 * returned as a pfn); the HVM save record CPU for HVM/PVH.
 * Pause/resume: xc_domain_pause/unpause (a pause we did not make is left).
 *
 * Cache policy (as for qemu:, docs/live.md): a mapping shows the frame's
 * live contents, so the core's cached translations and pages are what go
 * stale; the core flushes them on pause/resume and at each top-level walk.
 * Here pause/resume also drop idle mappings and, for PV, re-read the p2m,
 * since ballooning can move a guest page to another frame. PV page tables
 * are copied at map time (their entries are rewritten), so they are as
 * fresh as the core's page cache.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backends/xen/xen.h" /* first: xenctrl.h sets up Xen's public headers */

#include <xen/hvm/save.h>

#define X86_CR0_PE 0x1ull
#define X86_CR0_PG 0x80000000ull
#define X86_CR4_PAE 0x20ull
#define EFER_SCE 0x1ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define EFER_NXE 0x800ull

/* Xen's libraries log to stderr by default; library code never prints, and
 * every failure is reported through xa__set_error() with errno instead. */
static void quiet_vmessage(struct xentoollog_logger *logger, xentoollog_level level,
                           int errnoval, const char *context, const char *format, va_list al)
{
    (void)logger, (void)level, (void)errnoval, (void)context, (void)format, (void)al;
}

static void quiet_progress(struct xentoollog_logger *logger, const char *context,
                           const char *doing_what, int percent, unsigned long done,
                           unsigned long total)
{
    (void)logger, (void)context, (void)doing_what, (void)percent, (void)done, (void)total;
}

static void quiet_destroy(struct xentoollog_logger *logger)
{
    (void)logger;
}

static struct xentoollog_logger quiet_logger = {
    .vmessage = quiet_vmessage, .progress = quiet_progress, .destroy = quiet_destroy};

static uint32_t idle_max_from_env(void)
{
    const char *env = getenv("XA_XEN_MAP_CACHE");
    if (env && *env) {
        long v = strtol(env, NULL, 10);
        if (v >= 0 && v <= 65536)
            return (uint32_t)v;
    }
    return XEN_MAP_IDLE_DEFAULT;
}

static int xen_open(struct xa_backend *be, const char *spec, uint32_t flags)
{
    struct xen_backend *xb = xb_of(be);
    int rc = xen_maps_init(xb, idle_max_from_env());
    if (rc < 0)
        return rc;
    xb->xch = xc_interface_open(&quiet_logger, &quiet_logger, 0);
    if (!xb->xch)
        return xa__set_error(be->xa, XA_EACCES,
                             "xen:%s: cannot open the hypervisor interface (%s): run in dom0 "
                             "as root with /proc/xen (xenfs) or /dev/xen/privcmd",
                             spec, strerror(errno));
    xb->fmem = xenforeignmemory_open(&quiet_logger, 0);
    if (!xb->fmem)
        return xa__set_error(be->xa, XA_EACCES, "xen:%s: cannot open foreign memory: %s", spec,
                             strerror(errno));
    rc = xen_find_domain(xb, spec);
    if (rc < 0)
        return rc;
    if (xb->domid == 0)
        return xa__set_error(be->xa, XA_ENOTSUP,
                             "xen:%s: domain 0 is ourselves: introspect a guest domain", spec);

    xc_dominfo_t info;
    if (xc_domain_getinfo(xb->xch, xb->domid, 1, &info) != 1 || info.domid != xb->domid)
        return xa__set_error(be->xa, XA_ENOENT, "xen:%s: no domain with id %u", spec,
                             xb->domid);
    if (info.dying || info.shutdown)
        return xa__set_error(be->xa, XA_EGONE, "xen:%s: domain %u is shutting down", spec,
                             xb->domid);
    xb->translated = info.hvm;
    xb->paused = info.paused; /* paused by someone else: types are stable */
    xb->last_miss_pfn = UINT64_MAX - 1;
    /* A PV dom0 may unmap part of a foreign mapping; an auto-translated
     * (PVH) dom0's privcmd releases a mapping as a whole, so map singly. */
    xen_feature_info_t fi = {.submap_idx = 0};
    xb->can_split = xc_version(xb->xch, XENVER_get_features, &fi) == 0 &&
                    !(fi.submap & (1u << XENFEAT_auto_translated_physmap));
    unsigned vcpus = info.max_vcpu_id + 1;
    be->nr_vcpus = vcpus > XEN_MAX_VCPUS ? XEN_MAX_VCPUS : vcpus;

    rc = xb->translated ? xen_hvm_ranges(xb) : xen_pv_open(xb, &info);
    if (rc < 0)
        return rc;
    snprintf(be->method, sizeof(be->method),
             "Xen foreign mapping of domain %u (%s, %s)%s", xb->domid,
             xb->translated ? "HVM/PVH" : "PV",
             xb->translated ? "gfn frames" : "pfn->mfn via guest p2m, page tables via m2p",
             (flags & XA_INIT_WRITE) ? ", writable" : "");
    be->caps = XA_CAP_LIVE | XA_CAP_PAUSE | XA_CAP_REGS | ((flags & XA_INIT_WRITE) ? XA_CAP_WRITE : 0);
    return 0;
}

static void xen_close(struct xa_backend *be)
{
    struct xen_backend *xb = xb_of(be);
    xen_maps_destroy(xb);
    xen_pv_close(xb);
    if (xb->fmem)
        xenforeignmemory_close(xb->fmem);
    if (xb->xch)
        xc_interface_close(xb->xch);
    free(be->ranges);
    be->ranges = NULL;
}

/* The frame behind guest-physical page @pfn. */
static int frame_of(struct xen_backend *xb, uint64_t pfn, uint64_t *frame)
{
    if (xb->translated) {
        *frame = pfn;
        return 0;
    }
    return xen_pv_mfn(xb, pfn, frame);
}

/* Frames of the pages after @pfn (UINT64_MAX where there is none). */
static unsigned run_after(struct xen_backend *xb, uint64_t pfn, uint64_t *frames, unsigned n)
{
    for (unsigned j = 1; j < n; j++) {
        uint64_t p = pfn + j;
        if (xb->translated)
            frames[j] = p;
        else
            frames[j] = p < xb->p2m_size && !(xb->p2m[p] & (3ull << 62)) ? xb->p2m[p]
                                                                         : UINT64_MAX;
    }
    return n;
}

static int xen_map_page(struct xa_backend *be, uint64_t pfn, const void **out)
{
    struct xen_backend *xb = xb_of(be);
    uint64_t frames[XEN_MAP_RUN_MAX];
    uint8_t *page, *copy = NULL;
    int rc = frame_of(xb, pfn, &frames[0]);
    if (rc < 0)
        return rc;
    uint64_t frame = frames[0];
    /* Scans (OS discovery, dumps) go page after page: read ahead then. */
    unsigned n = pfn == xb->last_miss_pfn + 1 ? run_after(xb, pfn, frames, XEN_MAP_RUN_MAX) : 1;
    xb->last_miss_pfn = pfn;
    rc = xen_map_get_run(xb, frames, n, &page);
    if (rc < 0)
        return rc;
    if (!xb->translated) {
        rc = xen_pv_page(xb, frame, page, &copy);
        if (rc < 0 || copy) {
            xen_map_put(xb, page);
            if (rc < 0)
                return rc;
            page = copy;
        }
    }
    *out = page;
    return 0;
}

static void xen_unmap_page(struct xa_backend *be, uint64_t pfn, const void *page)
{
    (void)pfn;
    /* Not one of our mappings: a rewritten page-table copy. */
    if (!xen_map_put(xb_of(be), page))
        free((void *)(uintptr_t)page);
}

static int xen_read_pa(struct xa_backend *be, uint64_t pa, void *buf, size_t len)
{
    uint8_t *dst = buf;
    while (len) {
        uint64_t off = pa & (XA_PAGE_SIZE - 1);
        size_t chunk = (size_t)(XA_PAGE_SIZE - off);
        if (chunk > len)
            chunk = len;
        const void *page;
        int rc = xen_map_page(be, pa >> XA_PAGE_SHIFT, &page);
        if (rc < 0)
            return rc;
        memcpy(dst, (const uint8_t *)page + off, chunk);
        xen_unmap_page(be, pa >> XA_PAGE_SHIFT, page);
        dst += chunk;
        pa += chunk;
        len -= chunk;
    }
    return 0;
}

/* Writes map each frame writable for the copy only (PV page tables cannot
 * be mapped writable at all: Xen refuses, and the write fails). */
static int xen_write_pa(struct xa_backend *be, uint64_t pa, const void *buf, size_t len)
{
    struct xen_backend *xb = xb_of(be);
    const uint8_t *src = buf;
    while (len) {
        uint64_t off = pa & (XA_PAGE_SIZE - 1), frame;
        size_t chunk = (size_t)(XA_PAGE_SIZE - off);
        if (chunk > len)
            chunk = len;
        int rc = frame_of(xb, pa >> XA_PAGE_SHIFT, &frame);
        if (rc < 0)
            return rc;
        xen_pfn_t arr = (xen_pfn_t)frame;
        int err = 0;
        uint8_t *p = xenforeignmemory_map(xb->fmem, xb->domid, PROT_READ | PROT_WRITE, 1, &arr,
                                          &err);
        if (!p || err) {
            int e = err ? (err < 0 ? -err : err) : errno;
            if (p)
                xenforeignmemory_unmap(xb->fmem, p, 1);
            return xen_map_error(xb, frame, e);
        }
        memcpy(p + off, src, chunk);
        xenforeignmemory_unmap(xb->fmem, p, 1);
        src += chunk;
        pa += chunk;
        len -= chunk;
    }
    return 0;
}

static int pv_regs(struct xen_backend *xb, unsigned vcpu, struct xa_regs *out)
{
    vcpu_guest_context_any_t ctx;
    if (xc_vcpu_getcontext(xb->xch, xb->domid, vcpu, &ctx) < 0)
        return xa__set_error(xb->base.xa, xen_domain_alive(xb) ? XA_EIO : XA_EGONE,
                             "domain %s: cannot read vCPU %u: %s", xb->name, vcpu,
                             strerror(errno));
    const struct vcpu_guest_context_x86_64 *c = &ctx.x64;
    const struct cpu_user_regs_x86_64 *r = &c->user_regs;
    out->rax = r->rax, out->rbx = r->rbx, out->rcx = r->rcx, out->rdx = r->rdx;
    out->rsi = r->rsi, out->rdi = r->rdi, out->rbp = r->rbp, out->rsp = r->rsp;
    out->r8 = r->r8, out->r9 = r->r9, out->r10 = r->r10, out->r11 = r->r11;
    out->r12 = r->r12, out->r13 = r->r13, out->r14 = r->r14, out->r15 = r->r15;
    out->rip = r->rip, out->rflags = r->rflags, out->cs = r->cs, out->ss = r->ss;
    /* A 64-bit PV guest always runs in long mode with paging; Xen keeps no
     * EFER for it, so give the one its kernel runs with. */
    out->cr0 = c->ctrlreg[0] | X86_CR0_PG | X86_CR0_PE;
    out->cr2 = c->ctrlreg[2];
    out->cr4 = c->ctrlreg[4] | X86_CR4_PAE;
    out->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    /* ctrlreg[3] holds the kernel's top table as an mfn: give its pfn. */
    uint64_t pfn;
    out->cr3 = xen_pv_pfn(xb, xen_cr3_to_pfn(c->ctrlreg[3]), &pfn) ? pfn << XA_PAGE_SHIFT : 0;
    out->fs_base = c->fs_base;
    bool kernel = c->flags & VGCF_in_kernel;
    out->gs_base = kernel ? c->gs_base_kernel : c->gs_base_user;
    out->kernel_gs_base = kernel ? c->gs_base_user : c->gs_base_kernel;
    return 0;
}

static int hvm_regs(struct xen_backend *xb, unsigned vcpu, struct xa_regs *out)
{
    struct hvm_hw_cpu c;
    if (xc_domain_hvm_getcontext_partial(xb->xch, xb->domid, HVM_SAVE_CODE(CPU),
                                         (uint16_t)vcpu, &c, sizeof(c)) < 0)
        return xa__set_error(xb->base.xa, xen_domain_alive(xb) ? XA_EIO : XA_EGONE,
                             "domain %s: cannot read vCPU %u: %s", xb->name, vcpu,
                             strerror(errno));
    out->rax = c.rax, out->rbx = c.rbx, out->rcx = c.rcx, out->rdx = c.rdx;
    out->rsi = c.rsi, out->rdi = c.rdi, out->rbp = c.rbp, out->rsp = c.rsp;
    out->r8 = c.r8, out->r9 = c.r9, out->r10 = c.r10, out->r11 = c.r11;
    out->r12 = c.r12, out->r13 = c.r13, out->r14 = c.r14, out->r15 = c.r15;
    out->rip = c.rip, out->rflags = c.rflags;
    out->cr0 = c.cr0, out->cr2 = c.cr2, out->cr3 = c.cr3, out->cr4 = c.cr4;
    out->efer = c.msr_efer;
    out->fs_base = c.fs_base, out->gs_base = c.gs_base, out->kernel_gs_base = c.shadow_gs;
    out->cs = (uint16_t)c.cs_sel, out->ss = (uint16_t)c.ss_sel;
    return 0;
}

/* HVM and PVH: the saved CPU context has them. A PV guest has no IDTR of
 * its own (Xen delivers its traps through the virtual trap table it
 * registered), so there they do not apply. */
static int xen_get_vcpu_dtables(struct xa_backend *be, unsigned vcpu,
                                struct xa_vcpu_dtables *out)
{
    struct xen_backend *xb = xb_of(be);
    if (!xb->translated)
        return xa__set_error(be->xa, XA_ENOTSUP,
                             "domain %s is PV: no IDTR/GDTR (Xen's virtual trap table instead)",
                             xb->name);
    struct hvm_hw_cpu c;
    if (xc_domain_hvm_getcontext_partial(xb->xch, xb->domid, HVM_SAVE_CODE(CPU),
                                         (uint16_t)vcpu, &c, sizeof(c)) < 0)
        return xa__set_error(be->xa, xen_domain_alive(xb) ? XA_EIO : XA_EGONE,
                             "domain %s: cannot read vCPU %u: %s", xb->name, vcpu,
                             strerror(errno));
    out->idt_base = c.idtr_base, out->idt_limit = (uint32_t)c.idtr_limit;
    out->gdt_base = c.gdtr_base, out->gdt_limit = (uint32_t)c.gdtr_limit;
    return 0;
}

static int xen_get_vcpu_regs(struct xa_backend *be, unsigned vcpu, struct xa_regs *out)
{
    struct xen_backend *xb = xb_of(be);
    memset(out, 0, sizeof(*out));
    return xb->translated ? hvm_regs(xb, vcpu, out) : pv_regs(xb, vcpu, out);
}

/* After the guest ran, frames may have moved: drop idle mappings and, for
 * PV, re-read the p2m. Pages the core still holds stay mapped until it
 * releases them (it flushes right after a pause). */
static int remap(struct xen_backend *xb)
{
    xen_maps_drop_idle(xb);
    return xb->translated ? 0 : xen_pv_refresh(xb);
}

static int xen_pause(struct xa_backend *be)
{
    struct xen_backend *xb = xb_of(be);
    xc_dominfo_t info;
    if (xc_domain_getinfo(xb->xch, xb->domid, 1, &info) != 1 || info.domid != xb->domid)
        return xa__set_error(be->xa, XA_EGONE, "domain %s went away", xb->name);
    xb->found_paused = info.paused;
    if (!info.paused && xc_domain_pause(xb->xch, xb->domid) < 0)
        return xa__set_error(be->xa, XA_EIO, "domain %s: pause failed: %s", xb->name,
                             strerror(errno));
    int rc = remap(xb);
    xen_maps_forget_types(xb); /* answers from before the pause */
    xb->paused = true;
    return rc;
}

static int xen_resume(struct xa_backend *be)
{
    struct xen_backend *xb = xb_of(be);
    xb->paused = false;
    xen_maps_forget_types(xb);
    if (xb->found_paused) {
        xb->found_paused = false;
        return 0;
    }
    if (xc_domain_unpause(xb->xch, xb->domid) < 0)
        return xa__set_error(be->xa, xen_domain_alive(xb) ? XA_EIO : XA_EGONE,
                             "domain %s: unpause failed: %s", xb->name, strerror(errno));
    xen_maps_drop_idle(xb);
    return 0;
}

const struct xa_backend_ops xa_backend_xen = {
    .name = "xen",
    .instance_size = sizeof(struct xen_backend),
    .open = xen_open,
    .close = xen_close,
    .read_pa = xen_read_pa,
    .write_pa = xen_write_pa,
    .map_page = xen_map_page,
    .unmap_page = xen_unmap_page,
    .get_vcpu_regs = xen_get_vcpu_regs,
    .get_vcpu_dtables = xen_get_vcpu_dtables,
    .pause = xen_pause,
    .resume = xen_resume,
};
