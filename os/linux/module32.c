/*
 * module32.c -- find a 32-bit kernel's module list and the struct module
 * fields xa_module reports, from the guest's memory alone.
 *
 *   1. headers: state (0..3), list (two aligned kernel pointers), name
 *      (printable, NUL-terminated, zero-padded: KBUILD_MODNAME in a static
 *      initializer), at a cacheline-aligned place in a module-area page;
 *   2. the head: from each header the ring is followed both ways, both
 *      links checked and every node a header, until a node in the kernel's
 *      data: the `modules` list_head. Two different heads refuse;
 *   3. core_layout: the one offset where, in every sampled module, a
 *      page-aligned base, a size, text_size <= ro_size <=
 *      ro_after_init_size <= size describe a region holding the struct;
 *   4. refcnt: the one offset after source_list, target_list (list_heads
 *      whose links hold), exit (NULL or in the module) where a count lies
 *      that is >= 1 in a live module and >= 2 when source_list has users.
 * A ring that breaks (bad link, loop) is used up to the break: the module
 * walk then stops at the same place with a partial result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/module32.h"
#include "os/linux/word32.h"
#include "os/linux/ptrset.h"
#include "xa_errors.h"

/* ---- reading ----------------------------------------------------------- */

static bool kptr(const struct m32_mem *m, uint64_t v)
{
    return w32_kptr(m->page_offset, v);
}

static int rd32(const struct m32_mem *m, uint64_t va, uint32_t *out)
{
    uint8_t b[4];
    int rc = m->read(m->ctx, va, b, 4);
    *out = rc == 0 ? w32_le32(b) : 0;
    return rc;
}

static bool in_head_range(const struct m32_mem *m, uint64_t v)
{
    return v >= m->head_lo && v < m->head_hi;
}

/* ---- headers ------------------------------------------------------------ */

bool m32_header_ok(const struct m32_mem *m, const uint8_t *hdr)
{
    if (w32_le32(hdr + M32_STATE) > M32_STATE_MAX || !kptr(m, w32_le32(hdr + M32_LIST)) ||
        !kptr(m, w32_le32(hdr + M32_LIST + 4)))
        return false;
    const uint8_t *name = hdr + M32_NAME;
    size_t len = 0;
    while (len < M32_NAME_LEN && name[len]) {
        if (name[len] <= 0x20 || name[len] >= 0x7f)
            return false;
        len++;
    }
    if (len == 0 || len == M32_NAME_LEN)
        return false;
    for (size_t i = len; i < M32_NAME_LEN; i++)
        if (name[i])
            return false;
    return true;
}

void m32_scan_page(const struct m32_mem *m, const uint8_t *page, uint32_t *offs, size_t max,
                   size_t *n)
{
    *n = 0;
    for (uint32_t off = 0; off + M32_HDR <= M32_PAGE && *n < max; off += M32_ALIGN)
        if (m32_header_ok(m, page + off))
            offs[(*n)++] = off;
}

/* ---- following the ring -------------------------------------------------- */

enum step { STEP_BROKEN, STEP_MODULE, STEP_HEAD };

/* One step from list node @node, forwards (next) or backwards (prev): the
 * neighbour must link back to @node and be a module header or, in the
 * kernel's data, the head. */
static enum step step(const struct m32_mem *m, uint64_t node, bool fwd, uint64_t *to)
{
    uint32_t nb, back;
    if (rd32(m, node + (fwd ? 0 : 4), &nb) < 0 || !kptr(m, nb) ||
        rd32(m, (uint64_t)nb + (fwd ? 4 : 0), &back) < 0 || back != node)
        return STEP_BROKEN;
    *to = nb;
    if (in_head_range(m, nb))
        return STEP_HEAD;
    uint8_t hdr[M32_HDR];
    if (nb < M32_LIST || m->read(m->ctx, nb - M32_LIST, hdr, sizeof(hdr)) < 0 ||
        !m32_header_ok(m, hdr))
        return STEP_BROKEN;
    return STEP_MODULE;
}

/* Follow from @node one way until a head, a break or a node an earlier walk
 * took. 1 with *head, 0 without, XA_ENOMEM. */
static int follow(const struct m32_mem *m, uint64_t node, bool fwd, struct lx_ptrset *seen,
                  uint64_t *budget, uint64_t *head)
{
    for (uint64_t cur = node; *budget; --*budget) {
        uint64_t to;
        enum step s = step(m, cur, fwd, &to);
        if (s == STEP_HEAD) {
            *head = to;
            return 1;
        }
        if (s == STEP_BROKEN)
            return 0;
        int rc = lx_ptrset_add(seen, to);
        if (rc <= 0)
            return rc; /* XA_ENOMEM, or joined an earlier walk */
        cur = to;
    }
    return 0;
}

