/*
 * procview32.h -- the rest of /proc/PID on a 32-bit x86 kernel without BTF:
 * credentials (struct cred), exe (mm_struct.exe_file) and cwd/root
 * (task_struct.fs), inferred from the guest's own tasks (procview32.c).
 *
 * Pure code, as proc32.h: kernel memory through struct t32_mem, the tasks
 * as the process walk found them. A step with more than one answer, or
 * none, refuses in one line.
 */
#ifndef XA_OS_LINUX_PROCVIEW32_H
#define XA_OS_LINUX_PROCVIEW32_H

#include <stddef.h>
#include <stdint.h>

#include "os/linux/proc32.h"

/* struct cred under the i386 ABI (the kernel source's order, CONFIG_KEYS and
 * CONFIG_SECURITY on, CONFIG_DEBUG_CREDENTIALS off, as Debian's 686):
 * usage, then uid gid suid sgid euid egid fsuid fsgid from +4. */
#define P32_CRED_UID 4u
#define P32_CRED_CAP_PERMITTED 48u
#define P32_CRED_CAP_EFFECTIVE 56u
#define P32_CRED_CAP_BSET 64u
/* group_info: +116 from 5.14 (struct ucounts * before it), +112 before. */
#define P32_CRED_GROUP_INFO_NEW 116u
#define P32_CRED_GROUP_INFO_OLD 112u
#define P32_EXE_SPAN 1024u /* bytes of mm_struct searched for exe_file (+492 on 6.1 686) */
#define P32_GROUPS_CHECKED 32u /* supplementary groups read to check their order */

/* Check the cred layout above on the sampled tasks' real_cred (at
 * @real_cred in task_struct) and say which group_info offset the kernel has.
 * 0, or a negative XA_E* with one line in @why. */
int p32_find_creds(const struct t32_mem *m, uint32_t real_cred, const struct p32_task *t,
                   size_t n, uint32_t *group_info, char *why, size_t cap);

/* task_struct.fs and fs_struct.root (pwd follows it): the fs_struct's
 * root is a mount's root dentry (vfsmount.mnt_root at @mnt_root). */
int p32_find_fs(const struct t32_mem *m, uint32_t mnt_root, const struct p32_task *t, size_t n,
                uint32_t *task_fs, uint32_t *fs_root, char *why, size_t cap);

/* The struct files each user task maps (vm_file of its memory map), for
 * p32_find_exe: @files[i] holds @nfiles[i] of them for task i. */
struct p32_mapped {
    const uint64_t *const *files;
    const size_t *nfiles;
};

/* mm_struct.exe_file: a field that, in nearly every user task's mm, names a
 * struct file the task maps. */
int p32_find_exe(const struct t32_mem *m, const struct p32_task *t, size_t n,
                 const struct p32_mapped *mapped, uint32_t *exe_file, char *why, size_t cap);

#endif /* XA_OS_LINUX_PROCVIEW32_H */
