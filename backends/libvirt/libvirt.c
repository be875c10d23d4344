/*
 * libvirt.c -- the "libvirt" backend: a QEMU domain run by libvirt, named
 * by its libvirt name (target "libvirt:NAME" or "libvirt:NAME?uri=URI",
 * default URI qemu:///system).
 *
 * libvirt owns the domain's QMP socket (a QMP socket serves one client), so
 * QMP goes through libvirt's passthrough, virDomainQemuMonitorCommand(), as
 * the qemu backend's monitor transport. Everything else is the qemu
 * backend's: RAM discovery (query-memdev, qom-get mem-path, info mtree -f),
 * access (mmap of the RAM file, /proc/PID/map_files for a memfd,
 * /proc/PID/mem last), registers (HMP info registers), cache policy
 * (docs/live.md). The QEMU pid comes from pid.c.
 *
 * Pause/resume use virDomainSuspend()/virDomainResume() rather than QMP
 * stop/cont, so libvirt's own view of the domain ("paused") stays right.
 *
 * libvirt prints its errors to stderr by default; a library must not, so
 * the first open installs a silent global error handler (virSetErrorFunc);
 * errors are read with virGetLastError() and turned into xa errors.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "backends/libvirt/libvirt.h"

#define DEFAULT_URI "qemu:///system"
#define XML_HINT                                                                                   \
    "give the domain <memoryBacking><source type='file'/><access mode='shared'/>"                  \
    "</memoryBacking>"

static struct libvirt_backend *lb_of(struct xa_backend *be)
{
    return (struct libvirt_backend *)be;
}

static void ignore_libvirt_error(void *ctx, virErrorPtr err)
{
    (void)ctx;
    (void)err;
}

static bool message_says(const virError *e, const char *what)
{
    return e && e->message && strstr(e->message, what);
}

/* The last libvirt error as an xa error: "libvirt:NAME: @what: message". */
static int libvirt_error(struct libvirt_backend *lb, const char *what)
{
    const virError *e = virGetLastError();
    int code = XA_EIO;
    if (e) {
        switch (e->code) {
        case VIR_ERR_NO_DOMAIN:
            /* once attached, a domain that is no longer found has gone away
             * (a transient domain vanishes when it stops) */
            code = lb->attached ? XA_EGONE : XA_ENOENT;
            break;
        case VIR_ERR_AUTH_FAILED:
        case VIR_ERR_AUTH_CANCELLED:
        case VIR_ERR_AUTH_UNAVAILABLE:
        case VIR_ERR_ACCESS_DENIED:
        case VIR_ERR_OPERATION_DENIED:
            code = XA_EACCES;
            break;
        case VIR_ERR_NO_SUPPORT:
        case VIR_ERR_NO_DOMAIN_METADATA:
            code = XA_ENOTSUP;
            break;
        case VIR_ERR_OPERATION_INVALID:
            if (message_says(e, "not running"))
                code = XA_EGONE;
            break;
        default:
            break;
        }
        if (message_says(e, "Permission denied"))
            code = XA_EACCES;
    }
    return xa__set_error(lb->base.xa, code, "libvirt:%s: %s: %s", lb->name, what,
                         e && e->message ? e->message : "unknown libvirt error");
}

/* "NAME" or "NAME?uri=URI". */
static int parse_spec(struct libvirt_backend *lb, const char *spec)
{
    struct xa_instance *xa = lb->base.xa;
    const char *q = strstr(spec, "?uri=");
    size_t nlen = q ? (size_t)(q - spec) : strlen(spec);
    const char *uri = q ? q + 5 : DEFAULT_URI;
    if (nlen == 0)
        return xa__set_error(xa, XA_EINVAL, "libvirt: no domain name (use libvirt:NAME or "
                                            "libvirt:NAME?uri=URI)");
    if (nlen >= sizeof(lb->name))
        return xa__set_error(xa, XA_EINVAL, "libvirt: domain name longer than %zu bytes",
                             sizeof(lb->name) - 1);
    if (!*uri || strlen(uri) >= sizeof(lb->uri))
        return xa__set_error(xa, XA_EINVAL, "libvirt:%.*s: bad or too long connection URI",
                             (int)nlen, spec);
    memcpy(lb->name, spec, nlen);
    lb->name[nlen] = '\0';
    snprintf(lb->uri, sizeof(lb->uri), "%s", uri);
    return 0;
}

static const char *state_name(int state)
{
    switch (state) {
    case VIR_DOMAIN_SHUTOFF:
        return "shut off";
    case VIR_DOMAIN_CRASHED:
        return "crashed";
    case VIR_DOMAIN_SHUTDOWN:
        return "shutting down";
    default:
        return "no state";
    }
}

