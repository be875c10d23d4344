/*
 * arm64.c -- an AArch64 Linux kernel found through its kallsyms tables.
 *
 * Debian's arm64 kernel is built without CONFIG_KALLSYMS_ALL, so kallsyms
 * holds text symbols only: no swapper_pg_dir, linux_banner, __start_BTF,
 * init_task or modules. They are found in the kernel image instead, whose
 * physical place the tables themselves give (they lie inside it):
 *  - swapper_pg_dir is the page above the tables, one page to 64 KiB below
 *    _sinittext (where vmlinux.lds.S puts it), that as a TTBR1 table
 *    translates _stext to below the tables (39-, 48-bit VAs; 52 with
 *    LPA2). That fixes kimage_voffset (image VA - PA), so _text (64 KiB
 *    below _stext in 6.x) and the KASLR slide;
 *  - a raw image of RAM that the machine places higher (virt: 1 GiB) shows
 *    as tables whose pointers miss the file: the RAM base is probed, in
 *    GiB steps, until swapper_pg_dir's walk lands in the image;
 *  - linux_banner is the image's first "Linux version " string, the BTF the
 *    image's BTF header; init_task and the module list head (after BTF):
 *    the image's "swapper/0" task and the list_head whose neighbours link
 *    back to it and are modules.
 * Every scan is bounded by the image size (at most ARM64_IMAGE_MAX) and
 * charged to discovery's work budget (kallsyms.c, docs/limits.md), which
 * the kallsyms search drew on first: one unit per byte read or examined,
 * so an image that plants banners, tables or tasks costs a bounded amount
 * and gets a clear error past it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/kallsyms_tables.h"
#include "os/linux/lxpriv.h"

#define ARM64_IMAGE_MAX (256ull << 20) /* text + rodata bound (Debian 6.1: ~30 MiB) */
/* _stext - _text: .head.text, aligned to SEGMENT_ALIGN (the boot code frees
 * it, Image header included, so it cannot be looked for). */
#define TEXT_HEAD (64ull << 10)
/* Data and bss after the init sections: scanned for init_task, modules. */
#define IMAGE_DATA_MAX (32ull << 20)
#define RAM_BASE_STEP (1ull << 30)
#define RAM_BASE_PROBES 64 /* bases 0, 1 GiB, ... 63 GiB */
#define MODULES_BELOW (4ull << 30) /* modules sit within 4 GiB below the image */

/* Most descriptors one translation reads (5 levels: 52-bit VAs with LPA2). */
#define WALK_READS 5u

struct image {
    uint64_t pa, size;   /* the image in guest-physical memory */
    uint64_t text_va;    /* _text */
    uint64_t swapper_pa;
    struct arm64_paging pg;
};

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 8; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The discovery budget with what discovery spent so far. */
static struct ksym_work meter(struct xa_instance *xa, const struct linux_os *lx)
{
    return (struct ksym_work){.spent = lx->discovery_work,
                              .limit = linux_discovery_budget(xa_memsize(xa))};
}

static int gave_up(struct xa_instance *xa, struct linux_os *lx, const struct ksym_work *w,
                   const char *what)
{
    lx->discovery_work = w->spent;
    return xa__set_error(xa, XA_ELIMIT,
                         "arm64 discovery gave up looking for %s (work budget of %llu MiB "
                         "spent; see docs/limits.md)",
                         what, (unsigned long long)(w->limit >> 20));
}

bool linux_arm64_kernel(const struct linux_symtab *t)
{
    uint64_t a;
    return symtab_lookup(t, "primary_entry", &a) == 0 && symtab_lookup(t, "_stext", &a) == 0 &&
           symtab_lookup(t, "init_top_pgt", &a) < 0;
}

/*
 * swapper_pg_dir, with the current RAM base: the page above the kallsyms
 * tables (rodata) and just below _sinittext (vmlinux.lds.S puts it there,
 * then aligns to 64 KiB) that, as a TTBR1 table, translates _stext to below
 * the tables. That walk also gives _stext's physical address, so the image.
 */
