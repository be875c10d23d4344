/*
 * proc32.h -- the offsets procinfo.c needs (threads, command line and
 * environment, start time, cpu) on a 32-bit x86 kernel without BTF,
 * inferred from the guest's own tasks (proc32.c).
 *
 * Pure code, as task32.h: kernel memory through struct t32_mem, a process's
 * user memory through a second callback, the tasks (from the process walk,
 * whose layout task32.c inferred) as an array. Every walk is bounded, both
 * links of every list node are checked, and a step with more than one
 * answer refuses in one line.
 */
#ifndef XA_OS_LINUX_PROC32_H
#define XA_OS_LINUX_PROC32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/linux/task32.h"

#define P32_SAMPLE 1024u      /* tasks compared, init_task first, in list order */
#define P32_TASK_SPAN 4096u   /* bytes of task_struct searched from its start */
#define P32_SIGNAL_SPAN 256u  /* bytes of signal_struct searched for thread_head */
#define P32_MM_SPAN 512u      /* bytes of mm_struct searched for arg_start */
#define P32_MAX_THREADS 4096u /* threads followed on one ring while inferring */
#define P32_CANDIDATES 8u     /* processes whose memory proposes candidates */
#define P32_EARLY 16u         /* tasks after init_task whose start times are ordered */
#define P32_ARGS_MAX (8u << 20)  /* argument + environment area at most */
#define P32_FIRST_HOUR 3600000000000ull /* ns: the first tasks start within it */

/* One task as the process walk found it. */
struct p32_task {
    uint64_t task, mm; /* mm 0 for a kernel thread */
    uint32_t pid, tgid;
    char comm[16];
};

/* What task32.c already knows of task_struct. */
struct p32_known {
    uint32_t pid, tgid, state;
};

/* Read @len bytes at user address @va in the address space of mm @mm. */
typedef int (*p32_user_fn)(void *ctx, uint64_t mm, uint64_t va, void *buf, size_t len);

struct p32_threads {
    uint32_t signal;      /* task_struct.signal */
    uint32_t thread_node; /* task_struct.thread_node */
    uint32_t thread_head; /* signal_struct.thread_head */
    size_t fits, tried;   /* processes whose ring agreed, of those read */
    size_t multi;         /* of them with more than one thread */
};

/* task_struct.signal/thread_node and signal_struct.thread_head. 0, or a
 * negative XA_E* with one line in @why. */
int p32_find_threads(const struct t32_mem *m, const struct p32_known *k,
                     const struct p32_task *t, size_t n, struct p32_threads *out, char *why,
                     size_t cap);

/* mm_struct.arg_start (arg_end, env_start, env_end follow it). */
int p32_find_args(const struct t32_mem *m, p32_user_fn user, void *uctx,
                  const struct p32_task *t, size_t n, uint32_t *arg_start, char *why, size_t cap);

/* task_struct.start_boottime (start_time is the u64 before it); @t in list
 * order, init_task first. */
int p32_find_start(const struct t32_mem *m, const struct p32_task *t, size_t n,
                   uint32_t *start_boottime, char *why, size_t cap);

/* thread_info.cpu: the last word of a 16-byte thread_info at the start of
 * task_struct (x86 SMP, 5.16+), checked against per-CPU kernel threads
 * ("ksoftirqd/N" runs on CPU N). */
int p32_find_cpu(const struct t32_mem *m, const struct p32_known *k, const struct p32_task *t,
                 size_t n, uint32_t *cpu, char *why, size_t cap);

#endif /* XA_OS_LINUX_PROC32_H */
