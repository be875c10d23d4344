/*
 * test_check.c -- the rootkit checks (include/xenaccess_check.h) on the
 * synthetic guest (synthetic_guest.h) plus the tables they read: a
 * sys_call_table, an IDT, an eBPF program IDR, ftrace_ops_list and
 * kprobe_table, each first clean, then hooked (the finding must name the
 * module holding the hook), then made hostile (loops, bad tree shifts): the
 * check must stop with an error, never loop or crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xenaccess.h"
#include "xenaccess_check.h"

#define CHECK_CONTEXT (cur_xa ? xa_errmsg(cur_xa) : "")
static struct xa_instance *cur_xa;
#include "check.h"
#include "synthetic_check.h"

static char img_path[] = "/tmp/xa-test-check-img-XXXXXX";
static char map_path[] = "/tmp/xa-test-check-map-XXXXXX";
static char btf_path[] = "/tmp/xa-test-check-btf-XXXXXX";
static char target[128];

static void write_file(char *tmpl, const void *data, size_t len)
{
    int fd = mkstemp(tmpl);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        abort();
    close(fd);
}

static void write_map(void)
{
    char text[8192];
    int n = check_sysmap_text(text, sizeof(text));
    write_file(map_path, text, (size_t)n);
}

static struct xa_instance *open_guest(void)
{
    FILE *f = fopen(img_path, "wb");
    if (!f || fwrite(img, 1, IMG_SIZE, f) != IMG_SIZE)
        abort();
    fclose(f);
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = target;
    o.sysmap = map_path;
    o.btf = btf_path;
    struct xa_instance *xa = NULL;
    int rc = xa_init_opts(&o, &xa);
    CHECK_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "open: %s\n", xa_last_init_error());
    return cur_xa = xa;
}

struct seen {
    int n, notes;
    struct xa_finding last, last_note;
};

static int collect(const struct xa_finding *f, void *ctx)
{
    struct seen *s = ctx;
    if (f->flags & XA_FINDING_NOTE) { /* not a finding */
        s->notes++;
        s->last_note = *f;
        return 0;
    }
    s->n++;
    s->last = *f;
    return 0;
}

/* Run @check on the image as it is now: its return, the findings in @s. */
static int run(enum xa_check check, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    struct xa_instance *xa = open_guest();
    if (!xa)
        return -1000;
    int rc = xa_check_run(xa, check, collect, s);
    if (rc < 0)
        fprintf(stderr, "  (%s: %s)\n", xa_check_name(check), xa_errmsg(xa));
    xa_destroy(xa);
    cur_xa = NULL;
    return rc;
}

static void test_clean(void)
{
    struct seen s;
    const enum xa_check runnable[] = {XA_CHECK_SYSCALLS, XA_CHECK_IDT, XA_CHECK_FTRACE,
                                      XA_CHECK_KPROBES, XA_CHECK_BPF, XA_CHECK_OPS};
    for (size_t i = 0; i < sizeof(runnable) / sizeof(runnable[0]); i++) {
        enum xa_check k = runnable[i];
        CHECK_EQ(run(k, &s), 0);
        CHECK_EQ(s.n, 0);
    }
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 0);
    CHECK_EQ(s.n, 0);
    CHECK_EQ(run(XA_CHECK_MODULES, &s), 0);
    CHECK_EQ(s.n, 0);
    /* a raw image has no registers: the IDTRs are said not judged, no finding */
    CHECK_EQ(run(XA_CHECK_IDT, &s), 0);
    CHECK(s.notes == 1 && strstr(s.last_note.detail, "no CPU's IDTR judged") != NULL &&
              s.last_note.flags == XA_FINDING_NOTE,
          "%d notes", s.notes);
}

/* Reserved exception vectors keep their early boot stub, 13 bytes apart on
 * an IBT kernel (Debian's 6.12): not a hook.  A gate between stubs is one. */
