/*
 * kallsyms.c -- find a Linux kernel in raw guest-physical memory with no
 * configuration: scan for the kallsyms token tables, decode every symbol,
 * then derive the physical load offset, the kernel page tables, the paging
 * mode and the KASLR'd memory layout from the symbols.
 *
 * The guest chooses what its free memory holds, so it can plant any number
 * of things that look like token tables. Discovery therefore runs on a work
 * budget (struct ksym_work, one unit per byte scanned, copied or examined):
 * DISCOVERY_WORK_PER_BYTE times the guest's RAM plus DISCOVERY_WORK_FIXED.
 * A clean discovery spends about the RAM size once (the scan) plus one
 * window, so no input costs more than a small constant times a clean
 * discovery of the same size; past the budget discovery gives up and says
 * so. Candidates are also checked cheaply (the token table, then what lies
 * below it: ksym_tables_precheck) before the large windows are copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/kallsyms_tables.h"
#include "os/linux/linux.h"

#define START_KERNEL_MAP 0xffffffff80000000ULL
#define DEFAULT_TEXT 0xffffffff81000000ULL /* _text without KASLR */
#define KERNEL_IMAGE_MAX (1ULL << 30)      /* KERNEL_IMAGE_SIZE on x86-64 */
#define PHYS_ALIGN (2ULL << 20)            /* CONFIG_PHYSICAL_ALIGN minimum */
#define LOW_SCAN_END (16ULL << 20)         /* kernels load at or above 16 MiB */
#define HINT_SPAN (96ULL << 20)            /* image size bound around a text address */

/* Guest memory copied around a token-index candidate. The names table sits
 * below the token tables (1-2 MiB for 6.x); offsets may sit above (6.4+). */
#define PROBE_BEFORE (72u << 10) /* > largest token table (256 x 257 bytes) */
#define WINDOW_BEFORE_SMALL (4u << 20) /* enough for ~250k symbols */
#define WINDOW_AFTER_SMALL (1u << 20)
#define WINDOW_BEFORE (24u << 20)
#define WINDOW_AFTER (8u << 20)

/* The budget (docs/limits.md). The scan itself costs at most about 6x RAM
 * (each page once or twice, plus the 1 KiB reads around filter hits and the
 * token-table probes, whose regions cannot overlap); the rest pays for the
 * windows of candidates that pass the cheap checks. */
#define DISCOVERY_WORK_PER_BYTE 8u
#define DISCOVERY_WORK_FIXED (64ull << 20)

struct window {
    uint64_t pa; /* guest-physical address of buf[0] */
    const uint8_t *buf;
    uint8_t *owned; /* buf when it is our copy; NULL when read in place */
    size_t len;
    /* Buffer offsets of the words that can be num_syms, ascending (see
     * ksym_num_syms_positions); NULL for a probe and until a second
     * candidate searches the window. */
    uint64_t *pos;
    size_t nr_pos;
};

/* One discovery: the meter, what it examined (for the message), and the
 * last window copied: fake tables planted close together fall in the same
 * window, which is then searched again but not copied or indexed again. */
struct discovery {
    struct ksym_work work;
    uint64_t candidates; /* token tables that reached the window stage */
    struct window cache;
    uint64_t scanned; /* bytes of RAM scanned, for the caller's progress */
};

/* Progress every this many bytes scanned (and at the first page). */
#define PROGRESS_EVERY ((uint64_t)16 << 20)

static void window_free(struct window *w)
{
    free(w->owned);
    free(w->pos);
    *w = (struct window){0};
}

static const struct xa_mem_range *range_of(const struct xa_instance *xa, uint64_t pa)
{
    size_t n;
    const struct xa_mem_range *ranges = xa_mem_ranges(xa, &n);
    for (size_t i = 0; i < n; i++) {
        const struct xa_mem_range *r = &ranges[i];
        if (pa >= r->start && pa - r->start < r->size)
            return r;
    }
    return NULL;
}

/* [*lo, *hi): [pa - before, pa + after) clipped to the RAM range holding
 * pa, starting 8-byte aligned in guest memory. */
static int window_bounds(struct xa_instance *xa, uint64_t pa, uint64_t before, uint64_t after,
                         uint64_t *lo, uint64_t *hi)
{
    const struct xa_mem_range *r = range_of(xa, pa);
    if (!r)
        return XA_ERANGE;
    *lo = pa - r->start > before ? pa - before : r->start;
    *lo = (*lo + 7) & ~7ULL;
    uint64_t end = r->start + r->size;
    *hi = end - pa > after ? pa + after : end;
    if (*lo > pa || *hi <= *lo)
        return XA_ERANGE;
    return 0;
}

/* Copy [pa - before, pa + after), clipped (window_bounds), or point at it
 * where static memory is mapped (xa__span_in_place): no copy, and only the
 * pages the decoding reads are ever touched. */
