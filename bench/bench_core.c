/*
 * bench_core -- the memory core's speed, on a synthetic raw image with real
 * 4-level page tables built here (so it runs anywhere, with no guest):
 * translation (cache hit / miss), 8-byte virtual reads (hit / miss), and bulk
 * virtual reads next to memcpy of the same sizes measured in the same run.
 *
 *   bench_core [--mib N]     (data area size, default 512)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xenaccess.h"

#define PAGE 4096ull
#define TABLES_PA 0x100000ull  /* PML4, PDPT, PD, then PTs */
#define DATA_PA 0x4000000ull   /* 64 MiB */
#define VA_BASE 0xffffc90000000000ull

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void put64(FILE *f, uint64_t off, uint64_t v)
{
    if (fseeko(f, (off_t)off, SEEK_SET) != 0 || fwrite(&v, 8, 1, f) != 1) {
        perror("bench image");
        exit(1);
    }
}

/* A raw image: page tables mapping VA_BASE.. to DATA_PA.. with 4 KiB pages. */
static char *make_image(uint64_t data_pages)
{
    static char path[] = "/var/tmp/xa-bench-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        exit(1);
    }
    FILE *f = fdopen(fd, "w+");
    uint64_t npt = (data_pages + 511) / 512, npd = (npt + 511) / 512;
    uint64_t pml4 = TABLES_PA, pdpt = pml4 + PAGE, pd0 = pdpt + PAGE, pt0 = pd0 + npd * PAGE;
    if (pt0 + npt * PAGE > DATA_PA) {
        fprintf(stderr, "bench: too many pages\n");
        exit(1);
    }
    unsigned l4 = (VA_BASE >> 39) & 511, l3 = (VA_BASE >> 30) & 511;
    put64(f, pml4 + l4 * 8, pdpt | 3);
    for (uint64_t d = 0; d < npd; d++)
        put64(f, pdpt + (l3 + d) * 8, (pd0 + d * PAGE) | 3);
    for (uint64_t t = 0; t < npt; t++)
        put64(f, pd0 + t * 8, (pt0 + t * PAGE) | 3);
    uint64_t *pte = malloc(npt * PAGE);
    memset(pte, 0, npt * PAGE);
    for (uint64_t p = 0; p < data_pages; p++)
        pte[p] = (DATA_PA + p * PAGE) | 3;
    if (fseeko(f, (off_t)pt0, SEEK_SET) != 0 || fwrite(pte, PAGE, npt, f) != npt)
        exit(1);
    free(pte);
    /* Data: non-zero so the host really has pages behind it. */
    char *chunk = malloc(1 << 20);
    for (int i = 0; i < 1 << 20; i++)
        chunk[i] = (char)(i * 7);
    fseeko(f, (off_t)DATA_PA, SEEK_SET);
    for (uint64_t done = 0; done < data_pages * PAGE; done += 1 << 20)
        fwrite(chunk, 1, 1 << 20, f);
    free(chunk);
    fclose(f);
    return path;
}

static void row(const char *what, double ns, const char *target)
{
    printf("| %-42s | %10.1f ns | %-22s |\n", what, ns, target);
}