static void test_early_idt_stubs(void)
{
    struct seen s;
    set_gate(22, kva(K_EARLY_IDT + 22 * EARLY_STUB));
    set_gate(31, kva(K_EARLY_IDT + 31 * EARLY_STUB));
    CHECK_EQ(run(XA_CHECK_IDT, &s), 0);
    CHECK_EQ(s.n, 0);
    set_gate(23, kva(K_EARLY_IDT + 23 * 9)); /* a 9-byte stride: inside stub 15 */
    CHECK_EQ(run(XA_CHECK_IDT, &s), 1);
    CHECK(strstr(s.last.detail, "vector 23") != NULL, "%s", s.last.detail);
    set_gate(32, kva(K_EARLY_IDT + 0)); /* stubs only serve the 32 exceptions */
    CHECK_EQ(run(XA_CHECK_IDT, &s), 2);
    for (unsigned v = 22; v <= 32; v++)
        memset(img + kpa(K_IDT) + 16u * v, 0, 16);
    CHECK_EQ(run(XA_CHECK_IDT, &s), 0);
}

/* DKOM: pid 300 unlinked from the task list; its IDR entries (the leader
 * and its two threads) make it one finding. */
static void test_hidden_process(void *btf, uint32_t btf_size)
{
    struct seen s;
    build_clean(btf, btf_size);
    uint64_t node = task_va[3] + T_TASKS, next, prev;
    memcpy(&next, img + pa_of(node), 8);
    memcpy(&prev, img + pa_of(node + 8), 8);
    vput64(prev, next);
    vput64(next + 8, prev);
    vput64(node, node);
    vput64(node + 8, node);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 1);
    CHECK(s.last.pid == 300 && strcmp(s.last.technique, "hidden-process") == 0);
    CHECK(strcmp(s.last.culprit, "worker\001") == 0);
    /* a group whose tasks are all exiting is no hidden one */
    vput32(task_va[3] + T_FLAGS, 0x400004);
    vput32(thread_va[0] + T_FLAGS, 0x44);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 1); /* a live thread keeps it suspect */
    vput32(thread_va[1] + T_FLAGS, 0x44);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 0);
    /* hostile: a pid whose task link is not a kernel pointer */
    build_clean(btf, btf_size);
    uint64_t root;
    memcpy(&root, img + kpa(K_PID_NS) + PN_IDR + 8, 8);
    uint64_t leaf0, pid1;
    memcpy(&leaf0, img + pa_of((root & ~3ull) + XN_SLOTS), 8);
    memcpy(&pid1, img + pa_of((leaf0 & ~3ull) + XN_SLOTS + 8), 8);
    vput64(pid1 + PID_TASKS, 0x1234);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), XA_EBADDATA);
}

/* The CPUs load the IDT through its read-only alias in the CPU entry area
 * (0xfffffe0000000000): the alias of idt_table is no finding; an alias
 * remapped to a table of the rootkit's own is, and so are its gates. */
static void test_idt_alias(void)
{
    struct seen s;
    uint64_t pdpt = galloc(4096, 4096), pd = galloc(4096, 4096), pt = galloc(4096, 4096);
    put64(kpa(K_TOP_PGT) + 508 * 8, pa_of(pdpt) | 3);
    vput64(pdpt, pa_of(pd) | 3);
    vput64(pd, pa_of(pt) | 3);
    vput64(pt, kpa(K_IDT) | 3);
    CHECK_EQ(run(XA_CHECK_IDT, &s), 0);
    uint64_t fake = galloc(4096, 4096);
    memcpy(img + pa_of(fake), img + kpa(K_IDT), 4096);
    uint16_t lo = (uint16_t)(MOD_E1000 + 0x10), mid = (uint16_t)((MOD_E1000 + 0x10) >> 16);
    uint32_t hi = (uint32_t)((MOD_E1000 + 0x10) >> 32);
    memcpy(img + pa_of(fake) + 16 * 3, &lo, 2);
    memcpy(img + pa_of(fake) + 16 * 3 + 4, &(uint16_t){0x8e00}, 2);
    memcpy(img + pa_of(fake) + 16 * 3 + 6, &mid, 2);
    memcpy(img + pa_of(fake) + 16 * 3 + 8, &hi, 4);
    vput64(pt, pa_of(fake) | 3);
    CHECK_EQ(run(XA_CHECK_IDT, &s), 2);
    CHECK(strcmp(s.last.technique, "idt-hook") == 0 &&
              strcmp(s.last.culprit, "e1000") == 0 &&
              strstr(s.last.detail, "loaded IDT vector 3 -> [e1000]+0x10") != NULL,
          "%s", s.last.detail);
    put64(kpa(K_TOP_PGT) + 508 * 8, 0);
}

