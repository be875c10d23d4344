/*
 * fuzz_dump.c -- dump headers: the ELF core parser on the raw bytes, then
 * the whole file backend (format detection, ELF / LiME / raw layouts, page
 * assembly at segment edges, vCPU registers) on an in-memory file opened
 * through the public API as "file:/proc/self/fd/N".
 *
 * Oracles beyond the sanitizers: a parsed ELF layout is sorted, without
 * overlaps, and inside the file; every failure has a one-line message; what
 * xa_mem_ranges() lists can be read and what lies outside cannot.
 */
#include "fuzz_common.h"

#include "backends/file/file_layout.h"
#include "xenaccess.h"

#define DUMP_FUZZ_MAX_INPUT (1u << 20)
#define DUMP_FUZZ_MAX_RANGES 64

static struct fz_memfile mf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_memfile_open(&mf, "xa-fuzz-dump");
    return 0;
}

static void check_one_line(const char *msg)
{
    if (!msg || !*msg || strchr(msg, '\n')) {
        fprintf(stderr, "bad error message: '%s'\n", msg ? msg : "(null)");
        abort();
    }
}

static void check_elf_layout(const uint8_t *data, size_t size)
{
    struct elf_core core;
    char why[256] = "";
    int rc = elf_core_parse(data, size, &core, why, sizeof(why));
    if (rc < 0) {
        check_one_line(why);
        return;
    }
    for (size_t i = 0; i < core.nr_segs; i++) {
        const struct file_segment *s = &core.segs[i];
        if (s->mem_size == 0 || s->file_size > s->mem_size || s->offset > size ||
            s->file_size > size - s->offset || s->pa + s->mem_size < s->pa)
            abort(); /* a segment outside the file or wrapping */
        if (i && core.segs[i - 1].pa + core.segs[i - 1].mem_size > s->pa)
            abort(); /* unsorted or overlapping */
    }
    elf_core_free(&core);
}

static void exercise(struct xa_instance *xa)
{
    size_t n;
    const struct xa_mem_range *r = xa_mem_ranges(xa, &n);
    uint8_t buf[2 * 4096];
    for (size_t i = 0; i < n && i < DUMP_FUZZ_MAX_RANGES; i++) {
        uint64_t first = r[i].start, last = r[i].start + r[i].size - 1;
        if (xa_read_pa(xa, first, buf, 1) != 0 || xa_read_pa(xa, last, buf, 1) != 0)
            abort(); /* listed as RAM but unreadable */
        /* A read across the range's end must fail unless the next range
         * starts right there (ranges are merged, so it never does). */
        if (last != UINT64_MAX && xa_read_pa(xa, last, buf, 2) == 0)
            abort();
        uint32_t off;
        const void *p = xa_access_physical_address(xa, first, &off);
        if (p) {
            volatile uint8_t sink = ((const uint8_t *)p)[4095]; /* whole page readable */
            (void)sink;
            xa_release_page(xa, p);
        }
        p = xa_access_physical_address(xa, last, &off);
        xa_release_page(xa, p);
        /* Straddle the range's first page boundary (edge assembly). */
        uint64_t edge = (first | 4095) + 1;
        if (edge - 1 < last && edge - 16 >= first && edge + 15 <= last &&
            xa_read_pa(xa, edge - 16, buf, 32) < 0)
            abort(); /* both sides are RAM */
    }
    if (xa_max_pa(xa) != 0 && xa_read_pa(xa, xa_max_pa(xa), buf, 1) == 0)
        abort();
    for (unsigned v = 0; v < xa_vcpu_count(xa) && v < 8; v++) {
        struct xa_regs regs;
        if (xa_get_vcpu_regs(xa, v, &regs) != 0)
            abort();
    }
    check_one_line(xa_access_method(xa));
}

/* Guest memory is what every discovery scan walks: a file may stand for at
 * most 4 GiB + 17 x its size of it (ELF zero-fill, docs/limits.md), so no
 * small file makes the tools walk terabytes of zeros. */
static void check_memory_bounded_by_file(struct xa_instance *xa, size_t size)
{
    size_t n;
    const struct xa_mem_range *r = xa_mem_ranges(xa, &n);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += r[i].size; /* ranges are disjoint: no wrap */
    if (total > (4ull << 30) + 17 * (uint64_t)size) {
        fprintf(stderr, "%llu bytes of guest memory from a %zu-byte file\n",
                (unsigned long long)total, size);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > DUMP_FUZZ_MAX_INPUT)
        return 0;
    if (elf_has_magic(data, size))
        check_elf_layout(data, size);

    fz_memfile_set(&mf, data, size);
    struct xa_instance *xa = NULL;
    struct xa_init_opts o = XA_INIT_OPTS_INIT;
    o.target = mf.target;
    o.flags = XA_INIT_NO_OS;
    o.v2p_cache_entries = 64; /* small caches: allocating the defaults dominated */
    o.page_cache_entries = 64;
    if (xa_init_opts(&o, &xa) != 0) {
        check_one_line(xa_last_init_error());
        return 0;
    }
    check_memory_bounded_by_file(xa, size);
    exercise(xa);
    xa_destroy(xa);
    return 0;
}
