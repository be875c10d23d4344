/*
 * synthetic_check.h -- the tables the rootkit checks read, added to the
 * synthetic guest (synthetic_guest.h): a sys_call_table, an IDT, an eBPF
 * program IDR, ftrace_ops_list and kprobe_table, their symbols and their
 * BTF. Shared by tests/unit/test_check.c and tests/fuzz/fuzz_checks.c.
 */
#ifndef XA_TEST_SYNTHETIC_CHECK_H
#define XA_TEST_SYNTHETIC_CHECK_H

#include "synthetic_guest.h"

/* Where the checked tables live in the kernel image. */
#define K_ETEXT 0x80000
#define K_SYSCALLS 0x100000
#define NR_SYSCALLS 8
#define K_IDT 0x101000
#define K_PROG_IDR 0x103000
#define K_FTRACE_LIST 0x103100
#define K_FTRACE_END 0x103200
#define K_KPROBES 0x104000
#define K_SEQ_OPS 0x104800 /* tcp4_seq_ops: four code pointers */
#define K_PID_NS 0x104900  /* init_pid_ns: its idr at PN_IDR */
#define PN_IDR 0x10
/* early_idt_handler_array in init text (freed after boot, outside the text):
 * 32 stubs of 13 bytes (ENDBR64 + 9, an IBT kernel), then _common. */
#define K_EARLY_IDT 0x105000
#define EARLY_STUB 13u
#define K_MODULE_KSET 0x104a00 /* module_kset: a pointer to the kset */
#define PID_TASKS 0x8      /* struct pid: tasks[PIDTYPE_MAX] */
#define MOD_E1000 0xffffffffc0000000ULL /* the synthetic modules' code */
#define MOD_EXT4 0xffffffffc0100000ULL

/* Layouts told through BTF. */
#define XN_SHIFT 0
#define XN_SLOTS 0x28
#define BP_TYPE 4
#define BP_AUX 0x38
#define BA_ID 0x10
#define BA_NAME 0x100
#define FO_FUNC 0
#define FO_NEXT 8
#define FO_FLAGS 16
#define KP_ADDR 40
#define KP_PRE 56
#define KP_POST 64
#define MK_MOD 0x40      /* module_kobject.mod; its kobj (entry first) at 0 */
#define MOD_STRUCT_AT 0x800 /* struct module in the first page of its core memory */
#define RQ_PCPU 0x100  /* runqueues: a per-CPU symbol, an offset into each CPU's area */
#define RQ_CURR 0
#define RQ_CFS 0x40
#define CFS_ROOT 0x10  /* cfs_rq.tasks_timeline.rb_root.rb_node */
#define SE_RUN_NODE 0x10
#define SE_MY_Q 0x80
#define RQ_RT 0x80    /* rt_rq: active.bitmap (2 longs), then active.queue[100] */
#define RT_QUEUE 0x10
#define RT_PRIO_MAX 100
#define RQ_DL 0x700   /* dl_rq: root (rb_root_cached) first */
/* Terminals and input: tty_ldiscs[31], the tty_drivers list, input_handler_list. */
#define K_TTY_LDISCS 0x104b00
#define NR_LDISCS_SYNTH 31
#define K_TTY_DRIVERS 0x104c00
#define K_INPUT_HANDLERS 0x104c20
#define LD_NAME 0 /* struct tty_ldisc_ops */
#define LD_OPEN 0x10
#define LD_RECEIVE_BUF 0x48
#define LD_RECEIVE_BUF2 0x60
#define TO_OPEN 0x18 /* struct tty_operations */
#define TO_WRITE 0x38
#define TD_OWNER 0x8 /* struct tty_driver */
#define TD_NAME 0x18
#define TD_OPS 0x60
#define TD_LIST 0x68
#define IH_EVENT 0x8 /* struct input_handler */
#define IH_CONNECT 0x28
#define IH_NAME 0x50
#define IH_NODE 0x70

