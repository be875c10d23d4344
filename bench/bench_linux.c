/*
 * bench_linux -- the Linux layer on a real guest dump: kernel discovery per
 * GiB, the process-list walk per process, symbol lookups, and the paper's
 * three memory accesses (virtual address, kernel symbol, user address) with
 * the caches missing and hitting. Baselines measured in the same run: a
 * sequential read of the whole image (for discovery) and a cached 8-byte
 * physical read (for the accesses).
 *
 *   bench_linux DUMP [DUMP...]      (raw.img or core.elf from tests/guest/harness.py)
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xenaccess.h"
#include "xenaccess_check.h"

/* The kernel data symbol read: jiffies, but arm64 kernels without
 * CONFIG_KALLSYMS_ALL list text only (then init_task, which discovery finds
 * in memory). Chosen once per dump, outside the timed loops. */
static const char *ksym = "jiffies", *ksym2 = "init_task"; /* looked up in turn */
#define KSYM ksym

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

/* Sequential read of the whole file through a fresh mmap: the floor for any scan. */
static double read_file_ns(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return 0;
    const volatile uint8_t *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return 0;
    double t0 = now_ns();
    uint64_t sum = 0;
    for (off_t off = 0; off < st.st_size; off += 256)
        sum += m[off];
    double t = now_ns() - t0;
    munmap((void *)(uintptr_t)m, (size_t)st.st_size);
    return sum == 1 ? t + 1 : t;
}

static struct xa_instance *open_or_die(const char *target)
{
    struct xa_instance *xa;
    uint64_t unused;
    if (xa_init(target, 0, &xa) < 0) {
        fprintf(stderr, "bench_linux: %s\n", xa_last_init_error());
        exit(1);
    }
    /* 32-bit 686 kernels list neither: then a text symbol. */
    ksym = xa_sym_lookup(xa, "jiffies", &unused) == 0     ? "jiffies"
           : xa_sym_lookup(xa, "init_task", &unused) == 0 ? "init_task"
                                                          : "schedule";
    ksym2 = xa_sym_lookup(xa, "init_task", &unused) == 0 ? "init_task" : "start_kernel";
    return xa;
}

/* All open files of all processes (issue 14): one process walk, then each
 * process's fd table (as the walk found it: no walk per process), cold caches; the target is < 20 ms on 350 processes. */
static void bench_files(struct xa_instance *xa)
{
    enum { RUNS = 7 };
    double t[RUNS];
    long nfiles = 0;
    int nproc = 0, failed = 0;
    static struct xa_open_file f;
    for (int r = 0; r < RUNS; r++) {
        xa_cache_flush(xa, XA_CACHE_ALL);
        double t0 = now_ns();
        struct xa_process_iter *it;
        struct xa_process p;
        nfiles = 0;
        nproc = 0;
        failed = 0;
        if (xa_process_iter_new(xa, &it) == 0) {
            while (xa_process_iter_next(it, &p) == 1) {
                struct xa_file_iter *fit;
                nproc++;
                if (xa_file_iter_new_proc(xa, &p, &fit) < 0) {
                    failed++;
                    continue;
                }
                int rc;
                while ((rc = xa_file_iter_next(fit, &f)) == 1)
                    nfiles++;
                failed += rc < 0;
                xa_file_iter_free(fit);
            }
            xa_process_iter_free(it);
        }
        t[r] = now_ns() - t0;
    }
    if (failed)
        fprintf(stderr, "bench_linux: open files: %d processes failed\n", failed);
    printf("| %-46s | %11.2f ms | %d procs, %ld files; < 20 ms |\n",
           "open files of all processes (cold caches)", median(t, RUNS) / 1e6, nproc, nfiles);
}

static int count_finding(const struct xa_finding *f, void *ctx)
{
    (void)f;
    ++*(int *)ctx;
    return 0;
}

/* Every rootkit check, as `xa-check` runs them, from cold caches. */
static int walk_modules(struct xa_instance *xa)
{
    struct xa_module_iter *it;
    static struct xa_module m;
    int n = 0;
    if (xa_module_iter_new(xa, &it) < 0)
        return -1;
    while (xa_module_iter_next(it, &m) == 1)
        n++;
    xa_module_iter_free(it);
    return n;
}

