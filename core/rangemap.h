/*
 * rangemap.h -- binary search in a sorted array of non-overlapping address
 * ranges: the core's RAM ranges, a dump file's segments, QEMU's RAM
 * segments. The array stays its owner's; a rangemap only says where each
 * element keeps its start and size, so one search serves every layout.
 * Internal.
 */
#ifndef XA_CORE_RANGEMAP_H
#define XA_CORE_RANGEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xa_rangemap {
    const void *base; /* element 0 */
    size_t count;
    size_t stride;    /* bytes from one element to the next */
    size_t start_off; /* offset of the element's uint64_t start */
    size_t size_off;  /* offset of its uint64_t size (start + size never wraps) */
};

/* A rangemap over @n elements of @type at @array, with fields @start and @size. */
#define XA_RANGEMAP(array, n, type, start, size)                                                   \
    ((struct xa_rangemap){(array), (n), sizeof(type), offsetof(type, start),                       \
                          offsetof(type, size)})

#define XA_RANGE_NONE SIZE_MAX

uint64_t xa_rangemap_start(const struct xa_rangemap *m, size_t i);
uint64_t xa_rangemap_size(const struct xa_rangemap *m, size_t i);

/* Index of the range holding @addr, or XA_RANGE_NONE. */
size_t xa_rangemap_find(const struct xa_rangemap *m, uint64_t addr);

/* Index of the first range that ends above @addr: the one holding it, or
 * else the next one up. m->count when there is none. */
size_t xa_rangemap_first_from(const struct xa_rangemap *m, uint64_t addr);

/* True when [addr, addr + len) lies inside one range (len > 0). */
bool xa_rangemap_covers(const struct xa_rangemap *m, uint64_t addr, uint64_t len);

/* True when the ranges are sorted, non-empty, non-overlapping and none wraps. */
bool xa_rangemap_valid(const struct xa_rangemap *m);

#endif /* XA_CORE_RANGEMAP_H */
