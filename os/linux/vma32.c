/*
 * vma32.c -- infer a 32-bit kernel's memory-map layout from its memory.
 *
 * Debian's 686 kernels carry no BTF, so where mm_struct keeps its maple
 * tree, where vm_area_struct keeps its flags and file, and how struct file,
 * dentry and mount lead to a path are written down nowhere. Each is found
 * from what every 6.1+ kernel's processes must hold, compared over a sample
 * of user processes:
 *   1. ma_root: the mm word that decodes as a maple node whose leaves are
 *      VMAs holding, at one offset each, their slot's start, its end + 1
 *      and this mm (vm_start, vm_end, vm_mm);
 *   2. vm_flags: VM_READ/WRITE/EXEC only with VM_MAYREAD/WRITE/EXEC, and
 *      VM_GROWSDOWN (the stack) on exactly one readable, writable VMA;
 *   3. start_stack: the mm word in the stack VMA followed by arg_start,
 *      arg_end == env_start, env_end, all in it in that order, after
 *      start_brk <= brk;
 *   4. vm_file, f_path.dentry, d_name: the VMA word that is NULL or a
 *      struct file whose dentry's qstr holds a length and a printable name
 *      without '/' of that length, stored inside the dentry (d_iname) for
 *      some; 5. d_parent: the dentry word leading through named dentries to
 *      a root (its own parent); d_hash.pprev: a pointer back to the dentry;
 *   6. vm_pgoff: start >> PAGE_SHIFT (or 0) in anonymous VMAs but the
 *      stack, a page count below 2^20 in file ones;
 *   7. vm_private_data and vm_ops of special mappings: the word pointing at
 *      a struct vm_special_mapping whose name is "[...]" (none in the
 *      sample: no names), and the word holding the same ops in all of them;
 *   8. struct mount around f_path.mnt: vfsmount.mnt_root is the file's
 *      dentry or one above it, and the mount's parent is itself (the
 *      namespace's root mount) or a mount, sitting on a dentry;
 *      mnt_mountpoint follows mnt_parent.
 * A step with more than one answer refuses; a process whose tree does not
 * walk is left out, but more than half the sample must agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/maple.h"
#include "os/linux/word32.h"
#include "os/linux/vma32.h"
#include "xa_errors.h"

#define VM_READ 0x1u
#define VM_WRITE 0x2u
#define VM_GROWSDOWN 0x100u
#define PAGE_SHIFT 12
#define PGOFF_MAX (1u << 20) /* files below 4 GiB */
#define NAME_MAX_LEN 255u
#define SPECIAL_NAME_MAX 64u
#define NOWHERE UINT32_MAX
/* One bit per word of a vm_area_struct window. */
#define WORDS_MASK ((1u << (V32_VMA_SPAN / 4)) - 1)
_Static_assert(V32_VMA_SPAN / 4 < 32, "a VMA window's words fit a 32-bit mask");
_Static_assert(V32_DENTRY_SPAN / 4 <= 64, "a dentry window's words fit a 64-bit mask");

struct mmv {
    uint64_t mm;
    size_t total;        /* VMAs in the tree */
    size_t n;            /* VMAs compared */
    uint64_t *vma;       /* their addresses */
    uint64_t *first, *last;
    uint8_t *win;        /* n windows of V32_VMA_SPAN bytes */
    size_t stack;        /* the VM_GROWSDOWN VMA (step 2) */
};

struct ctx {
    const struct v32_mem *m;
    struct mmv mv[V32_SAMPLE];
    size_t nmv;
    struct v32_layout *l;
    char *why;
    /* step 4: distinct files and their dentries */
    uint64_t file[V32_FILES], dentry[V32_FILES], root[V32_FILES];
    size_t nfiles;
};

static bool kptr(const struct v32_mem *m, uint64_t v)
{
    return w32_kptr(m->page_offset, v);
}

static int rd32(const struct v32_mem *m, uint64_t va, uint32_t *out)
{
    uint8_t b[4];
    int rc = m->read(m->ctx, va, b, 4);
    *out = rc == 0 ? w32_le32(b) : 0;
    return rc;
}

static uint32_t vw(const struct mmv *v, size_t i, uint32_t off)
{
    return w32_le32(v->win + i * V32_VMA_SPAN + off);
}