/* ext4 unlinks itself from the module list (list_del poisons its links),
 * then from /sys/module too: the carve of module memory still finds its
 * struct module. Hostile module areas stop the carve or carve nothing. */
static void test_hidden_module(void *btf, uint32_t btf_size)
{
    struct seen s;
    build_clean(btf, btf_size);
    uint64_t ext4 = mod_va[1];
    mput64(kva(K_MODULES) + 8, mod_va[0] + MOD_LIST); /* ext4 was last */
    mput64(mod_va[0] + MOD_LIST, kva(K_MODULES));
    mput64(ext4 + MOD_LIST, 0xdead000000000100ULL);
    mput64(ext4 + MOD_LIST + 8, 0xdead000000000122ULL);
    CHECK_EQ(run(XA_CHECK_MODULES, &s), 1);
    CHECK(strcmp(s.last.culprit, "ext4") == 0 && s.last.addr == ext4);
    CHECK(strstr(s.last.detail, "is in /sys/module and in module memory but") != NULL, "%s",
          s.last.detail);
    mput64(module_kset + 8, mod_va[0] + MOD_MKOBJ);
    mput64(mod_va[0] + MOD_MKOBJ, module_kset);
    CHECK_EQ(run(XA_CHECK_MODULES, &s), 1);
    CHECK(strstr(s.last.detail, "is in module memory but") != NULL, "%s", s.last.detail);
    /* a hook in the hidden module's code is owned by it */
    put64(kpa(K_SYSCALLS) + 8 * 2, MOD_EXT4 + 0x20);
    CHECK_EQ(run(XA_CHECK_SYSCALLS, &s), 1);
    CHECK(strcmp(s.last.culprit, "ext4") == 0, "%s", s.last.culprit);
    /* not a module: a dead one (UNFORMED), a bad name, a kobject naming another */
    uint32_t state = 3;
    memcpy(img + mod_pa(ext4 + MOD_STATE), &state, 4);
    CHECK_EQ(run(XA_CHECK_MODULES, &s), 0);
    state = 0;
    memcpy(img + mod_pa(ext4 + MOD_STATE), &state, 4);
    img[mod_pa(ext4 + MOD_NAME + 1)] = '\n';
    CHECK_EQ(run(XA_CHECK_MODULES, &s), 0);
    img[mod_pa(ext4 + MOD_NAME + 1)] = 'x';
    mput64(ext4 + MOD_MKOBJ + MK_MOD, mod_va[0]);
    CHECK_EQ(run(XA_CHECK_MODULES, &s), 0);
    mput64(ext4 + MOD_MKOBJ + MK_MOD, ext4);
    CHECK_EQ(run(XA_CHECK_MODULES, &s), 1);

    /* hostile: every page of the area aliasing e1000's: each copy's kobject
     * names the original, so one module and no false one */
    build_clean(btf, btf_size);
    for (unsigned i = 1; i < 512; i++)
        if (i != ((MOD_EXT4 >> 12) & 511))
            vput64(mod_pt + 8 * i, mod_page_pa[0] | 3);
    CHECK_EQ(run(XA_CHECK_MODULES, &s), 0);
    /* a page mapped outside RAM stops the carve */
    build_clean(btf, btf_size);
    vput64(mod_pt + 8 * 7, 0x7ff0000000ULL | 3);
    CHECK_EQ(run(XA_CHECK_MODULES, &s), XA_EFAULT);
    /* a carve that finds no listed module is no carve */
    build_clean(btf, btf_size);
    uint32_t small = MOD_STRUCT_AT; /* the struct no longer inside its own memory */
    memcpy(img + mod_pa(mod_va[0] + MOD_CORE + 8), &small, 4);
    CHECK_EQ(run(XA_CHECK_MODULES, &s), XA_EBADDATA);
}

