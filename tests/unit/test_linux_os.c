/*
 * test_linux_os.c -- the Linux OS layer end to end on a synthetic guest.
 *
 * The test builds a 32 MiB raw memory image holding a tiny "kernel": page
 * tables (a KASLR-slid kernel map and a direct map), a banner, init_task and
 * four more tasks, creds, an mm with a maple tree of five VMAs (a file, the
 * heap, a file on a second mount, the stack, the vDSO), user page tables
 * with a marker string, and two modules. It writes a System.map with the
 * link-time addresses and a BTF blob made with libbpf describing the
 * structures (offsets deliberately unlike a real kernel's), then opens the
 * image through the public API with opts.sysmap/opts.btf.
 *
 * Scenarios then corrupt the structures (a task list that loops, a pointer
 * into nowhere, a maple node pointing at its ancestor, a module list that
 * loops) and check that the walks end with the right error after a partial
 * result.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "check.h"
#include "xenaccess.h"

#include "synthetic_guest.h"
#include "process_walk.h"

/* ---- files and opening --------------------------------------------------- */

static char img_path[] = "/tmp/xa-test-linux-img-XXXXXX";
static char map_path[] = "/tmp/xa-test-linux-map-XXXXXX";
static char map_nobtf_path[] = "/tmp/xa-test-linux-map2-XXXXXX";
static char map_hugebtf_path[] = "/tmp/xa-test-linux-map3-XXXXXX";
static char btf_path[] = "/tmp/xa-test-linux-btf-XXXXXX";
static char old_btf_path[] = "/tmp/xa-test-linux-oldbtf-XXXXXX";
static char target[128];

static void write_file(char *tmpl, const void *data, size_t len)
{
    int fd = mkstemp(tmpl);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        abort();
    close(fd);
}

static void write_maps(uint32_t btf_size)
{
    char text[4096];
    int n = guest_sysmap_text(text, sizeof(text));
    write_file(map_nobtf_path, text, (size_t)n);
    int base = n;
    n += snprintf(text + n, sizeof(text) - (size_t)n, "%016llx R __start_BTF\n%016llx R __stop_BTF\n",
                  (unsigned long long)(KLINK + K_BTF), (unsigned long long)(KLINK + K_BTF + (100u << 20)));
    write_file(map_hugebtf_path, text, (size_t)n);
    n = base;
    n += snprintf(text + n, sizeof(text) - (size_t)n, "%016llx R __start_BTF\n%016llx R __stop_BTF\n",
                  (unsigned long long)(KLINK + K_BTF), (unsigned long long)(KLINK + K_BTF + btf_size));
    write_file(map_path, text, (size_t)n);
}

static void save_image(void)
{
    FILE *f = fopen(img_path, "wb");
    if (!f || fwrite(img, 1, IMG_SIZE, f) != IMG_SIZE)
        abort();
    fclose(f);
}

static struct xa_instance *open_guest(const char *sysmap, const char *btf)
{
    save_image();
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = target;
    o.sysmap = sysmap;
    o.btf = btf;
    struct xa_instance *xa = NULL;
    int rc = xa_init_opts(&o, &xa);
    CHECK_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "open: %s\n", xa_last_init_error());
    return xa;
}

/* ---- scenarios ---------------------------------------------------------- */

static int count_processes(struct xa_instance *xa, int *err)
{
    struct xa_process_iter *it;
    *err = xa_process_iter_new(xa, &it);
    if (*err < 0)
        return 0;
    struct xa_process p;
    int n = 0, rc;
    while ((rc = xa_process_iter_next(it, &p)) == 1 && n < 100)
        n++;
    xa_process_iter_free(it);
    *err = rc;
    return n;
}

static void test_info_and_symbols(struct xa_instance *xa)
{
    struct xa_os_info info;
    CHECK_EQ(xa_os_get_info(xa, &info), 0);
    CHECK_EQ(info.type, XA_OS_LINUX);
    CHECK_EQ(info.kaslr_slide, SLIDE);
    CHECK_EQ(info.phys_base, PHYS_BASE);
    CHECK_EQ(info.kernel_dtb, kpa(K_TOP_PGT));
    CHECK_EQ(info.text_start, KVIRT);
    CHECK_EQ(info.page_offset, DM);
    CHECK_EQ(info.page_mode, la57 ? XA_PM_LA57 : XA_PM_IA32E);
    CHECK_EQ(strcmp(info.release, "6.1.0-fake"), 0);
    CHECK(strncmp(info.version, "Linux version 6.1.0-fake (test@xenaccess)", 41) == 0);
    CHECK(strstr(info.symbols_from, "System.map") != NULL);
    CHECK(info.num_btf_types > 20);

    uint64_t a;
    CHECK_EQ(xa_sym_lookup(xa, "init_task", &a), 0);
    CHECK_EQ(a, KVIRT + K_INIT_TASK);
    CHECK_EQ(xa_sym_lookup(xa, "fixed_percpu_data", &a), 0);
    CHECK_EQ(a, 0); /* absolute: not slid */
    CHECK_EQ(xa_sym_lookup(xa, "no_such_symbol", &a), XA_ENOENT);
    const char *name;
    uint64_t off;
    CHECK_EQ(xa_sym_at(xa, KVIRT + K_INIT_TASK + 0x10, &name, &off), 0);
    CHECK(strcmp(name, "init_task") == 0 && off == 0x10);
    char comm[16];
    CHECK_EQ(xa_read_ksym(xa, "init_task", comm, 0), 0);
    uint32_t o32 = 0;
    const uint8_t *page = xa_access_kernel_symbol(xa, "linux_banner", &o32);
    CHECK(page != NULL);
    if (page)
        CHECK(memcmp(page + o32, "Linux version 6.1.0-fake", 24) == 0);
    xa_release_page(xa, page);

    CHECK_EQ(xa_type_offset(xa, "task_struct", "comm", &off), 0); /* in an anonymous struct */
    CHECK_EQ(off, T_COMM);
    CHECK_EQ(xa_type_offset(xa, "qstr", "len", &off), 0); /* union > struct */
    CHECK_EQ(off, 4);
    CHECK_EQ(xa_type_offset(xa, "module", "core_layout.size", &off), 0);
    CHECK_EQ(off, MOD_CORE + 8);
    CHECK_EQ(xa_type_offset(xa, "task_struct", "in_execve", &off), XA_EINVAL); /* bitfield */
    CHECK_EQ(xa_type_offset(xa, "task_struct", "nothere", &off), XA_ENOENT);
    CHECK_EQ(xa_type_offset(xa, "nosuchstruct", "x", &off), XA_ENOENT);
    uint64_t size;
    CHECK_EQ(xa_type_size(xa, "task_struct", &size), 0);
    CHECK_EQ(size, TASK_SIZE);
}

