/*
 * xenaccess_check.h -- cross-view checks for what a rootkit hides or hooks.
 *
 * Include <xenaccess.h> first. Each check walks two or more kernel views of
 * the same thing (the task list and the PID IDR, the module list and the
 * module kset, ...) or compares code pointers with the kernel's own text,
 * and reports every disagreement through a callback. docs/security.md says
 * what each check sees, how it can be evaded and what it costs.
 */
#ifndef XENACCESS_CHECK_H
#define XENACCESS_CHECK_H

#ifndef XENACCESS_H
#error "include <xenaccess.h>, not <xenaccess_check.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** The checks; each is one call of xa_check_run(). */
enum xa_check {
    XA_CHECK_PROCESSES = 1, /**< task list vs PID IDR, run queues, thread groups, process tree */
    XA_CHECK_MODULES,       /**< module list vs module kset, address tree, carve of module memory */
    XA_CHECK_SYSCALLS,      /**< sys_call_table, ia32_sys_call_table entries */
    XA_CHECK_IDT,           /**< interrupt gates (idt_table and the IDT the CPUs load) */
    XA_CHECK_FTRACE,        /**< ftrace_ops_list callbacks outside the kernel */
    XA_CHECK_KPROBES,       /**< every registered kprobe (kprobe_table) */
    XA_CHECK_BPF,           /**< every loaded eBPF program (prog_idr) */
    XA_CHECK_USER,          /**< anonymous executable memory, deleted executables, LD_PRELOAD */
    XA_CHECK_OPS,           /**< operation tables (/proc, /proc/net, tty, input handlers) */
    XA_CHECK_COUNT          /**< one past the last */
};

/** One thing found. Strings the guest chose (culprit, detail) are raw bytes:
 * escape them before display. */
struct xa_finding {
    enum xa_check check;
    const char *technique;  /**< static: "hidden-process", "syscall-hook", ... */
    char culprit[64];       /**< the owning module, program or process comm; "" unknown */
    int32_t pid;            /**< the process concerned, -1 when none */
    uint64_t addr;          /**< the hooking code, hidden object or region */
    char detail[256];       /**< what exactly: "sys_call_table[62] (kill) -> ..." */
    uint32_t flags;         /**< enum xa_finding_flags */
};

/** Flags of struct xa_finding. */
enum xa_finding_flags {
    /** Not a finding: something the check could not judge (a CPU whose IDTR
     * the target does not give), said so it is not silent. Not counted in
     * xa_check_run()'s result; culprit, pid and addr are empty. */
    XA_FINDING_NOTE = 1u << 0,
};

/** Called once per finding (and per note, see XA_FINDING_NOTE); a non-zero
 * return stops the check (it then returns that value). */
typedef int (*xa_finding_fn)(const struct xa_finding *f, void *ctx);

/** Short name of a check ("processes", "modules", ...), NULL if unknown. */
XA_API const char *xa_check_name(enum xa_check check);

/**
 * Run one check. Returns the number of findings (>= 0), or a negative XA_E*
 * when a walk stopped early: the findings reported before it still stand,
 * and xa_errmsg() says where it stopped. XA_ENOTSUP when the kernel lacks
 * what the check needs (a symbol, a BTF type).
 */
XA_API XA_NODISCARD int xa_check_run(struct xa_instance *xa, enum xa_check check,
                                     xa_finding_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* XENACCESS_CHECK_H */
