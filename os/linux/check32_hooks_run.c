/*
 * check32_hooks_run.c -- the ftrace check of a 32-bit x86 kernel whose
 * kallsyms lists no data symbols: the chain found by its shape
 * (check32_hooks.c), walked bounded with every link checked, and each
 * ftrace_ops judged as check_ftrace does on amd64 (a callback outside the
 * core text is a hook; IPMODIFY says it diverts; its filter says where).
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/check.h"
#include "os/linux/check32_hooks.h"
#include "os/linux/ptrset.h"

#define FUNC_ENTRY_IP 8u /* ftrace_func_entry: hlist_node (next, pprev), ip */

static int read_mem(void *ctx, uint64_t va, void *buf, size_t len)
{
    return lx_read(ctx, va, buf, len);
}

static uint32_t u32_at(const uint8_t *b, uint32_t off)
{
    uint32_t v;
    memcpy(&v, b + off, 4);
    return v;
}

static int judge_ops(struct check_ctx *c, uint64_t ops, const uint8_t *o)
{
    uint32_t func = u32_at(o, C32_FT_FUNC), saved = u32_at(o, C32_FT_SAVED_FUNC);
    uint32_t flags = u32_at(o, C32_FT_FLAGS);
    uint64_t hook = !check_in_core_text(c, func) ? func
                    : (saved && !check_in_core_text(c, saved)) ? saved : 0;
    if (!hook)
        return 0;
    char where[128], targets[512] = "";
    check_describe(c, hook, where, sizeof(where));
    uint32_t func_hash = u32_at(o, C32_FT_FUNC_HASH), filter;
    if (lx_kptr(c->xa, func_hash) && lx_u32(c->xa, func_hash + C32_FT_HASH_FILTER, &filter) == 0)
        /* ftrace_hash {size_bits; buckets;}, ftrace_func_entry {hlist_node; ip;} */
        check_hash_functions(c, filter, 0, 4, FUNC_ENTRY_IP, targets, sizeof(targets));
    const char *owner = check_owner_of(c, hook);
    return check_report(c, "ftrace-hook", owner ? owner : "", -1, hook,
                        "ftrace_ops 0x%llx calls %s%s on %s", (unsigned long long)ops, where,
                        (flags & C32_FT_FL_IPMODIFY) ? " (IPMODIFY: diverts)" : "",
                        targets[0] ? targets : "every function");
}

int check_ftrace32(struct check_ctx *c)
{
    uint64_t stub = check_sym(c, "ftrace_stub");
    if (!stub)
        return 0; /* a kernel without function tracing */
    const struct linux_os *lx = linux_os(c->xa);
    if (strncmp(lx->release, "6.1.", 4) != 0)
        return xa__set_error(c->xa, XA_ENOTSUP, "ftrace: the 32-bit struct ftrace_ops layout "
                             "known is 6.1's (kernel %s)", lx->release[0] ? lx->release : "?");
    uint64_t data_end = check_sym(c, "__init_begin");
    if (data_end <= c->text_end)
        return xa__set_error(c->xa, XA_ENOTSUP, "ftrace: no __init_begin symbol: where the "
                                                "kernel's data ends is unknown");
    struct c32_mem m = {.read = read_mem, .ctx = c->xa, .page_offset = lx->page_offset};
    struct c32_ftrace ft;
    char why[256];
    /* by name when kallsyms has it (CONFIG_KALLSYMS_ALL): its shape is still checked */
    uint64_t named = check_sym(c, "ftrace_list_end");
    uint64_t lo = named ? named : c->text_end, hi = named ? named + 4 : data_end;
    int rc = c32_find_ftrace(&m, lo, hi, stub, &ft, why, sizeof(why));
    if (rc < 0)
        return xa__set_error(c->xa, rc, "ftrace: %s", why);
    rc = check_note(c, "ftrace_ops_list found by its shape at 0x%llx (%u ftrace_ops before "
                    "ftrace_list_end at 0x%llx)", (unsigned long long)ft.head, ft.nr_ops,
                    (unsigned long long)ft.list_end);
    if (rc)
        return rc;
    struct lx_ptrset seen = {0};
    uint32_t ops;
    if (lx_u32(c->xa, ft.head, &ops) < 0)
        rc = xa__set_error(c->xa, XA_EFAULT, "ftrace_ops_list unreadable");
    for (unsigned n = 0; rc == 0 && ops != ft.list_end; n++) {
        if (n >= C32_FT_MAX_OPS || !lx_kptr(c->xa, ops)) {
            rc = xa__set_error(c->xa, XA_EBADDATA, "ftrace_ops_list broken after %u entries", n);
            break;
        }
        int added = lx_ptrset_add(&seen, ops);
        if (added <= 0) {
            rc = added < 0 ? xa__set_error(c->xa, XA_ENOMEM, "out of memory")
                           : xa__set_error(c->xa, XA_ELIMIT, "ftrace_ops_list loops");
            break;
        }
        uint8_t o[C32_FT_HEAD];
        if (lx_read(c->xa, ops, o, sizeof(o)) < 0) {
            rc = xa__set_error(c->xa, XA_EFAULT, "ftrace_ops 0x%llx unreadable",
                               (unsigned long long)ops);
            break;
        }
        rc = judge_ops(c, ops, o);
        ops = u32_at(o, C32_FT_NEXT);
    }
    lx_ptrset_free(&seen);
    return rc;
}
