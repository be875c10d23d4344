/*
 * live_bench.c -- the same reads on a live QEMU guest and on a dump of it.
 *
 *   live_bench --va HEX TARGET...      (e.g. qemu:/x/xa.sock file:/x/core.elf)
 *
 * For each target: attach time, 8-byte physical and kernel-virtual reads,
 * bulk physical reads, pause/resume round trip (live only), and the time from
 * xa_init() to the end of the first process list. One table row per target.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xenaccess.h"

#define SMALL_READS 200000
#define BULK_BYTES (64u << 20)
#define BULK_CHUNK (1u << 20)
#define ROUND_TRIPS 20

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift: cheap, repeatable addresses */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A random 8-byte-aligned physical address inside RAM. */
static uint64_t random_pa(struct xa_instance *xa, uint64_t *seed)
{
    size_t n;
    const struct xa_mem_range *r = xa_mem_ranges(xa, &n);
    uint64_t off = next_rand(seed) % xa_memsize(xa);
    for (size_t i = 0; i < n; i++) {
        if (off < r[i].size)
            return (r[i].start + off) & ~(uint64_t)7;
        off -= r[i].size;
    }
    return r[0].start;
}

struct row {
    double attach_ms, pa8_cold_ns, pa8_ns, va8_ns, bulk_mbs, pause_ms, ps_ms;
    int nprocs;
};

static int bench_memory(const char *target, uint64_t va, struct row *row)
{
    struct xa_instance *xa;
    double t = now_s();
    if (xa_init(target, XA_INIT_NO_OS, &xa) < 0) {
        fprintf(stderr, "%s: %s\n", target, xa_last_init_error());
        return -1;
    }
    row->attach_ms = (now_s() - t) * 1e3;

    /* Two passes over the same random addresses: the first pays for host
     * page faults on our mapping (cold), the second is the steady state. */
    uint64_t v, sum = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t seed = 88172645463325252ull;
        t = now_s();
        for (int i = 0; i < SMALL_READS; i++) {
            if (xa_read_pa(xa, random_pa(xa, &seed), &v, 8) == 0)
                sum += v;
        }
        *(pass ? &row->pa8_ns : &row->pa8_cold_ns) = (now_s() - t) / SMALL_READS * 1e9;
    }

    /* kernel virtual: walk 64 KiB around the given symbol (translation cache hot) */
    t = now_s();
    for (int i = 0; i < SMALL_READS; i++) {
        if (xa_read_kva_u64(xa, va + (uint64_t)(i % 8192) * 8, &v) == 0)
            sum += v;
    }
    row->va8_ns = (now_s() - t) / SMALL_READS * 1e9;

    char *buf = malloc(BULK_CHUNK);
    size_t n;
    const struct xa_mem_range *r = xa_mem_ranges(xa, &n);
    size_t big = 0;
    for (size_t i = 1; i < n; i++)
        if (r[i].size > r[big].size)
            big = i;
    uint64_t base = r[big].start, len = r[big].size < BULK_BYTES ? r[big].size : BULK_BYTES;
    uint64_t done = 0;
    t = now_s();
    for (uint64_t off = 0; buf && off + BULK_CHUNK <= len; off += BULK_CHUNK)
        if (xa_read_pa(xa, base + off, buf, BULK_CHUNK) == 0) {
            sum += (uint8_t)buf[0];
            done += BULK_CHUNK;
        }
    row->bulk_mbs = (double)done / (1 << 20) / (now_s() - t);
    free(buf);

    row->pause_ms = -1;
    if (xa_is_live(xa)) {
        t = now_s();
        int ok = 1;
        for (int i = 0; i < ROUND_TRIPS && ok; i++)
            ok = xa_pause(xa) == 0 && xa_resume(xa) == 0;
        if (ok)
            row->pause_ms = (now_s() - t) / ROUND_TRIPS * 1e3;
    }
    xa_destroy(xa);
    if (sum == 42)
        fprintf(stderr, "(checksum)\n"); /* keeps the reads from being optimised away */
    return 0;
}

static void bench_first_ps(const char *target, struct row *row)
{
    double t = now_s();
    struct xa_instance *xa;
    row->ps_ms = -1;
    row->nprocs = 0;
    if (xa_init(target, 0, &xa) < 0)
        return;
    struct xa_process_iter *it;
    if (xa_process_iter_new(xa, &it) == 0) {
        struct xa_process p;
        int rc;
        while ((rc = xa_process_iter_next(it, &p)) == 1)
            row->nprocs++;
        xa_process_iter_free(it);
        if (rc == 0)
            row->ps_ms = (now_s() - t) * 1e3;
    }
    xa_destroy(xa);
}

int main(int argc, char **argv)
{
    uint64_t va = 0;
    int first = 1;
    if (argc > 2 && !strcmp(argv[1], "--va")) {
        va = strtoull(argv[2], NULL, 16);
        first = 3;
    }
    if (first >= argc || !va) {
        fprintf(stderr, "usage: %s --va KERNEL_VA TARGET...\n", argv[0]);
        return 2;
    }
    printf("%-44s %10s %12s %10s %10s %11s %12s %14s\n", "target", "attach ms", "pa 8B cold ns",
           "pa 8B ns",
           "kva 8B ns", "bulk MiB/s", "pause+res ms", "attach+ps ms");
    for (int i = first; i < argc; i++) {
        struct row row;
        if (bench_memory(argv[i], va, &row) < 0)
            continue;
        bench_first_ps(argv[i], &row);
        char pause[32], ps[48];
        if (row.pause_ms < 0)
            snprintf(pause, sizeof(pause), "-");
        else
            snprintf(pause, sizeof(pause), "%.2f", row.pause_ms);
        if (row.ps_ms < 0)
            snprintf(ps, sizeof(ps), "failed");
        else
            snprintf(ps, sizeof(ps), "%.0f (%d)", row.ps_ms, row.nprocs);
        const char *name = argv[i];
        size_t len = strlen(name);
        printf("%-44s %10.1f %12.1f %10.1f %10.1f %11.0f %12s %14s\n",
               len > 44 ? name + len - 44 : name, row.attach_ms, row.pa8_cold_ns, row.pa8_ns,
               row.va8_ns,
               row.bulk_mbs, pause, ps);
    }
    return 0;
}
