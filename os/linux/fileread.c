/*
 * fileread.c -- an fd table, an open file and a mount read from guest
 * memory (fileread.h). Every pointer, count and string is the guest's:
 * pointers must be kernel addresses, the fd walk stops at LX_FDS_MAX, names
 * are bounded and paths go through dpath.c's bounded walk.
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/fileread.h"

#define O_CLOEXEC_BIT 02000000u
#define S_IFMT_BITS 0170000u
#define SB_RDONLY_BIT 1u
#define PAGE 4096u

static bool kptr(uint64_t va)
{
    return va >= 0xff00000000000000ULL;
}

static int rd64(lx_mem_fn read, void *ctx, uint64_t va, uint64_t *out)
{
    return read(ctx, va, out, sizeof(*out));
}

static int rd32(lx_mem_fn read, void *ctx, uint64_t va, uint32_t *out)
{
    return read(ctx, va, out, sizeof(*out));
}

/* The kernel's word (a pointer or an unsigned long): 4 bytes when the
 * layout says so (a 32-bit kernel), else 8. */
static unsigned word_size(const struct lx_dpath_layout *d)
{
    return d->ptr_size == 4 ? 4 : 8;
}

static int rdword(const struct lx_dpath_layout *d, lx_mem_fn read, void *ctx, uint64_t va,
                  uint64_t *out)
{
    if (word_size(d) == 8)
        return rd64(read, ctx, va, out);
    uint32_t v;
    int rc = rd32(read, ctx, va, &v);
    *out = rc == 0 ? v : 0;
    return rc;
}

/* A kernel address of the layout's width: 4-byte kernels keep theirs in
 * [kptr_min, 2^32). */
static bool kptr_in(const struct lx_dpath_layout *d, uint64_t va)
{
    if (word_size(d) == 4)
        return va >= d->kptr_min && va <= 0xFFFFFFFFull;
    return kptr(va);
}

/* A string of the kernel at @va, its pointer checked for the layout's width. */
static int cstr_in(const struct lx_dpath_layout *d, lx_mem_fn read, void *ctx, uint64_t va,
                   char *buf, size_t cap, char *why);

/* ... and aligned to the word, as a pointer to a kernel object is. */
static bool kptr_of(const struct lx_dpath_layout *d, uint64_t va)
{
    return kptr_in(d, va) && (word_size(d) == 8 || (va & 3) == 0);
}

/* A NUL-terminated string at @va (checked already) into @buf (at most
 * @cap - 1 bytes), read a page at a time: XA_ELIMIT when longer, XA_EFAULT
 * unreadable. */
static int cstr_at(lx_mem_fn read, void *ctx, uint64_t va, char *buf, size_t cap, char *why)
{
    size_t got = 0;
    while (got + 1 < cap) {
        size_t chunk = PAGE - ((va + got) & (PAGE - 1));
        if (chunk > cap - 1 - got)
            chunk = cap - 1 - got;
        if (read(ctx, va + got, buf + got, chunk) < 0) {
            snprintf(why, LX_WHY_LEN, "string at 0x%llx unreadable", (unsigned long long)va);
            return XA_EFAULT;
        }
        char *nul = memchr(buf + got, '\0', chunk);
        if (nul)
            return 0;
        got += chunk;
    }
    snprintf(why, LX_WHY_LEN, "string at 0x%llx longer than %zu bytes", (unsigned long long)va,
             cap - 1);
    return XA_ELIMIT;
}

/* ---- fd table ----------------------------------------------------------- */

int lx_fdt_open(const struct lx_file_layout *l, lx_mem_fn read, void *ctx, uint64_t fdt,
                struct lx_fd_cursor *c, char *why)
{
    memset(c, 0, sizeof(*c));
    why[0] = '\0';
    const struct lx_dpath_layout *d = &l->d;
    if (!kptr_of(d, fdt) || rd32(read, ctx, fdt + l->fdt_max_fds, &c->max_fds) < 0 ||
        rdword(d, read, ctx, fdt + l->fdt_fd, &c->fd_array) < 0 ||
        rdword(d, read, ctx, fdt + l->fdt_open_fds, &c->open_fds) < 0 ||
        rdword(d, read, ctx, fdt + l->fdt_close_on_exec, &c->cloexec) < 0) {
        snprintf(why, LX_WHY_LEN, "fd table 0x%llx unreadable", (unsigned long long)fdt);
        return XA_EFAULT;
    }
    if (c->max_fds && (!kptr_of(d, c->fd_array) || !kptr_of(d, c->open_fds) || !kptr_of(d, c->cloexec))) {
        snprintf(why, LX_WHY_LEN, "fd table 0x%llx has bad pointers", (unsigned long long)fdt);
        return XA_EBADDATA;
    }
    c->limit = c->max_fds < LX_FDS_MAX ? c->max_fds : LX_FDS_MAX;
    return 0;
}

