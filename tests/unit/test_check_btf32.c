/*
 * test_check_btf32.c -- the hidden-process check's BTF path
 * (os/linux/check_tasks.c) on a 32-bit kernel that has BTF, and the same
 * scenario on a 64-bit one: one code path, words of the kernel's width.
 *
 * One synthetic kernel per word size W (4 or 8), its layout told only
 * through a BTF of W-byte pointers and longs: a task list, the PID IDR of
 * init_pid_ns, thread groups, the process tree and two CPUs' run queues
 * (what each runs; CFS and deadline trees; an RT priority list), all
 * consistent, so the check finds nothing. Then one task at a time is
 * unlinked from the task list (LIST_POISON of its width in its links) and
 * the check must name exactly that task and exactly the views that still
 * reach it. The other checks that read kernel words through BTF on either
 * width follow: a kprobe whose handler is outside the text, a loaded eBPF
 * program, a hooked line discipline beside a clean tty driver and input
 * handler: each exactly one finding.
 *
 * The 32-bit kernel is made as btf32_kernel.h says. Per-CPU offsets wrap
 * round 4 GiB as on i386 (the per-CPU areas lie below the static section).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "os/linux/lxpriv.h"
#include "xenaccess.h"
#include "xenaccess_check.h"

#define CHECK_CONTEXT (cur_xa ? xa_errmsg(cur_xa) : "")
static struct xa_instance *cur_xa;
#include "check.h"
#include "synthetic_guest.h"
#include "btf32_kernel.h"

#define NR_CPUS_W 2u
#define RT_PRIOS 100u

/* The layout (byte offsets), in kernel words where the kernel has words. */
#define TS_FLAGS 0x10
#define TS_TASKS 0x20
#define TS_PID 0x40
#define TS_TGID 0x44
#define TS_EXIT_STATE 0x48
#define TS_COMM 0x50
#define TS_REAL_PARENT (0x60 + 0 * W)
#define TS_GROUP_LEADER (0x60 + 1 * W)
#define TS_SIGNAL (0x60 + 2 * W)
#define TS_PID_LINKS (0x60 + 3 * W) /* hlist_node[PIDTYPE_MAX]: [0] is PIDTYPE_PID */
#define TS_THREAD_NODE (0x60 + 5 * W)
#define TS_CHILDREN (0x60 + 7 * W)
#define TS_SIBLING (0x60 + 9 * W)
#define TS_SE 0x100
#define TS_RT 0x180
#define TS_DL 0x1c0
#define TS_SIZE 0x200
#define SIG_THREADS (2 * W)
#define PID_TASKS W /* struct pid: a count, then tasks[] (hlist_heads) */
#define NS_IDR (2 * W)
#define XA_HEAD 8    /* xarray: spinlock and flags, then xa_head */
#define XNODE_SLOTS (W == 8 ? 0x28u : 0x14u)
#define SE_RUN_NODE (2 * W)
#define SE_MY_Q (8 * W)
#define RQ_CURR W
#define RQ_CFS 0x40
#define CFS_TIMELINE (2 * W) /* rb_root_cached: rb_root.rb_node first */
#define RQ_RT 0x80           /* rt_rq.active: 128 bitmap bits, then 100 list_heads */
#define RT_QUEUE 16
#define RQ_DL 0x800 /* dl_rq.root (rb_root_cached) first */
#define RQ_SIZE 0x900
#define KP_LIST (2 * W) /* struct kprobe: hlist first */
#define KP_ADDR (4 * W)
#define KP_PRE (5 * W)
#define KP_POST (6 * W)
#define BP_TYPE 4 /* struct bpf_prog */
#define BP_AUX (2 * W)
#define BA_ID 0x10 /* struct bpf_prog_aux */
#define BA_NAME 0x40
#define BA_ATTACH (0x40 + 16)
#define LD_NAME 0 /* struct tty_ldisc_ops */
#define LD_OPEN (2 * W)
#define LD_RECEIVE_BUF (10 * W)
#define TO_OPEN (3 * W) /* struct tty_operations */
#define TD_OWNER W      /* struct tty_driver */
#define TD_NAME (3 * W)
#define TD_OPS (12 * W)
#define TD_LIST (13 * W)
#define IH_EVENT W /* struct input_handler */
#define IH_NAME (10 * W)
#define IH_NODE (14 * W)
#define NR_LDISCS 31

