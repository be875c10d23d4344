/*
 * synthetic_proc32.h -- 32-bit tasks in a flat buffer for the inference of
 * os/linux/proc32.c: task_structs with signal structs and thread rings (one
 * process has three more threads), mm_structs whose argument and
 * environment areas lie in each process's own "stack page", start times and
 * cpus; with decoys beside each field (thread_group, an empty list, sighand,
 * the code/data bounds before start_stack, context-switch counts before
 * start_time). The layout is a parameter, so a test checks the inference
 * finds whatever layout the kernel has. Shared by tests/unit/test_proc32.c
 * and tests/fuzz/fuzz_proc32.c.
 */
#ifndef XA_TEST_SYNTHETIC_PROC32_H
#define XA_TEST_SYNTHETIC_PROC32_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "os/linux/proc32.h"
#include "xa_errors.h"

#define P32S_PAGE_OFFSET 0xC0000000u
#define P32S_BASE 0xC1000000u
#define P32S_SIZE (1u << 20)
#define P32S_TASKS (P32S_BASE + 0x10000u) /* task i, init_task first, 4 KiB each */
#define P32S_THREADS (P32S_BASE + 0x40000u) /* the extra threads, 4 KiB each */
#define P32S_SIGNALS (P32S_BASE + 0x50000u) /* 256 bytes each */
#define P32S_MMS (P32S_BASE + 0x58000u)     /* 512 bytes each */
#define P32S_SIGHANDS (P32S_BASE + 0x60000u)
#define P32S_MAX 40u
#define P32S_THREADED 5u  /* the process with three more threads */
#define P32S_NTHREADS 3u
#define P32S_USTACK 0xBF000000u /* each process's stack page, at the same user address */
#define P32S_SUSPEND_AT 20u /* the guest was suspended before task 20 started */

struct p32s_layout {
    uint32_t pid, state, signal, thread_node, thread_head, arg_start, start_time;
};

/* Debian 6.1 686's offsets, and another kernel's (no thread_info). */
static const struct p32s_layout p32s_debian61 = {1108, 16, 1468, 1208, 16, 164, 1284};
static const struct p32s_layout p32s_other = {520, 4, 900, 560, 24, 132, 700};

struct p32s_guest {
    uint8_t mem[P32S_SIZE];
    uint8_t user[P32S_MAX][4096];
    struct p32s_layout l;
    struct p32_task t[P32S_MAX];
    uint32_t n;
};

static inline uint32_t p32s_task(uint32_t i)
{
    return P32S_TASKS + i * 0x1000u;
}

static inline uint32_t p32s_thread(uint32_t j)
{
    return P32S_THREADS + j * 0x1000u;
}

static inline uint32_t p32s_mm(uint32_t i)
{
    return P32S_MMS + i * 0x200u;
}

static inline void p32s_put(struct p32s_guest *g, uint32_t va, uint32_t v)
{
    memcpy(g->mem + (va - P32S_BASE), &v, 4);
}

static inline void p32s_put64(struct p32s_guest *g, uint32_t va, uint64_t v)
{
    memcpy(g->mem + (va - P32S_BASE), &v, 8);
}

static inline uint32_t p32s_get(const struct p32s_guest *g, uint32_t va)
{
    uint32_t v;
    memcpy(&v, g->mem + (va - P32S_BASE), 4);
    return v;
}

/* As synthetic_task32.h: 0 init_task, 1 init, 2 kthreadd, every third a
 * kernel thread, the rest user processes. */
static inline bool p32s_kthread(uint32_t i)
{
    return i == 0 || i == 2 || (i >= 3 && i % 3 == 0);
}

/* The fields of one task (leader or thread) of thread group @tgid. */
static inline void p32s_task_fields(struct p32s_guest *g, uint32_t t, uint32_t pid, uint32_t tgid,
                                    uint32_t sig, uint32_t cpu, uint64_t start)
{
    const struct p32s_layout *l = &g->l;
    p32s_put(g, t + l->pid, pid);
    p32s_put(g, t + l->pid + 4, tgid);
    p32s_put(g, t + l->state, 1);
    if (l->state == 16)
        p32s_put(g, t + 12, cpu); /* thread_info.cpu */
    p32s_put(g, t + l->signal, sig);
    p32s_put(g, t + l->signal + 4, P32S_SIGHANDS + tgid * 0x100u); /* sighand */
    /* an empty list_head after thread_node (children, say) */
    p32s_put(g, t + l->thread_node + 40, t + l->thread_node + 40);
    p32s_put(g, t + l->thread_node + 44, t + l->thread_node + 40);
    /* nvcsw, nivcsw, then start_time and start_boottime */
    p32s_put(g, t + l->start_time - 8, pid + 7);
    p32s_put(g, t + l->start_time - 4, 3);
    p32s_put64(g, t + l->start_time, start);
    uint64_t boot = start ? start + (pid % 7) * 100u : 0; /* read a moment later */
    if (start && (tgid >= P32S_SUSPEND_AT || pid >= 100))
        boot += 5000000000ull;
    p32s_put64(g, t + l->start_time + 8, boot);
}

/* Link @nodes (list_head addresses) into a ring through @head. */
static inline void p32s_ring(struct p32s_guest *g, uint32_t head, const uint32_t *nodes, size_t n)
{
    uint32_t prev = head;
    for (size_t k = 0; k <= n; k++) {
        uint32_t cur = k < n ? nodes[k] : head;
        p32s_put(g, prev, cur);
        p32s_put(g, cur + 4, prev);
        prev = cur;
    }
}

/* A user process's stack page: start_stack, then "prog-N" "-v", then the
 * environment, then the executable's path. argv[0] names the comm in odd
 * processes; init is named by its executable's path only. */