static void test_processes(struct xa_instance *xa)
{
    static const struct {
        int pid, ppid;
        const char *comm;
        char state;
        uint32_t uid, euid;
    } want[] = {
        {0, 0, "swapper/0", 'R', 0, 0},   {1, 0, "init", 'S', 0, 0},
        {2, 0, "kthreadd", 'I', 0, 0},    {300, 1, "worker?", 'D', 1000, 1001},
        {301, 300, "zomb", 'Z', 1000, 1001},
    };
    struct xa_process_iter *it;
    CHECK_EQ(xa_process_iter_new(xa, &it), 0);
    struct xa_process p;
    size_t n = 0;
    int rc;
    while ((rc = xa_process_iter_next(it, &p)) == 1) {
        if (n < 5) {
            CHECK_EQ(p.pid, want[n].pid);
            CHECK_EQ(p.ppid, want[n].ppid);
            CHECK(strcmp(p.comm, want[n].comm) == 0);
            CHECK_EQ(p.state, want[n].state);
            CHECK_EQ(p.uid, want[n].uid);
            CHECK_EQ(p.euid, want[n].euid);
            CHECK_EQ(p.task, task_va[n]);
            CHECK_EQ(p.start_time, 1000u * (uint64_t)want[n].pid);
        }
        n++;
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(n, 5);
    xa_process_iter_free(it);

    CHECK_EQ(xa_process_by_pid(xa, 300, &p), 0);
    CHECK_EQ(p.gid, 100);
    CHECK_EQ(p.egid, 101);
    CHECK(p.mm != 0);
    CHECK_EQ(xa_process_by_pid(xa, 2, &p), 0);
    CHECK_EQ(p.mm, 0);
    CHECK_EQ(p.dtb, kpa(K_TOP_PGT)); /* kernel thread: the kernel's tables */
    CHECK_EQ(p.flags & 0x00200000, 0x00200000);
    CHECK_EQ(xa_process_by_pid(xa, 12345, &p), XA_ENOENT);

    /* User memory of pid 1 through its own page tables. */
    uint64_t dtb;
    CHECK_EQ(xa_pid_to_dtb(xa, 1, &dtb), 0);
    uint64_t pgd_va;
    CHECK_EQ(xa_read_kva_u64(xa, mm1 + MM_PGD, &pgd_va), 0);
    CHECK_EQ(dtb, pgd_va - DM);
    char buf[32] = {0};
    size_t got = 0;
    CHECK_EQ(xa_read_pid_va(xa, 1, 0x400010, buf, 15, &got), 0);
    CHECK_EQ(got, 15);
    CHECK(strcmp(buf, "XA-MARKER-4242") == 0);
    CHECK_EQ(xa_read_pid_va(xa, 1, 0x500000, buf, 4, &got), XA_EFAULT);
    uint32_t off = 0;
    const char *page = xa_access_user_virtual_address(xa, 0x400010, &off, 1);
    CHECK(page != NULL);
    if (page)
        CHECK(strcmp(page + off, "XA-MARKER-4242") == 0);
    xa_release_page(xa, page);
    CHECK(xa_access_user_virtual_address(xa, 0x400010, &off, 999) == NULL);
}

/* Threads of pid @pid: their tids into @tids (at most 8); the walk's end code. */
static int walk_threads(struct xa_instance *xa, int pid, int *tids, int *n)
{
    struct xa_thread_iter *it;
    *n = 0;
    int rc = xa_thread_iter_new(xa, pid, &it);
    if (rc < 0)
        return rc;
    struct xa_thread t;
    while (*n < 8 && (rc = xa_thread_iter_next(it, &t)) == 1) {
        CHECK_EQ(t.tgid, pid);
        tids[(*n)++] = t.tid;
    }
    xa_thread_iter_free(it);
    return rc;
}

static void test_threads(struct xa_instance *xa)
{
    int tids[8], n;
    CHECK_EQ(walk_threads(xa, 300, tids, &n), 0);
    CHECK_EQ(n, 3);
    CHECK(n == 3 && tids[0] == 300 && tids[1] == 302 && tids[2] == 303);
    struct xa_thread_iter *it;
    struct xa_thread t;
    CHECK_EQ(xa_thread_iter_new(xa, 300, &it), 0);
    CHECK_EQ(xa_thread_iter_next(it, &t), 1);
    CHECK(strcmp(t.comm, "worker?") == 0 && t.state == 'D' && t.cpu == 1);
    CHECK_EQ(xa_thread_iter_next(it, &t), 1);
    CHECK(strcmp(t.comm, "worker-t1") == 0 && t.state == 'S' && t.cpu == 5);
    CHECK_EQ(t.task, thread_va[0]);
    xa_thread_iter_free(it);
    CHECK_EQ(walk_threads(xa, 1, tids, &n), 0);
    CHECK(n == 1 && tids[0] == 1);
    CHECK_EQ(walk_threads(xa, 12345, tids, &n), XA_ENOENT);
}

/* Each corruption of pid 300's thread list ends its walk with @want after
 * @good threads; the list is restored afterwards. */
static void check_thread_damage(uint64_t va, uint64_t value, int good, int want)
{
    uint64_t old;
    memcpy(&old, img + pa_of(va), 8);
    vput64(va, value);
    struct xa_instance *xa = open_guest(map_path, btf_path);
    if (xa) {
        int tids[8], n;
        int rc = walk_threads(xa, 300, tids, &n);
        if (rc != want || n != good)
            fprintf(stderr, "thread damage at 0x%llx: rc %d after %d, want %d after %d (%s)\n",
                    (unsigned long long)va, rc, n, want, good, xa_errmsg(xa));
        CHECK_EQ(rc, want);
        CHECK_EQ(n, good);
        xa_destroy(xa);
    }
    vput64(va, old);
}

static void test_thread_damage(void)
{
    uint64_t head = signal_300 + SIG_THREAD_HEAD;
    uint64_t n0 = task_va[3] + T_THREAD_NODE, n1 = thread_va[0] + T_THREAD_NODE,
             n2 = thread_va[1] + T_THREAD_NODE;
    /* a prev link that does not point back (the next links alone are fine) */
    check_thread_damage(n1 + 8, head, 1, XA_EBADDATA);
    /* the head's prev is not the last thread */
    check_thread_damage(head + 8, n1, 3, XA_EBADDATA);
    /* a loop that never comes back to the head */
    check_thread_damage(n2, n1, 3, XA_ELIMIT);
    /* a next pointer into user space */
    check_thread_damage(n0, 0x400000, 1, XA_EFAULT);
    /* a thread of another process in the list */
    uint64_t tgid;
    memcpy(&tgid, img + pa_of(thread_va[1] + T_PID), 8); /* pid and tgid together */
    check_thread_damage(thread_va[1] + T_PID, (tgid & 0xffffffffu) | (999ull << 32), 2,
                        XA_EBADDATA);
    /* a bad signal pointer: no walk at all */
    check_thread_damage(task_va[3] + T_SIGNAL, 0x1234, 0, XA_EBADDATA);
}

static void test_modules(struct xa_instance *xa)
{
    struct xa_module_iter *it;
    CHECK_EQ(xa_module_iter_new(xa, &it), 0);
    struct xa_module m;
    CHECK_EQ(xa_module_iter_next(it, &m), 1);
    CHECK(strcmp(m.name, "e1000") == 0);
    CHECK_EQ(m.base, 0xffffffffc0000000ULL);
    CHECK_EQ(m.size, 0x1000);
    CHECK_EQ(m.refcount, 2);
    CHECK_EQ(m.module, mod_va[0]);
    CHECK_EQ(xa_module_iter_next(it, &m), 1);
    CHECK(strcmp(m.name, "ext4") == 0);
    CHECK_EQ(m.size, 0x20000);
    CHECK_EQ(xa_module_iter_next(it, &m), 0);
    CHECK_EQ(xa_module_iter_next(it, &m), 0);
    xa_module_iter_free(it);
}

static void test_vmas(struct xa_instance *xa)
{
    static const struct {
        uint64_t start, end;
        uint32_t flags;
        uint64_t pgoff;
        const char *path;
    } want[] = {
        {0x400000, 0x401000, 5, 0, "/bin/init"},
        {0x401000, 0x403000, 3, 0, "[heap]"},
        {0x10000000, 0x10001000, 9, 2, "/tmp/data.bin"},
        {0x7ffde000, 0x7ffff000, 3, 0, "[stack]"},
        {0x7ffff000, 0x80000000, 5, 0, "[vdso]"},
    };
    struct xa_vma_iter *it;
    CHECK_EQ(xa_vma_iter_new(xa, 1, &it), 0);
    static struct xa_vma v;
    size_t n = 0;
    int rc;
    while ((rc = xa_vma_iter_next(it, &v)) == 1) {
        if (n < 5) {
            CHECK_EQ(v.start, want[n].start);
            CHECK_EQ(v.end, want[n].end);
            CHECK_EQ(v.flags, want[n].flags);
            CHECK_EQ(v.pgoff, want[n].pgoff);
            if (strcmp(v.path, want[n].path) != 0) {
                fprintf(stderr, "vma %zu: path '%s', want '%s'\n", n, v.path, want[n].path);
                CHECK(0);
            }
        }
        n++;
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(n, 5);
    xa_vma_iter_free(it);

    CHECK_EQ(xa_vma_iter_new(xa, 300, &it), 0); /* empty tree */
    CHECK_EQ(xa_vma_iter_next(it, &v), 0);
    xa_vma_iter_free(it);
    CHECK_EQ(xa_vma_iter_new(xa, 2, &it), 0); /* kernel thread */
    CHECK_EQ(xa_vma_iter_next(it, &v), 0);
    xa_vma_iter_free(it);
    CHECK_EQ(xa_vma_iter_new(xa, 4242, &it), XA_ENOENT);
    CHECK(it == NULL);
}

/* Modules walked before the end or an error; *err gets the last result. */
static int count_modules(struct xa_instance *xa, int *err)
{
    struct xa_module_iter *it;
    *err = xa_module_iter_new(xa, &it);
    if (*err < 0)
        return 0;
    struct xa_module m;
    int n = 0, rc;
    while ((rc = xa_module_iter_next(it, &m)) == 1 && n < 100)
        n++;
    xa_module_iter_free(it);
    *err = rc;
    return n;
}

static int count_vmas(struct xa_instance *xa, int32_t pid, int *err)
{
    struct xa_vma_iter *it;
    *err = xa_vma_iter_new(xa, pid, &it);
    if (*err < 0)
        return 0;
    static struct xa_vma v;
    int n = 0, rc;
    while ((rc = xa_vma_iter_next(it, &v)) == 1 && n < 100)
        n++;
    xa_vma_iter_free(it);
    *err = rc;
    return n;
}

/*
 * One rewritten pointer must not give a short list that looks whole: the
 * back links (list_head.prev, vm_prev) and the kernel's own counters
 * (process_counts, mm->map_count) are checked, and a disagreement ends the
 * walk with an error after what was found (a partial result).
 */
static void test_links_and_counts(void *btf, uint32_t btf_size)
{
    struct xa_instance *xa;
    int err, n;

    /* The whole guest passes every check. */
    build_guest(false, btf, btf_size);
    if ((xa = open_guest(map_path, btf_path))) {
        CHECK_EQ(count_processes(xa, &err), 5);
        CHECK_EQ(err, 0);
        CHECK_EQ(count_modules(xa, &err), 2);
        CHECK_EQ(err, 0);
        CHECK_EQ(count_vmas(xa, 1, &err), 5);
        CHECK_EQ(err, 0);
        xa_destroy(xa);
    }

    /* A task whose tasks.next points back at init_task early: the head's
     * prev still names the last task. */
    build_guest(false, btf, btf_size);
    vput64(task_va[2] + T_TASKS, task_va[0] + T_TASKS);
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_processes(xa, &err);
        CHECK_EQ(n, 3);
        CHECK_EQ(err, XA_EBADDATA);
        CHECK(strstr(xa_errmsg(xa), "task list broken after 2 entries") != NULL);
        xa_destroy(xa);
    }

    /* init_task.tasks.next pointing at itself: only swapper, then an error;
     * a pid lookup says why it found nothing. */
    build_guest(false, btf, btf_size);
    vput64(task_va[0] + T_TASKS, task_va[0] + T_TASKS);
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_processes(xa, &err);
        CHECK_EQ(n, 1);
        CHECK_EQ(err, XA_EBADDATA);
        struct xa_process p;
        CHECK_EQ(xa_process_by_pid(xa, 1, &p), XA_EBADDATA);
        CHECK(strstr(xa_errmsg(xa), "pid 1 not found") != NULL);
        CHECK(strstr(xa_errmsg(xa), "task list broken") != NULL);
        xa_destroy(xa);
    }

    /* A task unlinked cleanly (both links mended) but still counted by the
     * kernel: the list is consistent, the count is not. */
    build_guest(false, btf, btf_size);
    vput64(task_va[3] + T_TASKS, task_va[0] + T_TASKS);
    vput64(task_va[0] + T_TASKS + 8, task_va[3] + T_TASKS);
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_processes(xa, &err);
        CHECK_EQ(n, 4);
        CHECK_EQ(err, XA_EBADDATA);
        CHECK(strstr(xa_errmsg(xa), "4 processes on the list, the kernel counts 5") != NULL);
        struct xa_process p;
        CHECK_EQ(xa_process_by_pid(xa, 301, &p), XA_EBADDATA);
        CHECK(strstr(xa_errmsg(xa), "pid 301 not found (4 processes walked)") != NULL);
        xa_destroy(xa);
    }

    /* A module list cut after the first module (ext4's prev still points back). */
    build_guest(false, btf, btf_size);
    vput64(mod_va[0] + MOD_LIST, kva(K_MODULES));
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_modules(xa, &err);
        CHECK_EQ(n, 1);
        CHECK_EQ(err, XA_EBADDATA);
        CHECK(strstr(xa_errmsg(xa), "module list broken") != NULL);
        xa_destroy(xa);
    }

    /* A refcount the kernel cannot hold (negative as atomic_t): no signed
     * overflow, an implausible module. */
    build_guest(false, btf, btf_size);
    vput32(mod_va[1] + MOD_REFCNT, 0x80000000u);
    vput32(mod_va[0] + MOD_REFCNT, 0x7fffffffu);
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_module_iter *it;
        CHECK_EQ(xa_module_iter_new(xa, &it), 0);
        struct xa_module m;
        CHECK_EQ(xa_module_iter_next(it, &m), 1);
        CHECK_EQ(m.refcount, 0x7ffffffe);
        CHECK_EQ(xa_module_iter_next(it, &m), XA_EBADDATA);
        CHECK(strstr(xa_errmsg(xa), "refcount 0x80000000") != NULL);
        xa_module_iter_free(it);
        xa_destroy(xa);
    }

    /* A NULL slot in a maple leaf hides [heap]: map_count tells. */
    build_guest(false, btf, btf_size);
    {
        /* leaf1 is the first child of the root: slot[0] at +80 */
        uint64_t enode, leaf1;
        memcpy(&enode, img + pa_of(maple_root_node + 80), 8);
        leaf1 = enode & ~0xffULL;
        vput64(leaf1 + 128 + 2 * 8, 0); /* slot 2: the heap VMA */
    }
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_vmas(xa, 1, &err);
        CHECK_EQ(n, 4);
        CHECK_EQ(err, XA_EBADDATA);
        CHECK(strstr(xa_errmsg(xa), "holds 4 VMAs, mm->map_count says 5") != NULL);
        xa_destroy(xa);
    }
}