int lx_fdt_next(const struct lx_file_layout *l, lx_mem_fn read, void *ctx,
                struct lx_fd_cursor *c, int32_t *fd, uint64_t *file, bool *cloexec, char *why)
{
    const struct lx_dpath_layout *d = &l->d;
    const uint32_t bits = word_size(d) * 8; /* fds per bitmap word (unsigned long) */
    why[0] = '\0';
    while (c->next < c->limit) {
        uint32_t bit = c->next % bits;
        uint64_t word_va = c->open_fds + (c->next / bits) * word_size(d);
        if (!c->have_word) {
            if (rdword(d, read, ctx, word_va, &c->word) < 0) {
                snprintf(why, LX_WHY_LEN, "open-fd bitmap at 0x%llx unreadable",
                         (unsigned long long)word_va);
                return XA_EFAULT;
            }
            c->word &= ~0ULL << bit; /* bits below next are done */
            c->have_word = true;
        }
        if (c->word == 0) { /* to the next word */
            c->next = (c->next / bits + 1) * bits;
            c->have_word = false;
            continue;
        }
        uint32_t n = (c->next / bits) * bits + (uint32_t)__builtin_ctzll(c->word);
        c->word &= c->word - 1;
        c->next = n + 1;
        if (c->next % bits == 0)
            c->have_word = false;
        if (n >= c->limit)
            break;
        uint64_t f, exec_word;
        if (rdword(d, read, ctx, c->fd_array + (uint64_t)n * word_size(d), &f) < 0 ||
            rdword(d, read, ctx, c->cloexec + (n / bits) * word_size(d), &exec_word) < 0) {
            snprintf(why, LX_WHY_LEN, "fd %u unreadable", n);
            return XA_EFAULT;
        }
        if (f == 0)
            continue; /* reserved by an open() in progress: /proc skips it too */
        if (!kptr_of(d, f) || (f & (word_size(d) - 1))) {
            snprintf(why, LX_WHY_LEN, "fd %u: bad file pointer 0x%llx", n, (unsigned long long)f);
            return XA_EBADDATA;
        }
        *fd = (int32_t)n;
        *file = f;
        *cloexec = (exec_word >> (n % bits)) & 1;
        return 1;
    }
    c->next = c->limit;
    if (c->max_fds > LX_FDS_MAX) {
        snprintf(why, LX_WHY_LEN, "fd table of %u fds: only the first %u walked", c->max_fds,
                 LX_FDS_MAX);
        return XA_ELIMIT;
    }
    return 0;
}

/* ---- one open file ------------------------------------------------------- */

/* "name" of a dentry, bounded, no NUL. */
static int dentry_name(const struct lx_dpath_layout *d, lx_mem_fn read, void *ctx,
                       uint64_t dentry, char *buf, size_t cap, char *why)
{
    uint32_t len;
    uint64_t name;
    if (rd32(read, ctx, dentry + d->d_name_len, &len) < 0 ||
        rdword(d, read, ctx, dentry + d->d_name_ptr, &name) < 0) {
        snprintf(why, LX_WHY_LEN, "dentry 0x%llx unreadable", (unsigned long long)dentry);
        return XA_EFAULT;
    }
    if (len > LX_DPATH_NAME_MAX || len + 1 > cap || !kptr_of(d, name & ~7ull)) {
        snprintf(why, LX_WHY_LEN, "dentry 0x%llx has a bad name", (unsigned long long)dentry);
        return XA_EBADDATA;
    }
    if (len && read(ctx, name, buf, len) < 0) {
        snprintf(why, LX_WHY_LEN, "dentry 0x%llx: name unreadable", (unsigned long long)dentry);
        return XA_EFAULT;
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        snprintf(why, LX_WHY_LEN, "dentry 0x%llx: name holds a NUL", (unsigned long long)dentry);
        return XA_EBADDATA;
    }
    return 0;
}

