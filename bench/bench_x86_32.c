/*
 * bench_x86_32 -- what a 32-bit x86 guest (issue 18) costs beside an amd64
 * one: zero-configuration discovery per GiB, symbol lookups and kernel
 * virtual-address accesses through each paging mode (2-level, PAE,
 * 4-level), on dumps of the test guests. Only what the 32-bit guests support
 * without kernel types is measured (no process walks: Debian's i386
 * kernels have no BTF). Prints one Markdown row per dump.
 *
 * Usage: bench_x86_32 DUMP...   (raw images or ELF cores)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xenaccess.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_x86_32: %s: %s\n", what, msg);
    exit(1);
}

/* Median ns of one access to @va, each after a flush (miss) or not (hit). */
static double access_ns(struct xa_instance *xa, uint64_t va, int flush)
{
    enum { M = 2000 };
    static double t[M];
    for (int i = 0; i < M; i++) {
        if (flush)
            xa_cache_flush(xa, XA_CACHE_V2P | XA_CACHE_PAGES);
        uint32_t off;
        double t0 = now_ns();
        const void *pg = xa_access_virtual_address(xa, va, &off);
        t[i] = now_ns() - t0;
        if (!pg)
            die("access", xa_errmsg(xa));
        xa_release_page(xa, pg);
    }
    return median(t, M);
}

static void bench_dump(const char *path)
{
    char target[4200];
    snprintf(target, sizeof(target), "file:%s", path);
    enum { RUNS = 7 };
    double t[RUNS];
    struct xa_instance *xa = NULL;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_ns();
        if (xa_init(target, 0, &xa) < 0)
            die(path, xa_last_init_error());
        t[r] = now_ns() - t0;
        if (r < RUNS - 1)
            xa_destroy(xa);
    }
    double open_ms = median(t, RUNS) / 1e6;
    double gib = (double)xa_memsize(xa) / (double)(1ull << 30);
    struct xa_os_info info;
    if (xa_os_get_info(xa, &info) < 0)
        die(path, xa_errmsg(xa));

    /* A text symbol every kernel has in kallsyms, 32-bit ones included. */
    const int N = 200000;
    uint64_t addr = 0, off;
    const char *name;
    double t0 = now_ns();
    for (int i = 0; i < N; i++)
        if (xa_sym_lookup(xa, (i & 1) ? "schedule" : "start_kernel", &addr) < 0)
            die("schedule", xa_errmsg(xa));
    double by_name = (now_ns() - t0) / N;
    t0 = now_ns();
    for (int i = 0; i < N; i++)
        if (xa_sym_at(xa, addr + (uint64_t)(i & 255), &name, &off) < 0)
            die("sym_at", xa_errmsg(xa));
    double by_addr = (now_ns() - t0) / N;

    double miss = access_ns(xa, addr, 1), hit = access_ns(xa, addr, 0);
    printf("| %-28s | %-14s | %8.0f ms | %8.0f ms | %6.0f ns | %6.0f ns | %7.2f us | %6.0f ns |\n",
           path, xa_page_mode_name(info.page_mode), open_ms,
           open_ms / gib, by_name, by_addr, miss / 1e3, hit);
    xa_destroy(xa);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_x86_32 DUMP...\n");
        return 2;
    }
    printf("| %-28s | %-14s | %11s | %11s | %9s | %9s | %10s | %9s |\n", "dump", "paging",
           "discovery", "per GiB", "sym name", "sym addr", "VA miss", "VA hit");
    printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 1; i < argc; i++)
        bench_dump(argv[i]);
    return 0;
}
