/*
 * check_modules.c -- hidden modules: every module the module kset knows
 * (/sys/module, one kobject per module) and every module in the module
 * address tree (mod_tree: the latched rb-tree __module_address() searches,
 * so a module's code must stay in it to run) must be on the module list. A
 * module that unlinks itself from the list (list_del of THIS_MODULE->list)
 * keeps its kobject unless it deletes that too, and keeps its tree nodes;
 * built-in modules have kobjects too, with no struct module behind them,
 * and are skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/check.h"
#include "os/linux/check32_views.h"

#define MAX_KOBJECTS 65536u
#define MAX_TREE_NODES 65536u
#define MAX_TREE_DEPTH 128u /* a red-black tree of 64K nodes is 32 deep */
#define MAX_HIDDEN 256u

int check_modtree_foreach(struct check_ctx *c, check_module_fn fn, void *arg)
{
    uint64_t tree = check_sym(c, "mod_tree");
    uint64_t root_off = check_off(c, "mod_tree_root", "root");
    uint64_t trees_off = check_off(c, "latch_tree_root", "tree");
    uint64_t right = check_off(c, "rb_node", "rb_right"), left = check_off(c, "rb_node", "rb_left");
    uint64_t mtn_mod = check_off(c, "mod_tree_node", "mod");
    uint64_t mtn_node = check_off(c, "mod_tree_node", "node");
    if (!tree || root_off == LX_NO_OFFSET || trees_off == LX_NO_OFFSET ||
        right == LX_NO_OFFSET || left == LX_NO_OFFSET || mtn_mod == LX_NO_OFFSET ||
        mtn_node == LX_NO_OFFSET)
        return xa__set_error(c->xa, XA_ENOTSUP,
                             "module tree: no mod_tree symbol or no BTF for the latch tree");
    uint64_t stack[MAX_TREE_DEPTH];
    unsigned depth = 0;
    struct lx_ptrset seen = {0};
    int rc = 0;
    uint64_t first;
    /* tree[0]: the latch tree's first copy; nodes are latch_tree_node.node[0] */
    if (lx_ptr(c->xa, tree + root_off + trees_off, &first) < 0)
        rc = xa__set_error(c->xa, XA_EFAULT, "mod_tree unreadable");
    else if (first)
        stack[depth++] = first;
    while (rc == 0 && depth) {
        uint64_t node = stack[--depth], kids[2], mod;
        int added = lx_kptr(c->xa, node) ? lx_ptrset_add(&seen, node) : 0;
        if (added <= 0 || seen.n > MAX_TREE_NODES) {
            rc = added < 0 ? xa__set_error(c->xa, XA_ENOMEM, "out of memory")
                           : xa__set_error(c->xa, XA_EBADDATA,
                                           "module tree: bad, repeated or too many nodes at 0x%llx",
                                           (unsigned long long)node);
            break;
        }
        if (lx_ptr(c->xa, node + right, &kids[0]) < 0 || lx_ptr(c->xa, node + left, &kids[1]) < 0 ||
            lx_ptr(c->xa, node - mtn_node + mtn_mod, &mod) < 0) {
            rc = xa__set_error(c->xa, XA_EFAULT, "module tree node 0x%llx unreadable",
                               (unsigned long long)node);
            break;
        }
        for (int k = 0; k < 2 && rc == 0; k++) {
            if (!kids[k])
                continue;
            if (depth >= MAX_TREE_DEPTH)
                rc = xa__set_error(c->xa, XA_EBADDATA, "module tree deeper than %u",
                                   MAX_TREE_DEPTH);
            else
                stack[depth++] = kids[k];
        }
        if (rc == 0 && !lx_kptr(c->xa, mod))
            rc = xa__set_error(c->xa, XA_EBADDATA, "module tree node 0x%llx: bad module 0x%llx",
                               (unsigned long long)node, (unsigned long long)mod);
        if (rc == 0)
            rc = fn(c, mod, arg);
    }
    lx_ptrset_free(&seen);
    return rc;
}

