/* model.c -- see model.h: the model's store: nodes and their names, and
 * inodes, directories and extents read through libext2fs from the shadow.
 * The scan is model_scan.c's, data attribution model_blocks.c's, the diff of
 * a refresh round model_diff.c's and its events model_events.c's.  Counts and
 * depths are capped so that hostile images terminate. */
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
    ahead_free(m);
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

int model_read_state(struct xd_model *m, uint32_t ino, struct istate *st)
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

void model_apply_state(struct xd_node *n, const struct istate *st)
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

void model_free_dents(struct xd_dent *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

/* Entries of a directory, sorted by name, duplicates removed. */
int model_read_dir(struct xd_model *m, uint32_t ino, struct xd_dent **out, size_t *nout)
{
    struct dir_ctx c = {.m = m};
    errcode_t e = ext2fs_dir_iterate2(m->fs, ino, 0, NULL, dir_cb, &c);
    if (e && !c.err) {
        m->bad++; /* an unreadable directory reads as empty */
        c.err = 0;
    }
    if (c.err) {
        model_free_dents(c.v, c.n);
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

void model_read_extents(struct xd_model *m, struct xd_node *n, struct istate *st)
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

struct xd_node *model_new_node(struct xd_model *m, uint32_t ino, struct istate *st)
{
    struct xd_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->ino = ino;
    model_apply_state(n, st);
    if (u64map_put(&m->nodes, ino, n, NULL) < 0) {
        free(n);
        return NULL;
    }
    model_read_extents(m, n, st);
    return n;
}
