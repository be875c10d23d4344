/* model.c -- see model.h: the scan and the diff of a refresh round (its
 * events are model_events.c's).  All guest structures come through libext2fs
 * from the shadow; counts and depths are capped so that hostile images
 * terminate. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>

#include "crc32c.h"
#include "model_priv.h"
#include "shadow.h"

#define MAX_DIR_ENTRIES (1u << 22)
#define MAX_EXTENTS (1u << 20)
#define MAX_PATH_BYTES 16384
#define MAX_PENDING (1u << 20)
#define PENDING_MAX_AGE 8

/* ------------------------------------------------------------ basics --- */

void model_node_free(struct xd_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nlk; i++)
        free(n->lk[i].name);
    for (size_t i = 0; i < n->nents; i++)
        free(n->ents[i].name);
    free(n->lk);
    free(n->ents);
    free(n->ext);
    free(n);
}

void model_free_nodes(struct xd_model *m)
{
    size_t pos = 0;
    uint64_t k;
    void *v;
    while (u64map_next(&m->nodes, &pos, &k, &v))
        model_node_free(v);
    u64map_free(&m->nodes);
    limbo_free(m);
    free(m->bmap);
    m->bmap = NULL;
    m->nbmap = 0;
    m->bmap_dirty = true;
}

static int cmp_itab(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int model_open(struct xd_model *m, const char *io_name)
{
    memset(m, 0, sizeof(*m));
    m->limbo_ms = 10000;
    extern struct struct_io_manager *const xd_shadow_io_manager;
    errcode_t e = ext2fs_open2(io_name, NULL,
                               EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS |
                                   EXT2_FLAG_SKIP_MMP,
                               0, 0, xd_shadow_io_manager, &m->fs);
    if (e) {
        snprintf(m->err, sizeof(m->err), "not an ext2/3/4 file system (libext2fs: %s)",
                 error_message(e));
        m->fs = NULL;
        return XA_EFORMAT;
    }
    ext2_filsys fs = m->fs;
    m->inodes_count = fs->super->s_inodes_count;
    m->first_ino = EXT2_FIRST_INO(fs->super);
    m->inode_size = (uint32_t)EXT2_INODE_SIZE(fs->super);
    m->bsize = (uint32_t)fs->blocksize;
    m->ngroups = fs->group_desc_count;
    m->itab_blocks = fs->inode_blocks_per_group;
    if (m->inode_size < 128 || m->inode_size > m->bsize || m->inodes_count == 0) {
        snprintf(m->err, sizeof(m->err), "implausible inode size %u", m->inode_size);
        model_close(m);
        return XA_EBADDATA;
    }
    m->itab = calloc(m->ngroups ? m->ngroups : 1, sizeof(*m->itab));
    if (!m->itab) {
        model_close(m);
        return XA_ENOMEM;
    }
    for (uint32_t g = 0; g < m->ngroups; g++) {
        m->itab[g].start = ext2fs_inode_table_loc(fs, g);
        m->itab[g].group = g;
    }
    qsort(m->itab, m->ngroups, sizeof(*m->itab), cmp_itab);
    m->bmap_dirty = true;
    return 0;
}

void model_close(struct xd_model *m)
{
    model_free_nodes(m);
    free(m->itab);
    m->itab = NULL;
    free(m->pend);
    m->pend = NULL;
    m->npend = m->pend_cap = 0;
    if (m->fs)
        ext2fs_close_free(&m->fs);
    m->fs = NULL;
}

uint32_t model_inodes_in_block(const struct xd_model *m, uint64_t blk, uint32_t *first)
{
    size_t lo = 0, hi = m->ngroups;
    while (lo < hi) { /* last table starting at or before blk */
        size_t mid = (lo + hi) / 2;
        if (m->itab[mid].start <= blk)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return 0;
    uint64_t start = m->itab[lo - 1].start;
    if (start == 0 || blk - start >= m->itab_blocks)
        return 0;
    uint32_t per_block = m->bsize / m->inode_size;
    uint64_t ino = (uint64_t)m->itab[lo - 1].group * m->fs->super->s_inodes_per_group +
                   (blk - start) * per_block + 1;
    if (ino > m->inodes_count)
        return 0;
    *first = (uint32_t)ino;
    return per_block;
}

static int read_state(struct xd_model *m, uint32_t ino, struct istate *st)
{
    memset(st, 0, sizeof(*st));
    if (ino == 0 || ino > m->inodes_count)
        return XA_EBADDATA;
    errcode_t e = ext2fs_read_inode_full(m->fs, ino, (struct ext2_inode *)&st->raw,
                                         sizeof(st->raw));
    if (e)
        return XA_EIO;
    const struct ext2_inode_large *r = &st->raw;
    st->mode = r->i_mode;
    st->uid = inode_uid(*r);
    st->gid = inode_gid(*r);
    st->links = r->i_links_count;
    st->flags = r->i_flags;
    st->generation = r->i_generation;
    st->size = EXT2_I_SIZE(r);
    st->mtime = (uint64_t)r->i_mtime << 32;
    if (m->inode_size > EXT2_GOOD_OLD_INODE_SIZE &&
        r->i_extra_isize >= offsetof(struct ext2_inode_large, i_mtime_extra) + 4 -
                                EXT2_GOOD_OLD_INODE_SIZE)
        st->mtime |= r->i_mtime_extra;
    st->alive = st->mode != 0 && st->links > 0;
    size_t n = m->inode_size < sizeof(st->raw) ? m->inode_size : sizeof(st->raw);
    st->rawsum = xd_crc32c(0, &st->raw, n);
    return 0;
}

static void apply_state(struct xd_node *n, const struct istate *st)
{
    n->mode = st->mode;
    n->uid = st->uid;
    n->gid = st->gid;
    n->links = st->links;
    n->size = st->size;
    n->mtime = st->mtime;
    n->rawsum = st->rawsum;
    n->generation = st->generation;
}

/* ------------------------------------------------------- directories --- */

struct dir_ctx {
    struct xd_model *m;
    struct xd_dent *v;
    size_t n, cap;
    int err;
};

static int dir_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int offset, int blocksize,
                  char *buf, void *priv)
{
    (void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
    struct dir_ctx *c = priv;
    int len = ext2fs_dirent_name_len(d);
    if (d->inode == 0 || len <= 0 || len > EXT2_NAME_LEN)
        return 0;
    if ((len == 1 && d->name[0] == '.') || (len == 2 && d->name[0] == '.' && d->name[1] == '.'))
        return 0;
    if (d->inode > c->m->inodes_count || memchr(d->name, '/', (size_t)len) ||
        memchr(d->name, 0, (size_t)len)) {
        c->m->bad++;
        return 0;
    }
    if (c->n >= MAX_DIR_ENTRIES) {
        c->err = XA_ELIMIT;
        return DIRENT_ABORT;
    }
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        void *p = realloc(c->v, ncap * sizeof(*c->v));
        if (!p) {
            c->err = XA_ENOMEM;
            return DIRENT_ABORT;
        }
        c->v = p;
        c->cap = ncap;
    }
    char *name = strndup(d->name, (size_t)len);
    if (!name) {
        c->err = XA_ENOMEM;
        return DIRENT_ABORT;
    }
    c->v[c->n++] = (struct xd_dent){.name = name, .ino = d->inode};
    return 0;
}

static int cmp_dent(const void *a, const void *b)
{
    return strcmp(((const struct xd_dent *)a)->name, ((const struct xd_dent *)b)->name);
}

static void free_dents(struct xd_dent *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

/* Entries of a directory, sorted by name, duplicates removed. */
static int read_dir(struct xd_model *m, uint32_t ino, struct xd_dent **out, size_t *nout)
{
    struct dir_ctx c = {.m = m};
    errcode_t e = ext2fs_dir_iterate2(m->fs, ino, 0, NULL, dir_cb, &c);
    if (e && !c.err) {
        m->bad++; /* an unreadable directory reads as empty */
        c.err = 0;
    }
    if (c.err) {
        free_dents(c.v, c.n);
        return c.err;
    }
    if (c.n)
        qsort(c.v, c.n, sizeof(*c.v), cmp_dent);
    size_t w = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (w && strcmp(c.v[w - 1].name, c.v[i].name) == 0) {
            free(c.v[i].name);
            m->bad++;
            continue;
        }
        c.v[w++] = c.v[i];
    }
    *out = c.v;
    *nout = w;
    return 0;
}

/* ----------------------------------------------------------- extents --- */

struct ext_ctx {
    struct xd_ext *v;
    size_t n, cap;
    int err;
};

static int push_ext(struct ext_ctx *c, uint64_t lblk, uint64_t pblk, uint32_t len)
{
    if (c->n && c->v[c->n - 1].lblk + c->v[c->n - 1].len == lblk &&
        c->v[c->n - 1].pblk + c->v[c->n - 1].len == pblk && c->v[c->n - 1].len + len > len) {
        c->v[c->n - 1].len += len;
        return 0;
    }
    if (c->n >= MAX_EXTENTS)
        return c->err = XA_ELIMIT;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 8;
        void *p = realloc(c->v, ncap * sizeof(*c->v));
        if (!p)
            return c->err = XA_ENOMEM;
        c->v = p;
        c->cap = ncap;
    }
    c->v[c->n++] = (struct xd_ext){.lblk = lblk, .pblk = pblk, .len = len};
    return 0;
}