int m32_find_head(const struct m32_mem *m, const uint64_t *mods, size_t n, uint64_t *head,
                  char *why, size_t cap)
{
    *head = 0;
    if (n == 0)
        return 0;
    struct lx_ptrset seen = {0};
    uint64_t budget = M32_MAX_STEPS;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t node = mods[i] + M32_LIST;
        if (lx_ptrset_has(&seen, node))
            continue;
        if ((rc = lx_ptrset_add(&seen, node)) < 0)
            break;
        rc = 0;
        for (int dir = 0; dir < 2 && rc == 0; dir++) {
            uint64_t h = 0;
            int f = follow(m, node, dir == 0, &seen, &budget, &h);
            if (f < 0) {
                rc = f;
            } else if (f == 1 && *head && h != *head) {
                snprintf(why, cap, "two module lists (heads 0x%llx and 0x%llx)",
                         (unsigned long long)*head, (unsigned long long)h);
                rc = XA_EBADDATA;
            } else if (f == 1) {
                *head = h;
                break; /* the other way leads to the same head or a break */
            }
        }
    }
    lx_ptrset_free(&seen);
    if (rc == XA_ENOMEM)
        snprintf(why, cap, "out of memory");
    if (rc == 0 && !*head) {
        snprintf(why, cap, "%zu module headers found, but no list from them reaches a head in "
                 "the kernel's data", n);
        rc = XA_EBADDATA;
    }
    return rc;
}

/* ---- the sample ------------------------------------------------------------ */

struct sample {
    size_t n;
    uint64_t mod[M32_SAMPLE];
    uint32_t len[M32_SAMPLE]; /* bytes of the struct readable */
    uint8_t mem[M32_SAMPLE][M32_SPAN];
};

static uint32_t W(const struct sample *s, size_t i, uint32_t off)
{
    return w32_le32(s->mem[i] + off);
}

/* M32_SPAN bytes of the struct, or as many as the pages that can be read. */
static void read_window(const struct m32_mem *m, uint64_t mod, uint8_t *buf, uint32_t *len)
{
    if (m->read(m->ctx, mod, buf, M32_SPAN) == 0) {
        *len = M32_SPAN;
        return;
    }
    uint32_t got = 0;
    while (got < M32_SPAN) {
        uint32_t chunk = M32_PAGE - (uint32_t)((mod + got) & (M32_PAGE - 1));
        if (chunk > M32_SPAN - got)
            chunk = M32_SPAN - got;
        if (m->read(m->ctx, mod + got, buf + got, chunk) < 0)
            break;
        got += chunk;
    }
    *len = got;
}

/* ---- the fields ------------------------------------------------------------ */

/* core_layout at @off: base page-aligned, holding the struct; the sizes in
 * order. */
static bool core_at(const struct m32_mem *m, const struct sample *s, uint32_t off)
{
    for (size_t i = 0; i < s->n; i++) {
        if (off + 20 > s->len[i])
            return false;
        uint32_t base = W(s, i, off), size = W(s, i, off + 4), text = W(s, i, off + 8),
                 ro = W(s, i, off + 12), ro_after = W(s, i, off + 16);
        if (!kptr(m, base) || (base & (M32_PAGE - 1)) || size > M32_SIZE_MAX || text > ro ||
            ro > ro_after || ro_after > size || s->mod[i] < base ||
            s->mod[i] + M32_HDR > (uint64_t)base + size)
            return false;
    }
    return true;
}

/* A list_head at @a whose words are @next, @prev: empty, or both
 * neighbours link back. *empty says which. */
static bool list_ok(const struct m32_mem *m, uint64_t a, uint32_t next, uint32_t prev,
                    bool *empty)
{
    *empty = next == a && prev == a;
    if (*empty)
        return true;
    uint32_t b1, b2;
    return kptr(m, next) && kptr(m, prev) && next != a && prev != a &&
           rd32(m, (uint64_t)next + 4, &b1) == 0 && b1 == a && rd32(m, prev, &b2) == 0 && b2 == a;
}

