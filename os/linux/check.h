/*
 * check.h -- what the rootkit checks (check_*.c) share. Internal.
 *
 *   check.c          dispatch, findings, the owner of an address
 *   check_xarray.c   bounded walk of an IDR / xarray (PIDs, eBPF programs)
 *   check_tasks.c    hidden processes
 *   check_modules.c  hidden modules
 *   check_carve.c    struct module carved from module memory
 *   check_tables.c   sys_call_table, IDT and operation-table entries
 *   check_input.c    tty line disciplines and drivers, input handlers
 *   check_hooks.c    ftrace callbacks and kprobes
 *   check_bpf.c      loaded eBPF programs
 *   check_user.c     anonymous executable memory, deleted executables, LD_PRELOAD
 */
#ifndef XA_OS_LINUX_CHECK_H
#define XA_OS_LINUX_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/linux/linux.h"
#include "os/linux/lxpriv.h"
#include "xenaccess_check.h"

/* Most modules the owner table holds (listed and hidden together). */
#define CHECK_MAX_OWNERS 4096u

struct check_owner {
    uint64_t module, base, size;
    char name[XA_MODULE_NAME_LEN + 1];
};

struct check_ctx {
    struct xa_instance *xa;
    enum xa_check which;
    xa_finding_fn fn;
    void *cb_ctx;
    int found;     /* findings reported */
    int stop;      /* the callback's non-zero answer */
    uint64_t text_start, text_end; /* core kernel text: [_stext, _etext) */
    /* Modules that own addresses: the module list plus those found hidden. */
    struct check_owner *owners;
    size_t nr_owners;
    bool owners_loaded;
};

int linux_check(struct xa_instance *xa, enum xa_check which, xa_finding_fn fn, void *ctx);

/* check_hooks.c: up to 4 functions of the ftrace_hash at @hash, as "a, b",
 * into @buf (empty when unreadable); words of the kernel's width. */
void check_hash_functions(struct check_ctx *c, uint64_t hash, uint64_t bits_off,
                          uint64_t buckets_off, uint64_t ip_off, char *buf, size_t cap);

/* Where struct ftrace_ops's fields are (the kernel's BTF, or the 32-bit
 * layout of check32_hooks.h); LX_NO_OFFSET: not known. */
struct check_ftrace_layout {
    uint64_t next, func, saved_func, flags, func_hash, filter_hash; /* ftrace_ops(_hash) */
    uint64_t hash_bits, hash_buckets, entry_ip; /* ftrace_hash, ftrace_func_entry */
};
/* check_hooks.c: every ftrace_ops from the one that the pointer at @list
 * names to @end (ftrace_list_end), words of the kernel's width, at most
 * 4096, each pointer checked and a loop refused; a callback outside the core
 * text is reported with the functions it filters on. 0 or an error set. */
int check_ftrace_chain(struct check_ctx *c, uint64_t list, uint64_t end,
                       const struct check_ftrace_layout *l);

/* check_hidden.c: hidden processes, each leader once with the views
 * (bits) that reached it; view_names[bit] names each in the finding. */
#define CHECK_MAX_HIDDEN_TASKS 4096u
struct check_hidden_task {
    uint64_t leader;
    unsigned views;
    int32_t tgid;
    char comm[XA_COMM_LEN + 1];
};
struct check_hidden_tasks {
    struct check_hidden_task *v;
    size_t n;
    const char *const *view_names;
    unsigned nr_views;
};
/* @leader already found: add @view to it and say true. */
bool check_hidden_mark(struct check_hidden_tasks *h, uint64_t leader, unsigned view);
/* Add @leader, its tgid and comm read at those offsets (an idle task, tgid
 * 0, is not added). 0 or a negative XA_E*. */
int check_hidden_add(struct check_ctx *c, struct check_hidden_tasks *h, uint64_t leader,
                     unsigned view, uint64_t tgid_off, uint64_t comm_off);
/* Report each one found ("hidden-process"), free them; returns @rc, or the
 * callback's stop code when @rc is 0. */
int check_hidden_report_all(struct check_ctx *c, struct check_hidden_tasks *h, int rc);

/* Report one finding; @culprit and @detail may be NULL. Returns the
 * callback's non-zero answer (the check then stops), else 0. */
int check_report(struct check_ctx *c, const char *technique, const char *culprit, int32_t pid,
                 uint64_t addr, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static inline bool check_in_core_text(const struct check_ctx *c, uint64_t addr)
{
    return addr >= c->text_start && addr < c->text_end;
}

/* Say what the check could not judge (XA_FINDING_NOTE, not counted). */
int check_note(struct check_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Add a module to the owner table (check_modules.c adds hidden ones). */
int check_owner_add(struct check_ctx *c, uint64_t module);
/* Name of the module whose core memory holds @addr, NULL if none. */
const char *check_owner_of(struct check_ctx *c, uint64_t addr);
/* The module whose core memory holds @addr, or the one whose struct
 * module is at @module; NULL if none. Valid until the check ends. */
const struct check_owner *check_owner_at(struct check_ctx *c, uint64_t addr);
const struct check_owner *check_owner_by_module(struct check_ctx *c, uint64_t module);
/* "name+0xoff" for core kernel addresses, "[module]+0xoff" in a module,
 * else "0x...", into @buf. */
const char *check_describe(struct check_ctx *c, uint64_t addr, char *buf, size_t cap);

/* check_modules.c: call @fn for each struct module behind the module
 * kset's kobjects (listed or not); non-zero from @fn stops the walk. */
typedef int (*check_module_fn)(struct check_ctx *c, uint64_t module, void *arg);
int check_kset_foreach(struct check_ctx *c, check_module_fn fn, void *arg);
/* check_modules.c: the same over the module address tree (mod_tree), each
 * module once per tree node it has (core and init layouts). */
int check_modtree_foreach(struct check_ctx *c, check_module_fn fn, void *arg);
/* check_carve.c: the same for every struct module found in the module
 * area's mapped pages (x86-64 page tables; XA_ENOTSUP otherwise). */
int check_carve_foreach(struct check_ctx *c, check_module_fn fn, void *arg);

/* BTF member offset or LX_NO_OFFSET. */
uint64_t check_off(struct check_ctx *c, const char *type, const char *member);
/* A symbol's address or 0. */
uint64_t check_sym(struct check_ctx *c, const char *name);

/* check_xarray.c: call @fn for every present entry of the xarray whose
 * xa_head is at @head_addr (an IDR's idr_rt), at most @max entries. @fn
 * returns non-zero to stop. Negative on a broken tree. */
typedef int (*check_xa_fn)(struct check_ctx *c, uint64_t index, uint64_t entry, void *arg);
int check_xarray_walk(struct check_ctx *c, uint64_t head_addr, uint64_t max, const char *what,
                      check_xa_fn fn, void *arg);

int check_processes(struct check_ctx *c);
int check_modules(struct check_ctx *c);
int check_syscalls(struct check_ctx *c);
int check_idt(struct check_ctx *c);
int check_ftrace(struct check_ctx *c);
int check_kprobes(struct check_ctx *c);
int check_bpf(struct check_ctx *c);
int check_user(struct check_ctx *c);
int check_ops(struct check_ctx *c);
int check_terminals(struct check_ctx *c); /* part of check_ops */

#endif /* XA_OS_LINUX_CHECK_H */
