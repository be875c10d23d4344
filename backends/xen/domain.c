/*
 * domain.c -- which domain "xen:SPEC" names, whether it is still there, and
 * where a translated (HVM/PVH) domain has RAM.
 *
 * Names live in xenstore (/local/domain/<id>/name, written by the
 * toolstack); ids are the hypervisor's. A spec of digits is an id, anything
 * else a name. Names and ids read from xenstore are bounded like guest data.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "backends/xen/xen.h"

#define XEN_MAX_DOMAINS 4096
#define XEN_TYPE_BATCH 1024 /* frames per XEN_DOMCTL_getpageframeinfo3 */

bool xen_parse_domid(const char *s, uint32_t *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 5)
        return false;
    unsigned long v = strtoul(s, NULL, 10);
    if (v >= DOMID_FIRST_RESERVED)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "name(id) name(id) ..." of the domains xenstore knows, for messages. */
static void list_domains(struct xs_handle *xs, char *out, size_t len)
{
    out[0] = '\0';
    unsigned n = 0;
    char **ids = xs_directory(xs, XBT_NULL, "/local/domain", &n);
    size_t used = 0;
    for (unsigned i = 0; ids && i < n && i < XEN_MAX_DOMAINS && used + 1 < len; i++) {
        char path[64];
        unsigned nlen = 0;
        snprintf(path, sizeof(path), "/local/domain/%.16s/name", ids[i]);
        char *name = xs_read(xs, XBT_NULL, path, &nlen);
        int w = snprintf(out + used, len - used, "%s%.64s(%.16s)", used ? " " : "",
                         name ? name : "?", ids[i]);
        free(name);
        if (w < 0)
            break;
        used += (size_t)w < len - used ? (size_t)w : len - used - 1;
    }
    free(ids);
}

/* Whether the hypervisor still runs domain @id, not one being destroyed
 * (xenstore may keep a dying domain's name for a while). */
static bool domid_live(struct xen_backend *xb, uint32_t id)
{
    xc_dominfo_t info;
    return xc_domain_getinfo(xb->xch, id, 1, &info) == 1 && info.domid == id && !info.dying;
}

#define XEN_MAX_SAME_NAME 8 /* ids listed in the message when a name is ambiguous */

/* The one domain that xenstore names @name and the hypervisor does not
 * list as dying: a domain destroyed and made again under its name (as a
 * toolstack retry does) can leave the old one's entry behind for a while.
 * More than one live domain of that name is refused: which one is meant
 * cannot be told. */
static int find_by_name(struct xen_backend *xb, const char *name)
{
    struct xs_handle *xs = xs_open(XS_OPEN_READONLY);
    if (!xs)
        return xa__set_error(xb->base.xa, XA_EIO,
                             "xen:%s: cannot open xenstore to look up the name (%s); "
                             "give the domain id instead",
                             name, strerror(errno));
    unsigned n = 0, named = 0, live = 0;
    uint32_t live_ids[XEN_MAX_SAME_NAME], dying_id = 0;
    char **ids = xs_directory(xs, XBT_NULL, "/local/domain", &n);
    for (unsigned i = 0; ids && i < n && i < XEN_MAX_DOMAINS; i++) {
        uint32_t id;
        if (!xen_parse_domid(ids[i], &id))
            continue;
        char path[64];
        unsigned len = 0;
        snprintf(path, sizeof(path), "/local/domain/%u/name", id);
        char *v = xs_read(xs, XBT_NULL, path, &len);
        if (v && len == strlen(name) && memcmp(v, name, len) == 0) {
            named++;
            if (!domid_live(xb, id))
                dying_id = id;
            else if (live++ < XEN_MAX_SAME_NAME)
                live_ids[live - 1] = id;
        }
        free(v);
    }
    free(ids);
    if (live == 0) {
        char known[400];
        list_domains(xs, known, sizeof(known));
        xs_close(xs);
        if (named)
            return xa__set_error(xb->base.xa, XA_EGONE,
                                 "xen:%s: domain %u is being destroyed, and no other domain has "
                                 "that name (domains: %s)", name, dying_id, known);
        return xa__set_error(xb->base.xa, XA_ENOENT, "xen:%s: no such domain (domains: %s)",
                             name, known[0] ? known : "none listed in xenstore");
    }
    xs_close(xs);
    if (live > 1) {
        char list[XEN_MAX_SAME_NAME * 8] = "";
        size_t used = 0;
        for (unsigned i = 0; i < live && i < XEN_MAX_SAME_NAME; i++)
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%u", i ? ", " : "",
                                     live_ids[i]);
        return xa__set_error(xb->base.xa, XA_EINVAL,
                             "xen:%s: %u running domains have this name (ids %s%s): give the id",
                             name, live, list, live > XEN_MAX_SAME_NAME ? ", ..." : "");
    }
    xb->domid = live_ids[0];
    return 0;
}

