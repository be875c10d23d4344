/*
 * maple.c -- walk a maple tree's leaves (include/linux/maple_tree.h,
 * lib/maple_tree.c) for any pointer width.
 *
 * A node pointer ("enode") carries the node type in bits 3..6; the node is
 * at enode & ~0xff (256-byte nodes). Leaves (maple_leaf_64) and internal
 * range nodes (maple_range_64) share one layout: parent, pivot[n-1],
 * slot[n], the metadata in the last slot; maple_arange_64 adds gaps:
 * parent, pivot[m-1], slot[m], gap[m], meta. n and m are 16 and 10 with
 * 8-byte longs, 32 and 21 with 4-byte ones. Slot i covers
 * [pivot[i-1] + 1, pivot[i]] (the first starts at the node's min, the last
 * ends at its max).
 *
 * The walk is depth first in index order with an explicit stack: every
 * node is visited at most once (a visited set catches nodes that point at
 * each other or at themselves), the depth and node count are capped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/maple.h"
#include "os/linux/ptrset.h"
#include "xa_errors.h"

#define NODE_MASK 0xffULL

enum maple_type { maple_dense, maple_leaf_64, maple_range_64, maple_arange_64 };

struct pending {
    uint64_t enode, min, max;
    unsigned depth;
};

struct walk {
    const struct maple_geom *g;
    lx_mem_fn read;
    void *ctx;
    char *why;
    struct maple_entry *out;
    size_t n, cap;
    struct lx_ptrset seen;
    struct pending stack[MAPLE_HEIGHT_MAX * MAPLE_MAX_SLOTS + 1];
    size_t sp;
};

struct maple_geom maple_geom_32(uint64_t page_offset)
{
    /* range_64: parent, pivot[31], slot[32] (meta in slot 31);
     * arange_64: parent, pivot[20], slot[21], gap[21], meta. */
    return (struct maple_geom){
        .ptr_size = 4,
        .kmin = page_offset,
        .kmax = 0xFFFFFFFFull,
        .index_max = 0xFFFFFFFFull,
        .range = {.pivot = 4, .slot = 128, .meta = 128 + 31 * 4, .npivots = 31},
        .arange = {.pivot = 4, .slot = 84, .meta = 252, .npivots = 20},
        .meta_end = 0,
    };
}

static int kind_check(const struct maple_geom *g, const struct maple_kind *k, const char *name,
                      char *why)
{
    uint64_t ps = g->ptr_size;
    if (k->npivots == 0 || k->npivots >= MAPLE_MAX_SLOTS ||
        k->pivot + k->npivots * ps > MAPLE_NODE_SIZE ||
        k->slot + (k->npivots + 1) * ps > MAPLE_NODE_SIZE ||
        (uint64_t)k->meta + g->meta_end >= MAPLE_NODE_SIZE) {
        snprintf(why, LX_WHY_LEN, "maple %s node layout does not fit 256 bytes", name);
        return XA_EBADDATA;
    }
    return 0;
}

int maple_geom_check(const struct maple_geom *g, char *why)
{
    if (g->ptr_size != 4 && g->ptr_size != 8) {
        snprintf(why, LX_WHY_LEN, "maple tree: pointer size %u", g->ptr_size);
        return XA_EINVAL;
    }
    int rc = kind_check(g, &g->range, "range", why);
    return rc < 0 ? rc : kind_check(g, &g->arange, "arange", why);
}

static uint64_t word(const struct maple_geom *g, const uint8_t *node, uint64_t off)
{
    if (g->ptr_size == 4) {
        uint32_t v;
        memcpy(&v, node + off, 4);
        return v;
    }
    uint64_t v;
    memcpy(&v, node + off, 8);
    return v;
}

static bool kernel_ptr(const struct maple_geom *g, uint64_t v)
{
    return v >= g->kmin && v <= g->kmax;
}

static int add_entry(struct walk *w, uint64_t ptr, uint64_t first, uint64_t last)
{
    if (w->n >= MAPLE_MAX_ENTRIES) {
        snprintf(w->why, LX_WHY_LEN, "more than %u entries in the maple tree", MAPLE_MAX_ENTRIES);
        return XA_ELIMIT;
    }
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 64;
        struct maple_entry *ne = realloc(w->out, ncap * sizeof(*ne));
        if (!ne) {
            snprintf(w->why, LX_WHY_LEN, "out of memory");
            return XA_ENOMEM;
        }
        w->out = ne;
        w->cap = ncap;
    }
    w->out[w->n++] = (struct maple_entry){ptr, first, last};
    return 0;
}

#define FAIL(code, ...) (snprintf(w->why, LX_WHY_LEN, __VA_ARGS__), (code))

/* Visit one node: record a leaf's entries, or push an internal node's
 * children (last first, so they pop in index order). */
