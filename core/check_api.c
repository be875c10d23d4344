/*
 * check_api.c -- the public rootkit checks (include/xenaccess_check.h):
 * argument checks, then dispatch to the OS layer's check().
 */
#include "core/instance.h"
#include "os/os.h"
#include "xenaccess_check.h"

XA_API const char *xa_check_name(enum xa_check check)
{
    static const char *const names[XA_CHECK_COUNT] = {
        [XA_CHECK_PROCESSES] = "processes", [XA_CHECK_MODULES] = "modules",
        [XA_CHECK_SYSCALLS] = "syscalls",   [XA_CHECK_IDT] = "idt",
        [XA_CHECK_FTRACE] = "ftrace",       [XA_CHECK_KPROBES] = "kprobes",
        [XA_CHECK_BPF] = "bpf",             [XA_CHECK_USER] = "user",
        [XA_CHECK_OPS] = "ops",
    };
    if ((int)check <= 0 || check >= XA_CHECK_COUNT)
        return NULL;
    return names[check];
}

XA_API int xa_check_run(struct xa_instance *xa, enum xa_check check, xa_finding_fn fn,
                        void *ctx)
{
    if (!xa)
        return XA_EINVAL;
    if (!fn || !xa_check_name(check))
        return xa__set_error(xa, XA_EINVAL, "xa_check_run: bad check %d or NULL callback",
                             (int)check);
    if (!xa->os_ops)
        return xa__set_error(xa, XA_ENOOS, "no OS layer: the guest OS was not recognised");
    if (!xa->os_ops->check)
        return xa__set_error(xa, XA_ENOTSUP, "the %s layer has no rootkit checks",
                             xa->os_ops->name);
    return xa->os_ops->check(xa, check, fn, ctx);
}