/* The d_dname() of pseudo file systems: 1 when @out was named that way, 0
 * when the dentry has a real path. */
static int pseudo_name(const struct lx_file_layout *l, lx_mem_fn read, void *ctx,
                       uint64_t dentry, uint64_t mnt, struct xa_open_file *out, char *why)
{
    const struct lx_dpath_layout *d = &l->d;
    uint64_t dop, fn, parent, mnt_root = 0;
    if (rdword(d, read, ctx, dentry + l->d_op, &dop) < 0) {
        snprintf(why, LX_WHY_LEN, "dentry 0x%llx unreadable", (unsigned long long)dentry);
        return XA_EFAULT;
    }
    if (dop == 0)
        return 0;
    if (!kptr_of(d, dop) || rdword(d, read, ctx, dop + l->dop_d_dname, &fn) < 0) {
        snprintf(why, LX_WHY_LEN, "dentry 0x%llx: bad d_op 0x%llx", (unsigned long long)dentry,
                 (unsigned long long)dop);
        return XA_EBADDATA;
    }
    if (fn == 0)
        return 0;
    /* d_path() names through d_dname unless the dentry is its mount's root. */
    if (rdword(d, read, ctx, dentry + d->d_parent, &parent) < 0 ||
        (mnt && rdword(d, read, ctx, mnt + d->mnt_root, &mnt_root) < 0)) {
        snprintf(why, LX_WHY_LEN, "dentry 0x%llx unreadable", (unsigned long long)dentry);
        return XA_EFAULT;
    }
    if (parent == dentry && dentry == mnt_root)
        return 0;
    char name[LX_DPATH_NAME_MAX + 1];
    int rc;
    if (fn == l->fn_pipe || fn == l->fn_socket) {
        snprintf(out->path, sizeof(out->path), "%s:[%llu]", fn == l->fn_pipe ? "pipe" : "socket",
                 (unsigned long long)out->inode);
    } else if (fn == l->fn_anon || fn == l->fn_simple) {
        if ((rc = dentry_name(&l->d, read, ctx, dentry, name, sizeof(name), why)) < 0)
            return rc;
        if (fn == l->fn_anon)
            snprintf(out->path, sizeof(out->path), "anon_inode:%s", name);
        else
            snprintf(out->path, sizeof(out->path), "/%s (deleted)", name);
    } else if (fn == l->fn_ns && l->ns_ops_name != UINT64_MAX) {
        uint64_t ops, sname;
        if (rdword(d, read, ctx, dentry + l->d_fsdata, &ops) < 0 || !kptr_of(d, ops) ||
            rdword(d, read, ctx, ops + l->ns_ops_name, &sname) < 0) {
            snprintf(why, LX_WHY_LEN, "namespace dentry 0x%llx: bad operations",
                     (unsigned long long)dentry);
            return XA_EBADDATA;
        }
        if ((rc = cstr_in(d, read, ctx, sname, name, 32, why)) < 0)
            return rc;
        snprintf(out->path, sizeof(out->path), "%s:[%llu]", name,
                 (unsigned long long)out->inode);
    } else {
        snprintf(out->path, sizeof(out->path), "?");
        out->state |= XA_FILE_NAME_UNKNOWN;
    }
    return 1;
}

