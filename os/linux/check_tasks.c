/*
 * check_tasks.c -- hidden processes: every task another view reaches must
 * belong to a thread group whose leader is on the task list
 * (init_task.tasks). The views: the PID IDR of the initial namespace, what
 * each CPU runs (rq->curr) and queues (the CFS red-black trees, group
 * entities unfolded; the real-time priority lists; the deadline tree), the
 * thread groups of listed leaders
 * (signal->thread_head), and the process tree around listed tasks (their
 * children lists and parents). A leader unlinked from the task list (DKOM)
 * is still found by its PID, its parent's children list and, while it
 * runs or waits to run, by its run queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/check.h"
#include "os/linux/check32_views.h"
#include "os/linux/word32.h"

#define PIDTYPE_PID 0
#define MAX_PIDS 4194304u   /* PID_MAX_LIMIT */
#define MAX_TASKS 1000000u  /* as tasks.c */
#define MAX_CPUS 8192u
/* Nodes of all thread groups and children lists together: each task is in
 * one group and one children list, so twice the task limit. */
#define MAX_RING_NODES (2ull * MAX_TASKS)
#define MAX_RQ_NODES 1000000u /* scheduling entities over all run queues */
#define RT_PRIOS 100u         /* MAX_RT_PRIO: rt_prio_array.queue[] */
#define MAX_RT_DEPTH 8u       /* nested RT group queues followed */
#define MAX_RB_DEPTH 128u    /* a red-black tree of 2^32 nodes is 64 deep */
#define PF_EXITING 0x4u

/* The views; a finding names every view that reached the hidden leader. */
enum {
    V_IDR = 1,
    V_CPU = 2,
    V_CFS = 4,
    V_RT = 8,
    V_DL = 16,
    V_THREADS = 32,
    V_CHILDREN = 64,
    V_PARENT = 128,
    V_COUNT = 8
};

static const char *const view_names[V_COUNT] = {
    "in the PID IDR",           "running on a CPU",
    "queued on a CFS run queue", "queued on an RT run queue",
    "queued on a deadline run queue", "in a listed thread group",
    "a listed task's child",     "a listed task's parent",
};

struct task_offs {
    uint64_t tasks, pid, tgid, comm, group_leader, pid_links, flags, exit_state;
    uint64_t pid_tasks, pid_numbers;
    /* optional views: LX_NO_OFFSET when absent */
    uint64_t signal, thread_head, thread_node, children, sibling, real_parent;
};

struct hide_state {
    struct task_offs o;
    struct lx_ptrset listed;   /* leaders on the task list */
    uint64_t *listed_tasks;    /* the same, in list order */
    size_t nr_listed;
    struct check_hidden_tasks hidden;
    uint64_t ring_budget; /* MAX_RING_NODES less the nodes walked */
};

/* Is @task linked into the task list? A leader created after our walk is
 * (on a live guest); an unlinked one points at itself or at poison. */
static bool linked_now(struct check_ctx *c, const struct task_offs *o, uint64_t task)
{
    uint64_t node = task + o->tasks, next, back;
    return lx_ptr(c->xa, node, &next) == 0 && next != node && lx_kptr(c->xa, next) &&
           lx_ptr(c->xa, next + lx_ptr_size(c->xa), &back) == 0 && back == node;
}

/* Note @task's leader when it is not on the task list; @view reached it. */
static int judge_task(struct check_ctx *c, struct hide_state *s, uint64_t task, unsigned view)
{
    const struct task_offs *o = &s->o;
    uint64_t leader;
    if (lx_ptr(c->xa, task + o->group_leader, &leader) < 0 || !lx_kptr(c->xa, leader))
        return xa__set_error(c->xa, XA_EFAULT, "task 0x%llx: group leader unreadable",
                             (unsigned long long)task);
    if (lx_ptrset_has(&s->listed, leader))
        return 0;
    if (check_hidden_mark(&s->hidden, leader, view))
        return 0;
    if (xa_is_live(c->xa) && linked_now(c, o, leader))
        return 0;
    /* A running guest frees and reuses tasks while we walk: what a stale
     * pointer reaches must at least be a leader of its own group. */
    uint64_t self;
    if (xa_is_live(c->xa) &&
        (lx_ptr(c->xa, leader + o->group_leader, &self) < 0 || self != leader))
        return 0;
    /* An exiting task leaves the list (and its pid) while it still runs
     * its last instructions on a CPU: not hidden, gone. */
    uint32_t flags = 0, exit_state = 0;
    if (lx_u32(c->xa, task + o->flags, &flags) < 0 ||
        lx_u32(c->xa, task + o->exit_state, &exit_state) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "task 0x%llx unreadable", (unsigned long long)task);
    if ((flags & PF_EXITING) || exit_state)
        return 0;
    return check_hidden_add(c, &s->hidden, leader, view, o->tgid, o->comm);
}