/* QEMU runs (running, paused, blocked, PM-suspended): its memory is there. */
static int check_running(struct libvirt_backend *lb, int *state_out)
{
    int state = VIR_DOMAIN_NOSTATE, reason = 0;
    if (virDomainGetState(lb->dom, &state, &reason, 0) < 0)
        return libvirt_error(lb, "domain state");
    if (state_out)
        *state_out = state;
    if (state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED ||
        state == VIR_DOMAIN_BLOCKED || state == VIR_DOMAIN_PMSUSPENDED)
        return 0;
    return xa__set_error(lb->base.xa, XA_EGONE,
                         "libvirt:%s: domain is not running (%s; start it with virsh -c %s "
                         "start %s)",
                         lb->name, state_name(state), lb->uri, lb->name);
}

/* The qemu backend's monitor transport: one QMP command through libvirt. */
static int passthrough(void *ctx, const char *json, char **reply)
{
    struct libvirt_backend *lb = ctx;
    *reply = NULL;
    if (virDomainQemuMonitorCommand(lb->dom, json, reply, 0) == 0)
        return 0;
    int rc = libvirt_error(lb, "QMP passthrough");
    if (rc == XA_EGONE || (lb->attached && check_running(lb, NULL) == XA_EGONE))
        return xa__set_error(lb->base.xa, XA_EGONE, "libvirt:%s: QEMU went away (domain "
                                                         "no longer running)",
                             lb->name);
    return rc;
}


/* After a failed attach: say what to change, keeping the original message.
 * Only RAM access errors get a hint: the layout was found (nr_segs) but not
 * a way to the RAM (base.ranges is set once there is one). */
static void add_hint(struct libvirt_backend *lb, int rc)
{
    struct xa_instance *xa = lb->base.xa;
    struct qemu_ram_facts ram;
    qemu_ram_facts(lb->qemu, &ram);
    if (ram.nr_segs == 0 || ram.has_ranges || (rc != XA_EACCES && rc != XA_ENOTSUP))
        return;
    if (rc == XA_EACCES && ram.has_shared_file)
        xa__append_error(xa, rc, " (run as root: libvirt's RAM files belong to its QEMU user)");
    else if (rc == XA_EACCES)
        xa__append_error(xa, rc, "; run as root, or %s", XML_HINT);
    else if (ram.pid <= 0)
        xa__set_error(xa, rc, "libvirt:%s: guest RAM is not in a file we can open and no local "
                              "QEMU process runs the domain (remote URI?); %s",
                      lb->name, XML_HINT);
    else
        xa__append_error(xa, rc, "; %s", XML_HINT);
}

/* method: "<how RAM is reached>; QMP via libvirt URI". */
static void describe(struct libvirt_backend *lb)
{
    snprintf(lb->base.method, sizeof(lb->base.method), "%s; QMP via libvirt %s",
             lb->qemu->method, lb->uri);
}

static int libvirt_open(struct xa_backend *be, const char *spec, uint32_t flags)
{
    struct libvirt_backend *lb = lb_of(be);
    int rc = parse_spec(lb, spec);
    if (rc < 0)
        return rc;

    virSetErrorFunc(NULL, ignore_libvirt_error);
    lb->conn = virConnectOpen(lb->uri);
    if (!lb->conn) {
        rc = libvirt_error(lb, lb->uri);
        const char *hint = NULL;
        if (message_says(virGetLastError(), "No such file or directory"))
            hint = "is libvirtd running?";
        else if (strstr(lb->uri, "/embed"))
            hint = "an embedded driver lives in the process that runs it: ask that process, "
                   "or run the domain under libvirtd";
        if (hint)
            xa__append_error(be->xa, rc, " (%s)", hint);
        return rc;
    }
    lb->dom = virDomainLookupByName(lb->conn, lb->name);
    if (!lb->dom) {
        const virError *e = virGetLastError();
        if (e && e->code == VIR_ERR_NO_DOMAIN)
            return xa__set_error(be->xa, XA_ENOENT,
                                 "libvirt:%s: no such domain at %s (virsh -c %s list --all)",
                                 lb->name, lb->uri, lb->uri);
        return libvirt_error(lb, "domain lookup");
    }
    rc = check_running(lb, NULL);
    if (rc < 0)
        return rc;

    char uuid[VIR_UUID_STRING_BUFLEN];
    if (virDomainGetUUIDString(lb->dom, uuid) < 0)
        return libvirt_error(lb, "domain UUID");
    lb->qemu = calloc(1, qemu_backend_ops()->instance_size);
    if (!lb->qemu)
        return xa__set_error(be->xa, XA_ENOMEM, "out of memory");
    lb->qemu->ops = lb->qemu_ops = qemu_backend_ops();
    lb->qemu->xa = be->xa;
    char target[sizeof("libvirt:") + sizeof(lb->name)];
    snprintf(target, sizeof(target), "libvirt:%s", lb->name);
    const struct qmp_transport t = {passthrough, lb};
    const struct qemu_over how = {.name = target, .transport = &t, .flags = flags,
                                  .peer_pid = libvirt_find_qemu_pid(lb->name, uuid)};
    rc = qemu_open_over(lb->qemu, &how);
    if (rc < 0) {
        add_hint(lb, rc);
        return rc;
    }
    /* The layout and abilities are the qemu backend's (ranges borrowed). */
    be->ranges = lb->qemu->ranges;
    be->nr_ranges = lb->qemu->nr_ranges;
    be->caps = lb->qemu->caps;
    be->nr_vcpus = lb->qemu->nr_vcpus;
    describe(lb);
    lb->attached = true;
    return 0;
}