static bool find_swapper(struct xa_instance *xa, const struct linux_symtab *t, uint64_t tables_pa,
                         struct image *img, struct ksym_work *w)
{
    static const struct arm64_paging modes[] = {{.va_bits = 48}, {.va_bits = 39},
                                                {.va_bits = 52, .lpa2 = true}};
    uint64_t stext, sinit, einit;
    if (symtab_lookup(t, "_stext", &stext) < 0 || symtab_lookup(t, "_sinittext", &sinit) < 0 ||
        sinit <= stext || sinit - stext > ARM64_IMAGE_MAX)
        return false;
    if (symtab_lookup(t, "_einittext", &einit) < 0 || einit < sinit || einit - sinit > ARM64_IMAGE_MAX)
        einit = sinit;
    uint64_t span = sinit - stext;
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        const struct arm64_paging *pg = &modes[m];
        if (!arm64_va_is_upper(pg, stext))
            continue;
        int level = arm64_start_level(pg->va_bits);
        unsigned shift = 12 + 9 * (unsigned)(3 - level);
        uint64_t idx = (stext >> shift) & ((1ull << (pg->va_bits - shift)) - 1);
        for (uint64_t off = 0; off < span; off += XA_PAGE_SIZE) {
            uint64_t cand = (tables_pa & XA_PAGE_MASK) + off, pa;
            uint8_t d[8];
            /* Cheap first: the first-level descriptor must be a table. */
            if (!ksym_spend(w, 8))
                goto out;
            if (xa__read_pa(xa, cand + idx * 8, d, 8) < 0 || (d[0] & 3) != 3)
                continue;
            if (!ksym_spend(w, 8 * WALK_READS))
                goto out;
            if (xa__translate_arm64(xa, pg, 0, cand, stext, &pa) < 0 || pa > tables_pa ||
                tables_pa - pa >= span || cand - pa >= span)
                continue;
            /* Its virtual address is below _sinittext by one page to 64 KiB. */
            uint64_t below = span - (cand - pa);
            if (below < XA_PAGE_SIZE || below > (64u << 10) + XA_PAGE_SIZE)
                continue;
            img->swapper_pa = cand;
            img->pa = pa - TEXT_HEAD;
            img->text_va = stext - TEXT_HEAD;
            img->size = TEXT_HEAD + (einit - stext) + IMAGE_DATA_MAX;
            img->pg = *pg;
            xa__clear_error(xa);
            return true;
        }
    }
out:
    xa__clear_error(xa);
    return false;
}

/* Does the string at @pa look like the final banner: "... #<digit>"? 6.1
 * links a weak placeholder banner (init/version.c, "#" with no build
 * number) besides the real one (init/version-timestamp.c). */
#define BANNER_READ 512u

static bool numbered_banner(struct xa_instance *xa, uint64_t pa)
{
    char buf[BANNER_READ];
    if (xa__read_pa(xa, pa, buf, sizeof(buf) - 1) < 0)
        return false;
    buf[sizeof(buf) - 1] = '\0';
    const char *hash = strstr(buf, " #");
    return hash && hash[2] >= '0' && hash[2] <= '9';
}

/* linux_banner: the image's "Linux version " string (NUL before it) with a
 * build number, else the first one; 0 if none (or the budget ran out). */
static uint64_t find_banner(struct xa_instance *xa, const struct image *img, struct ksym_work *w)
{
    static const char s[] = "Linux version ";
    const size_t len = sizeof(s) - 1;
    uint64_t first = 0;
    uint8_t *page = malloc(XA_PAGE_SIZE);
    if (!page)
        return 0;
    for (uint64_t off = 0; off < img->size && ksym_spend(w, XA_PAGE_SIZE); off += XA_PAGE_SIZE) {
        if (xa__read_pa(xa, img->pa + off, page, XA_PAGE_SIZE) < 0)
            continue;
        for (size_t i = 1; i + len <= XA_PAGE_SIZE; i++) {
            if (page[i] != 'L' || page[i - 1] != 0 || memcmp(page + i, s, len) != 0)
                continue;
            uint64_t pa = img->pa + off + i;
            if (!ksym_spend(w, BANNER_READ))
                break;
            if (numbered_banner(xa, pa)) {
                free(page);
                return pa;
            }
            if (!first)
                first = pa;
        }
    }
    free(page);
    return first;
}

/* The BTF blob in the image: [*start, *end) physical. */
static bool find_btf(struct xa_instance *xa, const struct image *img, uint64_t *start,
                     uint64_t *end, struct ksym_work *w)
{
    static const uint8_t magic[8] = {0x9f, 0xeb, 1, 0, 24, 0, 0, 0};
    const uint8_t *page;
    for (uint64_t off = 0; off < img->size && ksym_spend(w, XA_PAGE_SIZE); off += XA_PAGE_SIZE) {
        if (xa__page(xa, (img->pa + off) >> XA_PAGE_SHIFT, &page) < 0)
            continue;
        for (size_t i = 0; i + 24 <= XA_PAGE_SIZE; i += 4) {
            if (memcmp(page + i, magic, sizeof(magic)) != 0)
                continue;
            uint32_t type_off = le32(page + i + 8), type_len = le32(page + i + 12),
                     str_off = le32(page + i + 16), str_len = le32(page + i + 20);
            uint64_t total = 24ull + str_off + str_len;
            if (type_off != 0 || str_off != type_len || total > img->size - off - i)
                continue;
            *start = img->pa + off + i;
            *end = *start + total;
            return true;
        }
    }
    return false;
}

