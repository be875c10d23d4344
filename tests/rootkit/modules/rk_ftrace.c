/* Test rootkit (d): hooks a syscall through ftrace with IPMODIFY (the
 * ftrace-hook technique of modern rootkits such as Reptile's successors):
 * the callback moves the instruction pointer to a wrapper, which calls the
 * real function past its fentry call. */
#include <linux/module.h>
#include <linux/ftrace.h>
#include <linux/ptrace.h>
#include "rk_common.h"

typedef long (*rk_syscall_fn)(const struct pt_regs *);
static unsigned long target;
static rk_syscall_fn real_fn;

static long rk_getdents64_hook(const struct pt_regs *regs)
{
    return real_fn(regs);
}

static void notrace rk_ftrace_cb(unsigned long ip, unsigned long parent_ip,
                                 struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
    if (!within_module(parent_ip, THIS_MODULE))
        ftrace_instruction_pointer_set(fregs, (unsigned long)rk_getdents64_hook);
}

static struct ftrace_ops rk_ops = {
    .func = rk_ftrace_cb,
    .flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_IPMODIFY,
};

static int __init rk_ftrace_init(void)
{
    rk_lookup_fn lookup = rk_find_lookup();
    int err;

    if (!lookup)
        return -ENOENT;
    target = lookup("__x64_sys_getdents64");
    if (!target)
        return -ENOENT;
    real_fn = (rk_syscall_fn)(target + MCOUNT_INSN_SIZE);
    err = ftrace_set_filter_ip(&rk_ops, target, 0, 0);
    if (err)
        return err;
    err = register_ftrace_function(&rk_ops);
    if (err)
        return err;
    pr_info("rk_ftrace: __x64_sys_getdents64 hooked\n");
    return 0;
}
module_init(rk_ftrace_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: ftrace IPMODIFY hook");