/* The synthetic guest's BTF plus the check structures. */
static inline void *check_btf(uint32_t *size)
{
    uint32_t base_size;
    void *base = build_btf(&base_size);
    struct btf *b = btf__new(base, base_size);
    if (!b)
        abort();
    int t_int = btf__find_by_name(b, "int"), t_uint = btf__find_by_name(b, "unsigned int");
    int t_char = btf__find_by_name(b, "char"), t_uchar = btf__find_by_name(b, "unsigned char");
    int t_ulong = btf__find_by_name(b, "long unsigned int");
    int t_ptr = btf__add_ptr(b, 0);
    int a_slots = btf__add_array(b, t_int, t_ptr, 64);
    int a_name = btf__add_array(b, t_int, t_char, 16);
    btf__add_struct(b, "xa_node", XN_SLOTS + 64 * 8);
    btf__add_field(b, "shift", t_uchar, XN_SHIFT * 8, 0);
    btf__add_field(b, "slots", a_slots, XN_SLOTS * 8, 0);
    int s_xarray = btf__add_struct(b, "xarray", 16);
    btf__add_field(b, "xa_head", t_ptr, 64, 0);
    btf__add_struct(b, "idr", 24);
    btf__add_field(b, "idr_rt", s_xarray, 0, 0);
    btf__add_struct(b, "bpf_prog", 0x100);
    btf__add_field(b, "type", t_uint, BP_TYPE * 8, 0);
    btf__add_field(b, "aux", t_ptr, BP_AUX * 8, 0);
    btf__add_struct(b, "bpf_prog_aux", 0x200);
    btf__add_field(b, "id", t_uint, BA_ID * 8, 0);
    btf__add_field(b, "name", a_name, BA_NAME * 8, 0);
    btf__add_struct(b, "ftrace_ops", 0x100);
    btf__add_field(b, "func", t_ptr, FO_FUNC * 8, 0);
    btf__add_field(b, "next", t_ptr, FO_NEXT * 8, 0);
    btf__add_field(b, "flags", t_ulong, FO_FLAGS * 8, 0);
    int s_list = btf__find_by_name(b, "list_head");
    int a_tasks = btf__add_array(b, t_int, t_ptr, 4);
    btf__add_struct(b, "pid", 0x40);
    btf__add_field(b, "tasks", a_tasks, PID_TASKS * 8, 0);
    int s_idr = btf__find_by_name(b, "idr");
    btf__add_struct(b, "pid_namespace", 0x40);
    btf__add_field(b, "idr", s_idr, PN_IDR * 8, 0);
    btf__add_struct(b, "seq_operations", 32);
    btf__add_field(b, "start", t_ptr, 0, 0);
    btf__add_field(b, "stop", t_ptr, 64, 0);
    btf__add_field(b, "next", t_ptr, 128, 0);
    btf__add_field(b, "show", t_ptr, 192, 0);
    btf__add_struct(b, "kprobe", 96);
    btf__add_field(b, "hlist", t_ptr, 0, 0); /* hlist_node: next first */
    btf__add_field(b, "list", s_list, 16 * 8, 0);
    btf__add_field(b, "addr", t_ptr, KP_ADDR * 8, 0);
    btf__add_field(b, "pre_handler", t_ptr, KP_PRE * 8, 0);
    btf__add_field(b, "post_handler", t_ptr, KP_POST * 8, 0);
    btf__add_struct(b, "kset", 0x40);
    btf__add_field(b, "list", s_list, 0, 0);
    int s_kobj = btf__add_struct(b, "kobject", 0x40);
    btf__add_field(b, "entry", s_list, 0, 0);
    btf__add_struct(b, "module_kobject", 0x60);
    btf__add_field(b, "kobj", s_kobj, 0, 0);
    btf__add_field(b, "mod", t_ptr, MK_MOD * 8, 0);
    int s_rb = btf__add_struct(b, "rb_node", 24);
    btf__add_field(b, "__rb_parent_color", t_ulong, 0, 0);
    btf__add_field(b, "rb_right", t_ptr, 64, 0);
    btf__add_field(b, "rb_left", t_ptr, 128, 0);
    int s_rb_root = btf__add_struct(b, "rb_root", 8);
    btf__add_field(b, "rb_node", t_ptr, 0, 0);
    int s_rb_cached = btf__add_struct(b, "rb_root_cached", 16);
    btf__add_field(b, "rb_root", s_rb_root, 0, 0);
    btf__add_field(b, "rb_leftmost", t_ptr, 64, 0);
    int s_cfs = btf__add_struct(b, "cfs_rq", 0x40);
    btf__add_field(b, "tasks_timeline", s_rb_cached, CFS_ROOT * 8, 0);
    int a_bitmap = btf__add_array(b, t_int, t_ulong, 2);
    int a_queue = btf__add_array(b, t_int, s_list, RT_PRIO_MAX);
    int s_prio = btf__add_struct(b, "rt_prio_array", RT_QUEUE + RT_PRIO_MAX * 16);
    btf__add_field(b, "bitmap", a_bitmap, 0, 0);
    btf__add_field(b, "queue", a_queue, RT_QUEUE * 8, 0);
    int s_rt = btf__add_struct(b, "rt_rq", RT_QUEUE + RT_PRIO_MAX * 16 + 16);
    btf__add_field(b, "active", s_prio, 0, 0);
    int s_dl = btf__add_struct(b, "dl_rq", 0x40);
    btf__add_field(b, "root", s_rb_cached, 0, 0);
    btf__add_struct(b, "sched_rt_entity", 0x40);
    btf__add_field(b, "run_list", s_list, 0, 0);
    btf__add_struct(b, "sched_dl_entity", 0x40);
    btf__add_field(b, "rb_node", s_rb, 0, 0);
    btf__add_struct(b, "tty_ldisc_ops", 0x80);
    btf__add_field(b, "name", t_ptr, LD_NAME * 8, 0);
    btf__add_field(b, "open", t_ptr, LD_OPEN * 8, 0);
    btf__add_field(b, "receive_buf", t_ptr, LD_RECEIVE_BUF * 8, 0);
    btf__add_field(b, "receive_buf2", t_ptr, LD_RECEIVE_BUF2 * 8, 0);
    btf__add_struct(b, "tty_operations", 0x100);
    btf__add_field(b, "open", t_ptr, TO_OPEN * 8, 0);
    btf__add_field(b, "write", t_ptr, TO_WRITE * 8, 0);
    btf__add_struct(b, "tty_driver", 0x80);
    btf__add_field(b, "owner", t_ptr, TD_OWNER * 8, 0);
    btf__add_field(b, "name", t_ptr, TD_NAME * 8, 0);
    btf__add_field(b, "ops", t_ptr, TD_OPS * 8, 0);
    btf__add_field(b, "tty_drivers", s_list, TD_LIST * 8, 0);
    btf__add_struct(b, "input_handler", 0x80);
    btf__add_field(b, "event", t_ptr, IH_EVENT * 8, 0);
    btf__add_field(b, "connect", t_ptr, IH_CONNECT * 8, 0);
    btf__add_field(b, "name", t_ptr, IH_NAME * 8, 0);
    btf__add_field(b, "node", s_list, IH_NODE * 8, 0);
    btf__add_struct(b, "rq", 0x800);
    btf__add_field(b, "curr", t_ptr, RQ_CURR * 8, 0);
    btf__add_field(b, "cfs", s_cfs, RQ_CFS * 8, 0);
    btf__add_field(b, "rt", s_rt, RQ_RT * 8, 0);
    btf__add_field(b, "dl", s_dl, RQ_DL * 8, 0);
    btf__add_struct(b, "sched_entity", 0x100);
    btf__add_field(b, "run_node", s_rb, SE_RUN_NODE * 8, 0);
    btf__add_field(b, "my_q", t_ptr, SE_MY_Q * 8, 0);
    (void)t_int;
    const void *raw = btf__raw_data(b, size);
    void *copy = malloc(*size);
    memcpy(copy, raw, *size);
    btf__free(b);
    free(base);
    return copy;
}

