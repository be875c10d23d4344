/* Test rootkit (h): the classic tty keylogger hook. It replaces
 * receive_buf2 of the N_TTY line discipline (tty_ldiscs[N_TTY], the
 * n_tty_ops every terminal uses): each byte typed passes through it. The
 * hook only counts and passes every call on; unloading restores it. */
#include <linux/module.h>
#include <linux/tty.h>
#include <linux/tty_ldisc.h>
#include "rk_common.h"

typedef int (*rk_recv2_int_fn)(struct tty_struct *, const unsigned char *, const char *, int);

static struct tty_ldisc_ops *rk_ops;
static void *rk_real;
static atomic_long_t rk_bytes;

/* 6.1's receive_buf2 takes and returns int counts */
static int rk_receive_buf2(struct tty_struct *tty, const unsigned char *cp, const char *fp,
                           int count)
{
    atomic_long_add(count, &rk_bytes);
    return ((rk_recv2_int_fn)rk_real)(tty, cp, fp, count);
}

static int __init rk_tty_init(void)
{
    rk_lookup_fn lookup = rk_find_lookup();
    struct tty_ldisc_ops **ldiscs;

    if (!lookup)
        return -ENOENT;
    ldiscs = (struct tty_ldisc_ops **)lookup("tty_ldiscs");
    if (!ldiscs || !ldiscs[N_TTY] || !ldiscs[N_TTY]->receive_buf2)
        return -ENOENT;
    rk_ops = ldiscs[N_TTY];
    rk_real = rk_ops->receive_buf2;
    WRITE_ONCE(rk_ops->receive_buf2, rk_receive_buf2);
    pr_info("rk_tty: n_tty receive_buf2 hooked\n");
    return 0;
}

static void __exit rk_tty_exit(void)
{
    WRITE_ONCE(rk_ops->receive_buf2, rk_real);
    synchronize_rcu();
}
module_init(rk_tty_init);
module_exit(rk_tty_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: tty line discipline hook");
