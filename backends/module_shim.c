/*
 * module_shim.c -- compiled into each backend module (backends/module.h):
 * the entry point, and the core functions a backend calls, forwarded to the
 * library that loaded the module through its host table.
 *
 * Built with -DXA_MODULE_OPS=<the backend's ops> and the backend's XA_HAVE_*.
 */
#include <stdarg.h>
#include <stdio.h>

#include "backends/module.h"
#ifdef XA_HAVE_LIBVIRT
#include "backends/qemu/qemu.h"
#endif

static const struct xa_backend_host *host;

__attribute__((visibility("default"))) const struct xa_backend_ops *
xa_backend_module_entry(const struct xa_backend_host *h);

const struct xa_backend_ops *xa_backend_module_entry(const struct xa_backend_host *h)
{
    if (!h || h->abi != XA_BACKEND_MODULE_ABI || h->size < sizeof(*h))
        return NULL;
#ifdef XA_HAVE_LIBVIRT
    if (!h->qemu_ops || !h->qemu_open_over || !h->qemu_ram_facts)
        return NULL; /* libvirt drives the qemu backend */
#endif
    host = h;
    return &XA_MODULE_OPS;
}

typedef int host_error_fn(struct xa_instance *xa, int code, const char *fmt, ...);

/* Formats here, where the caller's arguments are, and hands the host the text. */
XA_PRINTF(4, 0)
static int forward_error(host_error_fn *fn, struct xa_instance *xa, int code, const char *fmt,
                         va_list ap)
{
    char msg[XA_ERRMSG_LEN];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    return fn(xa, code, "%s", msg);
}

int xa__set_error(struct xa_instance *xa, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = forward_error(host->set_error, xa, code, fmt, ap);
    va_end(ap);
    return ret;
}

int xa__prefix_error(struct xa_instance *xa, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = forward_error(host->prefix_error, xa, code, fmt, ap);
    va_end(ap);
    return ret;
}

int xa__append_error(struct xa_instance *xa, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = forward_error(host->append_error, xa, code, fmt, ap);
    va_end(ap);
    return ret;
}

void xa__clear_error(struct xa_instance *xa)
{
    host->clear_error(xa);
}

#ifdef XA_HAVE_LIBVIRT
const struct xa_backend_ops *qemu_backend_ops(void)
{
    return host->qemu_ops;
}

int qemu_open_over(struct xa_backend *be, const struct qemu_over *how)
{
    return host->qemu_open_over(be, how);
}

void qemu_ram_facts(const struct xa_backend *be, struct qemu_ram_facts *out)
{
    host->qemu_ram_facts(be, out);
}
#endif
