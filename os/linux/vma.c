/*
 * vma.c -- the memory map of a process, as /proc/PID/maps shows it.
 *
 * 6.1+ keeps a process's VMAs in a maple tree (mm->mm_mt); older kernels in
 * a list (mm->mmap, vm_next). Which one is decided by the fields BTF has.
 *
 * Maple tree encoding (include/linux/maple_tree.h, lib/maple_tree.c): a
 * node pointer ("enode") carries the node type in bits 3..6, the node is at
 * enode & ~0xff (256-byte nodes). Leaves (maple_leaf_64) and internal
 * range nodes (maple_range_64) share one layout: parent, pivot[15],
 * slot[16]; maple_arange_64 adds gaps: parent, pivot[9], slot[10], gap[10],
 * meta. Slot i covers [pivot[i-1] + 1, pivot[i]] (the first starts at the
 * node's min, the last ends at its max); a VMA sits in the leaf slot that
 * covers exactly [vm_start, vm_end - 1], which we check.
 *
 * The tree is walked once, depth first in address order, when the iterator
 * is created: every node is visited at most once (a visited set catches
 * nodes that point at each other), the depth and node count are capped.
 *
 * Names follow /proc/PID/maps: the file's path (dentry names up to the root,
 * across mounts; " (deleted)" when unlinked), the special mapping's name
 * ([vdso], [vvar]), [heap], [stack], or "" for anonymous memory. The
 * [vsyscall] gate area is not in the mm and so not listed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/linux.h"
#include "os/linux/lxpriv.h"

#define LINUX_MAX_VMAS 1000000u     /* max_map_count defaults to 65530 */
#define MAPLE_MAX_NODES 1000000u
#define MAPLE_HEIGHT_MAX 31         /* MAPLE_HEIGHT_MAX in the kernel */
#define MAPLE_NODE_SIZE 256
#define MAPLE_NODE_MASK 0xffULL
#define MAPLE_MAX_SLOTS 16          /* widest node (range_64) */
#define PATH_DEPTH_MAX 256          /* dentries from a file up to its root */
#define NAME_MAX_LEN 255            /* NAME_MAX */
#define USER_SPACE_END (1ULL << 56) /* above TASK_SIZE_MAX, 4- or 5-level */
#define SPECIAL_NAME_MAX 64          /* "[vdso]", "[vvar]", "[uprobes]" */
#define VM_SHARED 0x08ULL
#define VM_MAYSHARE 0x80ULL

enum maple_type { maple_dense, maple_leaf_64, maple_range_64, maple_arange_64 };

/* One VMA found in the tree with the range its slot covers. */
struct found_vma {
    uint64_t vma, first, last;
};

/* ---- maple tree walk --------------------------------------------------- */

struct pending {
    uint64_t enode, min, max;
    unsigned depth;
};

struct maple_walk {
    struct xa_instance *xa;
    const struct linux_more_offsets *m;
    struct found_vma *out;
    size_t n, cap;
    struct lx_ptrset seen;
    struct pending stack[MAPLE_HEIGHT_MAX * MAPLE_MAX_SLOTS + 1];
    size_t sp;
};

static int add_found(struct maple_walk *w, uint64_t vma, uint64_t first, uint64_t last)
{
    if (w->n >= LINUX_MAX_VMAS)
        return xa__set_error(w->xa, XA_ELIMIT, "more than %u VMAs", LINUX_MAX_VMAS);
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 64;
        struct found_vma *nv = realloc(w->out, ncap * sizeof(*nv));
        if (!nv)
            return xa__set_error(w->xa, XA_ENOMEM, "out of memory");
        w->out = nv;
        w->cap = ncap;
    }
    w->out[w->n++] = (struct found_vma){vma, first, last};
    return 0;
}

static uint64_t node_u64(const uint8_t *node, uint64_t off)
{
    uint64_t v;
    memcpy(&v, node + off, sizeof(v));
    return v;
}

