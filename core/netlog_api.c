/*
 * netlog_api.c -- the public calls for sockets and the kernel log
 * (include/xenaccess_os.h): argument checks, then dispatch to the active OS
 * layer.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/instance.h"
#include "os/os.h"


XA_API int xa_net_iter_new(struct xa_instance *xa, struct xa_net_iter **out)
{
    if (out)
        *out = NULL;
    if (!xa)
        return XA_EINVAL;
    int rc = xa__os_need(xa, xa->os_ops && xa->os_ops->net_iter_new, "xa_net_iter_new");
    if (rc < 0)
        return rc;
    if (!out)
        return xa__set_error(xa, XA_EINVAL, "xa_net_iter_new: out is NULL");
    if (xa_is_live(xa)) /* as the other walks: start from what the guest has now */
        xa_cache_flush(xa, XA_CACHE_ALL);
    return xa->os_ops->net_iter_new(xa, out);
}

XA_API int xa_net_iter_next(struct xa_net_iter *it, struct xa_socket *out)
{
    if (!it || !out)
        return XA_EINVAL;
    return xa__os_iter_instance(it)->os_ops->net_iter_next(it, out);
}

XA_API void xa_net_iter_free(struct xa_net_iter *it)
{
    if (it)
        xa__os_iter_instance(it)->os_ops->net_iter_free(it);
}

XA_API int xa_kmsg_iter_new(struct xa_instance *xa, uint64_t from_seq, struct xa_kmsg_iter **out)
{
    if (out)
        *out = NULL;
    if (!xa)
        return XA_EINVAL;
    int rc = xa__os_need(xa, xa->os_ops && xa->os_ops->kmsg_iter_new, "xa_kmsg_iter_new");
    if (rc < 0)
        return rc;
    if (!out)
        return xa__set_error(xa, XA_EINVAL, "xa_kmsg_iter_new: out is NULL");
    if (xa_is_live(xa))
        xa_cache_flush(xa, XA_CACHE_ALL);
    return xa->os_ops->kmsg_iter_new(xa, from_seq, out);
}

XA_API int xa_kmsg_iter_next(struct xa_kmsg_iter *it, struct xa_kmsg *out)
{
    if (!it || !out)
        return XA_EINVAL;
    return xa__os_iter_instance(it)->os_ops->kmsg_iter_next(it, out);
}

XA_API uint64_t xa_kmsg_iter_next_seq(const struct xa_kmsg_iter *it)
{
    return it ? xa__os_iter_instance(it)->os_ops->kmsg_iter_next_seq(it) : 0;
}

XA_API void xa_kmsg_iter_free(struct xa_kmsg_iter *it)
{
    if (it)
        xa__os_iter_instance(it)->os_ops->kmsg_iter_free(it);
}
