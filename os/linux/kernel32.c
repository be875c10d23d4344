/*
 * kernel32.c -- the rest of zero-configuration discovery for a 32-bit x86
 * Linux kernel, once its kallsyms tables are decoded (kallsyms.c).
 *
 * A 32-bit kernel maps itself and all low memory at PAGE_OFFSET: a kernel
 * address va is at physical va - PAGE_OFFSET (__pa()). Without
 * CONFIG_KALLSYMS_ALL (Debian's 686 kernels) kallsyms holds text symbols
 * only, so swapper_pg_dir and linux_banner have no address; both are found
 * in the kernel image instead:
 *   - PAGE_OFFSET: the VMSPLIT choices whose image would hold the tables;
 *   - the page-table root: a page that, read as a 2-level (non-PAE) or a
 *     3-level (PAE) root, maps the kernel's text and the last page of low
 *     memory where __pa() says -- the image first (swapper_pg_dir lives in
 *     its .bss), then all RAM; the mode is whichever validates;
 *   - the version: the "Linux version <digit>" string in the image.
 * Every search is bounded by the image span or RAM, each candidate costs at
 * most a few page walks, and nothing read from the guest is trusted before
 * it translates the known addresses correctly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86.h"
#include "os/linux/linux.h"

#define LOAD_PHYSICAL_ADDR 0x1000000ULL /* CONFIG_PHYSICAL_START: KASLR slides from here */
#define IMAGE_SPAN (64ULL << 20)        /* bound on _text.._end of a 32-bit kernel */
#define LOWMEM_MAX (768ULL << 20)       /* low memory ends below 896 MiB; be safe */
#define LOWMEM_MARGIN (4ULL << 20)
#define BANNER_CHUNK (64u << 10)
#define BANNER "Linux version "

/* PAGE_OFFSET of CONFIG_VMSPLIT_3G (Debian's), 3G_OPT, 2G, 2G_OPT and 1G. */
static const uint64_t page_offsets[] = {0xC0000000, 0xB0000000, 0x80000000, 0x78000000,
                                        0x40000000};

/* Addresses that must translate to va - page_offset. */
struct probe {
    uint64_t va[4];
    size_t n;
};

static bool maps_linearly(struct xa_instance *xa, const struct x86_paging *pg, uint64_t dtb,
                          uint64_t po, const struct probe *p)
{
    for (size_t i = 0; i < p->n; i++) {
        uint64_t pa;
        if (xa__translate_mode(xa, pg, dtb, p->va[i], &pa) < 0 || pa != p->va[i] - po)
            return false;
    }
    return true;
}

/* Does the root at @dtb map nothing below @po? swapper_pg_dir does not;
 * the boot tables (initial_page_table) and processes' roots do. */
