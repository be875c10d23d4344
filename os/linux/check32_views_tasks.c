/*
 * check32_views_tasks.c -- hidden processes on a 32-bit kernel without BTF
 * or data symbols: every task another view reaches must belong to a thread
 * group whose leader is on the task list (walked from init_task, which
 * task32.c found in memory). The views, none through the task list's links:
 *   PID IDR   init_pid_ns's, reached from a listed task's struct pid
 *             (thread_pid, numbers[0].ns): every struct pid in it;
 *   children  the children list of every listed leader and of its threads
 *             (a leader unlinked from the task list stays on its parent's);
 *   parent    the real_parent of every listed leader and thread;
 * where the threads are each listed leader's thread group (proc32.c's
 * ring): a process forked by a thread is on that thread's children list.
 * Offsets are inferred (check32_views.c, proc32.c); a view whose offsets
 * are not found soundly is left out with a note, and with no view left the
 * check fails. The run queues need a data symbol (runqueues) the kernel
 * does not list: noted, not used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/check.h"
#include "os/linux/check32_views.h"
#include "os/linux/proc32.h"

#define MAX_TASKS 1000000u   /* as tasks.c */
#define MAX_RING_NODES (2ull * MAX_TASKS) /* thread groups and children lists together */

enum { V_IDR = 1, V_CHILDREN = 2, V_PARENT = 4, V_COUNT = 3 };
static const char *const view_names[V_COUNT] = {"in the PID IDR", "a listed task's child",
                                                "a listed task's parent"};

struct state32 {
    struct lx_ptrset listed; /* leaders on the task list */
    struct lx_ptrset known;  /* their threads too */
    struct p32_task *tasks;  /* the listed leaders, init_task first */
    size_t n;
    uint64_t tasks_off, real_parent, tgid, comm;
    uint64_t children, group_leader;                   /* LX_NO_OFFSET when not found */
    uint64_t signal, thread_node, thread_head;          /* the same */
    struct c32_pid_layout pid;                          /* have_pid: found */
    bool have_pid;
    size_t idr_listed; /* listed tasks the PID IDR reached */
    struct check_hidden_tasks hidden;
    uint64_t ring_budget;
};

static int read_kva(void *ctx, uint64_t va, void *buf, size_t len)
{
    return lx_read(ctx, va, buf, len);
}

/* Is @task linked into the task list now (a running guest)? An unlinked
 * one points at itself or at poison. */
static bool linked_now(struct check_ctx *c, const struct state32 *s, uint64_t task)
{
    uint64_t node = task + s->tasks_off, next, back;
    return lx_ptr(c->xa, node, &next) == 0 && next != node && lx_kptr(c->xa, next) &&
           lx_ptr(c->xa, next + 4, &back) == 0 && back == node;
}

/* @task's leader, unless it is listed or a listed group's thread. */
static int judge(struct check_ctx *c, struct state32 *s, uint64_t task, unsigned view)
{
    if (lx_ptrset_has(&s->listed, task) || lx_ptrset_has(&s->known, task))
        return 0;
    uint64_t leader = task;
    if (s->group_leader != LX_NO_OFFSET &&
        (lx_ptr(c->xa, task + s->group_leader, &leader) < 0 || !lx_kptr(c->xa, leader)))
        return xa__set_error(c->xa, XA_EFAULT, "task 0x%llx: group leader unreadable",
                             (unsigned long long)task);
    if (lx_ptrset_has(&s->listed, leader) || check_hidden_mark(&s->hidden, leader, view))
        return 0;
    if (xa_is_live(c->xa) && linked_now(c, s, leader))
        return 0; /* forked after our walk of the list */
    return check_hidden_add(c, &s->hidden, leader, view, s->tgid, s->comm);
}

/* The task list: leaders and their tgids, comms and mms. A list the
 * kernel's count says is short (a task unlinked) still went round. */
