/*
 * ptrset.c -- the set of guest addresses a walk has visited (list nodes,
 * maple-tree nodes), so that a walk over guest-written links ends at the
 * first node seen twice. Open addressing; addresses are never 0, so 0 marks
 * an empty slot. The caller bounds how many nodes it adds.
 */
#include <stdlib.h>

#include "os/linux/ptrset.h"
#include "xa_errors.h"

static size_t slot_of(uint64_t key, size_t cap)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 20) & (cap - 1);
}

/* Move the keys into a table of @cap slots (a power of two). */
static int grow(struct lx_ptrset *s, size_t cap)
{
    uint64_t *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return XA_ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i])
            continue;
        size_t j = slot_of(s->slots[i], cap);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

int lx_ptrset_reserve(struct lx_ptrset *s, size_t n)
{
    size_t cap = s->cap ? s->cap : 256;
    while (cap < (n + 1) * 2 && cap < ((size_t)1 << 40))
        cap *= 2;
    return cap > s->cap ? grow(s, cap) : 0;
}

int lx_ptrset_add(struct lx_ptrset *s, uint64_t key)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        if (grow(s, cap) < 0)
            return XA_ENOMEM;
    }
    size_t j = slot_of(key, s->cap);
    while (s->slots[j]) {
        if (s->slots[j] == key)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = key;
    s->n++;
    return 1;
}

void lx_ptrset_free(struct lx_ptrset *s)
{
    free(s->slots);
    *s = (struct lx_ptrset){0};
}

bool lx_ptrset_has(const struct lx_ptrset *s, uint64_t key)
{
    if (!s->cap || !key)
        return false;
    for (size_t j = slot_of(key, s->cap); s->slots[j]; j = (j + 1) & (s->cap - 1))
        if (s->slots[j] == key)
            return true;
    return false;
}