static int on_pid(struct check_ctx *c, uint64_t index, uint64_t pid, void *arg)
{
    struct hide_state *s = arg;
    uint64_t first;
    /* pid->tasks[PIDTYPE_PID].first: an array of one-pointer hlist_heads */
    if (lx_ptr(c->xa, pid + s->o.pid_tasks + lx_ptr_size(c->xa) * PIDTYPE_PID, &first) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "struct pid 0x%llx (pid %llu) unreadable",
                             (unsigned long long)pid, (unsigned long long)index);
    if (!first)
        return 0; /* a pid kept only as a process group or session id */
    if (!lx_kptr(c->xa, first))
        return xa__set_error(c->xa, XA_EBADDATA, "pid %llu: bad task link 0x%llx",
                             (unsigned long long)index, (unsigned long long)first);
    return judge_task(c, s, first - s->o.pid_links, V_IDR);
}

static int walk_task_list(struct check_ctx *c, struct hide_state *s)
{
    uint64_t init_task = check_sym(c, "init_task");
    if (!init_task)
        return xa__set_error(c->xa, XA_ENOTSUP, "no init_task symbol");
    struct lx_list_walk w;
    lx_list_init(&w, init_task + s->o.tasks, MAX_TASKS, "task list");
    uint64_t node = init_task + s->o.tasks;
    int rc = 1;
    do {
        uint64_t task = node - s->o.tasks;
        uint64_t *n = realloc(s->listed_tasks, (s->nr_listed + 1) * sizeof(*n));
        if (!n || lx_ptrset_add(&s->listed, task) < 0) {
            if (n)
                s->listed_tasks = n;
            rc = xa__set_error(c->xa, XA_ENOMEM, "out of memory");
            break;
        }
        s->listed_tasks = n;
        s->listed_tasks[s->nr_listed++] = task;
    } while ((rc = lx_list_next(c->xa, &w, &node)) == 1);
    lx_list_free(&w);
    return rc;
}

/* Every task on the list_head ring at @head (a thread group or a children
 * list), each node @link into its task_struct, judged as @view. */
static int walk_ring(struct check_ctx *c, struct hide_state *s, uint64_t head, uint64_t link,
                     unsigned view, const char *what)
{
    struct lx_list_walk w;
    lx_list_init(&w, head, s->ring_budget, what);
    uint64_t node;
    int rc;
    while ((rc = lx_list_next(c->xa, &w, &node)) == 1) {
        rc = judge_task(c, s, node - link, view);
        if (rc)
            break;
    }
    s->ring_budget -= w.steps < s->ring_budget ? w.steps : s->ring_budget;
    lx_list_free(&w);
    return rc;
}

/* The thread group of every listed leader, then the children and the
 * parent of each of its threads (a child is on its forking thread's list). */
