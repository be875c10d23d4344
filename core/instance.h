/*
 * instance.h -- the core's own view of an instance: the backend behind it,
 * the caches, pages handed out, the OS layer.  Only core/ (and tests of the
 * core) include it; OS layers see core/internal.h.  Not installed.
 */
#ifndef XA_CORE_INSTANCE_H
#define XA_CORE_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_walk8.h"
#include "backends/backend.h"
#include "core/internal.h"
#include "core/lru.h"
#include "xenaccess.h"

struct xa_os_ops;

/* Backend operations, as named by the wrappers in core/backend.c. */
enum xa_be_op {
    XA_BE_OP_READ,
    XA_BE_OP_WRITE,
    XA_BE_OP_MAP,
    XA_BE_OP_REGS,
    XA_BE_OP_PAUSE,
    XA_BE_OP_RESUME,
    XA_BE_OP_DTABLES,
    XA_BE_NR_OPS,
};

/* A fault a test asked for: the countdown-th next call of op fails with code. */
struct xa_be_fault {
    enum xa_be_op op;
    unsigned countdown; /* 0: none pending */
    int code;
};

/* A page handed out by xa_access_*(), until xa_release_page(). */
enum xa_page_origin {
    XA_PAGE_STABLE, /* pointer into a mapping that lives until close */
    XA_PAGE_MAPPED, /* backend map_page: unmap_page on release */
    XA_PAGE_COPY,   /* malloc'd copy: free on release */
};

struct xa_outstanding_page {
    const void *page;
    uint64_t pfn;
    enum xa_page_origin origin;
};

struct xa_instance {
    struct xa_backend *be;
    uint32_t flags;
    char errmsg[XA_ERRMSG_LEN];
    int errcode; /* code of the last failure, with errmsg */
    unsigned err_seq; /* bumped by every xa__set_error(): did a call leave a message? */
    struct xa_be_fault fault;

    /* Memory layout, copied from the backend, sorted. */
    struct xa_mem_range *ranges;
    size_t nr_ranges;
    uint64_t memsize, max_pa;

    /* Kernel paging: from registers, the OS layer, or xa_set_kernel_paging(). */
    struct x86_paging paging;
    uint64_t kernel_dtb;
    /* AArch64 (paging.mode XA_PM_AARCH64): VA size; kernel_dtb is TTBR1's table. */
    struct arm64_paging arm64;