int xen_find_domain(struct xen_backend *xb, const char *spec)
{
    snprintf(xb->name, sizeof(xb->name), "%s", spec);
    if (xen_parse_domid(spec, &xb->domid))
        return 0;
    return find_by_name(xb, spec);
}

bool xen_domain_alive(struct xen_backend *xb)
{
    xc_dominfo_t info;
    return xc_domain_getinfo(xb->xch, xb->domid, 1, &info) == 1 && info.domid == xb->domid &&
           !info.dying;
}

int xen_ranges_from(struct xen_backend *xb, uint64_t nr,
                    bool (*is_ram)(struct xen_backend *, uint64_t, void *), void *ctx)
{
    struct xa_mem_range *r = NULL;
    size_t n = 0, cap = 0;
    uint64_t run_start = 0;
    bool in_run = false;
    for (uint64_t f = 0; f <= nr; f++) {
        bool ram = f < nr && is_ram(xb, f, ctx);
        if (ram && !in_run) {
            run_start = f;
            in_run = true;
        } else if (!ram && in_run) {
            if (n == cap) {
                if (cap >= XEN_MAX_RANGES) {
                    free(r);
                    return xa__set_error(xb->base.xa, XA_ELIMIT,
                                         "domain %s: guest RAM in more than %d pieces",
                                         xb->name, XEN_MAX_RANGES);
                }
                size_t ncap = cap ? cap * 2 : 16;
                struct xa_mem_range *nr2 = realloc(r, ncap * sizeof(*r));
                if (!nr2) {
                    free(r);
                    return xa__set_error(xb->base.xa, XA_ENOMEM, "out of memory");
                }
                r = nr2;
                cap = ncap;
            }
            r[n].start = run_start << XA_PAGE_SHIFT;
            r[n].size = (f - run_start) << XA_PAGE_SHIFT;
            n++;
            in_run = false;
        }
    }
    if (n == 0) {
        free(r);
        return xa__set_error(xb->base.xa, XA_EBADDATA, "domain %s has no guest RAM", xb->name);
    }
    free(xb->base.ranges);
    xb->base.ranges = r;
    xb->base.nr_ranges = n;
    return 0;
}

/* Page types of all gfns, XEN_TYPE_BATCH at a time; XTAB = not populated. */
struct gfn_types {
    xen_pfn_t batch[XEN_TYPE_BATCH];
    uint64_t first; /* gfn of batch[0] */
    bool valid;
};

static bool gfn_is_ram(struct xen_backend *xb, uint64_t gfn, void *ctx)
{
    struct gfn_types *t = ctx;
    if (!t->valid || gfn < t->first || gfn >= t->first + XEN_TYPE_BATCH) {
        t->first = gfn - gfn % XEN_TYPE_BATCH;
        for (unsigned i = 0; i < XEN_TYPE_BATCH; i++)
            t->batch[i] = t->first + i;
        t->valid = xc_get_pfn_type_batch(xb->xch, xb->domid, XEN_TYPE_BATCH, t->batch) == 0;
        if (!t->valid)
            return false;
    }
    uint32_t type = (uint32_t)t->batch[gfn - t->first] & XEN_DOMCTL_PFINFO_LTAB_MASK;
    return type != XEN_DOMCTL_PFINFO_XTAB && type != XEN_DOMCTL_PFINFO_BROKEN &&
           type != XEN_DOMCTL_PFINFO_XALLOC;
}

/*
 * A translated domain's RAM: the hypervisor's p2m knows which gfns are
 * populated, and XEN_DOMCTL_getpageframeinfo3 reports unpopulated ones as
 * XTAB, 1024 gfns per call, without mapping anything. This follows the
 * guest's real layout (the toolstack's e820: RAM below the MMIO hole, above
 * 4 GiB, the special pages near 0xfeff0000) with no knowledge of it; the
 * hypervisor offers no call to read a domain's e820 back.
 */
int xen_hvm_ranges(struct xen_backend *xb)
{
    xen_pfn_t max_gpfn = 0;
    if (xc_domain_maximum_gpfn(xb->xch, xb->domid, &max_gpfn) < 0)
        return xa__set_error(xb->base.xa, XA_EIO, "domain %s: cannot read its highest gfn: %s",
                             xb->name, strerror(errno));
    if ((uint64_t)max_gpfn >= XEN_MAX_PFNS)
        return xa__set_error(xb->base.xa, XA_ELIMIT,
                             "domain %s: highest gfn 0x%" PRIx64 " is beyond the limit",
                             xb->name, (uint64_t)max_gpfn);
    struct gfn_types *t = calloc(1, sizeof(*t));
    if (!t)
        return xa__set_error(xb->base.xa, XA_ENOMEM, "out of memory");
    int rc = xen_ranges_from(xb, (uint64_t)max_gpfn + 1, gfn_is_ram, t);
    free(t);
    return rc;
}
