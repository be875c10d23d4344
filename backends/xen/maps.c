/*
 * maps.c -- a bounded cache of foreign mappings, one frame each.
 *
 * A foreign map costs a privcmd ioctl, a hypercall and later an munmap with
 * a TLB flush, so mappings are kept and reused. A mapping shows the frame's
 * live contents, so reusing one is never stale by itself; what can change
 * is which frame backs a guest page (ballooning), which is why the backend
 * drops idle mappings on pause and resume.
 *
 * Mappings in use (refs > 0: the core holds the page) are never unmapped;
 * idle ones sit in an LRU list capped at idle_max, the least recent is
 * unmapped first. The number alive at once is capped by XEN_MAP_MAX_LIVE.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "backends/xen/xen.h"

static uint32_t hash_frame(const struct xen_map_cache *c, uint64_t frame)
{
    return (uint32_t)((frame * 0x9E3779B97F4A7C15ull) >> 32) & (c->nbuckets - 1);
}

static uint32_t hash_addr(const struct xen_map_cache *c, const void *addr)
{
    return hash_frame(c, (uint64_t)(uintptr_t)addr >> XA_PAGE_SHIFT);
}

int xen_maps_init(struct xen_backend *xb, uint32_t idle_max)
{
    struct xen_map_cache *c = &xb->maps;
    memset(c, 0, sizeof(*c));
    c->idle_max = idle_max;
    c->nbuckets = 4096;
    c->buckets = malloc(c->nbuckets * sizeof(*c->buckets));
    c->abuckets = malloc(c->nbuckets * sizeof(*c->abuckets));
    if (!c->buckets || !c->abuckets)
        return xa__set_error(xb->base.xa, XA_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < c->nbuckets; i++)
        c->buckets[i] = c->abuckets[i] = XEN_NIL;
    c->free_list = c->idle_head = c->idle_tail = XEN_NIL;
    return 0;
}

static void idle_unlink(struct xen_map_cache *c, uint32_t i)
{
    struct xen_map *m = &c->m[i];
    if (m->prev != XEN_NIL)
        c->m[m->prev].next = m->next;
    else
        c->idle_head = m->next;
    if (m->next != XEN_NIL)
        c->m[m->next].prev = m->prev;
    else
        c->idle_tail = m->prev;
    m->prev = m->next = XEN_NIL;
    c->idle_count--;
}

static void idle_push(struct xen_map_cache *c, uint32_t i)
{
    struct xen_map *m = &c->m[i];
    m->prev = XEN_NIL;
    m->next = c->idle_head;
    if (c->idle_head != XEN_NIL)
        c->m[c->idle_head].prev = i;
    c->idle_head = i;
    if (c->idle_tail == XEN_NIL)
        c->idle_tail = i;
    c->idle_count++;
}

static uint32_t lookup(const struct xen_map_cache *c, uint64_t frame)
{
    if (!c->buckets)
        return XEN_NIL;
    for (uint32_t i = c->buckets[hash_frame(c, frame)]; i != XEN_NIL; i = c->m[i].hnext)
        if (c->m[i].frame == frame)
            return i;
    return XEN_NIL;
}

/* Unmap an idle slot and return it to the free list. */
static void evict(struct xen_backend *xb, uint32_t i)
{
    struct xen_map_cache *c = &xb->maps;
    struct xen_map *m = &c->m[i];
    idle_unlink(c, i);
    uint32_t *p = &c->buckets[hash_frame(c, m->frame)];
    while (*p != i)
        p = &c->m[*p].hnext;
    *p = m->hnext;
    p = &c->abuckets[hash_addr(c, m->addr)];
    while (*p != i)
        p = &c->m[*p].anext;
    *p = m->anext;
    xenforeignmemory_unmap(xb->fmem, m->addr, 1);
    m->addr = NULL;
    m->hnext = c->free_list;
    c->free_list = i;
}

