/*
 * lru.h -- a bounded LRU map from a two-word key to a 64-bit value.
 * Fixed capacity, allocated once; no allocation on get/put. Used for the
 * translation cache (key: dtb, virtual page) and the page cache (key: pfn).
 */
#ifndef XA_CORE_LRU_H
#define XA_CORE_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XA_LRU_NIL UINT32_MAX

struct xa_lru_entry {
    uint64_t k1, k2, val;
    uint32_t prev, next; /* recency list; head = most recent */
    uint32_t hnext;      /* hash chain */
};

struct xa_lru {
    struct xa_lru_entry *e;
    uint32_t *buckets;
    uint32_t cap, mask, count;
    uint32_t head, tail, free_list;
    uint32_t fresh; /* entries [fresh, cap) never used: taken in order, so the
                     * array's pages are touched only as the cache fills */
};

/* Called for each entry dropped by eviction or clear. */
typedef void (*xa_lru_drop_fn)(void *ctx, uint64_t k1, uint64_t k2, uint64_t val);

int xa_lru_init(struct xa_lru *l, size_t capacity);
void xa_lru_destroy(struct xa_lru *l, xa_lru_drop_fn drop, void *ctx);
/* Look up and mark most recent. */
bool xa_lru_get(struct xa_lru *l, uint64_t k1, uint64_t k2, uint64_t *val);
/* Insert or replace; evicts the least recent entry when full (drop() is told). */
void xa_lru_put(struct xa_lru *l, uint64_t k1, uint64_t k2, uint64_t val, xa_lru_drop_fn drop,
                void *ctx);

/* The same two with the key's bucket (xa_lru_bucket) worked out by the
 * caller: a miss into an empty bucket is then an inline load, and a put
 * after a get hashes once. */
static inline uint32_t xa_lru_bucket(const struct xa_lru *l, uint64_t k1, uint64_t k2)
{
    uint64_t h = k1 * 0x9e3779b97f4a7c15ull ^ (k2 + 0x632be59bd9b4e019ull) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return (uint32_t)h & l->mask;
}
bool xa_lru_get_at(struct xa_lru *l, uint32_t bucket, uint64_t k1, uint64_t k2, uint64_t *val);
static inline bool xa_lru_get_inline(struct xa_lru *l, uint32_t bucket, uint64_t k1, uint64_t k2,
                                     uint64_t *val)
{
    return l->buckets[bucket] != XA_LRU_NIL && xa_lru_get_at(l, bucket, k1, k2, val);
}
void xa_lru_put_at(struct xa_lru *l, uint32_t bucket, uint64_t k1, uint64_t k2, uint64_t val,
                   xa_lru_drop_fn drop, void *ctx);
/* Remove one key if present. */
bool xa_lru_remove(struct xa_lru *l, uint64_t k1, uint64_t k2, xa_lru_drop_fn drop, void *ctx);
void xa_lru_clear(struct xa_lru *l, xa_lru_drop_fn drop, void *ctx);

#endif /* XA_CORE_LRU_H */
