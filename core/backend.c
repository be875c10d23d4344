/*
 * backend.c -- the one door from the core to a backend. Every backend
 * operation is called through these wrappers, which check the contract of
 * backends/backend.h where it is cheap to check on every call:
 *  - ranges and capabilities before the call (a backend never sees a read
 *    outside guest RAM, a write without XA_CAP_WRITE, a vCPU it has not);
 *  - results after it: 0 or a known negative XA_E* code (a positive count
 *    would be a partial read passed off as success), a mapped page that is
 *    not NULL, and a message for every failure.
 * Tests inject faults here (xa__be_inject_fault), so error paths above the
 * backend can be exercised on any target.
 */
#include <stdlib.h>
#include <string.h>

#include "core/instance.h"
#include "core/mapguard.h"

static const char *const op_names[XA_BE_NR_OPS] = {
    [XA_BE_OP_READ] = "read_pa",   [XA_BE_OP_WRITE] = "write_pa",
    [XA_BE_OP_MAP] = "map_page",   [XA_BE_OP_REGS] = "get_vcpu_regs",
    [XA_BE_OP_PAUSE] = "pause",    [XA_BE_OP_RESUME] = "resume",
    [XA_BE_OP_DTABLES] = "get_vcpu_dtables",
};

static bool known_error(int rc)
{
    return rc < 0 && strcmp(xa_strerror(rc), "unknown error") != 0;
}

void xa__be_inject_fault(struct xa_instance *xa, enum xa_be_op op, unsigned nth, int code)
{
    xa->fault = (struct xa_be_fault){.op = op, .countdown = nth, .code = code};
    /* The host memo's hits skip the backend (and the countdown check). */
    xa__host_memo_clear(xa);
}

/* True when this call of @op is the one a test asked to fail. */
static bool fault_due(struct xa_instance *xa, enum xa_be_op op)
{
    if (xa->fault.countdown == 0 || xa->fault.op != op)
        return false;
    return --xa->fault.countdown == 0;
}

/* Hold the backend to its word on what it returned. */
static int check_result(struct xa_instance *xa, enum xa_be_op op, unsigned err_seq, int rc,
                        uint64_t where)
{
    const char *be_name = xa->be->ops->name;
    if (rc == 0)
        return 0;
    if (!known_error(rc))
        return xa__set_error(xa, XA_EIO,
                             "%s backend broke its contract: %s at 0x%llx returned %d, not 0 "
                             "or an XA_E* code",
                             be_name, op_names[op], (unsigned long long)where, rc);
    if (xa->err_seq == err_seq)
        xa__set_error(xa, rc, "%s backend: %s at 0x%llx failed: %s", be_name, op_names[op],
                      (unsigned long long)where, xa_strerror(rc));
    return rc;
}

static int injected(struct xa_instance *xa, enum xa_be_op op, uint64_t where)
{
    return xa__set_error(xa, xa->fault.code, "%s backend: %s at 0x%llx failed: %s (injected)",
                         xa->be->ops->name, op_names[op], (unsigned long long)where,
                         xa_strerror(xa->fault.code));
}

int xa__be_open(struct xa_instance *xa, const struct xa_backend_ops *ops, const char *spec,
                uint32_t flags)
{
    if (ops->instance_size < sizeof(struct xa_backend) || !ops->open || !ops->close ||
        !ops->read_pa)
        return xa__set_error(xa, XA_EINVAL, "backend %s is malformed", ops->name);
    xa->be = calloc(1, ops->instance_size);
    if (!xa->be)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    xa->be->ops = ops;
    xa->be->xa = xa;
    int rc = ops->open(xa->be, spec, flags);
    if (rc != 0 && !known_error(rc))
        return xa__set_error(xa, XA_EIO,
                             "%s backend broke its contract: open returned %d, not 0 or an "
                             "XA_E* code",
                             ops->name, rc);
    if (rc < 0)
        return rc; /* the caller names the target in a message the backend did not give */
    if (ops->map_page && !ops->unmap_page && !(xa->be->caps & XA_CAP_STABLE_MAP))
        return xa__set_error(xa, XA_EIO,
                             "%s backend broke its contract: map_page without unmap_page "
                             "needs XA_CAP_STABLE_MAP",
                             ops->name);
        /* Writes only when asked for, whatever the backend offers. */
    if (!(flags & XA_INIT_WRITE))
        xa->be->caps &= ~(uint32_t)XA_CAP_WRITE;
    return 0;
}

void xa__be_close(struct xa_instance *xa)
{
    if (!xa->be)
        return;
    xa->be->ops->close(xa->be);
    free(xa->be);
    xa->be = NULL;
}

int xa__be_read_pa(struct xa_instance *xa, uint64_t pa, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (!xa__pa_in_ram(xa, pa, len))
        return xa__set_error(xa, XA_ERANGE, "physical range 0x%llx+0x%zx is outside guest RAM",
                             (unsigned long long)pa, len);
    if (fault_due(xa, XA_BE_OP_READ))
        return injected(xa, XA_BE_OP_READ, pa);
    unsigned seq = xa->err_seq;
    int rc = check_result(xa, XA_BE_OP_READ, seq,
                          xa->be->ops->read_pa(xa->be, pa - xa->ram_base, buf, len), pa);
    /* A mapped file that shrank under the copy: the bytes are not to be trusted. */
    return rc < 0 ? rc : xa__mapguard_check(xa);
}

bool xa__be_can_write(const struct xa_instance *xa)
{
    return (xa->flags & XA_INIT_WRITE) && (xa->be->caps & XA_CAP_WRITE) && xa->be->ops->write_pa;
}

