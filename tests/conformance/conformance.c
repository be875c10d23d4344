/*
 * conformance.c -- the same cases against any backend (backends/backend.h).
 *
 *   conformance TARGET [--backend NAME] [--ram-bytes N|MIN-MAX] [--covers START-END]...
 *               [--kv2p VA=PA]... [--kstr VA=TEXT]... [--vcpus N] [--pause yes|no]
 *
 * The options are facts about the target that the caller knows from the dump
 * or the guest (tests/conformance/test_conformance.py takes them from the
 * guest's truth): the backend, its RAM size, guest RAM ranges (inclusive
 * ends, as in /proc/iomem) that must be readable, kernel addresses with their
 * physical address or their text, the vCPU count, whether pause must work.
 *
 * Cases: layout; reads at every range's edges, across ranges, holes and the
 * end of RAM; the read, mapped and direct paths agree; translations; vCPU
 * registers; pause/resume; writes refused on a read-only handle; injected
 * faults (core/backend.c) come back as errors, never as partial data.
 *
 * Prints one line per failed check and a summary; exits 1 on any failure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/instance.h"

#define MAX_FACTS 32
#define MAX_EDGE_RANGES 64 /* ranges whose edges are read: enough for any real layout */

struct kv2p {
    uint64_t va, pa;
};
struct kstr {
    uint64_t va;
    const char *text;
};
struct facts {
    const char *target, *backend;
    uint64_t ram_min, ram_max; /* RAM size bounds; 0 = not given */
    struct xa_mem_range covers[MAX_FACTS];
    size_t nr_covers;
    struct kv2p kv2p[MAX_FACTS];
    size_t nr_kv2p;
    struct kstr kstr[MAX_FACTS];
    size_t nr_kstr;
    long vcpus;   /* -1: not given */
    int pause;    /* -1: not given, 0 no, 1 yes */
};

static int case_failures;

/* CHECK with the handle's last message, for failures that come from the library. */
#define CHECK_RC(xa, expr, want)                                                                   \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != (want)) {                                                                       \
            fprintf(stderr, "%s:%d: %s = %d (%s), expected %d; message: %s\n", __FILE__,         \
                    __LINE__, #expr, rc_, xa_strerror(rc_), (int)(want), xa_errmsg(xa));          \
            check_failures++;                                                                      \
        }                                                                                          \
    } while (0)

static void usage(void)
{
    fprintf(stderr, "usage: conformance TARGET [--backend NAME] [--ram-bytes N|MIN-MAX] "
                    "[--covers START-END]... [--kv2p VA=PA]... [--kstr VA=TEXT]... "
                    "[--vcpus N] [--pause yes|no]\n");
    exit(2);
}

static uint64_t num(const char *s)
{
    char *end;
    uint64_t v = strtoull(s, &end, 0);
    if (end == s || *end)
        usage();
    return v;
}

static void split(char *arg, char sep, char **a, char **b)
{
    char *p = strchr(arg, sep);
    if (!p)
        usage();
    *p = '\0';
    *a = arg;
    *b = p + 1;
}

static void parse_args(int argc, char **argv, struct facts *f)
{
    if (argc < 2)
        usage();
    *f = (struct facts){.target = argv[1], .vcpus = -1, .pause = -1};
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        const char *opt = argv[i];
        char *val = argv[++i], *a, *b;
        if (!strcmp(opt, "--backend")) {
            f->backend = val;
        } else if (!strcmp(opt, "--ram-bytes")) {
            /* N, or MIN-MAX when the firmware keeps a few pages (QEMU's ROMs) */
            if (strchr(val, '-')) {
                split(val, '-', &a, &b);
                f->ram_min = num(a);
                f->ram_max = num(b);
            } else {
                f->ram_min = f->ram_max = num(val);
            }
        } else if (!strcmp(opt, "--covers") && f->nr_covers < MAX_FACTS) {
            split(val, '-', &a, &b);
            uint64_t start = num(a), last = num(b);
            if (last < start)
                usage();
            f->covers[f->nr_covers++] = (struct xa_mem_range){start, last - start + 1};
        } else if (!strcmp(opt, "--kv2p") && f->nr_kv2p < MAX_FACTS) {
            split(val, '=', &a, &b);
            f->kv2p[f->nr_kv2p++] = (struct kv2p){num(a), num(b)};
        } else if (!strcmp(opt, "--kstr") && f->nr_kstr < MAX_FACTS) {
            split(val, '=', &a, &b);
            f->kstr[f->nr_kstr++] = (struct kstr){num(a), b};
        } else if (!strcmp(opt, "--vcpus")) {
            f->vcpus = (long)num(val);
        } else if (!strcmp(opt, "--pause")) {
            f->pause = !strcmp(val, "yes") ? 1 : !strcmp(val, "no") ? 0 : (usage(), 0);
        } else {
            usage();
        }
    }
}

