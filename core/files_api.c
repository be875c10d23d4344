/*
 * files_api.c -- the public calls for open files and mounts
 * (include/xenaccess_os.h): argument checks, then dispatch to the active
 * OS layer.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/instance.h"
#include "os/os.h"

XA_API const char *xa_file_type_name(uint32_t mode)
{
    switch (mode & 0170000u) {
    case 0100000u: return "REG";
    case 0040000u: return "DIR";
    case 0020000u: return "CHR";
    case 0060000u: return "BLK";
    case 0010000u: return "FIFO";
    case 0140000u: return "SOCK";
    case 0120000u: return "LNK";
    case 0: return "anon";
    default: return "?";
    }
}

XA_API int xa_file_iter_new(struct xa_instance *xa, int32_t pid, struct xa_file_iter **out)
{
    if (out)
        *out = NULL;
    if (!xa)
        return XA_EINVAL;
    int rc = xa__os_need(xa, xa->os_ops && xa->os_ops->file_iter_new, "xa_file_iter_new");
    if (rc < 0)
        return rc;
    if (!out)
        return xa__set_error(xa, XA_EINVAL, "xa_file_iter_new: out is NULL");
    if (xa_is_live(xa)) /* as the other walks: start from what the guest has now */
        xa_cache_flush(xa, XA_CACHE_ALL);
    return xa->os_ops->file_iter_new(xa, pid, out);
}

/* A process a walk handed out: no flush (the walk's own started the
 * snapshot this call belongs to) and no walk to find it again. */
static int need_proc(struct xa_instance *xa, bool have_op, const struct xa_process *p,
                     const void *out, const char *call)
{
    int rc = xa__os_need(xa, have_op, call);
    if (rc < 0)
        return rc;
    if (!p || !out || p->pid < 0)
        return xa__set_error(xa, XA_EINVAL, "%s: bad argument", call);
    return 0;
}

XA_API int xa_file_iter_new_proc(struct xa_instance *xa, const struct xa_process *p,
                                 struct xa_file_iter **out)
{
    if (out)
        *out = NULL;
    if (!xa)
        return XA_EINVAL;
    int rc = need_proc(xa, xa->os_ops && xa->os_ops->file_iter_new_proc, p, out,
                       "xa_file_iter_new_proc");
    return rc < 0 ? rc : xa->os_ops->file_iter_new_proc(xa, p, out);
}

XA_API int xa_mount_iter_new_proc(struct xa_instance *xa, const struct xa_process *p,
                                  struct xa_mount_iter **out)
{
    if (out)
        *out = NULL;
    if (!xa)
        return XA_EINVAL;
    int rc = need_proc(xa, xa->os_ops && xa->os_ops->mount_iter_new_proc, p, out,
                       "xa_mount_iter_new_proc");
    return rc < 0 ? rc : xa->os_ops->mount_iter_new_proc(xa, p, out);
}

XA_API int xa_file_iter_next(struct xa_file_iter *it, struct xa_open_file *out)
{
    if (!it || !out)
        return XA_EINVAL;
    return xa__os_iter_instance(it)->os_ops->file_iter_next(it, out);
}

XA_API void xa_file_iter_free(struct xa_file_iter *it)
{
    if (it)
        xa__os_iter_instance(it)->os_ops->file_iter_free(it);
}

XA_API int xa_mount_iter_new(struct xa_instance *xa, int32_t pid, struct xa_mount_iter **out)
{
    if (out)
        *out = NULL;
    if (!xa)
        return XA_EINVAL;
    int rc = xa__os_need(xa, xa->os_ops && xa->os_ops->mount_iter_new, "xa_mount_iter_new");
    if (rc < 0)
        return rc;
    if (!out || pid < 0)
        return xa__set_error(xa, XA_EINVAL, "xa_mount_iter_new: bad argument");
    if (xa_is_live(xa))
        xa_cache_flush(xa, XA_CACHE_ALL);
    return xa->os_ops->mount_iter_new(xa, pid, out);
}

XA_API int xa_mount_iter_next(struct xa_mount_iter *it, struct xa_mount *out)
{
    if (!it || !out)
        return XA_EINVAL;
    return xa__os_iter_instance(it)->os_ops->mount_iter_next(it, out);
}

XA_API void xa_mount_iter_free(struct xa_mount_iter *it)
{
    if (it)
        xa__os_iter_instance(it)->os_ops->mount_iter_free(it);
}