int xa__be_write_pa(struct xa_instance *xa, uint64_t pa, const void *buf, size_t len)
{
    if (!xa__be_can_write(xa))
        return xa__set_error(xa, XA_EPERM,
                             "write access not enabled (open with XA_INIT_WRITE on a "
                             "target that supports writes)");
    if (len == 0)
        return 0;
    if (!xa__pa_in_ram(xa, pa, len))
        return xa__set_error(xa, XA_ERANGE, "physical range 0x%llx+0x%zx is outside guest RAM",
                             (unsigned long long)pa, len);
    if (fault_due(xa, XA_BE_OP_WRITE))
        return injected(xa, XA_BE_OP_WRITE, pa);
    unsigned seq = xa->err_seq;
    int rc = check_result(xa, XA_BE_OP_WRITE, seq,
                          xa->be->ops->write_pa(xa->be, pa - xa->ram_base, buf, len), pa);
    return rc < 0 ? rc : xa__mapguard_check(xa);
}

bool xa__be_can_map(const struct xa_instance *xa)
{
    return xa->be->ops->map_page != NULL;
}

int xa__be_map_page(struct xa_instance *xa, uint64_t pfn, const void **out)
{
    uint64_t pa = pfn << XA_PAGE_SHIFT;
    if (!xa__be_can_map(xa))
        return xa__set_error(xa, XA_ENOTSUP, "%s backend cannot map pages", xa->be->ops->name);
    if (pfn > (UINT64_MAX >> XA_PAGE_SHIFT) || !xa__page_has_ram(xa, pa))
        return xa__set_error(xa, XA_ERANGE, "physical address 0x%llx is outside guest RAM",
                             (unsigned long long)pa);
    if (fault_due(xa, XA_BE_OP_MAP))
        return injected(xa, XA_BE_OP_MAP, pa);
    unsigned seq = xa->err_seq;
    const void *page = NULL;
    int rc = xa->be->ops->map_page(xa->be, pfn - (xa->ram_base >> XA_PAGE_SHIFT), &page);
    if (rc == XA_MAP_COPY && (xa->be->caps & XA_CAP_STABLE_MAP))
        return XA_MAP_COPY; /* partly RAM, nothing to point at: the caller reads it */
    rc = check_result(xa, XA_BE_OP_MAP, seq, rc, pa);
    if (rc == 0)
        rc = xa__mapguard_check(xa); /* a mapped file that shrank fails every call */
    if (rc < 0)
        return rc;
    if (!page)
        return xa__set_error(xa, XA_EIO,
                             "%s backend broke its contract: map_page at 0x%llx succeeded "
                             "without a page",
                             xa->be->ops->name, (unsigned long long)pa);
    *out = page;
    return 0;
}

void xa__be_unmap_page(struct xa_instance *xa, uint64_t pfn, const void *page)
{
    /* Under XA_CAP_STABLE_MAP pages live until close (backend.h). */
    if ((xa->be->caps & XA_CAP_STABLE_MAP) || !xa->be->ops->unmap_page)
        return;
    xa->be->ops->unmap_page(xa->be, pfn - (xa->ram_base >> XA_PAGE_SHIFT), page);
}

int xa__be_vcpu_regs(struct xa_instance *xa, unsigned vcpu, struct xa_regs *out)
{
    struct xa_backend *be = xa->be;
    if (!(be->caps & XA_CAP_REGS) || !be->ops->get_vcpu_regs)
        return xa__set_error(xa, XA_ENOTSUP, "%s target has no vCPU registers", be->ops->name);
    if (vcpu >= be->nr_vcpus)
        return xa__set_error(xa, XA_EINVAL, "no vCPU %u (target has %u)", vcpu, be->nr_vcpus);
    if (fault_due(xa, XA_BE_OP_REGS))
        return injected(xa, XA_BE_OP_REGS, vcpu);
    unsigned seq = xa->err_seq;
    return check_result(xa, XA_BE_OP_REGS, seq, be->ops->get_vcpu_regs(be, vcpu, out), vcpu);
}

int xa__be_vcpu_dtables(struct xa_instance *xa, unsigned vcpu, struct xa_vcpu_dtables *out)
{
    struct xa_backend *be = xa->be;
    if (!(be->caps & XA_CAP_REGS) || !be->ops->get_vcpu_dtables)
        return xa__set_error(xa, XA_ENOTSUP, "%s target has no IDTR/GDTR", be->ops->name);
    if (vcpu >= be->nr_vcpus)
        return xa__set_error(xa, XA_EINVAL, "no vCPU %u (target has %u)", vcpu, be->nr_vcpus);
    if (fault_due(xa, XA_BE_OP_DTABLES))
        return injected(xa, XA_BE_OP_DTABLES, vcpu);
    unsigned seq = xa->err_seq;
    return check_result(xa, XA_BE_OP_DTABLES, seq, be->ops->get_vcpu_dtables(be, vcpu, out),
                        vcpu);
}

static int pause_or_resume(struct xa_instance *xa, enum xa_be_op op)
{
    struct xa_backend *be = xa->be;
    int (*fn)(struct xa_backend *) = op == XA_BE_OP_PAUSE ? be->ops->pause : be->ops->resume;
    if (!(be->caps & XA_CAP_PAUSE) || !fn)
        return xa__set_error(xa, XA_ENOTSUP, "%s target cannot be paused or resumed",
                             be->ops->name);
    if (fault_due(xa, op))
        return injected(xa, op, 0);
    unsigned seq = xa->err_seq;
    return check_result(xa, op, seq, fn(be), 0);
}

int xa__be_pause(struct xa_instance *xa)
{
    return pause_or_resume(xa, XA_BE_OP_PAUSE);
}

int xa__be_resume(struct xa_instance *xa)
{
    return pause_or_resume(xa, XA_BE_OP_RESUME);
}