/* Run one case; a case fails when any CHECK in it failed. */
static void run_case(const char *name, void (*fn)(struct xa_instance *, const struct facts *),
                     struct xa_instance *xa, const struct facts *f)
{
    int before = check_failures;
    fn(xa, f);
    bool ok = check_failures == before;
    printf("%s %s\n", ok ? "ok" : "FAIL", name);
    fflush(stdout);
    if (!ok)
        case_failures++;
}

static const struct xa_mem_range *ranges(struct xa_instance *xa, size_t *n)
{
    return xa_mem_ranges(xa, n);
}

static uint64_t range_end(const struct xa_mem_range *r)
{
    return r->start + r->size;
}

/* ---- cases ------------------------------------------------------------------ */

static void case_layout(struct xa_instance *xa, const struct facts *f)
{
    size_t n;
    const struct xa_mem_range *r = ranges(xa, &n);
    CHECK(n > 0 && r != NULL);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(r[i].size > 0);
        CHECK(range_end(&r[i]) > r[i].start);
        /* sorted, apart (adjacent ranges are merged by the core) */
        if (i > 0)
            CHECK(r[i].start > range_end(&r[i - 1]));
        total += r[i].size;
    }
    CHECK_EQ(xa_memsize(xa), total);
    if (n > 0)
        CHECK_EQ(xa_max_pa(xa), range_end(&r[n - 1]));
    if (f->ram_max) {
        CHECK(xa_memsize(xa) >= f->ram_min);
        CHECK(xa_memsize(xa) <= f->ram_max);
        if (xa_memsize(xa) < f->ram_min || xa_memsize(xa) > f->ram_max)
            fprintf(stderr, "RAM is 0x%" PRIx64 " bytes\n", xa_memsize(xa));
    }
    if (f->backend)
        CHECK(strcmp(xa_backend_name(xa), f->backend) == 0);
    CHECK(xa_access_method(xa)[0] != '\0');
    for (size_t c = 0; c < f->nr_covers; c++) {
        bool inside = false;
        for (size_t i = 0; i < n; i++)
            if (f->covers[c].start >= r[i].start &&
                range_end(&f->covers[c]) <= range_end(&r[i]))
                inside = true;
        if (!inside)
            fprintf(stderr, "guest RAM 0x%" PRIx64 "+0x%" PRIx64 " is not inside one range\n",
                    f->covers[c].start, f->covers[c].size);
        CHECK(inside);
    }
}

static void case_read_edges(struct xa_instance *xa, const struct facts *f)
{
    (void)f;
    size_t n;
    const struct xa_mem_range *r = ranges(xa, &n);
    uint8_t buf[16];
    for (size_t i = 0; i < n && i < MAX_EDGE_RANGES; i++) {
        uint64_t end = range_end(&r[i]);
        CHECK_RC(xa, xa_read_pa(xa, r[i].start, buf, 1), 0);
        CHECK_RC(xa, xa_read_pa(xa, end - 1, buf, 1), 0);
        if (r[i].size >= 8)
            CHECK_RC(xa, xa_read_pa(xa, end - 8, buf, 8), 0);
        /* one byte past the end: never partial */
        CHECK_RC(xa, xa_read_pa(xa, end - 1, buf, 2), XA_ERANGE);
        if (i + 1 < n) {
            uint64_t hole = end, next = r[i + 1].start;
            CHECK_RC(xa, xa_read_pa(xa, hole, buf, 1), XA_ERANGE);
            CHECK_RC(xa, xa_read_pa(xa, next - 1, buf, 1), XA_ERANGE);
            if (next - hole < sizeof(buf) - 2)
                CHECK_RC(xa, xa_read_pa(xa, end - 1, buf, (size_t)(next - end) + 2), XA_ERANGE);
        }
    }
    uint64_t max = xa_max_pa(xa);
    CHECK_RC(xa, xa_read_pa(xa, max, buf, 1), XA_ERANGE);
    CHECK_RC(xa, xa_read_pa(xa, max + 0x100000000ull, buf, 1), XA_ERANGE);
    CHECK_RC(xa, xa_read_pa(xa, UINT64_MAX - 3, buf, 8), XA_ERANGE);
    CHECK_RC(xa, xa_read_pa(xa, max, buf, 0), 0);
    /* a huge read from the start of RAM runs past its end */
    CHECK_RC(xa, xa_read_pa(xa, r[0].start, buf, SIZE_MAX), XA_ERANGE);
    CHECK(xa_access_physical_address(xa, max + XA_PAGE_SIZE, NULL) == NULL);
    CHECK_EQ(xa_errcode(xa), XA_ERANGE);
}