    /* Caches. */
    struct xa_lru v2p;   /* key (dtb, vpn) -> pa of the 4 KiB page */
    struct xa_lru pages; /* key pfn -> mapped page pointer */
    uint64_t v2p_hits, v2p_misses, page_hits, page_misses;
    void *fresh_page; /* last page read afresh from a live target without mappings */
    /* Recent translations, each its whole page (4 KiB, 2 MiB or 1 GiB), one
     * per 2 MiB region slot: reads that stay inside one skip the v2p LRU.
     * Part of the v2p cache: cleared with it (xa__v2p_clear). */
#define XA_XLATE_MEMO 64
    struct xa_xlate_memo {
        uint64_t dtb, va, size, pa; /* va and pa aligned to size; size 0: empty */
    } xlate_memo[XA_XLATE_MEMO];
    /* What walks found, by 2 MiB region, as a CPU's TLB and paging-structure
     * caches keep it: a large page (2 MiB, 1 GiB; a 1 GiB page fills the slot
     * of each 2 MiB region it is walked from) translates any later address in
     * it without a walk; a region of 4 KiB pages keeps its page table's
     * address, so a new page in it reads one entry instead of four or five.
     * Part of the v2p cache: cleared with it. */
#define XA_REGION_XLATE 512
    /* A large page as in xlate_memo; or, with size 0, a region of 4 KiB
     * pages: va its 2 MiB-aligned base, pa its page table (0: none). */
    struct xa_xlate_memo region_xlate[XA_REGION_XLATE];
    uint64_t pte_reserved; /* x86_pte_reserved() of the kernel's paging */
    struct x86_walk8 walk8; /* x86_walk8_setup() of the kernel's paging */
    /* Under XA_CAP_STABLE_MAP a page pointer lives until close, so the pointers
     * of recent pfns are remembered here once checked (RAM range, backend
     * result): direct-mapped by pfn, no recency list. A mapped file that
     * shrinks is still caught, by the one mapguard check of each public call. */
#define XA_PAGE_MEMO 16384
    struct {
        uint64_t pfn_plus1; /* 0: empty */
        const uint8_t *page;
    } page_memo[XA_PAGE_MEMO];
    /* Recent 4 KiB virtual pages straight to where their bytes are in the
     * host (a stable mapping's page), direct-mapped by virtual page number:
     * a read inside one is a compare and a memcpy, with no translation or
     * page look-up before it. Both a translation and a page pointer: cleared
     * with the v2p cache (xa__v2p_clear), with the page pointers
     * (xa__page_cache_drop_all) and when a test injects a backend fault;
     * filled only from a hit of both memos above. A file that shrank is
     * still caught by the mapguard check after each copy. */
#define XA_HOST_MEMO 64
    struct xa_host_memo {
        uint64_t vpage_plus1; /* (va & XA_PAGE_MASK) | 1; 0: empty */
        uint64_t root;        /* the page-table root it was translated through */
        const uint8_t *page;
    } host_memo[XA_HOST_MEMO];
    /* pid -> page-table root, for xa_read_pid_va and kin: cleared with the OS
     * caches (XA_CACHE_OS), so on live targets at the same flush points as the
     * rest (docs/live.md). */
#define XA_PID_MEMO 64
    struct {
        int32_t pid;
        bool valid;
        uint64_t dtb;
    } pid_memo[XA_PID_MEMO];
    /* Kernel symbol name -> address, for xa_sym_lookup and xa_read_ksym:
     * direct-mapped by the caller's string pointer, a hit checked by
     * comparing the name. Cleared with the OS caches. */
#define XA_SYM_MEMO 64
#define XA_SYM_MEMO_NAME 48
    struct {
        const char *key; /* the caller's pointer last time (NULL: empty) */
        char name[XA_SYM_MEMO_NAME];
        uint64_t addr;
    } sym_memo[XA_SYM_MEMO];

    /* Pages out via xa_access_*. */
    struct xa_outstanding_page *outstanding;
    size_t nr_outstanding, cap_outstanding;

    /* OS layer. */
    const struct xa_os_ops *os_ops;
    void *os;       /* state owned by the OS layer */
    int os_err;     /* why there is no OS layer (0 when there is one) */
    uint64_t os_walks, os_flushes; /* xa_os_stats() */
    char os_errmsg[XA_ERRMSG_LEN];

    size_t last_range; /* range index of the last physical hit (fast path) */

    /* Guest-physical address of the backend's address 0 (xa__set_ram_base):
     * a raw image of RAM that the machine places higher (AArch64 virt: 1 GiB). */
    uint64_t ram_base;

    /* The caller's progress callback (struct xa_init_opts), or NULL. */
    void (*progress)(void *ctx, const char *what, uint64_t done, uint64_t total);
    void *progress_ctx;
};

/*
 * The backend, only through these (core/backend.c): they check the contract
 * of backends/backend.h on every call. Failures are negative XA_E* codes
 * with a message on @xa.
 */
int xa__be_open(struct xa_instance *xa, const struct xa_backend_ops *ops, const char *spec,
                uint32_t flags);
void xa__be_close(struct xa_instance *xa);
int xa__be_read_pa(struct xa_instance *xa, uint64_t pa, void *buf, size_t len);
bool xa__be_can_write(const struct xa_instance *xa);
int xa__be_write_pa(struct xa_instance *xa, uint64_t pa, const void *buf, size_t len);
bool xa__be_can_map(const struct xa_instance *xa);
/* 0 with *out set, XA_MAP_COPY (a page only partly RAM: read it), or an error. */
int xa__be_map_page(struct xa_instance *xa, uint64_t pfn, const void **out);
void xa__be_unmap_page(struct xa_instance *xa, uint64_t pfn, const void *page);
int xa__be_vcpu_regs(struct xa_instance *xa, unsigned vcpu, struct xa_regs *out);
int xa__be_vcpu_dtables(struct xa_instance *xa, unsigned vcpu, struct xa_vcpu_dtables *out);
int xa__be_pause(struct xa_instance *xa);
int xa__be_resume(struct xa_instance *xa);
/* For tests: make the @nth next call of @op (1 = the next one) fail with
 * @code before it reaches the backend. */