static int walk_groups(struct check_ctx *c, struct hide_state *s)
{
    const struct task_offs *o = &s->o;
    if (o->signal == LX_NO_OFFSET || o->thread_head == LX_NO_OFFSET ||
        o->thread_node == LX_NO_OFFSET || o->children == LX_NO_OFFSET ||
        o->sibling == LX_NO_OFFSET || o->real_parent == LX_NO_OFFSET)
        return xa__set_error(c->xa, XA_ENOTSUP,
                             "hidden processes: no BTF for thread groups or the process tree");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->nr_listed; i++) {
        uint64_t leader = s->listed_tasks[i], signal;
        if (lx_ptr(c->xa, leader + o->signal, &signal) < 0)
            return xa__set_error(c->xa, XA_EFAULT, "task 0x%llx unreadable",
                                 (unsigned long long)leader);
        if (!signal)
            continue; /* init_task's own signal is static, never NULL; a reaped task's is */
        if (!lx_kptr(c->xa, signal))
            return xa__set_error(c->xa, XA_EBADDATA, "task 0x%llx: bad signal 0x%llx",
                                 (unsigned long long)leader, (unsigned long long)signal);
        /* the leader itself first, then its threads */
        struct lx_list_walk w;
        lx_list_init(&w, signal + o->thread_head, s->ring_budget, "thread group");
        uint64_t node = 0, task = leader, parent;
        int more = 1;
        while (rc == 0 && more == 1) {
            if (task != leader)
                rc = judge_task(c, s, task, V_THREADS);
            if (rc == 0 && lx_ptr(c->xa, task + o->real_parent, &parent) < 0)
                rc = xa__set_error(c->xa, XA_EFAULT, "task 0x%llx unreadable",
                                   (unsigned long long)task);
            if (rc == 0 && parent && parent != task && lx_kptr(c->xa, parent))
                rc = judge_task(c, s, parent, V_PARENT);
            if (rc == 0)
                rc = walk_ring(c, s, task + o->children, o->sibling, V_CHILDREN,
                               "children list");
            if (rc == 0) {
                do {
                    more = lx_list_next(c->xa, &w, &node);
                } while (more == 1 && node - o->thread_node == leader);
                if (more < 0)
                    rc = more;
                task = node - o->thread_node;
            }
        }
        s->ring_budget -= w.steps < s->ring_budget ? w.steps : s->ring_budget;
        lx_list_free(&w);
    }
    return rc;
}

struct rq_offs {
    uint64_t curr, cfs, root, run_node, my_q, task_se;
    uint64_t parent, right, left; /* struct rb_node */
    /* real-time: rq.rt, rt_rq.active.{bitmap,queue}, sched_rt_entity */
    uint64_t rt, rt_bitmap, rt_queue, rt_run_list, rt_my_q, task_rt;
    /* deadline: rq.dl, dl_rq.root's rb_node, sched_dl_entity.rb_node */
    uint64_t dl, dl_root, dl_node, task_dl;
};

/* One kind of red-black run queue: where its entity's node is, its group
 * queue (LX_NO_OFFSET when it has none) and the entity in task_struct. */
struct rb_queue {
    uint64_t node_in_entity, my_q, entity_in_task, root_in_queue;
    unsigned view;
    const char *what;
};

/* The tasks queued on one CPU's red-black tree (CFS or deadline); a group
 * entity's own queue (a cgroup) is a subtree, walked too. @budget bounds
 * all trees together. */
