/*
 * check32_hooks.h -- the ftrace callback chain of a 32-bit x86 kernel whose
 * kallsyms lists no data symbols (no ftrace_ops_list, no ftrace_list_end),
 * found by its shape (check32_hooks.c).
 *
 *   ftrace_list_end: the struct ftrace_ops that ends the chain: func is
 *     ftrace_stub, next is NULL, flags has FTRACE_OPS_FL_STUB, and
 *     INIT_OPS_HASH points its func_hash at its own local_hash and its
 *     regex_lock's wait_list at itself. One place, or refused.
 *   ftrace_ops_list: a pointer near it (same file, __read_mostly) to the
 *     chain of ftrace_ops ending there. Other pointers there reach the same
 *     chain or a tail of it (function_trace_op, a static ops' next); the
 *     longest is the list, and one that is no tail of it refuses.
 *
 * Pure code over c32_mem (check32_tables.h): the unit test runs it over
 * synthetic memory. Offsets are those of Debian's 6.1 i386 struct
 * ftrace_ops (4-byte pointers); the list end's own self-pointers witness
 * them.
 */
#ifndef XA_OS_LINUX_CHECK32_HOOKS_H
#define XA_OS_LINUX_CHECK32_HOOKS_H

#include <stdint.h>

#include "os/linux/check32_tables.h"

#define C32_FT_FUNC 0u
#define C32_FT_NEXT 4u
#define C32_FT_FLAGS 8u
#define C32_FT_SAVED_FUNC 16u
#define C32_FT_LOCAL_HASH 20u
#define C32_FT_WAIT_LIST 40u  /* local_hash.regex_lock.wait_list */
#define C32_FT_FUNC_HASH 48u
#define C32_FT_HEAD 52u       /* bytes read of each ftrace_ops */
#define C32_FT_HASH_FILTER 4u /* ftrace_ops_hash.filter_hash */
#define C32_FT_FL_STUB 0x20u  /* FTRACE_OPS_FL_STUB */
#define C32_FT_FL_IPMODIFY 0x1000u
#define C32_FT_MAX_OPS 4096u  /* ftrace_ops on the chain */
#define C32_FT_WINDOW 0x10000u /* bytes either side of the list end searched for the list */
#define C32_FT_MAX_READS 1000000u /* node reads over all candidate walks */
#define C32_FT_MAX_HEADS 64u

struct c32_ftrace {
    uint64_t list_end; /* ftrace_list_end */
    uint64_t head;     /* ftrace_ops_list (the pointer) */
    uint32_t nr_ops;   /* ftrace_ops on the chain before the end */
};

/* Find ftrace_list_end in [lo, hi) (the kernel's data, at most
 * C32_MAX_SPAN) from @stub (ftrace_stub's address), then ftrace_ops_list
 * within C32_FT_WINDOW of it. 0 with *out, or a negative XA_E* with one
 * line in @why. */
int c32_find_ftrace(const struct c32_mem *m, uint64_t lo, uint64_t hi, uint64_t stub,
                    struct c32_ftrace *out, char *why, size_t cap);

/* check32_hooks_run.c: the ftrace check of a 32-bit kernel without data
 * symbols (check_hooks.c hands it over). */
struct check_ctx;
int check_ftrace32(struct check_ctx *c);

#endif /* XA_OS_LINUX_CHECK32_HOOKS_H */