static uint64_t translations(struct xa_instance *xa)
{
    struct xa_cache_stats st;
    xa_cache_stats(xa, &st);
    return st.v2p_hits + st.v2p_misses;
}

/* A dump's process list is kept between walks until the OS caches are
 * flushed; a target opened for writing never keeps it. */
/* A whole process walk of the image as it is now, opened with @flags: its
 * length (at most 100), end code and message. */
struct walk_end {
    int n, err;
    char msg[256];
};

static struct walk_end walk_end_of(uint32_t flags)
{
    struct walk_end e = {0};
    save_image();
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = target;
    o.sysmap = map_path;
    o.btf = btf_path;
    o.flags = flags;
    struct xa_instance *xa = NULL;
    e.err = xa_init_opts(&o, &xa);
    CHECK_EQ(e.err, 0);
    if (e.err < 0)
        return e;
    e.n = count_processes(xa, &e.err);
    snprintf(e.msg, sizeof(e.msg), "%s", e.err < 0 ? xa_errmsg(xa) : "");
    xa_destroy(xa);
    return e;
}

/* A dump's task list is walked without the cycle set, the back links
 * refusing a loop (listwalk.c); a writable open is not static memory and
 * keeps the set. Both must end a hostile list alike: at the same node, with
 * the same error. */