static int walk_list(struct check_ctx *c, struct state32 *s)
{
    struct xa_process_iter *it;
    int rc = linux_process_iter_new(c->xa, &it);
    if (rc < 0)
        return rc;
    struct xa_process p;
    size_t cap = 0;
    while ((rc = linux_process_iter_next(it, &p)) == 1) {
        if (s->n == MAX_TASKS) {
            rc = xa__set_error(c->xa, XA_ELIMIT, "more than %u tasks", MAX_TASKS);
            break;
        }
        if (s->n == cap) {
            size_t ncap = cap ? 2 * cap : 256;
            struct p32_task *nt = realloc(s->tasks, ncap * sizeof(*nt));
            if (!nt) {
                rc = xa__set_error(c->xa, XA_ENOMEM, "out of memory");
                break;
            }
            s->tasks = nt;
            cap = ncap;
        }
        struct p32_task *k = &s->tasks[s->n++];
        *k = (struct p32_task){.task = p.task, .mm = p.mm, .pid = (uint32_t)p.pid,
                               .tgid = (uint32_t)p.tgid};
        memcpy(k->comm, p.comm, sizeof(k->comm) - 1);
        if (lx_ptrset_add(&s->listed, p.task) < 0) {
            rc = xa__set_error(c->xa, XA_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc < 0 && it->walk.done)
        rc = 0;
    linux_process_iter_free(it);
    return rc;
}

/* The offsets of each view; a view not found is noted and left out. */
static int find_views(struct check_ctx *c, struct state32 *s)
{
    const struct linux_offsets *lo = &linux_os(c->xa)->off;
    struct t32_mem m = {.read = read_kva, .ctx = c->xa,
                        .page_offset = linux_os(c->xa)->page_offset};
    size_t sample = s->n < P32_SAMPLE ? s->n : P32_SAMPLE;
    char why[256];
    uint32_t off = 0;
    int rc = 0;
    s->children = s->group_leader = LX_NO_OFFSET;
    s->signal = s->thread_node = s->thread_head = LX_NO_OFFSET;
    if (c32_find_children(&m, (uint32_t)s->real_parent, s->tasks, sample, &off, why,
                          sizeof(why)) == 0)
        s->children = off;
    else
        rc = check_note(c, "children lists not used: %s", why);
    if (rc == 0 && c32_find_group_leader(&m, (uint32_t)s->real_parent, s->tasks, sample, &off,
                                         why, sizeof(why)) == 0)
        s->group_leader = off;
    else if (rc == 0)
        rc = check_note(c, "a task found off the list is judged as its own leader: %s", why);
    const struct p32_known k = {.pid = (uint32_t)lo->task_pid, .tgid = (uint32_t)lo->task_tgid,
                                .state = (uint32_t)lo->task_state};
    struct p32_threads th;
    if (rc == 0 && p32_find_threads(&m, &k, s->tasks, sample, &th, why, sizeof(why)) == 0) {
        s->signal = th.signal;
        s->thread_node = th.thread_node;
        s->thread_head = th.thread_head;
    } else if (rc == 0) {
        rc = check_note(c, "thread groups not used (children of threads unseen): %s", why);
    }
    if (rc == 0 && s->group_leader == LX_NO_OFFSET)
        rc = check_note(c, "the PID IDR is not compared: struct pid is found from "
                           "group_leader");
    else if (rc == 0 && c32_find_pid(&m, (uint32_t)s->group_leader, s->tasks, sample, &s->pid,
                                     why, sizeof(why)) == 0)
        s->have_pid = true;
    else if (rc == 0)
        rc = check_note(c, "the PID IDR is not compared: %s", why);
    if (rc == 0)
        rc = check_note(c, "the run queues are not compared: the kernel lists no data symbols "
                           "(runqueues) and has no BTF");
    xa__clear_error(c->xa);
    return rc;
}

/* The children of @task, each judged (its sibling node is children + 8). */
static int walk_children(struct check_ctx *c, struct state32 *s, uint64_t task)
{
    struct lx_list_walk w;
    lx_list_init(&w, task + s->children, s->ring_budget, "children list");
    uint64_t node;
    int rc;
    while ((rc = lx_list_next(c->xa, &w, &node)) == 1) {
        uint64_t child = node - (s->children + 8), parent;
        if (lx_ptr(c->xa, child + s->real_parent, &parent) < 0 || parent != task) {
            rc = xa__set_error(c->xa, XA_EBADDATA,
                               "children list of task 0x%llx holds 0x%llx, whose parent is not "
                               "it", (unsigned long long)task, (unsigned long long)child);
            break;
        }
        if ((rc = judge(c, s, child, V_CHILDREN)) != 0)
            break;
    }
    s->ring_budget -= w.steps < s->ring_budget ? w.steps : s->ring_budget;
    lx_list_free(&w);
    return rc;
}

/* One entry of the PID IDR: a struct pid whose number is its index; the
 * task it names (if any) judged. */
static int on_pid(struct check_ctx *c, uint64_t index, uint64_t pid, void *arg)
{
    struct state32 *s = arg;
    uint64_t nr, first;
    if (lx_ptr(c->xa, pid + s->pid.pid_nr, &nr) < 0 ||
        lx_ptr(c->xa, pid + s->pid.pid_tasks, &first) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "struct pid 0x%llx (pid %llu) unreadable",
                             (unsigned long long)pid, (unsigned long long)index);
    if (nr != index)
        return xa__set_error(c->xa, XA_EBADDATA, "PID IDR: entry %llu is pid %llu",
                             (unsigned long long)index, (unsigned long long)nr);
    if (!first)
        return 0; /* a pid kept only as a process group or session id */
    uint64_t task = first - (s->pid.thread_pid + 4);
    if (!lx_kptr(c->xa, first) || first < s->pid.thread_pid + 4)
        return xa__set_error(c->xa, XA_EBADDATA, "pid %llu: bad task link 0x%llx",
                             (unsigned long long)index, (unsigned long long)first);
    s->idr_listed += lx_ptrset_has(&s->listed, task);
    return judge(c, s, task, V_IDR);
}

/* The PID IDR of init_pid_ns (struct pid_namespace starts with its idr,
 * whose xarray keeps its head after a lock and flags: 8 bytes in). It must
 * reach every listed task but the idle one, or it is not the IDR. */
static int walk_idr(struct check_ctx *c, struct state32 *s)
{
    int rc = check_xarray_walk(c, s->pid.init_pid_ns + 8, T32_PID_MAX, "PID IDR", on_pid, s);
    size_t want = s->n - 1; /* init_task (pid 0) has no IDR entry */
    if (rc == 0 && s->idr_listed < want && !(xa_is_live(c->xa) && s->idr_listed))
        rc = xa__set_error(c->xa, XA_EBADDATA, "PID IDR reached %zu of the %zu listed tasks",
                           s->idr_listed, want);
    return rc;
}

/* The threads of listed leader @leader but itself, into s->known and
 * appended to *out (*nout of them); s->ring_budget bounds all groups. */
static int walk_threads(struct check_ctx *c, struct state32 *s, uint64_t leader, uint64_t **out,
                        size_t *nout)
{
    uint64_t signal;
    if (lx_ptr(c->xa, leader + s->signal, &signal) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "task 0x%llx unreadable",
                             (unsigned long long)leader);
    if (!signal)
        return 0; /* a reaped task's */
    if (!lx_kptr(c->xa, signal))
        return xa__set_error(c->xa, XA_EBADDATA, "task 0x%llx: bad signal 0x%llx",
                             (unsigned long long)leader, (unsigned long long)signal);
    struct lx_list_walk w;
    lx_list_init(&w, signal + s->thread_head, s->ring_budget, "thread group");
    uint64_t node;
    int rc;
    bool leader_seen = false;
    while ((rc = lx_list_next(c->xa, &w, &node)) == 1) {
        uint64_t task = node - s->thread_node;
        if (task == leader) {
            leader_seen = true;
            continue;
        }
        uint64_t *n = realloc(*out, (*nout + 1) * sizeof(*n));
        if (!n || lx_ptrset_add(&s->known, task) < 0) {
            if (n)
                *out = n;
            rc = xa__set_error(c->xa, XA_ENOMEM, "out of memory");
            break;
        }
        *out = n;
        (*out)[(*nout)++] = task;
    }
    s->ring_budget -= w.steps < s->ring_budget ? w.steps : s->ring_budget;
    lx_list_free(&w);
    if (rc == 0 && !leader_seen)
        rc = xa__set_error(c->xa, XA_EBADDATA, "thread group of task 0x%llx does not hold it",
                           (unsigned long long)leader);
    return rc;
}

/* Threads first (they are known, not hidden), then each listed task's and
 * thread's children and parent. */
static int walk_views(struct check_ctx *c, struct state32 *s)
{
    uint64_t *threads = NULL;
    size_t nthreads = 0;
    int rc = 0;
    if (s->signal != LX_NO_OFFSET)
        for (size_t i = 0; rc == 0 && i < s->n; i++)
            rc = walk_threads(c, s, s->tasks[i].task, &threads, &nthreads);
    for (size_t i = 0; rc == 0 && i < s->n + nthreads; i++) {
        uint64_t task = i < s->n ? s->tasks[i].task : threads[i - s->n], parent = 0;
        if (s->children != LX_NO_OFFSET)
            rc = walk_children(c, s, task);
        if (rc == 0 && lx_ptr(c->xa, task + s->real_parent, &parent) < 0)
            rc = xa__set_error(c->xa, XA_EFAULT, "task 0x%llx unreadable",
                               (unsigned long long)task);
        if (rc == 0 && parent && parent != task && lx_kptr(c->xa, parent))
            rc = judge(c, s, parent, V_PARENT);
    }
    free(threads);
    return rc;
}

int check32_processes(struct check_ctx *c)
{
    const struct linux_offsets *lo = &linux_os(c->xa)->off;
    struct state32 s = {.ring_budget = MAX_RING_NODES, .tasks_off = lo->task_tasks,
                        .real_parent = lo->task_real_parent,
                        .tgid = lo->task_tgid, .comm = lo->task_comm,
                        .hidden = {.view_names = view_names, .nr_views = V_COUNT}};
    if (s.real_parent == LX_NO_OFFSET || s.tgid == LX_NO_OFFSET || s.comm == LX_NO_OFFSET)
        return xa__set_error(c->xa, XA_ENOTSUP,
                             "hidden processes: the 32-bit task layout lacks real_parent");
    int rc = walk_list(c, &s);
    if (rc == 0 && s.n < 3)
        rc = xa__set_error(c->xa, XA_EBADDATA, "hidden processes: %zu tasks on the task list",
                           s.n);
    if (rc == 0)
        rc = find_views(c, &s);
    if (rc == 0 && s.have_pid)
        rc = walk_idr(c, &s);
    if (rc == 0 && s.children == LX_NO_OFFSET && s.signal == LX_NO_OFFSET && !s.have_pid)
        rc = xa__set_error(c->xa, XA_ENOTSUP,
                           "hidden processes: no PID IDR, children lists or thread groups "
                           "found on this 32-bit kernel: only the task list, nothing to "
                           "compare");
    if (rc == 0)
        rc = walk_views(c, &s);
    rc = check_hidden_report_all(c, &s.hidden, rc);
    free(s.tasks);
    lx_ptrset_free(&s.listed);
    lx_ptrset_free(&s.known);
    return rc;
}