int main(int argc, char **argv)
{
    uint64_t mib = 512;
    if (argc == 3 && !strcmp(argv[1], "--mib"))
        mib = strtoull(argv[2], NULL, 0);
    uint64_t pages = mib * 256;
    char *path = make_image(pages);
    char target[128];
    snprintf(target, sizeof(target), "file:%s", path);
    struct xa_instance *xa;
    if (xa_init(target, XA_INIT_NO_OS, &xa) < 0) {
        fprintf(stderr, "bench: %s\n", xa_last_init_error());
        return 1;
    }
    unlink(path);
    if (xa_set_kernel_paging(xa, XA_PM_IA32E, TABLES_PA) < 0)
        return 1;
    struct xa_cache_stats st;
    volatile uint64_t sink = 0;
    uint64_t pa;

    /* Warm the host page cache for the whole image. */
    static uint8_t big[1 << 20];
    for (uint64_t off = 0; off < pages * PAGE; off += sizeof(big))
        if (xa_read_va(xa, 0, VA_BASE + off, big, sizeof(big), NULL) < 0)
            return 1;

    printf("xenaccess memory core, %" PRIu64 " MiB synthetic image, 4-level paging\n\n", mib);
    printf("| %-42s | %13s | %-22s |\n", "operation", "time", "target");
    printf("|%s|%s|%s|\n", "--------------------------------------------", "---------------",
           "------------------------");

    /* Translation, cache hit: one page over and over. */
    const int hit_iters = 5000000;
    double t0 = now_ns();
    for (int i = 0; i < hit_iters; i++) {
        if (xa_translate(xa, 0, VA_BASE + (uint64_t)(i & 15) * 8, &pa) < 0)
            return 1;
        sink += pa;
    }
    row("translate, cache hit", (now_ns() - t0) / hit_iters, "");

    /* Translation, cache miss: cycle over more pages than the cache holds. */
    xa_cache_flush(xa, XA_CACHE_ALL);
    xa_cache_stats(xa, &st);
    uint64_t miss_iters = pages;
    t0 = now_ns();
    for (uint64_t p = 0; p < miss_iters; p++) {
        if (xa_translate(xa, 0, VA_BASE + p * PAGE, &pa) < 0)
            return 1;
        sink += pa;
    }
    double miss_ns = (now_ns() - t0) / (double)miss_iters;
    struct xa_cache_stats st2;
    xa_cache_stats(xa, &st2);
    row("translate, cache miss (4-level walk)", miss_ns, "<= 300 ns");

    /* 8-byte reads. */
    uint64_t v;
    t0 = now_ns();
    for (int i = 0; i < hit_iters; i++) {
        if (xa_read_va(xa, 0, VA_BASE + (uint64_t)(i & 63) * 8, &v, 8, NULL) < 0)
            return 1;
        sink += v;
    }
    row("8-byte virtual read, cached", (now_ns() - t0) / hit_iters, "<= 50 ns");
    xa_cache_flush(xa, XA_CACHE_ALL);
    t0 = now_ns();
    for (uint64_t p = 0; p < miss_iters; p++) {
        if (xa_read_va(xa, 0, VA_BASE + p * PAGE + 8, &v, 8, NULL) < 0)
            return 1;
        sink += v;
    }
    row("8-byte virtual read, uncached", (now_ns() - t0) / (double)miss_iters, "");

    /* Bulk reads vs memcpy of the same size, same run. */
    printf("\n| %-10s | %12s | %12s | %7s | %-12s |\n", "bulk size", "xa_read_va", "memcpy",
           "ratio", "target");
    printf("|------------|--------------|--------------|---------|--------------|\n");
    size_t sizes[] = {4096, 65536, 1 << 20};
    uint8_t *src = malloc(64 << 20), *dst = malloc(1 << 20);
    memset(src, 1, 64 << 20);
    for (size_t s = 0; s < 3; s++) {
        size_t sz = sizes[s];
        uint64_t span = (64ull << 20) / sz; /* walk 64 MiB so neither side sits in L1 */
        int reps = (int)(((uint64_t)2 << 30) / sz / span);
        if (reps < 1)
            reps = 1;
        double best_xa = 1e30, best_mc = 1e30;
        for (int trial = 0; trial < 5; trial++) {
            t0 = now_ns();
            for (int r = 0; r < reps; r++)
                for (uint64_t k = 0; k < span; k++)
                    if (xa_read_va(xa, 0, VA_BASE + k * sz, dst, sz, NULL) < 0)
                        return 1;
            double t_xa = now_ns() - t0;
            t0 = now_ns();
            for (int r = 0; r < reps; r++)
                for (uint64_t k = 0; k < span; k++) {
                    memcpy(dst, src + k * sz, sz);
                    __asm__ volatile("" : : "r"(dst) : "memory");
                }
            double t_mc = now_ns() - t0;
            best_xa = t_xa < best_xa ? t_xa : best_xa;
            best_mc = t_mc < best_mc ? t_mc : best_mc;
        }
        double bytes = (double)sz * (double)span * reps;
        double gbs_xa = bytes / best_xa, gbs_mc = bytes / best_mc;
        char label[16];
        snprintf(label, sizeof(label), "%zu KiB", sz / 1024);
        printf("| %-10s | %7.2f GB/s | %7.2f GB/s | %7.2f | %-12s |\n", label, gbs_xa, gbs_mc,
               gbs_xa / gbs_mc, ">= 0.50");
    }
    xa_cache_stats(xa, &st);
    printf("\ncache: v2p %" PRIu64 "/%" PRIu64 " entries, page %" PRIu64 "/%" PRIu64
           " entries; miss pass: %" PRIu64 " v2p misses over %" PRIu64 " translations\n",
           st.v2p_entries, st.v2p_capacity, st.page_entries, st.page_capacity,
           st2.v2p_misses - 0, miss_iters);
    free(src);
    free(dst);
    xa_destroy(xa);
    return sink == 42 ? 2 : 0;
}