/* The System.map with the checked tables: the length written to @text. */
static inline int check_sysmap_text(char *text, size_t size)
{
    int n = guest_sysmap_text(text, size);
    n += snprintf(text + n, size - (size_t)n, "%016x A runqueues\n", RQ_PCPU);
    static const struct {
        uint64_t off;
        char type;
        const char *name;
    } syms[] = {
        {0, 'T', "_stext"},
        {K_ETEXT, 'T', "_etext"},
        {K_SYSCALLS, 'R', "sys_call_table"},
        {K_SYSCALLS + NR_SYSCALLS * 8, 'R', "after_sys_call_table"},
        {K_IDT, 'D', "idt_table"},
        {K_IDT + 0x1000, 'D', "after_idt_table"},
        {K_PROG_IDR, 'd', "prog_idr"},
        {K_FTRACE_LIST, 'D', "ftrace_ops_list"},
        {K_FTRACE_END, 'D', "ftrace_list_end"},
        {K_KPROBES, 'd', "kprobe_table"},
        {K_SEQ_OPS, 'r', "tcp4_seq_ops"},
        {K_PID_NS, 'D', "init_pid_ns"},
        {K_MODULE_KSET, 'D', "module_kset"},
        {K_EARLY_IDT, 't', "early_idt_handler_array"},
        {K_EARLY_IDT + 32 * EARLY_STUB, 't', "early_idt_handler_common"},
        {K_TTY_LDISCS, 'b', "tty_ldiscs"},
        {K_TTY_LDISCS + NR_LDISCS_SYNTH * 8, 'b', "tty_ldiscs_lock"},
        {K_TTY_DRIVERS, 'D', "tty_drivers"},
        {K_INPUT_HANDLERS, 'd', "input_handler_list"},
    };
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
        n += snprintf(text + n, size - (size_t)n, "%016llx %c %s\n",
                      (unsigned long long)(KLINK + syms[i].off), syms[i].type, syms[i].name);
    return n;
}