static void test_task_list_loops(void *btf, uint32_t btf_size)
{
    static const struct {
        const char *what;
        int from, to, walked; /* task[from].tasks.next = task[to]; processes handed out */
    } loops[] = {
        {"a ring that never comes back to init_task", 4, 1, 5},
        {"a lasso (a tail, then a ring)", 3, 2, 4},
        {"a task whose next is itself", 2, 2, 3},
        {"the first task whose next is itself", 1, 1, 2},
    };
    for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
        build_guest(false, btf, btf_size);
        uint64_t node = task_va[loops[i].to] + T_TASKS;
        vput64(task_va[loops[i].from] + T_TASKS, node);
        char want[128];
        snprintf(want, sizeof(want), "task list loops (at 0x%llx) without returning to its head",
                 (unsigned long long)node);
        struct walk_end dump = walk_end_of(0), writable = walk_end_of(XA_INIT_WRITE);
        if (dump.err != XA_ELIMIT || dump.n != loops[i].walked || !strstr(dump.msg, want))
            fprintf(stderr, "%s: %d processes, %d: %s\n", loops[i].what, dump.n, dump.err,
                    dump.msg);
        CHECK_EQ(dump.err, XA_ELIMIT);
        CHECK_EQ(dump.n, loops[i].walked);
        CHECK(strstr(dump.msg, want) != NULL);
        CHECK_EQ(writable.err, dump.err);
        CHECK_EQ(writable.n, dump.n);
        CHECK(strcmp(writable.msg, dump.msg) == 0);
    }

    /* Any next and prev links among the five tasks (a fixed seed): both
     * walks end alike, and within the five. */
    uint64_t seed = 0x243f6a8885a308d3ull;
    for (int round = 0; round < 48; round++) {
        build_guest(false, btf, btf_size);
        for (int t = 0; t < 5; t++)
            for (int link = 0; link < 2; link++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                vput64(task_va[t] + T_TASKS + 8u * (unsigned)link,
                       task_va[(seed >> 33) % 5] + T_TASKS);
            }
        struct walk_end dump = walk_end_of(0), writable = walk_end_of(XA_INIT_WRITE);
        if (dump.n != writable.n || dump.err != writable.err || strcmp(dump.msg, writable.msg))
            fprintf(stderr, "round %d: %d, %d: %s\n  against %d, %d: %s\n", round, dump.n,
                    dump.err, dump.msg, writable.n, writable.err, writable.msg);
        CHECK_EQ(dump.n, writable.n);
        CHECK_EQ(dump.err, writable.err);
        CHECK(strcmp(dump.msg, writable.msg) == 0);
        CHECK(dump.n <= 5);
    }
}