static void mmv_free(struct mmv *v)
{
    free(v->vma);
    free(v->first);
    free(v->last);
    free(v->win);
    memset(v, 0, sizeof(*v));
}

/* At most one answer: the only bit of @mask, or NOWHERE with a reason. */
static uint32_t only(uint64_t mask, const char *what, char *why)
{
    if (mask == 0) {
        snprintf(why, LX_WHY_LEN, "no offset fits %s", what);
        return NOWHERE;
    }
    if (mask & (mask - 1)) {
        snprintf(why, LX_WHY_LEN, "more than one offset fits %s", what);
        return NOWHERE;
    }
    uint32_t i = 0;
    while (!(mask >> i & 1))
        i++;
    return i * 4;
}

/* ---- 1. the tree and the VMAs' own fields ------------------------------- */

/* Walk the tree at word @r of @mm into @v and mark the offsets holding
 * vm_start, vm_end and vm_mm in every VMA. false when it does not walk. */
static bool try_root(struct ctx *c, uint64_t mm, uint32_t r, struct mmv *v, uint32_t *start_mask,
                     uint32_t *end_mask, uint32_t *mm_mask)
{
    const struct v32_mem *m = c->m;
    memset(v, 0, sizeof(*v));
    uint32_t root;
    if (rd32(m, mm + r, &root) < 0 || (root & 3) != 2 || !kptr(m, root & ~0xffu))
        return false;
    struct maple_geom g = maple_geom_32(m->page_offset);
    g.max_nodes = V32_TREE_NODES; /* up to 16 words x 32 processes are tried */
    struct maple_entry *e = NULL;
    size_t n = 0;
    char why[LX_WHY_LEN];
    int rc = maple_collect(&g, m->read, m->ctx, root, &e, &n, why);
    if (rc < 0 || n == 0) {
        free(e);
        return false;
    }
    v->total = n;
    if (n > V32_VMAS) { /* the lowest and the highest (the stack is at the top) */
        memmove(e + V32_VMAS / 2, e + n - V32_VMAS / 2, V32_VMAS / 2 * sizeof(*e));
        n = V32_VMAS;
    }
    v->mm = mm;
    v->vma = calloc(n, sizeof(*v->vma));
    v->first = calloc(n, sizeof(*v->first));
    v->last = calloc(n, sizeof(*v->last));
    v->win = malloc(n * V32_VMA_SPAN);
    if (!v->vma || !v->first || !v->last || !v->win) {
        free(e);
        mmv_free(v);
        return false;
    }
    uint32_t sm = WORDS_MASK, em = WORDS_MASK, mmm = WORDS_MASK;
    for (size_t i = 0; i < n; i++) {
        v->vma[i] = e[i].ptr;
        v->first[i] = e[i].first;
        v->last[i] = e[i].last;
        if (m->read(m->ctx, e[i].ptr, v->win + i * V32_VMA_SPAN, V32_VMA_SPAN) < 0) {
            free(e);
            mmv_free(v);
            return false;
        }
        for (uint32_t k = 0; k < V32_VMA_SPAN / 4; k++) {
            uint32_t w = vw(v, i, k * 4);
            if (w != e[i].first)
                sm &= ~(1u << k);
            if ((uint64_t)w != e[i].last + 1)
                em &= ~(1u << k);
            if (w != mm)
                mmm &= ~(1u << k);
        }
    }
    free(e);
    v->n = n;
    if (!sm || !em || !mmm) { /* one VMA at least that is not this tree's */
        mmv_free(v);
        return false;
    }
    *start_mask &= sm;
    *end_mask &= em;
    *mm_mask &= mmm;
    return true;
}