static int walk_rbtree(struct check_ctx *c, struct hide_state *s, const struct rq_offs *r,
                       const struct rb_queue *q, uint64_t queue, uint32_t cpu,
                       uint64_t *budget)
{
    /* each node with the node it hangs from (0 for a tree's root), whose
     * address its __rb_parent_color must hold: the tree's back link */
    uint64_t stack[MAX_RB_DEPTH][2];
    unsigned depth = 0;
    struct lx_ptrset seen = {0};
    int rc = 0;
    uint64_t node, parent_color;
    if (lx_ptr(c->xa, queue + q->root_in_queue, &node) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "%s run queue of CPU %u unreadable", q->what,
                             cpu);
    if (node) {
        stack[depth][0] = node;
        stack[depth++][1] = 0;
    }
    while (rc == 0 && depth) {
        depth--;
        node = stack[depth][0];
        uint64_t parent = stack[depth][1];
        if (lx_kptr(c->xa, node) && lx_ptr(c->xa, node + r->parent, &parent_color) == 0 &&
            (parent_color & ~3ull) != parent) {
            /* a running guest rebalances its trees under the walk: there,
             * a subtree that moved is passed over; in a dump it is damage */
            if (xa_is_live(c->xa))
                continue;
            rc = xa__set_error(c->xa, XA_EBADDATA,
                               "%s tree of CPU %u: node 0x%llx does not link back to 0x%llx",
                               q->what, cpu, (unsigned long long)node,
                               (unsigned long long)parent);
            break;
        }
        int added = lx_kptr(c->xa, node) ? lx_ptrset_add(&seen, node) : 0;
        if (added <= 0 || *budget == 0) {
            rc = added < 0 ? xa__set_error(c->xa, XA_ENOMEM, "out of memory")
                           : xa__set_error(c->xa, XA_EBADDATA,
                                           "%s tree of CPU %u: bad, repeated or too many "
                                           "nodes at 0x%llx",
                                           q->what, cpu, (unsigned long long)node);
            break;
        }
        (*budget)--;
        uint64_t kids[2], se = node - q->node_in_entity, my_q = 0;
        if (lx_ptr(c->xa, node + r->right, &kids[0]) < 0 ||
            lx_ptr(c->xa, node + r->left, &kids[1]) < 0 ||
            (q->my_q != LX_NO_OFFSET && lx_ptr(c->xa, se + q->my_q, &my_q) < 0)) {
            rc = xa__set_error(c->xa, XA_EFAULT, "%s tree node 0x%llx unreadable", q->what,
                               (unsigned long long)node);
            break;
        }
        uint64_t next[3] = {kids[0], kids[1], 0};
        if (my_q) { /* a group: its queue's tree hangs below it */
            if (!lx_kptr(c->xa, my_q) || lx_ptr(c->xa, my_q + q->root_in_queue, &next[2]) < 0) {
                rc = xa__set_error(c->xa, XA_EBADDATA, "%s group entity 0x%llx: bad queue",
                                   q->what, (unsigned long long)se);
                break;
            }
        } else {
            rc = judge_task(c, s, se - q->entity_in_task, q->view);
        }
        for (int k = 0; k < 3 && rc == 0; k++) {
            if (!next[k])
                continue;
            if (depth >= MAX_RB_DEPTH) {
                rc = xa__set_error(c->xa, XA_EBADDATA, "%s tree of CPU %u deeper than %u",
                                   q->what, cpu, MAX_RB_DEPTH);
            } else {
                stack[depth][0] = next[k];
                stack[depth++][1] = k < 2 ? node : 0; /* a group queue's root has none */
            }
        }
    }
    lx_ptrset_free(&seen);
    return rc;
}

/* One CPU's real-time queue: a list of sched_rt_entity per priority (its
 * bit set in the active bitmap while the list is not empty), each list
 * walked with both links checked; a group entity (RT group scheduling,
 * my_q) queues a run queue of its own, followed @depth levels at most.
 * Every list is walked whatever its bit says, and a bit set over an empty
 * list or clear over a full one is damage (a dump) or motion (live). */
