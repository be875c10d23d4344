/*
 * windmp.c -- Windows kernel crash dumps: the 64-bit PAGEDU64 and 32-bit
 * PAGEDUMP headers; full dumps (physical-memory runs), bitmap dumps
 * ("SDMP"/"FDMP"/"RDMP" header, one bit per physical page) and triage dumps
 * (blocks kept by kernel virtual address, no page tables).
 *
 * Offsets are format facts from public descriptions (DUMP_HEADER32/64 in the
 * SDK-derived headers of Bin2Dmp and rizin, the triage header as rizin reads
 * it, the x64 and i386 CONTEXT records of winnt.h). Every count and offset
 * in the file is checked against the file before it is used.
 */
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/file/windmp.h"

/* DUMP_HEADER64 */
#define H64_DTB 0x10
#define H64_PFN_DB 0x18
#define H64_MODULE_LIST 0x20
#define H64_PROCESS_HEAD 0x28
#define H64_MACHINE 0x30
#define H64_NR_CPUS 0x34
#define H64_BUGCHECK 0x38
#define H64_KDBG 0x80
#define H64_MEMORY_DESC 0x88 /* NumberOfRuns u32, pad, NumberOfPages u64, runs {u64,u64} */
#define H64_RUNS 0x98
#define H64_CONTEXT 0x348
#define H64_DUMP_TYPE 0xf98
/* DUMP_HEADER32 */
#define H32_DTB 0x10
#define H32_MODULE_LIST 0x18
#define H32_PROCESS_HEAD 0x1c
#define H32_MACHINE 0x20
#define H32_NR_CPUS 0x24
#define H32_BUGCHECK 0x28
#define H32_PAE 0x5c
#define H32_KDBG 0x60
#define H32_MEMORY_DESC 0x64 /* NumberOfRuns u32, NumberOfPages u32, runs {u32,u32} */
#define H32_RUNS 0x6c
#define H32_CONTEXT 0x320
#define H32_DUMP_TYPE 0xf88
#define MEMORY_DESC_SIZE 700
/* Bitmap header, after the dump header. */
#define BMP_FIRST_PAGE 0x20 /* file offset of the first stored page */
#define BMP_PRESENT 0x28    /* pages stored */
#define BMP_PAGES 0x30      /* bits in the bitmap */
#define BMP_BITMAP 0x38
/* Triage header (TRIAGE_DUMP64), after the dump header. */
#define TRI_SIZE 0x80
#define TRI_DEBUGGER_DATA 0x70 /* offset u32, size u32 */
#define TRI_DATA_BLOCKS 0x78   /* offset u32, count u32; entries {va u64, offset u32, size u32} */

enum { DUMP_FULL = 1, DUMP_KERNEL = 2, DUMP_TRIAGE = 4, DUMP_BITMAP_FULL = 5,
       DUMP_BITMAP_KERNEL = 6 };
enum { MACHINE_I386 = 0x14c, MACHINE_AMD64 = 0x8664, MACHINE_ARM64 = 0xaa64 };

static uint64_t le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return le64toh(v);
}

static uint32_t le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return le32toh(v);
}

static uint16_t le16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return le16toh(v);
}

bool windmp_has_magic(const uint8_t *img, uint64_t size)
{
    return size >= 8 && (memcmp(img, "PAGEDU64", 8) == 0 || memcmp(img, "PAGEDUMP", 8) == 0);
}

static int fail(char *err, size_t errlen, int code, const char *fmt, ...) XA_PRINTF(4, 5);
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

static int add_seg(struct windmp *d, size_t *cap, uint64_t addr, uint64_t len, uint64_t off)
{
    if (d->nr_segs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct file_segment *n = realloc(d->segs, ncap * sizeof(*n));
        if (!n)
            return XA_ENOMEM;
        d->segs = n;
        *cap = ncap;
    }
    d->segs[d->nr_segs++] =
        (struct file_segment){.pa = addr, .file_size = len, .mem_size = len, .offset = off};
    return 0;
}

