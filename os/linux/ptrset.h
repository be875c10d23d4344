/*
 * ptrset.h -- the set of guest addresses a walk has visited, so that a walk
 * over guest-written links ends at the first node seen twice. Pure (no
 * instance): the pure parsers compiled into the fuzz targets use it too.
 */
#ifndef XA_OS_LINUX_PTRSET_H
#define XA_OS_LINUX_PTRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest addresses a walk has visited (ptrset.c). */
struct lx_ptrset {
    uint64_t *slots; /* 0 = empty; addresses are never 0 */
    size_t cap, n;
};
/* 1 if @key is new, 0 if already there, XA_ENOMEM. @key must not be 0. */
int lx_ptrset_add(struct lx_ptrset *s, uint64_t key);
/* Room for @n keys before the first growth (a walk that knows its length
 * from the last one skips the rehashes); XA_ENOMEM, or 0. */
int lx_ptrset_reserve(struct lx_ptrset *s, size_t n);
void lx_ptrset_free(struct lx_ptrset *s);
/* Whether @key was added. */
bool lx_ptrset_has(const struct lx_ptrset *s, uint64_t key);

#endif