static int find_tree(struct ctx *c, const uint64_t *mms, size_t nmms)
{
    struct v32_layout *l = c->l;
    uint32_t found = NOWHERE;
    for (uint32_t r = 0; r < V32_MM_ROOT_SPAN; r += 4) {
        struct mmv *tmp = calloc(nmms, sizeof(*tmp));
        if (!tmp)
            return XA_ENOMEM;
        uint32_t sm = WORDS_MASK, em = WORDS_MASK, mmm = WORDS_MASK;
        size_t ok = 0;
        for (size_t i = 0; i < nmms; i++)
            if (try_root(c, mms[i], r, &tmp[ok], &sm, &em, &mmm))
                ok++;
        bool agree = ok * 2 > nmms && sm && em && mmm;
        if (agree && found != NOWHERE) {
            for (size_t i = 0; i < ok; i++)
                mmv_free(&tmp[i]);
            free(tmp);
            snprintf(c->why, LX_WHY_LEN,
                     "mm_struct: maple trees of VMAs at 0x%x and 0x%x", found, r);
            return XA_EBADDATA;
        }
        if (agree) {
            found = r;
            l->vm_start = only(sm, "vm_area_struct.vm_start", c->why);
            l->vm_end = only(em, "vm_area_struct.vm_end", c->why);
            l->vm_mm = only(mmm, "vm_area_struct.vm_mm", c->why);
            memcpy(c->mv, tmp, ok * sizeof(*tmp));
            c->nmv = ok;
        } else {
            for (size_t i = 0; i < ok; i++)
                mmv_free(&tmp[i]);
        }
        free(tmp);
    }
    if (found == NOWHERE) {
        snprintf(c->why, LX_WHY_LEN,
                 "no mm_struct word leads to a maple tree of VMAs in most of %zu processes", nmms);
        return XA_ENOENT;
    }
    if (l->vm_start == NOWHERE || l->vm_end == NOWHERE || l->vm_mm == NOWHERE)
        return XA_EBADDATA;
    l->mm_root = found;
    return 0;
}

/* ---- 2. vm_flags ----------------------------------------------------------- */

static bool flags_at(struct ctx *c, uint32_t off)
{
    for (size_t j = 0; j < c->nmv; j++) {
        struct mmv *v = &c->mv[j];
        size_t stacks = 0;
        for (size_t i = 0; i < v->n; i++) {
            uint32_t f = vw(v, i, off);
            if (((f & 7u) << 4) & ~f)
                return false; /* a permission without its VM_MAY* */
            if (f & VM_GROWSDOWN) {
                if ((f & (VM_READ | VM_WRITE)) != (VM_READ | VM_WRITE))
                    return false;
                stacks++;
            }
        }
        if (stacks != 1)
            return false;
    }
    return true;
}

static int find_flags(struct ctx *c)
{
    struct v32_layout *l = c->l;
    uint32_t after = l->vm_start > l->vm_end ? l->vm_start : l->vm_end;
    if (l->vm_mm > after)
        after = l->vm_mm;
    uint64_t mask = 0;
    for (uint32_t off = after + 4; off < V32_VMA_SPAN; off += 4)
        if (flags_at(c, off))
            mask |= 1ull << (off / 4);
    if ((l->vm_flags = only(mask, "vm_area_struct.vm_flags", c->why)) == NOWHERE)
        return XA_EBADDATA;
    for (size_t j = 0; j < c->nmv; j++) {
        struct mmv *v = &c->mv[j];
        for (size_t i = 0; i < v->n; i++)
            if (vw(v, i, l->vm_flags) & VM_GROWSDOWN)
                v->stack = i;
    }
    return 0;
}

/* ---- 3. start_stack -------------------------------------------------------- */

static int find_start_stack(struct ctx *c)
{
    const struct v32_mem *m = c->m;
    uint64_t mask[V32_MM_SPAN / 256] = {0};
    bool first = true;
    uint8_t *buf = malloc(V32_MM_SPAN);
    if (!buf)
        return XA_ENOMEM;
    for (size_t j = 0; j < c->nmv; j++) {
        const struct mmv *v = &c->mv[j];
        if (m->read(m->ctx, v->mm, buf, V32_MM_SPAN) < 0) {
            free(buf);
            snprintf(c->why, LX_WHY_LEN, "mm_struct 0x%llx unreadable",
                     (unsigned long long)v->mm);
            return XA_EFAULT;
        }
        uint64_t lo = v->first[v->stack], hi = v->last[v->stack] + 1;
        uint64_t here[V32_MM_SPAN / 256] = {0};
        for (uint32_t k = 8; k + 20 <= V32_MM_SPAN; k += 4) {
            uint32_t start_brk = w32_le32(buf + k - 8), brk = w32_le32(buf + k - 4);
            uint32_t s = w32_le32(buf + k), as = w32_le32(buf + k + 4), ae = w32_le32(buf + k + 8),
                     es = w32_le32(buf + k + 12), ee = w32_le32(buf + k + 16);
            if (start_brk <= brk && lo <= s && s <= as && as <= ae && ae == es && es <= ee &&
                ee <= hi)
                here[k / 256] |= 1ull << (k % 256 / 4);
        }
        for (size_t w = 0; w < sizeof(mask) / sizeof(mask[0]); w++)
            mask[w] = first ? here[w] : mask[w] & here[w];
        first = false;
    }
    free(buf);
    uint32_t found = NOWHERE, count = 0;
    for (size_t w = 0; w < sizeof(mask) / sizeof(mask[0]); w++)
        for (uint32_t b = 0; b < 64; b++)
            if (mask[w] >> b & 1) {
                found = (uint32_t)w * 256 + b * 4;
                count++;
            }
    if (count != 1) {
        snprintf(c->why, LX_WHY_LEN, "%s offset fits mm_struct.start_stack",
                 count ? "more than one" : "no");
        return XA_EBADDATA;
    }
    c->l->mm_start_stack = found;
    return 0;
}

