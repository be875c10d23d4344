/*
 * libvirt.h -- state of the libvirt backend, shared by its files. Internal.
 *
 * libvirt.c  backend ops: target spec, connection, domain, errors, pause
 * pid.c      finding the QEMU process that runs a domain
 *
 * The backend composes the qemu backend (backends/qemu): it opens a qemu
 * backend instance over libvirt's QMP passthrough (qemu_open_over()) and
 * calls it through xa_backend_qemu's operations for RAM discovery, memory
 * access and registers. Pause and resume are libvirt's own.
 */
#ifndef XA_LIBVIRT_LIBVIRT_H
#define XA_LIBVIRT_LIBVIRT_H

#include <stdbool.h>
#include <sys/types.h>

#include <libvirt/libvirt.h>

#include "backends/qemu/qemu.h"

struct libvirt_backend {
    struct xa_backend base;
    const struct xa_backend_ops *qemu_ops; /* &xa_backend_qemu, once qemu is made */
    struct xa_backend *qemu;  /* the qemu backend we drive, NULL before it is opened */
    bool found_stopped;       /* the last pause() found the domain paused: resume() leaves it */
    virConnectPtr conn;
    virDomainPtr dom;
    char name[256]; /* domain name */
    char uri[1024]; /* connection URI as given, or the default */
    bool attached;  /* open() succeeded: a vanished domain is "gone", not "no such domain" */
};

/*
 * The pid of the local QEMU process running the domain with @uuid (the
 * "-uuid" argument libvirt gives QEMU), trying libvirt's pid files for
 * @name first. 0 when there is none on this host (remote URI, other pid
 * namespace).
 */
pid_t libvirt_find_qemu_pid(const char *name, const char *uuid);

#endif /* XA_LIBVIRT_LIBVIRT_H */
