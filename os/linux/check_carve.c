/*
 * check_carve.c -- a carve of module memory for `struct module`: every
 * present page of the x86-64 module area (MODULES_VADDR..MODULES_END),
 * found by walking the kernel's page tables, is scanned at the structure's
 * alignment for a module that validates by its own fields. A module that
 * unlinked itself from the list, /sys/module and even the address tree
 * still has its struct module in its own memory, which stays mapped while
 * its code runs.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86.h"
#include "os/linux/check.h"
#include "os/linux/check32_views.h"

/* MODULES_VADDR is __START_KERNEL_map + KERNEL_IMAGE_SIZE: 512 MiB above it
 * without KASLR, 1 GiB with it (then the kernel image may sit in between,
 * so the carve starts above the image's end). MODULES_END is fixed. */
#define MODULES_VADDR_MIN 0xffffffffa0000000ULL
#define MODULES_END 0xffffffffff000000ULL
#define PMD_SIZE (1ULL << 21)
#define PAGE_SIZE 4096u
/* struct module is ____cacheline_aligned: 64 bytes on x86-64. */
#define MODULE_ALIGN 64u
#define MODULE_NAME_LEN 56u
#define MODULE_STATE_UNFORMED 3u
/* Bounds: the whole area is 1 GiB at most; a module's layout is far less. */
#define MAX_CARVE_PAGES ((MODULES_END - MODULES_VADDR_MIN) / PAGE_SIZE)
#define MAX_LAYOUT_SIZE (256ULL << 20)
#define LIST_POISON1 0xdead000000000100ULL
#define LIST_POISON2 0xdead000000000122ULL

struct carve_offs {
    uint64_t state, list, name, mkobj_mod, base, size, stride, count;
};

static bool in_area(uint64_t start, uint64_t va)
{
    return va >= start && va < MODULES_END;
}

/* A list pointer of a module on the list, off it (list_del poisons) or
 * re-initialised to point at itself. */
static bool plausible_link(uint64_t v)
{
    return lx_kernel_ptr(v) || v == LIST_POISON1 || v == LIST_POISON2;
}