/* ---- the kernel's memory, by physical address and its W-byte VA ---------- */

/* LIST_POISON1/2 of the kernel's width (POISON_POINTER_DELTA: 0 on i386). */
static uint64_t poison(unsigned k)
{
    return (W == 8 ? 0xdead000000000000ULL : 0) + (k == 1 ? 0x100 : 0x122);
}

/* A circular list_head ring: @head (a PA), then member @off of each task. */
static void ring(uint64_t head, const uint64_t *objs, size_t n, uint64_t off)
{
    uint64_t nodes[8];
    size_t k = 0;
    nodes[k++] = head;
    for (size_t i = 0; i < n; i++)
        nodes[k++] = objs[i] + off;
    for (size_t i = 0; i < k; i++) {
        put_word(nodes[i], va(nodes[(i + 1) % k]));
        put_word(nodes[i] + W, va(nodes[(i + k - 1) % k]));
    }
}

/* ---- the BTF of a W-byte kernel ------------------------------------------ */

static struct btf *btf_words(void)
{
    struct btf32_types t;
    struct btf *b = btf32_new(&t);
    int t_uchar = btf__add_int(b, "unsigned char", 1, 0);
    int s_rb_cached = btf__add_struct(b, "rb_root_cached", 2 * W);
    btf__add_field(b, "rb_root", t.s_rb_root, 0, 0);
    btf__add_field(b, "rb_leftmost", t.t_ptr, W * 8, 0);

    int a_comm = btf__add_array(b, t.t_int, t.t_char, 16);
    int a_links = btf__add_array(b, t.t_int, t.s_list, 1);
    int s_se = btf__add_struct(b, "sched_entity", 16 * W);
    btf__add_field(b, "run_node", t.s_rb, SE_RUN_NODE * 8, 0);
    btf__add_field(b, "my_q", t.t_ptr, SE_MY_Q * 8, 0);
    int s_rt_se = btf__add_struct(b, "sched_rt_entity", 4 * W);
    btf__add_field(b, "run_list", t.s_list, 0, 0);
    int s_dl_se = btf__add_struct(b, "sched_dl_entity", 4 * W);
    btf__add_field(b, "rb_node", t.s_rb, 0, 0);
    btf__add_struct(b, "task_struct", TS_SIZE);
    btf__add_field(b, "flags", t.t_uint, TS_FLAGS * 8, 0);
    btf__add_field(b, "tasks", t.s_list, TS_TASKS * 8, 0);
    btf__add_field(b, "pid", t.t_int, TS_PID * 8, 0);
    btf__add_field(b, "tgid", t.t_int, TS_TGID * 8, 0);
    btf__add_field(b, "exit_state", t.t_int, TS_EXIT_STATE * 8, 0);
    btf__add_field(b, "comm", a_comm, TS_COMM * 8, 0);
    btf__add_field(b, "real_parent", t.t_ptr, TS_REAL_PARENT * 8, 0);
    btf__add_field(b, "group_leader", t.t_ptr, TS_GROUP_LEADER * 8, 0);
    btf__add_field(b, "signal", t.t_ptr, TS_SIGNAL * 8, 0);
    btf__add_field(b, "pid_links", a_links, TS_PID_LINKS * 8, 0);
    btf__add_field(b, "thread_node", t.s_list, TS_THREAD_NODE * 8, 0);
    btf__add_field(b, "children", t.s_list, TS_CHILDREN * 8, 0);
    btf__add_field(b, "sibling", t.s_list, TS_SIBLING * 8, 0);
    btf__add_field(b, "se", s_se, TS_SE * 8, 0);
    btf__add_field(b, "rt", s_rt_se, TS_RT * 8, 0);
    btf__add_field(b, "dl", s_dl_se, TS_DL * 8, 0);
    btf__add_struct(b, "signal_struct", 8 * W);
    btf__add_field(b, "thread_head", t.s_list, SIG_THREADS * 8, 0);

