/*
 * synthetic_task32.h -- a 32-bit kernel's task list in a flat buffer, for
 * the task-layout inference (os/linux/task32.c): init_task in the "image",
 * tasks, mm_structs, roots, creds and stacks in the "heap", all at kernel
 * addresses [S32_BASE, S32_BASE + S32_SIZE). The layout is a parameter, so
 * a test can check the inference finds whatever layout the kernel has.
 * Shared by tests/unit/test_task32.c and tests/fuzz/fuzz_task32.c.
 */
#ifndef XA_TEST_SYNTHETIC_TASK32_H
#define XA_TEST_SYNTHETIC_TASK32_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "os/linux/task32.h"
#include "xa_errors.h"

#define S32_PAGE_OFFSET 0xC0000000u
#define S32_BASE 0xC1000000u
#define S32_SIZE (1u << 20)
#define S32_INIT_TASK (S32_BASE + 0x10000u) /* "image" data */
#define S32_TASKS (S32_BASE + 0x20000u)     /* task i at S32_TASKS + (i - 1) * S32_TASK_STRIDE */
#define S32_TASK_STRIDE 0x1000u
#define S32_MMS (S32_BASE + 0x60000u)
#define S32_ROOTS (S32_BASE + 0x68000u)
#define S32_CREDS (S32_BASE + 0x6a000u)
#define S32_INIT_CRED (S32_BASE + 0x6c000u)
#define S32_INIT_MM (S32_BASE + 0x6d000u)
#define S32_STACKS (S32_BASE + 0x70000u) /* 8 KiB each, aligned: up to 64 tasks */
#define S32_MAX_TASKS 60u
#define S32_ROOT_MAGIC 0x52303054u

struct s32_layout {
    uint32_t tasks, pid, comm, real_parent, mm, real_cred, stack, mm_pgd;
};

/* Debian 6.1 686-pae's offsets, and another kernel's (older thread_info). */
static const struct s32_layout s32_debian61 = {968, 1108, 1412, 1120, 1008, 1400, 20, 28};
static const struct s32_layout s32_other = {400, 520, 760, 532, 440, 748, 8, 36};

struct s32_guest {
    uint8_t mem[S32_SIZE];
    struct s32_layout l;
    uint32_t n;
};

static inline uint32_t s32_task(uint32_t i)
{
    return i == 0 ? S32_INIT_TASK : S32_TASKS + (i - 1) * S32_TASK_STRIDE;
}

static inline void s32_put(struct s32_guest *g, uint32_t va, uint32_t v)
{
    memcpy(g->mem + (va - S32_BASE), &v, 4);
}

static inline uint32_t s32_get(const struct s32_guest *g, uint32_t va)
{
    uint32_t v;
    memcpy(&v, g->mem + (va - S32_BASE), 4);
    return v;
}

/* Task 0 is init_task, 1 init, 2 kthreadd; then every third a kernel
 * thread (kthreadd's child), the rest user processes (init's). */
static inline bool s32_kthread(uint32_t i)
{
    return i == 0 || i == 2 || (i >= 3 && i % 3 == 0);
}

static inline void s32_build(struct s32_guest *g, const struct s32_layout *l, uint32_t n)
{
    memset(g->mem, 0, sizeof(g->mem));
    g->l = *l;
    g->n = n;
    /* init_cred and init_mm */
    s32_put(g, S32_INIT_CRED, 90);
    s32_put(g, S32_INIT_MM, 1);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = s32_task(i), node = t + l->tasks;
        uint32_t next = s32_task((i + 1) % n) + l->tasks, prev = s32_task((i + n - 1) % n) + l->tasks;
        s32_put(g, node, next);
        s32_put(g, node + 4, prev);
        bool kt = s32_kthread(i);
        s32_put(g, t + l->stack - 4, 1);                                  /* __state */
        s32_put(g, t + l->stack, S32_STACKS + i * 8192);                  /* stack */
        s32_put(g, t + l->stack + 4, 2);                                  /* usage */
        s32_put(g, t + l->stack + 8, kt ? 0x00200040u : 0x00400100u);    /* flags */
        s32_put(g, t + l->pid, i);
        s32_put(g, t + l->pid + 4, i);
        uint32_t parent = i <= 2 ? S32_INIT_TASK : kt ? s32_task(2) : s32_task(1);
        s32_put(g, t + l->real_parent, parent);
        s32_put(g, t + l->real_parent + 4, parent);
        /* An empty list_head (children) and a self pointer: not the task list. */
        s32_put(g, t + l->real_parent + 8, t + l->real_parent + 8);
        s32_put(g, t + l->real_parent + 12, t + l->real_parent + 8);
        if (!kt) {
            uint32_t mm = S32_MMS + i * 512, root = S32_ROOTS + i * 32;
            s32_put(g, t + l->mm, mm);
            s32_put(g, t + l->mm + 4, mm);
            s32_put(g, mm, S32_INIT_MM); /* a kernel pointer that is no root */
            s32_put(g, mm + l->mm_pgd, root);
            s32_put(g, root, S32_ROOT_MAGIC);
            uint32_t cred = S32_CREDS + i * 64;
            s32_put(g, cred, 1);
            for (uint32_t k = 1; k <= 8; k++)
                s32_put(g, cred + 4 * k, 1000 + i);
            s32_put(g, t + l->real_cred, cred);
            s32_put(g, t + l->real_cred + 4, cred);
        } else {
            s32_put(g, t + l->mm + 4, i == 0 ? S32_INIT_MM : 0);
            /* init_cred in init_task, a copy of root's in the others */
            uint32_t cred = i == 0 ? S32_INIT_CRED : S32_CREDS + i * 64;
            s32_put(g, cred, 3);
            s32_put(g, t + l->real_cred, cred);
            s32_put(g, t + l->real_cred + 4, cred);
        }
        char comm[16] = {0};
        if (i == 0)
            snprintf(comm, sizeof(comm), "swapper/0");
        else if (i == 1)
            snprintf(comm, sizeof(comm), "init");
        else if (i == 2)
            snprintf(comm, sizeof(comm), "kthreadd");
        else
            snprintf(comm, sizeof(comm), kt ? "kworker/%u" : "proc-%u", i);
        memcpy(g->mem + (t + l->comm - S32_BASE), comm, 16);
    }
}

static inline int s32_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    const struct s32_guest *g = ctx;
    if (va < S32_BASE || va > S32_BASE + (uint64_t)S32_SIZE || len > S32_BASE + (uint64_t)S32_SIZE - va)
        return XA_EFAULT;
    memcpy(buf, g->mem + (va - S32_BASE), len);
    return 0;
}

static inline bool s32_root_ok(void *ctx, uint64_t pgd)
{
    uint32_t v;
    return s32_read(ctx, pgd, &v, 4) == 0 && v == S32_ROOT_MAGIC;
}

static inline struct t32_mem s32_mem(struct s32_guest *g)
{
    return (struct t32_mem){.read = s32_read, .root_ok = s32_root_ok, .ctx = g,
                            .page_offset = S32_PAGE_OFFSET};
}

#endif /* XA_TEST_SYNTHETIC_TASK32_H */
