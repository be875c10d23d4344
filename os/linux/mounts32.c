/*
 * mounts32.c -- infer a 32-bit kernel's mount-namespace layout from its
 * memory (mounts32.h).
 *
 * Debian's 686 kernels list no data symbols (no init_nsproxy, init_fs), so
 * each offset is the one answer every sampled task, namespace, mount or
 * super block agrees with:
 *   1. task_struct.nsproxy: the init_task word that most tasks share and
 *      that points at an nsproxy (a count, eight pointers), with
 *   2. nsproxy.mnt_ns, mnt_namespace.list and .root and mount.mnt_list
 *      together: a list whose links point back both ways, whose mounts'
 *      parents are mounts of the list, exactly one mount its own parent
 *      (the namespace's root), all naming the namespace at one offset;
 *      the other tasks' namespaces that walk the same way join the sample;
 *   3. task_struct.fs and fs_struct.root: in every task a (vfsmount of its
 *      namespace, dentry) pair after two words that are not pointers (pwd,
 *      the same kind of pair, follows a dentry);
 *   4. mount.mnt_ns: the word naming its namespace in every mount;
 *      mnt_id: small, non-zero and distinct over all mounts; mnt_devname:
 *      a printable string in every mount;
 *   5. vfsmount.mnt_sb: the word the root dentry of every mount also holds
 *      (d_sb); mnt_flags: only MNT_* bits, some set;
 *   6. super_block.s_type: a file_system_type whose name is a short
 *      lower-case word, two names at least; s_flags: SB_ACTIVE and SB_BORN
 *      and only SB_* bits; s_dev: another word, not a pointer, non-zero and
 *      distinct over the super blocks;
 *   7. mnt_group_id and mnt_master, from the declared order (mnt_id then
 *      mnt_group_id; mnt_master just before mnt_ns), kept only when they
 *      fit: a group id exactly on MNT_SHARED mounts, a master that is NULL
 *      or a mount.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/mounts32.h"
#include "xa_errors.h"

#define MNT_SHARED 0x1000u
#define MNT_KNOWN 0x1FFC33FFu /* MNT_* bits of 6.1 to 6.8 */
#define SB_LIVE 0x60000000u   /* SB_ACTIVE | SB_BORN */
#define SB_KNOWN 0xFEC38CDFu  /* SB_* bits */
#define NAME_MAX_LEN 255u

struct ns {
    uint64_t ns;
    size_t first, n; /* its mounts: c->node[first .. first + n) */
};

struct ctx {
    const struct v32_mem *m;
    const struct mn32_known *k;
    struct mn32_layout *l;
    char *why;
    struct ns nses[MN32_NSES];
    size_t nns;
    uint64_t node[MN32_MOUNTS]; /* mnt_list nodes, namespace after namespace */
    size_t nnode;
    uint64_t mount[MN32_MOUNTS]; /* node - mnt_list */
    uint64_t sb[MN32_SBS];
    size_t nsb;
};

static bool kptr(const struct v32_mem *m, uint64_t v)
{
    return v >= m->page_offset && v <= 0xFFFFFFFFull && (v & 3) == 0;
}

