/*
 * synthetic_check32_views.h -- synthetic_task32.h's task list with the process
 * tree a 32-bit kernel keeps after real_parent: children and sibling
 * list_heads (real_parent + 8, + 16), group_leader (+ 24) and thread_pid
 * (+ 44) with a struct pid per task (6.1 686's layout), for the inference
 * in os/linux/check32_views.c. Shared by
 * tests/unit/test_check32_views.c and tests/fuzz/fuzz_check32_views.c.
 */
#ifndef XA_TEST_SYNTHETIC_CHECK32_VIEWS_H
#define XA_TEST_SYNTHETIC_CHECK32_VIEWS_H

#include "os/linux/check32_views.h"
#include "synthetic_task32.h"

#define C32S_CHILDREN 8u  /* after real_parent */
#define C32S_LEADER 24u
#define C32S_THREAD_PID 44u /* after real_parent; pid_links[] follow it */
#define C32S_PID_TASKS 12u  /* struct pid: count, level, lock, tasks[4] */
#define C32S_PID_NR 52u     /* numbers[0].nr; numbers[0].ns follows */
#define C32S_PIDS (S32_BASE + 0xF8000u) /* struct pid i at C32S_PIDS + 64 * i */
#define C32S_NS (S32_BASE + 0xFF000u)   /* init_pid_ns */

/* Link every task but init_task into its parent's children ring, in task
 * order; every task leads its own group. @t gets the sample. */
static inline void c32s_build(struct s32_guest *g, const struct s32_layout *l, uint32_t n,
                              struct p32_task *t)
{
    s32_build(g, l, n);
    for (uint32_t p = 0; p < n; p++) {
        uint32_t pt = s32_task(p), head = pt + l->real_parent + C32S_CHILDREN, last = head;
        s32_put(g, pt + l->real_parent + C32S_LEADER, pt);
        if (p) { /* the idle task's init_struct_pid is attached to nothing */
            uint32_t pid = C32S_PIDS + 64 * p, links = pt + l->real_parent + C32S_THREAD_PID + 4;
            s32_put(g, pt + l->real_parent + C32S_THREAD_PID, pid);
            s32_put(g, pid + C32S_PID_TASKS, links);          /* PIDTYPE_PID */
            s32_put(g, pid + C32S_PID_TASKS + 4, links + 8);  /* PIDTYPE_TGID */
            s32_put(g, links + 4, pid + C32S_PID_TASKS);      /* pprev */
            s32_put(g, links + 12, pid + C32S_PID_TASKS + 4);
            s32_put(g, pid + C32S_PID_NR, p);
            s32_put(g, pid + C32S_PID_NR + 4, C32S_NS);
        }
        for (uint32_t i = 1; i < n; i++) {
            uint32_t ct = s32_task(i), sib = ct + l->real_parent + C32S_CHILDREN + 8;
            if (s32_get(g, ct + l->real_parent) != pt)
                continue;
            s32_put(g, last, sib);  /* last->next */
            s32_put(g, sib + 4, last); /* sib->prev */
            last = sib;
        }
        s32_put(g, last, head);
        s32_put(g, head + 4, last);
        t[p] = (struct p32_task){.task = pt, .pid = p, .tgid = p};
    }
}

#endif /* XA_TEST_SYNTHETIC_CHECK32_VIEWS_H */
