/*
 * maple.h -- the VMAs of a maple tree (6.1+ mm->mm_mt), for 8- and 4-byte
 * kernels alike (maple.c).
 *
 * Pure code: memory comes through an lx_mem_fn, so the walker runs on a
 * guest (vma.c), during the 32-bit layout inference (vma32.c) and in unit
 * tests and fuzz targets on synthetic nodes. The node geometry (where
 * pivots, slots and the metadata sit, how wide a pointer is) comes from a
 * table: BTF's offsets on a 64-bit kernel, maple_tree.h's fixed 32-bit
 * layout otherwise (maple_geom_32()).
 */
#ifndef XA_OS_LINUX_MAPLE_H
#define XA_OS_LINUX_MAPLE_H

#include <stddef.h>
#include <stdint.h>

#include "os/linux/procread.h"

#define MAPLE_NODE_SIZE 256u
#define MAPLE_MAX_SLOTS 32u         /* widest node: range_64 with 4-byte longs */
#define MAPLE_HEIGHT_MAX 31u        /* MAPLE_HEIGHT_MAX in the kernel */
#define MAPLE_MAX_NODES 1000000u
#define MAPLE_MAX_ENTRIES 1000000u  /* max_map_count defaults to 65530 */

/* One node type's layout: offsets in the 256-byte node, pivots = slots - 1. */
struct maple_kind {
    uint32_t pivot, slot, meta, npivots;
};

struct maple_geom {
    unsigned ptr_size;          /* 4 or 8: pivots, slots, parent */
    uint64_t kmin, kmax;        /* kernel pointers lie in [kmin, kmax] */
    uint64_t index_max;         /* ULONG_MAX: the root node's max */
    struct maple_kind range;    /* maple_range_64, also maple_leaf_64 */
    struct maple_kind arange;   /* maple_arange_64 */
    uint32_t meta_end;          /* maple_metadata.end */
    uint32_t max_nodes;         /* nodes a walk may visit; 0: MAPLE_MAX_NODES */
};

/* An entry of a leaf with the index range its slot covers. */
struct maple_entry {
    uint64_t ptr, first, last;
};

/* The layout every 32-bit kernel uses (MAPLE_RANGE64_SLOTS 32,
 * MAPLE_ARANGE64_SLOTS 21), kernel pointers from @page_offset. */
struct maple_geom maple_geom_32(uint64_t page_offset);

/* Is @geom one the walker can use (everything inside a node)? */
int maple_geom_check(const struct maple_geom *g, char *why);

/* Collect the leaf entries (pointers aligned to the pointer size; small
 * values are the tree's markers and skipped) of the tree whose ma_root is
 * @root, in index order, into a malloc'd *@out (*n of them; kept, and
 * to be freed, even on error). Every node is visited once (a node met
 * twice is an error), depth and node count are capped. 0, or a negative
 * XA_E* with one line in @why; what was found before an error stays. */
int maple_collect(const struct maple_geom *g, lx_mem_fn read, void *ctx, uint64_t root,
                  struct maple_entry **out, size_t *n, char *why);

#endif /* XA_OS_LINUX_MAPLE_H */
