/*
 * vma32.h -- the memory-map layout of a 32-bit x86 Linux kernel that has no
 * BTF (6.1+, maple tree), inferred from the guest's own memory (vma32.c).
 *
 * Pure code: memory comes through an lx_mem_fn, so the unit test and the
 * fuzz target run it over synthetic memory. Each offset is the one answer
 * that every sampled process agrees with; a step with no answer or more
 * than one refuses with one line (docs/limits.md, "32-bit x86 kernels").
 */
#ifndef XA_OS_LINUX_VMA32_H
#define XA_OS_LINUX_VMA32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/linux/procread.h"

#define V32_SAMPLE 32u       /* processes (mm_structs) compared at most */
#ifndef V32_VMAS /* a unit test sets a small one */
#define V32_VMAS 512u        /* VMAs of one process compared: the lowest and highest half */
#endif
#define V32_FILES 256u       /* distinct struct files compared at most */
#define V32_MM_ROOT_SPAN 64u /* bytes of mm_struct searched for ma_root */
#define V32_MM_SPAN 1024u    /* bytes of mm_struct searched for start_stack */
#define V32_VMA_SPAN 96u     /* bytes of vm_area_struct compared */
#define V32_FILE_SPAN 64u    /* bytes of struct file searched for f_path */
#define V32_DENTRY_SPAN 128u /* bytes of struct dentry searched */
#define V32_MOUNT_SPAN 64u   /* bytes of struct mount before its vfsmount */
#define V32_DEPTH 256u       /* dentries from a file up to its root */
#define V32_TREE_NODES 8192u /* nodes of one tree walked while inferring (65 530 VMAs: ~4 400) */

struct v32_mem {
    lx_mem_fn read; /* 0 or a negative XA_E* */
    void *ctx;
    uint64_t page_offset; /* kernel pointers lie in [page_offset, 2^32) */
};

/* Offsets in bytes from the start of each structure. */
struct v32_layout {
    uint32_t mm_root;        /* mm_struct.mm_mt.ma_root */
    uint32_t mm_start_stack; /* start_brk and brk are the two words before */
    uint32_t mm_map_count;   /* UINT32_MAX when not found (a check only) */
    uint32_t vm_start, vm_end, vm_mm, vm_flags, vm_pgoff, vm_file;
    uint32_t vm_ops, vm_private;   /* special mappings ([vdso], [vvar]); UINT32_MAX
                                    * when the sample has none */
    uint64_t special_ops;          /* their vm_ops (special_mapping_vmops) */
    uint32_t f_path;               /* struct file.f_path: mnt, then dentry */
    uint32_t d_parent, d_name;     /* d_name: the qstr (hash, len, name) */
    uint32_t d_hash_pprev;         /* NULL when unlinked */
    uint32_t mnt_root;             /* struct vfsmount */
    uint32_t mount_mnt, mount_parent, mount_mountpoint; /* struct mount */
    size_t nr_mms, nr_vmas, nr_files; /* what the answers rest on */
};

/* Infer the layout from the user processes whose mm_structs are @mms (at
 * most V32_SAMPLE are used). 0, or a negative XA_E* with one line in @why
 * (LX_WHY_LEN). */
int v32_infer(const struct v32_mem *m, const uint64_t *mms, size_t n, struct v32_layout *out,
              char *why);

#endif /* XA_OS_LINUX_VMA32_H */
