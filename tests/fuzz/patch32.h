/*
 * patch32.h -- the 32-bit fuzz targets' input after its first byte: 8-byte
 * patches of the synthetic guest's words in [base, base + used), each
 *   u24 offset (modulo used, rounded down to 4), u8 kind, u32 value;
 * kind 0 writes the value, 1 a pointer into that memory (value modulo
 * used), 2 the word's own address, 3 only the value's low byte. Every old
 * word is kept, so one built guest serves every input.
 */
#ifndef XA_FUZZ_PATCH32_H
#define XA_FUZZ_PATCH32_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"

struct patch32_undo {
    uint64_t va;
    uint32_t old;
};

/* Apply the patches of @data[1..@size), at most @max; how many were. */
static inline size_t patch32_apply(struct arena *a, uint64_t base, uint64_t used,
                                   const uint8_t *data, size_t size, struct patch32_undo *undo,
                                   size_t max)
{
    size_t n = 0;
    for (size_t at = 1; at + 8 <= size && n < max; at += 8) {
        uint32_t off = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 |
                       (uint32_t)data[at + 2] << 16;
        uint8_t kind = data[at + 3];
        uint32_t v, old;
        memcpy(&v, data + at + 4, 4);
        uint64_t va = base + (off % used & ~3ull);
        memcpy(&old, arena_at(a, va, 4), 4);
        undo[n].va = va;
        undo[n++].old = old;
        switch (kind & 3) {
        case 1: v = (uint32_t)(base + v % used); break;
        case 2: v = (uint32_t)va; break;
        case 3: v = (old & ~0xffu) | (v & 0xffu); break;
        default: break;
        }
        arena_put32(a, va, v);
    }
    return n;
}

/* Put back the @n words patch32_apply() changed, last first. */
static inline void patch32_undo(struct arena *a, const struct patch32_undo *undo, size_t n)
{
    while (n > 0) {
        n--;
        arena_put32(a, undo[n].va, undo[n].old);
    }
}

#endif /* XA_FUZZ_PATCH32_H */
