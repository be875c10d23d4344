/*
 * module.h -- the contract between libxenaccess and a backend built as a
 * loadable module (libvirt, Xen), as nbdkit loads its plugins. Internal.
 *
 * Heavy backends live in their own shared objects in the backend directory
 * (XA_BACKEND_DIR in the environment, else <libdir>/xenaccess/backends), so
 * libxenaccess.so and the tools need none of libvirt's or Xen's libraries on
 * dumps and qemu: targets. registry.c dlopen()s backend-NAME.so the first
 * time a NAME: target is opened and calls its entry point once.
 *
 * A module links no part of the library: the few core functions a backend
 * may call (backends/backend.h's error functions, and for libvirt the qemu
 * backend it composes) reach it through the host table below. module_shim.c,
 * compiled into each module, defines those functions over the table, so
 * backend sources are the same whether built in or loaded.
 */
#ifndef XA_BACKEND_MODULE_H
#define XA_BACKEND_MODULE_H

#include <stddef.h>

#include "backends/backend.h"

/* Bumped whenever struct xa_backend_host, struct xa_backend or struct
 * xa_backend_ops changes (2: get_vcpu_dtables). */
#define XA_BACKEND_MODULE_ABI 2
#define XA_BACKEND_MODULE_ENTRY "xa_backend_module_entry"

struct qemu_over;
struct qemu_ram_facts;

struct xa_backend_host {
    unsigned abi;   /* XA_BACKEND_MODULE_ABI */
    size_t size;    /* sizeof(struct xa_backend_host) */
    /* backend.h's error functions; the shim formats, then passes "%s". */
    int (*set_error)(struct xa_instance *xa, int code, const char *fmt, ...);
    int (*prefix_error)(struct xa_instance *xa, int code, const char *fmt, ...);
    int (*append_error)(struct xa_instance *xa, int code, const char *fmt, ...);
    void (*clear_error)(struct xa_instance *xa);
    /* The qemu backend, for backends built on it (NULL when not built). */
    const struct xa_backend_ops *qemu_ops;
    int (*qemu_open_over)(struct xa_backend *be, const struct qemu_over *how);
    void (*qemu_ram_facts)(const struct xa_backend *be, struct qemu_ram_facts *out);
};

/* A module's one exported symbol: its ops, or NULL when @host does not fit
 * (another ABI). @host stays valid while the process runs. */
typedef const struct xa_backend_ops *xa_backend_module_entry_fn(const struct xa_backend_host *host);

#endif /* XA_BACKEND_MODULE_H */