static int read_window(struct xa_instance *xa, uint64_t pa, uint64_t before, uint64_t after,
                       struct window *w, struct discovery *d)
{
    uint64_t lo, hi;
    if (window_bounds(xa, pa, before, after, &lo, &hi) < 0)
        return XA_ERANGE;
    /* Copying and then searching (or indexing) the copy: twice its size. */
    if (!ksym_reserve(&d->work, 2 * (hi - lo)))
        return XA_ELIMIT;
    *w = (struct window){0};
    w->pa = lo;
    w->len = (size_t)(hi - lo);
    if (xa__span_in_place(xa, lo, w->len, &w->buf) == 0)
        return 0;
    w->owned = malloc(w->len);
    if (!w->owned)
        return XA_ENOMEM;
    int rc = xa__read_pa(xa, lo, w->owned, w->len);
    if (rc < 0) {
        free(w->owned);
        w->owned = NULL;
    }
    w->buf = w->owned;
    return rc;
}

/* Where num_syms can be in @w (ksym_num_syms_positions). */
static int index_window(struct window *w)
{
    w->pos = malloc((w->len / 8 + 1) * sizeof(*w->pos));
    if (!w->pos)
        return XA_ENOMEM;
    w->nr_pos = ksym_num_syms_positions(w->buf, w->len, w->pos);
    return 0;
}

/* Is the token index candidate at @pa the real thing? On success @w holds
 * the tables and @l their layout within it. */
static int try_candidate(struct xa_instance *xa, uint64_t pa, struct window *w,
                         struct ksym_layout *l, struct discovery *d)
{
    /* The probe reaches as far below the index as its last token's offset
     * says the table starts, plus what the precheck reads below that. */
    uint16_t last;
    if (xa__read_pa(xa, pa + 2 * 255, &last, sizeof(last)) < 0)
        return XA_ENOENT;
    uint64_t below = (uint64_t)last + KSYM_TOKEN_MAX + 16 + KSYM_PRECHECK_BEFORE;
    struct window probe;
    int rc = read_window(xa, pa, below < PROBE_BEFORE ? below : PROBE_BEFORE,
                         KSYM_TOKEN_INDEX_SIZE, &probe, d);
    if (rc < 0)
        return rc == XA_ELIMIT ? rc : XA_ENOENT;
    size_t table;
    rc = ksym_find_token_table(probe.buf, probe.len, (size_t)(pa - probe.pa), &table);
    bool plausible = rc == 0 && ksym_tables_precheck(probe.buf, table);
    uint64_t table_pa = probe.pa + table;
    window_free(&probe);
    if (!plausible)
        return XA_ENOENT;
    d->candidates++;

    /* A small window first, a large one for huge tables; a window already
     * copied that covers the one wanted is searched instead. */
    static const uint32_t before[] = {WINDOW_BEFORE_SMALL, WINDOW_BEFORE};
    static const uint32_t after[] = {WINDOW_AFTER_SMALL, WINDOW_AFTER};
    struct window *c = &d->cache;
    for (int i = 0; i < 2; i++) {
        uint64_t lo, hi;
        if (window_bounds(xa, pa, before[i], after[i], &lo, &hi) < 0)
            return XA_ENOENT;
        bool cached = c->buf && c->pa <= lo && hi <= c->pa + c->len;
        if (!cached) {
            /* Once a candidate has failed, more may follow above this one:
             * copy far enough ahead for the window to serve them too. */
            uint64_t ahead = d->candidates > 1 ? WINDOW_BEFORE : after[i];
            window_free(c);
            rc = read_window(xa, pa, before[i], ahead, c, d);
            if (rc < 0)
                return rc == XA_ELIMIT ? rc : XA_ENOENT;
        } else if (!c->pos) {
            /* A second candidate in the same window: from now on only the
             * index is read. The first search went word by word from the
             * token table down, which for a real kernel stops at num_syms,
             * below the names: less than indexing the whole window. */
            rc = index_window(c);
            if (rc < 0)
                return rc;
        }
        memset(l, 0, sizeof(*l));
        l->work = &d->work;
        l->token_table = (size_t)(table_pa - c->pa);
        l->token_index = (size_t)(pa - c->pa);
        l->syms_pos = c->pos;
        l->nr_syms_pos = c->nr_pos;
        rc = ksym_find_tables(c->buf, c->len, l);
        l->work = NULL;
        l->syms_pos = NULL;
        if (rc == 0) { /* the caller takes the window */
            *w = *c;
            *c = (struct window){0};
            return 0;
        }
        if (rc == XA_ELIMIT)
            return rc;
        /* The tables lie below the index (but for 6.4+ offsets, which the
         * small window's 1 MiB after it holds up to 250 k symbols): a window
         * searched that reaches as far down as the large one is enough. */
        if (window_bounds(xa, pa, before[1], after[1], &lo, &hi) < 0 || c->pa <= lo)
            break;
    }
    return XA_ENOENT;
}