static int blk_cb(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
                  int ref_offset, void *priv)
{
    (void)fs, (void)ref_blk, (void)ref_offset;
    if (blockcnt < 0)
        return 0;
    return push_ext(priv, (uint64_t)blockcnt, *blocknr, 1) ? BLOCK_ABORT : 0;
}

static void read_extents(struct xd_model *m, struct xd_node *n, struct istate *st)
{
    free(n->ext);
    n->ext = NULL;
    n->next = 0;
    if ((!LINUX_S_ISREG(st->mode) && !LINUX_S_ISDIR(st->mode)) || !st->alive ||
        (st->flags & EXT4_INLINE_DATA_FL))
        return;
    struct ext_ctx c = {0};
    if (st->flags & EXT4_EXTENTS_FL) {
        ext2_extent_handle_t h;
        if (ext2fs_extent_open2(m->fs, n->ino, (struct ext2_inode *)&st->raw, &h) == 0) {
            struct ext2fs_extent e;
            errcode_t r = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &e);
            for (unsigned steps = 0; !r && steps < 4 * MAX_EXTENTS; steps++) {
                if ((e.e_flags & EXT2_EXTENT_FLAGS_LEAF) &&
                    !(e.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT) && e.e_len &&
                    push_ext(&c, e.e_lblk, e.e_pblk, e.e_len))
                    break;
                r = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &e);
            }
            ext2fs_extent_free(h);
        } else {
            m->bad++;
        }
    } else {
        if (ext2fs_block_iterate3(m->fs, n->ino, BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY,
                                  NULL, blk_cb, &c))
            m->bad++;
    }
    if (c.err)
        m->bad++;
    n->ext = c.v;
    n->next = c.n;
    m->bmap_dirty = true;
}

