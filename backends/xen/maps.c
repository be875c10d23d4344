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

#include "backends/xen/xen.h"
#include "core/internal.h"

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

int xen_map_get(struct xen_backend *xb, uint64_t frame, uint8_t **addr)
{
    struct xen_map_cache *c = &xb->maps;
    uint32_t i = lookup(c, frame);
    if (i != XEN_NIL) {
        c->hits++;
        if (c->m[i].refs++ == 0)
            idle_unlink(c, i);
        *addr = c->m[i].addr;
        return 0;
    }
    c->misses++;
    xen_pfn_t arr = (xen_pfn_t)frame;
    int err = 0;
    void *p = xenforeignmemory_map(xb->fmem, xb->domid, PROT_READ, 1, &arr, &err);
    if (!p || err) {
        int e = err ? (err < 0 ? -err : err) : errno;
        if (p)
            xenforeignmemory_unmap(xb->fmem, p, 1);
        return xen_map_error(xb, frame, e);
    }
    int rc = new_slot(xb, &i);
    if (rc < 0) {
        xenforeignmemory_unmap(xb->fmem, p, 1);
        return rc;
    }
    struct xen_map *m = &c->m[i];
    m->frame = frame;
    m->addr = p;
    m->refs = 1;
    m->prev = m->next = XEN_NIL;
    uint32_t b = hash_frame(c, frame);
    m->hnext = c->buckets[b];
    c->buckets[b] = i;
    b = hash_addr(c, p);
    m->anext = c->abuckets[b];
    c->abuckets[b] = i;
    *addr = p;
    return 0;
}

bool xen_map_put(struct xen_backend *xb, const void *addr)
{
    struct xen_map_cache *c = &xb->maps;
    if (!c->abuckets)
        return false;
    uint32_t i = c->abuckets[hash_addr(c, addr)];
    while (i != XEN_NIL && c->m[i].addr != addr)
        i = c->m[i].anext;
    if (i == XEN_NIL)
        return false;
    if (c->m[i].refs == 0 || --c->m[i].refs > 0)
        return true;
    idle_push(c, i);
    while (c->idle_count > c->idle_max)
        evict(xb, c->idle_tail);
    return true;
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
