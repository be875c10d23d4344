/*
 * xa-xen-check -- what the Xen test bed checks beyond the xa-* tools, and
 * the paper's memory-access figures. Runs in dom0 (or on any target).
 *
 *   xa-xen-check TARGET [--pid PID --va VA] [--dump FILE] [--iters N]
 *
 * Prints JSON lines:
 *   {"facts": ...}   backend, access method, RAM ranges, vCPUs, registers
 *   {"pause": ...}   vCPU 0's RIP twice across a pause (must not move),
 *                    and whether pause/resume returned 0
 *   {"bench": name, "ns": mean}  the paper's figures: a kernel symbol, a
 *                    kernel virtual address and a user address, each with
 *                    the caches flushed (miss) and warm (hit), and reads of
 *                    100..4000 bytes of a mapped page
 *   {"dump": FILE, "bytes": N}  with --dump: guest RAM below the first hole
 *                    copied to a raw image, to run the same figures on a
 *                    dump of the same guest.
 * Uses only the public API.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xenaccess.h"
#include "xenaccess_os.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void facts(struct xa_instance *xa)
{
    size_t n = 0;
    const struct xa_mem_range *r = xa_mem_ranges(xa, &n);
    printf("{\"facts\": {\"backend\": \"%s\", \"method\": \"%s\", \"memsize\": %" PRIu64
           ", \"nr_ranges\": %zu, \"ranges\": [",
           xa_backend_name(xa), xa_access_method(xa), xa_memsize(xa), n);
    for (size_t i = 0; i < n && i < 16; i++)
        printf("%s[\"0x%" PRIx64 "\", \"0x%" PRIx64 "\"]", i ? ", " : "", r[i].start,
               r[i].size);
    printf("], \"vcpus\": %u, \"paging\": \"%s\", \"dtb\": \"0x%" PRIx64 "\"", xa_vcpu_count(xa),
           xa_page_mode_name(xa_get_page_mode(xa)), xa_kernel_dtb(xa));
    struct xa_regs regs;
    if (xa_get_vcpu_regs(xa, 0, &regs) == 0)
        printf(", \"regs0\": {\"rip\": \"0x%" PRIx64 "\", \"rsp\": \"0x%" PRIx64
               "\", \"cr0\": \"0x%" PRIx64 "\", \"cr3\": \"0x%" PRIx64 "\", \"cr4\": \"0x%" PRIx64
               "\", \"efer\": \"0x%" PRIx64 "\", \"gs_base\": \"0x%" PRIx64
               "\", \"kernel_gs_base\": \"0x%" PRIx64 "\"}",
               regs.rip, regs.rsp, regs.cr0, regs.cr3, regs.cr4, regs.efer, regs.gs_base,
               regs.kernel_gs_base);
    else
        printf(", \"regs0_error\": \"%s\"", xa_errmsg(xa));
    printf("}}\n");
}

static void pause_check(struct xa_instance *xa)
{
    struct xa_regs a = {0}, b = {0};
    int p = xa_pause(xa);
    int ra = xa_get_vcpu_regs(xa, 0, &a);
    usleep(300000);
    int rb = xa_get_vcpu_regs(xa, 0, &b);
    int r = xa_resume(xa);
    printf("{\"pause\": {\"pause_rc\": %d, \"resume_rc\": %d, \"regs_rc\": [%d, %d], "
           "\"rip\": [\"0x%" PRIx64 "\", \"0x%" PRIx64 "\"], \"rsp\": [\"0x%" PRIx64
           "\", \"0x%" PRIx64 "\"]}}\n",
           p, r, ra, rb, a.rip, b.rip, a.rsp, b.rsp);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define BATCHES 10

/* Calls are timed in BATCHES batches (a clock read can cost more than a
 * call: in a PV dom0 under TCG it is a system call); the median batch mean
 * is the figure to read, since the host is shared and TCG timing is noisy. */
static void report(const char *name, double *batch_ns, int iters, int failures)
{
    double sum = 0;
    int per = iters / BATCHES;
    for (int i = 0; i < BATCHES; i++)
        sum += batch_ns[i];
    qsort(batch_ns, BATCHES, sizeof(*batch_ns), cmp_double);
    printf("{\"bench\": \"%s\", \"ns\": %.0f, \"mean_ns\": %.0f, \"iters\": %d, "
           "\"failures\": %d}\n",
           name, batch_ns[BATCHES / 2] / per, sum / (per * BATCHES), per * BATCHES, failures);
    fflush(stdout);
}

/* The paper's three kinds of access, each missing and hitting the caches. */
enum access_kind { BY_SYMBOL, BY_KVA, BY_UVA };