/* Unlink worker (300) from the task list, as rk_hideproc does. */
static void unlink_worker(void)
{
    uint64_t node = task_va[3] + T_TASKS, next, prev;
    memcpy(&next, img + pa_of(node), 8);
    memcpy(&prev, img + pa_of(node + 8), 8);
    vput64(prev, next);
    vput64(next + 8, prev);
    vput64(node, node);
    vput64(node + 8, node);
}

/* Take worker's pids (300, 302, 303) out of the PID IDR (detach_pid). */
static void detach_worker_pids(void)
{
    uint64_t root, leaf;
    memcpy(&root, img + kpa(K_PID_NS) + PN_IDR + 8, 8);
    memcpy(&leaf, img + pa_of((root & ~3ull) + XN_SLOTS + 8 * (300 >> 6)), 8);
    for (unsigned pid = 300; pid <= 303; pid++)
        if (pid != 301)
            vput64((leaf & ~3ull) + XN_SLOTS + 8 * (pid & 63), 0);
}

static void empty_list(uint64_t head)
{
    vput64(head, head);
    vput64(head + 8, head);
}

/* Each view alone finds worker once the others are blinded: its parent's
 * children list, its child's parent link, the CFS tree, a listed thread
 * group, a CPU. The finding names the views that saw it. */
