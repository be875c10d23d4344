/* Test rootkit (c): replaces sys_call_table[__NR_kill] (Diamorphine's
 * technique): kallsyms_lookup_name found through a kprobe, the table
 * written with CR0.WP cleared. The hook passes every call on. */
#include <linux/module.h>
#include <linux/syscalls.h>
#include <asm/unistd.h>
#include "rk_common.h"

typedef long (*rk_syscall_fn)(const struct pt_regs *);
static unsigned long *table;
static rk_syscall_fn real_kill;

static long rk_kill_hook(const struct pt_regs *regs)
{
    return real_kill(regs);
}

/* write_cr0() pins WP since 5.3, so the bit is cleared by hand */
static inline void rk_write_cr0(unsigned long val)
{
    asm volatile("mov %0, %%cr0" : "+r"(val) : : "memory");
}

static int __init rk_syscall_init(void)
{
    rk_lookup_fn lookup = rk_find_lookup();
    unsigned long cr0;

    if (!lookup)
        return -ENOENT;
    table = (unsigned long *)lookup("sys_call_table");
    if (!table)
        return -ENOENT;
    real_kill = (rk_syscall_fn)table[__NR_kill];
    preempt_disable();
    cr0 = read_cr0();
    rk_write_cr0(cr0 & ~X86_CR0_WP);
    table[__NR_kill] = (unsigned long)rk_kill_hook;
    rk_write_cr0(cr0);
    preempt_enable();
    pr_info("rk_syscall: sys_call_table[%d] hooked\n", __NR_kill);
    return 0;
}
module_init(rk_syscall_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: sys_call_table entry");