static void libvirt_close(struct xa_backend *be)
{
    struct libvirt_backend *lb = lb_of(be);
    if (lb->qemu) {
        lb->qemu_ops->close(lb->qemu);
        free(lb->qemu);
    }
    lb->qemu = NULL;
    be->ranges = NULL;
    be->nr_ranges = 0;
    if (lb->dom)
        virDomainFree(lb->dom);
    if (lb->conn)
        virConnectClose(lb->conn);
    lb->dom = NULL;
    lb->conn = NULL;
}

/*
 * Pause the domain. If it was already paused (by someone else), the
 * matching resume leaves it paused: we only undo our own pause.
 */
static int libvirt_pause(struct xa_backend *be)
{
    struct libvirt_backend *lb = lb_of(be);
    int state = VIR_DOMAIN_NOSTATE;
    int rc = check_running(lb, &state);
    if (rc < 0)
        return rc;
    lb->found_stopped = state == VIR_DOMAIN_PAUSED;
    if (lb->found_stopped)
        return 0;
    return virDomainSuspend(lb->dom) == 0 ? 0 : libvirt_error(lb, "suspend");
}

static int libvirt_resume(struct xa_backend *be)
{
    struct libvirt_backend *lb = lb_of(be);
    if (lb->found_stopped) {
        lb->found_stopped = false;
        return 0;
    }
    return virDomainResume(lb->dom) == 0 ? 0 : libvirt_error(lb, "resume");
}

/* Memory and registers: the qemu backend's operations, on our qemu instance. */
static int libvirt_read_pa(struct xa_backend *be, uint64_t pa, void *buf, size_t len)
{
    struct libvirt_backend *lb = lb_of(be);
    return lb->qemu_ops->read_pa(lb->qemu, pa, buf, len);
}

static int libvirt_write_pa(struct xa_backend *be, uint64_t pa, const void *buf, size_t len)
{
    struct libvirt_backend *lb = lb_of(be);
    return lb->qemu_ops->write_pa(lb->qemu, pa, buf, len);
}

static int libvirt_map_page(struct xa_backend *be, uint64_t pfn, const void **out)
{
    struct libvirt_backend *lb = lb_of(be);
    return lb->qemu_ops->map_page(lb->qemu, pfn, out);
}

static void libvirt_unmap_page(struct xa_backend *be, uint64_t pfn, const void *page)
{
    struct libvirt_backend *lb = lb_of(be);
    lb->qemu_ops->unmap_page(lb->qemu, pfn, page);
}

static int libvirt_get_vcpu_regs(struct xa_backend *be, unsigned vcpu, struct xa_regs *out)
{
    struct libvirt_backend *lb = lb_of(be);
    return lb->qemu_ops->get_vcpu_regs(lb->qemu, vcpu, out);
}

static int libvirt_get_vcpu_dtables(struct xa_backend *be, unsigned vcpu,
                                    struct xa_vcpu_dtables *out)
{
    struct libvirt_backend *lb = lb_of(be);
    return lb->qemu_ops->get_vcpu_dtables(lb->qemu, vcpu, out);
}

const struct xa_backend_ops xa_backend_libvirt = {
    .name = "libvirt",
    .instance_size = sizeof(struct libvirt_backend),
    .open = libvirt_open,
    .close = libvirt_close,
    .read_pa = libvirt_read_pa,
    .write_pa = libvirt_write_pa,
    .map_page = libvirt_map_page,
    .unmap_page = libvirt_unmap_page,
    .get_vcpu_regs = libvirt_get_vcpu_regs,
    .get_vcpu_dtables = libvirt_get_vcpu_dtables,
    .pause = libvirt_pause,
    .resume = libvirt_resume,
};
