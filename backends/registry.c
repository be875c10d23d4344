/*
 * registry.c -- target prefix ("file", "qemu", ...) to backend. Backends
 * behind a Meson feature are listed only when built; asking for one that
 * was compiled out sets *not_built so the caller can say so.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "backends/backend.h"

struct backend_entry {
    const char *prefix;
    const struct xa_backend_ops *ops; /* NULL when compiled out */
};

static const struct backend_entry backends[] = {
    {"file", &xa_backend_file},
#ifdef XA_HAVE_QEMU
    {"qemu", &xa_backend_qemu},
#else
    {"qemu", NULL},
#endif
#ifdef XA_HAVE_XEN
    {"xen", &xa_backend_xen},
#else
    {"xen", NULL},
#endif
#ifdef XA_HAVE_LIBVIRT
    {"libvirt", &xa_backend_libvirt},
#else
    {"libvirt", NULL},
#endif
};

const struct xa_backend_ops *xa__backend_find(const char *prefix, bool *not_built)
{
    if (not_built)
        *not_built = false;
    if (!prefix)
        return NULL;
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        if (strcmp(backends[i].prefix, prefix) != 0)
            continue;
        if (!backends[i].ops && not_built)
            *not_built = true;
        return backends[i].ops;
    }
    return NULL;
}