/*
 * The 512-byte token index covers at least one 256-byte-aligned word
 * entirely, so the scan reads only those (a quarter of the cache lines):
 * four increasing u16 with token-sized steps. Zeros and text fail at once.
 */
#define SCAN_STRIDE 256

static inline bool index_word_filter(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w)); /* little-endian host, as the guest */
    uint32_t v0 = w & 0xffff, v1 = (w >> 16) & 0xffff, v2 = (w >> 32) & 0xffff, v3 = w >> 48;
    return v1 - v0 - 2 <= KSYM_TOKEN_MAX - 1 && v2 - v1 - 2 <= KSYM_TOKEN_MAX - 1 &&
           v3 - v2 - 2 <= KSYM_TOKEN_MAX - 1;
}

/* A word at @pa passed the filter: try every index start that covers it. */
static int try_around(struct xa_instance *xa, uint64_t pa, uint64_t *last_tried,
                      struct window *w, struct ksym_layout *l, struct discovery *d)
{
    const struct xa_mem_range *r = range_of(xa, pa);
    if (!r)
        return XA_ENOENT;
    uint64_t lo = pa - r->start >= KSYM_TOKEN_INDEX_SIZE ? pa - (KSYM_TOKEN_INDEX_SIZE - 8)
                                                         : r->start;
    uint64_t end = r->start + r->size;
    uint64_t hi = end - pa > KSYM_TOKEN_INDEX_SIZE ? pa + KSYM_TOKEN_INDEX_SIZE : end;
    uint8_t buf[2 * KSYM_TOKEN_INDEX_SIZE];
    lo = (lo + 7) & ~7ULL;
    if (!ksym_reserve(&d->work, sizeof(buf)))
        return XA_ELIMIT;
    if (hi <= lo || xa__read_pa(xa, lo, buf, (size_t)(hi - lo)) < 0)
        return XA_ENOENT;
    /* 4-byte steps: 32-bit kernels align the index to 4 only. */
    for (uint64_t s = lo; s <= pa && s < hi; s += 4) {
        if (s == *last_tried ||
            !ksym_looks_like_token_index(buf + (s - lo), (size_t)(hi - s)))
            continue;
        *last_tried = s;
        int rc = try_candidate(xa, s, w, l, d);
        if (rc == 0 || rc == XA_ELIMIT)
            return rc;
    }
    return XA_ENOENT;
}

/* The scan takes RAM in chunks this long: read in place where static
 * memory is mapped (xa__span_in_place: the filter reads a quarter of the
 * cache lines, where a copy, pread on a dump, moved all of them through the
 * kernel: about a quarter of an `xa-ps` run), else copied with one bulk
 * read (a live guest's or an unmapped backend's memory). In place, what
 * was scanned (~7 MiB on the test dumps) stays mapped until close (RSS,
 * not heap). */
#define SCAN_CHUNK ((uint64_t)256 << 10)

/* Scan page @pfn (its bytes at @page; a page cache pointer if @cached, else
 * a chunk's, which stays valid) for index words; 1 when the page is done,
 * or try_around's 0 / XA_ELIMIT. */
static int scan_page(struct xa_instance *xa, uint64_t pfn, const uint8_t *page, bool cached,
                     uint64_t *last_tried, struct window *w, struct ksym_layout *l,
                     struct discovery *d)
{
    for (size_t off = 0; off < XA_PAGE_SIZE; off += SCAN_STRIDE) {
        if (!index_word_filter(page + off))
            continue;
        int rc = try_around(xa, (pfn << XA_PAGE_SHIFT) + off, last_tried, w, l, d);
        if (rc == 0 || rc == XA_ELIMIT)
            return rc;
        /* Core calls above may have recycled a cached page pointer. */
        if (cached && xa__page(xa, pfn, &page) < 0)
            break;
    }
    return 1;
}

