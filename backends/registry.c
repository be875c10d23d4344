/*
 * registry.c -- target prefix ("file", "qemu", ...) to backend.
 *
 * file and qemu are built in. libvirt and Xen are loadable modules
 * (backends/module.h) when built that way: the first target of their kind
 * dlopen()s backend-NAME.so from the backend directory, so the library itself
 * needs none of their libraries. Static builds (tests) may compile them in
 * instead (XA_HAVE_XEN, XA_HAVE_LIBVIRT). A prefix that is known but neither
 * built in nor a module says so (XA_ENOTBUILT).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/module.h"
#ifdef XA_HAVE_QEMU
#include "backends/qemu/qemu.h"
#endif

#ifndef XA_BACKEND_DIR_DEFAULT
#define XA_BACKEND_DIR_DEFAULT "/usr/local/lib/xenaccess/backends"
#endif

struct backend_entry {
    const char *prefix;
    const struct xa_backend_ops *ops; /* built in, else NULL */
    bool module;                      /* loadable: backend-<prefix>.so */
};

static const struct backend_entry backends[] = {
    {"file", &xa_backend_file, false},
#ifdef XA_HAVE_QEMU
    {"qemu", &xa_backend_qemu, false},
#else
    {"qemu", NULL, false},
#endif
#if defined(XA_HAVE_XEN)
    {"xen", &xa_backend_xen, false},
#elif defined(XA_XEN_MODULE)
    {"xen", NULL, true},
#else
    {"xen", NULL, false},
#endif
#if defined(XA_HAVE_LIBVIRT)
    {"libvirt", &xa_backend_libvirt, false},
#elif defined(XA_LIBVIRT_MODULE)
    {"libvirt", NULL, true},
#else
    {"libvirt", NULL, false},
#endif
};

#define NR_BACKENDS (sizeof(backends) / sizeof(backends[0]))

static const struct xa_backend_host host = {
    .abi = XA_BACKEND_MODULE_ABI,
    .size = sizeof(struct xa_backend_host),
    .set_error = xa__set_error,
    .prefix_error = xa__prefix_error,
    .append_error = xa__append_error,
    .clear_error = xa__clear_error,
#ifdef XA_HAVE_QEMU
    .qemu_ops = &xa_backend_qemu,
    .qemu_open_over = qemu_open_over,
    .qemu_ram_facts = qemu_ram_facts,
#endif
};

/* Modules loaded so far (never unloaded: instances may outlive a lookup). */
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct xa_backend_ops *loaded[NR_BACKENDS];

/* The directory modules are loaded from. */
static const char *backend_dir(void)
{
    const char *env = getenv("XA_BACKEND_DIR");
    return env && *env ? env : XA_BACKEND_DIR_DEFAULT;
}

static int load_module(struct xa_instance *xa, const char *target, size_t idx,
                       const struct xa_backend_ops **out)
{
    const char *prefix = backends[idx].prefix;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/backend-%s.so", backend_dir(), prefix) >=
        (int)sizeof(path))
        return xa__set_error(xa, XA_EINVAL, "%s: backend directory path too long", target);
    pthread_mutex_lock(&modules_lock);
    int rc = 0;
    if (loaded[idx]) {
        *out = loaded[idx];
        goto done;
    }
    if (access(path, F_OK) != 0) {
        rc = xa__set_error(xa, XA_ENOTBUILT, "%s: %s backend not installed: %s", target, prefix,
                           path);
        goto done;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        rc = xa__set_error(xa, XA_ENOTBUILT, "%s: %s backend cannot be loaded: %s", target,
                           prefix, why ? why : path);
        goto done;
    }
    xa_backend_module_entry_fn *entry;
    /* POSIX's way to turn a dlsym() result into a function pointer */
    *(void **)&entry = dlsym(h, XA_BACKEND_MODULE_ENTRY);
    const struct xa_backend_ops *ops = entry ? entry(&host) : NULL;
    if (!ops || !ops->name || strcmp(ops->name, prefix) != 0) {
        dlclose(h);
        rc = xa__set_error(xa, XA_ENOTBUILT,
                           "%s: %s is not a %s backend module of this library version", target,
                           path, prefix);
        goto done;
    }
    loaded[idx] = *out = ops;
done:
    pthread_mutex_unlock(&modules_lock);
    return rc;
}

int xa__backend_find(struct xa_instance *xa, const char *target, const char *prefix,
                     const struct xa_backend_ops **out)
{
    *out = NULL;
    for (size_t i = 0; prefix && i < NR_BACKENDS; i++) {
        if (strcmp(backends[i].prefix, prefix) != 0)
            continue;
        if (backends[i].ops) {
            *out = backends[i].ops;
            return 0;
        }
        if (backends[i].module)
            return load_module(xa, target, i, out);
        return xa__set_error(xa, XA_ENOTBUILT,
                             "%s: the %s backend is not built in (install its development "
                             "package and rebuild with -D%s=enabled)",
                             target, prefix, prefix);
    }
    return xa__set_error(xa, XA_EINVAL,
                         "%s: unknown target type '%s' (use file:, qemu:, xen: or libvirt:)",
                         target, prefix ? prefix : "");
}