/* Visit one node: record a leaf's VMAs, or push an internal node's children
 * (last first, so they pop in address order). */
static int visit(struct maple_walk *w, const struct pending *pn)
{
    struct xa_instance *xa = w->xa;
    const struct linux_more_offsets *m = w->m;
    uint64_t addr = pn->enode & ~MAPLE_NODE_MASK;
    unsigned type = (unsigned)(pn->enode >> 3) & 0xf;
    if (!lx_kernel_ptr(addr))
        return xa__set_error(xa, XA_EFAULT, "maple tree broken: bad node pointer 0x%llx",
                             (unsigned long long)pn->enode);
    if (type != maple_leaf_64 && type != maple_range_64 && type != maple_arange_64)
        return xa__set_error(xa, XA_EBADDATA, "maple node 0x%llx has unexpected type %u",
                             (unsigned long long)addr, type);
    if (pn->depth > MAPLE_HEIGHT_MAX)
        return xa__set_error(xa, XA_ELIMIT, "maple tree deeper than %d levels", MAPLE_HEIGHT_MAX);
    int added = lx_ptrset_add(&w->seen, addr);
    if (added < 0)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    if (added == 0)
        return xa__set_error(xa, XA_ELIMIT, "maple tree loops: node 0x%llx reached twice",
                             (unsigned long long)addr);
    if (w->seen.n > MAPLE_MAX_NODES)
        return xa__set_error(xa, XA_ELIMIT, "maple tree has more than %u nodes", MAPLE_MAX_NODES);

    uint8_t node[MAPLE_NODE_SIZE];
    if (lx_read(xa, addr, node, sizeof(node)) < 0)
        return xa__set_error(xa, XA_EFAULT, "maple tree broken at node 0x%llx: unreadable",
                             (unsigned long long)addr);
    if ((node_u64(node, 0) & ~MAPLE_NODE_MASK) == addr)
        return xa__set_error(xa, XA_EBADDATA, "maple node 0x%llx is dead (freed)",
                             (unsigned long long)addr);

    bool arange = type == maple_arange_64;
    uint64_t npiv = arange ? m->ma64_npivots : m->mr64_npivots;
    uint64_t piv_off = arange ? m->ma64_pivot : m->mr64_pivot;
    uint64_t slot_off = arange ? m->ma64_slot : m->mr64_slot;
    uint64_t meta_off = (arange ? m->ma64_meta : m->mr64_meta) + m->meta_end;
    if (npiv == 0 || npiv >= MAPLE_MAX_SLOTS || piv_off + npiv * 8 > sizeof(node) ||
        slot_off + (npiv + 1) * 8 > sizeof(node) || meta_off >= sizeof(node))
        return xa__set_error(xa, XA_EBADDATA, "maple node layout from BTF does not fit 256 bytes");

    /* Used slots, as the kernel's ma_data_end() decides. */
    uint64_t last_pivot = node_u64(node, piv_off + (npiv - 1) * 8);
    uint64_t end;
    if (arange || last_pivot == 0)
        end = node[meta_off];
    else if (last_pivot == pn->max)
        end = npiv - 1;
    else
        end = npiv;
    if (end > npiv)
        return xa__set_error(xa, XA_EBADDATA, "maple node 0x%llx: slot count %llu too large",
                             (unsigned long long)addr, (unsigned long long)end + 1);

    struct pending kids[MAPLE_MAX_SLOTS];
    size_t nkids = 0;
    uint64_t lo = pn->min;
    for (uint64_t i = 0; i <= end; i++) {
        uint64_t hi = i < npiv ? node_u64(node, piv_off + i * 8) : pn->max;
        if (i == end && (i >= npiv || hi == 0))
            hi = pn->max;
        if (hi < lo || hi > pn->max)
            return xa__set_error(xa, XA_EBADDATA, "maple node 0x%llx: pivots out of order",
                                 (unsigned long long)addr);
        uint64_t entry = node_u64(node, slot_off + i * 8);
        if (entry) {
            if (type == maple_leaf_64) {
                /* Small values are the tree's internal markers, not VMAs. */
                if (entry >= 0x10000) {
                    if (!lx_kernel_ptr(entry) || (entry & 7))
                        return xa__set_error(xa, XA_EBADDATA,
                                             "maple leaf 0x%llx holds a bad VMA pointer 0x%llx",
                                             (unsigned long long)addr, (unsigned long long)entry);
                    int rc = add_found(w, entry, lo, hi);
                    if (rc < 0)
                        return rc;
                }
            } else {
                kids[nkids++] = (struct pending){entry, lo, hi, pn->depth + 1};
            }
        }
        if (hi == pn->max)
            break;
        lo = hi + 1;
    }
    while (nkids > 0) {
        if (w->sp >= sizeof(w->stack) / sizeof(w->stack[0]))
            return xa__set_error(xa, XA_ELIMIT, "maple tree walk stack overflow");
        w->stack[w->sp++] = kids[--nkids];
    }
    return 0;
}