/* Pages whose content the paths must agree on: each range's first full page
 * and the pages the kv2p facts name. */
static size_t sample_pages(struct xa_instance *xa, const struct facts *f, uint64_t *out,
                           size_t max)
{
    size_t n, k = 0;
    const struct xa_mem_range *r = ranges(xa, &n);
    for (size_t i = 0; i < n && k < max; i++) {
        uint64_t pa = (r[i].start + XA_PAGE_SIZE - 1) & XA_PAGE_MASK;
        if (pa + 2 * XA_PAGE_SIZE <= range_end(&r[i]))
            out[k++] = pa;
    }
    for (size_t i = 0; i < f->nr_kv2p && k < max; i++)
        out[k++] = f->kv2p[i].pa & XA_PAGE_MASK;
    return k;
}

/* Read, direct (multi-page) and mapped paths give the same bytes. Needs a
 * still guest: a dump, or a paused live one. */
static void compare_paths(struct xa_instance *xa, const struct facts *f)
{
    uint64_t pages[MAX_EDGE_RANGES + MAX_FACTS];
    size_t n = sample_pages(xa, f, pages, sizeof(pages) / sizeof(pages[0]));
    CHECK(n > 0);
    static uint8_t one[XA_PAGE_SIZE], two[2 * XA_PAGE_SIZE], bytes[XA_PAGE_SIZE];
    for (size_t i = 0; i < n; i++) {
        uint64_t pa = pages[i];
        if (!xa__pa_valid(xa, pa, 2 * XA_PAGE_SIZE))
            continue; /* a kv2p page at the very end of a range */
        CHECK_RC(xa, xa_read_pa(xa, pa, one, sizeof(one)), 0);
        CHECK_RC(xa, xa_read_pa(xa, pa, two, sizeof(two)), 0);
        CHECK(memcmp(one, two, sizeof(one)) == 0);
        /* byte-sized reads through the page cache */
        for (size_t off = 0; off < XA_PAGE_SIZE; off += 512)
            CHECK_RC(xa, xa_read_pa(xa, pa + off, bytes + off, 512), 0);
        CHECK(memcmp(one, bytes, 512 * (XA_PAGE_SIZE / 512)) == 0);
        uint32_t offset = 1;
        const uint8_t *page = xa_access_physical_address(xa, pa + 8, &offset);
        CHECK(page != NULL);
        CHECK_EQ(offset, 8);
        if (page)
            CHECK(memcmp(page, one, XA_PAGE_SIZE) == 0);
        xa_release_page(xa, page);
        /* a read across the page boundary joins the two pages */
        CHECK_RC(xa, xa_read_pa(xa, pa + XA_PAGE_SIZE - 8, bytes, 16), 0);
        CHECK(memcmp(bytes, two + XA_PAGE_SIZE - 8, 16) == 0);
    }
}

static void case_read_paths(struct xa_instance *xa, const struct facts *f)
{
    if (!xa_is_live(xa)) {
        compare_paths(xa, f);
        return;
    }
    /* a live guest must be stopped for its pages to compare equal */
    CHECK(f->pause == 1);
    if (xa_pause(xa) == 0) {
        compare_paths(xa, f);
        CHECK_RC(xa, xa_resume(xa), 0);
    }
}