    int a_tasks = btf__add_array(b, t.t_int, t.t_ptr, 4);
    btf__add_struct(b, "pid", 8 * W);
    btf__add_field(b, "tasks", a_tasks, PID_TASKS * 8, 0);
    int a_slots = btf__add_array(b, t.t_int, t.t_ptr, 64);
    btf__add_struct(b, "xa_node", XNODE_SLOTS + 64 * W);
    btf__add_field(b, "shift", t_uchar, 0, 0);
    btf__add_field(b, "slots", a_slots, XNODE_SLOTS * 8, 0);
    int s_xarray = btf__add_struct(b, "xarray", XA_HEAD + W);
    btf__add_field(b, "xa_head", t.t_ptr, XA_HEAD * 8, 0);
    int s_idr = btf__add_struct(b, "idr", XA_HEAD + 3 * W);
    btf__add_field(b, "idr_rt", s_xarray, 0, 0);
    btf__add_struct(b, "pid_namespace", 0x40);
    btf__add_field(b, "idr", s_idr, NS_IDR * 8, 0);

    int s_cfs = btf__add_struct(b, "cfs_rq", 0x40);
    btf__add_field(b, "tasks_timeline", s_rb_cached, CFS_TIMELINE * 8, 0);
    int a_bitmap = btf__add_array(b, t.t_int, t.t_ulong, 16 / W);
    int a_queue = btf__add_array(b, t.t_int, t.s_list, RT_PRIOS);
    int s_prio = btf__add_struct(b, "rt_prio_array", RT_QUEUE + RT_PRIOS * 2 * W);
    btf__add_field(b, "bitmap", a_bitmap, 0, 0);
    btf__add_field(b, "queue", a_queue, RT_QUEUE * 8, 0);
    int s_rt = btf__add_struct(b, "rt_rq", RT_QUEUE + RT_PRIOS * 2 * W);
    btf__add_field(b, "active", s_prio, 0, 0);
    int s_dl = btf__add_struct(b, "dl_rq", 4 * W);
    btf__add_field(b, "root", s_rb_cached, 0, 0);
    btf__add_struct(b, "rq", RQ_SIZE);
    btf__add_field(b, "curr", t.t_ptr, RQ_CURR * 8, 0);
    btf__add_field(b, "cfs", s_cfs, RQ_CFS * 8, 0);
    btf__add_field(b, "rt", s_rt, RQ_RT * 8, 0);
    btf__add_field(b, "dl", s_dl, RQ_DL * 8, 0);

    btf__add_struct(b, "kprobe", 8 * W);
    btf__add_field(b, "hlist", t.t_ptr, 0, 0); /* hlist_node: next first */
    btf__add_field(b, "list", t.s_list, KP_LIST * 8, 0);
    btf__add_field(b, "addr", t.t_ptr, KP_ADDR * 8, 0);
    btf__add_field(b, "pre_handler", t.t_ptr, KP_PRE * 8, 0);
    btf__add_field(b, "post_handler", t.t_ptr, KP_POST * 8, 0);
    btf__add_struct(b, "bpf_prog", 0x40);
    btf__add_field(b, "type", t.t_uint, BP_TYPE * 8, 0);
    btf__add_field(b, "aux", t.t_ptr, BP_AUX * 8, 0);
    btf__add_struct(b, "bpf_prog_aux", 0x80);
    btf__add_field(b, "id", t.t_uint, BA_ID * 8, 0);
    btf__add_field(b, "name", a_comm, BA_NAME * 8, 0);
    btf__add_field(b, "attach_func_name", t.t_ptr, BA_ATTACH * 8, 0);
    btf__add_struct(b, "tty_ldisc_ops", 16 * W);
    btf__add_field(b, "name", t.t_ptr, LD_NAME * 8, 0);
    btf__add_field(b, "open", t.t_ptr, LD_OPEN * 8, 0);
    btf__add_field(b, "receive_buf", t.t_ptr, LD_RECEIVE_BUF * 8, 0);
    btf__add_struct(b, "tty_operations", 16 * W);
    btf__add_field(b, "open", t.t_ptr, TO_OPEN * 8, 0);
    btf__add_struct(b, "tty_driver", 16 * W);
    btf__add_field(b, "owner", t.t_ptr, TD_OWNER * 8, 0);
    btf__add_field(b, "name", t.t_ptr, TD_NAME * 8, 0);
    btf__add_field(b, "ops", t.t_ptr, TD_OPS * 8, 0);
    btf__add_field(b, "tty_drivers", t.s_list, TD_LIST * 8, 0);
    btf__add_struct(b, "input_handler", 16 * W);
    btf__add_field(b, "event", t.t_ptr, IH_EVENT * 8, 0);
    btf__add_field(b, "name", t.t_ptr, IH_NAME * 8, 0);
    btf__add_field(b, "node", t.s_list, IH_NODE * 8, 0);

