/*
 * vma.c -- the memory map of a process, as /proc/PID/maps shows it.
 *
 * 6.1+ keeps a process's VMAs in a maple tree (mm->mm_mt); older kernels in
 * a list (mm->mmap, vm_next). Which one is decided by the fields BTF has;
 * a 32-bit kernel without BTF has its offsets inferred from memory on the
 * first walk (vmalayout32.c, vma32.c). Kernel words are read at the
 * kernel's width (lx_ptr).
 *
 * The tree is walked once, when the iterator is created, by maple.c (its
 * node geometry from BTF, or the fixed 32-bit one): depth first in address
 * order, every node at most once, depth and node count capped. A VMA must
 * sit in the leaf slot that covers exactly [vm_start, vm_end - 1] and name
 * the process's mm in vm_mm, which we check.
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
#include "os/linux/maple.h"

#define LINUX_MAX_VMAS 1000000u     /* max_map_count defaults to 65530 */
#define PATH_DEPTH_MAX 256          /* dentries from a file up to its root */
#define NAME_MAX_LEN 255            /* NAME_MAX */
#define USER_SPACE_END (1ULL << 56) /* above TASK_SIZE_MAX, 4- or 5-level */
#define SPECIAL_NAME_MAX 64          /* "[vdso]", "[vvar]", "[uprobes]" */
#define VM_SHARED 0x08ULL
#define VM_MAYSHARE 0x80ULL

/* ---- maple tree ------------------------------------------------------- */

static int read_kva(void *ctx, uint64_t va, void *buf, size_t len)
{
    return lx_read(ctx, va, buf, len);
}

/* The node geometry: BTF's offsets, or the fixed 32-bit layout when the
 * kernel's longs are 4 bytes and BTF does not describe the nodes. */
static struct maple_geom maple_geometry(struct xa_instance *xa)
{
    const struct linux_priv *p = linux_priv(xa);
    const struct linux_more_offsets *m = &p->more;
    if (lx_is32(&p->lx) && (!p->lx.btf || m->mr64_npivots == 0))
        return maple_geom_32(p->lx.page_offset);
    struct maple_geom g = {
        .ptr_size = (unsigned)lx_ptr_size(xa),
        .kmin = lx_is32(&p->lx) ? p->lx.page_offset : 0xff00000000000000ULL,
        .kmax = lx_is32(&p->lx) ? 0xFFFFFFFFull : UINT64_MAX,
        .index_max = lx_is32(&p->lx) ? 0xFFFFFFFFull : UINT64_MAX,
        .range = {(uint32_t)m->mr64_pivot, (uint32_t)m->mr64_slot, (uint32_t)m->mr64_meta,
                  (uint32_t)m->mr64_npivots},
        .arange = {(uint32_t)m->ma64_pivot, (uint32_t)m->ma64_slot, (uint32_t)m->ma64_meta,
                   (uint32_t)m->ma64_npivots},
        .meta_end = (uint32_t)m->meta_end,
    };
    return g;
}

/* Collect the VMAs of the tree at @mt (a struct maple_tree address). On an
 * error what was found before it stays in it->found. */
static int vma_tree_collect(struct xa_instance *xa, struct xa_vma_iter *it, uint64_t mt)
{
    const struct linux_priv *p = linux_priv(xa);
    uint64_t root;
    if (lx_ptr(xa, mt + p->lx.off.maple_tree_root, &root) < 0)
        return xa__set_error(xa, XA_EFAULT, "cannot read the maple tree root at 0x%llx",
                             (unsigned long long)mt);
    struct maple_geom g = maple_geometry(xa);
    char why[LX_WHY_LEN];
    int rc = maple_collect(&g, read_kva, xa, root, &it->found, &it->nr_vmas, why);
    if (rc < 0)
        return xa__set_error(xa, rc, "%s", why);
    return 0;
}

/* ---- file paths --------------------------------------------------------- */

