/*
 * procinfo.h -- inside a Linux process: threads, credentials, start time,
 * command line and environment, exe/cwd/root (procinfo.c). Internal.
 */
#ifndef XA_OS_LINUX_PROCINFO_H
#define XA_OS_LINUX_PROCINFO_H

#include "os/linux/lxpriv.h"

struct xa_thread_iter {
    struct xa_instance *xa; /* first member: the public glue dispatches through it */
    struct lx_list_walk walk;
    int32_t tgid;   /* the process whose threads these are */
    int err;        /* sticky */
};

/* Free what procinfo.c keeps in struct linux_priv (linux.c's destroy). */
void linux_procinfo_free(struct linux_priv *p);

int linux_thread_iter_new(struct xa_instance *xa, int32_t pid, struct xa_thread_iter **out);
int linux_thread_iter_new_proc(struct xa_instance *xa, const struct xa_process *p,
                               struct xa_thread_iter **out);
int linux_thread_iter_next(struct xa_thread_iter *it, struct xa_thread *out);
void linux_thread_iter_free(struct xa_thread_iter *it);
int linux_process_creds(struct xa_instance *xa, int32_t pid, struct xa_creds *out,
                        uint32_t *groups, size_t max_groups);
int linux_process_start_time(struct xa_instance *xa, int32_t pid, uint64_t *boot_ns,
                             int64_t *wall_ns);
int linux_boot_time(struct xa_instance *xa, int64_t *wall_ns);
int linux_process_args(struct xa_instance *xa, int32_t pid, bool environ, void *buf, size_t cap,
                       size_t *len, uint32_t *flags);
int linux_process_path(struct xa_instance *xa, int32_t pid, enum xa_proc_path which, char *buf,
                       size_t cap);

#endif /* XA_OS_LINUX_PROCINFO_H */