static void test_process_views(void *btf, uint32_t btf_size)
{
    struct seen s;
    build_clean(btf, btf_size);
    unlink_worker();
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 1);
    CHECK(strcmp(s.last.detail, "pid 300 (worker\001) is in the PID IDR, queued on a CFS run "
                 "queue, a listed task's child and a listed task's parent but not on the task "
                 "list") == 0, "%s", s.last.detail);
    detach_worker_pids();
    vput64(task_va[2] + T_SE + SE_RUN_NODE + 8, 0); /* off the CFS tree */
    vput64(task_va[4] + T_REAL_PARENT, task_va[1]); /* zomb re-parented */
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 1);
    CHECK(strstr(s.last.detail, "is a listed task's child but") != NULL, "%s", s.last.detail);
    empty_list(task_va[1] + T_CHILDREN);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 0); /* blind in every view */
    vput64(task_va[4] + T_REAL_PARENT, task_va[3]);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 1);
    CHECK(strstr(s.last.detail, "is a listed task's parent but") != NULL, "%s", s.last.detail);
    vput64(task_va[4] + T_REAL_PARENT, task_va[1]);
    vput64(task_va[2] + T_SE + SE_RUN_NODE + 8, task_va[3] + T_SE + SE_RUN_NODE);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 1);
    CHECK(strstr(s.last.detail, "is queued on a CFS run queue but") != NULL, "%s",
          s.last.detail);
    vput64(task_va[2] + T_SE + SE_RUN_NODE + 8, 0);
    vput64(pcpu_area[0] + RQ_PCPU + RQ_CURR, thread_va[1]);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 1);
    CHECK(strstr(s.last.detail, "is running on a CPU but") != NULL, "%s", s.last.detail);
    vput64(pcpu_area[0] + RQ_PCPU + RQ_CURR, task_va[0]);
    /* a thread in kthreadd's group whose leader is worker */
    uint64_t sig;
    memcpy(&sig, img + pa_of(task_va[2] + T_SIGNAL), 8);
    const uint64_t group[] = {task_va[2], thread_va[0]};
    link_list(sig + SIG_THREAD_HEAD, group, 2, T_THREAD_NODE);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 1);
    CHECK(strstr(s.last.detail, "is in a listed thread group but") != NULL, "%s",
          s.last.detail);

    /* the real-time lists and the deadline tree of CPU 0 */
    build_clean(btf, btf_size);
    unlink_worker();
    detach_worker_pids();
    vput64(task_va[2] + T_SE + SE_RUN_NODE + 8, 0);
    vput64(task_va[4] + T_REAL_PARENT, task_va[1]);
    empty_list(task_va[1] + T_CHILDREN);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 0); /* blind in every view */
    uint64_t rt = pcpu_area[0] + RQ_PCPU + RQ_RT;
    link_list(rt + RT_QUEUE + 16 * 5, &task_va[3], 1, T_RT);
    vput64(rt, 1ull << 5);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 1);
    CHECK(strstr(s.last.detail, "is queued on an RT run queue but") != NULL, "%s",
          s.last.detail);
    vput64(rt, 0); /* queued, but its bit is clear: damage in a dump */
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), XA_EBADDATA);
    vput64(rt, 1ull << 5);
    vput64(task_va[3] + T_RT, task_va[3] + T_RT); /* a list that loops on its node */
    CHECK(run(XA_CHECK_PROCESSES, &s) < 0);
    empty_list(rt + RT_QUEUE + 16 * 5);
    vput64(rt, 0);
    uint64_t dl = pcpu_area[0] + RQ_PCPU + RQ_DL;
    vput64(dl, task_va[3] + T_DL);
    vput64(task_va[3] + T_DL, 0); /* __rb_parent_color: the root */
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), 1);
    CHECK(strstr(s.last.detail, "is queued on a deadline run queue but") != NULL, "%s",
          s.last.detail);
    vput64(task_va[3] + T_DL + 8, task_va[3] + T_DL); /* its own right child */
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), XA_EBADDATA);

    /* hostile: a CFS tree that loops, a group entity with no queue, a
     * children list that loops back into itself */
    build_clean(btf, btf_size);
    vput64(task_va[3] + T_SE + SE_RUN_NODE + 16, task_va[2] + T_SE + SE_RUN_NODE);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), XA_EBADDATA);
    build_clean(btf, btf_size);
    vput64(task_va[3] + T_SE + SE_RUN_NODE, (task_va[1] + T_SE + SE_RUN_NODE) | 1);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), XA_EBADDATA); /* no back link to its parent */
    build_clean(btf, btf_size);
    vput64(cfs_group_se + SE_MY_Q, 0x1234);
    CHECK_EQ(run(XA_CHECK_PROCESSES, &s), XA_EBADDATA);
    build_clean(btf, btf_size);
    vput64(task_va[2] + T_SIBLING, task_va[1] + T_SIBLING);
    CHECK(run(XA_CHECK_PROCESSES, &s) < 0);
    /* a hidden process found before a walk broke is still reported */
    build_clean(btf, btf_size);
    unlink_worker();
    vput64(task_va[2] + T_SIBLING, task_va[1] + T_SIBLING);
    CHECK(run(XA_CHECK_PROCESSES, &s) < 0);
    CHECK(s.n == 1 && s.last.pid == 300);
}

