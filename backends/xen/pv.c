/*
 * pv.c -- PV domains: presenting a non-translated guest in pfn space.
 *
 * (Why, in xen.h.) Three pieces:
 *  - the guest's p2m (pfn -> mfn). The guest keeps it and advertises it in
 *    its shared_info page: either a virtually mapped linear array
 *    (arch.p2m_vaddr in the address space arch.p2m_cr3; Linux sets it) or
 *    the older three-level frame list (arch.pfn_to_mfn_frame_list_list).
 *    Both are read here in machine space, by mapping mfns.
 *  - Xen's m2p (mfn -> pfn), the read-only table every PV guest also sees,
 *    mapped with xc_map_m2p(). A translation is trusted only when the p2m
 *    maps the pfn back to the same mfn: frames not the guest's (Xen's own
 *    L4 slots, shared_info, grant-mapped pages) fail that check.
 *  - page tables: a frame Xen types as L1..L4 is handed out as a copy
 *    whose entries carry pfns; an entry whose frame is not the guest's is
 *    made not-present, so a walk through it ends as a fault.
 * Everything read from the guest (p2m, sizes, entries) is bounded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backends/xen/xen.h" /* first: xenguest.h needs xenctrl.h */

#include <xenguest.h>

#define PV_MAX_PFNS (1ull << 26) /* 256 GiB: caps the p2m copy at 512 MiB */
#define ENTRIES_PER_PAGE 512
#define PTE_PRESENT 1ull
#define PTE_PSE (1ull << 7)
#define PTE_FRAME_MASK 0x000FFFFFFFFFF000ull
#define P2M_INVALID (~0ull)
#define P2M_FLAG_BITS (3ull << 62) /* Linux: foreign / identity frames */
#define M2P_CHUNK (1ull << 21)     /* xc_map_m2p maps whole 2 MiB chunks */

bool xen_pv_pfn(const struct xen_backend *xb, uint64_t mfn, uint64_t *pfn)
{
    if (!xb->m2p || mfn >= xb->m2p_entries)
        return false;
    uint64_t p = xb->m2p[mfn];
    if (p >= xb->p2m_size || xb->p2m[p] != mfn)
        return false;
    *pfn = p;
    return true;
}

int xen_pv_mfn(struct xen_backend *xb, uint64_t pfn, uint64_t *mfn)
{
    if (pfn >= xb->p2m_size || xb->p2m[pfn] == P2M_INVALID || (xb->p2m[pfn] & P2M_FLAG_BITS))
        return xa__set_error(xb->base.xa, XA_ERANGE,
                             "domain %s: pseudo-physical page 0x%" PRIx64 " has no frame",
                             xb->name, pfn);
    *mfn = xb->p2m[pfn];
    return 0;
}

/* Copy @n 8-byte words at @off of machine frame @mfn (a foreign map). */
static int read_machine(void *ctx, uint64_t mfn, unsigned off, uint64_t *out, unsigned n)
{
    struct xen_backend *xb = ctx;
    uint8_t *page;
    int rc = xen_map_get(xb, mfn, &page);
    if (rc < 0)
        return rc;
    memcpy(out, page + off * 8, (size_t)n * 8);
    xen_map_put(xb, page);
    return 0;
}

static int bad_p2m(struct xen_backend *xb, const char *what)
{
    return xa__set_error(xb->base.xa, XA_EBADDATA, "domain %s: guest p2m unreadable: %s",
                         xb->name, what);
}