int check_kset_foreach(struct check_ctx *c, check_module_fn fn, void *arg)
{
    if (lx_is32(linux_os(c->xa)) && !linux_os(c->xa)->btf && !check_sym(c, "module_kset"))
        return check32_kset_foreach(c, fn, arg); /* offsets from the listed modules */
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
    if (lx_ptr(c->xa, kset_ptr, &kset) < 0 || !lx_kptr(c->xa, kset))
        return xa__set_error(c->xa, XA_EFAULT, "module_kset unreadable");
    struct lx_list_walk w;
    lx_list_init(&w, kset + kset_list, MAX_KOBJECTS, "module kset");
    uint64_t node;
    int rc;
    while ((rc = lx_list_next(c->xa, &w, &node)) == 1) {
        uint64_t mk = node - kobj_entry - mk_kobj, mod;
        if (lx_ptr(c->xa, mk + mk_mod, &mod) < 0) {
            rc = xa__set_error(c->xa, XA_EFAULT, "module kobject 0x%llx unreadable",
                               (unsigned long long)mk);
            break;
        }
        if (!mod)
            continue; /* built in: parameters only */
        /* the kobject must be the module's own: mod->mkobj is where we stand */
        if (!lx_kptr(c->xa, mod) || mod + mod_mkobj != mk) {
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
    return lx_ptr(c->xa, node, &next) == 0 && next != node && lx_kptr(c->xa, next) &&
           lx_ptr(c->xa, next + lx_ptr_size(c->xa), &back) == 0 && back == node;
}

enum { IN_KSET = 1, IN_TREE = 2, IN_CARVE = 4 };

struct hidden {
    const struct lx_ptrset *listed;
    uint64_t mod[MAX_HIDDEN];
    unsigned views[MAX_HIDDEN], n, view; /* view: the walk under way */
    size_t listed_seen; /* listed modules the walk under way found */
};

static int note_module(struct check_ctx *c, uint64_t mod, void *arg)
{
    struct hidden *h = arg;
    if (lx_ptrset_has(h->listed, mod)) {
        h->listed_seen++;
        return 0;
    }
    if (xa_is_live(c->xa) && linked_now(c, mod))
        return 0;
    unsigned i = 0;
    while (i < h->n && h->mod[i] != mod)
        i++;
    if (i == h->n) {
        if (h->n == MAX_HIDDEN)
            return xa__set_error(c->xa, XA_ELIMIT, "more than %u hidden modules", MAX_HIDDEN);
        h->mod[h->n++] = mod;
    }
    h->views[i] |= h->view;
    return 0;
}

/* A 32-bit module's name and core base, as check_owner_add() reads a
 * 64-bit one's (its pointers are 4 bytes). */
static int owner32(struct check_ctx *c, uint64_t mod, struct check_owner *w)
{
    const struct linux_offsets *lo = &linux_os(c->xa)->off;
    char name[XA_MODULE_NAME_LEN];
    *w = (struct check_owner){.module = mod};
    if (lx_read(c->xa, mod + lo->module_name, name, sizeof(name)) < 0 ||
        lx_ptr(c->xa, mod + lo->module_core_base, &w->base) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "struct module at 0x%llx unreadable",
                             (unsigned long long)mod);
    memcpy(w->name, name, sizeof(name));
    w->name[sizeof(name)] = '\0';
    return 0;
}

static int report_hidden(struct check_ctx *c, uint64_t mod, unsigned views)
{
    struct check_owner own;
    const struct check_owner *o = NULL;
    if (lx_is32(linux_os(c->xa))) {
        int rc = owner32(c, mod, &own);
        if (rc < 0)
            return rc;
        o = &own;
    } else {
        int rc = check_owner_add(c, mod);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < c->nr_owners; i++)
            if (c->owners[i].module == mod)
                o = &c->owners[i];
    }
    if (!o)
        return xa__set_error(c->xa, XA_EINVAL, "module 0x%llx lost", (unsigned long long)mod);
    static const char *const view_names[] = {"in /sys/module", "in the module address tree",
                                             "in module memory"};
    char where[128] = "";
    unsigned nviews = 0, total = (unsigned)__builtin_popcount(views);
    for (unsigned v = 0; v < 3; v++) {
        if (!(views & (1u << v)))
            continue;
        nviews++;
        const char *sep = nviews == 1 ? "" : nviews == total ? " and " : ", ";
        size_t len = strlen(where);
        snprintf(where + len, sizeof(where) - len, "%s%s", sep, view_names[v]);
    }
    return check_report(c, "hidden-module", o->name, -1, mod,
                        "module %s (struct module 0x%llx, code 0x%llx) is %s but not on the "
                        "module list",
                        o->name, (unsigned long long)mod, (unsigned long long)o->base, where);
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
    struct hidden *h = calloc(1, sizeof(*h));
    if (!h)
        rc = xa__set_error(c->xa, XA_ENOMEM, "out of memory");
    else
        h->listed = &listed;
    /* a 32-bit kernel without data symbols or BTF: no kset, no tree */
    bool bare32 = lx_is32(linux_os(c->xa)) && !linux_os(c->xa)->btf &&
                  !check_sym(c, "module_kset");
    if (rc == 0 && bare32)
        rc = check_note(c, "the module address tree (mod_tree) is not compared: the kernel lists "
                           "no data symbols and has no BTF");
    if (rc == 0) {
        h->view = IN_KSET;
        rc = check_kset_foreach(c, note_module, h);
    }
    /* a kernel without the tree (CONFIG_MODULES_TREE_LOOKUP=n) has two views */
    if (rc == 0 && !bare32 && check_sym(c, "mod_tree")) {
        h->view = IN_TREE;
        rc = check_modtree_foreach(c, note_module, h);
    }
    if (rc == 0) {
        h->view = IN_CARVE;
        h->listed_seen = 0;
        rc = check_carve_foreach(c, note_module, h);
        /* a carve that misses what is in plain sight would miss the hidden
         * too (a live guest may unload a module meanwhile) */
        size_t want = xa_is_live(c->xa) ? (listed.n > 0) : listed.n;
        if (rc == 0 && h->listed_seen < want)
            rc = xa__set_error(c->xa, XA_EBADDATA,
                               "module carve found %zu of the %zu listed modules",
                               h->listed_seen, listed.n);
    }
    /* what was found before a walk stopped still stands */
    for (unsigned i = 0; h && i < h->n; i++) {
        int r = report_hidden(c, h->mod[i], h->views[i]);
        if (r) {
            rc = rc ? rc : r;
            break;
        }
    }
    free(h);
    lx_ptrset_free(&listed);
    return rc;
}