/* map_count: the int that counts the tree's VMAs in every process (only a
 * check: none or several leaves it unknown). */
static void find_map_count(struct ctx *c)
{
    uint64_t mask = ~0ull;
    for (size_t j = 0; j < c->nmv; j++)
        for (uint32_t k = 0; k < 64; k++) {
            uint32_t w;
            if ((mask >> k & 1) &&
                (rd32(c->m, c->mv[j].mm + c->l->mm_root + k * 4, &w) < 0 || w != c->mv[j].total))
                mask &= ~(1ull << k);
        }
    char why[LX_WHY_LEN];
    uint32_t rel = only(mask, "mm_struct.map_count", why);
    c->l->mm_map_count = rel == NOWHERE ? NOWHERE : c->l->mm_root + rel;
}

/* ---- 4, 5. files and dentries -------------------------------------------- */

/* The qstr at @d_name of @dentry: a length, and a name of that many
 * printable bytes without '/' ending in NUL. *inline_name when the name is
 * inside the dentry (d_iname). */
static bool name_ok(const struct v32_mem *m, uint64_t dentry, uint32_t d_name, bool *inline_name)
{
    uint32_t len, name;
    if (rd32(m, dentry + d_name + 4, &len) < 0 || rd32(m, dentry + d_name + 8, &name) < 0 ||
        len == 0 || len > NAME_MAX_LEN || name < m->page_offset || name > 0xFFFFFFFFull - 256)
        return false;
    uint8_t s[NAME_MAX_LEN + 1];
    if (m->read(m->ctx, name, s, len + 1) < 0 || s[len] != 0)
        return false;
    for (uint32_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] >= 0x7f || s[i] == '/')
            return false;
    if (inline_name)
        *inline_name = name > dentry + d_name + 8 && name < dentry + V32_DENTRY_SPAN + 64;
    return true;
}

/* The distinct vm_file values at @off (0 in one VMA at least), or false. */
static bool files_at(struct ctx *c, uint32_t off)
{
    c->nfiles = 0;
    size_t anon = 0;
    for (size_t j = 0; j < c->nmv; j++)
        for (size_t i = 0; i < c->mv[j].n; i++) {
            uint32_t f = vw(&c->mv[j], i, off);
            if (f == 0) {
                anon++;
                continue;
            }
            if (!kptr(c->m, f))
                return false;
            size_t k = 0;
            while (k < c->nfiles && c->file[k] != f)
                k++;
            if (k == c->nfiles && c->nfiles < V32_FILES)
                c->file[c->nfiles++] = f;
        }
    return anon > 0 && c->nfiles > 0;
}

static bool dentries_at(struct ctx *c, uint32_t f_path, uint32_t d_name)
{
    size_t inlined = 0;
    for (size_t k = 0; k < c->nfiles; k++) {
        uint32_t d, mnt;
        bool in = false;
        if (rd32(c->m, c->file[k] + f_path + 4, &d) < 0 || !kptr(c->m, d) ||
            rd32(c->m, c->file[k] + f_path, &mnt) < 0 || !kptr(c->m, mnt) ||
            !name_ok(c->m, d, d_name, &in))
            return false;
        c->dentry[k] = d;
        inlined += in;
    }
    return inlined > 0;
}

