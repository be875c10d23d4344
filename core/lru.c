/*
 * lru.c -- bounded LRU map. Entries live in one array; a chained hash
 * (indices, power-of-two buckets) finds them and a doubly linked recency
 * list orders them. Nothing is allocated after xa_lru_init().
 */
#include <stdlib.h>

#include "core/instance.h"

int xa_lru_init(struct xa_lru *l, size_t capacity)
{
    if (capacity < 1)
        capacity = 1;
    if (capacity > (1u << 26))
        return XA_EINVAL;
    uint32_t nb = 1;
    while (nb < capacity * 2)
        nb <<= 1;
    l->e = calloc(capacity, sizeof(*l->e));
    l->buckets = malloc(nb * sizeof(*l->buckets));
    if (!l->e || !l->buckets) {
        free(l->e);
        free(l->buckets);
        l->e = NULL;
        l->buckets = NULL;
        return XA_ENOMEM;
    }
    l->cap = (uint32_t)capacity;
    l->mask = nb - 1;
    l->count = 0;
    l->head = l->tail = XA_LRU_NIL;
    for (uint32_t i = 0; i < nb; i++)
        l->buckets[i] = XA_LRU_NIL;
    /* Entries dropped go on a free list threaded through hnext; the ones
     * never used are taken from l->fresh on, not threaded here. */
    l->free_list = XA_LRU_NIL;
    l->fresh = 0;
    return 0;
}

static void list_unlink(struct xa_lru *l, uint32_t i)
{
    struct xa_lru_entry *e = &l->e[i];
    if (e->prev != XA_LRU_NIL)
        l->e[e->prev].next = e->next;
    else
        l->head = e->next;
    if (e->next != XA_LRU_NIL)
        l->e[e->next].prev = e->prev;
    else
        l->tail = e->prev;
}

static void list_push_front(struct xa_lru *l, uint32_t i)
{
    struct xa_lru_entry *e = &l->e[i];
    e->prev = XA_LRU_NIL;
    e->next = l->head;
    if (l->head != XA_LRU_NIL)
        l->e[l->head].prev = i;
    l->head = i;
    if (l->tail == XA_LRU_NIL)
        l->tail = i;
}

/* Index of the entry for the key in its @bucket, and the link that points at it. */
static uint32_t find_at(const struct xa_lru *l, uint32_t bucket, uint64_t k1, uint64_t k2,
                        uint32_t **link)
{
    uint32_t *p = &l->buckets[bucket];
    while (*p != XA_LRU_NIL) {
        struct xa_lru_entry *e = &l->e[*p];
        if (e->k1 == k1 && e->k2 == k2) {
            if (link)
                *link = p;
            return *p;
        }
        p = &e->hnext;
    }
    return XA_LRU_NIL;
}

static uint32_t find(const struct xa_lru *l, uint64_t k1, uint64_t k2, uint32_t **link)
{
    return find_at(l, xa_lru_bucket(l, k1, k2), k1, k2, link);
}

static void drop_entry(struct xa_lru *l, uint32_t *link, uint32_t i, xa_lru_drop_fn drop,
                       void *ctx)
{
    struct xa_lru_entry *e = &l->e[i];
    *link = e->hnext;
    list_unlink(l, i);
    if (drop)
        drop(ctx, e->k1, e->k2, e->val);
    e->hnext = l->free_list;
    l->free_list = i;
    l->count--;
}

bool xa_lru_get(struct xa_lru *l, uint64_t k1, uint64_t k2, uint64_t *val)
{
    return xa_lru_get_at(l, xa_lru_bucket(l, k1, k2), k1, k2, val);
}

bool xa_lru_get_at(struct xa_lru *l, uint32_t bucket, uint64_t k1, uint64_t k2, uint64_t *val)
{
    uint32_t i = find_at(l, bucket, k1, k2, NULL);
    if (i == XA_LRU_NIL)
        return false;
    if (l->head != i) {
        list_unlink(l, i);
        list_push_front(l, i);
    }
    *val = l->e[i].val;
    return true;
}

bool xa_lru_remove(struct xa_lru *l, uint64_t k1, uint64_t k2, xa_lru_drop_fn drop, void *ctx)
{
    uint32_t *link = NULL;
    uint32_t i = find(l, k1, k2, &link);
    if (i == XA_LRU_NIL)
        return false;
    drop_entry(l, link, i, drop, ctx);
    return true;
}

void xa_lru_put(struct xa_lru *l, uint64_t k1, uint64_t k2, uint64_t val, xa_lru_drop_fn drop,
                void *ctx)
{
    xa_lru_put_at(l, xa_lru_bucket(l, k1, k2), k1, k2, val, drop, ctx);
}

void xa_lru_put_at(struct xa_lru *l, uint32_t bucket, uint64_t k1, uint64_t k2, uint64_t val,
                   xa_lru_drop_fn drop, void *ctx)
{
    uint32_t i = find_at(l, bucket, k1, k2, NULL);
    if (i != XA_LRU_NIL) {
        if (drop && l->e[i].val != val)
            drop(ctx, k1, k2, l->e[i].val);
        l->e[i].val = val;
        list_unlink(l, i);
        list_push_front(l, i);
        return;
    }
    if (l->free_list == XA_LRU_NIL && l->fresh < l->cap) {
        i = l->fresh++;
    } else {
        if (l->free_list == XA_LRU_NIL) {
            uint32_t victim = l->tail;
            uint32_t *link = NULL;
            find(l, l->e[victim].k1, l->e[victim].k2, &link);
            drop_entry(l, link, victim, drop, ctx);
        }
        i = l->free_list;
        l->free_list = l->e[i].hnext;
    }
    struct xa_lru_entry *e = &l->e[i];
    e->k1 = k1;
    e->k2 = k2;
    e->val = val;
    e->hnext = l->buckets[bucket];
    l->buckets[bucket] = i;
    list_push_front(l, i);
    l->count++;
}

/* O(entries), not O(capacity): live targets flush often, usually with few entries. */
void xa_lru_clear(struct xa_lru *l, xa_lru_drop_fn drop, void *ctx)
{
    if (!l->e)
        return;
    uint32_t next;
    for (uint32_t i = l->head; i != XA_LRU_NIL; i = next) {
        struct xa_lru_entry *e = &l->e[i];
        next = e->next;
        if (drop)
            drop(ctx, e->k1, e->k2, e->val);
        l->buckets[xa_lru_bucket(l, e->k1, e->k2)] = XA_LRU_NIL;
        e->hnext = l->free_list;
        l->free_list = i;
    }
    l->head = l->tail = XA_LRU_NIL;
    l->count = 0;
}

void xa_lru_destroy(struct xa_lru *l, xa_lru_drop_fn drop, void *ctx)
{
    xa_lru_clear(l, drop, ctx);
    free(l->e);
    free(l->buckets);
    l->e = NULL;
    l->buckets = NULL;
}