/* ------------------------------------------------------------- links --- */

int model_add_link(struct xd_node *n, uint32_t parent, const char *name)
{
    for (size_t i = 0; i < n->nlk; i++)
        if (n->lk[i].parent == parent && strcmp(n->lk[i].name, name) == 0)
            return 0;
    void *p = realloc(n->lk, (n->nlk + 1) * sizeof(*n->lk));
    if (!p)
        return XA_ENOMEM;
    n->lk = p;
    char *nm = strdup(name);
    if (!nm)
        return XA_ENOMEM;
    n->lk[n->nlk++] = (struct xd_link){.parent = parent, .name = nm};
    return 0;
}

void model_del_link(struct xd_node *n, uint32_t parent, const char *name)
{
    for (size_t i = 0; i < n->nlk; i++) {
        if (n->lk[i].parent == parent && strcmp(n->lk[i].name, name) == 0) {
            free(n->lk[i].name);
            memmove(&n->lk[i], &n->lk[i + 1], (n->nlk - i - 1) * sizeof(*n->lk));
            n->nlk--;
            return;
        }
    }
}

char *model_path(const struct xd_model *m, uint32_t ino)
{
    const char *parts[MAX_PATH_DEPTH];
    size_t depth = 0, total = 0;
    uint32_t cur = ino;
    while (cur != ROOT_INO) {
        const struct xd_node *n = node_get(m, cur);
        if (!n || !n->nlk || depth == MAX_PATH_DEPTH)
            return NULL;
        parts[depth++] = n->lk[0].name;
        total += strlen(n->lk[0].name) + 1;
        if (total > MAX_PATH_BYTES)
            return NULL;
        cur = n->lk[0].parent;
    }
    char *s = malloc(total + 2);
    if (!s)
        return NULL;
    char *p = s;
    if (!depth)
        *p++ = '/';
    while (depth) {
        const char *c = parts[--depth];
        *p++ = '/';
        size_t l = strlen(c);
        memcpy(p, c, l);
        p += l;
    }
    *p = 0;
    return s;
}