int lx_file_read(const struct lx_file_layout *l, lx_mem_fn read, void *ctx, uint64_t file,
                 struct xa_open_file *out, char *why)
{
    why[0] = '\0';
    const struct lx_dpath_layout *d = &l->d;
    uint64_t mnt, dentry, inode, sb, ino, pos;
    uint32_t flags, dev;
    uint16_t mode;
    if (rdword(d, read, ctx, file + l->f_path_mnt, &mnt) < 0 ||
        rdword(d, read, ctx, file + l->f_path_dentry, &dentry) < 0 ||
        rdword(d, read, ctx, file + l->f_inode, &inode) < 0 ||
        rd32(read, ctx, file + l->f_flags, &flags) < 0 || rd64(read, ctx, file + l->f_pos, &pos) < 0) {
        snprintf(why, LX_WHY_LEN, "file 0x%llx unreadable", (unsigned long long)file);
        return XA_EFAULT;
    }
    if (!kptr_of(d, inode) || !kptr_of(d, dentry) || (mnt && !kptr_of(d, mnt))) {
        snprintf(why, LX_WHY_LEN, "file 0x%llx: bad inode, dentry or mount pointer",
                 (unsigned long long)file);
        return XA_EBADDATA;
    }
    if (read(ctx, inode + l->i_mode, &mode, sizeof(mode)) < 0 ||
        rdword(d, read, ctx, inode + l->i_ino, &ino) < 0 ||
        rdword(d, read, ctx, inode + l->i_sb, &sb) < 0 || !kptr_of(d, sb) ||
        rd32(read, ctx, sb + l->s_dev, &dev) < 0) {
        snprintf(why, LX_WHY_LEN, "file 0x%llx: inode 0x%llx unreadable",
                 (unsigned long long)file, (unsigned long long)inode);
        return XA_EFAULT;
    }
    out->flags = flags;
    out->pos = (int64_t)pos;
    out->dev_major = dev >> 20; /* the kernel's dev_t: 12 bits major, 20 minor */
    out->dev_minor = dev & 0xfffff;
    out->inode = ino;
    out->mode = mode;
    out->state = 0;
    out->file = file;
    int rc = pseudo_name(l, read, ctx, dentry, mnt, out, why);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    return lx_dpath_build(&l->d, read, ctx, dentry, mnt, 0, 0, out->path, sizeof(out->path), why);
}

/* ---- one mount ------------------------------------------------------------ */

#define FS_HAS_SUBTYPE 4u
#define NO_OFFSET UINT64_MAX

static int cstr_in(const struct lx_dpath_layout *d, lx_mem_fn read, void *ctx, uint64_t va,
                   char *buf, size_t cap, char *why)
{
    if (!kptr_in(d, va)) {
        snprintf(why, LX_WHY_LEN, "bad string pointer 0x%llx", (unsigned long long)va);
        return XA_EBADDATA;
    }
    return cstr_at(read, ctx, va, buf, cap, why);
}

static int mount_cstr(const struct lx_mount_layout *l, lx_mem_fn read, void *ctx, uint64_t va,
                      char *buf, size_t cap, char *why)
{
    return cstr_in(&l->d, read, ctx, va, buf, cap, why);
}

static const struct {
    uint32_t flag;
    const char *name;
} mnt_opts[] = {
    {XA_MNT_NOSUID, ",nosuid"},         {XA_MNT_NODEV, ",nodev"},
    {XA_MNT_NOEXEC, ",noexec"},         {XA_MNT_NOATIME, ",noatime"},
    {XA_MNT_NODIRATIME, ",nodiratime"}, {XA_MNT_RELATIME, ",relatime"},
    {XA_MNT_NOSYMFOLLOW, ",nosymfollow"},
};

