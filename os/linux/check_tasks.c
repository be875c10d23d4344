/*
 * check_tasks.c -- hidden processes: every task the PID IDR of the initial
 * namespace knows, and every task a CPU is running, must belong to a thread
 * group whose leader is on the task list (init_task.tasks). A leader
 * unlinked from that list (DKOM) is still found by its PID and, while it
 * runs, by its run queue.
 */
#include <string.h>

#include "os/linux/check.h"

#define PIDTYPE_PID 0
#define MAX_PIDS 4194304u   /* PID_MAX_LIMIT */
#define MAX_TASKS 1000000u  /* as tasks.c */
#define MAX_CPUS 8192u
#define PF_EXITING 0x4u

struct task_offs {
    uint64_t tasks, pid, tgid, comm, group_leader, pid_links, flags, exit_state;
    uint64_t pid_tasks, pid_numbers;
};

struct hide_state {
    struct task_offs o;
    struct lx_ptrset listed;   /* leaders on the task list */
    struct lx_ptrset reported; /* leaders reported hidden */
};

/* Is @task linked into the task list? A leader created after our walk is
 * (on a live guest); an unlinked one points at itself or at poison. */
static bool linked_now(struct check_ctx *c, const struct task_offs *o, uint64_t task)
{
    uint64_t node = task + o->tasks, next, back;
    return lx_u64(c->xa, node, &next) == 0 && next != node && lx_kernel_ptr(next) &&
           lx_u64(c->xa, next + 8, &back) == 0 && back == node;
}

static int judge_task(struct check_ctx *c, struct hide_state *s, uint64_t task, const char *how)
{
    const struct task_offs *o = &s->o;
    uint64_t leader;
    if (lx_u64(c->xa, task + o->group_leader, &leader) < 0 || !lx_kernel_ptr(leader))
        return xa__set_error(c->xa, XA_EFAULT, "task 0x%llx (%s): group leader unreadable",
                             (unsigned long long)task, how);
    if (lx_ptrset_has(&s->listed, leader) || lx_ptrset_has(&s->reported, leader))
        return 0;
    if (xa_is_live(c->xa) && linked_now(c, o, leader))
        return 0;
    /* An exiting task leaves the list (and its pid) while it still runs
     * its last instructions on a CPU: not hidden, gone. */
    uint32_t flags = 0, exit_state = 0;
    if (lx_u32(c->xa, task + o->flags, &flags) < 0 ||
        lx_u32(c->xa, task + o->exit_state, &exit_state) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "task 0x%llx unreadable", (unsigned long long)task);
    if ((flags & PF_EXITING) || exit_state)
        return 0;
    int32_t tgid = -1;
    char comm[XA_COMM_LEN + 1] = "";
    if (lx_read(c->xa, leader + o->tgid, &tgid, sizeof(tgid)) < 0 ||
        lx_read(c->xa, leader + o->comm, comm, XA_COMM_LEN) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "task 0x%llx unreadable",
                             (unsigned long long)leader);
    comm[XA_COMM_LEN] = '\0';
    if (tgid == 0)
        return 0; /* an idle task: never on the list */
    if (lx_ptrset_add(&s->reported, leader) < 0)
        return xa__set_error(c->xa, XA_ENOMEM, "out of memory");
    return check_report(c, "hidden-process", comm, tgid, leader,
                        "pid %d (%s) is %s but not on the task list", (int)tgid, comm, how);
}

static int on_pid(struct check_ctx *c, uint64_t index, uint64_t pid, void *arg)
{
    struct hide_state *s = arg;
    uint64_t first;
    if (lx_u64(c->xa, pid + s->o.pid_tasks + 8 * PIDTYPE_PID, &first) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "struct pid 0x%llx (pid %llu) unreadable",
                             (unsigned long long)pid, (unsigned long long)index);
    if (!first)
        return 0; /* a pid kept only as a process group or session id */
    if (!lx_kernel_ptr(first))
        return xa__set_error(c->xa, XA_EBADDATA, "pid %llu: bad task link 0x%llx",
                             (unsigned long long)index, (unsigned long long)first);
    return judge_task(c, s, first - s->o.pid_links, "in the PID IDR");
}

