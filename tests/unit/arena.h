/*
 * arena.h -- a small synthetic guest memory for the unit tests and the fuzz
 * targets: bytes seen at guest addresses base .. base + len, read through
 * arena_read (an lx_mem_fn, or a physical reader: same signature); a read
 * that is not wholly inside fails with the arena's miss code.
 *
 * A unit test builds one (arena_init, then arena_alloc and arena_put*); a
 * fuzz target reads its input in place (arena_of_input). With wrap, every
 * address is taken modulo the size (rounded down to 8 bytes), so that
 * fuzzed table pointers land somewhere and page walks go deep.
 */
#ifndef XA_TEST_ARENA_H
#define XA_TEST_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenaccess.h"

struct arena {
    const uint8_t *mem; /* what reads see */
    uint8_t *owned;     /* the same bytes when the arena made them (writable) */
    size_t len;
    uint64_t base;  /* the guest address of mem[0] */
    uint64_t top;   /* arena_alloc's next free address */
    size_t align;   /* of arena_alloc's blocks (a power of two) */
    bool wrap;      /* addresses modulo the size */
    int miss;       /* a read outside: XA_EFAULT (when 0) or the code set */
    int reads;      /* reads asked for, served or not */
};

static inline int arena_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    struct arena *a = ctx;
    int miss = a->miss ? a->miss : XA_EFAULT;
    a->reads++;
    if (va < a->base)
        return miss;
    uint64_t off = va - a->base;
    size_t size = a->len;
    if (a->wrap) {
        size &= ~(size_t)7;
        if (size < len)
            return miss;
        off %= size;
    }
    if (off > size || len > size - off)
        return miss;
    memcpy(buf, a->mem + off, len);
    return 0;
}

/* A fuzz input after its @header bytes, at most @max of them, at @base. */
static inline struct arena arena_of_input(const uint8_t *data, size_t size, size_t header,
                                          size_t max, uint64_t base)
{
    struct arena a = {.mem = data, .base = base};
    if (size > header) {
        a.mem = data + header;
        a.len = size - header < max ? size - header : max;
    }
    return a;
}

static inline void arena_fail(const char *what)
{
    fprintf(stderr, "arena: %s\n", what);
    abort();
}

/* @len zeroed bytes at @base; blocks handed out @align apart, after the
 * first 64 bytes (address base stays unused, as NULL would be). */
static inline void arena_init(struct arena *a, uint64_t base, size_t len, size_t align)
{
    *a = (struct arena){.len = len, .base = base, .top = base + 64, .align = align};
    a->owned = calloc(1, len);
    if (!a->owned)
        arena_fail("out of memory");
    a->mem = a->owned;
}

static inline void arena_free(struct arena *a)
{
    free(a->owned);
    *a = (struct arena){0};
}

/* The bytes at @va, @len of them inside the arena (a test's own mistake
 * otherwise: it aborts). */
static inline uint8_t *arena_at(struct arena *a, uint64_t va, size_t len)
{
    if (!a->owned || va < a->base || va - a->base > a->len || len > a->len - (va - a->base))
        arena_fail("a write outside the arena");
    return a->owned + (va - a->base);
}

static inline uint64_t arena_alloc(struct arena *a, size_t n)
{
    uint64_t va = (a->top + a->align - 1) & ~(uint64_t)(a->align - 1);
    if (va - a->base > a->len || n > a->len - (va - a->base))
        arena_fail("full");
    a->top = va + n;
    return va;
}

static inline void arena_put(struct arena *a, uint64_t va, const void *p, size_t n)
{
    memcpy(arena_at(a, va, n), p, n);
}

static inline void arena_put64(struct arena *a, uint64_t va, uint64_t v) { arena_put(a, va, &v, 8); }
static inline void arena_put32(struct arena *a, uint64_t va, uint32_t v) { arena_put(a, va, &v, 4); }
static inline void arena_put16(struct arena *a, uint64_t va, uint16_t v) { arena_put(a, va, &v, 2); }
static inline void arena_put8(struct arena *a, uint64_t va, uint8_t v) { arena_put(a, va, &v, 1); }

static inline uint64_t arena_get64(struct arena *a, uint64_t va)
{
    uint64_t v;
    memcpy(&v, arena_at(a, va, 8), 8);
    return v;
}

#endif /* XA_TEST_ARENA_H */
