/* Test rootkit (e): a kprobe on a VFS function (how keyloggers and file
 * hiders watch opens without patching anything). */
#include <linux/module.h>
#include <linux/kprobes.h>

static int rk_pre(struct kprobe *p, struct pt_regs *regs)
{
    return 0;
}

static struct kprobe rk_kp = {
    .symbol_name = "vfs_read",
    .pre_handler = rk_pre,
};

static int __init rk_kprobe_init(void)
{
    int err = register_kprobe(&rk_kp);

    if (err)
        return err;
    pr_info("rk_kprobe: kprobe on vfs_read at %px\n", rk_kp.addr);
    return 0;
}
static void __exit rk_kprobe_exit(void)
{
    unregister_kprobe(&rk_kp);
}
module_init(rk_kprobe_init);
module_exit(rk_kprobe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: kprobe");