/* The module list: the first walk (a 32-bit kernel without a `modules`
 * symbol finds the list and struct module's layout in memory then, once),
 * and later walks with cold caches. */
static void bench_modules(struct xa_instance *xa)
{
    enum { RUNS = 7 };
    double t[RUNS], t0 = now_ns();
    int n = walk_modules(xa);
    double first = now_ns() - t0;
    for (int r = 0; r < RUNS; r++) {
        xa_cache_flush(xa, XA_CACHE_ALL);
        t0 = now_ns();
        walk_modules(xa);
        t[r] = now_ns() - t0;
    }
    printf("| %-46s | %11.2f ms | %d modules; later %.3f ms  |\n",
           "module list, first walk (cold caches)", first / 1e6, n, median(t, RUNS) / 1e6);
}

static void bench_checks(struct xa_instance *xa)
{
    enum { RUNS = 7 };
    double t[RUNS];
    int found = 0, stopped = 0;
    for (int r = 0; r < RUNS; r++) {
        xa_cache_flush(xa, XA_CACHE_ALL);
        found = stopped = 0;
        double t0 = now_ns();
        for (int k = 1; k < XA_CHECK_COUNT; k++)
            if (xa_check_run(xa, (enum xa_check)k, count_finding, &found) < 0)
                stopped++;
        t[r] = now_ns() - t0;
    }
    printf("| %-46s | %11.1f ms | target < 100 ms; %d found%s |\n",
           "xa-check, all 9 checks (cold caches)", median(t, RUNS) / 1e6, found,
           stopped ? ", STOPPED" : "");
}

