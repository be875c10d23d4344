/*
 * check32_views_modules.c -- the module carve on a 32-bit kernel: every
 * page modscan32.c scans for the module list (present 4 KiB pages above
 * the direct map, where x86-32 loads modules) is searched again for struct
 * module, this time also for one taken off the list: list_del() poisons
 * its links (LIST_POISON1/2, 0x100 and 0x122 on 32-bit). A header must
 * pass module32.c's test (state, name) and its core_layout (offsets that
 * module32.c inferred from the listed modules) must be a page-aligned
 * region with ordered sizes holding the struct, as in every listed module.
 */
#include <string.h>

#include "os/linux/check.h"
#include "os/linux/check32_views.h"
#include "os/linux/module32.h"

#define LIST_POISON1_32 0x100u
#define LIST_POISON2_32 0x122u
#define STATE_UNFORMED 3u

struct carve32 {
    struct check_ctx *c;
    struct m32_mem m;
    uint64_t core; /* struct module.core_layout */
    int (*fn)(struct check_ctx *c, uint64_t module, void *arg);
    void *arg;
};

static int read_kva(void *ctx, uint64_t va, void *buf, size_t len)
{
    return lx_read(ctx, va, buf, len);
}

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

/* module32.c's header test, with poisoned links read as any kernel pointer. */
static bool header_ok(const struct carve32 *k, const uint8_t *raw)
{
    uint8_t hdr[M32_HDR];
    memcpy(hdr, raw, sizeof(hdr));
    if (le32(hdr + M32_STATE) >= STATE_UNFORMED)
        return false;
    for (int i = 0; i < 2; i++) {
        uint32_t v = le32(hdr + M32_LIST + 4 * i);
        if (v == (i == 0 ? LIST_POISON1_32 : LIST_POISON2_32))
            put32(hdr + M32_LIST + 4 * i, (uint32_t)k->m.page_offset);
    }
    return m32_header_ok(&k->m, hdr);
}

/* core_layout: base, size, text_size, ro_size, ro_after_init_size. */
static bool core_ok(const struct carve32 *k, uint64_t mod)
{
    uint32_t w[5];
    if (lx_read(k->c->xa, mod + k->core, w, sizeof(w)) < 0)
        return false;
    uint64_t base = w[0], size = w[1];
    return lx_kptr(k->c->xa, base) && !(base & (M32_PAGE - 1)) && size <= M32_SIZE_MAX &&
           w[2] <= w[3] && w[3] <= w[4] && w[4] <= size && mod >= base &&
           mod + M32_HDR <= base + size;
}

static int carve_page(void *ctx, uint64_t va, const uint8_t *page)
{
    struct carve32 *k = ctx;
    for (uint32_t at = 0; at < M32_PAGE; at += M32_ALIGN) {
        uint8_t hdr[M32_HDR];
        if (page[at] >= STATE_UNFORMED)
            continue; /* the state's low byte: most places end here */
        if (at + M32_HDR <= M32_PAGE)
            memcpy(hdr, page + at, M32_HDR);
        else if (lx_read(k->c->xa, va + at, hdr, M32_HDR) < 0)
            continue;
        if (!header_ok(k, hdr) || !core_ok(k, va + at))
            continue;
        int rc = k->fn(k->c, va + at, k->arg);
        if (rc)
            return rc;
    }
    return 0;
}

int check32_carve_foreach(struct check_ctx *c,
                          int (*fn)(struct check_ctx *c, uint64_t module, void *arg), void *arg)
{
    struct xa_instance *xa = c->xa;
    const struct linux_os *lx = linux_os(xa);
    if (xa__memory_is_virtual(xa) || !lx->kernel_dtb)
        return xa__set_error(xa, XA_ENOTSUP,
                             "module carve: needs the kernel's page tables (not a triage dump)");
    if (lx->off.module_core_base == LX_NO_OFFSET)
        return xa__set_error(xa, XA_ENOTSUP,
                             "module carve: struct module's core_layout was not inferred (no "
                             "module on the list to learn it from)");
    struct carve32 k = {.c = c, .core = lx->off.module_core_base, .fn = fn, .arg = arg,
                        .m = {.read = read_kva, .ctx = xa, .page_offset = lx->page_offset}};
    return linux_modules32_pages(xa, carve_page, &k);
}