/* A dump's tasks are read in place from its mapping: cut under a walk, the
 * next task reads as zeros, which must end the walk with the file's error,
 * not with a task made of zeros or a "broken list". */
static void test_task_walk_truncated(void *btf, uint32_t btf_size)
{
    build_guest(false, btf, btf_size);
    struct xa_instance *xa = open_guest(map_path, btf_path);
    if (!xa)
        return;
    struct xa_process_iter *it;
    struct xa_process p;
    CHECK_EQ(xa_process_iter_new(xa, &it), 0);
    CHECK_EQ(xa_process_iter_next(it, &p), 1);
    CHECK_EQ(xa_process_iter_next(it, &p), 1);
    CHECK_EQ(p.pid, 1);
    CHECK_EQ(truncate(img_path, (off_t)(pa_of(task_va[2]) & ~4095ull)), 0);
    int rc = xa_process_iter_next(it, &p);
    CHECK_EQ(rc, XA_EIO);
    CHECK(strstr(xa_errmsg(xa), img_path) != NULL);
    if (rc != XA_EIO)
        fprintf(stderr, "after the truncation: %d %s\n", rc, rc < 0 ? xa_errmsg(xa) : p.comm);
    xa_process_iter_free(it);
    xa_destroy(xa);
}

static void test_process_list_kept(void *btf, uint32_t btf_size)
{
    struct xa_process first[8], again[8], fresh[8];
    size_t n1, n2, n3;
    build_guest(false, btf, btf_size);
    struct xa_instance *xa = open_guest(map_path, btf_path);
    if (!xa)
        return;
    CHECK_EQ(walk_all(xa, first, 8, &n1), 0);
    CHECK_EQ(n1, 5);
    uint64_t before = translations(xa);
    CHECK_EQ(walk_all(xa, again, 8, &n2), 0);
    CHECK_EQ(translations(xa), before); /* handed out again, nothing read */
    CHECK_EQ(n2, n1);
    CHECK(first_difference(first, again, n1) == n1);
    /* The file changes under the open dump (which a dump never does): the
     * kept list stands until a flush of the OS caches, then a walk reads
     * the guest again and sees the change. */
    int fd = open(img_path, O_WRONLY);
    CHECK(fd >= 0);
    CHECK_EQ(pwrite(fd, "renamed", 8, (off_t)pa_of(task_va[1] + T_COMM)), 8);
    close(fd);
    CHECK_EQ(walk_all(xa, again, 8, &n2), 0);
    CHECK(strcmp(again[1].comm, "init") == 0);
    xa_cache_flush(xa, XA_CACHE_OS);
    before = translations(xa);
    CHECK_EQ(walk_all(xa, fresh, 8, &n3), 0);
    CHECK(translations(xa) > before);
    CHECK_EQ(n3, n1);
    CHECK(strcmp(fresh[1].comm, "renamed") == 0);
    strcpy(fresh[1].comm, "init");
    CHECK(first_difference(first, fresh, n1) == n1); /* nothing else changed */
    /* A flush during a replay leaves that replay whole. */
    struct xa_process_iter *it;
    struct xa_process p;
    CHECK_EQ(xa_process_iter_new(xa, &it), 0);
    CHECK_EQ(xa_process_iter_next(it, &p), 1);
    xa_cache_flush(xa, XA_CACHE_ALL);
    n2 = 1;
    int rc;
    while ((rc = xa_process_iter_next(it, &p)) == 1)
        n2++;
    CHECK_EQ(rc, 0);
    CHECK_EQ(n2, n1);
    xa_process_iter_free(it);
    xa_destroy(xa);

    /* Opened for writing: a write is seen by the next walk. */
    build_guest(false, btf, btf_size);
    save_image();
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = target;
    o.sysmap = map_path;
    o.btf = btf_path;
    o.flags = XA_INIT_WRITE;
    xa = NULL;
    CHECK_EQ(xa_init_opts(&o, &xa), 0);
    if (!xa)
        return;
    CHECK_EQ(walk_all(xa, first, 8, &n1), 0);
    CHECK_EQ(xa_write_va(xa, 0, task_va[1] + T_COMM, "written", 8, NULL), 0);
    CHECK_EQ(walk_all(xa, again, 8, &n2), 0);
    CHECK_EQ(n2, n1);
    CHECK(strcmp(again[1].comm, "written") == 0);
    xa_destroy(xa);
}

