/*
 * libvirt_bench.c -- the same guest through different targets (libvirt:
 * passthrough next to a plain qemu: QMP socket), driven by libvirt_bench.py.
 *
 *   libvirt_bench [--rounds N] [--label NAME] TARGET...
 *
 * --label names the next target in the table (targets can be long).
 *
 * Per target, medians over N rounds (best in brackets):
 *   attach ms      xa_init() alone (connect, find RAM, vCPUs, OS layer);
 *   first ps ms    xa_init() to the end of the first process list, a fresh
 *                  instance each round (what a one-shot xa-ps pays);
 *   monitor ms     one monitor round trip: registers of vCPU 0;
 *   pause+res ms   xa_pause() + xa_resume() on an open instance;
 *   snapshot ms    xa_pause(), a full process list, xa_resume() on an open
 *                  instance (a consistent view of a running guest).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xenaccess.h"

#define MAX_ROUNDS 100

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct stat_ms {
    double v[MAX_ROUNDS];
    int n;
};

static void stat_add(struct stat_ms *s, double v)
{
    if (s->n < MAX_ROUNDS)
        s->v[s->n++] = v;
}

static void stat_print(struct stat_ms *s)
{
    char cell[40];
    if (s->n == 0) {
        snprintf(cell, sizeof(cell), "failed");
    } else {
        qsort(s->v, (size_t)s->n, sizeof(double), cmp_double);
        snprintf(cell, sizeof(cell), "%.1f (%.1f)", s->v[s->n / 2], s->v[0]);
    }
    printf(" %15s", cell);
}

/* Walk the process list; the count, or a negative error. */
static int list_processes(struct xa_instance *xa)
{
    struct xa_process_iter *it;
    int rc = xa_process_iter_new(xa, &it);
    if (rc < 0)
        return rc;
    struct xa_process p;
    int n = 0;
    while ((rc = xa_process_iter_next(it, &p)) == 1)
        n++;
    xa_process_iter_free(it);
    return rc < 0 ? rc : n;
}

static int bench_target(const char *target, const char *label, int rounds)
{
    struct stat_ms attach = {0}, first_ps = {0}, monitor = {0}, pause = {0}, snapshot = {0};
    int nprocs = -1;
    for (int r = 0; r < rounds; r++) {
        struct xa_instance *xa;
        double t0 = now_ms();
        if (xa_init(target, 0, &xa) < 0) {
            fprintf(stderr, "%s: %s\n", target, xa_last_init_error());
            return -1;
        }
        double t1 = now_ms();
        int n = list_processes(xa);
        double t2 = now_ms();
        if (n >= 0) {
            stat_add(&attach, t1 - t0);
            stat_add(&first_ps, t2 - t0);
            nprocs = n;
        }
        xa_destroy(xa);
    }
    struct xa_instance *xa;
    if (xa_init(target, 0, &xa) < 0) {
        fprintf(stderr, "%s: %s\n", target, xa_last_init_error());
        return -1;
    }
    for (int r = 0; r < rounds; r++) {
        struct xa_regs regs;
        double t0 = now_ms();
        if (xa_get_vcpu_regs(xa, 0, &regs) == 0)
            stat_add(&monitor, now_ms() - t0);
        t0 = now_ms();
        if (xa_pause(xa) == 0 && xa_resume(xa) == 0)
            stat_add(&pause, now_ms() - t0);
        t0 = now_ms();
        if (xa_pause(xa) == 0) {
            int n = list_processes(xa);
            if (xa_resume(xa) == 0 && n >= 0)
                stat_add(&snapshot, now_ms() - t0);
        }
    }
    xa_destroy(xa);
    size_t len = strlen(label);
    printf("%-40s", len > 40 ? label + len - 40 : label);
    stat_print(&attach);
    stat_print(&first_ps);
    stat_print(&monitor);
    stat_print(&pause);
    stat_print(&snapshot);
    printf(" %6d\n", nprocs);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = 7, first = 1;
    if (argc > 2 && !strcmp(argv[1], "--rounds")) {
        rounds = atoi(argv[2]);
        first = 3;
    }
    if (first >= argc || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: %s [--rounds N (1..%d)] TARGET...\n", argv[0], MAX_ROUNDS);
        return 2;
    }
    printf("%-40s %15s %15s %15s %15s %15s %6s\n", "median (best) ms", "attach",
           "first ps", "monitor call", "pause+resume", "snapshot", "procs");
    int failed = 0;
    const char *label = NULL;
    for (int i = first; i < argc; i++) {
        if (!strcmp(argv[i], "--label") && i + 1 < argc) {
            label = argv[++i];
            continue;
        }
        if (bench_target(argv[i], label ? label : argv[i], rounds) < 0)
            failed = 1;
        label = NULL;
    }
    return failed;
}
