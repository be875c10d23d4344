/*
 * sysmap.c -- kernel symbols from a user-given System.map, placed in memory.
 *
 * A System.map holds link-time addresses; with KASLR the kernel runs at a
 * random virtual slide and a random physical address, independently. We
 * find both from memory alone:
 *
 *  1. Scan guest-physical memory for the "Linux version " banner. Each hit
 *     is a candidate physical address of linux_banner.
 *  2. The kernel image is physically contiguous, so init_top_pgt (the
 *     kernel's top page table) lies at hit + (init_top_pgt - linux_banner),
 *     both from the map.
 *  3. Use that as the page-table root (4-level, then 5-level) and look for
 *     the 2 MiB-aligned virtual slide (the kernel text is mapped with 2 MiB
 *     granularity, CONFIG_PHYSICAL_ALIGN) that maps linux_banner onto the
 *     hit. The slide is accepted only if init_top_pgt's own virtual address
 *     also translates to the table's physical address: a copy of the banner
 *     in the printk buffer fails this test.
 *
 * phys_base then follows from the kernel-map rule pa = va - 0xffffffff80000000
 * + phys_base, and page_offset from the page_offset_base variable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/linux.h"
#include "os/linux/lxpriv.h"

#define SYSMAP_LINE_MAX 512
#define SYSMAP_NAME_MAX 255
#define KERNEL_MAP_BASE 0xffffffff80000000ULL /* __START_KERNEL_map */
#define KERNEL_MAP_SIZE (1ULL << 30)          /* KERNEL_IMAGE_SIZE with KASLR */
#define KERNEL_ALIGN (2ULL << 20)             /* CONFIG_PHYSICAL_ALIGN, 2 MiB pages */
#define BANNER "Linux version "
#define BANNER_LEN (sizeof(BANNER) - 1)
#define SCAN_CHUNK (1u << 20)
/* Banner copies we try before giving up (printk buffer, page cache...). */
#define MAX_BANNER_HITS 64

struct map_entry {
    uint64_t addr;
    size_t name; /* offset into map.names */
    char type;
};

/* The file as read, before the slide is known. */
struct map {
    struct map_entry *e;
    size_t n, cap;
    char *names;
    size_t names_len, names_cap;
};

static const char *entry_name(const struct map *m, const struct map_entry *e)
{
    return m->names + e->name;
}

static const struct map_entry *map_find(const struct map *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(entry_name(m, &m->e[i]), name) == 0)
            return &m->e[i];
    return NULL;
}

static int map_add(struct map *m, uint64_t addr, char type, const char *name, size_t len)
{
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 4096;
        struct map_entry *ne = realloc(m->e, ncap * sizeof(*ne));
        if (!ne)
            return XA_ENOMEM;
        m->e = ne;
        m->cap = ncap;
    }
    if (m->names_len + len + 1 > m->names_cap) {
        size_t ncap = m->names_cap ? m->names_cap * 2 : 65536;
        while (ncap < m->names_len + len + 1)
            ncap *= 2;
        char *nn = realloc(m->names, ncap);
        if (!nn)
            return XA_ENOMEM;
        m->names = nn;
        m->names_cap = ncap;
    }
    memcpy(m->names + m->names_len, name, len);
    m->names[m->names_len + len] = '\0';
    m->e[m->n++] = (struct map_entry){.addr = addr, .name = m->names_len, .type = type};
    m->names_len += len + 1;
    return 0;
}

/* One parsed line. */
struct map_line {
    uint64_t addr;
    char type;
    const char *name; /* points into the line */
    size_t len;
};

/* One line: "ffffffff81000000 T _text" (an optional trailing "[module]" is
 * ignored). 1 = entry, 0 = blank, negative = malformed. */
static int parse_line(const char *line, struct map_line *out)
{
    const char *p = line;
    uint64_t addr = 0;
    int digits = 0;
    for (; *p && *p != ' ' && *p != '\t'; p++, digits++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else if (*p == '\n' || *p == '\r')
            break;
        else
            return -1;
        if (digits >= 16)
            return -1;
        addr = addr << 4 | (uint64_t)v;
    }
    if (digits == 0)
        return (*p == '\0' || *p == '\n' || *p == '\r') ? 0 : -1;
    while (*p == ' ' || *p == '\t')
        p++;
    char type = *p;
    if (!((type >= 'a' && type <= 'z') || (type >= 'A' && type <= 'Z') || type == '?'))
        return -1;
    p++;
    if (*p != ' ' && *p != '\t')
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t len = strcspn(p, " \t\r\n");
    if (len == 0 || len > SYSMAP_NAME_MAX)
        return -1;
    *out = (struct map_line){.addr = addr, .type = type, .name = p, .len = len};
    return 1;
}