/* The older layout: a vm_next that skips a VMA is caught by vm_prev. */
static void test_vma_list_links(const char *old_btf)
{
    struct xa_instance *xa;
    int err, n;
    vput64(vma_va[1] + V_NEXT, vma_va[3]); /* v2 -> v4; v4's vm_prev is v3 */
    if ((xa = open_guest(map_path, old_btf))) {
        n = count_vmas(xa, 1, &err);
        CHECK_EQ(n, 2);
        CHECK_EQ(err, XA_EBADDATA);
        CHECK(strstr(xa_errmsg(xa), "VMA list broken after 2 VMAs") != NULL);
        xa_destroy(xa);
    }
    vput64(vma_va[1] + V_NEXT, vma_va[2]);
    vput64(vma_va[3] + V_NEXT, 0); /* v4 ends the list: v5 dropped, links agree */
    if ((xa = open_guest(map_path, old_btf))) {
        n = count_vmas(xa, 1, &err);
        CHECK_EQ(n, 4);
        CHECK_EQ(err, XA_EBADDATA);
        CHECK(strstr(xa_errmsg(xa), "VMA list holds 4 VMAs, mm->map_count says 5") != NULL);
        xa_destroy(xa);
    }
    vput64(vma_va[3] + V_NEXT, vma_va[4]);
}