int lx_mount_read(const struct lx_mount_layout *l, lx_mem_fn read, void *ctx, uint64_t mount,
                  uint64_t root_dentry, uint64_t root_mnt, struct xa_mount *out, bool *visible,
                  char *why)
{
    why[0] = '\0';
    *visible = false;
    const uint64_t vfs = mount + l->d.mount_mnt;
    uint64_t parent, mnt_root, sb, devname, master, fstype, subtype, sb_flags;
    uint32_t id, parent_id, flags, group = 0, dev, master_group = 0;
    const bool groups = l->mnt_group_id != NO_OFFSET, masters = l->mnt_master != NO_OFFSET;
    master = 0;
    if (!kptr_in(&l->d, mount) ||
        rdword(&l->d, read, ctx, mount + l->d.mount_parent, &parent) < 0 ||
        rd32(read, ctx, mount + l->mnt_id, &id) < 0 ||
        (groups && rd32(read, ctx, mount + l->mnt_group_id, &group) < 0) ||
        rdword(&l->d, read, ctx, mount + l->mnt_devname, &devname) < 0 ||
        (masters && rdword(&l->d, read, ctx, mount + l->mnt_master, &master) < 0) ||
        rdword(&l->d, read, ctx, vfs + l->d.mnt_root, &mnt_root) < 0 ||
        rdword(&l->d, read, ctx, vfs + l->mnt_sb, &sb) < 0 ||
        rd32(read, ctx, vfs + l->mnt_flags, &flags) < 0) {
        snprintf(why, LX_WHY_LEN, "mount 0x%llx unreadable", (unsigned long long)mount);
        return XA_EFAULT;
    }
    if (!groups && (flags & XA_MNT_SHARED)) {
        snprintf(why, LX_WHY_LEN, "mount 0x%llx is shared but its peer group is unknown here",
                 (unsigned long long)mount);
        return XA_ENOTSUP;
    }
    if (!kptr_in(&l->d, parent) || !kptr_in(&l->d, sb) || !kptr_in(&l->d, mnt_root) ||
        (master && (!kptr_in(&l->d, master) || !groups)) ||
        rd32(read, ctx, parent + l->mnt_id, &parent_id) < 0 ||
        (master && rd32(read, ctx, master + l->mnt_group_id, &master_group) < 0)) {
        snprintf(why, LX_WHY_LEN, "mount 0x%llx: bad parent, master, root or super block",
                 (unsigned long long)mount);
        return XA_EBADDATA;
    }
    if (rd32(read, ctx, sb + l->s_dev, &dev) < 0 ||
        rdword(&l->d, read, ctx, sb + l->s_type, &fstype) < 0 ||
        rdword(&l->d, read, ctx, sb + l->s_flags, &sb_flags) < 0 ||
        (l->s_subtype != UINT64_MAX ? rdword(&l->d, read, ctx, sb + l->s_subtype, &subtype)
                                    : (subtype = 0, 0)) < 0 ||
        !kptr_in(&l->d, fstype)) {
        snprintf(why, LX_WHY_LEN, "mount 0x%llx: super block 0x%llx unreadable",
                 (unsigned long long)mount, (unsigned long long)sb);
        return XA_EFAULT;
    }
    memset(out, 0, sizeof(*out));
    out->mnt_id = (int32_t)id;
    out->parent_id = (int32_t)parent_id;
    out->dev_major = dev >> 20;
    out->dev_minor = dev & 0xfffff;
    out->mnt_flags = flags;
    out->sb_flags = sb_flags;
    out->shared_id = (flags & XA_MNT_SHARED) ? (int32_t)group : 0;
    out->master_id = master ? (int32_t)master_group : 0;
    out->mount = mount;

    int rc;
    uint64_t name;
    uint32_t fs_flags = 0;
    if (rdword(&l->d, read, ctx, fstype + l->fst_name, &name) < 0 ||
        (l->fst_flags != NO_OFFSET && rd32(read, ctx, fstype + l->fst_flags, &fs_flags) < 0)) {
        snprintf(why, LX_WHY_LEN, "mount 0x%llx: file system type unreadable",
                 (unsigned long long)mount);
        return XA_EFAULT;
    }
    if ((rc = mount_cstr(l, read, ctx, name, out->fstype, sizeof(out->fstype), why)) < 0)
        return rc;
    if (l->s_subtype == NO_OFFSET && (fs_flags & FS_HAS_SUBTYPE)) {
        snprintf(why, LX_WHY_LEN, "mount 0x%llx: %s has a subtype, unknown here",
                 (unsigned long long)mount, out->fstype);
        return XA_ENOTSUP;
    }
    if (subtype) {
        char sub[XA_FSTYPE_LEN];
        size_t n = strlen(out->fstype);
        if ((rc = mount_cstr(l, read, ctx, subtype, sub, sizeof(sub), why)) < 0)
            return rc;
        if (sub[0] && n + 1 + strlen(sub) >= sizeof(out->fstype)) {
            snprintf(why, LX_WHY_LEN, "mount 0x%llx: type name too long", (unsigned long long)mount);
            return XA_ELIMIT;
        }
        if (sub[0])
            snprintf(out->fstype + n, sizeof(out->fstype) - n, ".%s", sub);
    }
    if (devname == 0)
        snprintf(out->source, sizeof(out->source), "none");
    else if ((rc = mount_cstr(l, read, ctx, devname, out->source, sizeof(out->source), why)) < 0)
        return rc;

    snprintf(out->options, sizeof(out->options), "%s", (flags & XA_MNT_READONLY) ? "ro" : "rw");
    for (size_t i = 0; i < sizeof(mnt_opts) / sizeof(mnt_opts[0]); i++)
        if (flags & mnt_opts[i].flag) {
            size_t n = strlen(out->options);
            snprintf(out->options + n, sizeof(out->options) - n, "%s", mnt_opts[i].name);
        }

    bool reached;
    rc = lx_dpath_build_ex(&l->d, read, ctx, mnt_root, 0, 0, 0, out->root, sizeof(out->root), why,
                           LX_DPATH_RAW, &reached);
    if (rc < 0)
        return rc;
    rc = lx_dpath_build_ex(&l->d, read, ctx, mnt_root, vfs, root_dentry, root_mnt, out->mount_point,
                           sizeof(out->mount_point), why, LX_DPATH_NO_DELETED, &reached);
    if (rc < 0)
        return rc;
    *visible = reached || (root_dentry == 0 && root_mnt == 0);
    return 0;
}