/* Collect the VMAs of the tree at @mt (a struct maple_tree address). On an
 * error what was found before it stays in it->vmas. */
static int maple_collect(struct xa_instance *xa, struct xa_vma_iter *it, uint64_t mt,
                         struct found_vma **found)
{
    const struct linux_priv *p = linux_priv(xa);
    uint64_t root;
    if (lx_u64(xa, mt + p->lx.off.maple_tree_root, &root) < 0)
        return xa__set_error(xa, XA_EFAULT, "cannot read the maple tree root at 0x%llx",
                             (unsigned long long)mt);
    if (root == 0)
        return 0;
    /* xa_is_node(): an internal entry (low bits 10) above 4096. */
    if ((root & 3) != 2 || root <= 4096)
        return xa__set_error(xa, XA_EBADDATA, "maple tree root 0x%llx is not a node",
                             (unsigned long long)root);

    struct maple_walk *w = calloc(1, sizeof(*w));
    if (!w)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    w->xa = xa;
    w->m = &p->more;
    w->stack[w->sp++] = (struct pending){root, 0, UINT64_MAX, 1};
    int rc = 0;
    while (rc == 0 && w->sp > 0) {
        struct pending pn = w->stack[--w->sp];
        rc = visit(w, &pn);
    }
    *found = w->out;
    it->nr_vmas = w->n;
    lx_ptrset_free(&w->seen);
    free(w);
    return rc;
}

/* ---- file paths --------------------------------------------------------- */

/* Prepend "/name" of @dentry at buf[*pos]. */
static int prepend_name(struct xa_instance *xa, uint64_t dentry, char *buf, size_t *pos)
{
    const struct linux_offsets *o = &linux_os(xa)->off;
    uint32_t len;
    uint64_t name;
    if (lx_u32(xa, dentry + o->dentry_d_name + o->qstr_len, &len) < 0 ||
        lx_u64(xa, dentry + o->dentry_d_name + o->qstr_name, &name) < 0)
        return xa__set_error(xa, XA_EFAULT, "dentry 0x%llx unreadable", (unsigned long long)dentry);
    if (len == 0 || len > NAME_MAX_LEN || !lx_kernel_ptr(name))
        return xa__set_error(xa, XA_EBADDATA, "dentry 0x%llx has a bad name (length %u)",
                             (unsigned long long)dentry, len);
    if (*pos < len + 1)
        return xa__set_error(xa, XA_ELIMIT, "file path longer than %d bytes", XA_PATH_MAX);
    char tmp[NAME_MAX_LEN];
    if (lx_read(xa, name, tmp, len) < 0)
        return xa__set_error(xa, XA_EFAULT, "dentry 0x%llx: name unreadable",
                             (unsigned long long)dentry);
    if (memchr(tmp, '/', len) || memchr(tmp, '\0', len))
        return xa__set_error(xa, XA_EBADDATA, "dentry 0x%llx: name contains '/' or NUL",
                             (unsigned long long)dentry);
    *pos -= len;
    memcpy(buf + *pos, tmp, len);
    buf[--*pos] = '/';
    return 0;
}