/* Full dump: runs of pages stored one after the other from @data. */
static int parse_runs(const uint8_t *img, uint64_t size, struct windmp *d, uint64_t data,
                      char *err, size_t errlen)
{
    const uint8_t *desc = img + (d->is64 ? H64_MEMORY_DESC : H32_MEMORY_DESC);
    uint32_t nruns = le32(desc);
    size_t run_size = d->is64 ? 16 : 8;
    size_t runs_at = d->is64 ? H64_RUNS : H32_RUNS;
    size_t room = (MEMORY_DESC_SIZE - (runs_at - (size_t)(desc - img))) / run_size;
    if (memcmp(desc, "PAGE", 4) == 0 || nruns == 0)
        return fail(err, errlen, XA_EBADDATA, "Windows full dump without a physical-memory "
                    "descriptor");
    if (nruns > room)
        return fail(err, errlen, XA_EBADDATA, "Windows dump declares %u memory runs, its header "
                    "holds at most %zu", nruns, room);
    uint64_t declared = d->is64 ? le64(desc + 8) : le32(desc + 4);
    uint64_t pages = 0, off = data;
    size_t cap = 0;
    for (uint32_t i = 0; i < nruns; i++) {
        const uint8_t *r = img + runs_at + i * run_size;
        uint64_t base = d->is64 ? le64(r) : le32(r);
        uint64_t count = d->is64 ? le64(r + 8) : le32(r + 4);
        if (count == 0)
            continue;
        if (base >= WINDMP_MAX_PAGES || count > WINDMP_MAX_PAGES - base)
            return fail(err, errlen, XA_EBADDATA, "Windows dump memory run %u (page 0x%llx, "
                        "%llu pages) is beyond 2^52", i, (unsigned long long)base,
                        (unsigned long long)count);
        uint64_t bytes = count << XA_PAGE_SHIFT;
        if (off > size || size - off < bytes)
            return fail(err, errlen, XA_EBADDATA, "Windows dump memory run %u needs file bytes "
                        "up to 0x%llx, the file has 0x%llx (truncated dump?)", i,
                        (unsigned long long)(off + bytes), (unsigned long long)size);
        if (add_seg(d, &cap, base << XA_PAGE_SHIFT, bytes, off) < 0)
            return fail(err, errlen, XA_ENOMEM, "out of memory");
        off += bytes;
        pages += count;
    }
    if (pages != declared)
        return fail(err, errlen, XA_EBADDATA, "Windows dump runs hold %llu pages, the header "
                    "says %llu", (unsigned long long)pages, (unsigned long long)declared);
    return 0;
}