    return b;
}

/* ---- the kernel ------------------------------------------------------------ */

/* swapper/0 (init_task), init, kthreadd, worker (pid 300) and its thread
 * 302, rootkitd (666, init's child). */
enum { SWAPPER, INIT, KTHREADD, WORKER, WORKER_T, ROOTKITD, NR_TASKS };
static const int task_pid[NR_TASKS] = {0, 1, 2, 300, 302, 666};
static const int task_tgid[NR_TASKS] = {0, 1, 2, 300, 300, 666};
static const char *const task_comm[NR_TASKS] = {"swapper/0", "init", "kthreadd", "worker",
                                                "worker-t", "rootkitd"};
static const int task_parent[NR_TASKS] = {SWAPPER, SWAPPER, SWAPPER, INIT, INIT, INIT};
static uint64_t task[NR_TASKS]; /* PAs */
static uint64_t sym_init_pid_ns, sym_runqueues, sym_per_cpu_offset, sym_nr_cpu_ids;
static uint64_t sym_kprobe_table, sym_prog_idr, sym_tty_ldiscs, sym_tty_drivers,
    sym_input_handlers;
static uint64_t kprobe_va, prog_va; /* what the hooks checks must name */

/* Code in the kernel's text, and code outside it (a module's). */
static uint64_t text_va(uint64_t off) { return (W == 8 ? KVIRT + TEXT64 : 0xC1000000ULL) + off; }
static uint64_t module_va(uint64_t off)
{
    return (W == 8 ? 0xffffffffc0000000ULL : 0xF8000000ULL) + off;
}
static uint64_t string(const char *str) { return va(pa_of(gstr(str))); }

static void put_task(int t)
{
    uint64_t p = task[t];
    put32(p + TS_PID, (uint32_t)task_pid[t]);
    put32(p + TS_TGID, (uint32_t)task_tgid[t]);
    memcpy(img + p + TS_COMM, task_comm[t], strlen(task_comm[t]) + 1);
    put_word(p + TS_REAL_PARENT, va(task[task_parent[t]]));
    put_word(p + TS_GROUP_LEADER, va(task[t == WORKER_T ? WORKER : t]));
    put_word(p + TS_CHILDREN, va(p + TS_CHILDREN)); /* empty until a ring says more */
    put_word(p + TS_CHILDREN + W, va(p + TS_CHILDREN));
}

/* The PID IDR: a root node of shift 6 over a leaf per 64 PIDs. */
static void build_pid_idr(void)
{
    uint64_t root = alloc(XNODE_SLOTS + 64 * W), leaf[64] = {0};
    img[root] = 6;
    for (int t = INIT; t < NR_TASKS; t++) {
        uint64_t pid = alloc(8 * W);
        put_word(pid + PID_TASKS, va(task[t] + TS_PID_LINKS)); /* tasks[PIDTYPE_PID].first */
        unsigned hi = (unsigned)task_pid[t] >> 6, lo = (unsigned)task_pid[t] & 63;
        if (!leaf[hi]) {
            leaf[hi] = alloc(XNODE_SLOTS + 64 * W);
            put_word(root + XNODE_SLOTS + W * hi, va(leaf[hi]) | 2);
        }
        put_word(leaf[hi] + XNODE_SLOTS + W * lo, va(pid));
    }
    sym_init_pid_ns = alloc(0x40);
    put_word(sym_init_pid_ns + NS_IDR + XA_HEAD, va(root) | 2);
}

/* Two CPUs: CPU 0 runs swapper/0 and has worker's thread on RT priority
 * 10; CPU 1 runs init, has kthreadd and rootkitd (its right child) in the
 * CFS tree and worker in the deadline tree. */