void xa__be_inject_fault(struct xa_instance *xa, enum xa_be_op op, unsigned nth, int code);

/* Map or copy one page without the cache (for pages handed to callers). */
int xa__page_fetch(struct xa_instance *xa, uint64_t pfn, const void **out,
                   enum xa_page_origin *origin);
void xa__page_cache_drop_all(struct xa_instance *xa);
/* XA_CACHE_PAGES: drop copied pages; a stable mapping's page pointers stay. */
void xa__page_cache_flush(struct xa_instance *xa);
void xa__page_cache_destroy(struct xa_instance *xa);
void xa__release_all_pages(struct xa_instance *xa);
/* The same, remembering the range it hit (reads cluster). */
bool xa__pa_in_ram(struct xa_instance *xa, uint64_t pa, uint64_t len);
/* True when any byte of the page at @pa is RAM. */
bool xa__page_has_ram(const struct xa_instance *xa, uint64_t pa);

/*
 * The hot paths, inline for the core (an OS layer calls xa__page() and
 * xa__translate(), which are these).  xa__page_fast() is the remembered
 * stable pointer when there is one, else xa__page_slow();
 * xa__translate_fast() answers from a remembered translation's page when it
 * can, else xa__translate_slow().
 */
int xa__page_slow(struct xa_instance *xa, uint64_t pfn, const uint8_t **out);
static inline int xa__page_fast(struct xa_instance *xa, uint64_t pfn, const uint8_t **out)
{
    /* Only stable mappings fill the memo; a test's pending fault injection
     * goes to the backend. */
    unsigned slot = (unsigned)(pfn & (XA_PAGE_MEMO - 1));
    if (xa->page_memo[slot].pfn_plus1 == pfn + 1 && xa->fault.countdown == 0) {
        *out = xa->page_memo[slot].page;
        return 0;
    }
    return xa__page_slow(xa, pfn, out);
}

int xa__translate_slow(struct xa_instance *xa, uint64_t dtb, uint64_t va, uint64_t *pa);
static inline int xa__translate_fast(struct xa_instance *xa, uint64_t dtb, uint64_t va,
                                     uint64_t *pa)
{
    uint64_t root = dtb ? dtb : xa->kernel_dtb;
    const struct xa_xlate_memo *m = &xa->xlate_memo[(va >> 21) & (XA_XLATE_MEMO - 1)];
    if (m->dtb == root && va - m->va < m->size) {
        xa->v2p_hits++;
        *pa = m->pa + (va - m->va);
        return 0;
    }
    return xa__translate_slow(xa, dtb, va, pa);
}

/* Empty the v2p cache (and its last-translation memo). */
void xa__v2p_clear(struct xa_instance *xa);
/* Forget every virtual page -> host page remembered (host_memo). */
void xa__host_memo_clear(struct xa_instance *xa);
/* Forget every pid -> page-table root and symbol address remembered. */
void xa__pid_memo_clear(struct xa_instance *xa);

/* The OS layer (core/os_api.c runs the registry's layers in turn). */
int xa__os_init(struct xa_instance *xa, const struct xa_init_opts *opts);
void xa__os_destroy(struct xa_instance *xa);
void xa__os_flush(struct xa_instance *xa);
/* 0 when an OS layer is active and has the call (@have_op), else why not
 * (XA_ENOOS, XA_ENOTSUP) with a message naming @call. */
int xa__os_need(struct xa_instance *xa, bool have_op, const char *call);

#endif /* XA_CORE_INSTANCE_H */