static int new_slot(struct xen_backend *xb, uint32_t *out)
{
    struct xen_map_cache *c = &xb->maps;
    if (c->free_list != XEN_NIL) {
        *out = c->free_list;
        c->free_list = c->m[*out].hnext;
        return 0;
    }
    if (c->used == c->cap) {
        if (c->cap >= XEN_MAP_MAX_LIVE)
            return xa__set_error(xb->base.xa, XA_ELIMIT,
                                 "%s: %u foreign mappings in use (limit)", xb->name, c->cap);
        uint32_t ncap = c->cap ? c->cap * 2 : 256;
        struct xen_map *m = realloc(c->m, ncap * sizeof(*m));
        if (!m)
            return xa__set_error(xb->base.xa, XA_ENOMEM, "out of memory");
        c->m = m;
        c->cap = ncap;
    }
    *out = c->used++;
    return 0;
}

int xen_map_error(struct xen_backend *xb, uint64_t frame, int err)
{
    if (!xen_domain_alive(xb))
        return xa__set_error(xb->base.xa, XA_EGONE, "domain %s (id %u) went away", xb->name,
                             xb->domid);
    return xa__set_error(xb->base.xa, XA_ERANGE,
                         "domain %s: cannot map %s 0x%" PRIx64 ": %s", xb->name,
                         xb->translated ? "gfn" : "mfn", frame, strerror(err));
}

static uint32_t find_addr(const struct xen_map_cache *c, const void *addr)
{
    if (!c->abuckets)
        return XEN_NIL;
    uint32_t i = c->abuckets[hash_addr(c, addr)];
    while (i != XEN_NIL && c->m[i].addr != addr)
        i = c->m[i].anext;
    return i;
}

/* Enter one mapped page into the cache (refs as given). */
static int insert(struct xen_backend *xb, uint64_t frame, uint8_t *p, uint32_t refs)
{
    struct xen_map_cache *c = &xb->maps;
    uint32_t i = XEN_NIL;
    int rc = new_slot(xb, &i);
    if (rc < 0)
        return rc;
    struct xen_map *m = &c->m[i];
    m->frame = frame;
    m->addr = p;
    m->refs = refs;
    m->type_ns = 0;
    m->prev = m->next = XEN_NIL;
    uint32_t b = hash_frame(c, frame);
    m->hnext = c->buckets[b];
    c->buckets[b] = i;
    b = hash_addr(c, p);
    m->anext = c->abuckets[b];
    c->abuckets[b] = i;
    if (refs == 0) {
        idle_push(c, i);
        while (c->idle_count > c->idle_max)
            evict(xb, c->idle_tail);
    }
    return 0;
}