static void build_run_queues(void)
{
    uint64_t area[NR_CPUS_W];
    for (unsigned cpu = 0; cpu < NR_CPUS_W; cpu++)
        area[cpu] = pa_of(galloc(0x1000, 0x1000));
    /* the static per-CPU section, above the areas: offsets are "negative" */
    sym_runqueues = pa_of(galloc(0x1000, 0x1000));
    sym_per_cpu_offset = alloc(NR_CPUS_W * W);
    sym_nr_cpu_ids = alloc(8);
    put32(sym_nr_cpu_ids, NR_CPUS_W);
    for (unsigned cpu = 0; cpu < NR_CPUS_W; cpu++) {
        uint64_t off = va(area[cpu]) - va(sym_runqueues);
        put_word(sym_per_cpu_offset + W * cpu, W == 4 ? off & 0xFFFFFFFFu : off);
        uint64_t rt = area[cpu] + RQ_RT;
        for (unsigned prio = 0; prio < RT_PRIOS; prio++) {
            uint64_t head = rt + RT_QUEUE + 2 * W * prio;
            put_word(head, va(head));
            put_word(head + W, va(head));
        }
        img[rt + 100 / 8] |= 1u << (100 % 8); /* MAX_RT_PRIO: the delimiter bit */
    }
    put_word(area[0] + RQ_CURR, va(task[SWAPPER]));
    put_word(area[1] + RQ_CURR, va(task[INIT]));
    /* RT: priority 10 of CPU 0 */
    uint64_t rt0 = area[0] + RQ_RT;
    ring(rt0 + RT_QUEUE + 2 * W * 10, &task[WORKER_T], 1, TS_RT);
    img[rt0 + 10 / 8] |= 1u << (10 % 8);
    /* CFS of CPU 1: kthreadd at the root, rootkitd its right child (black) */
    uint64_t n2 = task[KTHREADD] + TS_SE + SE_RUN_NODE, n6 = task[ROOTKITD] + TS_SE + SE_RUN_NODE;
    put_word(area[1] + RQ_CFS + CFS_TIMELINE, va(n2));
    put_word(n2 + W, va(n6));
    put_word(n6, va(n2) | 1);
    /* deadline of CPU 1: worker alone */
    put_word(area[1] + RQ_DL, va(task[WORKER] + TS_DL));
}

/* One kprobe (bucket 5) with its handler in a module; one eBPF program
 * (a lone entry of prog_idr); n_tty as line discipline 0 with its
 * receive_buf in a module, a clean tty driver and input handler. */
static void build_hooks(void)
{
    sym_kprobe_table = alloc(64 * W);
    uint64_t kp = alloc(8 * W);
    kprobe_va = va(kp);
    put_word(sym_kprobe_table + 5 * W, kprobe_va);
    put_word(kp + KP_ADDR, text_va(0x3000));
    put_word(kp + KP_PRE, module_va(0x40));
    put_word(kp + KP_POST, text_va(0x3100));

    sym_prog_idr = alloc(XA_HEAD + 3 * W);
    uint64_t prog = alloc(0x40), aux = alloc(0x80);
    prog_va = va(prog);
    put_word(sym_prog_idr + XA_HEAD, prog_va);
    put32(prog + BP_TYPE, 2); /* BPF_PROG_TYPE_KPROBE */
    put_word(prog + BP_AUX, va(aux));
    put32(aux + BA_ID, 7);
    strcpy((char *)img + aux + BA_NAME, "hook_prog");
    put_word(aux + BA_ATTACH, string("do_sys_open"));

    sym_tty_ldiscs = alloc(NR_LDISCS * W + 8);
    uint64_t ldisc = alloc(16 * W);
    put_word(sym_tty_ldiscs, va(ldisc));
    put_word(ldisc + LD_NAME, string("n_tty"));
    put_word(ldisc + LD_OPEN, text_va(0x5000));
    put_word(ldisc + LD_RECEIVE_BUF, module_va(0x80));
    uint64_t ops = alloc(16 * W), drv = alloc(16 * W), handler = alloc(16 * W);
    put_word(ops + TO_OPEN, text_va(0x5100));
    put_word(drv + TD_NAME, string("ttyS"));
    put_word(drv + TD_OPS, va(ops));
    sym_tty_drivers = alloc(2 * W);
    ring(sym_tty_drivers, &drv, 1, TD_LIST);
    put_word(handler + IH_NAME, string("kbd"));
    put_word(handler + IH_EVENT, text_va(0x5200));
    sym_input_handlers = alloc(2 * W);
    ring(sym_input_handlers, &handler, 1, IH_NODE);
}

