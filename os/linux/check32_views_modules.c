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
#include "os/linux/word32.h"
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
    if (w32_le32(hdr + M32_STATE) >= STATE_UNFORMED)
        return false;
    for (int i = 0; i < 2; i++) {
        uint32_t v = w32_le32(hdr + M32_LIST + 4 * i);
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
    (void)linux_modules32_find(xa, linux_priv(xa)); /* once: core_layout (a hook's owner) */
    xa__clear_error(xa);
    if (lx->off.module_core_base == LX_NO_OFFSET)
        return xa__set_error(xa, XA_ENOTSUP,
                             "module carve: struct module's core_layout was not inferred (no "
                             "module on the list to learn it from)");
    struct carve32 k = {.c = c, .core = lx->off.module_core_base, .fn = fn, .arg = arg,
                        .m = {.read = read_kva, .ctx = xa, .page_offset = lx->page_offset}};
    return linux_modules32_pages(xa, carve_page, &k);
}

/* ---- /sys/module: the module kset ------------------------------------- */

#define MKOBJ_SPAN 512u /* bytes after the header searched for mkobj.mod */
#define KOBJ_KSET 12u   /* kobject.kset after kobject.entry: entry, parent, kset */
#define MAX_KOBJECTS 65536u

#define MKOBJ_CANDIDATES 8u

/* Does the kset ring from @kset fit (@entry_off, @mod_off): every kobject's
 * mod word NULL (built in) or the module whose kobject it is, all @n listed
 * modules among them, both links checked? */
static bool kset_fits(struct check_ctx *c, const uint64_t *mods, size_t n, uint64_t kset,
                      uint64_t entry_off, uint64_t mod_off)
{
    struct lx_list_walk w;
    lx_list_init(&w, kset, MAX_KOBJECTS, "module kset");
    uint64_t node, mod;
    size_t listed = 0;
    int rc;
    while ((rc = lx_list_next(c->xa, &w, &node)) == 1) {
        if (lx_ptr(c->xa, node - entry_off + mod_off, &mod) < 0 ||
            (mod && mod + entry_off != node))
            break;
        for (size_t i = 0; mod && i < n; i++)
            listed += mods[i] == mod;
    }
    lx_list_free(&w);
    xa__clear_error(c->xa);
    return rc == 0 && listed == n;
}

/* Where struct module keeps mkobj: @entry_off, the one list_head whose
 * links hold in every listed module and whose kobject names one kset (the
 * kset's list starts it: *kset), and @mod_off after it, the nearest word
 * naming the module itself in every listed module (module_kobject.mod) for
 * which the kset's whole ring fits. */
static int find_mkobj(struct check_ctx *c, const uint64_t *mods, size_t n, uint64_t *mod_off,
                      uint64_t *entry_off, uint64_t *kset)
{
    uint64_t selves[MKOBJ_CANDIDATES], entries[MKOBJ_CANDIDATES], ksets[MKOBJ_CANDIDATES];
    unsigned nself = 0, nentry = 0, nfound = 0;
    for (uint64_t off = M32_HDR; off < M32_HDR + MKOBJ_SPAN && nself < MKOBJ_CANDIDATES;
         off += 4) {
        size_t i;
        uint64_t v;
        for (i = 0; i < n; i++)
            if (lx_ptr(c->xa, mods[i] + off, &v) < 0 || v != mods[i])
                break;
        if (i == n)
            selves[nself++] = off;
    }
    for (uint64_t off = M32_HDR; off < M32_HDR + MKOBJ_SPAN && nentry < MKOBJ_CANDIDATES;
         off += 4) {
        uint64_t first = 0;
        size_t i;
        for (i = 0; i < n; i++) {
            uint64_t node = mods[i] + off, next, prev, back, fwd, ks;
            if (lx_ptr(c->xa, node, &next) < 0 || lx_ptr(c->xa, node + 4, &prev) < 0 ||
                !lx_kptr(c->xa, next) || !lx_kptr(c->xa, prev) ||
                lx_ptr(c->xa, next + 4, &back) < 0 || back != node ||
                lx_ptr(c->xa, prev, &fwd) < 0 || fwd != node ||
                lx_ptr(c->xa, node + KOBJ_KSET, &ks) < 0 || !lx_kptr(c->xa, ks) ||
                (i && ks != first))
                break;
            first = ks;
        }
        if (i == n) {
            ksets[nentry] = first;
            entries[nentry++] = off;
        }
    }
    /* module_kobject.mod is the first self pointer after the kobject (none
     * of whose fields names the module): the nearest one that fits */
    for (unsigned e = 0; e < nentry; e++)
        for (unsigned x = 0; x < nself; x++) {
            if (selves[x] <= entries[e] + KOBJ_KSET ||
                !kset_fits(c, mods, n, ksets[e], entries[e], selves[x]))
                continue;
            if (nfound++ == 0) {
                *entry_off = entries[e];
                *mod_off = selves[x];
                *kset = ksets[e];
            }
            break;
        }
    xa__clear_error(c->xa);
    if (nfound != 1)
        return xa__set_error(c->xa, XA_EBADDATA,
                             "struct module.mkobj: %u kobject entries fit a kset's ring (of %u "
                             "list_heads and %u self pointers in all %zu listed modules)",
                             nfound, nentry, nself, n);
    return 0;
}

int check32_kset_foreach(struct check_ctx *c,
                         int (*fn)(struct check_ctx *c, uint64_t module, void *arg), void *arg)
{
    uint64_t mods[M32_SAMPLE];
    size_t n = 0;
    struct xa_module_iter *it;
    int rc = linux_module_iter_new(c->xa, &it);
    if (rc < 0)
        return rc;
    struct xa_module m;
    while (n < M32_SAMPLE && (rc = linux_module_iter_next(it, &m)) == 1)
        mods[n++] = m.module;
    linux_module_iter_free(it);
    if (rc < 0)
        return rc;
    /* a layout not found soundly leaves the view out, said in a note */
    if (n < 2)
        return check_note(c, "/sys/module (the module kset) not compared: %zu listed modules, "
                             "too few to find struct module.mkobj from", n);
    uint64_t mod_off = 0, entry_off = 0, kset = 0;
    if (find_mkobj(c, mods, n, &mod_off, &entry_off, &kset) < 0) {
        rc = check_note(c, "/sys/module (the module kset) not compared: %s",
                        xa_errmsg(c->xa));
        xa__clear_error(c->xa);
        return rc;
    }
    /* kset.list is the kset's first member: the ring's head */
    struct lx_list_walk w;
    lx_list_init(&w, kset, MAX_KOBJECTS, "module kset");
    uint64_t node;
    while ((rc = lx_list_next(c->xa, &w, &node)) == 1) {
        uint64_t mod;
        if (lx_ptr(c->xa, node - entry_off + mod_off, &mod) < 0) {
            rc = xa__set_error(c->xa, XA_EFAULT, "module kobject at 0x%llx unreadable",
                               (unsigned long long)node);
            break;
        }
        if (!mod)
            continue; /* built in: parameters only */
        if (!lx_kptr(c->xa, mod) || mod + entry_off != node) {
            rc = xa__set_error(c->xa, XA_EBADDATA,
                               "module kobject at 0x%llx names module 0x%llx, which is not its "
                               "owner", (unsigned long long)node, (unsigned long long)mod);
            break;
        }
        if ((rc = fn(c, mod, arg)) != 0)
            break;
    }
    lx_list_free(&w);
    return rc;
}