/* Up from @d through the word at @parent to a dentry that is its own
 * parent: every step named. The root, or 0. */
static uint64_t climb(const struct v32_mem *m, uint64_t d, uint32_t parent, uint32_t d_name,
                      unsigned *steps)
{
    for (*steps = 0; *steps < V32_DEPTH; ++*steps) {
        uint32_t p;
        if (rd32(m, d + parent, &p) < 0 || !kptr(m, p))
            return 0;
        if (p == d)
            return d;
        if (!name_ok(m, d, d_name, NULL))
            return 0;
        d = p;
    }
    return 0;
}

static bool parents_at(struct ctx *c, uint32_t parent, uint32_t d_name)
{
    unsigned deepest = 0;
    for (size_t k = 0; k < c->nfiles; k++) {
        unsigned steps;
        if (!(c->root[k] = climb(c->m, c->dentry[k], parent, d_name, &steps)))
            return false;
        if (steps > deepest)
            deepest = steps;
    }
    return deepest > 0;
}

/* d_hash.pprev: points at the pointer naming this node (the bucket's first
 * or the previous node's next, bit 0 a lock bit); NULL when unhashed. */
static bool pprev_at(struct ctx *c, uint32_t off)
{
    size_t hashed = 0;
    for (size_t k = 0; k < c->nfiles; k++) {
        uint32_t pp, back;
        if (rd32(c->m, c->dentry[k] + off, &pp) < 0)
            return false;
        if (pp == 0)
            continue;
        if (!kptr(c->m, pp) || rd32(c->m, pp, &back) < 0 ||
            (back & ~1u) != c->dentry[k] + off - 4)
            return false;
        hashed++;
    }
    return hashed > 0;
}

static int find_files(struct ctx *c)
{
    struct v32_layout *l = c->l;
    uint32_t hits = 0;
    for (uint32_t off = l->vm_flags + 4; off < V32_VMA_SPAN; off += 4) {
        if (!files_at(c, off))
            continue;
        for (uint32_t fp = 0; fp + 8 <= V32_FILE_SPAN; fp += 4)
            for (uint32_t dn = 0; dn + 12 <= V32_DENTRY_SPAN; dn += 4)
                if (dentries_at(c, fp, dn) && hits++ == 0) {
                    l->vm_file = off;
                    l->f_path = fp;
                    l->d_name = dn;
                }
    }
    if (hits != 1) {
        snprintf(c->why, LX_WHY_LEN, "%s place fits vm_file, f_path and the dentry's name",
                 hits ? "more than one" : "no");
        return XA_EBADDATA;
    }
    files_at(c, l->vm_file);
    dentries_at(c, l->f_path, l->d_name);
    uint64_t mask = 0;
    for (uint32_t p = 0; p < V32_DENTRY_SPAN; p += 4)
        if (parents_at(c, p, l->d_name))
            mask |= 1ull << (p / 4);
    if ((l->d_parent = only(mask, "dentry.d_parent", c->why)) == NOWHERE)
        return XA_EBADDATA;
    parents_at(c, l->d_parent, l->d_name);
    mask = 0;
    for (uint32_t h = 4; h < l->d_name; h += 4)
        if (pprev_at(c, h))
            mask |= 1ull << (h / 4);
    if ((l->d_hash_pprev = only(mask, "dentry.d_hash.pprev", c->why)) == NOWHERE)
        return XA_EBADDATA;
    return 0;
}

/* ---- 6. vm_pgoff ---------------------------------------------------------- */

/* The stack's vm_pgoff is left out: it starts from the first page the
 * kernel set up and goes down as the stack grows (expand_downwards). */
static bool pgoff_at(struct ctx *c, uint32_t off)
{
    size_t own = 0;
    for (size_t j = 0; j < c->nmv; j++) {
        const struct mmv *v = &c->mv[j];
        for (size_t i = 0; i < v->n; i++) {
            uint32_t pg = vw(v, i, off);
            if (vw(v, i, c->l->vm_file)) {
                if (pg >= PGOFF_MAX)
                    return false;
            } else if (pg == v->first[i] >> PAGE_SHIFT && pg) {
                own++;
            } else if (pg && i != v->stack) {
                return false;
            }
        }
    }
    return own > 0;
}