static int walk_task_list(struct check_ctx *c, struct hide_state *s)
{
    uint64_t init_task = check_sym(c, "init_task");
    if (!init_task)
        return xa__set_error(c->xa, XA_ENOTSUP, "no init_task symbol");
    if (lx_ptrset_add(&s->listed, init_task) < 0)
        return xa__set_error(c->xa, XA_ENOMEM, "out of memory");
    struct lx_list_walk w;
    lx_list_init(&w, init_task + s->o.tasks, MAX_TASKS, "task list");
    uint64_t node;
    int rc;
    while ((rc = lx_list_next(c->xa, &w, &node)) == 1)
        if (lx_ptrset_add(&s->listed, node - s->o.tasks) < 0) {
            rc = xa__set_error(c->xa, XA_ENOMEM, "out of memory");
            break;
        }
    lx_list_free(&w);
    return rc;
}

/* What each CPU runs (rq->curr). */
static int walk_run_queues(struct check_ctx *c, struct hide_state *s)
{
    uint64_t rqs = check_sym(c, "runqueues"), offsets = check_sym(c, "__per_cpu_offset");
    uint64_t ids = check_sym(c, "nr_cpu_ids"), curr_off = check_off(c, "rq", "curr");
    uint32_t ncpus;
    if (!rqs || !offsets || !ids || curr_off == LX_NO_OFFSET)
        return 0; /* a uniprocessor kernel or no BTF for struct rq: the IDR suffices */
    if (lx_u32(c->xa, ids, &ncpus) < 0 || ncpus == 0 || ncpus > MAX_CPUS)
        return xa__set_error(c->xa, XA_EBADDATA, "implausible nr_cpu_ids");
    for (uint32_t cpu = 0; cpu < ncpus; cpu++) {
        uint64_t base, curr;
        if (lx_u64(c->xa, offsets + 8ull * cpu, &base) < 0 ||
            lx_u64(c->xa, base + rqs + curr_off, &curr) < 0)
            return xa__set_error(c->xa, XA_EFAULT, "run queue of CPU %u unreadable", cpu);
        if (!lx_kernel_ptr(curr))
            return xa__set_error(c->xa, XA_EBADDATA, "CPU %u runs a bad task 0x%llx", cpu,
                                 (unsigned long long)curr);
        int rc = judge_task(c, s, curr, "running on a CPU");
        if (rc)
            return rc;
    }
    return 0;
}

int check_processes(struct check_ctx *c)
{
    struct hide_state s = {0};
    struct task_offs *o = &s.o;
    const struct linux_offsets *lo = &linux_os(c->xa)->off;
    o->tasks = lo->task_tasks;
    o->tgid = lo->task_tgid;
    o->comm = lo->task_comm;
    o->flags = lo->task_flags;
    o->exit_state = lo->task_exit_state;
    o->group_leader = check_off(c, "task_struct", "group_leader");
    o->pid_links = check_off(c, "task_struct", "pid_links");
    o->pid_tasks = check_off(c, "pid", "tasks");
    uint64_t idr = check_off(c, "pid_namespace", "idr");
    uint64_t idr_rt = check_off(c, "idr", "idr_rt"), xa_head = check_off(c, "xarray", "xa_head");
    uint64_t ns = check_sym(c, "init_pid_ns");
    if (o->tasks == LX_NO_OFFSET || o->group_leader == LX_NO_OFFSET ||
        o->pid_links == LX_NO_OFFSET || o->pid_tasks == LX_NO_OFFSET || idr == LX_NO_OFFSET ||
        idr_rt == LX_NO_OFFSET || xa_head == LX_NO_OFFSET || !ns)
        return xa__set_error(c->xa, XA_ENOTSUP,
                             "hidden processes: no BTF for task_struct/pid/pid_namespace or "
                             "no init_pid_ns symbol");
    uint64_t head = ns + idr + idr_rt + xa_head;
    int rc = walk_task_list(c, &s);
    if (rc == 0)
        rc = check_xarray_walk(c, head, MAX_PIDS, "PID IDR", on_pid, &s);
    if (rc == 0)
        rc = walk_run_queues(c, &s);
    lx_ptrset_free(&s.listed);
    lx_ptrset_free(&s.reported);
    return rc;
}
