/*
 * files.h -- open files and mounts of a Linux guest (files.c), behind the
 * xa_file_iter_* and xa_mount_iter_* calls of xenaccess_os.h.
 */
#ifndef XA_OS_LINUX_FILES_H
#define XA_OS_LINUX_FILES_H

#include "os/linux/fileread.h"
#include "os/linux/lxpriv.h"

struct xa_file_iter {
    struct xa_instance *xa; /* first member: os.c dispatches through it */
    int32_t pid;
    const struct lx_file_layout *layout;
    struct lx_fd_cursor cur;
    bool done;
    int err; /* sticky */
};

struct xa_mount_iter {
    struct xa_instance *xa; /* first member: os.c dispatches through it */
    int32_t pid;
    uint64_t root_mnt, root_dentry; /* 0, 0: the namespace's top */
    struct lx_list_walk walk; /* mnt_namespace.list (before 6.8) */
    bool in_tree;
    struct lx_rb_walk tree;   /* mnt_namespace.mounts (6.8+) */
    int err; /* sticky */
};

_Static_assert(offsetof(struct xa_file_iter, xa) == 0, "xa first (struct xa_os_iter)");
_Static_assert(offsetof(struct xa_mount_iter, xa) == 0, "xa first (struct xa_os_iter)");

int linux_file_iter_new(struct xa_instance *xa, int32_t pid, struct xa_file_iter **out);
int linux_file_iter_new_proc(struct xa_instance *xa, const struct xa_process *p,
                             struct xa_file_iter **out);
int linux_file_iter_next(struct xa_file_iter *it, struct xa_open_file *out);
void linux_file_iter_free(struct xa_file_iter *it);
int linux_mount_iter_new(struct xa_instance *xa, int32_t pid, struct xa_mount_iter **out);
int linux_mount_iter_new_proc(struct xa_instance *xa, const struct xa_process *p,
                              struct xa_mount_iter **out);
int linux_mount_iter_next(struct xa_mount_iter *it, struct xa_mount *out);
void linux_mount_iter_free(struct xa_mount_iter *it);
void linux_files_free(struct linux_priv *p);

/* files32_layout.c: on a 32-bit kernel without BTF, @f, task_struct.files
 * and files_struct.fdt inferred from memory; 0 or an error, one line in
 * @why (LX_WHY_LEN). */
int linux_files32_layout(struct xa_instance *xa, struct linux_priv *p, struct lx_file_layout *f,
                         uint64_t *task_files, uint64_t *files_fdt, char *why);

#endif /* XA_OS_LINUX_FILES_H */
