/*
 * check_xarray.c -- a bounded walk of an xarray (the tree under every IDR:
 * PIDs, eBPF programs). Node shifts must fall by 6 per level, a node met
 * twice (a tree is no graph) ends the walk, and the total of entries and
 * nodes is capped.
 */
#include <stdlib.h>

#include "os/linux/check.h"

#define XA_CHUNK_SHIFT 6
#define XA_CHUNK_SIZE (1u << XA_CHUNK_SHIFT)
#define XA_MAX_SHIFT 60 /* an index has 64 bits */
/* Nodes visited at most: 2^16 nodes hold 4M entries, PID_MAX_LIMIT. */
#define XA_MAX_NODES 65536u

/* xa_is_internal(): bits 1:0 are 10; a node is an internal entry > 4096. */
static bool is_node(uint64_t e)
{
    return (e & 3) == 2 && e > 4096;
}

static bool is_plain(uint64_t e)
{
    return e && (e & 3) == 0; /* a pointer: not a value, not internal */
}

struct xa_walk {
    struct check_ctx *c;
    const char *what;
    check_xa_fn fn;
    void *arg;
    uint64_t entries, max, nodes;
    uint64_t off_shift, off_slots;
    struct lx_ptrset seen; /* nodes visited */
};

static int walk_node(struct xa_walk *w, uint64_t node, unsigned shift, uint64_t base, int depth)
{
    struct xa_instance *xa = w->c->xa;
    if (++w->nodes > XA_MAX_NODES)
        return xa__set_error(xa, XA_ELIMIT, "%s: more than %u tree nodes", w->what, XA_MAX_NODES);
    int added = lx_ptrset_add(&w->seen, node);
    if (added <= 0)
        return added < 0 ? xa__set_error(xa, XA_ENOMEM, "out of memory")
                         : xa__set_error(xa, XA_EBADDATA, "%s: node 0x%llx reached twice",
                                         w->what, (unsigned long long)node);
    uint8_t got_shift;
    if (lx_read(xa, node + w->off_shift, &got_shift, 1) < 0)
        return xa__set_error(xa, XA_EFAULT, "%s: node 0x%llx unreadable", w->what,
                             (unsigned long long)node);
    if (got_shift != shift)
        return xa__set_error(xa, XA_EBADDATA, "%s: node 0x%llx has shift %u, expected %u",
                             w->what, (unsigned long long)node, got_shift, shift);
    uint64_t slots[XA_CHUNK_SIZE];
    uint32_t slots32[XA_CHUNK_SIZE];
    bool narrow = lx_ptr_size(xa) == 4; /* a 32-bit kernel's slots */
    if (lx_read(xa, node + w->off_slots, narrow ? (void *)slots32 : (void *)slots,
                narrow ? sizeof(slots32) : sizeof(slots)) < 0)
        return xa__set_error(xa, XA_EFAULT, "%s: slots of node 0x%llx unreadable", w->what,
                             (unsigned long long)node);
    for (unsigned i = 0; i < XA_CHUNK_SIZE; i++) {
        uint64_t e = narrow ? slots32[i] : slots[i], index = base + ((uint64_t)i << shift);
        if (is_node(e)) {
            if (shift == 0 || depth > XA_MAX_SHIFT / XA_CHUNK_SHIFT)
                return xa__set_error(xa, XA_EBADDATA, "%s: node below the last level at 0x%llx",
                                     w->what, (unsigned long long)node);
            int rc = walk_node(w, e - 2, shift - XA_CHUNK_SHIFT, index, depth + 1);
            if (rc)
                return rc;
        } else if (is_plain(e)) {
            if (shift != 0)
                continue; /* a multi-index entry's sibling slots hold internal entries */
            if (++w->entries > w->max)
                return xa__set_error(xa, XA_ELIMIT, "%s: more than %llu entries", w->what,
                                     (unsigned long long)w->max);
            int rc = w->fn(w->c, index, e, w->arg);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int check_xarray_walk(struct check_ctx *c, uint64_t head_addr, uint64_t max, const char *what,
                      check_xa_fn fn, void *arg)
{
    struct xa_walk w = {.c = c, .what = what, .fn = fn, .arg = arg, .max = max};
    w.off_shift = check_off(c, "xa_node", "shift");
    w.off_slots = check_off(c, "xa_node", "slots");
    if (lx_is32(linux_os(c->xa)) && !linux_os(c->xa)->btf) {
        /* 4.20+ struct xa_node with 4-byte pointers: shift, offset, count,
         * nr_values; parent; array; a list_head; slots. Every node's shift
         * is checked, and the caller checks every entry it is given. */
        w.off_shift = 0;
        w.off_slots = 20;
    }
    if (w.off_shift == LX_NO_OFFSET || w.off_slots == LX_NO_OFFSET)
        return xa__set_error(c->xa, XA_ENOTSUP, "%s: the kernel's BTF has no struct xa_node",
                             what);
    uint64_t head;
    if (lx_ptr(c->xa, head_addr, &head) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "%s: root unreadable", what);
    if (is_plain(head))
        return fn(c, 0, head, arg); /* a lone entry at index 0 */
    if (!is_node(head))
        return 0; /* empty */
    uint8_t shift;
    if (lx_read(c->xa, head - 2 + w.off_shift, &shift, 1) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "%s: top node unreadable", what);
    if (shift > XA_MAX_SHIFT || shift % XA_CHUNK_SHIFT)
        return xa__set_error(c->xa, XA_EBADDATA, "%s: top node has shift %u", what, shift);
    int rc = walk_node(&w, head - 2, shift, 0, 0);
    lx_ptrset_free(&w.seen);
    return rc;
}
