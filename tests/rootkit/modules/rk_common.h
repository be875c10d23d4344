/* rk_common.h -- shared by the test rootkits: kallsyms_lookup_name is not
 * exported since 5.7; the well-known way round is a kprobe on it, whose
 * resolved address the kprobe reports. */
#ifndef RK_COMMON_H
#define RK_COMMON_H
#include <linux/kprobes.h>

typedef unsigned long (*rk_lookup_fn)(const char *name);

static inline rk_lookup_fn rk_find_lookup(void)
{
    struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
    rk_lookup_fn fn;

    if (register_kprobe(&kp) < 0)
        return NULL;
    fn = (rk_lookup_fn)kp.addr;
    unregister_kprobe(&kp);
    return fn;
}
#endif
