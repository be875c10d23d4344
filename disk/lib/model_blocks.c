/* model_blocks.c -- which file a written block belongs to: pending data
 * writes, the block map of all known files, and the byte ranges of a WRITE.
 */
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>

#include "model_priv.h"

#define MAX_PENDING (1u << 20)
#define PENDING_MAX_AGE 8 /* rounds a block waits for a file to claim it */

void model_note_write(struct xd_model *m, uint64_t blk, uint64_t count)
{
    if (!count)
        return;
    if (m->npend) {
        struct xd_pending *l = &m->pend[m->npend - 1];
        if (l->start + l->len == blk && l->age == 0) {
            l->len += count;
            return;
        }
    }
    if (m->npend == MAX_PENDING) { /* forget the oldest half */
        memmove(m->pend, m->pend + MAX_PENDING / 2, (MAX_PENDING / 2) * sizeof(*m->pend));
        m->npend = MAX_PENDING / 2;
    }
    if (m->npend == m->pend_cap) {
        size_t ncap = m->pend_cap ? m->pend_cap * 2 : 256;
        void *p = realloc(m->pend, ncap * sizeof(*m->pend));
        if (!p)
            return;
        m->pend = p;
        m->pend_cap = ncap;
    }
    m->pend[m->npend++] = (struct xd_pending){.start = blk, .len = count};
}

static int cmp_bmap(const void *a, const void *b)
{
    const struct xd_bmap_ent *x = a, *y = b;
    return x->pblk < y->pblk ? -1 : x->pblk > y->pblk;
}

static void rebuild_bmap(struct xd_model *m)
{
    if (!m->bmap_dirty)
        return;
    size_t n = 0, pos = 0;
    uint64_t k;
    void *v;
    while (u64map_next(&m->nodes, &pos, &k, &v))
        n += ((struct xd_node *)v)->next;
    free(m->bmap);
    m->bmap = malloc((n ? n : 1) * sizeof(*m->bmap));
    m->nbmap = 0;
    if (!m->bmap)
        return;
    pos = 0;
    while (u64map_next(&m->nodes, &pos, &k, &v)) {
        struct xd_node *nd = v;
        for (size_t i = 0; i < nd->next; i++)
            m->bmap[m->nbmap++] = (struct xd_bmap_ent){.pblk = nd->ext[i].pblk,
                                                       .lblk = nd->ext[i].lblk,
                                                       .len = nd->ext[i].len, .ino = nd->ino};
    }
    if (m->nbmap)
        qsort(m->bmap, m->nbmap, sizeof(*m->bmap), cmp_bmap);
    m->bmap_dirty = false;
}

size_t model_dirs_in_block(struct xd_model *m, uint64_t blk, uint32_t *out, size_t max)
{
    rebuild_bmap(m);
    size_t lo = 0, hi = m->nbmap, n = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->bmap[mid].pblk + m->bmap[mid].len <= blk)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t j = lo; j < m->nbmap && m->bmap[j].pblk <= blk && n < max; j++) {
        const struct xd_node *d = node_get(m, m->bmap[j].ino);
        if (d && LINUX_S_ISDIR(d->mode) && blk < m->bmap[j].pblk + m->bmap[j].len)
            out[n++] = d->ino;
    }
    return n;
}

static void rlist_add(struct rlist *r, uint64_t off, uint64_t len)
{
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 4;
        void *p = realloc(r->v, ncap * sizeof(*r->v));
        if (!p)
            return;
        r->v = p;
        r->cap = ncap;
    }
    r->v[r->n++] = (struct xadisk_range){.offset = off, .length = len};
}

static int cmp_range(const void *a, const void *b)
{
    const struct xadisk_range *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sort, merge and clip to size; returns the count. */
size_t model_rlist_finish(struct rlist *r, uint64_t size)
{
    if (!r->n)
        return 0;
    if (r->n > 1)
        qsort(r->v, r->n, sizeof(*r->v), cmp_range);
    size_t w = 0;
    for (size_t i = 0; i < r->n; i++) {
        struct xadisk_range x = r->v[i];
        if (x.offset >= size)
            continue;
        if (x.length > size - x.offset)
            x.length = size - x.offset;
        if (w && r->v[w - 1].offset + r->v[w - 1].length >= x.offset) {
            uint64_t end = x.offset + x.length;
            if (end > r->v[w - 1].offset + r->v[w - 1].length)
                r->v[w - 1].length = end - r->v[w - 1].offset;
        } else {
            r->v[w++] = x;
        }
    }
    r->n = w;
    return w;
}

/* Map pending physical writes to (inode, byte range) in `out` (ino -> struct rlist). */
void model_attribute_pending(struct xd_model *m, struct u64map *out)
{
    rebuild_bmap(m);
    size_t w = 0;
    for (size_t i = 0; i < m->npend; i++) {
        struct xd_pending p = m->pend[i];
        bool hit = false;
        size_t lo = 0, hi = m->nbmap;
        while (lo < hi) { /* first entry ending after p.start */
            size_t mid = (lo + hi) / 2;
            if (m->bmap[mid].pblk + m->bmap[mid].len <= p.start)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t j = lo; j < m->nbmap && m->bmap[j].pblk < p.start + p.len; j++) {
            const struct xd_bmap_ent *b = &m->bmap[j];
            const struct xd_node *owner = node_get(m, b->ino);
            if (!owner || !LINUX_S_ISREG(owner->mode))
                continue;
            uint64_t s = p.start > b->pblk ? p.start : b->pblk;
            uint64_t e = p.start + p.len < b->pblk + b->len ? p.start + p.len : b->pblk + b->len;
            if (s >= e)
                continue;
            struct rlist *r = u64map_get(out, b->ino);
            if (!r) {
                r = calloc(1, sizeof(*r));
                if (!r || u64map_put(out, b->ino, r, NULL) < 0) {
                    free(r);
                    continue;
                }
            }
            rlist_add(r, (b->lblk + (s - b->pblk)) * m->bsize, (e - s) * m->bsize);
            hit = true;
        }
        if (!hit && ++p.age <= PENDING_MAX_AGE)
            m->pend[w++] = p;
    }
    m->npend = w;
}

void model_free_rlists(struct u64map *rl)
{
    size_t pos = 0;
    uint64_t k;
    void *v;
    while (u64map_next(rl, &pos, &k, &v)) {
        free(((struct rlist *)v)->v);
        free(v);
    }
    u64map_free(rl);
}
