/*
 * xen.h -- state of the xen backend, shared by its files. Internal.
 *
 * xen.c     backend ops: open/close, reads and maps, registers, pause
 * maps.c    the bounded cache of foreign mappings (one 4 KiB frame each)
 * domain.c  finding a domain by name or id; guest RAM of HVM/PVH domains
 * pv.c      PV domains: the guest's p2m, Xen's m2p, page-table copies
 *
 * Frame numbers, PV versus HVM/PVH (what the code relies on):
 *  - HVM and PVH domains are "translated": Xen keeps their p2m. Their page
 *    tables hold guest frame numbers (gfns), and a foreign map of a
 *    translated domain takes gfns (xen/arch/x86/mm.c translates through
 *    get_page_from_gfn() when paging_mode_translate(pg_owner)). So
 *    guest-physical address == gfn << 12 and no p2m work is needed.
 *  - PV domains are not translated: the guest keeps its own p2m (pfn ->
 *    machine frame, mfn), its page tables and CR3 hold mfns, and a foreign
 *    map of a PV domain takes mfns. Guest-physical ("pseudo-physical")
 *    addresses are pfn << 12; that is what the guest kernel's own
 *    arithmetic (__pa(), phys_base) yields. This backend presents PV memory
 *    in pfn space too, so the Linux layer works unchanged: reads go pfn ->
 *    mfn through the guest's p2m, and pages Xen types as page tables are
 *    handed out as copies whose entries are rewritten mfn -> pfn through
 *    the m2p (what Xen's own save code calls "normalising" page tables).
 */
#ifndef XA_XEN_XEN_H
#define XA_XEN_XEN_H

#include <stdbool.h>
#include <stdint.h>

/* Xen's public headers test __STRICT_ANSI__ (set by -std=c11) and then
 * refuse anonymous unions, which C11 has, and drop 8-byte alignment
 * attributes, which would change the ABI of the structs we share with the
 * hypervisor. _GNU_SOURCE already gave us every libc feature, so lifting
 * it here, before the Xen headers, changes nothing else. */
#undef __STRICT_ANSI__
#include <xenctrl.h>
#include <xenforeignmemory.h>

#include "backends/backend.h"

/* Hard caps: what the hypervisor and the guest tell us is bounded too. */
#define XEN_MAX_VCPUS 4096
#define XEN_MAX_RANGES 4096
#define XEN_MAX_PFNS (1ull << 28)          /* 1 TiB of guest frames */
#define XEN_MAP_IDLE_DEFAULT 1024          /* idle mappings kept for reuse */
#define XEN_MAP_MAX_LIVE (1u << 20)        /* mappings alive at once */
#define XEN_MAP_RUN_MAX 64                 /* pages mapped ahead on sequential misses */
#define XEN_TYPE_TTL_NS 20000000ull        /* PV page types trusted this long (running) */

/* One foreign mapping of one frame (gfn or mfn, see above). */
struct xen_map {
    uint64_t frame;
    uint8_t *addr;
    uint32_t refs;
    uint32_t type;             /* PV: XEN_DOMCTL_PFINFO_* page type ... */
    uint64_t type_ns;          /* ... asked for at this time (0: not known) */
    uint32_t hnext;            /* hash chain by frame */
    uint32_t anext;            /* hash chain by address */
    uint32_t prev, next;       /* idle list (refs == 0), head = most recent */
};

struct xen_map_cache {
    struct xen_map *m;
    uint32_t cap, used;        /* slots allocated / ever handed out */
    uint32_t free_list;        /* through hnext */
    uint32_t *buckets, *abuckets; /* by frame, by address */
    uint32_t nbuckets;         /* power of two */
    uint32_t idle_head, idle_tail, idle_count, idle_max;
    uint64_t hits, misses;
};

struct xen_backend {
    struct xa_backend base;
    xc_interface *xch;
    xenforeignmemory_handle *fmem;
    uint32_t domid;
    char name[128];            /* domain name for messages */
    bool translated;           /* HVM or PVH: frames are gfns */
    bool found_paused;         /* our pause found it paused: resume leaves it */
    unsigned guest_width;      /* bytes, PV only */
    bool can_split;            /* our foreign maps may be unmapped page by page */
    bool paused;               /* paused (by us or found so): page types are stable */
    uint64_t last_miss_pfn;    /* sequential misses turn on read-ahead */

    struct xen_map_cache maps;

    /* PV only. */
    uint64_t *p2m;             /* pfn -> mfn, read from the guest */
    uint64_t p2m_size;
    const xen_pfn_t *m2p;      /* Xen's read-only machine-to-phys table */
    uint64_t m2p_entries;
    size_t m2p_bytes;
};