/* Bitmap dump: stored pages follow one another, one bit per physical page. */
static int parse_bitmap(const uint8_t *img, uint64_t size, struct windmp *d, uint64_t at,
                        char *err, size_t errlen)
{
    if (size < at + BMP_BITMAP)
        return fail(err, errlen, XA_EBADDATA, "Windows bitmap dump truncated in its bitmap "
                    "header");
    const uint8_t *h = img + at;
    if ((memcmp(h, "SDMP", 4) != 0 && memcmp(h, "FDMP", 4) != 0 && memcmp(h, "RDMP", 4) != 0) ||
        memcmp(h + 4, "DUMP", 4) != 0)
        return fail(err, errlen, XA_EBADDATA, "Windows bitmap dump without its SDMP/FDMP "
                    "header at 0x%llx", (unsigned long long)at);
    uint64_t first = le64(h + BMP_FIRST_PAGE), present = le64(h + BMP_PRESENT);
    uint64_t bits = le64(h + BMP_PAGES);
    if (bits > WINDMP_MAX_PAGES)
        return fail(err, errlen, XA_EBADDATA, "Windows bitmap dump declares %llu pages "
                    "(more than 2^40)", (unsigned long long)bits);
    uint64_t map_bytes = (bits + 7) / 8;
    if (size - (at + BMP_BITMAP) < map_bytes)
        return fail(err, errlen, XA_EBADDATA, "Windows bitmap dump: its bitmap of %llu pages "
                    "runs past the end of the file (truncated dump?)",
                    (unsigned long long)bits);
    if (first < at + BMP_BITMAP + map_bytes || first > size ||
        present > (size - first) >> XA_PAGE_SHIFT)
        return fail(err, errlen, XA_EBADDATA, "Windows bitmap dump: %llu pages from file offset "
                    "0x%llx do not fit in the file of 0x%llx bytes (truncated dump?)",
                    (unsigned long long)present, (unsigned long long)first,
                    (unsigned long long)size);
    const uint8_t *map = h + BMP_BITMAP;
    uint64_t stored = 0;
    size_t cap = 0;
    for (uint64_t p = 0; p < bits;) {
        if (!map[p >> 3]) { /* eight absent pages */
            p = (p | 7) + 1;
            continue;
        }
        if (!(map[p >> 3] & (1u << (p & 7)))) {
            p++;
            continue;
        }
        uint64_t start = p;
        while (p < bits && (map[p >> 3] & (1u << (p & 7))))
            p++;
        uint64_t n = p - start;
        if (n > present - stored)
            return fail(err, errlen, XA_EBADDATA, "Windows bitmap dump: the bitmap marks more "
                        "pages than the %llu the header says are stored",
                        (unsigned long long)present);
        if (add_seg(d, &cap, start << XA_PAGE_SHIFT, n << XA_PAGE_SHIFT,
                    first + (stored << XA_PAGE_SHIFT)) < 0)
            return fail(err, errlen, XA_ENOMEM, "out of memory");
        stored += n;
    }
    if (stored != present)
        return fail(err, errlen, XA_EBADDATA, "Windows bitmap dump: the bitmap marks %llu pages, "
                    "the header says %llu are stored", (unsigned long long)stored,
                    (unsigned long long)present);
    if (stored == 0)
        return fail(err, errlen, XA_EBADDATA, "Windows bitmap dump stores no pages");
    return 0;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct file_segment *x = a, *y = b;
    return (x->pa > y->pa) - (x->pa < y->pa);
}

/*
 * A triage dump also keeps copies of the crashing CPU's KPRCB, process and
 * thread, apart from the blocks and without their addresses. Each is placed
 * where the blocks agree with it: at the kernel address, among those the
 * copies themselves point to, where at least MIN_AGREE of its bytes are in
 * blocks and every such byte is equal. Its bytes the blocks lack are added.
 */
#define TRI_PRCB 0x1c
#define TRI_PROCESS 0x20
#define TRI_THREAD 0x24
#define MIN_AGREE 64u
#define MAX_COPY 0x10000u

