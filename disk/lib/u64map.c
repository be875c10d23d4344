/* u64map.c -- see u64map.h. Linear probing, grows at 50% load. */
#include "u64map.h"

#include <errno.h>
#include <stdlib.h>

static char tombstone_obj;
#define TOMB ((void *)&tombstone_obj)

static size_t hash64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return (size_t)k;
}

static size_t find(const struct u64map *m, uint64_t key)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash64(key) & mask;; i = (i + 1) & mask) {
        if (!m->vals[i] || (m->vals[i] != TOMB && m->keys[i] == key))
            return i;
    }
}

void *u64map_get(const struct u64map *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t i = find(m, key);
    return m->vals[i];
}

static int grow(struct u64map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    if (m->count * 4 < m->cap)
        ncap = m->cap; /* mostly tombstones: rehash in place size */
    uint64_t *keys = calloc(ncap, sizeof(*keys));
    void **vals = calloc(ncap, sizeof(*vals));
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -ENOMEM;
    }
    struct u64map n = {.keys = keys, .vals = vals, .cap = ncap};
    for (size_t i = 0; i < m->cap; i++) {
        if (m->vals[i] && m->vals[i] != TOMB) {
            size_t j = find(&n, m->keys[i]);
            n.keys[j] = m->keys[i];
            n.vals[j] = m->vals[i];
            n.used++;
            n.count++;
        }
    }
    free(m->keys);
    free(m->vals);
    *m = n;
    return 0;
}

int u64map_put(struct u64map *m, uint64_t key, void *val, void **old)
{
    if (old)
        *old = NULL;
    if ((m->used + 1) * 2 > m->cap && grow(m) < 0)
        return -ENOMEM;
    size_t i = find(m, key);
    if (m->vals[i]) {
        if (old)
            *old = m->vals[i];
        m->vals[i] = val;
        return 0;
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->used++;
    m->count++;
    return 0;
}

void *u64map_del(struct u64map *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t i = find(m, key);
    void *v = m->vals[i];
    if (v) {
        m->vals[i] = TOMB;
        m->count--;
    }
    return v;
}

bool u64map_next(const struct u64map *m, size_t *pos, uint64_t *key, void **val)
{
    for (; *pos < m->cap; (*pos)++) {
        if (m->vals[*pos] && m->vals[*pos] != TOMB) {
            *key = m->keys[*pos];
            *val = m->vals[*pos];
            (*pos)++;
            return true;
        }
    }
    return false;
}

void u64map_free(struct u64map *m)
{
    free(m->keys);
    free(m->vals);
    *m = (struct u64map){0};
}