static int find_pgoff(struct ctx *c)
{
    uint64_t mask = 0;
    for (uint32_t off = c->l->vm_flags + 4; off < V32_VMA_SPAN; off += 4)
        if (off != c->l->vm_file && pgoff_at(c, off))
            mask |= 1ull << (off / 4);
    return (c->l->vm_pgoff = only(mask, "vm_area_struct.vm_pgoff", c->why)) == NOWHERE
               ? XA_EBADDATA : 0;
}

/* ---- 7. special mappings --------------------------------------------------- */

/* Does the word at @off of anonymous VMA @i point at a struct
 * vm_special_mapping, whose first member names it "[...]"? */
static bool special(const struct ctx *c, const struct mmv *v, size_t i, uint32_t off)
{
    const struct v32_mem *m = c->m;
    uint32_t priv = vw(v, i, off), name;
    if (vw(v, i, c->l->vm_file) || !kptr(m, priv) || rd32(m, priv, &name) < 0 ||
        name < m->page_offset || name > 0xFFFFFFFFull - SPECIAL_NAME_MAX)
        return false;
    char s[SPECIAL_NAME_MAX];
    if (m->read(m->ctx, name, s, sizeof(s)) < 0)
        return false;
    size_t len = strnlen(s, sizeof(s));
    if (len < 3 || len == sizeof(s) || s[0] != '[' || s[len - 1] != ']')
        return false;
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] >= 0x7f)
            return false;
    return true;
}

/* Some process has a special mapping named through @off. */
static bool specials_at(const struct ctx *c, uint32_t off)
{
    for (size_t j = 0; j < c->nmv; j++)
        for (size_t i = 0; i < c->mv[j].n; i++)
            if (special(c, &c->mv[j], i, off))
                return true;
    return false;
}

/* vm_ops: the same kernel pointer in every special mapping, NULL in the
 * other anonymous VMAs. */
static bool ops_at(const struct ctx *c, uint32_t off, uint64_t *ops)
{
    *ops = 0;
    for (size_t j = 0; j < c->nmv; j++) {
        const struct mmv *v = &c->mv[j];
        for (size_t i = 0; i < v->n; i++) {
            if (vw(v, i, c->l->vm_file))
                continue;
            uint32_t w = vw(v, i, off);
            if (!special(c, v, i, c->l->vm_private)) {
                if (w)
                    return false;
            } else if (!kptr(c->m, w) || (*ops && w != *ops)) {
                return false;
            } else {
                *ops = w;
            }
        }
    }
    return *ops != 0;
}

static int find_specials(struct ctx *c)
{
    struct v32_layout *l = c->l;
    uint64_t mask = 0;
    for (uint32_t off = l->vm_flags + 4; off < V32_VMA_SPAN; off += 4)
        if (off != l->vm_file && off != l->vm_pgoff && specials_at(c, off))
            mask |= 1ull << (off / 4);
    if (mask == 0) { /* no special mapping in the sample (vdso=0): none named */
        l->vm_private = l->vm_ops = NOWHERE;
        l->special_ops = 0;
        return 0;
    }
    if ((l->vm_private = only(mask, "vm_area_struct.vm_private_data", c->why)) == NOWHERE)
        return XA_EBADDATA;
    mask = 0;
    uint64_t ops;
    for (uint32_t off = l->vm_flags + 4; off < V32_VMA_SPAN; off += 4)
        if (off != l->vm_file && off != l->vm_pgoff && off != l->vm_private &&
            ops_at(c, off, &ops))
            mask |= 1ull << (off / 4);
    if ((l->vm_ops = only(mask, "vm_area_struct.vm_ops", c->why)) == NOWHERE)
        return XA_EBADDATA;
    ops_at(c, l->vm_ops, &l->special_ops);
    return 0;
}

/* ---- 8. mounts ------------------------------------------------------------- */

/* vfsmount.mnt_root: the file's dentry or one above it (the root met in 5,
 * or a directory for a bind mount), for every file. */
static bool mnt_root_at(const struct ctx *c, uint32_t off)
{
    const struct v32_mem *m = c->m;
    for (size_t k = 0; k < c->nfiles; k++) {
        uint32_t mnt, root;
        if (rd32(m, c->file[k] + c->l->f_path, &mnt) < 0 || rd32(m, mnt + off, &root) < 0 ||
            !kptr(m, root))
            return false;
        uint64_t d = c->dentry[k];
        unsigned steps = 0;
        while (d != root && d != c->root[k] && steps++ < V32_DEPTH) {
            uint32_t p;
            if (rd32(m, d + c->l->d_parent, &p) < 0)
                return false;
            d = p;
        }
        if (d != root)
            return false;
    }
    return true;
}