static inline void set_gate(unsigned v, uint64_t handler)
{
    uint64_t g = kpa(K_IDT) + 16u * v;
    uint16_t lo = (uint16_t)handler, mid = (uint16_t)(handler >> 16), bits = 0x8e00;
    uint32_t hi = (uint32_t)(handler >> 32);
    memcpy(img + g, &lo, 2);
    memcpy(img + g + 4, &bits, 2);
    memcpy(img + g + 6, &mid, 2);
    memcpy(img + g + 8, &hi, 4);
}

/* The PID IDR of init_pid_ns over the synthetic tasks (pids 1, 2, 300,
 * 301 and threads 302, 303 of 300): a root of shift 6 over two leaves. */
static inline void build_pid_idr(void)
{
    uint64_t root = galloc(XN_SLOTS + 64 * 8, 64);
    img[pa_of(root + XN_SHIFT)] = 6;
    const uint64_t tasks[] = {task_va[1], task_va[2], task_va[3], task_va[4], thread_va[0],
                              thread_va[1]};
    const uint64_t leaders[] = {task_va[1], task_va[2], task_va[3], task_va[4], task_va[3],
                                task_va[3]};
    const int pids[] = {1, 2, 300, 301, 302, 303};
    uint64_t leaf[64] = {0};
    for (int i = 0; i < 6; i++) {
        uint64_t pid = galloc(0x40, 64);
        vput64(pid + PID_TASKS, tasks[i] + T_PID_LINKS);
        vput64(tasks[i] + T_GROUP_LEADER, leaders[i]);
        unsigned hi = (unsigned)pids[i] >> 6, lo = (unsigned)pids[i] & 63;
        if (!leaf[hi]) {
            leaf[hi] = galloc(XN_SLOTS + 64 * 8, 64);
            vput64(root + XN_SLOTS + 8u * hi, leaf[hi] | 2);
        }
        vput64(leaf[hi] + XN_SLOTS + 8u * lo, pid);
    }
    vput64(task_va[0] + T_GROUP_LEADER, task_va[0]);
    put64(kpa(K_PID_NS) + PN_IDR + 8, root | 2); /* idr_rt.xa_head */
}

