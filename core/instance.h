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

    /* Caches. */
    struct xa_lru v2p;   /* key (dtb, vpn) -> pa of the 4 KiB page */
    struct xa_lru pages; /* key pfn -> mapped page pointer */
    uint64_t v2p_hits, v2p_misses, page_hits, page_misses;
    void *fresh_page; /* last page read afresh from a live target without mappings */

    /* Pages out via xa_access_*. */
    struct xa_outstanding_page *outstanding;
    size_t nr_outstanding, cap_outstanding;

    /* OS layer. */
    const struct xa_os_ops *os_ops;
    void *os;       /* state owned by the OS layer */
    int os_err;     /* why there is no OS layer (0 when there is one) */
    char os_errmsg[XA_ERRMSG_LEN];

    size_t last_range; /* range index of the last physical hit (fast path) */

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
int xa__be_pause(struct xa_instance *xa);
int xa__be_resume(struct xa_instance *xa);
/* For tests: make the @nth next call of @op (1 = the next one) fail with
 * @code before it reaches the backend. */
void xa__be_inject_fault(struct xa_instance *xa, enum xa_be_op op, unsigned nth, int code);

/* Map or copy one page without the cache (for pages handed to callers). */
int xa__page_fetch(struct xa_instance *xa, uint64_t pfn, const void **out,
                   enum xa_page_origin *origin);
void xa__page_cache_drop_all(struct xa_instance *xa);
void xa__page_cache_destroy(struct xa_instance *xa);
void xa__release_all_pages(struct xa_instance *xa);
/* The same, remembering the range it hit (reads cluster). */
bool xa__pa_in_ram(struct xa_instance *xa, uint64_t pa, uint64_t len);
/* True when any byte of the page at @pa is RAM. */
bool xa__page_has_ram(const struct xa_instance *xa, uint64_t pa);

/* The OS layer (core/os_api.c runs the registry's layers in turn). */
int xa__os_init(struct xa_instance *xa, const struct xa_init_opts *opts);
void xa__os_destroy(struct xa_instance *xa);
void xa__os_flush(struct xa_instance *xa);

#endif /* XA_CORE_INSTANCE_H */