/* d_unlinked(): unhashed (d_hash.pprev NULL) and not a root; /proc then
 * appends " (deleted)" to the path. */
static bool is_deleted(struct xa_instance *xa, uint64_t dentry)
{
    const struct linux_priv *p = linux_priv(xa);
    uint64_t pprev, parent;
    if (p->more.dentry_hash_pprev == LX_NO_OFFSET)
        return false;
    if (lx_u64(xa, dentry + p->more.dentry_hash_pprev, &pprev) < 0 ||
        lx_u64(xa, dentry + p->lx.off.dentry_d_parent, &parent) < 0)
        return false;
    return pprev == 0 && parent != dentry;
}

/* Path of struct file @file: dentry names up to the root, crossing mount
 * points when BTF describes struct mount. */
static int file_path(struct xa_instance *xa, uint64_t file, char *out)
{
    const struct linux_priv *p = linux_priv(xa);
    const struct linux_offsets *o = &p->lx.off;
    const struct linux_more_offsets *m = &p->more;
    bool mounts = o->path_mnt != LX_NO_OFFSET && m->mount_mnt != LX_NO_OFFSET &&
                  m->mount_parent != LX_NO_OFFSET && m->mount_mountpoint != LX_NO_OFFSET &&
                  m->vfsmount_mnt_root != LX_NO_OFFSET;
    uint64_t dentry, mnt = 0;
    if (lx_u64(xa, file + o->file_f_path + o->path_dentry, &dentry) < 0 ||
        (mounts && lx_u64(xa, file + o->file_f_path + o->path_mnt, &mnt) < 0))
        return xa__set_error(xa, XA_EFAULT, "struct file 0x%llx unreadable",
                             (unsigned long long)file);

    uint64_t file_dentry = dentry;
    char buf[XA_PATH_MAX];
    size_t pos = sizeof(buf) - 1;
    buf[pos] = '\0';
    for (int depth = 0;; depth++) {
        if (depth >= PATH_DEPTH_MAX)
            return xa__set_error(xa, XA_ELIMIT, "file path deeper than %d", PATH_DEPTH_MAX);
        if (!lx_kernel_ptr(dentry))
            return xa__set_error(xa, XA_EBADDATA, "bad dentry pointer 0x%llx",
                                 (unsigned long long)dentry);
        uint64_t mnt_root, parent;
        if (mounts && mnt && lx_u64(xa, mnt + m->vfsmount_mnt_root, &mnt_root) == 0 &&
            dentry == mnt_root) {
            /* At the root of a mount: continue from where it is mounted. */
            uint64_t mount = mnt - m->mount_mnt, mparent, mountpoint;
            if (lx_u64(xa, mount + m->mount_parent, &mparent) < 0 ||
                lx_u64(xa, mount + m->mount_mountpoint, &mountpoint) < 0)
                return xa__set_error(xa, XA_EFAULT, "mount 0x%llx unreadable",
                                     (unsigned long long)mount);
            if (mparent == mount || !lx_kernel_ptr(mparent))
                break; /* the root mount */
            dentry = mountpoint;
            mnt = mparent + m->mount_mnt;
            continue;
        }
        if (lx_u64(xa, dentry + o->dentry_d_parent, &parent) < 0)
            return xa__set_error(xa, XA_EFAULT, "dentry 0x%llx unreadable",
                                 (unsigned long long)dentry);
        if (parent == dentry)
            break; /* root of its filesystem */
        int rc = prepend_name(xa, dentry, buf, &pos);
        if (rc < 0)
            return rc;
        dentry = parent;
    }
    if (pos == sizeof(buf) - 1)
        buf[--pos] = '/';
    memcpy(out, buf + pos, sizeof(buf) - pos);
    if (is_deleted(xa, file_dentry)) {
        size_t len = strlen(out);
        snprintf(out + len, XA_PATH_MAX - len, " (deleted)");
    }
    return 0;
}