int xen_p2m_from_vaddr(struct xen_backend *xb, const struct xen_machine *m, uint64_t root,
                       uint64_t vaddr, uint64_t *p2m, uint64_t pages)
{
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t va = vaddr + i * XA_PAGE_SIZE, frame = root;
        for (int level = 4; level >= 1; level--) {
            unsigned idx = (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
            uint64_t e;
            int rc = m->read(m->ctx, frame, idx, &e, 1);
            if (rc < 0)
                return rc;
            if (!(e & PTE_PRESENT))
                return bad_p2m(xb, "linear p2m page not mapped");
            if (level > 1 && (e & PTE_PSE))
                return bad_p2m(xb, "linear p2m in a large page");
            frame = (e & PTE_FRAME_MASK) >> 12;
        }
        int rc = m->read(m->ctx, frame, 0, p2m + i * ENTRIES_PER_PAGE, ENTRIES_PER_PAGE);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int xen_p2m_from_frame_lists(struct xen_backend *xb, const struct xen_machine *m, uint64_t fll,
                             uint64_t *p2m, uint64_t pages)
{
    uint64_t lists[ENTRIES_PER_PAGE], list[ENTRIES_PER_PAGE];
    uint64_t nr_lists = (pages + ENTRIES_PER_PAGE - 1) / ENTRIES_PER_PAGE;
    if (nr_lists > ENTRIES_PER_PAGE)
        return bad_p2m(xb, "frame list too long");
    int rc = m->read(m->ctx, fll, 0, lists, ENTRIES_PER_PAGE);
    for (uint64_t l = 0; rc == 0 && l < nr_lists; l++) {
        rc = m->read(m->ctx, lists[l], 0, list, ENTRIES_PER_PAGE);
        for (uint64_t j = 0; rc == 0 && j < ENTRIES_PER_PAGE; j++) {
            uint64_t page = l * ENTRIES_PER_PAGE + j;
            if (page >= pages)
                break;
            rc = m->read(m->ctx, list[j], 0, p2m + page * ENTRIES_PER_PAGE, ENTRIES_PER_PAGE);
        }
    }
    return rc;
}

static bool pfn_is_ram(struct xen_backend *xb, uint64_t pfn, void *ctx)
{
    (void)ctx;
    uint64_t mfn = 0, back = 0;
    return xen_pv_mfn(xb, pfn, &mfn) == 0 && xen_pv_pfn(xb, mfn, &back) && back == pfn;
}

int xen_pv_refresh(struct xen_backend *xb)
{
    xc_dominfo_t info;
    if (xc_domain_getinfo(xb->xch, xb->domid, 1, &info) != 1 || info.domid != xb->domid)
        return xa__set_error(xb->base.xa, XA_EGONE, "domain %s went away", xb->name);

    struct shared_info si;
    uint8_t *page;
    int rc = xen_map_get(xb, info.shared_info_frame, &page);
    if (rc < 0)
        return xa__prefix_error(xb->base.xa, rc, "shared_info");
    memcpy(&si, page, sizeof(si));
    xen_map_put(xb, page);

    uint64_t max_pfn = si.arch.max_pfn;
    if (max_pfn == 0 || max_pfn > PV_MAX_PFNS)
        return bad_p2m(xb, "implausible max_pfn in shared_info");
    uint64_t pages = (max_pfn + ENTRIES_PER_PAGE - 1) / ENTRIES_PER_PAGE;
    uint64_t *p2m = malloc(pages * ENTRIES_PER_PAGE * sizeof(*p2m));
    if (!p2m)
        return xa__set_error(xb->base.xa, XA_ENOMEM, "out of memory");

    /* Linux writes ~0 to the frame list list when it offers only the
     * linear p2m; older guests leave p2m_cr3 at 0. */
    const struct xen_machine machine = {read_machine, xb};
    if (si.arch.p2m_cr3 && si.arch.p2m_vaddr)
        rc = xen_p2m_from_vaddr(xb, &machine, xen_cr3_to_pfn(si.arch.p2m_cr3), si.arch.p2m_vaddr,
                                p2m, pages);
    else if (si.arch.pfn_to_mfn_frame_list_list && si.arch.pfn_to_mfn_frame_list_list != ~0ul)
        rc = xen_p2m_from_frame_lists(xb, &machine, si.arch.pfn_to_mfn_frame_list_list, p2m,
                                      pages);
    else
        rc = bad_p2m(xb, "the guest advertises no p2m (not booted yet?)");
    if (rc < 0) {
        free(p2m);
        return rc;
    }
    free(xb->p2m);
    xb->p2m = p2m;
    xb->p2m_size = max_pfn;
    return xen_ranges_from(xb, max_pfn, pfn_is_ram, NULL);
}

int xen_pv_open(struct xen_backend *xb, const xc_dominfo_t *info)
{
    (void)info;
    unsigned width = 0;
    if (xc_domain_get_guest_width(xb->xch, xb->domid, &width) < 0)
        return xa__set_error(xb->base.xa, XA_EIO, "domain %s: cannot read its guest width: %s",
                             xb->name, strerror(errno));
    if (width != 8)
        return xa__set_error(xb->base.xa, XA_ENOTSUP,
                             "domain %s is a 32-bit PV guest (only 64-bit PV is supported)",
                             xb->name);
    xb->guest_width = width;

    unsigned long max_mfn = 0;
    if (xc_maximum_ram_page(xb->xch, &max_mfn) < 0 || max_mfn == 0)
        return xa__set_error(xb->base.xa, XA_EIO, "cannot read the host's highest mfn: %s",
                             strerror(errno));
    xen_pfn_t *m2p = xc_map_m2p(xb->xch, max_mfn, PROT_READ, NULL);
    if (!m2p)
        return xa__set_error(xb->base.xa, XA_EIO, "cannot map Xen's m2p table: %s",
                             strerror(errno));
    xb->m2p = m2p;
    xb->m2p_entries = (uint64_t)max_mfn;
    /* The size xc_map_m2p mapped (whole 2 MiB chunks), for munmap. */
    xb->m2p_bytes = (size_t)(((uint64_t)max_mfn * sizeof(xen_pfn_t) + M2P_CHUNK - 1) &
                             ~(M2P_CHUNK - 1));
    return xen_pv_refresh(xb);
}

void xen_pv_close(struct xen_backend *xb)
{
    if (xb->m2p)
        munmap((void *)(uintptr_t)xb->m2p, xb->m2p_bytes);
    xb->m2p = NULL;
    free(xb->p2m);
    xb->p2m = NULL;
}

int xen_pv_page(struct xen_backend *xb, uint64_t mfn, const uint8_t *page, uint8_t **copy)
{
    *copy = NULL;
    /* The type Xen gives the frame (see xen_map_type() for how long an
     * answer is kept). */
    uint32_t t;
    if (!xen_map_type(xb, page, &t)) {
        xen_pfn_t type = (xen_pfn_t)mfn;
        if (xc_get_pfn_type_batch(xb->xch, xb->domid, 1, &type) < 0)
            return xen_map_error(xb, mfn, errno);
        t = (uint32_t)type & XEN_DOMCTL_PFINFO_LTABTYPE_MASK;
        xen_map_set_type(xb, page, t);
    }
    if (t < XEN_DOMCTL_PFINFO_L1TAB || t > XEN_DOMCTL_PFINFO_L4TAB)
        return 0; /* data, not a page table */
    uint64_t *out = malloc(XA_PAGE_SIZE);
    if (!out)
        return xa__set_error(xb->base.xa, XA_ENOMEM, "out of memory");
    memcpy(out, page, XA_PAGE_SIZE);
    for (unsigned i = 0; i < ENTRIES_PER_PAGE; i++) {
        uint64_t e = out[i], pfn;
        if (!(e & PTE_PRESENT))
            continue;
        if (xen_pv_pfn(xb, (e & PTE_FRAME_MASK) >> 12, &pfn))
            out[i] = (e & ~PTE_FRAME_MASK) | (pfn << 12);
        else
            out[i] = e & ~PTE_PRESENT;
    }
    *copy = (uint8_t *)out;
    return 0;
}