/* ---- red-black tree, in order ----------------------------------------------- */

void lx_rb_init(struct lx_rb_walk *w, uint64_t root_node, uint64_t parent_color_off,
                uint64_t left_off, uint64_t right_off, uint64_t max)
{
    memset(w, 0, sizeof(*w));
    w->pending = root_node;
    w->parent_color = parent_color_off;
    w->left = left_off;
    w->right = right_off;
    w->max = max;
}

void lx_rb_words(struct lx_rb_walk *w, const struct lx_dpath_layout *d)
{
    w->d = d;
}

/* A link of a tree node: a word of the kernel's. */
static int rb_link(const struct lx_rb_walk *w, lx_mem_fn read, void *ctx, uint64_t va,
                   uint64_t *out)
{
    return w->d ? rdword(w->d, read, ctx, va, out) : rd64(read, ctx, va, out);
}

/* Child @child of @parent (0 for the root): its parent link must point back. */
static int rb_check(const struct lx_rb_walk *w, lx_mem_fn read, void *ctx, uint64_t child,
                    uint64_t parent, char *why)
{
    uint64_t pc;
    if (!(w->d ? kptr_in(w->d, child) : kptr(child)) || (child & 3) ||
        rb_link(w, read, ctx, child + w->parent_color, &pc) < 0) {
        snprintf(why, LX_WHY_LEN, "tree node 0x%llx unreadable", (unsigned long long)child);
        return XA_EFAULT;
    }
    if ((pc & ~3ULL) != parent) {
        snprintf(why, LX_WHY_LEN, "tree node 0x%llx hangs from 0x%llx but names 0x%llx as parent",
                 (unsigned long long)child, (unsigned long long)parent,
                 (unsigned long long)(pc & ~3ULL));
        return XA_EBADDATA;
    }
    return 0;
}

int lx_rb_next(struct lx_rb_walk *w, lx_mem_fn read, void *ctx, uint64_t *node, char *why)
{
    why[0] = '\0';
    uint64_t cur = w->pending;
    int rc;
    if (!w->started) { /* the root has no parent */
        w->started = true;
        if (cur && (rc = rb_check(w, read, ctx, cur, 0, why)) < 0)
            return rc;
    }
    while (cur) { /* down the left spine of the pending subtree */
        if (w->depth == LX_RB_DEPTH_MAX) {
            snprintf(why, LX_WHY_LEN, "tree deeper than %u nodes", LX_RB_DEPTH_MAX);
            return XA_ELIMIT;
        }
        w->stack[w->depth++] = cur;
        uint64_t left;
        if (rb_link(w, read, ctx, cur + w->left, &left) < 0) {
            snprintf(why, LX_WHY_LEN, "tree node 0x%llx unreadable", (unsigned long long)cur);
            return XA_EFAULT;
        }
        if (left && (rc = rb_check(w, read, ctx, left, cur, why)) < 0)
            return rc;
        cur = left;
    }
    w->pending = 0;
    if (w->depth == 0)
        return 0;
    uint64_t n = w->stack[--w->depth], right, left;
    if (++w->steps > w->max) {
        snprintf(why, LX_WHY_LEN, "tree of more than %llu nodes", (unsigned long long)w->max);
        return XA_ELIMIT;
    }
    if (rb_link(w, read, ctx, n + w->right, &right) < 0 ||
        rb_link(w, read, ctx, n + w->left, &left) < 0) {
        snprintf(why, LX_WHY_LEN, "tree node 0x%llx unreadable", (unsigned long long)n);
        return XA_EFAULT;
    }
    if (right && right == left) {
        snprintf(why, LX_WHY_LEN, "tree node 0x%llx has one child on both sides",
                 (unsigned long long)n);
        return XA_EBADDATA;
    }
    if (right && (rc = rb_check(w, read, ctx, right, n, why)) < 0)
        return rc;
    w->pending = right;
    *node = n;
    return 1;
}