/* Prepend "/name" of @dentry at buf[*pos]. */
static int prepend_name(struct xa_instance *xa, uint64_t dentry, char *buf, size_t *pos)
{
    const struct linux_offsets *o = &linux_os(xa)->off;
    uint32_t len;
    uint64_t name;
    if (lx_u32(xa, dentry + o->dentry_d_name + o->qstr_len, &len) < 0 ||
        lx_ptr(xa, dentry + o->dentry_d_name + o->qstr_name, &name) < 0)
        return xa__set_error(xa, XA_EFAULT, "dentry 0x%llx unreadable", (unsigned long long)dentry);
    if (len == 0 || len > NAME_MAX_LEN || !lx_kptr(xa, name))
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
    if (lx_ptr(xa, dentry + p->more.dentry_hash_pprev, &pprev) < 0 ||
        lx_ptr(xa, dentry + p->lx.off.dentry_d_parent, &parent) < 0)
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
    if (lx_ptr(xa, file + o->file_f_path + o->path_dentry, &dentry) < 0 ||
        (mounts && lx_ptr(xa, file + o->file_f_path + o->path_mnt, &mnt) < 0))
        return xa__set_error(xa, XA_EFAULT, "struct file 0x%llx unreadable",
                             (unsigned long long)file);

    uint64_t file_dentry = dentry;
    char buf[XA_PATH_MAX];
    size_t pos = sizeof(buf) - 1;
    buf[pos] = '\0';
    for (int depth = 0;; depth++) {
        if (depth >= PATH_DEPTH_MAX)
            return xa__set_error(xa, XA_ELIMIT, "file path deeper than %d", PATH_DEPTH_MAX);
        if (!lx_kptr(xa, dentry))
            return xa__set_error(xa, XA_EBADDATA, "bad dentry pointer 0x%llx",
                                 (unsigned long long)dentry);
        uint64_t mnt_root, parent;
        if (mounts && mnt && lx_ptr(xa, mnt + m->vfsmount_mnt_root, &mnt_root) == 0 &&
            dentry == mnt_root) {
            /* At the root of a mount: continue from where it is mounted. */
            uint64_t mount = mnt - m->mount_mnt, mparent, mountpoint;
            if (lx_ptr(xa, mount + m->mount_parent, &mparent) < 0 ||
                lx_ptr(xa, mount + m->mount_mountpoint, &mountpoint) < 0)
                return xa__set_error(xa, XA_EFAULT, "mount 0x%llx unreadable",
                                     (unsigned long long)mount);
            if (mparent == mount || !lx_kptr(xa, mparent))
                break; /* the root mount */
            dentry = mountpoint;
            mnt = mparent + m->mount_mnt;
            continue;
        }
        if (lx_ptr(xa, dentry + o->dentry_d_parent, &parent) < 0)
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
    if (lx_ptr(xa, vma + m->vma_ops, &ops) < 0 || !lx_kptr(xa, ops))
        return 0;
    if (p->special_mapping_vmops && ops != p->special_mapping_vmops)
        return 0;
    if (lx_ptr(xa, vma + m->vma_private_data, &priv) < 0 || !lx_kptr(xa, priv) ||
        lx_ptr(xa, priv + m->special_mapping_name, &name) < 0 || !lx_kptr(xa, name))
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
    int rc;
    if (lx_is32(&p->lx) && !p->lx.btf && (rc = linux_vma32_find(xa, p)) < 0) {
        char why[XA_ERRMSG_LEN];
        snprintf(why, sizeof(why), "%s", xa__errmsg(xa));
        return xa__set_error(xa, rc, "cannot read memory maps: 32-bit kernel without BTF: %.400s",
                             why);
    }
    struct xa_process proc;
    rc = linux_process_by_pid(xa, pid, &proc);
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
    if (lx_ptr(xa, it->mm + p->more.mm_start_brk, &it->start_brk) < 0 ||
        lx_ptr(xa, it->mm + p->more.mm_brk, &it->brk) < 0 ||
        lx_ptr(xa, it->mm + p->more.mm_start_stack, &it->start_stack) < 0) {
        rc = xa__set_error(xa, XA_EFAULT, "mm_struct 0x%llx of pid %d unreadable",
                           (unsigned long long)it->mm, (int)pid);
        goto fail;
    }
    if (o->mm_mm_mt != LX_NO_OFFSET) {
        rc = vma_tree_collect(xa, it, it->mm + o->mm_mm_mt);
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
    if (lx_ptr(xa, it->mm + o->mm_mmap, &it->next_vma) < 0) {
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
    if (!lx_kptr(xa, cur) || (cur & (lx_ptr_size(xa) - 1)))
        return xa__set_error(xa, XA_EFAULT, "VMA list broken: bad pointer 0x%llx",
                             (unsigned long long)cur);
    /* vm_prev: NULL for the first VMA, else the one before. */
    uint64_t vm_prev_off = linux_priv(xa)->more.vma_prev, back;
    if (vm_prev_off != LX_NO_OFFSET) {
        if (lx_ptr(xa, cur + vm_prev_off, &back) < 0)
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
    if (lx_ptr(xa, cur + linux_os(xa)->off.vma_next, &it->next_vma) < 0)
        return xa__set_error(xa, XA_EFAULT, "VMA list broken at 0x%llx", (unsigned long long)cur);
    it->prev_vma = cur;
    *vma = cur;
    return 1;
}

/* Where user space ends: PAGE_OFFSET on a 32-bit kernel. */
static uint64_t user_end(struct xa_instance *xa)
{
    const struct linux_os *lx = linux_os(xa);
    return lx_is32(lx) ? lx->page_offset : USER_SPACE_END;
}

static int read_vma(struct xa_vma_iter *it, uint64_t vma, struct xa_vma *out)
{
    struct xa_instance *xa = it->xa;
    const struct linux_offsets *o = &linux_os(xa)->off;
    uint64_t flags, file;
    memset(out, 0, offsetof(struct xa_vma, path));
    out->path[0] = '\0';
    out->vma = vma;
    if (lx_ptr(xa, vma + o->vma_start, &out->start) < 0 ||
        lx_ptr(xa, vma + o->vma_end, &out->end) < 0 ||
        lx_ptr(xa, vma + o->vma_flags, &flags) < 0 ||
        lx_ptr(xa, vma + o->vma_pgoff, &out->pgoff) < 0 ||
        lx_ptr(xa, vma + o->vma_file, &file) < 0)
        return xa__set_error(xa, XA_EFAULT, "VMA 0x%llx of pid %d unreadable",
                             (unsigned long long)vma, (int)it->pid);
    if (out->start >= out->end || out->end > user_end(xa) || out->start < it->prev_end ||
        (out->start & (XA_PAGE_SIZE - 1)) || (out->end & (XA_PAGE_SIZE - 1)))
        return xa__set_error(xa, XA_EBADDATA,
                             "implausible VMA 0x%llx of pid %d: 0x%llx-0x%llx after 0x%llx",
                             (unsigned long long)vma, (int)it->pid,
                             (unsigned long long)out->start, (unsigned long long)out->end,
                             (unsigned long long)it->prev_end);
    it->prev_end = out->end;
    uint64_t mm, mm_off = linux_priv(xa)->more.vma_mm;
    if (mm_off != LX_NO_OFFSET && (lx_ptr(xa, vma + mm_off, &mm) < 0 || mm != it->mm))
        return xa__set_error(xa, XA_EBADDATA, "VMA 0x%llx (0x%llx-0x%llx) is not pid %d's: "
                             "its vm_mm is not mm_struct 0x%llx",
                             (unsigned long long)vma, (unsigned long long)out->start,
                             (unsigned long long)out->end, (int)it->pid,
                             (unsigned long long)it->mm);
    /* VM_READ/WRITE/EXEC are XA_VMA_*'s bits; "shared" is VM_MAYSHARE, as
     * the 's' of /proc/PID/maps (a read-only MAP_SHARED lacks VM_SHARED). */
    out->flags = (uint32_t)(flags & (XA_VMA_READ | XA_VMA_WRITE | XA_VMA_EXEC));
    if (flags & (VM_SHARED | VM_MAYSHARE))
        out->flags |= XA_VMA_SHARED;

    if (!file)
        out->pgoff = 0; /* anonymous: vm_pgoff is the address; /proc shows 0 */
    if (file) {
        if (!lx_kptr(xa, file))
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
        const struct maple_entry *f = &it->found[it->pos++];
        rc = read_vma(it, f->ptr, out);
        if (rc == 0 && (out->start != f->first || out->end - 1 != f->last))
            rc = xa__set_error(xa, XA_EBADDATA,
                               "VMA 0x%llx (0x%llx-0x%llx) is not where the maple tree puts it",
                               (unsigned long long)f->ptr, (unsigned long long)out->start,
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