static inline void p32s_user(struct p32s_guest *g, uint32_t i)
{
    uint8_t *u = g->user[i];
    uint32_t mm = p32s_mm(i), o = g->l.arg_start;
    char args[64], env[] = "A=1\0HOME=/", exe[32];
    int alen = i == 1 ? snprintf(args, sizeof(args), "/bin/busybox%c-sh", 0)
                      : i % 2 ? snprintf(args, sizeof(args), "/usr/bin/prog-%u%c-v", i, 0)
                              : snprintf(args, sizeof(args), "/usr/bin/other%c-v", 0);
    snprintf(exe, sizeof(exe), i == 1 ? "/init" : "/usr/bin/x%u", i);
    uint32_t arg = 0x800, env_at = arg + (uint32_t)alen + 1, end = env_at + sizeof(env);
    memcpy(u + arg, args, (size_t)alen + 1);
    memcpy(u + env_at, env, sizeof(env));
    memcpy(u + end, exe, strlen(exe) + 1);
    /* start_code, end_code, start_data, end_data, start_brk, brk, start_stack */
    const uint32_t before[] = {0x08048000u, 0x08049000u, 0x08049000u, 0x0804a000u, 0x09000000u,
                               0x09100000u, P32S_USTACK + 0x100};
    for (size_t k = 0; k < 7; k++)
        p32s_put(g, mm + o - 28 + 4 * (uint32_t)k, before[k]);
    p32s_put(g, mm + o, P32S_USTACK + arg);
    p32s_put(g, mm + o + 4, P32S_USTACK + env_at);
    p32s_put(g, mm + o + 8, P32S_USTACK + env_at);
    p32s_put(g, mm + o + 12, P32S_USTACK + end);
    p32s_put(g, mm + o + 16, 32); /* saved_auxv[0]: AT_SYSINFO */
}

static inline void p32s_build(struct p32s_guest *g, const struct p32s_layout *l, uint32_t n)
{
    memset(g->mem, 0, sizeof(g->mem));
    memset(g->user, 0, sizeof(g->user));
    memset(g->t, 0, sizeof(g->t));
    g->l = *l;
    g->n = n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = p32s_task(i), sig = P32S_SIGNALS + i * 0x100u;
        bool kt = p32s_kthread(i);
        uint64_t start = i == 0 ? 0 : 200000000ull + i * 1000003ull;
        p32s_task_fields(g, t, i, i, sig, i % 2, start);
        p32s_put(g, P32S_SIGHANDS + i * 0x100u + 8, P32S_SIGHANDS + i * 0x100u + 8);
        p32s_put(g, P32S_SIGHANDS + i * 0x100u + 12, P32S_SIGHANDS + i * 0x100u + 8);
        p32s_put(g, sig, 1); /* sigcnt */
        uint32_t nodes[1 + P32S_NTHREADS] = {t + l->thread_node};
        size_t nn = 1;
        if (i == P32S_THREADED)
            for (uint32_t j = 0; j < P32S_NTHREADS; j++) {
                uint32_t th = p32s_thread(j);
                p32s_task_fields(g, th, 100 + j, i, sig, j % 2, start + 1000 + j);
                nodes[nn++] = th + l->thread_node;
            }
        p32s_ring(g, sig + l->thread_head, nodes, nn);
        /* thread_group: the threads' own ring, with no head */
        uint32_t group[1 + P32S_NTHREADS];
        for (size_t k = 0; k < nn; k++)
            group[k] = nodes[k] - 8;
        p32s_ring(g, group[0], group + 1, nn - 1);
        struct p32_task *pt = &g->t[i];
        pt->task = t;
        pt->pid = pt->tgid = i;
        if (i == 0)
            snprintf(pt->comm, sizeof(pt->comm), "swapper/0");
        else if (i == 1)
            snprintf(pt->comm, sizeof(pt->comm), "init");
        else if (kt)
            snprintf(pt->comm, sizeof(pt->comm), i % 2 ? "ksoftirqd/1" : "kworker/%u", i);
        else
            snprintf(pt->comm, sizeof(pt->comm), "prog-%u", i);
        if (!kt) {
            pt->mm = p32s_mm(i);
            p32s_user(g, i);
        }
    }
}

static inline int p32s_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    const struct p32s_guest *g = ctx;
    if (va < P32S_BASE || va > P32S_BASE + (uint64_t)P32S_SIZE ||
        len > P32S_BASE + (uint64_t)P32S_SIZE - va)
        return XA_EFAULT;
    memcpy(buf, g->mem + (va - P32S_BASE), len);
    return 0;
}

static inline int p32s_read_user(void *ctx, uint64_t mm, uint64_t va, void *buf, size_t len)
{
    const struct p32s_guest *g = ctx;
    if (mm < P32S_MMS || (mm - P32S_MMS) % 0x200u || (mm - P32S_MMS) / 0x200u >= g->n ||
        va < P32S_USTACK || va > P32S_USTACK + 4096ull || len > P32S_USTACK + 4096ull - va)
        return XA_EFAULT;
    memcpy(buf, g->user[(mm - P32S_MMS) / 0x200u] + (va - P32S_USTACK), len);
    return 0;
}

static inline struct t32_mem p32s_mem(struct p32s_guest *g)
{
    return (struct t32_mem){.read = p32s_read, .ctx = g, .page_offset = P32S_PAGE_OFFSET};
}

static inline struct p32_known p32s_known(const struct p32s_guest *g)
{
    return (struct p32_known){.pid = g->l.pid, .tgid = g->l.pid + 4, .state = g->l.state};
}

#endif /* XA_TEST_SYNTHETIC_PROC32_H */
