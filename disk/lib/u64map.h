/* u64map.h -- a small open-addressing hash map from uint64 keys to pointers. */
#ifndef XADISK_U64MAP_H
#define XADISK_U64MAP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map {
    uint64_t *keys;
    void **vals; /* NULL = empty slot; deleted slots use a tombstone value */
    size_t cap;  /* power of two or 0 */
    size_t used; /* live + tombstones */
    size_t count;
};

void *u64map_get(const struct u64map *m, uint64_t key);
/* Insert or replace; returns the previous value (or NULL); -1 as pointer on OOM. */
int u64map_put(struct u64map *m, uint64_t key, void *val, void **old);
void *u64map_del(struct u64map *m, uint64_t key);
/* Iterate: start with *pos = 0; returns false at the end. */
bool u64map_next(const struct u64map *m, size_t *pos, uint64_t *key, void **val);
void u64map_free(struct u64map *m);
#endif