static int walk_rt(struct check_ctx *c, struct hide_state *s, const struct rq_offs *r,
                   uint64_t rt_rq, uint32_t cpu, unsigned depth, uint64_t *budget)
{
    /* list_heads of two kernel words; the bitmap's 101 bits are 2 longs or
     * 4, the same 16 little-endian bytes either way */
    size_t word = lx_ptr_size(c->xa);
    uint8_t heads[RT_PRIOS * 2 * 8];
    uint64_t bitmap[2];
    uint64_t queue = rt_rq + r->rt_queue;
    if (lx_read(c->xa, queue, heads, RT_PRIOS * 2 * word) < 0 ||
        lx_read(c->xa, rt_rq + r->rt_bitmap, bitmap, sizeof(bitmap)) < 0)
        return xa__set_error(c->xa, XA_EFAULT, "RT run queue of CPU %u unreadable", cpu);
    for (unsigned prio = 0; prio < RT_PRIOS; prio++) {
        uint64_t head = queue + 2 * word * prio;
        const uint8_t *next = heads + 2 * word * prio;
        uint64_t first = word == 4 ? w32_le32(next) : w32_le64(next);
        bool empty = first == head, active = (bitmap[prio / 64] >> (prio % 64)) & 1;
        if (empty != !active && !xa_is_live(c->xa))
            return xa__set_error(c->xa, XA_EBADDATA,
                                 "RT run queue of CPU %u: priority %u is %s but its bit is %s",
                                 cpu, prio, empty ? "empty" : "queued", active ? "set" : "clear");
        if (empty)
            continue;
        struct lx_list_walk w;
        lx_list_init(&w, head, *budget, "RT run queue");
        uint64_t node;
        int rc;
        while ((rc = lx_list_next(c->xa, &w, &node)) == 1) {
            uint64_t rt_se = node - r->rt_run_list, my_q = 0;
            if (r->rt_my_q != LX_NO_OFFSET && lx_ptr(c->xa, rt_se + r->rt_my_q, &my_q) < 0) {
                rc = xa__set_error(c->xa, XA_EFAULT, "RT entity 0x%llx unreadable",
                                   (unsigned long long)rt_se);
                break;
            }
            if (!my_q) {
                rc = judge_task(c, s, rt_se - r->task_rt, V_RT);
            } else if (!lx_kptr(c->xa, my_q) || depth >= MAX_RT_DEPTH) {
                rc = xa__set_error(c->xa, XA_EBADDATA,
                                   "RT group entity 0x%llx: bad queue 0x%llx or nested deeper "
                                   "than %u", (unsigned long long)rt_se,
                                   (unsigned long long)my_q, MAX_RT_DEPTH);
            } else {
                rc = walk_rt(c, s, r, my_q, cpu, depth + 1, budget);
            }
            if (rc)
                break;
        }
        *budget -= w.steps < *budget ? w.steps : *budget;
        lx_list_free(&w);
        if (rc < 0 && xa_is_live(c->xa) && rc != XA_ENOMEM && rc != XA_EGONE)
            continue; /* a list that changed under the walk: passed over */
        if (rc)
            return rc;
    }
    return 0;
}

/* What each possible CPU runs (rq->curr) and queues (its CFS tree, its
 * real-time lists and its deadline tree). */