/* Rebuild @t with @n more symbols (a frozen table takes no more). */
static int symtab_extend(struct linux_symtab *t, const char *const *names, const uint64_t *addrs,
                         size_t n)
{
    struct linux_symtab nt = {0};
    int rc = symtab_complete(t); /* a lazy table: all of it, to copy */
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        const char *name = symtab_name(t, &t->syms[i]);
        rc = symtab_add(&nt, name, strlen(name), t->syms[i].addr, t->syms[i].type);
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = symtab_add(&nt, names[i], strlen(names[i]), addrs[i], 'd');
    if (rc == 0)
        rc = symtab_freeze(&nt);
    if (rc < 0) {
        symtab_free(&nt);
        return rc;
    }
    symtab_free(t);
    *t = nt;
    return 0;
}

int linux_arm64_discover(struct xa_instance *xa, struct linux_os *lx, uint64_t tables_pa)
{
    struct image img = {0};
    struct ksym_work w = meter(xa, lx);
    /* Probe the RAM base of a raw image (only one-range layouts from 0 move). */
    bool ok = false;
    for (unsigned k = 0; k < RAM_BASE_PROBES && !ok && !w.exhausted; k++) {
        uint64_t base = k * RAM_BASE_STEP;
        if (k > 0 && xa__set_ram_base(xa, base) < 0)
            break;
        ok = find_swapper(xa, &lx->syms, tables_pa + base, &img, &w);
    }
    if (!ok) {
        (void)xa__set_ram_base(xa, 0);
        if (w.exhausted)
            return gave_up(xa, lx, &w, "swapper_pg_dir");
        lx->discovery_work = w.spent;
        return xa__set_error(xa, XA_EBADDATA,
                             "arm64 kallsyms found at 0x%llx, but no page above them translates "
                             "_stext (no swapper_pg_dir)",
                             (unsigned long long)tables_pa);
    }
    /* Scans stay in RAM. */
    size_t nr;
    const struct xa_mem_range *ranges = xa_mem_ranges(xa, &nr), *last = &ranges[nr - 1];
    if (img.pa < ranges[0].start)
        return xa__set_error(xa, XA_EBADDATA, "arm64 kernel image below RAM");
    if (last->start + last->size - img.pa < img.size)
        img.size = last->start + last->size - img.pa;
    uint64_t voff = img.text_va - img.pa; /* kimage_voffset */
    xa__set_kernel_paging_arm64(xa, &img.pg, img.swapper_pa);

    const char *names[5];
    uint64_t addrs[5];
    size_t n = 0;
    names[n] = "_text", addrs[n++] = img.text_va;
    names[n] = "swapper_pg_dir", addrs[n++] = img.swapper_pa + voff;
    uint64_t banner = find_banner(xa, &img, &w), btf_start, btf_end;
    if (banner)
        names[n] = "linux_banner", addrs[n++] = banner + voff;
    if (find_btf(xa, &img, &btf_start, &btf_end, &w)) {
        names[n] = "__start_BTF", addrs[n++] = btf_start + voff;
        names[n] = "__stop_BTF", addrs[n++] = btf_end + voff;
    }
    if (w.exhausted)
        return gave_up(xa, lx, &w, "linux_banner and BTF");
    lx->discovery_work = w.spent;
    int rc = symtab_extend(&lx->syms, names, addrs, n);
    if (rc < 0)
        return xa__set_error(xa, rc, "out of memory indexing kernel symbols");
    if (!banner)
        return xa__set_error(xa, XA_EBADDATA, "arm64 kernel image has no linux_banner string");

    unsigned vb = img.pg.va_bits < 48 ? img.pg.va_bits : 48;
    lx->phys_base = img.pa; /* arm64: the image's physical address */
    lx->image_size = img.size;
    lx->kernel_dtb = img.swapper_pa;
    lx->mode = XA_PM_AARCH64;
    lx->text_start = img.text_va;
    lx->kaslr_slide = img.text_va - (-(1ull << (vb - 1)) + (128ull << 20)); /* KIMAGE_VADDR */
    lx->page_offset = -(1ull << img.pg.va_bits); /* PAGE_OFFSET (linear map) */
    return 0;
}

/* Page @off of the image, copied (the checks below make core calls, which
 * may recycle a page pointer). */