int xen_map_get_run(struct xen_backend *xb, const uint64_t *frames, unsigned n, uint8_t **addr)
{
    struct xen_map_cache *c = &xb->maps;
    uint32_t i = lookup(c, frames[0]);
    if (i != XEN_NIL) {
        c->hits++;
        if (c->m[i].refs++ == 0)
            idle_unlink(c, i);
        *addr = c->m[i].addr;
        return 0;
    }
    c->misses++;
    /* The frames to map: the one asked for, then the uncached rest of the
     * run (read ahead). One ioctl and one mmap for all of them; each page
     * is later unmapped on its own (munmap of part of the mapping). */
    xen_pfn_t arr[XEN_MAP_RUN_MAX];
    int err[XEN_MAP_RUN_MAX];
    unsigned k = 0;
    if (n > XEN_MAP_RUN_MAX)
        n = XEN_MAP_RUN_MAX;
    if (!xb->can_split)
        n = 1;
    for (unsigned j = 0; j < n; j++)
        if (j == 0 || (frames[j] != UINT64_MAX && lookup(c, frames[j]) == XEN_NIL))
            arr[k++] = (xen_pfn_t)frames[j];
    memset(err, 0, sizeof(err));
    uint8_t *p = xenforeignmemory_map(xb->fmem, xb->domid, PROT_READ, k, arr, err);
    if (!p || err[0]) {
        int e = p ? (err[0] < 0 ? -err[0] : err[0]) : errno;
        if (p)
            xenforeignmemory_unmap(xb->fmem, p, k);
        return xen_map_error(xb, frames[0], e);
    }
    /* PV: the page types of the run in the same breath (one domctl). */
    xen_pfn_t types[XEN_MAP_RUN_MAX];
    bool typed = false;
    if (!xb->translated && k > 1) {
        memcpy(types, arr, k * sizeof(*arr));
        typed = xc_get_pfn_type_batch(xb->xch, xb->domid, k, types) == 0;
    }
    int rc = insert(xb, arr[0], p, 1);
    for (unsigned j = 0; j < k; j++) {
        uint8_t *pj = p + (size_t)j * XA_PAGE_SIZE;
        if (j > 0 && (rc < 0 || err[j] || insert(xb, arr[j], pj, 0) < 0)) {
            xenforeignmemory_unmap(xb->fmem, pj, 1);
            continue;
        }
        if (typed && rc == 0)
            xen_map_set_type(xb, pj, (uint32_t)types[j] & XEN_DOMCTL_PFINFO_LTABTYPE_MASK);
    }
    if (rc < 0) {
        xenforeignmemory_unmap(xb->fmem, p, 1);
        return rc;
    }
    *addr = p;
    return 0;
}

int xen_map_get(struct xen_backend *xb, uint64_t frame, uint8_t **addr)
{
    return xen_map_get_run(xb, &frame, 1, addr);
}

bool xen_map_put(struct xen_backend *xb, const void *addr)
{
    struct xen_map_cache *c = &xb->maps;
    uint32_t i = find_addr(c, addr);
    if (i == XEN_NIL)
        return false;
    if (c->m[i].refs == 0 || --c->m[i].refs > 0)
        return true;
    idle_push(c, i);
    while (c->idle_count > c->idle_max)
        evict(xb, c->idle_tail);
    return true;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + 1;
}

/*
 * Page types of a running PV guest can change at any moment (a page table
 * freed and reused as data), so any answer is a snapshot; one younger than
 * XEN_TYPE_TTL_NS is used as it is, which lets one hypercall type a whole
 * read-ahead run. While the domain is paused types cannot change.
 */
bool xen_map_type(struct xen_backend *xb, const void *addr, uint32_t *type)
{
    uint32_t i = find_addr(&xb->maps, addr);
    if (i == XEN_NIL || !xb->maps.m[i].type_ns)
        return false;
    if (!xb->paused && now_ns() - xb->maps.m[i].type_ns > XEN_TYPE_TTL_NS)
        return false;
    *type = xb->maps.m[i].type;
    return true;
}

void xen_map_set_type(struct xen_backend *xb, const void *addr, uint32_t type)
{
    uint32_t i = find_addr(&xb->maps, addr);
    if (i != XEN_NIL) {
        xb->maps.m[i].type = type;
        xb->maps.m[i].type_ns = now_ns();
    }
}

void xen_maps_forget_types(struct xen_backend *xb)
{
    for (uint32_t i = 0; i < xb->maps.used; i++)
        xb->maps.m[i].type_ns = 0;
}

void xen_maps_drop_idle(struct xen_backend *xb)
{
    while (xb->maps.idle_tail != XEN_NIL)
        evict(xb, xb->maps.idle_tail);
}

void xen_maps_destroy(struct xen_backend *xb)
{
    struct xen_map_cache *c = &xb->maps;
    for (uint32_t i = 0; i < c->used; i++)
        if (c->m[i].addr)
            xenforeignmemory_unmap(xb->fmem, c->m[i].addr, 1);
    free(c->m);
    free(c->buckets);
    free(c->abuckets);
    memset(c, 0, sizeof(*c));
}
