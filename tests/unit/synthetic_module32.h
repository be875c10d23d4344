/*
 * synthetic_module32.h -- a 32-bit kernel's module list in a flat buffer,
 * for the module inference (os/linux/module32.c): the `modules` head in the
 * "image", module_use records in the "heap", and each module's core region
 * (16 KiB, page-aligned) in the "module area" with its struct module inside.
 * The struct module layout is a parameter, so a test can check the
 * inference finds whatever layout the kernel has.
 * Shared by tests/unit/test_module32.c and tests/fuzz/fuzz_module32.c.
 */
#ifndef XA_TEST_SYNTHETIC_MODULE32_H
#define XA_TEST_SYNTHETIC_MODULE32_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "os/linux/module32.h"
#include "xa_errors.h"

#define SM_PAGE_OFFSET 0xC0000000u
#define SM_BASE 0xC1000000u
#define SM_SIZE (2u << 20)
#define SM_IMAGE SM_BASE                 /* kernel data: [SM_IMAGE, SM_HEAP) */
#define SM_HEAD (SM_IMAGE + 0x1040u)     /* the `modules` list_head */
#define SM_HEAP (SM_BASE + 0x10000u)     /* module_use records, 16 bytes... each 32 */
#define SM_AREA (SM_BASE + 0x100000u)    /* module i's core region at SM_AREA + i * SM_REGION */
#define SM_REGION 0x4000u
#define SM_MAX_MODULES 60u
#define SM_USERS 3u                      /* modules 1..3 use module 0 */

struct sm_layout {
    uint32_t core, refcnt; /* offsets of core_layout and refcnt in struct module */
};

/* Like Debian 6.1 686 (core_layout cacheline-aligned), and another kernel's. */
static const struct sm_layout sm_debian61 = {0x100, 0x210};
static const struct sm_layout sm_other = {0x0c0, 0x2a4};

struct sm_guest {
    uint8_t mem[SM_SIZE];
    struct sm_layout l;
    uint32_t n;
};

static inline uint32_t sm_region(uint32_t i)
{
    return SM_AREA + i * SM_REGION;
}

/* struct module i: in its region's data, at a cacheline-aligned place. */
static inline uint32_t sm_module(uint32_t i)
{
    return sm_region(i) + 0x2000u + (i % 4) * 64u;
}

static inline void sm_put(struct sm_guest *g, uint32_t va, uint32_t v)
{
    memcpy(g->mem + (va - SM_BASE), &v, 4);
}

static inline uint32_t sm_get(const struct sm_guest *g, uint32_t va)
{
    uint32_t v;
    memcpy(&v, g->mem + (va - SM_BASE), 4);
    return v;
}

/* Link list_head @node after @prev_node (both already initialised). */
static inline void sm_list_add_tail(struct sm_guest *g, uint32_t head, uint32_t node)
{
    uint32_t last = sm_get(g, head + 4);
    sm_put(g, node, head);
    sm_put(g, node + 4, last);
    sm_put(g, last, node);
    sm_put(g, head + 4, node);
}

static inline void sm_list_init(struct sm_guest *g, uint32_t head)
{
    sm_put(g, head, head);
    sm_put(g, head + 4, head);
}

static inline void sm_build(struct sm_guest *g, const struct sm_layout *l, uint32_t n)
{
    memset(g->mem, 0, sizeof(g->mem));
    g->l = *l;
    g->n = n;
    sm_list_init(g, SM_HEAD);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t mod = sm_module(i), base = sm_region(i);
        sm_put(g, mod, 0); /* MODULE_STATE_LIVE */
        sm_list_add_tail(g, SM_HEAD, mod + M32_LIST);
        char name[24];
        snprintf(name, sizeof(name), "mod_%u", i);
        memcpy(g->mem + (mod + M32_NAME - SM_BASE), name, strlen(name));
        /* core_layout: base, size, text_size, ro_size, ro_after_init_size, mtn.mod;
         * init_layout after it, freed (NULL, 0) as in a live module */
        sm_put(g, mod + l->core, base);
        sm_put(g, mod + l->core + 4, SM_REGION);
        sm_put(g, mod + l->core + 8, 0x1000);
        sm_put(g, mod + l->core + 12, 0x2000);
        sm_put(g, mod + l->core + 16, 0x2000);
        sm_put(g, mod + l->core + 20, mod);
        sm_put(g, mod + l->core + 64 + 20, mod);
        sm_list_init(g, mod + l->refcnt - 20); /* source_list */
        sm_list_init(g, mod + l->refcnt - 12); /* target_list */
        sm_put(g, mod + l->refcnt - 4, i % 3 ? base + 0x180 : 0); /* exit */
        sm_put(g, mod + l->refcnt, 1);                              /* MODULE_REF_BASE */
        sm_put(g, base + 0x10, 0x12345678); /* some text */
    }
    /* modules 1..SM_USERS use module 0: a module_use on 0's source_list and
     * on the user's target_list, and a reference on 0 */
    for (uint32_t u = 1; u <= SM_USERS && u < n; u++) {
        uint32_t use = SM_HEAP + u * 32;
        sm_list_add_tail(g, sm_module(0) + l->refcnt - 20, use);
        sm_list_add_tail(g, sm_module(u) + l->refcnt - 12, use + 8);
        sm_put(g, use + 16, sm_module(u));
        sm_put(g, use + 20, sm_module(0));
        sm_put(g, sm_module(0) + l->refcnt, sm_get(g, sm_module(0) + l->refcnt) + 1);
    }
}

static inline int sm_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    const struct sm_guest *g = ctx;
    if (va < SM_BASE || va + len > (uint64_t)SM_BASE + SM_SIZE)
        return XA_EFAULT;
    memcpy(buf, g->mem + (va - SM_BASE), len);
    return 0;
}

static inline struct m32_mem sm_mem(struct sm_guest *g)
{
    return (struct m32_mem){.read = sm_read, .ctx = g, .page_offset = SM_PAGE_OFFSET,
                            .head_lo = SM_IMAGE, .head_hi = SM_HEAP};
}

/* The headers in the module area, as the page scan finds them. */
static inline size_t sm_scan(struct sm_guest *g, uint64_t *mods, size_t max)
{
    struct m32_mem m = sm_mem(g);
    size_t n = 0;
    for (uint32_t va = SM_AREA; va < SM_BASE + SM_SIZE; va += M32_PAGE) {
        uint32_t offs[M32_PAGE / M32_ALIGN];
        size_t k;
        m32_scan_page(&m, g->mem + (va - SM_BASE), offs, M32_PAGE / M32_ALIGN, &k);
        for (size_t j = 0; j < k && n < max; j++)
            mods[n++] = va + offs[j];
    }
    return n;
}

#endif /* XA_TEST_SYNTHETIC_MODULE32_H */