/* Name of a special mapping ([vdso], [vvar]): its vm_ops are
 * special_mapping_vmops and vm_private_data points at a struct
 * vm_special_mapping holding the name. Without that symbol (a partial
 * System.map) any vm_ops whose private data names a "[...]" string of
 * printable bytes is taken for one. */
static int special_name(struct xa_instance *xa, uint64_t vma, char *out, size_t cap)
{
    const struct linux_priv *p = linux_priv(xa);
    const struct linux_more_offsets *m = &p->more;
    uint64_t ops, priv, name;
    if (m->vma_ops == LX_NO_OFFSET || m->vma_private_data == LX_NO_OFFSET ||
        m->special_mapping_name == LX_NO_OFFSET)
        return 0;
    if (lx_u64(xa, vma + m->vma_ops, &ops) < 0 || !lx_kernel_ptr(ops))
        return 0;
    if (p->special_mapping_vmops && ops != p->special_mapping_vmops)
        return 0;
    if (lx_u64(xa, vma + m->vma_private_data, &priv) < 0 || !lx_kernel_ptr(priv) ||
        lx_u64(xa, priv + m->special_mapping_name, &name) < 0 || !lx_kernel_ptr(name))
        return 0;
    char buf[SPECIAL_NAME_MAX + 1] = {0};
    size_t got = 0;
    xa__read_va(xa, 0, name, buf, SPECIAL_NAME_MAX, &got);
    size_t len = strnlen(buf, got);
    if (len < 3 || len == got || buf[0] != '[' || buf[len - 1] != ']')
        return 0; /* unterminated, or not a special mapping's name */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
            return 0;
    snprintf(out, cap, "%s", buf);
    return 1;
}

/* ---- the iterator ---------------------------------------------------- */

/* mm->map_count is the kernel's own count of the VMAs in the tree or list:
 * a tree slot emptied or a list cut short shows as a difference. Skipped on
 * a running guest, whose maps may change while we walk, and when BTF has no
 * map_count. */
static int check_map_count(struct xa_vma_iter *it, uint64_t walked, const char *what)
{
    struct xa_instance *xa = it->xa;
    uint64_t off = linux_os(xa)->off.mm_map_count;
    uint32_t count;
    if (off == LX_NO_OFFSET || xa_is_live(xa))
        return 0;
    if (lx_u32(xa, it->mm + off, &count) < 0)
        return xa__set_error(xa, XA_EFAULT, "mm_struct 0x%llx of pid %d: map_count unreadable",
                             (unsigned long long)it->mm, (int)it->pid);
    if (walked == count)
        return 0;
    return xa__set_error(xa, XA_EBADDATA,
                         "memory map of pid %d incomplete: %s %llu VMAs, mm->map_count says %u",
                         (int)it->pid, what, (unsigned long long)walked, count);
}