static int read_map(struct xa_instance *xa, const char *path, struct map *m)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return xa__set_error(xa, errno == ENOENT ? XA_ENOENT : XA_EIO, "cannot open System.map %s: %s",
                             path, strerror(errno));
    char line[SYSMAP_LINE_MAX];
    unsigned long lineno = 0;
    int rc = 0;
    errno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n' && !feof(f)) {
            rc = xa__set_error(xa, XA_EFORMAT, "System.map %s: line %lu is too long", path, lineno);
            break;
        }
        struct map_line e;
        int r = parse_line(line, &e);
        if (r < 0) {
            rc = xa__set_error(xa, XA_EFORMAT, "System.map %s: line %lu is not 'ADDRESS TYPE NAME'",
                               path, lineno);
            break;
        }
        if (r == 0)
            continue;
        if (m->n >= LINUX_SYMTAB_MAX) {
            rc = xa__set_error(xa, XA_ELIMIT, "System.map %s: more than %u symbols", path,
                               (unsigned)LINUX_SYMTAB_MAX);
            break;
        }
        if (map_add(m, e.addr, e.type, e.name, e.len) < 0) {
            rc = xa__set_error(xa, XA_ENOMEM, "out of memory reading %s", path);
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = xa__set_error(xa, XA_EIO, "error reading System.map %s: %s", path,
                           errno ? strerror(errno) : "read error"); /* EISDIR: a directory */
    fclose(f);
    if (rc == 0 && m->n == 0)
        rc = xa__set_error(xa, XA_EFORMAT, "System.map %s has no symbols", path);
    return rc;
}

/* What the placement search needs from the map. */
struct anchors {
    uint64_t banner;  /* link address of linux_banner */
    uint64_t top_pgt; /* link address of init_top_pgt */
};

/* Try one paging mode for a banner hit at @hit. 0 with *slide, or <0. */
static int try_mode(struct xa_instance *xa, const struct anchors *a, uint64_t hit,
                    enum xa_page_mode mode, uint64_t *slide)
{
    uint64_t pgt_pa = hit + (a->top_pgt - a->banner);
    if ((pgt_pa & (XA_PAGE_SIZE - 1)) || !xa__pa_valid(xa, pgt_pa, XA_PAGE_SIZE))
        return XA_ENOENT;
    struct x86_paging pg = {.mode = mode, .nxe = true};
    uint64_t in_page = a->banner & (KERNEL_ALIGN - 1);
    for (uint64_t base = KERNEL_MAP_BASE; base < KERNEL_MAP_BASE + KERNEL_MAP_SIZE;
         base += KERNEL_ALIGN) {
        uint64_t va = base + in_page, pa, pgt_check;
        if (xa__translate_mode(xa, &pg, pgt_pa, va, &pa) < 0 || pa != hit)
            continue;
        uint64_t s = va - a->banner;
        if (xa__translate_mode(xa, &pg, pgt_pa, a->top_pgt + s, &pgt_check) < 0 ||
            pgt_check != pgt_pa)
            continue;
        *slide = s;
        return 0;
    }
    return XA_ENOENT;
}

/* Copy the banner at @hit into lx->version / lx->release. */
static void take_banner(struct xa_instance *xa, struct linux_os *lx, uint64_t hit)
{
    char buf[sizeof(lx->version)];
    memset(buf, 0, sizeof(buf));
    size_t n = sizeof(buf) - 1;
    while (n > BANNER_LEN && xa__read_pa(xa, hit, buf, n) < 0)
        n /= 2; /* near the end of RAM */
    buf[n] = '\0';
    size_t len = strcspn(buf, "\n");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
            len = i;
            break;
        }
    buf[len] = '\0';
    snprintf(lx->version, sizeof(lx->version), "%s", buf);
    const char *rel = buf + BANNER_LEN;
    size_t rlen = strcspn(rel, " ");
    if (rlen >= sizeof(lx->release))
        rlen = sizeof(lx->release) - 1;
    memcpy(lx->release, rel, rlen);
    lx->release[rlen] = '\0';
}

