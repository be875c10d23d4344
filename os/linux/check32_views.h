/*
 * check32_views.h -- the second views the rootkit checks need on a 32-bit
 * x86 kernel without BTF or data symbols (Debian's 686 kernels), found
 * from the guest's own tasks (check32_views.c, pure) and used by
 * check32_views_tasks.c (hidden processes) and check32_views_modules.c
 * (the module carve).
 *
 * task_struct keeps, in every kernel since 2.6.24:
 *     struct task_struct *real_parent, *parent;
 *     struct list_head children, sibling;
 *     struct task_struct *group_leader;
 * task32.c infers real_parent; children (with sibling right after it) and
 * group_leader are searched after it and must hold for every sampled task,
 * with one answer. Every walk is bounded and checks both links.
 */
#ifndef XA_OS_LINUX_CHECK32_VIEWS_H
#define XA_OS_LINUX_CHECK32_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include "os/linux/proc32.h"
#include "os/linux/task32.h"

#define C32_SPAN 128u          /* bytes after real_parent searched */
#define C32_MAX_KIDS 65536u    /* children-list steps over all sampled tasks, per candidate */
#define C32_PID_SPAN 64u       /* bytes after group_leader searched for thread_pid */
#define C32_PID_TASKS_MAX 32u  /* struct pid.tasks[] at most this far in */
#define C32_PID_NR_SPAN 80u    /* numbers[0] at most this far after tasks[] */

/* task_struct.children (sibling is children + 8): the one offset in
 * (real_parent, real_parent + C32_SPAN] where every sampled task's list is
 * a ring (both links checked) of tasks whose real_parent is that task, and
 * at least half of the sample (and 2) are found as someone's child. 0, or
 * a negative XA_E* with one line in @why. */
int c32_find_children(const struct t32_mem *m, uint32_t real_parent, const struct p32_task *t,
                      size_t n, uint32_t *children, char *why, size_t cap);

/* task_struct.group_leader: the one offset in (real_parent, real_parent +
 * C32_SPAN] holding the task's own address in every sampled task (they are
 * thread-group leaders: the task list holds only those). */
int c32_find_group_leader(const struct t32_mem *m, uint32_t real_parent,
                          const struct p32_task *t, size_t n, uint32_t *group_leader, char *why,
                          size_t cap);

/* Where a task's struct pid is and what it holds: task_struct.thread_pid
 * (pid_links[PIDTYPE_PID] follows it), pid.tasks[PIDTYPE_PID] and
 * pid.numbers[0].nr (numbers[0].ns follows it), and that namespace: the
 * initial one, init_pid_ns. */
struct c32_pid_layout {
    uint32_t thread_pid, pid_tasks, pid_nr;
    uint64_t init_pid_ns;
};

/* The one (thread_pid, tasks, nr) with thread_pid in (group_leader,
 * group_leader + 64] where, in every sampled task but the idle one (pid 0),
 * thread_pid is a struct pid whose tasks[PIDTYPE_PID] and tasks[PIDTYPE_TGID]
 * (4.19+) name the task's pid_links[0] and [1], whose numbers[0].nr is the
 * task's pid, and whose numbers[0].ns is one namespace for all. The sample
 * must be thread-group leaders. 0, or XA_EBADDATA with one line in @why. */
int c32_find_pid(const struct t32_mem *m, uint32_t group_leader, const struct p32_task *t,
                 size_t n, struct c32_pid_layout *out, char *why, size_t cap);

/* The checks (not pure): check32_views_tasks.c and check32_views_modules.c. */
struct check_ctx;
int check32_processes(struct check_ctx *c);
/* check_carve_foreach() on a 32-bit kernel: every struct module in the
 * pages modscan32.c scans, a list_del'd one (poisoned links) included. */
int check32_carve_foreach(struct check_ctx *c,
                          int (*fn)(struct check_ctx *c, uint64_t module, void *arg), void *arg);

/* check_kset_foreach() on a 32-bit kernel without module_kset: the kset
 * found from the listed modules' own kobjects (struct module.mkobj's
 * offsets inferred from them). */
int check32_kset_foreach(struct check_ctx *c,
                         int (*fn)(struct check_ctx *c, uint64_t module, void *arg), void *arg);

#endif /* XA_OS_LINUX_CHECK32_VIEWS_H */