/* The process tree: init_task's children are init and kthreadd, init's
 * is worker (300), worker's is zomb (301); the threads have none. */
static inline void build_process_tree(void)
{
    const uint64_t all[] = {task_va[0], task_va[1], task_va[2], task_va[3], task_va[4],
                            thread_va[0], thread_va[1]};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        vput64(all[i] + T_CHILDREN, all[i] + T_CHILDREN);
        vput64(all[i] + T_CHILDREN + 8, all[i] + T_CHILDREN);
    }
    const uint64_t of_swapper[] = {task_va[1], task_va[2]};
    link_list(task_va[0] + T_CHILDREN, of_swapper, 2, T_SIBLING);
    link_list(task_va[1] + T_CHILDREN, &task_va[3], 1, T_SIBLING);
    link_list(task_va[3] + T_CHILDREN, &task_va[4], 1, T_SIBLING);
}

/* The run queues: CPU 0 runs swapper/0 and queues nothing; CPU 1 runs init
 * and queues, in a cgroup's group entity, kthreadd and worker (300). */
static uint64_t cfs_group_se;
static inline void build_run_queues(void)
{
    for (int cpu = 0; cpu < NR_CPUS_SYNTH; cpu++) {
        vput64(pcpu_area[cpu] + RQ_PCPU + RQ_CURR, task_va[cpu]);
        /* empty RT lists; bit 100 (MAX_RT_PRIO) is the scheduler's delimiter */
        uint64_t rt = pcpu_area[cpu] + RQ_PCPU + RQ_RT;
        for (unsigned prio = 0; prio < RT_PRIO_MAX; prio++) {
            vput64(rt + RT_QUEUE + 16u * prio, rt + RT_QUEUE + 16u * prio);
            vput64(rt + RT_QUEUE + 16u * prio + 8, rt + RT_QUEUE + 16u * prio);
        }
        vput64(rt + 8, 1ull << (100 - 64));
    }
    uint64_t group_q = galloc(0x40, 64);
    cfs_group_se = galloc(0x100, 64);
    vput64(cfs_group_se + SE_MY_Q, group_q);
    vput64(pcpu_area[1] + RQ_PCPU + RQ_CFS + CFS_ROOT, cfs_group_se + SE_RUN_NODE);
    /* the group's tree: kthreadd at the root, worker its right child */
    uint64_t se2 = task_va[2] + T_SE, se3 = task_va[3] + T_SE;
    vput64(group_q + CFS_ROOT, se2 + SE_RUN_NODE);
    vput64(se2 + SE_RUN_NODE + 8, se3 + SE_RUN_NODE);
    vput64(se3 + SE_RUN_NODE, (se2 + SE_RUN_NODE) | 1); /* __rb_parent_color: black */
}

/* The module area (MODULES_VADDR..): one page table under PDPT[511]
 * mapping the first page of each module's core memory, where its struct
 * module now lives (as in a real kernel's .gnu.linkonce.this_module); the
 * module list and /sys/module (the module kset) link those copies. */
static uint64_t mod_pt, mod_page_pa[2], module_kset;
static inline uint64_t mod_pa(uint64_t va) /* module-area VA -> PA */
{
    for (int i = 0; i < 2; i++)
        if (va >= mod_va[i] - MOD_STRUCT_AT && va < mod_va[i] - MOD_STRUCT_AT + 4096)
            return mod_page_pa[i] + (va - (mod_va[i] - MOD_STRUCT_AT));
    return pa_of(va);
}
static inline void mput64(uint64_t va, uint64_t v) { put64(mod_pa(va), v); }