static void test_tables(void)
{
    struct seen s;
    put64(kpa(K_SYSCALLS) + 8 * 3, MOD_E1000 + 0x10);
    CHECK_EQ(run(XA_CHECK_SYSCALLS, &s), 1);
    CHECK(strcmp(s.last.culprit, "e1000") == 0 && strcmp(s.last.technique, "syscall-hook") == 0);
    CHECK(strstr(s.last.detail, "sys_call_table[3] -> [e1000]+0x10") != NULL, "%s", s.last.detail);
    /* into memory no module owns: still a hook, culprit unknown */
    put64(kpa(K_SYSCALLS) + 8 * 5, 0xffffffffc0900000ULL);
    CHECK_EQ(run(XA_CHECK_SYSCALLS, &s), 2);
    CHECK(s.last.culprit[0] == '\0' && s.last.addr == 0xffffffffc0900000ULL);

    put64(kpa(K_SEQ_OPS) + 8 * 3, MOD_EXT4 + 0x60); /* show */
    CHECK_EQ(run(XA_CHECK_OPS, &s), 1);
    CHECK(strcmp(s.last.culprit, "ext4") == 0 && strcmp(s.last.technique, "ops-hook") == 0);
    CHECK(strstr(s.last.detail, "tcp4_seq_ops+0x18 (struct seq_operations) -> [ext4]+0x60") != NULL,
          "%s", s.last.detail);

    set_gate(3, MOD_EXT4 + 0x40);
    CHECK_EQ(run(XA_CHECK_IDT, &s), 1);
    CHECK(strcmp(s.last.culprit, "ext4") == 0 && strstr(s.last.detail, "vector 3") != NULL);
}

static uint64_t make_prog(const char *name, uint32_t type)
{
    uint64_t prog = galloc(0x100, 64), aux = galloc(0x200, 64);
    vput32(prog + BP_TYPE, type);
    vput64(prog + BP_AUX, aux);
    vput32(aux + BA_ID, 7);
    strcpy((char *)img + pa_of(aux + BA_NAME), name);
    return prog;
}

static void test_bpf(void *btf, uint32_t btf_size)
{
    struct seen s;
    /* one program at index 1: a leaf node under the root */
    build_clean(btf, btf_size);
    uint64_t node = galloc(XN_SLOTS + 64 * 8, 64);
    vput64(node + XN_SLOTS + 8, make_prog("evil", 2));
    put64(kpa(K_PROG_IDR) + 8, node | 2);
    CHECK_EQ(run(XA_CHECK_BPF, &s), 1);
    CHECK(strcmp(s.last.culprit, "evil") == 0 && strstr(s.last.detail, "type kprobe") != NULL,
          "%s", s.last.detail);
    /* two levels: a root of shift 6 over the leaf */
    uint64_t root = galloc(XN_SLOTS + 64 * 8, 64);
    img[pa_of(root + XN_SHIFT)] = 6;
    vput64(root + XN_SLOTS + 8 * 2, node | 2);
    put64(kpa(K_PROG_IDR) + 8, root | 2);
    CHECK_EQ(run(XA_CHECK_BPF, &s), 1);
    /* hostile: the leaf points back at the root (a cycle), the root
     * claims an impossible shift, a leaf holds a node */
    vput64(node + XN_SLOTS, root | 2);
    CHECK(run(XA_CHECK_BPF, &s) < 0);
    vput64(node + XN_SLOTS, 0);
    img[pa_of(root + XN_SHIFT)] = 7;
    CHECK_EQ(run(XA_CHECK_BPF, &s), XA_EBADDATA);
    img[pa_of(root + XN_SHIFT)] = 6;
    vput64(root + XN_SLOTS + 8 * 3, root | 2); /* the root under itself */
    CHECK_EQ(run(XA_CHECK_BPF, &s), XA_EBADDATA);
    /* a self-similar chain as deep as it likes: every level must fall by 6 */
    for (int i = 0; i < 64; i++)
        vput64(root + XN_SLOTS + 8 * (uint64_t)i, root | 2);
    CHECK(run(XA_CHECK_BPF, &s) < 0);
}

