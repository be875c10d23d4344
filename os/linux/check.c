/*
 * check.c -- the rootkit checks' dispatch, their findings and the owner of
 * an address (which module's memory holds a hook).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/check.h"

uint64_t check_off(struct check_ctx *c, const char *type, const char *member)
{
    uint64_t off;
    const struct linux_os *lx = linux_os(c->xa);
    if (!lx->btf || linux_btf_member(lx, type, member, &off) < 0)
        return LX_NO_OFFSET;
    return off;
}

uint64_t check_sym(struct check_ctx *c, const char *name)
{
    uint64_t addr;
    if (symtab_lookup(&linux_os(c->xa)->syms, name, &addr) < 0)
        return 0;
    return addr;
}

int check_report(struct check_ctx *c, const char *technique, const char *culprit, int32_t pid,
                 uint64_t addr, const char *fmt, ...)
{
    struct xa_finding f = {.check = c->which, .technique = technique, .pid = pid, .addr = addr};
    if (culprit)
        snprintf(f.culprit, sizeof(f.culprit), "%s", culprit);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.detail, sizeof(f.detail), fmt, ap);
    va_end(ap);
    c->found++;
    int rc = c->fn(&f, c->cb_ctx);
    if (rc)
        c->stop = rc;
    return rc;
}

int check_note(struct check_ctx *c, const char *fmt, ...)
{
    struct xa_finding f = {.check = c->which, .technique = "note", .pid = -1,
                           .flags = XA_FINDING_NOTE};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.detail, sizeof(f.detail), fmt, ap);
    va_end(ap);
    int rc = c->fn(&f, c->cb_ctx);
    if (rc)
        c->stop = rc;
    return rc;
}

int check_owner_add(struct check_ctx *c, uint64_t module)
{
    for (size_t i = 0; i < c->nr_owners; i++)
        if (c->owners[i].module == module)
            return 0;
    if (c->nr_owners >= CHECK_MAX_OWNERS)
        return xa__set_error(c->xa, XA_ELIMIT, "more than %u modules", CHECK_MAX_OWNERS);
    const struct linux_priv *p = linux_priv(c->xa);
    const struct linux_offsets *o = &p->lx.off;
    struct check_owner w = {.module = module};
    char name[XA_MODULE_NAME_LEN];
    uint32_t size;
    /* 32-bit kernels without BTF: core_layout inferred (module32.c), maybe not */
    if (o->module_core_base == LX_NO_OFFSET || o->module_core_size == LX_NO_OFFSET)
        return xa__set_error(c->xa, XA_ENOTSUP, "where struct module keeps its core base "
                                                "and size is unknown");
    /* base is a pointer: 4 bytes on 32-bit kernels */
    if (lx_read(c->xa, module + o->module_name, name, sizeof(name)) < 0 ||
        lx_ptr(c->xa, module + o->module_core_base, &w.base) < 0 ||
        lx_u32(c->xa, module + o->module_core_size, &size) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "struct module at 0x%llx unreadable",
                             (unsigned long long)module);
    if (w.base && !lx_kptr(c->xa, w.base))
        return xa__set_error(c->xa, XA_EBADDATA, "struct module at 0x%llx: bad core base "
                             "0x%llx", (unsigned long long)module, (unsigned long long)w.base);
    memcpy(w.name, name, sizeof(name));
    w.name[sizeof(name)] = '\0';
    w.size = size;
    struct check_owner *n = realloc(c->owners, (c->nr_owners + 1) * sizeof(*n));
    if (!n)
        return xa__set_error(c->xa, XA_ENOMEM, "out of memory");
    c->owners = n;
    c->owners[c->nr_owners++] = w;
    return 0;
}

static int add_owner(struct check_ctx *c, uint64_t module, void *arg)
{
    (void)arg;
    return check_owner_add(c, module);
}

/* The module list, the module kset, the address tree and a carve of
 * module memory (hidden modules own hooks too), once, when a hook needs an
 * owner; a broken walk leaves the owners found so far. */
static void load_owners(struct check_ctx *c)
{
    if (c->owners_loaded)
        return;
    c->owners_loaded = true;
    struct xa_module_iter *it;
    if (linux_module_iter_new(c->xa, &it) == 0) {
        struct xa_module m;
        while (linux_module_iter_next(it, &m) == 1)
            if (check_owner_add(c, m.module) < 0)
                break;
        linux_module_iter_free(it);
    }
    (void)check_kset_foreach(c, add_owner, NULL);
    if (check_sym(c, "mod_tree"))
        (void)check_modtree_foreach(c, add_owner, NULL);
    (void)check_carve_foreach(c, add_owner, NULL);
}

const struct check_owner *check_owner_at(struct check_ctx *c, uint64_t addr)
{
    load_owners(c);
    for (size_t i = 0; i < c->nr_owners; i++) {
        const struct check_owner *w = &c->owners[i];
        if (w->base && addr >= w->base && addr - w->base < w->size)
            return w;
    }
    return NULL;
}