static int scan_span(struct xa_instance *xa, uint64_t start, uint64_t end, struct window *w,
                     struct ksym_layout *l, struct discovery *d)
{
    uint64_t last_tried = UINT64_MAX;
    uint8_t *copy = NULL;                 /* a chunk copied, when not in place */
    bool no_copy = false;                 /* no memory for it: page by page */
    const uint8_t *chunk = NULL;          /* in place, or @copy */
    uint64_t chunk_pa = 0, chunk_len = 0; /* what @chunk holds */
    int rc = XA_ENOENT;
    for (uint64_t pfn = start >> XA_PAGE_SHIFT; (pfn << XA_PAGE_SHIFT) < end; pfn++) {
        uint64_t pa = pfn << XA_PAGE_SHIFT;
        if (!ksym_reserve(&d->work, XA_PAGE_SIZE)) {
            rc = XA_ELIMIT;
            break;
        }
        if (d->scanned % PROGRESS_EVERY == 0)
            xa__progress(xa, "searching memory for the kernel", d->scanned, xa_memsize(xa));
        d->scanned += XA_PAGE_SIZE;
        if (pa < chunk_pa || pa - chunk_pa >= chunk_len) {
            uint64_t len = end - pa < SCAN_CHUNK ? ((end - pa + XA_PAGE_SIZE - 1) & XA_PAGE_MASK)
                                                 : SCAN_CHUNK;
            chunk_pa = pa;
            chunk_len = 0;
            if (xa__span_in_place(xa, pa, (size_t)len, &chunk) == 0) {
                xa__span_prefault(chunk, (size_t)len);
                chunk_len = len;
            } else if (!no_copy && (copy || (copy = malloc(SCAN_CHUNK)) != NULL)) {
                chunk = copy;
                chunk_len = xa__read_pa(xa, pa, copy, (size_t)len) == 0 ? len : 0;
            } else {
                no_copy = true;
            }
        }
        /* A chunk that did not read whole (a hole, a range's end): this
         * page through the page cache, as the scan always did. */
        const uint8_t *page;
        bool in_chunk = pa >= chunk_pa && pa - chunk_pa < chunk_len;
        if (in_chunk)
            page = chunk + (pa - chunk_pa);
        else if (xa__page(xa, pfn, &page) < 0)
            continue;
        int r = scan_page(xa, pfn, page, !in_chunk, &last_tried, w, l, d);
        if (r == 0 || r == XA_ELIMIT) {
            rc = r;
            break;
        }
    }
    free(copy);
    return rc;
}

/*
 * Kernel images start on a slot: x86-64 kernels are relocatable to
 * CONFIG_PHYSICAL_ALIGN boundaries (2 MiB at least), and physical KASLR puts
 * the image at one of those slots anywhere in RAM. The image begins with
 * startup_64 (.head.text, never freed), whose first instructions take the
 * image's own address RIP-relative ("leaq _text(%rip), %rdi"): a REX.W LEA
 * with a RIP-relative displacement that points back at the slot. Probing the
 * first bytes of every slot costs one page in 512, whatever the RAM size;
 * the kallsyms tables are then searched in the images found only
 * (docs/discovery.md). Anything planted is checked like any candidate, and a
 * guest with no recognisable head falls back to the full scan.
 */
#define HEAD_PROBE_LEN 256               /* bytes of startup_64 examined */
#define HEAD_IMAGE_SPAN (64ULL << 20)    /* the tables lie this far into the image */
#define HEAD_MAX 8                       /* images searched before the full scan */
#define TAIL_SPAN (16ULL << 20)          /* searched first, below the image's .data */
#define TAIL_MIN (4ULL << 20)            /* a head's .data reference lies at least this far in */

static bool looks_like_kernel_head(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 7 <= len; i++) {
        /* 48/4c 8d, ModRM mod=00 rm=101: lea disp32(%rip), %reg (64-bit) */
        if ((p[i] != 0x48 && p[i] != 0x4c) || p[i + 1] != 0x8d || (p[i + 2] & 0xc7) != 0x05)
            continue;
        int32_t disp;
        memcpy(&disp, p + i + 3, sizeof(disp));
        if ((int64_t)disp == -(int64_t)(i + 7)) /* the target is the slot itself */
            return true;
    }
    return false;
}

/*
 * The start of the image's .data, from the head: startup_64 first sets its
 * stack, RIP-relative, at the top of init_task's stack, the first thing in
 * .data ("leaq (__end_init_task - ...)(%rip), %rsp": 26.0 MiB into 6.1's
 * image), and .data starts 2 MiB-aligned right after .rodata on x86-64.
 * kallsyms is the last object linked, so its tables end .rodata's own
 * input sections, a few MiB below .data (BTF and the export tables lie
 * between); from the head they lie past all of the text (~20 MiB). The
 * nearest RIP-relative target at least TAIL_MIN into the image, rounded
 * down to 2 MiB; 0 when there is none. Only a search order: a wrong guess
 * costs one TAIL_SPAN search.
 */
