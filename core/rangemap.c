/*
 * rangemap.c -- binary search over sorted, non-overlapping ranges
 * (rangemap.h). O(log n) per lookup: a target with 65,536 ranges costs 16
 * steps, not 65,536.
 */
#include <string.h>

#include "core/rangemap.h"

static uint64_t field(const struct xa_rangemap *m, size_t i, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)m->base + i * m->stride + off, sizeof(v));
    return v;
}

uint64_t xa_rangemap_start(const struct xa_rangemap *m, size_t i)
{
    return field(m, i, m->start_off);
}

uint64_t xa_rangemap_size(const struct xa_rangemap *m, size_t i)
{
    return field(m, i, m->size_off);
}

/* Index of the first range starting above @addr (count if none). */
static size_t first_above(const struct xa_rangemap *m, uint64_t addr)
{
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (xa_rangemap_start(m, mid) <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t xa_rangemap_first_from(const struct xa_rangemap *m, uint64_t addr)
{
    size_t i = first_above(m, addr);
    if (i > 0 && addr - xa_rangemap_start(m, i - 1) < xa_rangemap_size(m, i - 1))
        return i - 1;
    return i;
}

size_t xa_rangemap_find(const struct xa_rangemap *m, uint64_t addr)
{
    size_t i = first_above(m, addr);
    if (i > 0 && addr - xa_rangemap_start(m, i - 1) < xa_rangemap_size(m, i - 1))
        return i - 1;
    return XA_RANGE_NONE;
}

bool xa_rangemap_covers(const struct xa_rangemap *m, uint64_t addr, uint64_t len)
{
    size_t i = xa_rangemap_find(m, addr);
    if (len == 0 || i == XA_RANGE_NONE)
        return false;
    return len <= xa_rangemap_size(m, i) - (addr - xa_rangemap_start(m, i));
}

bool xa_rangemap_valid(const struct xa_rangemap *m)
{
    for (size_t i = 0; i < m->count; i++) {
        uint64_t start = xa_rangemap_start(m, i), size = xa_rangemap_size(m, i);
        if (size == 0 || start + size < start)
            return false;
        if (i > 0 && start - xa_rangemap_start(m, i - 1) < xa_rangemap_size(m, i - 1))
            return false;
        if (i > 0 && start < xa_rangemap_start(m, i - 1))
            return false;
    }
    return true;
}