int main(void)
{
    img = calloc(1, IMG_SIZE);
    uint32_t btf_size;
    void *btf = build_btf(&btf_size);
    if (!img || !btf) {
        fprintf(stderr, "cannot build the synthetic guest\n");
        return 1;
    }
    int fd = mkstemp(img_path);
    close(fd);
    snprintf(target, sizeof(target), "file:%s", img_path);
    write_file(btf_path, btf, btf_size);
    write_maps(btf_size);
    struct xa_instance *xa;
    int err, n;

    /* 1. The whole guest, BTF from a file. */
    build_guest(false, btf, btf_size);
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_os_info info;
        CHECK_EQ(xa_os_get_info(xa, &info), 0);
        CHECK(strstr(info.types_from, "BTF file") != NULL);
        test_info_and_symbols(xa);
        test_processes(xa);
        test_threads(xa);
        test_modules(xa);
        test_vmas(xa);
        xa_destroy(xa);
    }
    test_thread_damage();

    /* 1b. The same with 5-level paging and its direct-map base. */
    la57 = true;
    dm_base = 0xff11000000000000ULL;
    build_guest(false, btf, btf_size);
    if ((xa = open_guest(map_path, btf_path))) {
        test_info_and_symbols(xa);
        test_processes(xa);
        test_vmas(xa);
        xa_destroy(xa);
    }
    la57 = false;
    dm_base = 0xffff888000000000ULL;

    /* 1c. Older layouts: task_struct.state, mm->mmap list, module.mem[]. */
    old_layout = true;
    void *old_btf = build_btf(&btf_size);
    write_file(old_btf_path, old_btf, btf_size);
    build_guest(false, btf, btf_size);
    if ((xa = open_guest(map_path, old_btf_path))) {
        test_processes(xa);
        test_modules(xa);
        test_vmas(xa);
        xa_destroy(xa);
    }
    test_vma_list_links(old_btf_path);
    /* ... and a VMA list that loops. */
    vput64(vma_va[2] + V_NEXT, vma_va[1]);
    if ((xa = open_guest(map_path, old_btf_path))) {
        struct xa_vma_iter *it;
        CHECK_EQ(xa_vma_iter_new(xa, 1, &it), 0);
        static struct xa_vma v;
        n = 0;
        int rc;
        while ((rc = xa_vma_iter_next(it, &v)) == 1 && n < 100)
            n++;
        CHECK_EQ(n, 3); /* the repeat of v2 comes out of order */
        CHECK(rc == XA_ELIMIT || rc == XA_EBADDATA);
        xa_vma_iter_free(it);
        xa_destroy(xa);
    }
    old_layout = false;
    free(old_btf);
    btf_size = 0;
    free(btf);
    btf = build_btf(&btf_size);

    test_links_and_counts(btf, btf_size);
    test_task_list_loops(btf, btf_size);
    test_task_walk_truncated(btf, btf_size);
    test_process_list_kept(btf, btf_size);

    /* 1d. An unlinked file is shown as /proc does. */
    build_guest(false, btf, btf_size);
    vput64(init_dentry + D_HASH + 8, 0);
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_vma_iter *it;
        static struct xa_vma v;
        CHECK_EQ(xa_vma_iter_new(xa, 1, &it), 0);
        CHECK_EQ(xa_vma_iter_next(it, &v), 1);
        CHECK(strcmp(v.path, "/bin/init (deleted)") == 0);
        xa_vma_iter_free(it);
        xa_destroy(xa);
    }

    /* 2. BTF read from guest memory between __start_BTF and __stop_BTF. */
    build_guest(true, btf, btf_size);
    if ((xa = open_guest(map_path, NULL))) {
        struct xa_os_info info;
        CHECK_EQ(xa_os_get_info(xa, &info), 0);
        CHECK(strcmp(info.types_from, "BTF in guest memory") == 0);
        n = count_processes(xa, &err);
        CHECK_EQ(n, 5);
        CHECK_EQ(err, 0);
        xa_destroy(xa);
    }

    /* 3. No BTF anywhere: symbols work, walks explain what is missing. */
    build_guest(false, btf, btf_size);
    if ((xa = open_guest(map_nobtf_path, NULL))) {
        uint64_t a;
        CHECK_EQ(xa_sym_lookup(xa, "init_task", &a), 0);
        struct xa_process_iter *it = NULL;
        CHECK_EQ(xa_process_iter_new(xa, &it), XA_ENOTSUP);
        CHECK(strstr(xa_errmsg(xa), "--btf") != NULL);
        struct xa_os_info info;
        CHECK_EQ(xa_os_get_info(xa, &info), 0);
        CHECK(strcmp(info.types_from, "none") == 0);
        xa_destroy(xa);
    }

    /* 4. A task list that loops without coming back to init_task. */
    build_guest(false, btf, btf_size);
    vput64(task_va[3] + T_TASKS, task_va[1] + T_TASKS);
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_processes(xa, &err);
        CHECK_EQ(err, XA_ELIMIT);
        CHECK(n >= 4 && n < 20);
        CHECK(strstr(xa_errmsg(xa), "loops") != NULL);
        struct xa_process p;
        CHECK_EQ(xa_process_by_pid(xa, 4242, &p), XA_ELIMIT);
        xa_destroy(xa);
    }

    /* 5. A task list pointing outside guest memory. */
    build_guest(false, btf, btf_size);
    vput64(task_va[2] + T_TASKS, DM + 0x3000000 + T_TASKS);
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_processes(xa, &err);
        CHECK_EQ(err, XA_EFAULT);
        CHECK_EQ(n, 3);
        CHECK(strstr(xa_errmsg(xa), "task list broken at") != NULL);
        xa_destroy(xa);
    }

    /* 6. A maple node whose child is its own ancestor: partial map, then ELIMIT. */
    build_guest(false, btf, btf_size);
    vput64(maple_root_node + 88, ENODE(maple_root_node, 3));
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_vma_iter *it;
        CHECK_EQ(xa_vma_iter_new(xa, 1, &it), 0);
        static struct xa_vma v;
        n = 0;
        int rc;
        while ((rc = xa_vma_iter_next(it, &v)) == 1)
            n++;
        CHECK_EQ(n, 2);
        CHECK_EQ(rc, XA_ELIMIT);
        CHECK(strstr(xa_errmsg(xa), "maple tree loops") != NULL);
        CHECK_EQ(xa_vma_iter_next(it, &v), XA_ELIMIT); /* stays over */
        xa_vma_iter_free(it);
        xa_destroy(xa);
    }

    /* 7. A VMA whose range disagrees with its slot in the tree. */
    build_guest(false, btf, btf_size);
    vput64(leaf2_node + 128 + 2 * 8, 0);              /* stack slot emptied */
    vput64(leaf2_node + 128 + 3 * 8, mod_va[0]);      /* vdso slot: not a VMA */
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_vma_iter *it;
        CHECK_EQ(xa_vma_iter_new(xa, 1, &it), 0);
        static struct xa_vma v;
        n = 0;
        int rc;
        while ((rc = xa_vma_iter_next(it, &v)) == 1)
            n++;
        CHECK_EQ(n, 3);
        CHECK_EQ(rc, XA_EBADDATA);
        xa_vma_iter_free(it);
        xa_destroy(xa);
    }

    /* 8. A module list that loops on itself. */
    build_guest(false, btf, btf_size);
    vput64(mod_va[1] + MOD_LIST, mod_va[0] + MOD_LIST);
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_module_iter *it;
        CHECK_EQ(xa_module_iter_new(xa, &it), 0);
        struct xa_module m;
        n = 0;
        int rc;
        while ((rc = xa_module_iter_next(it, &m)) == 1 && n < 100)
            n++;
        CHECK_EQ(rc, XA_ELIMIT);
        CHECK(n >= 2 && n < 10);
        xa_module_iter_free(it);
        xa_destroy(xa);
    }

    /* 3b. BTF in memory that is too large, or lacks its magic: no types. */
    build_guest(true, btf, btf_size);
    if ((xa = open_guest(map_hugebtf_path, NULL))) {
        struct xa_process_iter *it = NULL;
        CHECK_EQ(xa_process_iter_new(xa, &it), XA_ENOTSUP);
        CHECK(strstr(xa_errmsg(xa), "implausible") != NULL);
        uint64_t off;
        CHECK_EQ(xa_type_offset(xa, "task_struct", "pid", &off), XA_ENOENT);
        xa_destroy(xa);
    }
    build_guest(true, btf, btf_size);
    img[kpa(K_BTF)] ^= 0xff;
    if ((xa = open_guest(map_path, NULL))) {
        struct xa_module_iter *it = NULL;
        CHECK_EQ(xa_module_iter_new(xa, &it), XA_ENOTSUP);
        CHECK(strstr(xa_errmsg(xa), "no BTF magic") != NULL);
        xa_destroy(xa);
    }
    /* ... and a BTF file that does not exist fails the OS layer. */
    build_guest(false, btf, btf_size);
    if ((xa = open_guest(map_path, "/nonexistent/vmlinux.btf"))) {
        struct xa_os_info info;
        CHECK_EQ(xa_os_get_info(xa, &info), XA_ENOOS);
        CHECK(strstr(xa_errmsg(xa), "/nonexistent/vmlinux.btf") != NULL);
        xa_destroy(xa);
    }

    /* 5b. Implausible tasks: a pid beyond PID_MAX_LIMIT, an unterminated comm. */
    build_guest(false, btf, btf_size);
    vput32(task_va[3] + T_PID, 5000000);
    vput32(task_va[3] + T_TGID, 5000000);
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_processes(xa, &err);
        CHECK_EQ(err, XA_EBADDATA);
        CHECK_EQ(n, 3);
        CHECK(strstr(xa_errmsg(xa), "implausible task") != NULL);
        xa_destroy(xa);
    }
    build_guest(false, btf, btf_size);
    memset(img + pa_of(task_va[2] + T_COMM), 'k', 16);
    if ((xa = open_guest(map_path, btf_path))) {
        n = count_processes(xa, &err);
        CHECK_EQ(err, XA_EBADDATA);
        CHECK_EQ(n, 2);
        xa_destroy(xa);
    }

    /* 9. Not this kernel: the map's init_top_pgt maps no banner. Memory
     * access still works; OS calls say why they cannot. */
    build_guest(false, btf, btf_size);
    memset(img + kpa(K_TOP_PGT), 0, 4096);
    if ((xa = open_guest(map_path, btf_path))) {
        struct xa_os_info info;
        CHECK_EQ(xa_os_get_info(xa, &info), XA_ENOOS);
        struct xa_process_iter *it = (struct xa_process_iter *)1;
        CHECK_EQ(xa_process_iter_new(xa, &it), XA_ENOOS);
        CHECK(it == NULL);
        CHECK(strstr(xa_errmsg(xa), "does not match") != NULL);
        uint8_t b[4];
        CHECK_EQ(xa_read_pa(xa, 0x100000, b, 4), 0);
        xa_destroy(xa);
    }

    unlink(img_path);
    unlink(map_path);
    unlink(map_nobtf_path);
    unlink(map_hugebtf_path);
    unlink(btf_path);
    unlink(old_btf_path);
    free(btf);
    free(img);
    CHECK_DONE();
}