static bool plausible_name(const char *name)
{
    const char *nul = memchr(name, '\0', MODULE_NAME_LEN);
    if (!nul || nul == name)
        return false;
    for (const char *p = name; p < nul; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

/* The fields the first test needs, from the page in hand when they are in
 * it (the common case), else from the guest. */
static int read_head(struct check_ctx *c, const uint8_t *page, uint64_t page_va, uint64_t cand,
                     uint64_t off, void *out, size_t len)
{
    uint64_t at = cand + off - page_va;
    if (at + len <= PAGE_SIZE) {
        memcpy(out, page + at, len);
        return 0;
    }
    return lx_read(c->xa, cand + off, out, len);
}

/* Is there a struct module at @cand? Its state is a live one, its name a
 * module name, its list links kernel pointers or poison, its kobject names
 * it, and one of its memory layouts lies in the module area and holds it. */
static bool is_module(struct check_ctx *c, const struct carve_offs *o, uint64_t start,
                      const uint8_t *page, uint64_t page_va, uint64_t cand)
{
    uint32_t state;
    uint64_t links[2], self;
    char name[MODULE_NAME_LEN];
    if (read_head(c, page, page_va, cand, o->state, &state, 4) < 0 ||
        state >= MODULE_STATE_UNFORMED ||
        read_head(c, page, page_va, cand, o->list, links, 16) < 0 ||
        !plausible_link(links[0]) || !plausible_link(links[1]) ||
        read_head(c, page, page_va, cand, o->name, name, sizeof(name)) < 0 ||
        !plausible_name(name))
        return false;
    if (lx_u64(c->xa, cand + o->mkobj_mod, &self) < 0 || self != cand)
        return false;
    for (uint64_t i = 0; i < o->count; i++) {
        uint64_t base;
        uint32_t size;
        if (lx_u64(c->xa, cand + o->base + i * o->stride, &base) < 0 ||
            lx_u32(c->xa, cand + o->size + i * o->stride, &size) < 0)
            return false;
        if (base && in_area(start, base) && size && size <= MAX_LAYOUT_SIZE &&
            base + size <= MODULES_END && cand >= base && cand + MODULE_ALIGN <= base + size)
            return true;
    }
    return false;
}

static int read_pa_cb(void *ctx, uint64_t pa, void *buf, size_t len)
{
    return xa__read_pa(ctx, pa, buf, len);
}

int check_carve_foreach(struct check_ctx *c, check_module_fn fn, void *arg)
{
    struct xa_instance *xa = c->xa;
    if (lx_is32(linux_os(xa)))
        return check32_carve_foreach(c, fn, arg); /* modscan32.c's pages */
    const struct linux_priv *p = linux_priv(xa);
    const struct linux_offsets *lo = &p->lx.off;
    struct carve_offs o = {
        .state = lo->module_state, .list = lo->module_list, .name = lo->module_name,
        .base = lo->module_core_base, .size = lo->module_core_size,
        .stride = p->more.module_mem_stride, .count = p->more.module_mem_count,
    };
    uint64_t mkobj = check_off(c, "module", "mkobj");
    uint64_t mk_mod = check_off(c, "module_kobject", "mod");
    struct x86_paging pg = xa__kernel_paging(xa);
    uint64_t dtb = xa_kernel_dtb(xa);
    if (xa__memory_is_virtual(xa) || (pg.mode != XA_PM_IA32E && pg.mode != XA_PM_LA57) ||
        !dtb)
        return xa__set_error(xa, XA_ENOTSUP,
                             "module carve: needs x86-64 page tables (not a triage dump)");
    if (mkobj == LX_NO_OFFSET || mk_mod == LX_NO_OFFSET || o.state == LX_NO_OFFSET ||
        o.list == LX_NO_OFFSET || o.name == LX_NO_OFFSET || o.base == LX_NO_OFFSET ||
        o.size == LX_NO_OFFSET || o.count == 0)
        return xa__set_error(xa, XA_ENOTSUP, "module carve: no BTF for struct module");
    o.mkobj_mod = mkobj + mk_mod;
    /* above the kernel image, which KASLR may place inside the 1 GiB below
     * a randomized MODULES_VADDR */
    uint64_t start = MODULES_VADDR_MIN, end = check_sym(c, "_end");
    if (end > start && end < MODULES_END)
        start = (end + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
    uint64_t pages = 0;
    uint8_t page[PAGE_SIZE];
    for (uint64_t va = start; va < MODULES_END;) {
        struct x86_walk w;
        int rc = x86_translate(&pg, dtb, va, read_pa_cb, xa, &w);
        if (rc == XA_EFAULT) {
            /* nothing mapped under the entry that failed: skip all of it */
            uint64_t span = PAGE_SIZE;
            if (w.fault_level >= 2)
                span = 1ULL << (12 + 9 * (w.fault_level - 1));
            uint64_t next = (va & ~(span - 1)) + span;
            if (next <= va) /* wrapped past the top of the address space */
                break;
            va = next;
            continue;
        }
        if (rc < 0)
            return xa__set_error(xa, rc, "module carve: page tables at 0x%llx unreadable",
                                 (unsigned long long)va);
        if (++pages > MAX_CARVE_PAGES)
            return xa__set_error(xa, XA_ELIMIT, "module carve: more than %llu pages",
                                 (unsigned long long)MAX_CARVE_PAGES);
        if (xa__read_pa(xa, w.pa & ~(uint64_t)(PAGE_SIZE - 1), page, sizeof(page)) < 0)
            return xa__set_error(xa, XA_EFAULT,
                                 "module carve: page 0x%llx maps 0x%llx, outside guest RAM",
                                 (unsigned long long)va, (unsigned long long)w.pa);
        for (uint64_t at = 0; at < PAGE_SIZE; at += MODULE_ALIGN) {
            if (!is_module(c, &o, start, page, va, va + at))
                continue;
            rc = fn(c, va + at, arg);
            if (rc)
                return rc;
        }
        va += PAGE_SIZE;
    }
    return 0;
}