static uint64_t head_data_start(const uint8_t *p, size_t len)
{
    uint64_t best = 0;
    for (size_t i = 0; i + 7 <= len; i++) {
        /* 48/4c 8d or 8b, ModRM mod=00 rm=101: lea/mov disp32(%rip), %reg */
        if ((p[i] != 0x48 && p[i] != 0x4c) || (p[i + 1] != 0x8d && p[i + 1] != 0x8b) ||
            (p[i + 2] & 0xc7) != 0x05)
            continue;
        int32_t disp;
        memcpy(&disp, p + i + 3, sizeof(disp));
        int64_t target = (int64_t)(i + 7) + disp;
        if (target >= (int64_t)TAIL_MIN && target < (int64_t)HEAD_IMAGE_SPAN &&
            (best == 0 || (uint64_t)target < best))
            best = (uint64_t)target;
    }
    return best & ~(PHYS_ALIGN - 1);
}

/* Search [start, end) from the top down, a chunk at a time. */
static int scan_span_down(struct xa_instance *xa, uint64_t start, uint64_t end,
                          struct window *w, struct ksym_layout *l, struct discovery *d)
{
    for (uint64_t hi = end; hi > start;) {
        uint64_t lo = hi - start > SCAN_CHUNK ? hi - SCAN_CHUNK : start;
        int rc = scan_span(xa, lo, hi, w, l, d);
        if (rc != XA_ENOENT)
            return rc;
        hi = lo;
    }
    return XA_ENOENT;
}

/* Is there a kernel head at the slot @pa (of a range ending at @end)? Then
 * search its image: the first one's end of .rodata first (head_data_start),
 * then its first HEAD_IMAGE_SPAN. XA_ENOENT when there is none or the
 * search failed. */
static int try_head(struct xa_instance *xa, uint64_t pa, uint64_t end, unsigned *heads,
                    struct window *w, struct ksym_layout *l, struct discovery *d)
{
    uint8_t head[HEAD_PROBE_LEN];
    if (end - pa < sizeof(head))
        return XA_ENOENT;
    if (!ksym_reserve(&d->work, sizeof(head)))
        return XA_ELIMIT;
    if (xa__read_pa(xa, pa, head, sizeof(head)) < 0 || !looks_like_kernel_head(head, sizeof(head)))
        return XA_ENOENT;
    if (++*heads > HEAD_MAX)
        return XA_ENOENT;
    uint64_t data = head_data_start(head, sizeof(head));
    if (*heads == 1 && data && end - pa > data) {
        uint64_t from = data > TAIL_SPAN ? data - TAIL_SPAN : 0;
        int rc = scan_span_down(xa, pa + from, pa + data, w, l, d);
        if (rc != XA_ENOENT)
            return rc;
    }
    uint64_t e = end - pa > HEAD_IMAGE_SPAN ? pa + HEAD_IMAGE_SPAN : end;
    return scan_span(xa, pa, e, w, l, d);
}

static int scan_kernel_heads(struct xa_instance *xa, unsigned *heads, struct window *w,
                             struct ksym_layout *l, struct discovery *d)
{
    size_t nr;
    const struct xa_mem_range *ranges = xa_mem_ranges(xa, &nr);
    for (size_t i = 0; i < nr && *heads < HEAD_MAX; i++) {
        const struct xa_mem_range *r = &ranges[i];
        uint64_t end = r->start + r->size;
        for (uint64_t pa = (r->start + PHYS_ALIGN - 1) & ~(PHYS_ALIGN - 1);
             pa < end && *heads < HEAD_MAX; pa += PHYS_ALIGN) {
            int rc = try_head(xa, pa, end, heads, w, l, d);
            if (rc != XA_ENOENT)
                return rc;
        }
    }
    return XA_ENOENT;
}

/*
 * Where to look first: when vCPU 0 was running kernel code, its RIP
 * translates (through its own CR3) into the kernel image, and the tables
 * are within the image. Returns 0 and a physical address, or an error.
 */
static int kernel_hint(struct xa_instance *xa, uint64_t *pa)
{
    struct xa_regs regs;
    if (xa__vcpu0_regs(xa, &regs) < 0 || regs.rip < START_KERNEL_MAP)
        return XA_ENOENT;
    struct x86_paging pg = {0};
    x86_paging_from_regs(&pg, regs.cr0, regs.cr4, regs.efer);
    if (pg.mode != XA_PM_IA32E && pg.mode != XA_PM_LA57)
        return XA_ENOENT;
    return xa__translate_mode(xa, &pg, x86_dtb_from_cr3(pg.mode, regs.cr3), regs.rip, pa);
}

/* Scan the image holding the registers' hint (its head, then around the
 * hint), then the kernel images found at 2 MiB slots, then all RAM from
 * 16 MiB up (where kernels load), then below. A span scanned twice costs
 * time, not correctness. */
