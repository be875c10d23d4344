/*
 * bench_python_helper -- the C side of bench_python.py: the same three
 * operations the Python bench times, through the C API, in ns per operation.
 *
 *   bench_python_helper TARGET PROCLIST_REPS SYMREAD_REPS MIB_REPS
 * prints "proclist NS\nsymread NS\nread1m NS\n".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "xenaccess.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int walk_processes(struct xa_instance *xa)
{
    struct xa_process_iter *it;
    struct xa_process p;
    int n = 0;
    if (xa_process_iter_new(xa, &it) < 0)
        return -1;
    while (xa_process_iter_next(it, &p) == 1)
        n++;
    xa_process_iter_free(it);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_python_helper TARGET PROCLIST SYMREAD MIB\n");
        return 2;
    }
    long reps[3] = {atol(argv[2]), atol(argv[3]), atol(argv[4])};
    struct xa_instance *xa;
    if (xa_init(argv[1], 0, &xa) < 0) {
        fprintf(stderr, "bench_python_helper: %s\n", xa_last_init_error());
        return 1;
    }
    uint64_t stext, addr, v = 0;
    static char buf[1 << 20];
    size_t n;
    if (xa_sym_lookup(xa, "_stext", &stext) < 0 || walk_processes(xa) <= 0) {
        fprintf(stderr, "bench_python_helper: %s\n", xa_errmsg(xa));
        return 1;
    }
    double t0 = now_ns();
    for (long i = 0; i < reps[0]; i++)
        walk_processes(xa);
    double t1 = now_ns();
    for (long i = 0; i < reps[1]; i++)
        if (xa_sym_lookup(xa, "jiffies", &addr) < 0 || xa_read_kva_u64(xa, addr, &v) < 0)
            return 1;
    double t2 = now_ns();
    for (long i = 0; i < reps[2]; i++)
        if (xa_read_va(xa, 0, stext, buf, sizeof(buf), &n) < 0)
            return 1;
    double t3 = now_ns();
    printf("proclist %.0f\nsymread %.0f\nread1m %.0f\n", (t1 - t0) / (double)reps[0],
           (t2 - t1) / (double)reps[1], (t3 - t2) / (double)reps[2]);
    xa_destroy(xa);
    return 0;
}
