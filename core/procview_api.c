/*
 * procview_api.c -- the public calls for the inside of a process (threads,
 * credentials, start time, arguments, paths; include/xenaccess_os.h):
 * argument checks, then dispatch to the active OS layer.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/instance.h"
#include "os/os.h"


#define NEED(xa, op, call)                                                                    \
    do {                                                                                      \
        if (!(xa))                                                                            \
            return XA_EINVAL;                                                                 \
        int need_rc_ = xa__os_need((xa), (op) != NULL, (call));                                       \
        if (need_rc_ < 0)                                                                     \
            return need_rc_;                                                                  \
    } while (0)

XA_API int xa_thread_iter_new(struct xa_instance *xa, int32_t pid, struct xa_thread_iter **out)
{
    if (out)
        *out = NULL;
    NEED(xa, xa->os_ops ? xa->os_ops->thread_iter_new : NULL, "xa_thread_iter_new");
    if (!out)
        return xa__set_error(xa, XA_EINVAL, "xa_thread_iter_new: out is NULL");
    if (xa_is_live(xa)) /* as the other walks: start from what the guest has now */
        xa_cache_flush(xa, XA_CACHE_ALL);
    return xa->os_ops->thread_iter_new(xa, pid, out);
}

/* A process a walk handed out: no flush (the walk's own started the
 * snapshot this call belongs to) and no walk to find it again. */
XA_API int xa_thread_iter_new_proc(struct xa_instance *xa, const struct xa_process *p,
                                   struct xa_thread_iter **out)
{
    if (out)
        *out = NULL;
    NEED(xa, xa->os_ops ? xa->os_ops->thread_iter_new_proc : NULL, "xa_thread_iter_new_proc");
    if (!out || !p || p->pid < 0)
        return xa__set_error(xa, XA_EINVAL, "xa_thread_iter_new_proc: bad argument");
    return xa->os_ops->thread_iter_new_proc(xa, p, out);
}

XA_API int xa_thread_iter_next(struct xa_thread_iter *it, struct xa_thread *out)
{
    if (!it || !out)
        return XA_EINVAL;
    return xa__os_iter_instance(it)->os_ops->thread_iter_next(it, out);
}

XA_API void xa_thread_iter_free(struct xa_thread_iter *it)
{
    if (it)
        xa__os_iter_instance(it)->os_ops->thread_iter_free(it);
}

XA_API int xa_process_creds(struct xa_instance *xa, int32_t pid, struct xa_creds *out,
                            uint32_t *groups, size_t max_groups)
{
    NEED(xa, xa->os_ops ? xa->os_ops->process_creds : NULL, "xa_process_creds");
    if (!out || (!groups && max_groups))
        return xa__set_error(xa, XA_EINVAL, "xa_process_creds: NULL argument");
    return xa->os_ops->process_creds(xa, pid, out, groups, max_groups);
}

XA_API int xa_process_start_time(struct xa_instance *xa, int32_t pid, uint64_t *boot_ns,
                                 int64_t *wall_ns)
{
    NEED(xa, xa->os_ops ? xa->os_ops->process_start_time : NULL, "xa_process_start_time");
    return xa->os_ops->process_start_time(xa, pid, boot_ns, wall_ns);
}

XA_API int xa_boot_time(struct xa_instance *xa, int64_t *wall_ns)
{
    NEED(xa, xa->os_ops ? xa->os_ops->boot_time : NULL, "xa_boot_time");
    if (!wall_ns)
        return xa__set_error(xa, XA_EINVAL, "xa_boot_time: wall_ns is NULL");
    return xa->os_ops->boot_time(xa, wall_ns);
}

static int args(struct xa_instance *xa, int32_t pid, bool environ, void *buf, size_t cap,
                size_t *len, uint32_t *flags, const char *call)
{
    NEED(xa, xa->os_ops ? xa->os_ops->process_args : NULL, call);
    if (!len || !flags || (!buf && cap))
        return xa__set_error(xa, XA_EINVAL, "%s: NULL argument", call);
    return xa->os_ops->process_args(xa, pid, environ, buf, cap, len, flags);
}

XA_API int xa_process_cmdline(struct xa_instance *xa, int32_t pid, void *buf, size_t cap,
                              size_t *len, uint32_t *flags)
{
    return args(xa, pid, false, buf, cap, len, flags, "xa_process_cmdline");
}

XA_API int xa_process_environ(struct xa_instance *xa, int32_t pid, void *buf, size_t cap,
                              size_t *len, uint32_t *flags)
{
    return args(xa, pid, true, buf, cap, len, flags, "xa_process_environ");
}

XA_API int xa_process_path(struct xa_instance *xa, int32_t pid, enum xa_proc_path which,
                           char *buf, size_t cap)
{
    NEED(xa, xa->os_ops ? xa->os_ops->process_path : NULL, "xa_process_path");
    if (!buf || cap < 2)
        return xa__set_error(xa, XA_EINVAL, "xa_process_path: no room for a path");
    return xa->os_ops->process_path(xa, pid, which, buf, cap);
}