static int scan_memory(struct xa_instance *xa, struct window *w, struct ksym_layout *l,
                       struct discovery *d)
{
    uint64_t hint;
    int rc;
    const struct xa_mem_range *r;
    unsigned heads = 0;
    if (kernel_hint(xa, &hint) == 0 && (r = range_of(xa, hint)) != NULL) {
        uint64_t s = hint - r->start > HINT_SPAN ? (hint - HINT_SPAN) & ~(XA_PAGE_SIZE - 1)
                                                 : r->start;
        uint64_t e = r->start + r->size - hint > HINT_SPAN ? hint + HINT_SPAN
                                                           : r->start + r->size;
        /* The image holding RIP starts at a slot at most HINT_SPAN below it. */
        for (uint64_t pa = hint & ~(PHYS_ALIGN - 1); pa >= s && pa >= r->start;
             pa -= PHYS_ALIGN) {
            rc = try_head(xa, pa, r->start + r->size, &heads, w, l, d);
            if (rc != XA_ENOENT)
                return rc;
            if (pa < PHYS_ALIGN)
                break;
        }
        rc = scan_span(xa, s, e, w, l, d);
        if (rc == 0 || rc == XA_ELIMIT)
            return rc;
    }
    rc = scan_kernel_heads(xa, &heads, w, l, d);
    if (rc != XA_ENOENT)
        return rc;
    size_t nr;
    const struct xa_mem_range *ranges = xa_mem_ranges(xa, &nr);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < nr; i++) {
            uint64_t s = ranges[i].start, e = s + ranges[i].size;
            if (pass == 0 && s < LOW_SCAN_END)
                s = LOW_SCAN_END;
            if (pass == 1 && e > LOW_SCAN_END)
                e = LOW_SCAN_END;
            if (s < e && (rc = scan_span(xa, s, e, w, l, d)) != XA_ENOENT)
                return rc;
        }
    }
    return XA_ENOENT;
}

static bool banner_at(struct xa_instance *xa, uint64_t pa)
{
    char buf[14];
    return xa__read_pa(xa, pa, buf, sizeof(buf)) == 0 && memcmp(buf, "Linux version ", 14) == 0;
}

/*
 * phys_base: the kallsyms tables lie inside the image [_text, _end), so the
 * image's physical offset is pinned to a small set; the one that puts the
 * linux_banner string where its symbol says wins. Wrapping arithmetic on
 * purpose: with KASLR phys_base is often "negative".
 */
static int find_phys_base(struct xa_instance *xa, const struct linux_symtab *t,
                          uint64_t tables_pa, uint64_t *phys_base)
{
    uint64_t text, end, banner;
    if (symtab_lookup(t, "_text", &text) < 0 || symtab_lookup(t, "linux_banner", &banner) < 0)
        return xa__set_error(xa, XA_EBADDATA, "kallsyms found but _text or linux_banner missing");
    if (symtab_lookup(t, "_end", &end) < 0 || end <= text || end - text > KERNEL_IMAGE_MAX)
        end = text + KERNEL_IMAGE_MAX;
    /* Highest candidate: the tables at _text; lower ones: further into the image. */
    uint64_t top = tables_pa - (text - START_KERNEL_MAP);
    for (uint64_t step = PHYS_ALIGN; step >= XA_PAGE_SIZE; step = step == PHYS_ALIGN ? XA_PAGE_SIZE : 0) {
        uint64_t first = top & ~(step - 1);
        for (uint64_t k = 0; k <= (end - text) / step + 1; k++) {
            uint64_t pb = first - k * step;
            if (banner_at(xa, banner - START_KERNEL_MAP + pb)) {
                *phys_base = pb;
                return 0;
            }
        }
    }
    return xa__set_error(xa, XA_EBADDATA,
                         "kallsyms found but the linux_banner string is not where it should be");
}

/* Does @pg with root @dtb map @va to @want? */
static bool maps_to(struct xa_instance *xa, const struct x86_paging *pg, uint64_t dtb,
                    uint64_t va, uint64_t want)
{
    uint64_t pa;
    return xa__translate_mode(xa, pg, dtb, va, &pa) == 0 && pa == want;
}

/* Paging mode: registers when they agree with the symbols, else probe 4- and
 * 5-level on two known addresses. */
static int find_paging(struct xa_instance *xa, uint64_t dtb, uint64_t va1, uint64_t pa1,
                       uint64_t va2, uint64_t pa2, struct x86_paging *out)
{
    struct xa_regs regs;
    if (xa__vcpu0_regs(xa, &regs) == 0) {
        struct x86_paging pg = {0};
        x86_paging_from_regs(&pg, regs.cr0, regs.cr4, regs.efer);
        if ((pg.mode == XA_PM_IA32E || pg.mode == XA_PM_LA57) &&
            maps_to(xa, &pg, dtb, va1, pa1) && maps_to(xa, &pg, dtb, va2, pa2)) {
            *out = pg;
            return 0;
        }
    }
    static const enum xa_page_mode modes[] = {XA_PM_IA32E, XA_PM_LA57};
    for (size_t i = 0; i < 2; i++) {
        struct x86_paging pg = {.mode = modes[i], .nxe = true};
        if (maps_to(xa, &pg, dtb, va1, pa1) && maps_to(xa, &pg, dtb, va2, pa2)) {
            *out = pg;
            return 0;
        }
    }
    return xa__set_error(xa, XA_EBADDATA,
                         "kernel page tables at 0x%llx do not map the kernel image "
                         "(neither 4- nor 5-level)",
                         (unsigned long long)dtb);
}