static void test_ftrace(void *btf, uint32_t btf_size)
{
    struct seen s;
    build_clean(btf, btf_size);
    uint64_t ops = galloc(0x100, 64), core = galloc(0x100, 64);
    vput64(core + FO_FUNC, kva(0x3000)); /* a kernel tracer: not a finding */
    vput64(core + FO_NEXT, ops);
    vput64(ops + FO_FUNC, MOD_EXT4 + 0x20);
    vput64(ops + FO_FLAGS, 1u << 12);
    vput64(ops + FO_NEXT, kva(K_FTRACE_END));
    put64(kpa(K_FTRACE_LIST), core);
    CHECK_EQ(run(XA_CHECK_FTRACE, &s), 1);
    CHECK(strcmp(s.last.culprit, "ext4") == 0 && strstr(s.last.detail, "IPMODIFY") != NULL);
    vput64(ops + FO_NEXT, core); /* a loop that never reaches the end */
    CHECK_EQ(run(XA_CHECK_FTRACE, &s), XA_ELIMIT);
    vput64(ops + FO_NEXT, 0x1234); /* not a kernel pointer */
    CHECK_EQ(run(XA_CHECK_FTRACE, &s), XA_EBADDATA);
}

static void test_kprobes(void *btf, uint32_t btf_size)
{
    struct seen s;
    build_clean(btf, btf_size);
    uint64_t kp = galloc(96, 64);
    vput64(kp + KP_ADDR, kva(0x1010));
    vput64(kp + KP_PRE, MOD_E1000 + 0x80);
    put64(kpa(K_KPROBES) + 8 * 5, kp);
    CHECK_EQ(run(XA_CHECK_KPROBES, &s), 1);
    CHECK(strcmp(s.last.culprit, "e1000") == 0 && strcmp(s.last.technique, "kprobe") == 0);
    vput64(kp, kp); /* the chain loops */
    CHECK_EQ(run(XA_CHECK_KPROBES, &s), XA_EBADDATA);
}

static int stop_at_first(const struct xa_finding *f, void *ctx)
{
    (void)f;
    (void)ctx;
    return 42;
}

/* Terminals and input: a line discipline patched from a module, a tty
 * driver's table swapped for a module's (fine when that module owns the
 * driver, but not its code pointing into another), an input handler
 * patched, and one a module registers (reported unless it is an in-tree
 * handler of that module). Hostile lists and pointers stop the check. */