static int visit(struct walk *w, const struct pending *pn)
{
    const struct maple_geom *g = w->g;
    uint64_t addr = pn->enode & ~NODE_MASK;
    unsigned type = (unsigned)(pn->enode >> 3) & 0xf;
    unsigned long long a = addr;
    if (!kernel_ptr(g, addr))
        return FAIL(XA_EFAULT, "maple tree broken: bad node pointer 0x%llx",
                    (unsigned long long)pn->enode);
    if (type != maple_leaf_64 && type != maple_range_64 && type != maple_arange_64)
        return FAIL(XA_EBADDATA, "maple node 0x%llx has unexpected type %u", a, type);
    if (pn->depth > MAPLE_HEIGHT_MAX)
        return FAIL(XA_ELIMIT, "maple tree deeper than %u levels", MAPLE_HEIGHT_MAX);
    int added = lx_ptrset_add(&w->seen, addr);
    if (added < 0)
        return FAIL(XA_ENOMEM, "out of memory");
    if (added == 0)
        return FAIL(XA_ELIMIT, "maple tree loops: node 0x%llx reached twice", a);
    uint32_t max_nodes = g->max_nodes ? g->max_nodes : MAPLE_MAX_NODES;
    if (w->seen.n > max_nodes)
        return FAIL(XA_ELIMIT, "maple tree has more than %u nodes", max_nodes);

    uint8_t node[MAPLE_NODE_SIZE];
    if (w->read(w->ctx, addr, node, sizeof(node)) < 0)
        return FAIL(XA_EFAULT, "maple tree broken at node 0x%llx: unreadable", a);
    if ((word(g, node, 0) & ~NODE_MASK) == addr)
        return FAIL(XA_EBADDATA, "maple node 0x%llx is dead (freed)", a);

    bool arange = type == maple_arange_64;
    const struct maple_kind *k = arange ? &g->arange : &g->range;
    uint64_t npiv = k->npivots, ps = g->ptr_size;

    /* Used slots, as the kernel's ma_data_end() decides. */
    uint64_t last_pivot = word(g, node, k->pivot + (npiv - 1) * ps);
    uint64_t end;
    if (arange || last_pivot == 0)
        end = node[k->meta + g->meta_end];
    else if (last_pivot == pn->max)
        end = npiv - 1;
    else
        end = npiv;
    if (end > npiv)
        return FAIL(XA_EBADDATA, "maple node 0x%llx: slot count %llu too large", a,
                    (unsigned long long)end + 1);

    struct pending kids[MAPLE_MAX_SLOTS];
    size_t nkids = 0;
    uint64_t lo = pn->min;
    for (uint64_t i = 0; i <= end; i++) {
        uint64_t hi = i < npiv ? word(g, node, k->pivot + i * ps) : pn->max;
        if (i == end && (i >= npiv || hi == 0))
            hi = pn->max;
        if (hi < lo || hi > pn->max)
            return FAIL(XA_EBADDATA, "maple node 0x%llx: pivots out of order", a);
        uint64_t entry = word(g, node, k->slot + i * ps);
        if (entry) {
            if (type == maple_leaf_64) {
                /* Small values are the tree's internal markers. */
                if (entry >= 0x10000) {
                    if (!kernel_ptr(g, entry) || (entry & (ps - 1)))
                        return FAIL(XA_EBADDATA, "maple leaf 0x%llx holds a bad pointer 0x%llx",
                                    a, (unsigned long long)entry);
                    int rc = add_entry(w, entry, lo, hi);
                    if (rc < 0)
                        return rc;
                }
            } else {
                kids[nkids++] = (struct pending){entry, lo, hi, pn->depth + 1};
            }
        }
        if (hi == pn->max)
            break;
        lo = hi + 1;
    }
    while (nkids > 0) {
        if (w->sp >= sizeof(w->stack) / sizeof(w->stack[0]))
            return FAIL(XA_ELIMIT, "maple tree walk stack overflow");
        w->stack[w->sp++] = kids[--nkids];
    }
    return 0;
}

int maple_collect(const struct maple_geom *g, lx_mem_fn read, void *ctx, uint64_t root,
                  struct maple_entry **out, size_t *n, char *why)
{
    *out = NULL;
    *n = 0;
    why[0] = '\0';
    int rc = maple_geom_check(g, why);
    if (rc < 0 || root == 0)
        return rc;
    /* xa_is_node(): an internal entry (low bits 10) above 4096. */
    if ((root & 3) != 2 || root <= 4096) {
        snprintf(why, LX_WHY_LEN, "maple tree root 0x%llx is not a node",
                 (unsigned long long)root);
        return XA_EBADDATA;
    }
    struct walk *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    w->g = g;
    w->read = read;
    w->ctx = ctx;
    w->why = why;
    w->stack[w->sp++] = (struct pending){root, 0, g->index_max, 1};
    while (rc == 0 && w->sp > 0) {
        struct pending pn = w->stack[--w->sp];
        rc = visit(w, &pn);
    }
    *out = w->out;
    *n = w->n;
    lx_ptrset_free(&w->seen);
    free(w);
    return rc;
}