/* refcnt at @off: source_list, target_list, exit before it. */
static bool refcnt_at(const struct m32_mem *m, const struct sample *s, uint32_t off,
                      uint32_t core)
{
    if (off < M32_HDR + 20)
        return false;
    for (size_t i = 0; i < s->n; i++) { /* the words in the window first */
        if (off + 4 > s->len[i])
            return false;
        uint32_t ref = W(s, i, off), exitfn = W(s, i, off - 4);
        uint32_t base = W(s, i, core), size = W(s, i, core + 4);
        if (ref > INT32_MAX || (W(s, i, M32_STATE) == 0 && ref == 0) ||
            (exitfn && (exitfn < base || exitfn - base >= size)))
            return false;
    }
    for (size_t i = 0; i < s->n; i++) {
        bool src_empty, tgt_empty;
        uint64_t src = s->mod[i] + off - 20, tgt = s->mod[i] + off - 12;
        if (!list_ok(m, src, W(s, i, off - 20), W(s, i, off - 16), &src_empty) ||
            !list_ok(m, tgt, W(s, i, off - 12), W(s, i, off - 8), &tgt_empty) ||
            (!src_empty && W(s, i, off) < 2))
            return false;
    }
    return true;
}

/* The modules on the ring from @head, at most M32_MAX_MODULES. */
struct ring {
    uint64_t *mod;
    size_t n, cap;
    bool complete;
    char end[160];
};

static int walk_ring(const struct m32_mem *m, uint64_t head, struct ring *r)
{
    struct lx_ptrset seen = {0};
    int rc = 0;
    uint64_t cur = head;
    for (;;) {
        uint64_t to;
        enum step st = step(m, cur, true, &to);
        if (st == STEP_HEAD && to == head) {
            r->complete = true;
            break;
        }
        if (st != STEP_MODULE) {
            snprintf(r->end, sizeof(r->end), "module list broken after 0x%llx",
                     (unsigned long long)cur);
            break;
        }
        if ((rc = lx_ptrset_add(&seen, to)) <= 0) {
            if (rc == 0)
                snprintf(r->end, sizeof(r->end), "module list loops at 0x%llx",
                         (unsigned long long)to);
            break;
        }
        rc = 0;
        if (r->n >= M32_MAX_MODULES) {
            snprintf(r->end, sizeof(r->end), "module list longer than %u", M32_MAX_MODULES);
            break;
        }
        if (r->n == r->cap) {
            size_t ncap = r->cap ? 2 * r->cap : 64;
            uint64_t *nm = realloc(r->mod, ncap * sizeof(*nm));
            if (!nm) {
                rc = XA_ENOMEM;
                break;
            }
            r->mod = nm;
            r->cap = ncap;
        }
        r->mod[r->n++] = to - M32_LIST;
        cur = to;
    }
    lx_ptrset_free(&seen);
    return rc;
}

int m32_infer(const struct m32_mem *m, uint64_t head, struct m32_layout *out, char *why,
              size_t cap)
{
    memset(out, 0, sizeof(*out));
    out->head = head;
    out->core_base = out->core_size = out->refcnt = UINT32_MAX;
    if (!head)
        return 0;
    struct ring r = {0};
    int rc = walk_ring(m, head, &r);
    if (rc < 0) {
        free(r.mod);
        snprintf(why, cap, "out of memory");
        return rc;
    }
    out->ring_len = r.n;
    out->ring_complete = r.complete;
    snprintf(out->ring_end, sizeof(out->ring_end), "%s", r.end);
    if (r.n == 0) {
        free(r.mod);
        if (r.complete)
            return 0; /* an empty list: nothing to infer */
        snprintf(why, cap, "%s", r.end);
        return XA_EBADDATA;
    }
    struct sample *s = calloc(1, sizeof(*s));
    if (!s) {
        free(r.mod);
        snprintf(why, cap, "out of memory");
        return XA_ENOMEM;
    }
    for (size_t k = 0; k < M32_SAMPLE && k < r.n; k++) { /* spread over the ring */
        size_t idx = r.n <= M32_SAMPLE ? k : k * r.n / M32_SAMPLE;
        s->mod[s->n] = r.mod[idx];
        read_window(m, r.mod[idx], s->mem[s->n], &s->len[s->n]);
        s->n++;
    }
    free(r.mod);

    size_t ncore = 0, nref = 0;
    uint32_t core = 0, ref = UINT32_MAX;
    for (uint32_t off = M32_HDR; off + 20 <= M32_SPAN; off += 4)
        if (core_at(m, s, off) && ncore++ == 0)
            core = off;
    rc = XA_EBADDATA;
    if (ncore != 1) {
        snprintf(why, cap, "%s core_layout (a page-aligned base and sizes holding the module)",
                 ncore ? "more than one" : "no");
        goto out;
    }
    for (uint32_t off = M32_HDR + 20; off + 4 <= M32_SPAN; off += 4)
        if (refcnt_at(m, s, off, core) && nref++ == 0)
            ref = off;
    if (nref > 1) {
        snprintf(why, cap, "more than one refcnt (after source_list, target_list, exit)");
        goto out;
    }
    out->core_base = core;
    out->core_size = core + 4;
    out->refcnt = ref;
    rc = 0;
out:
    free(s);
    return rc;
}