/* The whole kernel, every task on the task list but @hidden (-1: none). */
static void build_kernel(int hidden)
{
    btf32_reset();
    for (int t = 0; t < NR_TASKS; t++)
        task[t] = alloc(TS_SIZE);
    for (int t = 0; t < NR_TASKS; t++)
        put_task(t);
    /* the task list: the leaders, init_task first */
    uint64_t listed[NR_TASKS];
    size_t n = 0;
    for (int t = INIT; t < NR_TASKS; t++)
        if (t != WORKER_T && t != hidden)
            listed[n++] = task[t];
    ring(task[SWAPPER] + TS_TASKS, listed, n, TS_TASKS);
    if (hidden >= 0) { /* list_del_rcu(): next poisoned by list_del, prev too */
        put_word(task[hidden] + TS_TASKS, poison(1));
        put_word(task[hidden] + TS_TASKS + W, poison(2));
    }
    /* thread groups: one thread each, worker two */
    for (int t = 0; t < NR_TASKS; t++) {
        if (t == WORKER_T)
            continue;
        uint64_t sig = alloc(8 * W);
        put_word(task[t] + TS_SIGNAL, va(sig));
        const uint64_t group[] = {task[t], task[WORKER_T]};
        ring(sig + SIG_THREADS, group, t == WORKER ? 2 : 1, TS_THREAD_NODE);
        if (t == WORKER)
            put_word(task[WORKER_T] + TS_SIGNAL, va(sig));
    }
    /* the process tree (a thread's children are on its own list) */
    const uint64_t of_swapper[] = {task[INIT], task[KTHREADD]};
    ring(task[SWAPPER] + TS_CHILDREN, of_swapper, 2, TS_SIBLING);
    const uint64_t of_init[] = {task[WORKER], task[ROOTKITD]};
    ring(task[INIT] + TS_CHILDREN, of_init, 2, TS_SIBLING);
    build_pid_idr();
    build_run_queues();
    build_hooks();
}

/* ---- running the check ----------------------------------------------------- */

/* The System.map: the anchors, then the symbols the checks read. */
static void write_map(char *text, size_t size)
{
    int n = btf32_map_anchors(text, size);
    snprintf(text + n, size - (size_t)n,
             "%016llx D init_task\n"
             "%016llx D init_pid_ns\n%016llx D runqueues\n%016llx D __per_cpu_offset\n"
             "%016llx D nr_cpu_ids\n%016llx d kprobe_table\n%016llx d prog_idr\n"
             "%016llx b tty_ldiscs\n%016llx b tty_ldiscs_lock\n%016llx D tty_drivers\n"
             "%016llx d input_handler_list\n",
             (unsigned long long)va(task[SWAPPER]), (unsigned long long)va(sym_init_pid_ns),
             (unsigned long long)va(sym_runqueues), (unsigned long long)va(sym_per_cpu_offset),
             (unsigned long long)va(sym_nr_cpu_ids), (unsigned long long)va(sym_kprobe_table),
             (unsigned long long)va(sym_prog_idr), (unsigned long long)va(sym_tty_ldiscs),
             (unsigned long long)va(sym_tty_ldiscs + NR_LDISCS * W),
             (unsigned long long)va(sym_tty_drivers), (unsigned long long)va(sym_input_handlers));
}

static struct xa_instance *open_kernel(void)
{
    char map[4096];
    write_map(map, sizeof(map));
    return cur_xa = btf32_open(btf_words(), map);
}

struct seen {
    int n;
    struct xa_finding last;
};

static int collect(const struct xa_finding *f, void *ctx)
{
    struct seen *s = ctx;
    if (!(f->flags & XA_FINDING_NOTE)) {
        s->n++;
        s->last = *f;
    }
    return 0;
}

