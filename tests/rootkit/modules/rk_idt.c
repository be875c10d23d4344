/* Test rootkit (g): loads an IDT of its own on every CPU. The table is a
 * copy of the one the CPUs use, in the module's own page, made live with
 * lidt on each CPU (on_each_cpu): idt_table and its CPU-entry-area alias
 * stay untouched, only the IDTR moves (the published IDT-hooking technique
 * of copying the table, then changing gates in the copy; here the gates
 * stay as they were so the guest keeps running). Unloading restores the
 * IDTR. Without PTI only: with it, the copy would have to be mapped in the
 * user page tables too. */
#include <linux/module.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/desc.h>

static gate_desc rk_table[IDT_ENTRIES] __aligned(PAGE_SIZE);
static struct desc_ptr rk_saved;

static void rk_lidt(void *arg)
{
    const struct desc_ptr *d = arg;

    asm volatile("lidt %0" : : "m"(*d));
}

static int __init rk_idt_init(void)
{
    struct desc_ptr mine;

    if (boot_cpu_has(X86_FEATURE_PTI)) {
        pr_err("rk_idt: page-table isolation is on\n");
        return -EOPNOTSUPP;
    }
    asm volatile("sidt %0" : "=m"(rk_saved));
    if (rk_saved.size + 1 > sizeof(rk_table))
        return -EINVAL;
    memcpy(rk_table, (void *)rk_saved.address, rk_saved.size + 1);
    mine.address = (unsigned long)rk_table;
    mine.size = rk_saved.size;
    on_each_cpu(rk_lidt, &mine, 1);
    pr_info("rk_idt: every CPU loads the IDT at %px\n", rk_table);
    return 0;
}

static void __exit rk_idt_exit(void)
{
    on_each_cpu(rk_lidt, &rk_saved, 1);
    pr_info("rk_idt: IDTR restored\n");
}
module_init(rk_idt_init);
module_exit(rk_idt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: lidt of a copied IDT");
