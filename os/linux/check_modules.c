/*
 * check_modules.c -- hidden modules: every module the module kset knows
 * (/sys/module, one kobject per module) must be on the module list. A
 * module that unlinks itself from the list (list_del of THIS_MODULE->list)
 * keeps its kobject; built-in modules have kobjects too, with no struct
 * module behind them, and are skipped.
 */
#include "os/linux/check.h"

#define MAX_KOBJECTS 65536u

int check_kset_foreach(struct check_ctx *c, check_module_fn fn, void *arg)
{
    uint64_t kset_ptr = check_sym(c, "module_kset");
    uint64_t kset_list = check_off(c, "kset", "list");
    uint64_t kobj_entry = check_off(c, "kobject", "entry");
    uint64_t mk_kobj = check_off(c, "module_kobject", "kobj");
    uint64_t mk_mod = check_off(c, "module_kobject", "mod");
    uint64_t mod_mkobj = check_off(c, "module", "mkobj");
    if (!kset_ptr || kset_list == LX_NO_OFFSET || kobj_entry == LX_NO_OFFSET ||
        mk_kobj == LX_NO_OFFSET || mk_mod == LX_NO_OFFSET || mod_mkobj == LX_NO_OFFSET)
        return xa__set_error(c->xa, XA_ENOTSUP,
                             "module kset: no module_kset symbol or no BTF for kset/kobject");
    uint64_t kset;
    if (lx_u64(c->xa, kset_ptr, &kset) < 0 || !lx_kernel_ptr(kset))
        return xa__set_error(c->xa, XA_EFAULT, "module_kset unreadable");
    struct lx_list_walk w;
    lx_list_init(&w, kset + kset_list, MAX_KOBJECTS, "module kset");
    uint64_t node;
    int rc;
    while ((rc = lx_list_next(c->xa, &w, &node)) == 1) {
        uint64_t mk = node - kobj_entry - mk_kobj, mod;
        if (lx_u64(c->xa, mk + mk_mod, &mod) < 0) {
            rc = xa__set_error(c->xa, XA_EFAULT, "module kobject 0x%llx unreadable",
                               (unsigned long long)mk);
            break;
        }
        if (!mod)
            continue; /* built in: parameters only */
        /* the kobject must be the module's own: mod->mkobj is where we stand */
        if (!lx_kernel_ptr(mod) || mod + mod_mkobj != mk) {
            rc = xa__set_error(c->xa, XA_EBADDATA,
                               "module kobject 0x%llx names module 0x%llx, which is not its owner",
                               (unsigned long long)mk, (unsigned long long)mod);
            break;
        }
        rc = fn(c, mod, arg);
        if (rc)
            break;
    }
    lx_list_free(&w);
    return rc;
}

/* Is @mod on the module list now? On a live guest a module loaded after
 * our walk of the list is; one unlinked by a rootkit points at poison or
 * at itself. */
static bool linked_now(struct check_ctx *c, uint64_t mod)
{
    uint64_t node = mod + linux_os(c->xa)->off.module_list, next, back;
    return lx_u64(c->xa, node, &next) == 0 && next != node && lx_kernel_ptr(next) &&
           lx_u64(c->xa, next + 8, &back) == 0 && back == node;
}

static int judge_module(struct check_ctx *c, uint64_t mod, void *arg)
{
    const struct lx_ptrset *listed = arg;
    if (lx_ptrset_has(listed, mod) || (xa_is_live(c->xa) && linked_now(c, mod)))
        return 0;
    int rc = check_owner_add(c, mod);
    if (rc < 0)
        return rc;
    const struct check_owner *o = NULL;
    for (size_t i = 0; i < c->nr_owners; i++)
        if (c->owners[i].module == mod)
            o = &c->owners[i];
    if (!o)
        return xa__set_error(c->xa, XA_EINVAL, "module 0x%llx lost", (unsigned long long)mod);
    return check_report(c, "hidden-module", o->name, -1, mod,
                        "module %s (struct module 0x%llx, code 0x%llx) is in /sys/module "
                        "but not on the module list",
                        o->name, (unsigned long long)mod, (unsigned long long)o->base);
}

int check_modules(struct check_ctx *c)
{
    struct lx_ptrset listed = {0};
    struct xa_module_iter *it;
    int rc = linux_module_iter_new(c->xa, &it);
    if (rc < 0)
        return rc;
    struct xa_module m;
    while ((rc = linux_module_iter_next(it, &m)) == 1)
        if (lx_ptrset_add(&listed, m.module) < 0) {
            rc = xa__set_error(c->xa, XA_ENOMEM, "out of memory");
            break;
        }
    linux_module_iter_free(it);
    if (rc == 0)
        rc = check_kset_foreach(c, judge_module, &listed);
    lx_ptrset_free(&listed);
    return rc;
}
