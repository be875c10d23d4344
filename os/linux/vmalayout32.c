/*
 * vmalayout32.c -- the memory-map layout of a 32-bit kernel without BTF:
 * runs the inference of vma32.c over the guest's user processes, once, and
 * fills the OS layer's offsets from it (vma.c then walks as with BTF).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/lxpriv.h"
#include "os/linux/vma32.h"

#define MMS_MAX 65536u /* user processes looked at (v32_infer samples them) */

static int read_kva(void *ctx, uint64_t va, void *buf, size_t len)
{
    return xa__read_va(ctx, 0, va, buf, len, NULL);
}

/* The mm_structs of the user processes, in list order (those before the
 * damage when the list is broken). */
static int user_mms(struct xa_instance *xa, uint64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    struct xa_process_iter *it;
    int rc = linux_process_iter_new(xa, &it);
    if (rc < 0)
        return rc;
    size_t cap = 0;
    struct xa_process proc;
    while ((rc = linux_process_iter_next(it, &proc)) > 0) {
        if (!proc.mm || (proc.flags & 0x00200000u) || *n >= MMS_MAX)
            continue;
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            uint64_t *nm = realloc(*out, ncap * sizeof(*nm));
            if (!nm) {
                rc = xa__set_error(xa, XA_ENOMEM, "out of memory");
                break;
            }
            *out = nm;
            cap = ncap;
        }
        (*out)[(*n)++] = proc.mm;
    }
    linux_process_iter_free(it);
    if (rc < 0 && *n > 0) { /* a list cut short still gives a sample */
        xa__clear_error(xa);
        return 0;
    }
    return rc < 0 ? rc : 0;
}

int linux_vma32_find(struct xa_instance *xa, struct linux_priv *p)
{
    if (p->vmas32_ready)
        return 0;
    uint64_t *mms;
    size_t n;
    int rc = user_mms(xa, &mms, &n);
    if (rc < 0) {
        free(mms);
        return rc;
    }
    struct v32_mem m = {.read = read_kva, .ctx = xa, .page_offset = p->lx.page_offset};
    struct v32_layout l;
    char why[LX_WHY_LEN];
    rc = v32_infer(&m, mms, n, &l, why);
    free(mms);
    if (rc < 0)
        return xa__set_error(xa, rc, "memory-map layout not found in memory: %s", why);

    struct linux_offsets *o = &p->lx.off;
    struct linux_more_offsets *mo = &p->more;
    o->mm_mm_mt = 0; /* ma_root is counted from the mm_struct */
    o->maple_tree_root = l.mm_root;
    o->mm_mmap = LX_NO_OFFSET;
    o->mm_map_count = l.mm_map_count == UINT32_MAX ? LX_NO_OFFSET : l.mm_map_count;
    mo->mm_start_stack = l.mm_start_stack;
    mo->mm_brk = l.mm_start_stack - 4;
    mo->mm_start_brk = l.mm_start_stack - 8;
    o->vma_start = l.vm_start;
    o->vma_end = l.vm_end;
    o->vma_flags = l.vm_flags;
    o->vma_pgoff = l.vm_pgoff;
    o->vma_file = l.vm_file;
    mo->vma_mm = l.vm_mm;
    mo->vma_prev = LX_NO_OFFSET;
    bool specials = l.vm_ops != UINT32_MAX;
    mo->vma_ops = specials ? l.vm_ops : LX_NO_OFFSET;
    mo->vma_private_data = specials ? l.vm_private : LX_NO_OFFSET;
    mo->special_mapping_name = 0; /* vm_special_mapping.name comes first */
    p->special_mapping_vmops = l.special_ops;
    o->file_f_path = l.f_path;
    o->path_mnt = 0;
    o->path_dentry = 4;
    o->dentry_d_name = l.d_name;
    o->qstr_len = 4; /* after the hash */
    o->qstr_name = 8;
    o->dentry_d_parent = l.d_parent;
    mo->dentry_hash_pprev = l.d_hash_pprev;
    mo->vfsmount_mnt_root = l.mnt_root;
    mo->mount_mnt = l.mount_mnt;
    mo->mount_parent = l.mount_parent;
    mo->mount_mountpoint = l.mount_mountpoint;
    p->vmas32_ready = true;
    return 0;
}

struct lx_dpath_layout linux_dpath_layout32(const struct linux_priv *p)
{
    const struct linux_offsets *o = &p->lx.off;
    const struct linux_more_offsets *mo = &p->more;
    return (struct lx_dpath_layout){
        .d_parent = o->dentry_d_parent,
        .d_name_len = o->dentry_d_name + o->qstr_len,
        .d_name_ptr = o->dentry_d_name + o->qstr_name,
        .d_hash_pprev = mo->dentry_hash_pprev,
        .mnt_root = mo->vfsmount_mnt_root,
        .mount_mnt = mo->mount_mnt,
        .mount_parent = mo->mount_parent,
        .mount_mountpoint = mo->mount_mountpoint,
        .has_mounts = true,
        .ptr_size = 4,
        .kptr_min = p->lx.page_offset,
    };
}