#define XEN_NIL UINT32_MAX

static inline struct xen_backend *xb_of(struct xa_backend *be)
{
    return (struct xen_backend *)be;
}

/* maps.c */
int xen_maps_init(struct xen_backend *xb, uint32_t idle_max);
void xen_maps_destroy(struct xen_backend *xb);
/* Map @frame read-only (or take a reference on the cached mapping). */
int xen_map_get(struct xen_backend *xb, uint64_t frame, uint8_t **addr);
/* As xen_map_get() for frames[0]; also maps (idle, cached) the uncached
 * frames[1..n) in the same call. UINT64_MAX entries are skipped. */
int xen_map_get_run(struct xen_backend *xb, const uint64_t *frames, unsigned n, uint8_t **addr);
/* Drop the reference on the mapping at @addr; false when @addr is not one. */
bool xen_map_put(struct xen_backend *xb, const void *addr);
/* PV page types cached with a mapping: while the domain is paused, or for
 * XEN_TYPE_TTL_NS while it runs. */
bool xen_map_type(struct xen_backend *xb, const void *addr, uint32_t *type);
void xen_map_set_type(struct xen_backend *xb, const void *addr, uint32_t type);
void xen_maps_forget_types(struct xen_backend *xb);
/* Unmap every idle mapping (the guest may have moved frames). */
void xen_maps_drop_idle(struct xen_backend *xb);
/* An error for a failed map of @frame: XA_EGONE if the domain died. */
int xen_map_error(struct xen_backend *xb, uint64_t frame, int err);

/* domain.c */
/* A domain id as xenstore writes it ("0".."32751"); false for anything else. */
bool xen_parse_domid(const char *s, uint32_t *out);
/* Resolve @spec (domain name or id) to a domid. */
int xen_find_domain(struct xen_backend *xb, const char *spec);
/* Guest RAM of a translated domain: populated gfn runs. */
int xen_hvm_ranges(struct xen_backend *xb);
/* Fill base.ranges from a per-frame "is RAM" predicate over [0, nr). */
int xen_ranges_from(struct xen_backend *xb, uint64_t nr,
                    bool (*is_ram)(struct xen_backend *, uint64_t, void *), void *ctx);
/* True while the domain exists and is not dying. */
bool xen_domain_alive(struct xen_backend *xb);

/* pv.c */
int xen_pv_open(struct xen_backend *xb, const xc_dominfo_t *info);
/* How the p2m readers reach machine memory: copy @n 8-byte words at word
 * @off of frame @mfn (a foreign map in the backend, canned frames in tests). */
struct xen_machine {
    int (*read)(void *ctx, uint64_t mfn, unsigned off, uint64_t *out, unsigned n);
    void *ctx;
};
/* The guest's p2m (@pages pages of 512 entries into @p2m), from the linear
 * p2m at @vaddr in the 4-level tables rooted at mfn @root, or from the
 * three-level frame list at mfn @fll. Guest data: every entry is checked. */
int xen_p2m_from_vaddr(struct xen_backend *xb, const struct xen_machine *m, uint64_t root,
                       uint64_t vaddr, uint64_t *p2m, uint64_t pages);
int xen_p2m_from_frame_lists(struct xen_backend *xb, const struct xen_machine *m, uint64_t fll,
                             uint64_t *p2m, uint64_t pages);
void xen_pv_close(struct xen_backend *xb);
/* Re-read the guest's p2m (after a pause: ballooning may have moved frames). */
int xen_pv_refresh(struct xen_backend *xb);
/* pfn -> mfn; XA_ERANGE when the guest has no frame there. */
int xen_pv_mfn(struct xen_backend *xb, uint64_t pfn, uint64_t *mfn);
/* mfn -> pfn, checked both ways; false for frames not the guest's. */
bool xen_pv_pfn(const struct xen_backend *xb, uint64_t mfn, uint64_t *pfn);
/* If @mfn is a page table, *copy = malloc'd page with entries in pfn space. */
int xen_pv_page(struct xen_backend *xb, uint64_t mfn, const uint8_t *page, uint8_t **copy);

/*
 * Exported by libxenctrl 4.17 (symbol version VERS_4.17.0) but declared only
 * in its private header: the page type (XEN_DOMCTL_PFINFO_*) of each frame
 * in @arr (mfns for PV, gfns for translated domains), written over @arr.
 */
int xc_get_pfn_type_batch(xc_interface *xch, uint32_t dom, unsigned int num, xen_pfn_t *arr);

#endif /* XA_XEN_XEN_H */
