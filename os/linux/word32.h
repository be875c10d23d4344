/*
 * word32.h -- what every 32-bit layout inference (task32.c, proc32.c,
 * procview32.c, files32.c, module32.c, vma32.c, ...) reads guest bytes
 * with: little-endian words, the kernel-pointer test, and the "nearly all
 * fit" rule. Pure, header-only.
 */
#ifndef XA_OS_LINUX_WORD32_H
#define XA_OS_LINUX_WORD32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint32_t w32_le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t w32_le64(const uint8_t *b)
{
    return w32_le32(b) | (uint64_t)w32_le32(b + 4) << 32;
}

/* A 4-byte aligned kernel pointer ([page_offset, 4 GiB)) with room for a
 * small read after it. */
static inline bool w32_kptr(uint64_t page_offset, uint64_t v)
{
    return v >= page_offset && v <= 0xFFFFFFFFull - 64 && !(v & 3);
}

/* Nearly all of those tried fit (7/8): one damaged object does not hide a
 * layout, and a layout most objects deny is not taken. */
static inline bool w32_mostly(size_t fits, size_t tried)
{
    return tried > 0 && fits * 8 >= tried * 7;
}

#endif /* XA_OS_LINUX_WORD32_H */
