/*
 * check32_hooks.c -- find a 32-bit kernel's ftrace_list_end and
 * ftrace_ops_list by their shape (check32_hooks.h says how).
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/check32_hooks.h"
#include "xa_errors.h"

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static bool is_kptr(const struct c32_mem *m, uint64_t v)
{
    return m->page_offset && v >= m->page_offset && v < 0x100000000ull;
}

static bool is_list_end(const struct c32_mem *m, uint64_t at, uint64_t stub)
{
    uint8_t o[C32_FT_HEAD];
    if (m->read(m->ctx, at, o, sizeof(o)) < 0)
        return false;
    return le32(o + C32_FT_FUNC) == stub && le32(o + C32_FT_NEXT) == 0 &&
           (le32(o + C32_FT_FLAGS) & C32_FT_FL_STUB) &&
           le32(o + C32_FT_WAIT_LIST) == at + C32_FT_WAIT_LIST &&
           le32(o + C32_FT_WAIT_LIST + 4) == at + C32_FT_WAIT_LIST &&
           le32(o + C32_FT_FUNC_HASH) == at + C32_FT_LOCAL_HASH;
}

/* The ftrace_ops on the chain from @first to @end, or -1 when it is no
 * such chain: a node not a kernel pointer, unreadable (the kernel reads
 * every node of its chain on each traced call; stray pointers near the
 * list end often lead to unmapped memory), or whose func is not a kernel
 * pointer; a loop; more than C32_FT_MAX_OPS nodes (long kernel lists pass
 * near it). @reads counts the budget. */
static int64_t chain_len(const struct c32_mem *m, uint64_t first, uint64_t end, unsigned *reads)
{
    uint64_t node = first, prev = 0;
    for (uint32_t n = 0; n <= C32_FT_MAX_OPS; n++) {
        if (node == end)
            return n;
        uint8_t o[8];
        if (!is_kptr(m, node) || node % 4 || node == prev || (n && node == first) ||
            ++*reads > C32_FT_MAX_READS || m->read(m->ctx, node, o, sizeof(o)) < 0 ||
            !is_kptr(m, le32(o + C32_FT_FUNC)))
            return -1;
        prev = node;
        node = le32(o + C32_FT_NEXT);
    }
    return -1;
}

/* Is @node on the chain from @first within @len steps (or the end)? */
static bool on_chain(const struct c32_mem *m, uint64_t first, uint64_t end, uint32_t len,
                     uint64_t node)
{
    uint64_t at = first;
    for (uint32_t n = 0; n <= len; n++) {
        if (at == node)
            return true;
        uint32_t next;
        if (at == end || m->read(m->ctx, at + C32_FT_NEXT, &next, 4) < 0)
            return false;
        at = next;
    }
    return false;
}

static int find_list_end(const struct c32_mem *m, uint64_t lo, uint64_t hi, uint64_t stub,
                         uint64_t *end, char *why, size_t cap)
{
    uint64_t found[2] = {0};
    unsigned n = 0;
    uint8_t page[C32_PAGE];
    for (uint64_t pg = lo & ~(uint64_t)(C32_PAGE - 1); pg < hi; pg += C32_PAGE) {
        if (m->read(m->ctx, pg, page, C32_PAGE) < 0)
            continue;
        for (uint32_t off = 0; off < C32_PAGE; off += 4)
            if (le32(page + off) == stub && pg + off >= lo && pg + off < hi &&
                is_list_end(m, pg + off, stub)) {
                if (n < 2)
                    found[n] = pg + off;
                n++;
            }
    }
    if (n == 1) {
        *end = found[0];
        return 0;
    }
    if (n == 0)
        snprintf(why, cap, "no ftrace_list_end found in 0x%llx..0x%llx (an ftrace_ops calling "
                 "ftrace_stub, next NULL, its hash and lock pointing at itself)",
                 (unsigned long long)lo, (unsigned long long)hi);
    else
        snprintf(why, cap, "%u places have the shape of ftrace_list_end (0x%llx, 0x%llx%s): "
                 "which one ends the kernel's chain is unknown", n,
                 (unsigned long long)found[0], (unsigned long long)found[1], n > 2 ? ", ..." : "");
    return n ? XA_EBADDATA : XA_ENOTSUP;
}

int c32_find_ftrace(const struct c32_mem *m, uint64_t lo, uint64_t hi, uint64_t stub,
                    struct c32_ftrace *out, char *why, size_t cap)
{
    lo = (lo + 3) & ~3ull;
    if (hi > 0x100000000ull)
        hi = 0x100000000ull;
    if (hi > lo && hi - lo > C32_MAX_SPAN)
        hi = lo + C32_MAX_SPAN;
    if (!stub || hi <= lo) {
        snprintf(why, cap, "no ftrace_stub symbol or no kernel data to search");
        return XA_ENOTSUP;
    }
    uint64_t end;
    int rc = find_list_end(m, lo, hi, stub, &end, why, cap);
    if (rc < 0)
        return rc;
    /* the pointers near it that lead to it: the longest chain is the list */
    uint64_t wlo = end - C32_FT_WINDOW > m->page_offset ? end - C32_FT_WINDOW : m->page_offset;
    uint64_t whi = end + C32_FT_WINDOW < 0x100000000ull ? end + C32_FT_WINDOW : 0x100000000ull;
    uint64_t heads[C32_FT_MAX_HEADS], firsts[C32_FT_MAX_HEADS];
    uint32_t lens[C32_FT_MAX_HEADS];
    unsigned nr = 0, reads = 0;
    size_t best = 0;
    for (uint64_t va = wlo; va < whi; va += 4) {
        uint32_t w;
        if (m->read(m->ctx, va, &w, 4) < 0 || !is_kptr(m, w))
            continue;
        if (va >= end && va < end + C32_FT_HEAD)
            continue; /* the list end's own fields */
        int64_t len = chain_len(m, w, end, &reads);
        if (reads > C32_FT_MAX_READS) {
            snprintf(why, cap, "more than %u reads following pointers near ftrace_list_end",
                     C32_FT_MAX_READS);
            return XA_EBADDATA;
        }
        if (len < 0)
            continue;
        if (nr == C32_FT_MAX_HEADS) {
            snprintf(why, cap, "more than %u pointers near ftrace_list_end lead to it",
                     C32_FT_MAX_HEADS);
            return XA_EBADDATA;
        }
        heads[nr] = va;
        firsts[nr] = w;
        lens[nr] = (uint32_t)len;
        if (nr == 0 || len > lens[best])
            best = nr;
        nr++;
    }
    if (nr == 0) {
        snprintf(why, cap, "no pointer within 0x%x bytes of ftrace_list_end (0x%llx) leads to "
                 "it: ftrace_ops_list not found", C32_FT_WINDOW, (unsigned long long)end);
        return XA_ENOTSUP;
    }
    for (unsigned i = 0; i < nr; i++)
        if (!on_chain(m, firsts[best], end, lens[best], firsts[i])) {
            snprintf(why, cap, "pointers at 0x%llx and 0x%llx lead to ftrace_list_end by "
                     "different chains: which is ftrace_ops_list is unknown",
                     (unsigned long long)heads[best], (unsigned long long)heads[i]);
            return XA_EBADDATA;
        }
    /* equally long chains are then the same chain: the first pointer */
    out->list_end = end;
    out->head = heads[best];
    out->nr_ops = lens[best];
    return 0;
}
