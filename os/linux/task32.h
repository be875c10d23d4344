/*
 * task32.h -- the task_struct layout of a 32-bit x86 Linux kernel that has
 * no BTF, inferred from the guest's own memory (task32.c).
 *
 * Pure code: guest memory is read through a callback, so the unit test and
 * the fuzz target run it over synthetic memory. Every guest value is
 * checked before use, every walk is bounded, and an inference that is not
 * unique is refused (docs/limits.md, "32-bit x86 kernels").
 */
#ifndef XA_OS_LINUX_TASK32_H
#define XA_OS_LINUX_TASK32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/linux/word32.h"

#define T32_MAX_RING 65536u     /* tasks followed on the list while inferring */
#define T32_MAX_STEPS (4u * T32_MAX_RING) /* list steps over all candidates */
#define T32_MIN_PREFIX 16u      /* an unclosed list this long is still used */
#define T32_SAMPLE 64u          /* tasks whose fields are compared */
#define T32_BEFORE 4096u        /* bytes of a task searched before its tasks list_head */
#define T32_COMM_BACK 2048u     /* tasks list_head searched this far before comm */
#define T32_MM_SPAN 256u        /* bytes of mm_struct searched for pgd */
#define T32_THREAD_SIZE 8192u   /* x86-32 kernel stacks: 2 pages, aligned to their size */
#define T32_PID_MAX 32768       /* PID_MAX_LIMIT with 4-byte longs */
#define T32_MAX_COMMS 8u        /* "swapper/0" candidates tried */
#define T32_PF_KTHREAD 0x00200000u
#define T32_TASK_DEAD 0x80u

struct t32_mem {
    /* Read @len bytes of kernel virtual memory at @va: 0 or a negative XA_E*. */
    int (*read)(void *ctx, uint64_t va, void *buf, size_t len);
    /* Is kernel address @pgd a page-table root whose kernel half is the
     * kernel's own (an mm_struct's pgd)? */
    bool (*root_ok)(void *ctx, uint64_t pgd);
    void *ctx;
    uint64_t page_offset; /* kernel pointers lie in [page_offset, 2^32) */
};

/* A kernel pointer of @m's kernel, and a 4-byte little-endian word read
 * through @m (0 on failure), for every inference over struct t32_mem. */
static inline bool t32_kptr(const struct t32_mem *m, uint64_t v)
{
    return w32_kptr(m->page_offset, v);
}

static inline int t32_rd32(const struct t32_mem *m, uint64_t va, uint32_t *out)
{
    uint8_t b[4];
    int rc = m->read(m->ctx, va, b, 4);
    *out = rc == 0 ? w32_le32(b) : 0;
    return rc;
}

/* Offsets in bytes from the start of task_struct (cred_* of struct cred,
 * mm_pgd of struct mm_struct). */
struct t32_layout {
    uint64_t init_task; /* address of init_task */
    uint32_t tasks, pid, tgid, comm, real_parent, mm, active_mm, real_cred, state, stack, flags;
    uint32_t mm_pgd;
    uint32_t cred_uid, cred_gid, cred_euid, cred_egid;
    uint32_t task_size; /* the part known: up to the end of comm */
    size_t ring_len;    /* tasks followed, init_task included */
    bool ring_complete; /* the list came back to init_task; else a prefix was used */
    char ring_end[160]; /* why an incomplete list stopped */
};

/* Addresses in [lo, hi) of a 16-byte comm holding "swapper/0" or "swapper"
 * padded with NULs; at most @max, *n of them. Unreadable chunks are skipped. */
void t32_find_comms(const struct t32_mem *m, uint64_t lo, uint64_t hi, uint64_t *found,
                    size_t max, size_t *n);

/* Infer the layout from init_task's comm at one of @comms. 0, or a negative
 * XA_E* with one line in @why (ambiguous, implausible, nothing found). */
int t32_infer(const struct t32_mem *m, const uint64_t *comms, size_t ncomms,
              struct t32_layout *out, char *why, size_t cap);

#endif /* XA_OS_LINUX_TASK32_H */