static void test_terminals(void *btf, uint32_t btf_size)
{
    struct seen s;
    build_clean(btf, btf_size);
    CHECK_EQ(run(XA_CHECK_OPS, &s), 0);
    vput64(tty_ldisc0 + LD_RECEIVE_BUF2, MOD_E1000 + 0x10);
    CHECK_EQ(run(XA_CHECK_OPS, &s), 1);
    CHECK(strcmp(s.last.technique, "tty-hook") == 0 && strcmp(s.last.culprit, "e1000") == 0 &&
              strcmp(s.last.detail, "line discipline 0 (tty_ldiscs[0]) .receive_buf2 -> "
                                    "[e1000]+0x10, outside the kernel's text") == 0,
          "%s", s.last.detail);
    vput64(tty_ldisc0 + LD_RECEIVE_BUF2, kva(0x5040));

    uint64_t fake = MOD_EXT4 + 0x200;
    mput64(fake + TO_OPEN, MOD_EXT4 + 0x40);
    vput64(tty_driver0 + TD_OPS, fake);
    CHECK_EQ(run(XA_CHECK_OPS, &s), 1);
    CHECK(strcmp(s.last.technique, "tty-hook") == 0 && strcmp(s.last.culprit, "ext4") == 0 &&
              strstr(s.last.detail, "uses the tty_operations at [ext4]+0x200, outside the "
                                    "kernel") != NULL,
          "%s", s.last.detail);
    vput64(tty_driver0 + TD_OWNER, mod_va[1]); /* ext4's own driver: at home */
    CHECK_EQ(run(XA_CHECK_OPS, &s), 0);
    mput64(fake + TO_WRITE, MOD_E1000 + 0x20);
    CHECK_EQ(run(XA_CHECK_OPS, &s), 1);
    CHECK(strcmp(s.last.culprit, "e1000") == 0 &&
              strstr(s.last.detail, "tty driver ttyS's tty_operations .write -> [e1000]+0x20, "
                                    "outside its module ext4") != NULL,
          "%s", s.last.detail);

    build_clean(btf, btf_size);
    vput64(input_handler0 + IH_EVENT, MOD_EXT4 + 0x30);
    CHECK_EQ(run(XA_CHECK_OPS, &s), 1);
    CHECK(strcmp(s.last.technique, "input-hook") == 0 && strcmp(s.last.culprit, "ext4") == 0 &&
              strstr(s.last.detail, "input handler \"kbd\" .event -> [ext4]+0x30") != NULL,
          "%s", s.last.detail);

    /* a handler e1000 registers: kbd's node, then its own */
    build_clean(btf, btf_size);
    uint64_t h = MOD_E1000 + 0x200, head = kva(K_INPUT_HANDLERS);
    uint64_t a = input_handler0 + IH_NODE, b = h + IH_NODE;
    mput64(h + IH_NAME, gstr("e1000_keys"));
    mput64(h + IH_EVENT, MOD_E1000 + 0x40);
    vput64(head, a), vput64(head + 8, b), vput64(a, b), vput64(a + 8, head);
    mput64(b, head), mput64(b + 8, a);
    CHECK_EQ(run(XA_CHECK_OPS, &s), 1);
    CHECK(strcmp(s.last.technique, "input-handler") == 0 && strcmp(s.last.culprit, "e1000") == 0 &&
              strstr(s.last.detail, "\"e1000_keys\"") != NULL,
          "%s", s.last.detail);
    mput64(h + IH_NAME, gstr("evdev")); /* an in-tree name, but not evdev's module */
    CHECK_EQ(run(XA_CHECK_OPS, &s), 1);
    mput64(b, b); /* a list that loops on its last node */
    CHECK(run(XA_CHECK_OPS, &s) < 0);
    build_clean(btf, btf_size);
    put64(kpa(K_TTY_LDISCS) + 8, 0x1234);
    CHECK_EQ(run(XA_CHECK_OPS, &s), XA_EBADDATA);
    build_clean(btf, btf_size);
}

int main(void)
{
    img = calloc(1, IMG_SIZE);
    uint32_t btf_size;
    void *btf = check_btf(&btf_size);
    if (!img || !btf) {
        fprintf(stderr, "cannot build the synthetic guest\n");
        return 1;
    }
    int fd = mkstemp(img_path);
    close(fd);
    snprintf(target, sizeof(target), "file:%s", img_path);
    write_file(btf_path, btf, btf_size);
    write_map();

    build_clean(btf, btf_size);
    test_clean();
    test_early_idt_stubs();
    test_idt_alias();
    test_tables();
    /* the callback's answer stops a check and is its return */
    struct xa_instance *xa = open_guest();
    if (xa) {
        CHECK_EQ(xa_check_run(xa, XA_CHECK_SYSCALLS, stop_at_first, NULL), 42);
        CHECK_EQ(xa_check_run(xa, (enum xa_check)0, collect, NULL), XA_EINVAL);
        CHECK_EQ(xa_check_run(xa, XA_CHECK_COUNT, collect, NULL), XA_EINVAL);
        CHECK_EQ(xa_check_run(xa, XA_CHECK_IDT, NULL, NULL), XA_EINVAL);
        xa_destroy(xa);
        cur_xa = NULL;
    }
    CHECK(xa_check_name(XA_CHECK_USER) && strcmp(xa_check_name(XA_CHECK_USER), "user") == 0);
    CHECK(xa_check_name(XA_CHECK_COUNT) == NULL);
    test_hidden_process(btf, btf_size);
    test_process_views(btf, btf_size);
    test_hidden_module(btf, btf_size);
    test_bpf(btf, btf_size);
    test_ftrace(btf, btf_size);
    test_kprobes(btf, btf_size);
    test_terminals(btf, btf_size);

    unlink(img_path);
    unlink(map_path);
    unlink(btf_path);
    free(btf);
    free(img);
    CHECK_DONE();
}