/* "dir/name" ("/name" under the root); NULL past MAX_PATH_BYTES or out of memory. */
char *model_path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    if (dl + nl + 2 > MAX_PATH_BYTES)
        return NULL;
    char *s = malloc(dl + nl + 2);
    if (s) {
        memcpy(s, dir, dl);
        size_t o = dl;
        if (dl != 1)
            s[o++] = '/';
        memcpy(s + o, name, nl + 1);
    }
    return s;
}

char *model_join_path(const struct xd_model *m, uint32_t dir, const char *name)
{
    char *d = model_path(m, dir);
    char *s = d ? model_path_join(d, name) : NULL;
    free(d);
    return s;
}

/* -------------------------------------------------------------- scan --- */

static struct xd_node *new_node(struct xd_model *m, uint32_t ino, struct istate *st)
{
    struct xd_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->ino = ino;
    apply_state(n, st);
    if (u64map_put(&m->nodes, ino, n, NULL) < 0) {
        free(n);
        return NULL;
    }
    read_extents(m, n, st);
    return n;
}

int model_scan(struct xd_model *m)
{
    model_free_nodes(m);
    ext2fs_flush_icache(m->fs);
    struct istate st;
    if (read_state(m, ROOT_INO, &st) < 0 || !st.alive || !LINUX_S_ISDIR(st.mode)) {
        snprintf(m->err, sizeof(m->err), "root directory unreadable");
        return XA_EBADDATA;
    }
    if (!new_node(m, ROOT_INO, &st))
        return XA_ENOMEM;
    uint32_t *queue = malloc(sizeof(uint32_t) * 1024);
    size_t qh = 0, qn = 0, qcap = 1024;
    if (!queue)
        return XA_ENOMEM;
    queue[qn++] = ROOT_INO;
    int rc = 0;
    while (qh < qn && rc == 0) {
        struct xd_node *d = node_get(m, queue[qh++]);
        rc = read_dir(m, d->ino, &d->ents, &d->nents);
        for (size_t i = 0; rc == 0 && i < d->nents; i++) {
            uint32_t c = d->ents[i].ino;
            struct xd_node *cn = node_get(m, c);
            if (!cn) {
                if (m->nodes.count >= m->inodes_count) {
                    rc = XA_ELIMIT;
                    break;
                }
                if (read_state(m, c, &st) < 0 || !st.alive) {
                    m->bad++; /* entry naming a free inode */
                    continue;
                }
                cn = new_node(m, c, &st);
                if (!cn) {
                    rc = XA_ENOMEM;
                    break;
                }
                if (LINUX_S_ISDIR(st.mode)) {
                    if (qn == qcap) {
                        uint32_t *q2 = realloc(queue, qcap * 2 * sizeof(*queue));
                        if (!q2) {
                            rc = XA_ENOMEM;
                            break;
                        }
                        queue = q2;
                        qcap *= 2;
                    }
                    queue[qn++] = c;
                }
            }
            rc = model_add_link(cn, d->ino, d->ents[i].name);
        }
    }
    free(queue);
    return rc;
}

/* ------------------------------------------------- data attribution --- */

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
static void attribute_pending(struct xd_model *m, struct u64map *out)
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

static void free_rlists(struct u64map *rl)
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

static int dvec_push(struct dvec *d, const struct delta *x)
{
    if (d->n == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 16;
        void *p = realloc(d->v, ncap * sizeof(*d->v));
        if (!p)
            return XA_ENOMEM;
        d->v = p;
        d->cap = ncap;
    }
    d->v[d->n++] = *x;
    return 0;
}