/* "Linux version 6.1.0-28-amd64 (...) ..." -> version and release. */
static void read_banner(struct xa_instance *xa, struct linux_os *lx, uint64_t banner)
{
    size_t n = 0;
    lx->version[0] = lx->release[0] = '\0';
    xa__read_va(xa, 0, banner, lx->version, sizeof(lx->version) - 1, &n);
    lx->version[n] = '\0';
    lx->version[strcspn(lx->version, "\n")] = '\0';
    for (char *c = lx->version; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    const char *prefix = "Linux version ";
    if (strncmp(lx->version, prefix, strlen(prefix)) == 0) {
        const char *rel = lx->version + strlen(prefix);
        size_t rl = strcspn(rel, " ");
        if (rl >= sizeof(lx->release))
            rl = sizeof(lx->release) - 1;
        memcpy(lx->release, rel, rl);
        lx->release[rl] = '\0';
    }
}

/* Direct-map base: page_offset_base under KASLR, else the fixed default. */
static uint64_t read_page_offset(struct xa_instance *xa, const struct linux_symtab *t,
                                 enum xa_page_mode mode)
{
    uint64_t va, val;
    if (symtab_lookup(t, "page_offset_base", &va) == 0 && xa__read_u64(xa, 0, va, &val) == 0 &&
        (val >> 63))
        return val;
    return mode == XA_PM_LA57 ? 0xff11000000000000ULL : 0xffff888000000000ULL;
}

/*
 * The names the OS layer's start-up and the common tools ask for (sorted by
 * strcmp): a table read in place answers these from one pass over the names
 * (ksym_pick) and decodes the rest (~94k names on 6.1, and their hash:
 * about a fifth of an `xa-ps` run on a dump) only when something else is
 * asked. A name missing here costs that full decode, not a wrong answer.
 */
static const char *const start_names[] = {
    "__init_begin", "__per_cpu_offset", "__start_BTF", "__stop_BTF", "_einittext", "_end",
    "_etext", "_sinittext", "_stext", "_text", "anon_inodefs_dname", "inet_hashinfo",
    "init_files", "init_level4_pgt", "init_net", "init_task", "init_top_pgt",
    "legacy_special_mapping_vmops", "linux_banner", "max_pfn", "modules", "net_namespace_list",
    "nr_cpu_ids", "ns_dname", "page_offset_base", "pipefs_dname", "prb", "primary_entry",
    "process_counts", "raw_hashinfo", "raw_v4_hashinfo", "raw_v6_hashinfo", "simple_dname",
    "socket_file_ops", "sockfs_dname", "special_mapping_vmops", "tcp_hashinfo", "tk_core",
    "udp_table", "udplite_table", "unix_socket_table",
};

/* A table read in place: the mapping lives until close, so the full table
 * can be decoded from it later (lazy_fill). The table is freed before the
 * handle @xa (linux_destroy), so the pointer stays valid. */
struct lazy_tables {
    struct xa_instance *xa;
    const uint8_t *buf;
    size_t len;
    struct ksym_layout l;
};

static int lazy_fill(void *arg, struct linux_symtab *t)
{
    struct lazy_tables *z = arg;
    int rc = ksym_decode(z->buf, z->len, &z->l, t);
    /* A file cut since reads as zeros there: its error, not those bytes. */
    int lost = xa__memory_check(z->xa);
    if (lost < 0)
        return lost;
    if (rc < 0)
        return xa__set_error(z->xa, rc == XA_ENOMEM ? rc : XA_EBADDATA,
                             "kallsyms tables no longer decode: the kernel symbols are incomplete");
    return 0;
}

/* The symbols of @w's tables: the start-up names now, the rest on demand. */
static int lazy_symbols(struct xa_instance *xa, const struct window *w,
                        const struct ksym_layout *l, struct linux_symtab *t)
{
    enum { N = sizeof(start_names) / sizeof(start_names[0]) };
    struct symtab_pick picks[N];
    int rc = ksym_pick(w->buf, w->len, l, start_names, N, picks);
    if (rc < 0)
        return rc;
    struct lazy_tables *z = malloc(sizeof(*z));
    if (!z)
        return XA_ENOMEM;
    *z = (struct lazy_tables){.xa = xa, .buf = w->buf, .len = w->len, .l = *l};
    z->l.work = NULL;
    z->l.syms_pos = NULL;
    struct symtab_source src = {.fill = lazy_fill, .release = free, .arg = z};
    return symtab_set_lazy(t, start_names, N, picks, l->num_syms, &src);
}

/* The budget for a guest with @ram bytes of RAM. */
uint64_t linux_discovery_budget(uint64_t ram)
{
    return DISCOVERY_WORK_PER_BYTE * ram + DISCOVERY_WORK_FIXED;
}

int linux_kallsyms_discover(struct xa_instance *xa, struct linux_os *lx)
{
    struct window w = {0};
    struct ksym_layout l;
    uint64_t ram = xa_memsize(xa);
    struct discovery d = {.work = {.limit = linux_discovery_budget(ram)}};
    int rc = scan_memory(xa, &w, &l, &d);
    window_free(&d.cache);
    lx->discovery_work = d.work.spent;
    if (rc == XA_ELIMIT)
        return xa__set_error(xa, XA_ENOOS,
                             "no Linux kernel found: the kallsyms search gave up after %llu "
                             "candidate tables (work budget of %llu MiB spent; see "
                             "docs/limits.md)",
                             (unsigned long long)d.candidates,
                             (unsigned long long)(d.work.limit >> 20));
    if (rc < 0)
        return xa__set_error(xa, XA_ENOOS,
                             "no Linux kernel found in guest memory (no kallsyms tables)");
    uint64_t tables_pa = w.pa + l.token_table;
    unsigned ptr_size = l.ptr_size;
    symtab_free(&lx->syms);
    /* In place (a static dump's mapping): lazily; a copy is the BTF's
     * buffer next, so it is decoded now. */
    bool lazy = !w.owned;
    rc = lazy ? lazy_symbols(xa, &w, &l, &lx->syms) : ksym_decode(w.buf, w.len, &l, &lx->syms);
    /* A window read in place from a file that shrank meanwhile gave zeros. */
    int lost = xa__memory_check(xa);
    if (lost < 0) {
        window_free(&w);
        symtab_free(&lx->syms);
        return lost;
    }
    free(lx->spare); /* our copy of the window, if any, is the BTF's buffer next */
    lx->spare = w.owned;
    lx->spare_len = w.owned ? w.len : 0;
    w.owned = NULL;
    window_free(&w);
    if (rc < 0) {
        symtab_free(&lx->syms);
        return xa__set_error(xa, rc == XA_ENOMEM ? rc : XA_EBADDATA,
                             "kallsyms tables at 0x%llx do not decode",
                             (unsigned long long)tables_pa);
    }
    rc = lazy ? 0 : symtab_freeze(&lx->syms);
    if (rc < 0)
        return xa__set_error(xa, rc, "out of memory indexing kernel symbols");

    if (ptr_size == 4) /* a 32-bit x86 kernel (kernel32.c) */
        return linux_kernel32_discover(xa, lx, tables_pa);

    const struct linux_symtab *t = &lx->syms;
    uint64_t phys_base = 0, text = 0, banner = 0, pgt = 0;
    if (linux_arm64_kernel(t)) {
        rc = linux_arm64_discover(xa, lx, tables_pa);
        if (rc < 0)
            return rc;
        symtab_lookup(t, "linux_banner", &banner);
        read_banner(xa, lx, banner);
        snprintf(lx->symbols_from, sizeof(lx->symbols_from), "kallsyms in guest memory");
        return 0;
    }
    rc = find_phys_base(xa, t, tables_pa, &phys_base);
    if (rc < 0)
        return rc;
    symtab_lookup(t, "_text", &text);
    symtab_lookup(t, "linux_banner", &banner);
    if (symtab_lookup(t, "init_top_pgt", &pgt) < 0 && symtab_lookup(t, "init_level4_pgt", &pgt) < 0)
        return xa__set_error(xa, XA_EBADDATA, "kallsyms has no init_top_pgt");
    uint64_t dtb = pgt - START_KERNEL_MAP + phys_base;
    struct x86_paging pg;
    rc = find_paging(xa, dtb, banner, banner - START_KERNEL_MAP + phys_base, text,
                     text - START_KERNEL_MAP + phys_base, &pg);
    if (rc < 0)
        return rc;
    xa__set_kernel_paging(xa, &pg, dtb);

    lx->phys_base = phys_base;
    lx->kernel_dtb = dtb;
    lx->mode = pg.mode;
    lx->text_start = text;
    lx->kaslr_slide = text - DEFAULT_TEXT;
    lx->page_offset = read_page_offset(xa, t, pg.mode);
    read_banner(xa, lx, banner);
    snprintf(lx->symbols_from, sizeof(lx->symbols_from), "kallsyms in guest memory");
    return 0;
}