/* @check on the kernel with @hidden unlinked: its findings in @s. */
static int run_check(enum xa_check check, int hidden, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    build_kernel(hidden);
    struct xa_instance *xa = open_kernel();
    if (!xa)
        return -1000;
    int rc = xa_check_run(xa, check, collect, s);
    if (rc < 0)
        fprintf(stderr, "  (%u-byte words, %s: %s)\n", W, xa_check_name(check), xa_errmsg(xa));
    xa_destroy(xa);
    cur_xa = NULL;
    return rc;
}

static int run(int hidden, struct seen *s)
{
    return run_check(XA_CHECK_PROCESSES, hidden, s);
}

/* @check finds exactly one thing: @technique at @addr, its detail @want. */
static void expect_one(enum xa_check check, const char *technique, uint64_t addr,
                       const char *want)
{
    struct seen s;
    int rc = run_check(check, -1, &s);
    CHECK(rc == 1 && s.n == 1, "%u-byte words, %s: rc %d, %d findings", W, xa_check_name(check),
          rc, s.n);
    CHECK(s.last.technique && strcmp(s.last.technique, technique) == 0 && s.last.addr == addr,
          "%u-byte words: %s at 0x%llx", W, s.last.technique ? s.last.technique : "no finding",
          (unsigned long long)s.last.addr);
    CHECK(strcmp(s.last.detail, want) == 0, "%u-byte words: \"%s\", want \"%s\"", W,
          s.last.detail, want);
}

static void test_hooks(void)
{
    char want[256];
    snprintf(want, sizeof(want), "kprobe 0x%llx on _stext+0x3000, handler 0x%llx",
             (unsigned long long)kprobe_va, (unsigned long long)module_va(0x40));
    expect_one(XA_CHECK_KPROBES, "kprobe", module_va(0x40), want);
    expect_one(XA_CHECK_BPF, "bpf-program", prog_va,
               "eBPF program id 7 \"hook_prog\", type kprobe, attached to do_sys_open");
    snprintf(want, sizeof(want),
             "line discipline 0 (tty_ldiscs[0]) .receive_buf -> 0x%llx, outside the kernel's text",
             (unsigned long long)module_va(0x80));
    expect_one(XA_CHECK_OPS, "tty-hook", module_va(0x80), want);
}

static void expect_hidden(int hidden, const char *views)
{
    struct seen s;
    char want[256];
    snprintf(want, sizeof(want), "pid %d (%s) is %s but not on the task list", task_pid[hidden],
             task_comm[hidden], views);
    int rc = run(hidden, &s);
    CHECK(rc == 1 && s.n == 1, "%u-byte words, %s hidden: rc %d, %d findings", W,
          task_comm[hidden], rc, s.n);
    CHECK(strcmp(s.last.detail, want) == 0, "%u-byte words: \"%s\", want \"%s\"", W,
          s.last.detail, want);
    CHECK(s.last.technique && strcmp(s.last.technique, "hidden-process") == 0 &&
              s.last.pid == task_pid[hidden] &&
              s.last.addr == va(task[hidden]),
          "%u-byte words: %s pid %d at 0x%llx", W,
          s.last.technique ? s.last.technique : "no finding", (int)s.last.pid,
          (unsigned long long)s.last.addr);
}

static void test_words(unsigned word)
{
    W = word;
    struct seen s;
    CHECK_EQ(run(-1, &s), 0); /* every view agrees with the task list */
    CHECK_EQ(s.n, 0);
    /* each view in turn: the PID IDR, the CFS tree and init's children */
    expect_hidden(ROOTKITD, "in the PID IDR, queued on a CFS run queue and a listed task's child");
    /* the RT list (its thread), the deadline tree */
    expect_hidden(WORKER, "in the PID IDR, queued on an RT run queue, queued on a deadline run "
                          "queue and a listed task's child");
    /* what CPU 1 runs, and the parent of listed tasks */
    expect_hidden(INIT, "in the PID IDR, running on a CPU, a listed task's child and a listed "
                        "task's parent");
    test_hooks();
}

int main(void)
{
    img = calloc(1, IMG_SIZE);
    if (!img)
        return 1;
    test_words(8);
    test_words(4);
    btf32_cleanup();
    free(img);
    CHECK_DONE();
}