static int rd32(const struct v32_mem *m, uint64_t va, uint32_t *out)
{
    uint8_t b[4];
    if (va > 0xFFFFFFFCull || m->read(m->ctx, va, b, 4) < 0)
        return XA_EFAULT;
    *out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

/* The word at @va, or 0 when unreadable (0 is never an accepted pointer). */
static uint32_t word(const struct ctx *c, uint64_t va)
{
    uint32_t v;
    return rd32(c->m, va, &v) == 0 ? v : 0;
}

static int refuse(struct ctx *c, int rc, const char *what, unsigned count)
{
    if (count == 0)
        snprintf(c->why, LX_WHY_LEN, "%s: no offset fits", what);
    else
        snprintf(c->why, LX_WHY_LEN, "%s: %u offsets fit (ambiguous)", what, count);
    return rc;
}

/* The single offset in [lo, hi) (step 4) that @fits, else a refusal. */
#define ONLY(c, lo, hi, what, out, fits)                                                         \
    do {                                                                                         \
        unsigned count_ = 0;                                                                     \
        for (uint32_t off = (lo); off < (hi); off += 4)                                          \
            if (fits) {                                                                          \
                (out) = off;                                                                     \
                count_++;                                                                        \
            }                                                                                    \
        if (count_ != 1)                                                                         \
            return refuse((c), count_ ? XA_EBADDATA : XA_ENOTSUP, (what), count_);               \
    } while (0)

/* A printable string of 1..255 bytes at @va; *len its length. */
static bool printable(const struct ctx *c, uint64_t va, size_t *len)
{
    if (va < c->m->page_offset || va > 0xFFFFFFFFull) /* strings need no alignment */
        return false;
    for (size_t i = 0; i <= NAME_MAX_LEN; i++) {
        uint8_t ch;
        if (c->m->read(c->m->ctx, va + i, &ch, 1) < 0)
            return false;
        if (ch == 0) {
            *len = i;
            return i > 0;
        }
        if (ch < 0x20 || ch > 0x7e)
            return false;
    }
    return false;
}

/* ---- 1-3: nsproxy, the namespace's mount list, fs_struct ------------------ */

/* Walk the list_head at @head (bounded, both links) into c->node from
 * c->nnode; the count, or 0 when it is not a sound non-empty list. No
 * visited set is needed: a loop that misses the head would reach a node a
 * second time from another node than its prev link names, and the back
 * link check refuses it (the cap bounds memory that changes meanwhile). */
static size_t walk_list(struct ctx *c, uint64_t head)
{
    size_t start = c->nnode, n = 0;
    uint64_t prev = head, cur = word(c, head);
    while (cur != head) {
        if (!kptr(c->m, cur) || word(c, cur + 4) != prev || start + n >= MN32_MOUNTS)
            return 0;
        c->node[start + n++] = cur;
        prev = cur;
        cur = word(c, cur);
    }
    return word(c, head + 4) == prev ? n : 0;
}

static bool in_ns(const struct ctx *c, const struct ns *s, uint64_t node)
{
    for (size_t i = s->first; i < s->first + s->n; i++)
        if (c->node[i] == node)
            return true;
    return false;
}

/* Do the nodes of @s, as mnt_list at @L, make mounts whose parents are
 * mounts of @s, with the one self-parented mount the namespace's root, all
 * naming the namespace at one offset? */
static bool mounts_fit(const struct ctx *c, const struct ns *s, uint32_t root_off, uint32_t L)
{
    uint64_t root = word(c, s->ns + root_off);
    unsigned selves = 0;
    for (size_t i = s->first; i < s->first + s->n; i++) {
        uint64_t mnt = c->node[i] - L;
        uint32_t parent = word(c, mnt + c->k->mount_parent);
        if (!kptr(c->m, word(c, mnt + c->k->mount_mnt + c->k->mnt_root)))
            return false;
        if (parent == mnt) {
            if (mnt != root)
                return false;
            selves++;
        } else if (!kptr(c->m, parent) || !in_ns(c, s, parent + L)) {
            return false;
        }
    }
    if (selves != 1)
        return false;
    /* Its mounts name it (mnt_ns): not a neighbour's list seen past its end. */
    for (uint32_t o = 0; o < MN32_MOUNT_SPAN; o += 4) {
        size_t i = s->first;
        while (i < s->first + s->n && word(c, c->node[i] - L + o) == s->ns)
            i++;
        if (i == s->first + s->n)
            return true;
    }
    return false;
}

static bool list_head_at(const struct ctx *c, uint64_t head)
{
    uint32_t next = word(c, head), prev = word(c, head + 4);
    return kptr(c->m, next) && kptr(c->m, prev) && next != head && word(c, next + 4) == head &&
           word(c, prev) == head;
}

/* The (list, root, mnt_list) offsets that make @ns a mount namespace: how
 * many fit, the last in *lo, *r, *L. c->node is used as scratch. */
static unsigned ns_fits(struct ctx *c, uint64_t ns, uint32_t *lo, uint32_t *r, uint32_t *L)
{
    unsigned found = 0;
    if (!kptr(c->m, ns))
        return 0;
    struct ns s = {.ns = ns};
    for (uint32_t l = 0; l < MN32_NS_SPAN; l += 4) {
        if (!list_head_at(c, ns + l))
            continue;
        c->nnode = 0;
        if ((s.n = walk_list(c, ns + l)) == 0)
            continue;
        for (uint32_t ro = 0; ro < MN32_NS_SPAN; ro += 4) {
            uint32_t root = word(c, ns + ro);
            if (ro == l || ro == l + 4 || !kptr(c->m, root) ||
                word(c, root + c->k->mount_parent) != root)
                continue;
            for (uint32_t ml = 0; ml < MN32_MOUNT_SPAN; ml += 4)
                if (in_ns(c, &s, root + ml) && mounts_fit(c, &s, ro, ml)) {
                    *lo = l, *r = ro, *L = ml;
                    found++;
                }
        }
    }
    c->nnode = 0;
    return found;
}

/* An nsproxy: a count, then eight namespace pointers. */
static bool nsproxy_shaped(const struct ctx *c, uint64_t p)
{
    uint32_t count = word(c, p);
    if (!kptr(c->m, p) || count == 0 || count >= MN32_ID_MAX)
        return false;
    for (uint32_t o = 4; o <= 32; o += 4)
        if (!kptr(c->m, word(c, p + o)))
            return false;
    return true;
}

static int find_nsproxy(struct ctx *c, const uint64_t *tasks, size_t n)
{
    struct mn32_layout *l = c->l;
    unsigned found = 0;
    for (uint32_t t = 0; t < MN32_TASK_SPAN; t += 4) {
        uint32_t nsp = word(c, c->k->init_task + t);
        if (!nsproxy_shaped(c, nsp))
            continue;
        size_t shared = 0; /* init_nsproxy: held by nearly every task */
        for (size_t i = 0; i < n; i++)
            shared += word(c, tasks[i] + t) == nsp;
        if (shared * 2 <= n)
            continue;
        for (uint32_t o = 4; o <= 32; o += 4) {
            uint32_t lo = 0, r = 0, L = 0;
            unsigned k = ns_fits(c, word(c, nsp + o), &lo, &r, &L);
            if (k) {
                l->task_nsproxy = t, l->nsproxy_mnt_ns = o;
                l->ns_list = lo, l->ns_root = r, l->mnt_list = L;
            }
            found += k;
        }
    }
    if (found != 1)
        return refuse(c, found ? XA_EBADDATA : XA_ENOTSUP,
                      "task_struct.nsproxy, nsproxy.mnt_ns and the mount list", found);
    /* The namespaces: init_task's first, then those of the sampled tasks. */
    c->nses[c->nns++].ns = word(c, word(c, c->k->init_task + l->task_nsproxy) + l->nsproxy_mnt_ns);
    for (size_t i = 0; i < n; i++) {
        uint32_t nsp = word(c, tasks[i] + l->task_nsproxy);
        if (nsp == 0)
            continue; /* exiting */
        uint32_t ns = word(c, nsp + l->nsproxy_mnt_ns);
        if (!nsproxy_shaped(c, nsp)) {
            snprintf(c->why, LX_WHY_LEN, "task 0x%llx: bad nsproxy 0x%x",
                     (unsigned long long)tasks[i], nsp);
            return XA_EBADDATA;
        }
        bool seen = false;
        for (size_t j = 0; j < c->nns; j++)
            seen |= c->nses[j].ns == ns;
        if (!seen && c->nns < MN32_NSES)
            c->nses[c->nns++].ns = ns;
    }
    /* A namespace whose list does not walk is left out (its own walk will
     * say why); init_task's fitted above. */
    c->nnode = 0;
    size_t kept = 0;
    for (size_t i = 0; i < c->nns; i++) {
        struct ns s = {.ns = c->nses[i].ns, .first = c->nnode};
        s.n = walk_list(c, s.ns + l->ns_list);
        if (s.n == 0 || !mounts_fit(c, &s, l->ns_root, l->mnt_list))
            continue;
        c->nses[kept++] = s;
        c->nnode += s.n;
    }
    c->nns = kept;
    if (kept == 0) {
        snprintf(c->why, LX_WHY_LEN, "the first mount namespace no longer walks");
        return XA_EBADDATA;
    }
    for (size_t i = 0; i < c->nnode; i++)
        c->mount[i] = c->node[i] - l->mnt_list;
    return 0;
}

/* The namespace (index in c->nses) of @task, or -1. */
static int ns_of(const struct ctx *c, uint64_t task)
{
    uint32_t nsp = word(c, task + c->l->task_nsproxy);
    uint32_t ns = nsp ? word(c, nsp + c->l->nsproxy_mnt_ns) : 0;
    for (size_t i = 0; ns && i < c->nns; i++)
        if (c->nses[i].ns == ns)
            return (int)i;
    return -1;
}

/* task_struct.fs at @t, fs_struct.root at @r: in every task of a known
 * namespace, a (vfsmount of that namespace, dentry) pair after two words
 * that are not pointers (pwd, the same kind of pair, follows a dentry). */
static bool fs_root_at(const struct ctx *c, const uint64_t *tasks, size_t n, uint32_t t,
                       uint32_t r)
{
    size_t checked = 0;
    for (size_t i = 0; i <= n; i++) {
        uint64_t task = i < n ? tasks[i] : c->k->init_task;
        int k = ns_of(c, task);
        uint32_t fs = word(c, task + t);
        if (k < 0 || fs == 0)
            continue; /* exiting */
        uint32_t mnt = word(c, fs + r), dentry = word(c, fs + r + 4);
        if (!kptr(c->m, fs) || !kptr(c->m, mnt) || !kptr(c->m, dentry) ||
            kptr(c->m, word(c, fs + r - 4)) || kptr(c->m, word(c, fs + r - 8)) ||
            !in_ns(c, &c->nses[k], mnt - c->k->mount_mnt + c->l->mnt_list))
            return false;
        checked++;
    }
    return checked > 0;
}

static int find_fs(struct ctx *c, const uint64_t *tasks, size_t n)
{
    struct mn32_layout *l = c->l;
    unsigned found = 0;
    for (uint32_t t = 0; t < MN32_TASK_SPAN; t += 4) {
        uint32_t fs = word(c, c->k->init_task + t);
        if (!kptr(c->m, fs) || t == l->task_nsproxy)
            continue;
        for (uint32_t r = 8; r < MN32_SMALL_SPAN; r += 4)
            if (fs_root_at(c, tasks, n, t, r)) {
                l->task_fs = t, l->fs_root = r;
                found++;
            }
    }
    return found == 1 ? 0
                      : refuse(c, found ? XA_EBADDATA : XA_ENOTSUP,
                               "task_struct.fs and fs_struct.root", found);
}

/* ---- 4, 5: struct mount and vfsmount ------------------------------------------ */

static bool ns_at(const struct ctx *c, uint32_t off)
{
    for (size_t i = 0; i < c->nns; i++)
        for (size_t j = c->nses[i].first; j < c->nses[i].first + c->nses[i].n; j++)
            if (word(c, c->mount[j] + off) != c->nses[i].ns)
                return false;
    return true;
}

static bool ids_at(const struct ctx *c, uint32_t off)
{
    for (size_t i = 0; i < c->nnode; i++) {
        uint32_t id = word(c, c->mount[i] + off);
        if (id == 0 || id >= MN32_ID_MAX)
            return false;
        for (size_t j = 0; j < i; j++)
            if (word(c, c->mount[j] + off) == id)
                return false;
    }
    return true;
}

static bool devnames_at(const struct ctx *c, uint32_t off)
{
    size_t len, longest = 0;
    for (size_t i = 0; i < c->nnode; i++) {
        if (!printable(c, word(c, c->mount[i] + off), &len))
            return false;
        longest = len > longest ? len : longest;
    }
    return longest >= 2;
}

static uint64_t vfs(const struct ctx *c, size_t i)
{
    return c->mount[i] + c->k->mount_mnt;
}

/* Every mount's root dentry holds its vfsmount's word at @off (d_sb). */
static bool sbs_at(const struct ctx *c, uint32_t off)
{
    if (off == c->k->mnt_root)
        return false;
    for (uint32_t d = 0; d < c->k->d_span; d += 4) {
        size_t i = 0;
        for (; i < c->nnode; i++) {
            uint32_t sb = word(c, vfs(c, i) + off);
            if (!kptr(c->m, sb) || word(c, word(c, vfs(c, i) + c->k->mnt_root) + d) != sb)
                break;
        }
        if (i == c->nnode)
            return true;
    }
    return false;
}

static bool flags_at(const struct ctx *c, uint32_t off)
{
    uint32_t any = 0;
    if (off == c->k->mnt_root || off == c->l->mnt_sb)
        return false;
    for (size_t i = 0; i < c->nnode; i++) {
        uint32_t f = word(c, vfs(c, i) + off);
        if (f & ~MNT_KNOWN)
            return false;
        any |= f;
    }
    return any != 0;
}

/* A peer group id exactly on the shared mounts. */
static bool groups_at(const struct ctx *c, uint32_t off)
{
    for (size_t i = 0; i < c->nnode; i++) {
        uint32_t g = word(c, c->mount[i] + off);
        bool shared = word(c, vfs(c, i) + c->l->mnt_flags) & MNT_SHARED;
        if (g >= MN32_ID_MAX || (g != 0) != shared)
            return false;
    }
    return true;
}

/* NULL or a mount (whose own mnt_ns word names a namespace). */
static bool masters_at(const struct ctx *c, uint32_t off)
{
    for (size_t i = 0; i < c->nnode; i++) {
        uint32_t master = word(c, c->mount[i] + off);
        if (master && (!kptr(c->m, master) || !kptr(c->m, word(c, master + c->l->mnt_ns))))
            return false;
    }
    return true;
}

static int find_mount_words(struct ctx *c)
{
    struct mn32_layout *l = c->l;
    ONLY(c, 0, MN32_MOUNT_SPAN, "mount.mnt_ns", l->mnt_ns, ns_at(c, off));
    ONLY(c, 0, MN32_MOUNT_SPAN, "mount.mnt_id", l->mnt_id, ids_at(c, off));
    ONLY(c, 0, MN32_MOUNT_SPAN, "mount.mnt_devname", l->mnt_devname, devnames_at(c, off));
    ONLY(c, 0, MN32_VFS_SPAN, "vfsmount.mnt_sb", l->mnt_sb, sbs_at(c, off));
    ONLY(c, 0, MN32_VFS_SPAN, "vfsmount.mnt_flags", l->mnt_flags, flags_at(c, off));
    l->mnt_group_id = groups_at(c, l->mnt_id + 4) ? l->mnt_id + 4 : MN32_NONE;
    l->mnt_master = l->mnt_ns >= 4 && masters_at(c, l->mnt_ns - 4) ? l->mnt_ns - 4 : MN32_NONE;
    for (size_t i = 0; i < c->nnode; i++) { /* the distinct super blocks */
        uint32_t sb = word(c, vfs(c, i) + l->mnt_sb);
        bool seen = false;
        for (size_t j = 0; j < c->nsb; j++)
            seen |= c->sb[j] == sb;
        if (!seen && c->nsb < MN32_SBS)
            c->sb[c->nsb++] = sb;
    }
    return 0;
}

/* ---- 6: super_block ------------------------------------------------------------- */

static bool fs_name(const struct ctx *c, uint64_t fst, uint64_t *name)
{
    size_t len;
    *name = kptr(c->m, fst) ? word(c, fst) : 0; /* file_system_type.name comes first */
    if (!printable(c, *name, &len) || len < 2 || len > 32)
        return false;
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = 0;
        c->m->read(c->m->ctx, *name + i, &ch, 1);
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static bool types_at(const struct ctx *c, uint32_t off)
{
    uint64_t first = 0, name;
    bool two = false;
    for (size_t i = 0; i < c->nsb; i++) {
        if (!fs_name(c, word(c, c->sb[i] + off), &name))
            return false;
        if (i == 0)
            first = name;
        two |= name != first;
    }
    return two;
}

static bool sb_flags_at(const struct ctx *c, uint32_t off)
{
    for (size_t i = 0; i < c->nsb; i++) {
        uint32_t f = word(c, c->sb[i] + off);
        if ((f & SB_LIVE) != SB_LIVE || (f & ~SB_KNOWN))
            return false;
    }
    return true;
}

static bool devs_at(const struct ctx *c, uint32_t off)
{
    for (size_t i = 0; i < c->nsb; i++) {
        uint32_t dev = word(c, c->sb[i] + off);
        if (dev == 0 || kptr(c->m, dev) || off == c->l->s_flags || off == c->l->s_type)
            return false;
        for (size_t j = 0; j < i; j++)
            if (word(c, c->sb[j] + off) == dev)
                return false;
    }
    return true;
}

static int find_sb_words(struct ctx *c)
{
    struct mn32_layout *l = c->l;
    if (c->nsb < 2) {
        snprintf(c->why, LX_WHY_LEN, "super_block: %zu super block(s), 2 needed", c->nsb);
        return XA_ENOTSUP;
    }
    ONLY(c, 0, MN32_SB_SPAN, "super_block.s_type", l->s_type, types_at(c, off));
    ONLY(c, 0, MN32_SB_SPAN, "super_block.s_flags", l->s_flags, sb_flags_at(c, off));
    ONLY(c, 0, MN32_SMALL_SPAN, "super_block.s_dev", l->s_dev, devs_at(c, off));
    return 0;
}

int mn32_infer(const struct v32_mem *m, const struct mn32_known *k, const uint64_t *tasks,
              size_t n, struct mn32_layout *out, char *why)
{
    why[0] = '\0';
    memset(out, 0xff, sizeof(*out));
    if (!kptr(m, k->init_task)) {
        snprintf(why, LX_WHY_LEN, "init_task unknown");
        return XA_ENOTSUP;
    }
    struct ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    c->m = m;
    c->k = k;
    c->l = out;
    c->why = why;
    if (n > MN32_TASKS)
        n = MN32_TASKS;
    int rc = find_nsproxy(c, tasks, n);
    if (rc == 0)
        rc = find_fs(c, tasks, n);
    if (rc == 0)
        rc = find_mount_words(c);
    if (rc == 0)
        rc = find_sb_words(c);
    out->nr_ns = c->nns;
    out->nr_mounts = c->nnode;
    out->nr_sbs = c->nsb;
    free(c);
    return rc;
}