const struct check_owner *check_owner_by_module(struct check_ctx *c, uint64_t module)
{
    load_owners(c);
    for (size_t i = 0; i < c->nr_owners; i++)
        if (c->owners[i].module == module)
            return &c->owners[i];
    return NULL;
}

const char *check_owner_of(struct check_ctx *c, uint64_t addr)
{
    const struct check_owner *w = check_owner_at(c, addr);
    return w ? w->name : NULL;
}

const char *check_describe(struct check_ctx *c, uint64_t addr, char *buf, size_t cap)
{
    const char *name;
    uint64_t off;
    const char *owner = check_owner_of(c, addr);
    if (owner) {
        for (size_t i = 0; i < c->nr_owners; i++)
            if (strcmp(c->owners[i].name, owner) == 0 && addr >= c->owners[i].base) {
                snprintf(buf, cap, "[%s]+0x%llx", owner,
                         (unsigned long long)(addr - c->owners[i].base));
                return buf;
            }
    }
    if (check_in_core_text(c, addr) &&
        symtab_at(&linux_os(c->xa)->syms, addr, &name, &off) == 0)
        snprintf(buf, cap, "%s+0x%llx", name, (unsigned long long)off);
    else
        snprintf(buf, cap, "0x%llx", (unsigned long long)addr);
    return buf;
}

/* Checks that find their tables without data symbols (by shape, or from
 * layouts inferred on 32-bit kernels without BTF). */
static bool check_needs_no_data_symbols(struct check_ctx *c, enum xa_check which)
{
    bool is32 = lx_is32(linux_os(c->xa));
    switch (which) {
    case XA_CHECK_SYSCALLS: /* by shape on 32-bit (check32_tables.c); else by name */
    case XA_CHECK_IDT:
    case XA_CHECK_PROCESSES: /* 32-bit: children lists and parents (check32_views_tasks.c) */
    case XA_CHECK_MODULES:   /* 32-bit: the list against a carve of module memory */
    case XA_CHECK_USER:      /* maps and environments of the listed processes */
        return true;
    case XA_CHECK_OPS:    /* 32-bit: the tables by shape (check32_ops.c); amd64: by name */
    case XA_CHECK_FTRACE: /* 32-bit: the chain by shape (check32_hooks.c) */
        return is32;
    default: return false;
    }
}

int linux_check(struct xa_instance *xa, enum xa_check which, xa_finding_fn fn, void *ctx)
{
    struct check_ctx c = {.xa = xa, .which = which, .fn = fn, .cb_ctx = ctx};
    c.text_start = check_sym(&c, "_stext");
    c.text_end = check_sym(&c, "_etext");
    if (!c.text_start || c.text_end <= c.text_start)
        return xa__set_error(xa, XA_ENOTSUP, "no _stext/_etext symbols: kernel text unknown");
    if (which == XA_CHECK_IDT && linux_os(xa)->mode == XA_PM_AARCH64)
        return xa__set_error(xa, XA_ENOTSUP, "an AArch64 kernel has no IDT (x86's interrupt "
                             "table); its exception vectors are not checked");
    /* A kernel built without CONFIG_KALLSYMS_ALL (Debian's 686 and arm64)
     * lists no data symbols. The checks find their tables by name, and a
     * table they cannot find reads as "not in this kernel": they would say
     * clean unseen. init_task alone does not tell: arm64 discovery finds it
     * by its shape and adds it (arm64.c); init_pid_ns it never adds. */
    bool data_symbols = check_sym(&c, "init_task") && check_sym(&c, "init_pid_ns");
    if (!data_symbols && !check_needs_no_data_symbols(&c, which))
        return xa__set_error(xa, XA_ENOTSUP,
                             "kallsyms lists no data symbols (no init_task or init_pid_ns): "
                             "the tables this check reads cannot be found by name");
    int rc;
    switch (which) {
    case XA_CHECK_PROCESSES: rc = check_processes(&c); break;
    case XA_CHECK_MODULES: rc = check_modules(&c); break;
    case XA_CHECK_SYSCALLS: rc = check_syscalls(&c); break;
    case XA_CHECK_IDT: rc = check_idt(&c); break;
    case XA_CHECK_FTRACE: rc = check_ftrace(&c); break;
    case XA_CHECK_KPROBES: rc = check_kprobes(&c); break;
    case XA_CHECK_BPF: rc = check_bpf(&c); break;
    case XA_CHECK_USER: rc = check_user(&c); break;
    case XA_CHECK_OPS: rc = check_ops(&c); break;
    default: rc = xa__set_error(xa, XA_EINVAL, "unknown check %d", (int)which); break;
    }
    free(c.owners);
    if (c.stop)
        return c.stop;
    return rc < 0 ? rc : c.found;
}