static bool user_half_empty(struct xa_instance *xa, const struct x86_paging *pg, uint64_t dtb,
                            uint64_t po)
{
    size_t esize = pg->mode == XA_PM_PAE ? 8 : 4;
    size_t n = (size_t)(po >> (pg->mode == XA_PM_PAE ? 30 : 22));
    uint8_t buf[768 * 4]; /* the most user entries: VMSPLIT_3G, 2-level */
    if (n * esize > sizeof(buf) || xa__read_pa(xa, dtb, buf, n * esize) < 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (buf[i * esize] & 1) /* the present bit */
            return false;
    return true;
}

/* Try every page of [start, end) as the root of each mode in @modes; with
 * @kernel_only, only roots that map no user addresses. */
static int scan_roots(struct xa_instance *xa, uint64_t start, uint64_t end, uint64_t po,
                      const struct probe *p, const struct x86_paging *modes, size_t nmodes,
                      bool kernel_only, struct x86_paging *pg, uint64_t *dtb)
{
    for (uint64_t pa = start & ~(XA_PAGE_SIZE - 1); pa < end; pa += XA_PAGE_SIZE) {
        for (size_t m = 0; m < nmodes; m++) {
            if (maps_linearly(xa, &modes[m], pa, po, p) &&
                (!kernel_only || user_half_empty(xa, &modes[m], pa, po))) {
                *pg = modes[m];
                *dtb = pa;
                return 0;
            }
        }
    }
    return XA_ENOENT;
}

/* The paging modes to try: Linux enables PSE wherever the CPU has it, and
 * NX under PAE where the CPU has it (bit 63 is then never set otherwise).
 * The registers are not asked: ELF cores do not record EFER.NXE, and the
 * translations of known addresses tell the modes apart anyway. */
static const struct x86_paging modes32[] = {{.mode = XA_PM_PAE, .nxe = true, .pse = true},
                                            {.mode = XA_PM_LEGACY, .pse = true}};

static uint64_t ram_end(const struct xa_instance *xa)
{
    return xa_max_pa(xa); /* the ranges are sorted: the end of the last */
}

/* A high page of low memory the kernel must map: 4 MiB below the end of the
 * RAM range at 0 (the firmware reserves the very top), capped by what low
 * memory can be. The early boot tables map little beyond the image. */
static uint64_t lowmem_last_page(const struct xa_instance *xa)
{
    uint64_t end = 0;
    size_t n;
    const struct xa_mem_range *ranges = xa_mem_ranges(xa, &n);
    for (size_t i = 0; i < n; i++)
        if (ranges[i].start == 0)
            end = ranges[i].size;
    if (end > LOWMEM_MAX)
        end = LOWMEM_MAX;
    return end >= LOWMEM_MARGIN ? (end - LOWMEM_MARGIN) & ~(XA_PAGE_SIZE - 1) : 0;
}

/* Keep the banner at @v (printable up to a newline) as the version. */
static void take_banner(struct linux_os *lx, const uint8_t *v)
{
    size_t n = 0;
    while (n < sizeof(lx->version) - 1 && v[n] >= 0x20 && v[n] < 0x7f)
        n++;
    memcpy(lx->version, v, n);
    lx->version[n] = '\0';
    const char *rel = lx->version + strlen(BANNER);
    size_t rl = strcspn(rel, " ");
    if (rl >= sizeof(lx->release))
        rl = sizeof(lx->release) - 1;
    memcpy(lx->release, rel, rl);
    lx->release[rl] = '\0';
}

/* The banner in the image: "Linux version " and a digit. The image holds
 * more than one (6.1 links a copy built without the build number, "# SMP"
 * where /proc/version says "#1 SMP"): the first with "#<digit>" wins, else
 * the first. Reads at most IMAGE_SPAN. */
static void find_version(struct xa_instance *xa, uint64_t image_pa, struct linux_os *lx)
{
    const size_t keep = sizeof(lx->version); /* a banner across a chunk edge */
    lx->version[0] = lx->release[0] = '\0';
    uint8_t *buf = malloc(BANNER_CHUNK + keep);
    if (!buf)
        return; /* the version stays unknown */
    for (uint64_t pa = image_pa; pa < image_pa + IMAGE_SPAN; pa += BANNER_CHUNK) {
        if (xa__read_pa(xa, pa, buf, BANNER_CHUNK + keep) < 0)
            continue;
        for (size_t i = 0; i < BANNER_CHUNK; i++) {
            const uint8_t *v = buf + i;
            if (v[0] != 'L' || memcmp(v, BANNER, strlen(BANNER)) != 0 ||
                v[strlen(BANNER)] < '0' || v[strlen(BANNER)] > '9')
                continue;
            bool first = lx->version[0] == '\0';
            if (first)
                take_banner(lx, v);
            const uint8_t *end = memchr(v, '\n', keep);
            const uint8_t *hash = memchr(v, '#', end ? (size_t)(end - v) : keep);
            if (hash && hash[1] >= '0' && hash[1] <= '9') {
                take_banner(lx, v);
                free(buf);
                return;
            }
        }
    }
    free(buf);
}

int linux_kernel32_discover(struct xa_instance *xa, struct linux_os *lx, uint64_t tables_pa)
{
    const struct linux_symtab *t = &lx->syms;
    uint64_t text, etext;
    if (symtab_lookup(t, "_text", &text) < 0 || symtab_lookup(t, "_etext", &etext) < 0 ||
        etext <= text || etext - text > IMAGE_SPAN)
        return xa__set_error(xa, XA_EBADDATA,
                             "32-bit kallsyms found but _text/_etext missing or implausible");

    const struct x86_paging *modes = modes32;
    const size_t nmodes = sizeof(modes32) / sizeof(modes32[0]);
    uint64_t top = ram_end(xa);
    for (size_t i = 0; i < sizeof(page_offsets) / sizeof(page_offsets[0]); i++) {
        uint64_t po = page_offsets[i];
        /* The image must be in RAM and hold the tables (in its .rodata). */
        if (text < po || text - po >= top || tables_pa < text - po ||
            tables_pa - (text - po) >= IMAGE_SPAN)
            continue;
        uint64_t image_pa = text - po;
        struct probe p = {.va = {text, (etext - 1) & ~(XA_PAGE_SIZE - 1),
                                 po + lowmem_last_page(xa)},
                          .n = 3};
        struct x86_paging pg;
        uint64_t dtb;
        /* swapper_pg_dir is in the image's .bss and maps no user address;
         * any process's root maps the kernel too, so all RAM is the fallback. */
        uint64_t image_end = top - image_pa > IMAGE_SPAN ? image_pa + IMAGE_SPAN : top;
        int rc = scan_roots(xa, image_pa, image_end, po, &p, modes, nmodes, true, &pg, &dtb);
        size_t nr;
        const struct xa_mem_range *ranges = xa_mem_ranges(xa, &nr);
        for (size_t r = 0; rc < 0 && r < nr; r++)
            rc = scan_roots(xa, ranges[r].start, ranges[r].start + ranges[r].size,
                            po, &p, modes, nmodes, false, &pg, &dtb);
        if (rc < 0)
            continue;
        xa__set_kernel_paging(xa, &pg, dtb);
        lx->phys_base = 0; /* __pa(va) = va - page_offset */
        lx->kernel_dtb = dtb;
        lx->mode = pg.mode;
        lx->text_start = text;
        lx->page_offset = po;
        lx->kaslr_slide = text - (po + LOAD_PHYSICAL_ADDR);
        find_version(xa, image_pa, lx);
        snprintf(lx->symbols_from, sizeof(lx->symbols_from),
                 "kallsyms in guest memory (32-bit)");
        return 0;
    }
    return xa__set_error(xa, XA_EBADDATA,
                         "32-bit kallsyms found at 0x%llx but no page tables map the kernel "
                         "(neither PAE nor 2-level, at any PAGE_OFFSET)",
                         (unsigned long long)tables_pa);
}