static void bench_dump(const char *path)
{
    char target[4200];
    snprintf(target, sizeof(target), "file:%s", path);
    enum { RUNS = 7 };
    double t[RUNS], base[RUNS];
    struct xa_instance *xa = NULL;
    for (int r = 0; r < RUNS; r++) {
        base[r] = read_file_ns(path);
        double t0 = now_ns();
        xa = open_or_die(target);
        t[r] = now_ns() - t0;
        if (r < RUNS - 1)
            xa_destroy(xa);
    }
    double gib = (double)xa_memsize(xa) / (double)(1ull << 30);
    double open_ns = median(t, RUNS), scan_ns = median(base, RUNS);
    struct xa_os_info info;
    if (xa_os_get_info(xa, &info) < 0) {
        fprintf(stderr, "bench_linux: %s\n", xa_errmsg(xa));
        exit(1);
    }
    printf("\n%s (%.2f GiB, %s, %s)\n\n", path, gib, xa_access_method(xa),
           xa_page_mode_name(info.page_mode));
    printf("| %-46s | %14s | %-26s |\n", "operation", "time", "baseline / target");
    printf("|------------------------------------------------|----------------|----------------------------|\n");
    printf("| %-46s | %11.1f ms | %-26s |\n", "open + kernel discovery + BTF", open_ns / 1e6, "");
    printf("| %-46s | %11.1f ms | scan of image %.0f ms (x%.1f) |\n", "  per GiB of guest memory",
           open_ns / 1e6 / gib, scan_ns / 1e6 / gib, open_ns / scan_ns);

    /* Process list: walk per process. */
    double walk[RUNS];
    int nproc = 0;
    for (int r = 0; r < RUNS; r++) {
        xa_cache_flush(xa, XA_CACHE_ALL);
        double t0 = now_ns();
        struct xa_process_iter *it;
        struct xa_process p;
        nproc = 0;
        if (xa_process_iter_new(xa, &it) == 0) {
            while (xa_process_iter_next(it, &p) == 1)
                nproc++;
            xa_process_iter_free(it);
        }
        walk[r] = now_ns() - t0;
    }
    double walk_ns = median(walk, RUNS);
    printf("| %-46s | %11.2f us | %d processes, %.2f ms     |\n", "process list, per process (cold caches)",
           walk_ns / 1e3 / nproc, nproc, walk_ns / 1e6);
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_ns();
        struct xa_process_iter *it;
        struct xa_process p;
        if (xa_process_iter_new(xa, &it) == 0) {
            while (xa_process_iter_next(it, &p) == 1)
                ;
            xa_process_iter_free(it);
        }
        walk[r] = now_ns() - t0;
    }
    printf("| %-46s | %11.2f us |                            |\n", "process list, per process (warm caches)",
           median(walk, RUNS) / 1e3 / nproc);
    bench_modules(xa);
    bench_files(xa);

    /* Sockets (tables and every fd table) and the kernel log, cold caches:
     * the target is 20 ms for all sockets. */
    int nsock = 0, nrec = 0;
    struct xa_net_iter *nit;
    if (xa_net_iter_new(xa, &nit) == 0) /* types resolved once, outside the timing */
        xa_net_iter_free(nit);
    for (int r = 0; r < RUNS; r++) {
        xa_cache_flush(xa, XA_CACHE_ALL);
        double t0 = now_ns();
        static struct xa_socket sk;
        nsock = 0;
        if (xa_net_iter_new(xa, &nit) == 0) {
            while (xa_net_iter_next(nit, &sk) == 1)
                nsock++;
            xa_net_iter_free(nit);
        }
        walk[r] = now_ns() - t0;
    }
    printf("| %-46s | %11.2f ms | %d sockets, target 20 ms  |\n",
           "all sockets + owners (cold caches)", median(walk, RUNS) / 1e6, nsock);
    for (int r = 0; r < RUNS; r++) {
        xa_cache_flush(xa, XA_CACHE_ALL);
        double t0 = now_ns();
        static struct xa_kmsg rec;
        struct xa_kmsg_iter *kit;
        nrec = 0;
        if (xa_kmsg_iter_new(xa, 0, &kit) == 0) {
            while (xa_kmsg_iter_next(kit, &rec) == 1)
                nrec++;
            xa_kmsg_iter_free(kit);
        }
        walk[r] = now_ns() - t0;
    }
    printf("| %-46s | %11.2f ms | %d records                |\n",
           "kernel log, all records (cold caches)", median(walk, RUNS) / 1e6, nrec);
    bench_checks(xa);

    /* Symbols. */
    const int N = 200000;
    uint64_t addr = 0, off;
    const char *name;
    double t0 = now_ns();
    for (int i = 0; i < N; i++)
        if (xa_sym_lookup(xa, (i & 1) ? ksym2 : KSYM, &addr) < 0)
            exit(1);
    printf("| %-46s | %11.1f ns |                            |\n", "symbol lookup, name -> address",
           (now_ns() - t0) / N);
    t0 = now_ns();
    for (int i = 0; i < N; i++)
        if (xa_sym_at(xa, addr + (uint64_t)(i & 255), &name, &off) < 0)
            exit(1);
    printf("| %-46s | %11.1f ns |                            |\n", "symbol lookup, address -> nearest",
           (now_ns() - t0) / N);

    /* Baseline: a cached 8-byte physical read (RAM need not start at 0: arm64 virt). */
    uint64_t v;
    size_t nranges;
    uint64_t ram0 = xa_mem_ranges(xa, &nranges)[0].start;
    t0 = now_ns();
    for (int i = 0; i < N; i++)
        if (xa_read_pa(xa, ram0 + 0x100000 + (uint64_t)(i & 63) * 8, &v, 8) < 0)
            exit(1);
    double pa_ns = (now_ns() - t0) / N;
    printf("| %-46s | %11.1f ns | (baseline)                 |\n", "8-byte physical read, cached", pa_ns);

    /* The paper's three accesses: miss (caches flushed first) and hit. */
    struct xa_process marker = {0};
    struct xa_process_iter *it;
    if (xa_process_iter_new(xa, &it) == 0) {
        struct xa_process p;
        while (xa_process_iter_next(it, &p) == 1)
            if (!strcmp(p.comm, "xa-marker") || (!marker.pid && p.mm))
                marker = p;
        xa_process_iter_free(it);
    }
    uint64_t jiffies;
    if (xa_sym_lookup(xa, KSYM, &jiffies) < 0)
        exit(1);
    /* A user page that is present: the first one found in the process's map. */
    uint64_t user_va = 0, udtb = 0, upa;
    struct xa_vma_iter *vit;
    static struct xa_vma vma;
    if (xa_pid_to_dtb(xa, marker.pid, &udtb) == 0 && xa_vma_iter_new(xa, marker.pid, &vit) == 0) {
        while (!user_va && xa_vma_iter_next(vit, &vma) == 1)
            for (uint64_t va = vma.start; va < vma.end && !user_va; va += 4096)
                if (xa_translate(xa, udtb, va, &upa) == 0)
                    user_va = va;
        xa_vma_iter_free(vit);
    }
    /* No memory map (32-bit kernels): the first present page of a 32-bit
     * program's usual image, which the test guests' workload is. */
    for (uint64_t va = 0x08048000; udtb && !user_va && va < 0x08048000 + (4u << 20); va += 4096)
        if (xa_translate(xa, udtb, va, &upa) == 0)
            user_va = va;
    const int M = 2000;
    /* Timer overhead, taken off each individually timed access below. */
    double t_timer = now_ns();
    for (int i = 0; i < 10000; i++)
        (void)now_ns();
    double timer_ns = (now_ns() - t_timer) / 10000;
    struct {
        const char *what;
        int kind;
    } acc[] = {{"virtual address (xa_access_virtual_address)", 0},
               {"kernel symbol (xa_access_kernel_symbol)", 1},
               {"user address (xa_access_user_virtual_address)", 2}};
    for (int a = 0; a < 3; a++) {
        double miss = 0, hit = 0;
        /* Each access timed alone; the miss pass flushes before each. */
        for (int pass = 0; pass < 2; pass++) {
            double total = 0;
            for (int i = 0; i < M; i++) {
                if (pass == 0)
                    xa_cache_flush(xa, XA_CACHE_V2P | XA_CACHE_PAGES);
                uint32_t o;
                t0 = now_ns();
                const void *pg = acc[a].kind == 0   ? xa_access_virtual_address(xa, jiffies, &o)
                                 : acc[a].kind == 1 ? xa_access_kernel_symbol(xa, KSYM, &o)
                                                    : xa_access_user_virtual_address(
                                                          xa, user_va, &o, marker.pid);
                total += now_ns() - t0 - timer_ns;
                if (!pg) {
                    fprintf(stderr, "bench_linux: %s: %s\n", acc[a].what, xa_errmsg(xa));
                    exit(1);
                }
                xa_release_page(xa, pg);
            }
            if (pass == 0)
                miss = total / M;
            else
                hit = total / M;
        }
        printf("| %-46s | %8.2f us miss | %8.3f us hit (x%.0f)   |\n", acc[a].what, miss / 1e3,
               hit / 1e3, miss / hit);
    }
    /* Reading 100..4000 bytes of a mapped page (the paper's second figure). */
    uint32_t o;
    const uint8_t *pg = xa_access_virtual_address(xa, jiffies & ~0xfffull, &o);
    static uint8_t buf[4096];
    for (int sz = 100; pg && sz <= 4000; sz = sz == 100 ? 500 : sz == 500 ? 1000 : sz + 1000) {
        t0 = now_ns();
        for (int i = 0; i < N; i++) {
            memcpy(buf, pg, (size_t)sz);
            __asm__ volatile("" : : "r"(buf) : "memory");
        }
        double per = (now_ns() - t0) / N;
        t0 = now_ns();
        for (int i = 0; i < N / 10; i++)
            if (xa_read_va(xa, 0, jiffies & ~0xfffull, buf, (size_t)sz, NULL) < 0)
                exit(1);
        double via = (now_ns() - t0) / (N / 10);
        printf("| read %4d bytes: mapped page / xa_read_va      | %8.1f ns      | %8.1f ns via xa_read_va  |\n",
               sz, per, via);
    }
    xa_release_page(xa, pg);
    xa_destroy(xa);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_linux DUMP [DUMP...]\n");
        return 2;
    }
    printf("xenaccess Linux layer on real guest dumps (medians of 7 runs where repeated)\n");
    for (int i = 1; i < argc; i++)
        bench_dump(argv[i]);
    return 0;
}
