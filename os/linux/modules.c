/*
 * modules.c -- loaded kernel modules: the `modules` list of struct module,
 * walked with cycle detection and a hard cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/linux.h"
#include "os/linux/lxpriv.h"

/* Modules we walk at most; a busy distribution kernel loads a few hundred. */
#define LINUX_MAX_MODULES 65536u
/* MODULE_NAME_LEN (64 - sizeof(unsigned long)): 56 on 64-bit, 60 on 32-bit. */
#define MODULE_NAME_LEN 56
#define MODULE_NAME_LEN32 60
#define MODULE_STATE_MAX 3       /* MODULE_STATE_UNFORMED */
#define MODULE_SIZE_MAX (1u << 30) /* modules live in a 1 GiB area */
/* refcnt counts one extra reference while the module lives (MODULE_REF_BASE);
 * /proc/modules and lsmod show refcnt - 1, and so do we. */
#define MODULE_REF_BASE 1

static int need_modules(struct xa_instance *xa)
{
    struct linux_priv *p = linux_priv(xa);
    if (p->modules_missing[0])
        return xa__set_error(xa, XA_ENOTSUP, "cannot list modules: %s", p->modules_missing);
    return 0;
}

int linux_module_iter_new(struct xa_instance *xa, struct xa_module_iter **out)
{
    int rc = need_modules(xa);
    if (rc < 0)
        return rc;
    uint64_t head;
    struct linux_priv *p = linux_priv(xa);
    if (lx_is32(&p->lx) && (!p->lx.btf || symtab_lookup(&p->lx.syms, "modules", &head) < 0)) {
        /* Debian's 686 kernels: no data symbols, no BTF (modscan32.c) */
        if ((rc = linux_modules32_find(xa, p)) < 0)
            return rc;
        /* No module was loaded when it looked: no layout, an empty list. */
        head = p->modules32_ready ? p->modules_head : 0;
    } else if (symtab_lookup(&p->lx.syms, "modules", &head) < 0) {
        return xa__set_error(xa, XA_ENOENT, "cannot list modules: no 'modules' symbol");
    }
    struct xa_module_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    it->xa = xa;
    lx_list_init(&it->walk, head, LINUX_MAX_MODULES, "module list");
    it->walk.done = head == 0; /* no module loaded (nothing found in memory) */
    *out = it;
    return 0;
}

static int read_module(struct xa_instance *xa, uint64_t mod, struct xa_module *out)
{
    const struct linux_priv *p = linux_priv(xa);
    const struct linux_offsets *o = &p->lx.off;
    memset(out, 0, sizeof(*out));
    out->module = mod;

    char name[MODULE_NAME_LEN32];
    size_t name_len = lx_is32(&p->lx) ? MODULE_NAME_LEN32 : MODULE_NAME_LEN;
    uint32_t state;
    if (lx_read(xa, mod + o->module_name, name, name_len) < 0 ||
        lx_u32(xa, mod + o->module_state, &state) < 0)
        return xa__set_error(xa, XA_EFAULT, "module list broken at 0x%llx: module unreadable",
                             (unsigned long long)mod);
    const char *nul = memchr(name, '\0', name_len);
    if (!nul || nul == name || state > MODULE_STATE_MAX)
        return xa__set_error(xa, XA_EBADDATA, "implausible module at 0x%llx (state %u, name %s)",
                             (unsigned long long)mod, state, nul ? "empty" : "unterminated");
    for (const char *c = name; c < nul; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f)
            return xa__set_error(xa, XA_EBADDATA, "implausible module at 0x%llx: bad name",
                                 (unsigned long long)mod);
    if ((size_t)(nul - name) > XA_MODULE_NAME_LEN) /* a 32-bit kernel's 57..59 bytes */
        return xa__set_error(xa, XA_ENOTSUP, "module at 0x%llx: name longer than %d bytes",
                             (unsigned long long)mod, XA_MODULE_NAME_LEN);
    memcpy(out->name, name, (size_t)(nul - name));
    out->state = state;

    out->refcount = -1;
    uint32_t ref;
    if (o->module_refcnt != LX_NO_OFFSET && lx_u32(xa, mod + o->module_refcnt, &ref) == 0) {
        /* atomic_t: the kernel never lets it go below 0 (module_put() stops
         * at 0, unloading takes it from MODULE_REF_BASE to 0). Anything
         * above INT32_MAX is a negative count, which no kernel holds. */
        if (ref > INT32_MAX)
            return xa__set_error(xa, XA_EBADDATA,
                                 "implausible module %s at 0x%llx: refcount 0x%x is negative",
                                 out->name, (unsigned long long)mod, ref);
        out->refcount = (int32_t)ref - MODULE_REF_BASE; /* >= -1: no overflow */
    }

    uint64_t base;
    if (lx_ptr(xa, mod + o->module_core_base, &base) < 0)
        return xa__set_error(xa, XA_EFAULT, "module %s: core base unreadable", out->name);
    if (base && !lx_kptr(xa, base))
        return xa__set_error(xa, XA_EBADDATA, "module %s: bad core base 0x%llx", out->name,
                             (unsigned long long)base);
    out->base = base;
    /* 6.1: one core_layout.size; 6.4+: the sizes of all mem[] regions. */
    uint64_t total = 0;
    for (uint64_t i = 0; i < p->more.module_mem_count; i++) {
        uint32_t sz;
        if (lx_u32(xa, mod + o->module_core_size + i * p->more.module_mem_stride, &sz) < 0)
            return xa__set_error(xa, XA_EFAULT, "module %s: size unreadable", out->name);
        total += sz;
    }
    if (total > MODULE_SIZE_MAX)
        return xa__set_error(xa, XA_EBADDATA, "module %s: implausible size %llu", out->name,
                             (unsigned long long)total);
    out->size = total;
    return 0;
}

int linux_module_iter_next(struct xa_module_iter *it, struct xa_module *out)
{
    struct xa_instance *xa = it->xa;
    uint64_t node = 0;
    int rc = lx_list_next(xa, &it->walk, &node);
    if (rc <= 0)
        return rc;
    rc = read_module(xa, node - linux_os(xa)->off.module_list, out);
    if (rc < 0)
        return it->walk.err = rc;
    return 1;
}

void linux_module_iter_free(struct xa_module_iter *it)
{
    if (it)
        lx_list_free(&it->walk);
    free(it);
}