static bool image_page(struct xa_instance *xa, const struct image *img, uint64_t off,
                       uint8_t *buf)
{
    return xa__read_pa(xa, img->pa + off, buf, XA_PAGE_SIZE) == 0;
}

/* init_task: the image's task named "swapper/0" with pid 0 whose task list
 * links back to it. */
static uint64_t find_init_task(struct xa_instance *xa, const struct linux_os *lx,
                               const struct image *img, uint64_t voff, uint8_t *page,
                               struct ksym_work *w)
{
    const struct linux_offsets *o = &lx->off;
    static const char comm[16] = "swapper/0";
    for (uint64_t off = 0; off < img->size && ksym_spend(w, XA_PAGE_SIZE); off += XA_PAGE_SIZE) {
        if (!image_page(xa, img, off, page))
            continue;
        for (size_t i = 0; i + 16 <= XA_PAGE_SIZE; i += 8) {
            if (page[i] != 's' || memcmp(page + i, comm, sizeof(comm)) != 0)
                continue;
            if (!ksym_spend(w, 3 * 8))
                return 0;
            uint64_t task = img->pa + off + i + voff - o->task_comm, next, back;
            uint32_t pid;
            if (lx_u32(xa, task + o->task_pid, &pid) == 0 && pid == 0 &&
                lx_u64(xa, task + o->task_tasks, &next) == 0 && lx_kernel_ptr(next) &&
                lx_u64(xa, next + 8, &back) == 0 && back == task + o->task_tasks)
                return task;
        }
    }
    return 0;
}

#define MODULE_NAME_READ 56u /* MODULE_NAME_LEN */

/* Is @mod a plausible struct module (name printable, NUL-terminated)? */
static bool module_at(struct xa_instance *xa, const struct linux_os *lx, uint64_t mod)
{
    char name[MODULE_NAME_READ];
    if (lx_read(xa, mod + lx->off.module_name, name, sizeof(name)) < 0 || !name[0])
        return false;
    for (size_t i = 0; i < sizeof(name); i++) {
        if (!name[i])
            return true;
        if (name[i] <= 0x20 || name[i] >= 0x7f)
            return false;
    }
    return false;
}

/* The module list head: an image list_head whose neighbours are modules
 * that link back to it. 0 when none is (no modules loaded, or not found). */
static uint64_t find_modules(struct xa_instance *xa, const struct linux_os *lx,
                             const struct image *img, uint64_t voff, uint8_t *page,
                             struct ksym_work *w)
{
    uint64_t lo = img->text_va - MODULES_BELOW, hi = img->text_va;
    uint64_t lst = lx->off.module_list;
    for (uint64_t off = 0; off < img->size && ksym_spend(w, XA_PAGE_SIZE); off += XA_PAGE_SIZE) {
        if (!image_page(xa, img, off, page))
            continue;
        for (size_t i = 0; i + 16 <= XA_PAGE_SIZE; i += 8) {
            uint64_t next = le64(page + i), prev = le64(page + i + 8);
            if (next < lo || next >= hi || prev < lo || prev >= hi)
                continue;
            if (!ksym_spend(w, 2 * 8 + 2 * MODULE_NAME_READ))
                return 0;
            uint64_t head = img->pa + off + i + voff, back1, back2;
            if (lx_u64(xa, next + 8, &back1) == 0 && back1 == head &&
                lx_u64(xa, prev, &back2) == 0 && back2 == head &&
                module_at(xa, lx, next - lst) && module_at(xa, lx, prev - lst))
                return head;
        }
    }
    return 0;
}

int linux_arm64_find_data(struct xa_instance *xa, struct linux_os *lx)
{
    struct image img = {.pa = lx->phys_base, .size = lx->image_size, .text_va = lx->text_start};
    uint64_t voff = img.text_va - img.pa;
    struct ksym_work w = meter(xa, lx);
    uint8_t *page = malloc(XA_PAGE_SIZE);
    if (!page)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    const char *names[2];
    uint64_t addrs[2];
    size_t n = 0;
    uint64_t a = find_init_task(xa, lx, &img, voff, page, &w);
    if (a)
        names[n] = "init_task", addrs[n++] = a;
    if ((a = find_modules(xa, lx, &img, voff, page, &w)) != 0)
        names[n] = "modules", addrs[n++] = a;
    free(page);
    xa__clear_error(xa); /* the scans' failed reads are not errors */
    if (w.exhausted)
        return gave_up(xa, lx, &w, "init_task and modules");
    lx->discovery_work = w.spent;
    int rc = n ? symtab_extend(&lx->syms, names, addrs, n) : 0;
    if (rc < 0)
        return xa__set_error(xa, rc, "out of memory indexing kernel symbols");
    return 0;
}