/* struct mount: @mnt_off before the vfsmount, the parent at @parent: the
 * mount itself (a namespace's root) in one file's mount at least, else a
 * mount whose vfsmount has a root dentry. */
static bool mount_at(const struct ctx *c, uint32_t mnt_off, uint32_t parent)
{
    const struct v32_mem *m = c->m;
    size_t tops = 0;
    for (size_t k = 0; k < c->nfiles; k++) {
        uint32_t mnt, p, mp, proot;
        if (rd32(m, c->file[k] + c->l->f_path, &mnt) < 0 || mnt - m->page_offset < mnt_off)
            return false;
        uint64_t mount = mnt - mnt_off;
        if (rd32(m, mount + parent, &p) < 0 || rd32(m, mount + parent + 4, &mp) < 0)
            return false;
        if (p == mount) {
            tops++;
            continue;
        }
        /* A mount elsewhere: its parent has a root, it sits on a named dentry
         * (or on a root: a mount over "/"). */
        uint32_t mp_parent;
        if (!kptr(m, p) || !kptr(m, mp) || rd32(m, p + mnt_off + c->l->mnt_root, &proot) < 0 ||
            !kptr(m, proot) || rd32(m, mp + c->l->d_parent, &mp_parent) < 0 ||
            (mp_parent != mp && !name_ok(m, mp, c->l->d_name, NULL)))
            return false;
    }
    return tops > 0;
}

static int find_mounts(struct ctx *c)
{
    struct v32_layout *l = c->l;
    uint64_t mask = 0;
    for (uint32_t off = 0; off < 16; off += 4)
        if (mnt_root_at(c, off))
            mask |= 1ull << (off / 4);
    if ((l->mnt_root = only(mask, "vfsmount.mnt_root", c->why)) == NOWHERE)
        return XA_EBADDATA;
    uint32_t hits = 0;
    for (uint32_t mo = 8; mo <= V32_MOUNT_SPAN; mo += 4)
        for (uint32_t p = 0; p + 8 <= mo; p += 4)
            if (mount_at(c, mo, p) && hits++ == 0) {
                l->mount_mnt = mo;
                l->mount_parent = p;
            }
    if (hits != 1) {
        snprintf(c->why, LX_WHY_LEN, "%s place fits struct mount's mnt and mnt_parent",
                 hits ? "more than one" : "no");
        return XA_EBADDATA;
    }
    l->mount_mountpoint = l->mount_parent + 4;
    return 0;
}

int v32_infer(const struct v32_mem *m, const uint64_t *mms, size_t n, struct v32_layout *out,
              char *why)
{
    memset(out, 0, sizeof(*out));
    why[0] = '\0';
    if (n == 0) {
        snprintf(why, LX_WHY_LEN, "no user process to learn from");
        return XA_ENOENT;
    }
    uint64_t pick[V32_SAMPLE];
    size_t np = 0;
    for (size_t k = 0; k < V32_SAMPLE && k < n; k++) /* evenly over the list */
        pick[np++] = mms[n <= V32_SAMPLE ? k : k * n / V32_SAMPLE];
    struct ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    c->m = m;
    c->l = out;
    c->why = why;
    int rc = find_tree(c, pick, np);
    if (rc == 0)
        rc = find_flags(c);
    if (rc == 0)
        rc = find_start_stack(c);
    if (rc == 0)
        find_map_count(c);
    if (rc == 0)
        rc = find_files(c);
    if (rc == 0)
        rc = find_pgoff(c);
    if (rc == 0)
        rc = find_specials(c);
    if (rc == 0)
        rc = find_mounts(c);
    if (rc == XA_ENOMEM && !why[0])
        snprintf(why, LX_WHY_LEN, "out of memory");
    out->nr_mms = c->nmv;
    for (size_t j = 0; j < c->nmv; j++) {
        out->nr_vmas += c->mv[j].n;
        mmv_free(&c->mv[j]);
    }
    out->nr_files = c->nfiles;
    free(c);
    return rc;
}