int linux_vma_iter_new(struct xa_instance *xa, int32_t pid, struct xa_vma_iter **out)
{
    struct linux_priv *p = linux_priv(xa);
    if (p->vmas_missing[0])
        return xa__set_error(xa, XA_ENOTSUP, "cannot read memory maps: %s", p->vmas_missing);
    struct xa_process proc;
    int rc = linux_process_by_pid(xa, pid, &proc);
    if (rc < 0)
        return rc;
    struct xa_vma_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    it->xa = xa;
    it->pid = pid;
    it->mm = proc.mm;
    *out = it;
    if (!proc.mm)
        return 0; /* a kernel thread has no user memory map */

    const struct linux_offsets *o = &p->lx.off;
    if (lx_u64(xa, it->mm + p->more.mm_start_brk, &it->start_brk) < 0 ||
        lx_u64(xa, it->mm + p->more.mm_brk, &it->brk) < 0 ||
        lx_u64(xa, it->mm + p->more.mm_start_stack, &it->start_stack) < 0) {
        rc = xa__set_error(xa, XA_EFAULT, "mm_struct 0x%llx of pid %d unreadable",
                           (unsigned long long)it->mm, (int)pid);
        goto fail;
    }
    if (o->mm_mm_mt != LX_NO_OFFSET) {
        struct found_vma *found = NULL;
        rc = maple_collect(xa, it, it->mm + o->mm_mm_mt, &found);
        it->found = found;
        if (rc == 0)
            rc = check_map_count(it, it->nr_vmas, "the maple tree holds");
        if (rc < 0) {
            /* Report the error after the VMAs found before it. */
            it->deferred_err = rc;
            snprintf(it->deferred_msg, sizeof(it->deferred_msg), "%s", xa__errmsg(xa));
        }
        return 0;
    }
    it->linked_list = true;
    if (lx_u64(xa, it->mm + o->mm_mmap, &it->next_vma) < 0) {
        rc = xa__set_error(xa, XA_EFAULT, "mm_struct 0x%llx of pid %d unreadable",
                           (unsigned long long)it->mm, (int)pid);
        goto fail;
    }
    it->tortoise = 0;
    it->power = it->lam = 1;
    return 0;
fail:
    linux_vma_iter_free(it);
    *out = NULL;
    return rc;
}

/* Next VMA address from the mm->mmap list: 1, 0 at the end, or <0. */
static int list_next(struct xa_vma_iter *it, uint64_t *vma)
{
    struct xa_instance *xa = it->xa;
    uint64_t cur = it->next_vma;
    if (cur == 0)
        return check_map_count(it, it->steps, "the VMA list holds");
    if (!lx_kernel_ptr(cur) || (cur & 7))
        return xa__set_error(xa, XA_EFAULT, "VMA list broken: bad pointer 0x%llx",
                             (unsigned long long)cur);
    /* vm_prev: NULL for the first VMA, else the one before. */
    uint64_t vm_prev_off = linux_priv(xa)->more.vma_prev, back;
    if (vm_prev_off != LX_NO_OFFSET) {
        if (lx_u64(xa, cur + vm_prev_off, &back) < 0)
            return xa__set_error(xa, XA_EFAULT, "VMA list broken at 0x%llx",
                                 (unsigned long long)cur);
        if (back != it->prev_vma)
            return xa__set_error(xa, XA_EBADDATA,
                                 "VMA list broken after %llu VMAs: 0x%llx links to 0x%llx, "
                                 "whose vm_prev is 0x%llx",
                                 (unsigned long long)it->steps, (unsigned long long)it->prev_vma,
                                 (unsigned long long)cur, (unsigned long long)back);
    }
    if (cur == it->tortoise)
        return xa__set_error(xa, XA_ELIMIT, "VMA list loops at 0x%llx", (unsigned long long)cur);
    if (++it->steps > LINUX_MAX_VMAS)
        return xa__set_error(xa, XA_ELIMIT, "more than %u VMAs", LINUX_MAX_VMAS);
    if (it->power == it->lam) { /* Brent's cycle detection */
        it->tortoise = cur;
        it->power *= 2;
        it->lam = 0;
    }
    it->lam++;
    if (lx_u64(xa, cur + linux_os(xa)->off.vma_next, &it->next_vma) < 0)
        return xa__set_error(xa, XA_EFAULT, "VMA list broken at 0x%llx", (unsigned long long)cur);
    it->prev_vma = cur;
    *vma = cur;
    return 1;
}