static void dvec_free(struct dvec *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].name);
        free(d->v[i].old_path);
    }
    free(d->v);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void diff_changed_inodes(struct refresh *rf, const uint32_t *cand, size_t n,
                                const uint32_t *force, size_t nforce, bool all_known)
{
    struct xd_model *m = rf->m;
    /* 1. new state of every candidate that changed */
    size_t nchg = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t ino = cand[i];
        if ((i && cand[i - 1] == ino) || ino == 0 || ino > m->inodes_count ||
            (ino < m->first_ino && ino != ROOT_INO))
            continue;
        struct chg *c = &rf->chg[nchg];
        if (read_state(m, ino, &c->st) < 0) {
            m->bad++;
            continue;
        }
        struct xd_node *old = node_get(m, ino);
        if (!old && !c->st.alive)
            continue;
        if (old && old->rawsum == c->st.rawsum && !all_known) {
            /* unchanged inode: skip, unless one of its directory blocks changed */
            bool forced = false;
            for (size_t k = 0; k < nforce && !forced; k++)
                forced = force[k] == ino;
            if (!forced)
                continue;
        }
        c->ino = ino;
        /* ext4 may hand a freed inode number to a new file in the same
         * transaction: a new generation makes it a delete plus a create, not
         * a rename of the old file */
        if (old && c->st.alive && old->nlk && old->generation != c->st.generation)
            old->reused = true;
        else if (old) {
            c->known = true;
            c->old_mode = old->mode;
            c->old_uid = old->uid;
            c->old_gid = old->gid;
            c->old_size = old->size;
            c->old_mtime = old->mtime;
        }
        nchg++;
    }
    rf->nchg = nchg;
}

static int diff_dir_entries(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    struct chg *chg = rf->chg;
    size_t nchg = rf->nchg;
    /* 2. entry changes of known directories (old paths computed before any change) */
    int rc = 0;
    for (size_t i = 0; i < nchg && rc == 0; i++) {
        struct xd_node *d = node_get(m, chg[i].ino);
        if (!d || !LINUX_S_ISDIR(d->mode))
            continue;
        struct xd_dent *ne = NULL;
        size_t nn = 0;
        if (chg[i].st.alive && LINUX_S_ISDIR(chg[i].st.mode) && (rc = read_dir(m, d->ino, &ne, &nn)))
            break;
        size_t a = 0, b = 0;
        while (a < d->nents || b < nn) {
            int c = a == d->nents ? 1 : b == nn ? -1 : strcmp(d->ents[a].name, ne[b].name);
            if (c == 0 && d->ents[a].ino == ne[b].ino) {
                a++, b++;
                continue;
            }
            if (c <= 0) {
                struct delta x = {.dir = d->ino, .ino = d->ents[a].ino,
                                  .name = strdup(d->ents[a].name),
                                  .old_path = model_join_path(m, d->ino, d->ents[a].name)};
                dvec_push(&rf->removed, &x);
                a++;
            }
            if (c >= 0) {
                struct xd_node *t = node_get(m, ne[b].ino);
                bool known = t && !t->reused;
                struct delta x = {.dir = d->ino, .ino = ne[b].ino, .name = strdup(ne[b].name),
                                  .known = known,
                                  .old_path = known ? model_path(m, t->ino) : NULL};
                dvec_push(&rf->added, &x);
                b++;
            }
        }
        free_dents(d->ents, d->nents);
        d->ents = ne;
        d->nents = nn;
    }
    return rc;
}

static void diff_inodes(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    struct chg *chg = rf->chg;
    size_t nchg = rf->nchg;
    /* 3. attributes and extents of known inodes */
    for (size_t i = 0; i < nchg; i++) {
        struct xd_node *nd = node_get(m, chg[i].ino);
        if (!nd)
            continue;
        if (!chg[i].st.alive) { /* keep the last attributes for the DELETE event */
            nd->links = 0;
            nd->rawsum = chg[i].st.rawsum;
            continue;
        }
        apply_state(nd, &chg[i].st);
        read_extents(m, nd, &chg[i].st);
    }
}