static void case_translate(struct xa_instance *xa, const struct facts *f)
{
    for (size_t i = 0; i < f->nr_kv2p; i++) {
        uint64_t pa = 0;
        CHECK_RC(xa, xa_translate_kv(xa, f->kv2p[i].va, &pa), 0);
        CHECK_EQ(pa, f->kv2p[i].pa);
    }
    for (size_t i = 0; i < f->nr_kstr; i++) {
        char text[512];
        CHECK_RC(xa, xa_read_va_str(xa, 0, f->kstr[i].va, text, sizeof(text)), 0);
        /* the whole text, ending there or at a newline (linux_banner has one) */
        size_t len = strlen(f->kstr[i].text);
        CHECK(strncmp(text, f->kstr[i].text, len) == 0);
        CHECK(len < sizeof(text) && (text[len] == '\0' || text[len] == '\n'));
    }
    uint64_t pa = 0;
    /* non-canonical: no page table can map it */
    CHECK(xa_translate_kv(xa, 0x8000000000000000ull, &pa) < 0);
    /* user address 0 is never mapped in a kernel page table */
    CHECK(xa_translate_kv(xa, 0, &pa) < 0);
}

static void case_vcpus(struct xa_instance *xa, const struct facts *f)
{
    unsigned n = xa_vcpu_count(xa);
    if (f->vcpus >= 0)
        CHECK_EQ(n, f->vcpus);
    struct xa_regs regs;
    struct xa_vcpu_dtables dt = {.sz = sizeof(dt)};
    if (n == 0) {
        CHECK_RC(xa, xa_get_vcpu_regs(xa, 0, &regs), XA_ENOTSUP);
        CHECK_RC(xa, xa_get_vcpu_dtables(xa, 0, &dt), XA_ENOTSUP);
        return;
    }
    for (unsigned v = 0; v < n; v++) {
        memset(&regs, 0, sizeof(regs));
        CHECK_RC(xa, xa_get_vcpu_regs(xa, v, &regs), 0);
        CHECK(regs.cr0 & 0x80000000u); /* paging on: the guest booted */
        CHECK(regs.cr3 != 0);
        /* IDTR/GDTR where the target has them (not a Xen PV guest's) */
        dt = (struct xa_vcpu_dtables){.sz = sizeof(dt)};
        int rc = xa_get_vcpu_dtables(xa, v, &dt);
        CHECK(rc == 0 || rc == XA_ENOTSUP, "vCPU %u: %d %s", v, rc, xa_errmsg(xa));
        if (rc == 0)
            CHECK(dt.idt_base && dt.idt_limit && dt.gdt_base && dt.gdt_limit &&
                      dt.sz == sizeof(dt),
                  "vCPU %u: IDT 0x%llx/0x%x", v, (unsigned long long)dt.idt_base, dt.idt_limit);
    }
    CHECK_RC(xa, xa_get_vcpu_regs(xa, n, &regs), XA_EINVAL);
    CHECK_RC(xa, xa_get_vcpu_dtables(xa, n, &dt), XA_EINVAL);
    dt.sz = 8; /* older than any version of the struct */
    CHECK_RC(xa, xa_get_vcpu_dtables(xa, 0, &dt), XA_EINVAL);
}

static void case_pause(struct xa_instance *xa, const struct facts *f)
{
    if (f->pause != 1) {
        CHECK_RC(xa, xa_pause(xa), XA_ENOTSUP);
        CHECK_RC(xa, xa_resume(xa), XA_ENOTSUP);
        return;
    }
    /* twice over: pause and resume leave the target able to do it again */
    for (int round = 0; round < 2; round++) {
        CHECK_RC(xa, xa_pause(xa), 0);
        CHECK_RC(xa, xa_resume(xa), 0);
    }
}

static void case_write_refused(struct xa_instance *xa, const struct facts *f)
{
    (void)f;
    size_t n;
    const struct xa_mem_range *r = ranges(xa, &n);
    uint8_t byte = 0;
    CHECK_RC(xa, xa_write_pa(xa, r[0].start, &byte, 1), XA_EPERM);
}

/* An uncached page: the last page of the largest range (the cases above read
 * only the first pages of ranges and the fact pages). */