static int read_vma(struct xa_vma_iter *it, uint64_t vma, struct xa_vma *out)
{
    struct xa_instance *xa = it->xa;
    const struct linux_offsets *o = &linux_os(xa)->off;
    uint64_t flags, file;
    memset(out, 0, offsetof(struct xa_vma, path));
    out->path[0] = '\0';
    out->vma = vma;
    if (lx_u64(xa, vma + o->vma_start, &out->start) < 0 ||
        lx_u64(xa, vma + o->vma_end, &out->end) < 0 ||
        lx_u64(xa, vma + o->vma_flags, &flags) < 0 ||
        lx_u64(xa, vma + o->vma_pgoff, &out->pgoff) < 0 ||
        lx_u64(xa, vma + o->vma_file, &file) < 0)
        return xa__set_error(xa, XA_EFAULT, "VMA 0x%llx of pid %d unreadable",
                             (unsigned long long)vma, (int)it->pid);
    if (out->start >= out->end || out->end > USER_SPACE_END || out->start < it->prev_end ||
        (out->start & (XA_PAGE_SIZE - 1)) || (out->end & (XA_PAGE_SIZE - 1)))
        return xa__set_error(xa, XA_EBADDATA,
                             "implausible VMA 0x%llx of pid %d: 0x%llx-0x%llx after 0x%llx",
                             (unsigned long long)vma, (int)it->pid,
                             (unsigned long long)out->start, (unsigned long long)out->end,
                             (unsigned long long)it->prev_end);
    it->prev_end = out->end;
    /* VM_READ/WRITE/EXEC are XA_VMA_*'s bits; "shared" is VM_MAYSHARE, as
     * the 's' of /proc/PID/maps (a read-only MAP_SHARED lacks VM_SHARED). */
    out->flags = (uint32_t)(flags & (XA_VMA_READ | XA_VMA_WRITE | XA_VMA_EXEC));
    if (flags & (VM_SHARED | VM_MAYSHARE))
        out->flags |= XA_VMA_SHARED;

    if (!file)
        out->pgoff = 0; /* anonymous: vm_pgoff is the address; /proc shows 0 */
    if (file) {
        if (!lx_kernel_ptr(file))
            return xa__set_error(xa, XA_EBADDATA, "VMA 0x%llx has a bad vm_file 0x%llx",
                                 (unsigned long long)vma, (unsigned long long)file);
        return file_path(xa, file, out->path);
    }
    if (special_name(xa, vma, out->path, sizeof(out->path)))
        return 0;
    /* As show_map_vma() names anonymous memory. */
    if (out->start <= it->brk && out->end >= it->start_brk)
        snprintf(out->path, sizeof(out->path), "[heap]");
    else if (out->start <= it->start_stack && out->end >= it->start_stack)
        snprintf(out->path, sizeof(out->path), "[stack]");
    return 0;
}

int linux_vma_iter_next(struct xa_vma_iter *it, struct xa_vma *out)
{
    struct xa_instance *xa = it->xa;
    if (it->err)
        return it->err;
    if (!it->mm)
        return 0;
    int rc;
    if (it->linked_list) {
        uint64_t vma = 0;
        rc = list_next(it, &vma);
        if (rc <= 0)
            return it->err = rc;
        rc = read_vma(it, vma, out);
    } else {
        if (it->pos >= it->nr_vmas) {
            if (!it->deferred_err)
                return 0;
            return it->err = xa__set_error(xa, it->deferred_err, "%s", it->deferred_msg);
        }
        const struct found_vma *f = &it->found[it->pos++];
        rc = read_vma(it, f->vma, out);
        if (rc == 0 && (out->start != f->first || out->end - 1 != f->last))
            rc = xa__set_error(xa, XA_EBADDATA,
                               "VMA 0x%llx (0x%llx-0x%llx) is not where the maple tree puts it",
                               (unsigned long long)f->vma, (unsigned long long)out->start,
                               (unsigned long long)out->end);
    }
    if (rc < 0)
        return it->err = rc;
    return 1;
}

void linux_vma_iter_free(struct xa_vma_iter *it)
{
    if (!it)
        return;
    free(it->found);
    free(it);
}
