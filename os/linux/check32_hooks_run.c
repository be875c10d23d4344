/*
 * check32_hooks_run.c -- the ftrace check of a 32-bit x86 kernel whose
 * kallsyms lists no data symbols: the chain found by its shape
 * (check32_hooks.c), then walked and judged by check_ftrace_chain(), the
 * amd64 check's walk, with the 4-byte layout (a callback outside the core
 * text is a hook; IPMODIFY says it diverts; its filter says where).
 */
#include <string.h>

#include "os/linux/check.h"
#include "os/linux/check32_hooks.h"

#define FUNC_ENTRY_IP 8u /* ftrace_func_entry: hlist_node (next, pprev), ip */

static int read_mem(void *ctx, uint64_t va, void *buf, size_t len)
{
    return lx_read(ctx, va, buf, len);
}

/* Debian 6.1's i386 struct ftrace_ops, ftrace_hash {size_bits; buckets;}
 * and ftrace_func_entry {hlist_node; ip;}. */
static const struct check_ftrace_layout layout32 = {
    .next = C32_FT_NEXT, .func = C32_FT_FUNC, .saved_func = C32_FT_SAVED_FUNC,
    .flags = C32_FT_FLAGS, .func_hash = C32_FT_FUNC_HASH, .filter_hash = C32_FT_HASH_FILTER,
    .hash_bits = 0, .hash_buckets = 4, .entry_ip = FUNC_ENTRY_IP,
};

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
    return check_ftrace_chain(c, ft.head, ft.list_end, &layout32);
}
