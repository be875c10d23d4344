/*
 * files32.h -- the open-file layout of a 32-bit x86 Linux kernel without
 * BTF (task->files, the fd table, struct file, inode, super_block), inferred
 * from the guest's own memory (files32.c) to fill the struct lx_file_layout
 * that fileread.c walks.
 *
 * Pure code: memory through an lx_mem_fn, tasks as an array, so the unit
 * test and the fuzzer run it over synthetic memory. Each offset is the one
 * answer every sampled process or file agrees with; a step with none or
 * more than one refuses in one line (docs/limits.md, "32-bit x86 kernels").
 */
#ifndef XA_OS_LINUX_FILES32_H
#define XA_OS_LINUX_FILES32_H

#include <stddef.h>
#include <stdint.h>

#include "os/linux/procread.h"

#define F32_TASKS 1024u      /* tasks compared at most (kernel threads and processes) */
#define F32_TASK_SPAN 4096u  /* bytes of task_struct searched for files */
#define F32_FILES_SPAN 512u  /* bytes of files_struct read (fdt, fdtab, bitmaps, fd_array) */
#define F32_FDT_SPAN 64u     /* bytes of files_struct searched for fdt */
#define F32_FDTAB_SPAN 24u   /* bytes of the embedded fdtable compared */
#define F32_EMBEDDED_FDS 32u /* the embedded table's max_fds: BITS_PER_LONG */
#define F32_FILES 256u       /* distinct struct files compared at most */
#define F32_FILE_SPAN 128u   /* bytes of struct file compared */
#define F32_DENTRY_SPAN 128u /* bytes of struct dentry compared */
#define F32_INODE_SPAN 96u   /* bytes of struct inode compared */
#define F32_SB_SPAN 32u      /* bytes of super_block compared */
#define F32_VFSMNT_SPAN 16u  /* bytes of struct vfsmount compared */
#define F32_DOPS_SPAN 64u    /* bytes of a dentry_operations searched for d_dname */
#define F32_DNAMES 5u        /* known d_dname functions */

struct f32_mem {
    lx_mem_fn read; /* 0 or a negative XA_E* */
    void *ctx;
    uint64_t page_offset; /* kernel pointers lie in [page_offset, 2^32) */
};

/* One task of the process walk; mm 0 for a kernel thread. */
struct f32_task {
    uint64_t task, mm;
};

/* What is known already: vma32.c's path layout and kernel symbols (0:
 * not in the symbol table). */
struct f32_known {
    uint32_t f_path;     /* struct file.f_path (mnt, dentry) */
    uint32_t mnt_root;   /* struct vfsmount.mnt_root */
    uint64_t init_files; /* the files_struct every kernel thread shares */
    /* d_dname functions of pseudo file systems (pipefs_dname, sockfs_dname,
     * ...): text symbols, in the table even without KALLSYMS_ALL */
    uint64_t dnames[F32_DNAMES];
};

#define F32_NOWHERE UINT32_MAX

struct f32_layout {
    uint32_t task_files;                                    /* task_struct */
    uint32_t files_fdt;                                     /* files_struct */
    uint32_t fdt_max_fds, fdt_fd, fdt_open_fds, fdt_cloexec; /* fdtable */
    uint32_t f_inode, f_flags, f_mode, f_pos;               /* file */
    uint32_t d_inode, d_op;                                 /* dentry */
    uint32_t dop_d_dname;                                   /* dentry_operations */
    uint32_t i_mode, i_sb, i_ino;                           /* inode */
    uint32_t s_dev;                                         /* super_block */
    size_t nprocs, nfiles, nsbs; /* what the answers rest on */
};

/* Infer the layout from @n tasks (init_task first is not required). 0, or
 * a negative XA_E* with one line in @why (LX_WHY_LEN). */
int f32_infer(const struct f32_mem *m, const struct f32_known *k, const struct f32_task *t,
              size_t n, struct f32_layout *out, char *why);

#endif /* XA_OS_LINUX_FILES32_H */