static void diff_unlink(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    /* 4. unlink removed names */
    for (size_t i = 0; i < rf->removed.n; i++) {
        struct xd_node *t = node_get(m, rf->removed.v[i].ino);
        if (t)
            model_del_link(t, rf->removed.v[i].dir, rf->removed.v[i].name);
    }
}

static int diff_link(struct refresh *rf)
{
    struct xd_model *m = rf->m;
    /* 5. link added names; new inodes join the model (new directories with their
     *    entries, which are appended to `added` so that the walk covers subtrees) */
    int rc = 0;
    for (size_t i = 0; i < rf->added.n && rc == 0; i++) {
        struct delta *x = &rf->added.v[i];
        if (!x->name)
            continue;
        struct xd_node *t = node_get(m, x->ino);
        if (!t) {
            struct istate st;
            if (m->nodes.count >= m->inodes_count || read_state(m, x->ino, &st) < 0 ||
                !st.alive) {
                m->bad++;
                x->consumed = true; /* an entry naming a free inode: ignore */
                continue;
            }
            t = new_node(m, x->ino, &st);
            if (!t) {
                rc = XA_ENOMEM;
                break;
            }
            if (LINUX_S_ISDIR(st.mode) && (rc = read_dir(m, t->ino, &t->ents, &t->nents)) == 0) {
                for (size_t j = 0; j < t->nents; j++) {
                    struct xd_node *c = node_get(m, t->ents[j].ino);
                    struct delta y = {.dir = t->ino, .ino = t->ents[j].ino,
                                      .name = strdup(t->ents[j].name), .known = c != NULL,
                                      .old_path = c ? model_path(m, c->ino) : NULL};
                    dvec_push(&rf->added, &y);
                    x = &rf->added.v[i]; /* the vector may have moved */
                }
            }
        }
        rc = rc ? rc : model_add_link(t, x->dir, x->name);
    }
    return rc;
}

int model_refresh(struct xd_model *m, const uint32_t *inos, size_t n, const uint32_t *force,
                  size_t nforce, bool all_known, uint64_t txn, struct evq *q)
{
    ext2fs_flush_icache(m->fs);
    size_t total = n + nforce + (all_known ? m->nodes.count : 0);
    uint32_t *cand = malloc((total ? total : 1) * sizeof(*cand));
    struct chg *chg = calloc(total ? total : 1, sizeof(*chg));
    struct refresh rf = {.m = m, .txn = txn, .chg = chg};
    if (!cand || !chg) {
        free(cand);
        free(chg);
        return XA_ENOMEM;
    }
    if (n)
        memcpy(cand, inos, n * sizeof(*cand));
    if (nforce)
        memcpy(cand + n, force, nforce * sizeof(*cand));
    n += nforce;
    if (all_known) {
        size_t pos = 0;
        uint64_t k;
        void *v;
        while (u64map_next(&m->nodes, &pos, &k, &v))
            cand[n++] = (uint32_t)k;
    }
    if (n)
        qsort(cand, n, sizeof(*cand), cmp_u32);

    diff_changed_inodes(&rf, cand, n, force, nforce, all_known);
    int rc = diff_dir_entries(&rf);
    diff_inodes(&rf);
    diff_unlink(&rf);
    if (rc == 0)
        rc = diff_link(&rf);
    /* 6. data written since the last round, per file */
    attribute_pending(m, &rf.ranges);

    model_events_names(&rf);
    model_events_deletes(&rf);
    model_events_changes(&rf);
    model_events_overwrites(&rf);
    model_events_queue(&rf, q);

    for (size_t i = 0; i < rf.nchg; i++) {
        struct xd_node *t = node_get(m, chg[i].ino);
        if (t)
            t->reused = false;
    }
    evq_clear(&rf.creates);
    evq_clear(&rf.mods);
    evq_clear(&rf.dels);
    free_rlists(&rf.ranges);
    dvec_free(&rf.removed);
    dvec_free(&rf.added);
    free(cand);
    free(chg);
    return rc;
}

int model_attribute(struct xd_model *m, uint64_t txn, struct evq *q)
{
    if (!m->npend)
        return 0;
    return model_refresh(m, NULL, 0, NULL, 0, false, txn, q);
}