static int walk_run_queues(struct check_ctx *c, struct hide_state *s)
{
    uint64_t rqs = check_sym(c, "runqueues"), offsets = check_sym(c, "__per_cpu_offset");
    uint64_t ids = check_sym(c, "nr_cpu_ids");
    struct rq_offs r = {
        .curr = check_off(c, "rq", "curr"),
        .cfs = check_off(c, "rq", "cfs"),
        .root = check_off(c, "cfs_rq", "tasks_timeline.rb_root.rb_node"),
        .run_node = check_off(c, "sched_entity", "run_node"),
        .my_q = check_off(c, "sched_entity", "my_q"),
        .task_se = check_off(c, "task_struct", "se"),
        .parent = check_off(c, "rb_node", "__rb_parent_color"),
        .right = check_off(c, "rb_node", "rb_right"),
        .left = check_off(c, "rb_node", "rb_left"),
        .rt = check_off(c, "rq", "rt"),
        .rt_bitmap = check_off(c, "rt_rq", "active.bitmap"),
        .rt_queue = check_off(c, "rt_rq", "active.queue"),
        .rt_run_list = check_off(c, "sched_rt_entity", "run_list"),
        .rt_my_q = check_off(c, "sched_rt_entity", "my_q"), /* RT group scheduling only */
        .task_rt = check_off(c, "task_struct", "rt"),
        .dl = check_off(c, "rq", "dl"),
        .dl_root = check_off(c, "dl_rq", "root.rb_root.rb_node"),
        .dl_node = check_off(c, "sched_dl_entity", "rb_node"),
        .task_dl = check_off(c, "task_struct", "dl"),
    };
    uint32_t ncpus;
    if (!rqs || !offsets || !ids || r.curr == LX_NO_OFFSET)
        return 0; /* a uniprocessor kernel or no BTF for struct rq: the IDR suffices */
    bool tree = r.parent != LX_NO_OFFSET && r.right != LX_NO_OFFSET && r.left != LX_NO_OFFSET;
    /* without group scheduling (my_q) there are no group entities */
    bool cfs = tree && r.cfs != LX_NO_OFFSET && r.root != LX_NO_OFFSET &&
               r.run_node != LX_NO_OFFSET && r.task_se != LX_NO_OFFSET &&
               r.my_q != LX_NO_OFFSET;
    bool rt = r.rt != LX_NO_OFFSET && r.rt_bitmap != LX_NO_OFFSET &&
              r.rt_queue != LX_NO_OFFSET && r.rt_run_list != LX_NO_OFFSET &&
              r.task_rt != LX_NO_OFFSET;
    bool dl = tree && r.dl != LX_NO_OFFSET && r.dl_root != LX_NO_OFFSET &&
              r.dl_node != LX_NO_OFFSET && r.task_dl != LX_NO_OFFSET;
    const struct rb_queue cfs_q = {r.run_node, r.my_q, r.task_se, r.root, V_CFS, "CFS"};
    const struct rb_queue dl_q = {r.dl_node, LX_NO_OFFSET, r.task_dl, r.dl_root, V_DL,
                                  "deadline"};
    if (lx_u32(c->xa, ids, &ncpus) < 0 || ncpus == 0 || ncpus > MAX_CPUS)
        return xa__set_error(c->xa, XA_EBADDATA, "implausible nr_cpu_ids");
    uint64_t budget = MAX_RQ_NODES;
    for (uint32_t cpu = 0; cpu < ncpus; cpu++) {
        uint64_t base, curr, rq = 0;
        /* __per_cpu_offset[] holds unsigned longs; on i386 they wrap round
         * 4 GiB (the per-CPU area may lie below the static section) */
        bool got = lx_ptr(c->xa, offsets + lx_ptr_size(c->xa) * cpu, &base) == 0;
        if (got)
            rq = lx_ptr_size(c->xa) == 4 ? (base + rqs) & 0xFFFFFFFFull : base + rqs;
        if (!got || lx_ptr(c->xa, rq + r.curr, &curr) < 0)
            return xa__set_error(c->xa, XA_EFAULT, "run queue of CPU %u unreadable", cpu);
        if (!lx_kptr(c->xa, curr))
            return xa__set_error(c->xa, XA_EBADDATA, "CPU %u runs a bad task 0x%llx", cpu,
                                 (unsigned long long)curr);
        int rc = judge_task(c, s, curr, V_CPU);
        if (rc == 0 && cfs)
            rc = walk_rbtree(c, s, &r, &cfs_q, rq + r.cfs, cpu, &budget);
        if (rc == 0 && rt)
            rc = walk_rt(c, s, &r, rq + r.rt, cpu, 0, &budget);
        if (rc == 0 && dl)
            rc = walk_rbtree(c, s, &r, &dl_q, rq + r.dl, cpu, &budget);
        if (rc)
            return rc;
    }
    return 0;
}

int check_processes(struct check_ctx *c)
{
    const struct linux_os *lx = linux_os(c->xa);
    if (lx_is32(lx) && !lx->btf)
        return check32_processes(c); /* offsets inferred, no data symbols */
    struct hide_state s = {.ring_budget = MAX_RING_NODES,
                           .hidden = {.view_names = view_names, .nr_views = V_COUNT}};
    struct task_offs *o = &s.o;
    const struct linux_offsets *lo = &linux_os(c->xa)->off;
    o->tasks = lo->task_tasks;
    o->tgid = lo->task_tgid;
    o->comm = lo->task_comm;
    o->flags = lo->task_flags;
    o->exit_state = lo->task_exit_state;
    o->real_parent = lo->task_real_parent;
    o->signal = lo->task_signal;
    o->group_leader = check_off(c, "task_struct", "group_leader");
    o->pid_links = check_off(c, "task_struct", "pid_links");
    o->pid_tasks = check_off(c, "pid", "tasks");
    o->thread_node = check_off(c, "task_struct", "thread_node");
    o->thread_head = check_off(c, "signal_struct", "thread_head");
    o->children = check_off(c, "task_struct", "children");
    o->sibling = check_off(c, "task_struct", "sibling");
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
    if (rc == 0)
        rc = walk_groups(c, &s);
    rc = check_hidden_report_all(c, &s.hidden, rc);
    free(s.listed_tasks);
    lx_ptrset_free(&s.listed);
    return rc;
}