/* Scan RAM for banner hits and try each; 0 when the kernel was placed. */
static int place_kernel(struct xa_instance *xa, struct linux_os *lx, const struct anchors *a)
{
    uint8_t *buf = malloc(SCAN_CHUNK + BANNER_LEN);
    if (!buf)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    unsigned hits = 0;
    size_t nr;
    const struct xa_mem_range *ranges = xa_mem_ranges(xa, &nr);
    for (size_t r = 0; r < nr && hits < MAX_BANNER_HITS; r++) {
        uint64_t start = ranges[r].start, end = start + ranges[r].size;
        for (uint64_t pa = start; pa < end && hits < MAX_BANNER_HITS; pa += SCAN_CHUNK) {
            uint64_t len = end - pa < SCAN_CHUNK + BANNER_LEN ? end - pa : SCAN_CHUNK + BANNER_LEN;
            if (xa__read_pa(xa, pa, buf, (size_t)len) < 0)
                continue;
            const uint8_t *p = buf, *stop = buf + len;
            while ((p = memmem(p, (size_t)(stop - p), BANNER, BANNER_LEN)) != NULL) {
                uint64_t hit = pa + (uint64_t)(p - buf);
                p++;
                if (hit >= pa + SCAN_CHUNK)
                    break; /* the overlap: found again in the next chunk */
                if (++hits > MAX_BANNER_HITS)
                    break;
                const enum xa_page_mode modes[] = {XA_PM_IA32E, XA_PM_LA57};
                for (int m = 0; m < 2; m++) {
                    uint64_t slide;
                    if (try_mode(xa, a, hit, modes[m], &slide) < 0)
                        continue;
                    lx->kaslr_slide = slide;
                    lx->mode = modes[m];
                    lx->kernel_dtb = hit + (a->top_pgt - a->banner);
                    lx->phys_base = hit - (a->banner + slide - KERNEL_MAP_BASE);
                    take_banner(xa, lx, hit);
                    free(buf);
                    return 0;
                }
            }
        }
    }
    free(buf);
    return xa__set_error(xa, XA_ENOOS,
                         "the System.map does not match this guest: no \"Linux version\" banner "
                         "in memory (%u candidates) is mapped by the map's init_top_pgt",
                         hits);
}

/* page_offset_base holds the direct-map base under KASLR (memory
 * randomisation); without it the base is the fixed one of the mode. */
static void find_page_offset(struct xa_instance *xa, struct linux_os *lx)
{
    uint64_t fixed = lx->mode == XA_PM_LA57 ? 0xff11000000000000ULL : 0xffff888000000000ULL;
    uint64_t sym, v;
    lx->page_offset = fixed;
    if (symtab_lookup(&lx->syms, "page_offset_base", &sym) == 0 && lx_u64(xa, sym, &v) == 0 &&
        lx_kernel_ptr(v) && (v & ((1ULL << 30) - 1)) == 0)
        lx->page_offset = v;
}

int linux_sysmap_load(struct xa_instance *xa, struct linux_os *lx, const char *path)
{
    struct map m = {0};
    int rc = read_map(xa, path, &m);
    if (rc < 0)
        goto out;

    const struct map_entry *banner = map_find(&m, "linux_banner");
    const struct map_entry *pgt = map_find(&m, "init_top_pgt");
    if (!pgt)
        pgt = map_find(&m, "init_level4_pgt"); /* before 4.13 */
    if (!banner || !pgt) {
        rc = xa__set_error(xa, XA_EFORMAT, "System.map %s lacks %s", path,
                           banner ? "init_top_pgt" : "linux_banner");
        goto out;
    }
    struct anchors a = {.banner = banner->addr, .top_pgt = pgt->addr};
    if (a.banner < KERNEL_MAP_BASE || a.top_pgt < KERNEL_MAP_BASE) {
        rc = xa__set_error(xa, XA_EFORMAT, "System.map %s is not an x86-64 kernel's", path);
        goto out;
    }
    rc = place_kernel(xa, lx, &a);
    if (rc < 0)
        goto out;

    /* Symbols in the kernel image move with the slide; per-cpu offsets and
     * absolute values below the kernel map do not. */
    for (size_t i = 0; i < m.n && rc == 0; i++) {
        uint64_t addr = m.e[i].addr;
        if (addr >= KERNEL_MAP_BASE)
            addr += lx->kaslr_slide;
        const char *name = entry_name(&m, &m.e[i]);
        rc = symtab_add(&lx->syms, name, strlen(name), addr, m.e[i].type);
    }
    if (rc < 0) {
        rc = xa__set_error(xa, rc, "building the symbol table from %s failed", path);
        goto out;
    }
    rc = symtab_freeze(&lx->syms);
    if (rc < 0) {
        rc = xa__set_error(xa, rc, "indexing the symbols of %s failed", path);
        goto out;
    }

    const struct map_entry *text = map_find(&m, "_text");
    lx->text_start = text ? text->addr + lx->kaslr_slide : 0;
    struct x86_paging pg = {.mode = lx->mode, .nxe = true};
    xa__set_kernel_paging(xa, &pg, lx->kernel_dtb);
    find_page_offset(xa, lx);
    snprintf(lx->symbols_from, sizeof(lx->symbols_from), "System.map %s", path);
out:
    free(m.e);
    free(m.names);
    return rc;
}