/* The first segment ending after @va (segments sorted, non-overlapping). */
static size_t first_after(const struct windmp *d, size_t nblocks, uint64_t va)
{
    size_t lo = 0, hi = nblocks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (d->segs[mid].pa + d->segs[mid].mem_size <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Bytes of [va, va+len) the blocks hold, or 0 when one of them differs. */
static uint64_t agreement(const uint8_t *img, const struct windmp *d, size_t nblocks,
                          uint64_t va, const uint8_t *copy, uint64_t len)
{
    uint64_t same = 0;
    for (size_t i = first_after(d, nblocks, va); i < nblocks && d->segs[i].pa < va + len; i++) {
        const struct file_segment *s = &d->segs[i];
        uint64_t from = s->pa > va ? s->pa : va;
        uint64_t to = s->pa + s->mem_size < va + len ? s->pa + s->mem_size : va + len;
        if (memcmp(img + s->offset + (from - s->pa), copy + (from - va), to - from) != 0)
            return 0;
        same += to - from;
    }
    return same;
}

static int place_copies(const uint8_t *img, uint64_t size, struct windmp *d, size_t *cap)
{
    const uint8_t *t = img + WINDMP_HEADER64_SIZE;
    /* A copy ends where the next thing the header places in the file starts. */
    uint32_t marks[32];
    size_t nm = 0;
    for (unsigned o = 0x04; o < 0x48 && nm < 32; o += 4)
        if (le32(t + o) > WINDMP_HEADER64_SIZE && le32(t + o) < size)
            marks[nm++] = le32(t + o);
    const unsigned which[] = {TRI_PRCB, TRI_PROCESS, TRI_THREAD};
    size_t nblocks = d->nr_segs;
    for (size_t c = 0; c < 3; c++) {
        uint64_t off = le32(t + which[c]), end = size;
        if (off <= WINDMP_HEADER64_SIZE || off >= size)
            continue;
        for (size_t m = 0; m < nm; m++)
            if (marks[m] > off && marks[m] < end)
                end = marks[m];
        uint64_t len = end - off < MAX_COPY ? end - off : MAX_COPY;
        const uint8_t *copy = img + off;
        uint64_t best = 0, best_va = 0;
        for (size_t k = 0; k < 3; k++) { /* candidates: pointers in the copies */
            uint64_t koff = le32(t + which[k]);
            if (koff <= WINDMP_HEADER64_SIZE || koff >= size)
                continue;
            uint64_t klen = size - koff < MAX_COPY ? size - koff : MAX_COPY;
            for (uint64_t q = 0; q + 8 <= klen; q += 8) {
                uint64_t va = le64(img + koff + q);
                if (va < 0xffff800000000000ULL || (va & 7) || va + len < va)
                    continue;
                uint64_t same = agreement(img, d, nblocks, va, copy, len);
                if (same > best)
                    best = same, best_va = va;
            }
        }
        if (best < MIN_AGREE)
            continue;
        /* Add the bytes of the copy that no block holds. */
        uint64_t va = best_va;
        for (size_t i = first_after(d, nblocks, va); va < best_va + len; i++) {
            uint64_t next = i < nblocks && d->segs[i].pa < best_va + len ? d->segs[i].pa
                                                                         : best_va + len;
            if (next > va && add_seg(d, cap, va, next - va, off + (va - best_va)) < 0)
                return XA_ENOMEM;
            if (i >= nblocks || d->segs[i].pa >= best_va + len)
                break;
            va = d->segs[i].pa + d->segs[i].mem_size;
        }
        qsort(d->segs, d->nr_segs, sizeof(*d->segs), cmp_seg);
        nblocks = d->nr_segs;
    }
    return 0;
}

/* Triage dump: blocks of kernel virtual memory, and the debugger data block. */
static int parse_triage(const uint8_t *img, uint64_t size, struct windmp *d, char *err,
                        size_t errlen)
{
    if (!d->is64)
        return fail(err, errlen, XA_EFORMAT, "32-bit Windows triage dumps are not supported");
    if (size < WINDMP_HEADER64_SIZE + TRI_SIZE)
        return fail(err, errlen, XA_EBADDATA, "Windows triage dump truncated in its triage "
                    "header");
    const uint8_t *t = img + WINDMP_HEADER64_SIZE;
    uint32_t blocks = le32(t + TRI_DATA_BLOCKS), count = le32(t + TRI_DATA_BLOCKS + 4);
    if (count > WINDMP_MAX_BLOCKS)
        return fail(err, errlen, XA_EBADDATA, "Windows triage dump declares %u data blocks "
                    "(limit %u)", count, WINDMP_MAX_BLOCKS);
    if (blocks > size || (size - blocks) / 16 < count)
        return fail(err, errlen, XA_EBADDATA, "Windows triage dump: %u data blocks at 0x%x run "
                    "past the end of the file (truncated dump?)", count, blocks);
    size_t cap = 0;
    for (uint32_t i = 0; i <= count; i++) {
        uint64_t va, off, len;
        if (i < count) {
            const uint8_t *b = img + blocks + (uint64_t)i * 16;
            va = le64(b), off = le32(b + 8), len = le32(b + 12);
        } else { /* the debugger data block, kept apart */
            va = d->kd_debugger_data_block, off = le32(t + TRI_DEBUGGER_DATA);
            len = le32(t + TRI_DEBUGGER_DATA + 4);
            if (!off)
                len = 0;
        }
        if (len == 0)
            continue;
        if (off > size || size - off < len)
            return fail(err, errlen, XA_EBADDATA, "Windows triage dump: block of %llu bytes at "
                        "file offset 0x%llx runs past the end of the file (truncated dump?)",
                        (unsigned long long)len, (unsigned long long)off);
        if (va + len < va)
            return fail(err, errlen, XA_EBADDATA, "Windows triage dump: block at 0x%llx wraps "
                        "around the address space", (unsigned long long)va);
        if (add_seg(d, &cap, va, len, off) < 0)
            return fail(err, errlen, XA_ENOMEM, "out of memory");
    }
    if (d->nr_segs == 0)
        return fail(err, errlen, XA_EBADDATA, "Windows triage dump holds no memory blocks");
    qsort(d->segs, d->nr_segs, sizeof(*d->segs), cmp_seg);
    for (size_t i = 0; i + 1 < d->nr_segs; i++)
        if (d->segs[i].pa + d->segs[i].mem_size > d->segs[i + 1].pa)
            return fail(err, errlen, XA_EBADDATA, "Windows triage dump: memory blocks overlap "
                        "at 0x%llx", (unsigned long long)d->segs[i + 1].pa);
    if (place_copies(img, size, d, &cap) < 0)
        return fail(err, errlen, XA_ENOMEM, "out of memory");
    return 0;
}

/* x86 registers from the CONTEXT record; the page-table root from the header. */
static void read_context(const uint8_t *img, struct windmp *d, bool pae)
{
    struct xa_regs *r = &d->regs;
    memset(r, 0, sizeof(*r));
    if (d->machine == MACHINE_AMD64 && d->is64) {
        const uint8_t *c = img + H64_CONTEXT;
        r->cs = le16(c + 0x38), r->ss = le16(c + 0x42), r->rflags = le32(c + 0x44);
        uint64_t *gpr[] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi,
                           &r->rdi, &r->r8,  &r->r9,  &r->r10, &r->r11, &r->r12, &r->r13,
                           &r->r14, &r->r15, &r->rip};
        for (size_t i = 0; i < sizeof(gpr) / sizeof(gpr[0]); i++)
            *gpr[i] = le64(c + 0x78 + 8 * i);
        r->cr0 = 0x80010001;   /* PG, WP, PE: a 64-bit kernel pages */
        r->cr4 = 0x20;         /* PAE */
        r->efer = 0xd00;       /* LME, LMA, NXE */
    } else if (d->machine == MACHINE_I386) {
        const uint8_t *c = img + H32_CONTEXT;
        uint64_t *gpr[] = {&r->rdi, &r->rsi, &r->rbx, &r->rdx, &r->rcx, &r->rax, &r->rbp,
                           &r->rip};
        for (size_t i = 0; i < sizeof(gpr) / sizeof(gpr[0]); i++)
            *gpr[i] = le32(c + 0x9c + 4 * i);
        r->cs = le16(c + 0xbc), r->rflags = le32(c + 0xc0), r->rsp = le32(c + 0xc4);
        r->ss = le16(c + 0xc8);
        r->cr0 = 0x80010001;
        r->cr4 = pae ? 0x20 : 0x10; /* PAE, or PSE */
        r->efer = pae ? 0x800 : 0;
    } else {
        return; /* ARM64 and others: no x86 registers */
    }
    r->cr3 = d->dtb;
    d->have_regs = true;
}

int windmp_parse(const uint8_t *img, uint64_t size, struct windmp *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    if (!windmp_has_magic(img, size))
        return fail(err, errlen, XA_EFORMAT, "not a Windows crash dump");
    d->is64 = img[7] == '4';
    uint64_t hsize = d->is64 ? WINDMP_HEADER64_SIZE : WINDMP_HEADER32_SIZE;
    if (size < hsize)
        return fail(err, errlen, XA_EBADDATA, "Windows crash dump truncated in its %llu-byte "
                    "header (file has %llu bytes)", (unsigned long long)hsize,
                    (unsigned long long)size);
    bool pae = false;
    if (d->is64) {
        d->dtb = le64(img + H64_DTB);
        d->ps_loaded_module_list = le64(img + H64_MODULE_LIST);
        d->ps_active_process_head = le64(img + H64_PROCESS_HEAD);
        d->machine = le32(img + H64_MACHINE), d->nr_cpus = le32(img + H64_NR_CPUS);
        d->bugcheck = le32(img + H64_BUGCHECK);
        d->kd_debugger_data_block = le64(img + H64_KDBG);
        d->dump_type = le32(img + H64_DUMP_TYPE);
    } else {
        d->dtb = le32(img + H32_DTB);
        d->ps_loaded_module_list = le32(img + H32_MODULE_LIST);
        d->ps_active_process_head = le32(img + H32_PROCESS_HEAD);
        d->machine = le32(img + H32_MACHINE), d->nr_cpus = le32(img + H32_NR_CPUS);
        d->bugcheck = le32(img + H32_BUGCHECK);
        d->kd_debugger_data_block = le32(img + H32_KDBG);
        d->dump_type = le32(img + H32_DUMP_TYPE);
        pae = img[H32_PAE] != 0;
    }
    if (d->machine != MACHINE_AMD64 && d->machine != MACHINE_I386 &&
        d->machine != MACHINE_ARM64)
        return fail(err, errlen, XA_EFORMAT, "Windows crash dump for machine type 0x%x, not "
                    "x64, x86 or ARM64", d->machine);
    if ((d->machine == MACHINE_I386) == d->is64)
        return fail(err, errlen, XA_EBADDATA, "Windows crash dump: %s header for machine 0x%x",
                    d->is64 ? "64-bit" : "32-bit", d->machine);
    int rc;
    switch (d->dump_type) {
    case DUMP_FULL:
        d->kind = WINDMP_FULL;
        rc = parse_runs(img, size, d, hsize, err, errlen);
        break;
    case DUMP_KERNEL: /* a kernel (summary) dump keeps a bitmap */
    case DUMP_BITMAP_FULL:
    case DUMP_BITMAP_KERNEL:
        d->kind = WINDMP_BITMAP;
        rc = parse_bitmap(img, size, d, hsize, err, errlen);
        break;
    case DUMP_TRIAGE:
        d->kind = WINDMP_TRIAGE;
        rc = parse_triage(img, size, d, err, errlen);
        break;
    default:
        rc = fail(err, errlen, XA_EFORMAT, "Windows crash dump of type %u is not supported "
                  "(full 1, kernel 2, triage 4, bitmap 5 and 6 are)", d->dump_type);
    }
    if (rc < 0) {
        windmp_free(d);
        return rc;
    }
    read_context(img, d, pae);
    return 0;
}

void windmp_free(struct windmp *d)
{
    free(d->segs);
    d->segs = NULL;
    d->nr_segs = 0;
}

void windmp_describe(const struct windmp *d, char *buf, size_t len)
{
    static const char *const kinds[] = {"full", "bitmap", "triage"};
    const char *arch = d->machine == MACHINE_AMD64 ? "x64"
                       : d->machine == MACHINE_I386 ? "x86" : "ARM64";
    snprintf(buf, len,
             "Windows crash dump (%s, %s, type %u, %s, %u CPUs, bug check 0x%x, %zu %s%s)",
             d->is64 ? "PAGEDU64" : "PAGEDUMP", kinds[d->kind], d->dump_type, arch, d->nr_cpus,
             d->bugcheck, d->nr_segs, d->kind == WINDMP_TRIAGE ? "blocks" : "ranges",
             d->kind == WINDMP_TRIAGE ? " by kernel virtual address: no page tables" : "");
}