static inline void build_module_area(void)
{
    uint64_t pd = galloc(4096, 4096);
    mod_pt = galloc(4096, 4096);
    put64(kpa(K_PDPT_K) + 511 * 8, pa_of(pd) | 3);
    vput64(pd, pa_of(mod_pt) | 3);
    const uint64_t base[2] = {MOD_E1000, MOD_EXT4};
    module_kset = galloc(0x40, 64);
    put64(kpa(K_MODULE_KSET), module_kset);
    for (int i = 0; i < 2; i++) {
        mod_page_pa[i] = pa_of(galloc(4096, 4096));
        vput64(mod_pt + ((base[i] >> 12) & 511) * 8, mod_page_pa[i] | 3);
        memcpy(img + mod_page_pa[i] + MOD_STRUCT_AT, img + pa_of(mod_va[i]), 0x300);
        mod_va[i] = base[i] + MOD_STRUCT_AT;
        mput64(mod_va[i] + MOD_MKOBJ + MK_MOD, mod_va[i]);
    }
    /* both rings: the list (anchored at modules) and the kset's kobjects */
    const uint64_t heads[2] = {kva(K_MODULES), module_kset}, links[2] = {MOD_LIST, MOD_MKOBJ};
    for (int r = 0; r < 2; r++) {
        uint64_t ring[3] = {heads[r], mod_va[0] + links[r], mod_va[1] + links[r]};
        for (int k = 0; k < 3; k++) {
            mput64(ring[k], ring[(k + 1) % 3]);
            mput64(ring[k] + 8, ring[(k + 2) % 3]);
        }
    }
}

/* A clean kernel: every table entry in the text, nothing registered. */
/* Terminals and input, all in the core kernel: n_tty as line discipline
 * 0, one tty driver "ttyS" and one input handler "kbd". */
static uint64_t tty_ldisc0, tty_driver0, tty_ops0, input_handler0;
static inline void build_terminals(void)
{
    tty_ldisc0 = galloc(0x80, 64);
    vput64(tty_ldisc0 + LD_NAME, gstr("n_tty"));
    vput64(tty_ldisc0 + LD_OPEN, kva(0x5000));
    vput64(tty_ldisc0 + LD_RECEIVE_BUF2, kva(0x5040));
    put64(kpa(K_TTY_LDISCS), tty_ldisc0);
    tty_ops0 = galloc(0x100, 64);
    vput64(tty_ops0 + TO_OPEN, kva(0x5080));
    vput64(tty_ops0 + TO_WRITE, kva(0x50c0));
    tty_driver0 = galloc(0x80, 64);
    vput64(tty_driver0 + TD_NAME, gstr("ttyS"));
    vput64(tty_driver0 + TD_OPS, tty_ops0);
    link_list(kva(K_TTY_DRIVERS), &tty_driver0, 1, TD_LIST);
    input_handler0 = galloc(0x80, 64);
    vput64(input_handler0 + IH_NAME, gstr("kbd"));
    vput64(input_handler0 + IH_EVENT, kva(0x5100));
    vput64(input_handler0 + IH_CONNECT, kva(0x5140));
    link_list(kva(K_INPUT_HANDLERS), &input_handler0, 1, IH_NODE);
}

static inline void build_clean(void *btf, uint32_t btf_size)
{
    build_guest(false, btf, btf_size);
    for (int i = 0; i < NR_SYSCALLS; i++)
        put64(kpa(K_SYSCALLS) + 8u * i, kva(0x1000 + 0x10u * i));
    set_gate(0, kva(0x2000));
    for (int i = 0; i < 4; i++)
        put64(kpa(K_SEQ_OPS) + 8u * i, kva(0x4000 + 0x40u * i));
    build_pid_idr();
    build_process_tree();
    build_run_queues();
    build_module_area();
    build_terminals();
    put64(kpa(K_FTRACE_LIST), kva(K_FTRACE_END));
}

#endif