static uint64_t quiet_page(struct xa_instance *xa)
{
    size_t n;
    const struct xa_mem_range *r = ranges(xa, &n);
    const struct xa_mem_range *big = &r[0];
    for (size_t i = 1; i < n; i++)
        if (r[i].size > big->size)
            big = &r[i];
    return (range_end(big) - 3 * XA_PAGE_SIZE) & XA_PAGE_MASK;
}

static void case_faults(struct xa_instance *xa, const struct facts *f)
{
    uint8_t buf[3 * XA_PAGE_SIZE];
    uint64_t pa = quiet_page(xa);
    enum xa_be_op page_op = xa__be_can_map(xa) ? XA_BE_OP_MAP : XA_BE_OP_READ;

    /* a direct (multi-page) read: one backend call, the second one fails */
    xa__be_inject_fault(xa, XA_BE_OP_READ, 2, XA_EIO);
    CHECK_RC(xa, xa_read_pa(xa, pa, buf, sizeof(buf)), 0);
    CHECK_RC(xa, xa_read_pa(xa, pa, buf, sizeof(buf)), XA_EIO);
    CHECK(strstr(xa_errmsg(xa), "injected") != NULL);
    CHECK_RC(xa, xa_read_pa(xa, pa, buf, sizeof(buf)), 0); /* one fault, then healthy */

    /* a cached read across two pages: the second page fails, the read fails */
    xa_cache_flush(xa, XA_CACHE_ALL);
    xa__be_inject_fault(xa, page_op, 2, XA_EGONE);
    CHECK_RC(xa, xa_read_pa(xa, pa + XA_PAGE_SIZE - 4, buf, 8), XA_EGONE);
    CHECK_RC(xa, xa_read_pa(xa, pa + XA_PAGE_SIZE - 4, buf, 8), 0);

    /* a page handed out: none on failure */
    xa_cache_flush(xa, XA_CACHE_ALL);
    xa__be_inject_fault(xa, page_op, 1, XA_EIO);
    CHECK(xa_access_physical_address(xa, pa, NULL) == NULL);
    CHECK_EQ(xa_errcode(xa), XA_EIO);

    /* translation over a failing page-table read */
    if (f->nr_kv2p) {
        xa_cache_flush(xa, XA_CACHE_ALL);
        xa__be_inject_fault(xa, page_op, 1, XA_EIO);
        uint64_t out = 0;
        CHECK_RC(xa, xa_translate_kv(xa, f->kv2p[0].va, &out), XA_EIO);
        CHECK_RC(xa, xa_translate_kv(xa, f->kv2p[0].va, &out), 0);
        CHECK_EQ(out, f->kv2p[0].pa);
    }
    if (xa_vcpu_count(xa) > 0) {
        struct xa_regs regs;
        xa__be_inject_fault(xa, XA_BE_OP_REGS, 1, XA_EGONE);
        CHECK_RC(xa, xa_get_vcpu_regs(xa, 0, &regs), XA_EGONE);
        CHECK_RC(xa, xa_get_vcpu_regs(xa, 0, &regs), 0);
    }
    if (f->pause == 1) {
        xa__be_inject_fault(xa, XA_BE_OP_PAUSE, 1, XA_EIO);
        CHECK_RC(xa, xa_pause(xa), XA_EIO);
    }
    xa__be_inject_fault(xa, XA_BE_OP_READ, 0, 0);
}

int main(int argc, char **argv)
{
    struct facts f;
    parse_args(argc, argv, &f);
    struct xa_instance *xa = NULL;
    int rc = xa_init(f.target, 0, &xa);
    if (rc < 0) {
        fprintf(stderr, "conformance: cannot open %s: %s\n", f.target, xa_last_init_error());
        return 1;
    }
    run_case("layout", case_layout, xa, &f);
    run_case("read-edges", case_read_edges, xa, &f);
    run_case("read-paths", case_read_paths, xa, &f);
    run_case("translate", case_translate, xa, &f);
    run_case("vcpus", case_vcpus, xa, &f);
    run_case("pause", case_pause, xa, &f);
    run_case("write-refused", case_write_refused, xa, &f);
    run_case("faults", case_faults, xa, &f);
    xa_destroy(xa);
    printf("%s: %d case(s) failed\n", f.target, case_failures);
    return case_failures ? 1 : 0;
}
