/*
 * mounts32.h -- the mount-namespace layout of a 32-bit x86 Linux kernel
 * that has no BTF, inferred from the guest's own memory (mounts32.c).
 *
 * Pure code, as vma32.h: memory through struct v32_mem, so the unit test
 * and the fuzz target run it over synthetic memory. Every list walk is
 * bounded and checks both links; a step with no answer or more than one
 * refuses with one line (docs/limits.md, "32-bit x86 kernels").
 */
#ifndef XA_OS_LINUX_MOUNTS32_H
#define XA_OS_LINUX_MOUNTS32_H

#include <stddef.h>
#include <stdint.h>

#include "os/linux/vma32.h"

#define MN32_TASK_SPAN 4096u  /* bytes of task_struct searched for nsproxy and fs */
#define MN32_SMALL_SPAN 64u   /* bytes of nsproxy, fs_struct searched */
#define MN32_NS_SPAN 128u     /* bytes of mnt_namespace searched for root and list */
#define MN32_MOUNT_SPAN 512u  /* bytes of struct mount searched */
#define MN32_VFS_SPAN 16u     /* struct vfsmount: mnt_root, mnt_sb, mnt_flags, one more */
#define MN32_SB_SPAN 256u     /* bytes of super_block searched */
#define MN32_TASKS 4096u    /* tasks compared at most, init_task's first */
#define MN32_NSES 16u         /* mount namespaces compared at most */
#define MN32_MOUNTS 1024u     /* mounts compared at most (all namespaces) */
#define MN32_SBS 256u         /* distinct super blocks compared at most */
#define MN32_ID_MAX (1u << 24)
#define MN32_NONE UINT32_MAX

/* What the task walk and vma32.c already tell. */
struct mn32_known {
    uint64_t init_task;
    uint32_t mount_mnt, mount_parent, mnt_root;           /* vma32's */
    uint32_t d_span;                                      /* bytes of dentry searched for d_sb */
};

/* Offsets in bytes from the start of each structure; MN32_NONE not found. */
struct mn32_layout {
    uint32_t task_nsproxy, task_fs; /* task_struct */
    uint32_t fs_root;               /* fs_struct: root (mnt, dentry) */
    uint32_t nsproxy_mnt_ns;        /* nsproxy */
    uint32_t ns_root, ns_list;      /* mnt_namespace */
    uint32_t mnt_list, mnt_ns, mnt_id, mnt_devname; /* mount */
    uint32_t mnt_group_id, mnt_master;              /* mount; may be MN32_NONE */
    uint32_t mnt_sb, mnt_flags;     /* vfsmount */
    uint32_t s_dev, s_type, s_flags; /* super_block */
    size_t nr_ns, nr_mounts, nr_sbs; /* what the answers rest on */
};

/* Infer the layout from init_task and the tasks @tasks (task_struct
 * addresses, at most MN32_TASKS used). 0, or a negative XA_E* with one
 * line in @why (LX_WHY_LEN). */
int mn32_infer(const struct v32_mem *m, const struct mn32_known *k, const uint64_t *tasks,
              size_t n, struct mn32_layout *out, char *why);

#endif /* XA_OS_LINUX_MOUNTS32_H */