static const void *access_once(struct xa_instance *xa, enum access_kind k, uint64_t va, int pid,
                               uint32_t *off)
{
    switch (k) {
    case BY_SYMBOL:
        return xa_access_kernel_symbol(xa, "linux_banner", off);
    case BY_KVA:
        return xa_access_virtual_address(xa, va, off);
    default:
        return xa_access_user_virtual_address(xa, va, off, pid);
    }
}

static void bench_access(struct xa_instance *xa, const char *name, enum access_kind k,
                         uint64_t va, int pid, int iters)
{
    char label[96];
    for (int hit = 0; hit <= 1; hit++) {
        int failures = 0;
        uint32_t off;
        const void *warm = access_once(xa, k, va, pid, &off); /* symbol/OS lookups warm */
        xa_release_page(xa, warm);
        double ns[BATCHES];
        for (int b = 0; b < BATCHES; b++) {
            double t0 = now_ns();
            for (int i = 0; i < iters / BATCHES; i++) {
                if (!hit)
                    xa_cache_flush(xa, XA_CACHE_V2P | XA_CACHE_PAGES);
                const void *page = access_once(xa, k, va, pid, &off);
                failures += page == NULL;
                xa_release_page(xa, page);
            }
            ns[b] = now_ns() - t0;
        }
        snprintf(label, sizeof(label), "%s %s", name, hit ? "hit" : "miss");
        report(label, ns, iters, failures);
    }
}

static void bench_reads(struct xa_instance *xa, uint64_t va, int iters)
{
    static const size_t sizes[] = {100, 500, 1000, 2000, 3000, 4000};
    char buf[4096], label[64];
    uint64_t page_va = va & ~4095ull;
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t got = 0;
        int failures = xa_read_va(xa, 0, page_va, buf, sizes[s], &got) < 0; /* warm */
        double ns[BATCHES];
        for (int b = 0; b < BATCHES; b++) {
            double t0 = now_ns();
            for (int i = 0; i < iters / BATCHES; i++)
                failures += xa_read_va(xa, 0, page_va, buf, sizes[s], &got) < 0;
            ns[b] = now_ns() - t0;
        }
        snprintf(label, sizeof(label), "read %zu bytes of a mapped page", sizes[s]);
        report(label, ns, iters, failures);
    }
}

/* Guest RAM from 0 to the end of the largest range, holes as zeros, as a
 * raw image (for the dump figures; the special pages high up are left out). */
static void dump_raw(struct xa_instance *xa, const char *path)
{
    size_t n = 0;
    const struct xa_mem_range *r = xa_mem_ranges(xa, &n);
    uint64_t end = 0, biggest = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].size > biggest) {
            biggest = r[i].size;
            end = r[i].start + r[i].size;
        }
    FILE *f = fopen(path, "wb");
    static char page[4096];
    uint64_t done = 0;
    int pause_rc = xa_pause(xa);
    for (; f && done < end; done += sizeof(page)) {
        if (xa_read_pa(xa, done, page, sizeof(page)) < 0)
            memset(page, 0, sizeof(page));
        if (fwrite(page, sizeof(page), 1, f) != 1)
            break;
    }
    int resume_rc = xa_resume(xa);
    if (f)
        fclose(f);
    printf("{\"dump\": \"%s\", \"bytes\": %" PRIu64 ", \"pause_rc\": %d, \"resume_rc\": %d}\n",
           path, done, pause_rc, resume_rc);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: xa-xen-check TARGET [--pid PID --va VA] [--dump FILE] "
                        "[--iters N]\n");
        return 2;
    }
    int pid = 0, iters = 200;
    uint64_t uva = 0;
    const char *dump = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--pid"))
            pid = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--va"))
            uva = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--dump"))
            dump = argv[i + 1];
        else if (!strcmp(argv[i], "--iters"))
            iters = atoi(argv[i + 1]);
    }
    if (iters < BATCHES)
        iters = BATCHES;
    struct xa_instance *xa;
    double t0 = now_ns();
    if (xa_init(argv[1], 0, &xa) < 0) {
        fprintf(stderr, "xa-xen-check: %s\n", xa_last_init_error());
        return 1;
    }
    printf("{\"init_ms\": %.1f}\n", (now_ns() - t0) / 1e6);
    facts(xa);
    if (xa_is_live(xa))
        pause_check(xa);
    uint64_t banner = 0;
    if (xa_sym_lookup(xa, "linux_banner", &banner) == 0) {
        bench_access(xa, "kernel symbol", BY_SYMBOL, 0, 0, iters);
        bench_access(xa, "kernel virtual address", BY_KVA, banner, 0, iters);
        if (pid > 0 && uva)
            bench_access(xa, "user virtual address", BY_UVA, uva, pid, iters);
        bench_reads(xa, banner, iters * 5);
    } else {
        printf("{\"bench_error\": \"%s\"}\n", xa_errmsg(xa));
    }
    if (dump)
        dump_raw(xa, dump);
    xa_destroy(xa);
    return 0;
}
