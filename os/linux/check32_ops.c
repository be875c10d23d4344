/*
 * check32_ops.c -- find a 32-bit kernel's operation tables by their shape.
 *
 * An operation table is a const struct in the image's read-only data whose
 * slots hold the handlers its source names (tcp4_seq_ops: tcp_seq_start,
 * tcp_seq_stop, tcp_seq_next, tcp4_seq_show). A rootkit hooks a slot or
 * two; it does not move the table. So a place is the table when most of
 * its anchored slots hold their handler and the others point outside the
 * kernel's text (hooks). A sibling table (tcp6_seq_ops) differs in a slot
 * that points at its own handler in the text, so it is not taken for a
 * hooked tcp4_seq_ops. Two places, or none, refuse.
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/check32_ops.h"
#include "xa_errors.h"

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

struct search {
    const struct c32_mem *m;
    uint64_t lo, hi, text_lo, text_hi;
    const struct c32_ops_shape *shapes;
    uint64_t found[C32_OPS_MAX_TABLES][C32_OPS_MAX_FOUND];
    uint32_t anchored[C32_OPS_MAX_TABLES][C32_OPS_MAX_FOUND];
    uint32_t nr_found[C32_OPS_MAX_TABLES];
    unsigned tests;
};

static bool in_text(const struct search *s, uint32_t v)
{
    return v >= s->text_lo && v < s->text_hi;
}

/* Judge the place @start for shape @i, reached through its anchor @k:
 * counted only through its first anchor holding its handler, so each
 * place is judged once. -1 when the search must give up. */
static int judge_place(struct search *s, size_t i, uint32_t k, uint64_t start)
{
    const struct c32_ops_shape *sh = &s->shapes[i];
    uint8_t slots[C32_OPS_MAX_SLOTS * 4];
    if (start < s->lo || start + 4ull * sh->slots > s->hi ||
        s->m->read(s->m->ctx, start, slots, 4ull * sh->slots) < 0)
        return 0;
    uint32_t known = 0, matched = 0, first = UINT32_MAX;
    bool others_hooked = true;
    for (uint32_t a = 0; a < sh->nr_anchors; a++) {
        if (!sh->anchor[a])
            continue;
        known++;
        uint32_t v = le32(slots + 4 * sh->anchor_slot[a]);
        if (v == sh->anchor[a]) {
            matched++;
            if (first == UINT32_MAX)
                first = a;
        } else if (v < s->m->page_offset || !s->m->page_offset || in_text(s, v)) {
            others_hooked = false; /* 0, or another handler: another table */
        }
    }
    if (first != k)
        return 0;
    if (++s->tests > C32_OPS_MAX_TESTS)
        return -1;
    if (!others_hooked || matched * 2 < known)
        return 0;
    if (s->nr_found[i] < C32_OPS_MAX_FOUND) {
        s->found[i][s->nr_found[i]] = start;
        s->anchored[i][s->nr_found[i]] = matched;
    }
    s->nr_found[i]++;
    return 0;
}

static void drop_place(struct search *s, size_t i, uint64_t at)
{
    for (uint32_t j = 0; j < s->nr_found[i]; j++)
        if (s->found[i][j] == at) {
            s->found[i][j] = s->found[i][s->nr_found[i] - 1];
            s->anchored[i][j] = s->anchored[i][s->nr_found[i] - 1];
            s->nr_found[i]--;
            return;
        }
}

/* Every table is at one place of its own, and (its hooks keeping most of
 * its shape) among its candidates: a table left with one place holds it,
 * so no other table is there. Repeated until nothing changes (at most
 * @n rounds). Tables with more candidates than kept are left alone. */
static void settle(struct search *s, size_t n)
{
    bool fixed[C32_OPS_MAX_TABLES] = {false};
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < n; i++) {
            if (fixed[i] || s->nr_found[i] != 1)
                continue;
            fixed[i] = changed = true;
            for (size_t o = 0; o < n; o++)
                if (o != i && s->nr_found[o] <= C32_OPS_MAX_FOUND)
                    drop_place(s, o, s->found[i][0]);
        }
    }
}

static bool has_place(const struct search *s, size_t i, uint64_t at)
{
    for (uint32_t j = 0; j < s->nr_found[i]; j++)
        if (s->found[i][j] == at)
            return true;
    return false;
}

/* The tables whose places are all among table @i's, as bits, when there
 * are as many of them as places (k tables in k places: each place is one
 * of them); else 0. */
static uint32_t group_of(const struct search *s, size_t n, size_t i)
{
    if (s->nr_found[i] > C32_OPS_MAX_FOUND)
        return 0;
    uint32_t group = 0, members = 0;
    for (size_t o = 0; o < n; o++) {
        if (s->nr_found[o] == 0 || s->nr_found[o] > s->nr_found[i])
            continue;
        bool inside = true;
        for (uint32_t j = 0; j < s->nr_found[o] && inside; j++)
            inside = has_place(s, i, s->found[o][j]);
        if (inside && s->shapes[o].slots != s->shapes[i].slots)
            return 0; /* judged with one struct's size: siblings only */
        if (inside) {
            group |= 1u << o;
            members++;
        }
    }
    return members == s->nr_found[i] ? group : 0;
}

static void list_places(char *buf, size_t cap, const uint64_t *at, uint32_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < n && i < C32_OPS_MAX_FOUND && len + 24 < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s0x%llx", i ? ", " : "",
                                (unsigned long long)at[i]);
    if (n > C32_OPS_MAX_FOUND && len + 8 < cap)
        snprintf(buf + len, cap - len, ", ...");
}

static bool shape_ok(const struct c32_ops_shape *sh)
{
    if (sh->slots == 0 || sh->slots > C32_OPS_MAX_SLOTS || sh->nr_anchors > C32_OPS_MAX_ANCHORS)
        return false;
    for (uint32_t a = 0; a < sh->nr_anchors; a++)
        if (sh->anchor_slot[a] >= sh->slots)
            return false;
    return true;
}

int c32_find_ops(const struct c32_mem *m, uint64_t lo, uint64_t hi, uint64_t text_lo,
                 uint64_t text_hi, const struct c32_ops_shape *shapes, size_t n,
                 struct c32_ops_found *out, char *why, size_t cap)
{
    if (n > C32_OPS_MAX_TABLES) {
        snprintf(why, cap, "more than %u operation tables asked for", C32_OPS_MAX_TABLES);
        return XA_EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if (!shape_ok(&shapes[i])) {
            snprintf(why, cap, "bad shape for %s", shapes[i].name);
            return XA_EINVAL;
        }
    lo = (lo + 3) & ~3ull;
    if (hi > 0x100000000ull)
        hi = 0x100000000ull;
    if (hi > lo && hi - lo > C32_MAX_SPAN)
        hi = lo + C32_MAX_SPAN;
    if (hi <= lo) {
        snprintf(why, cap, "no kernel data to search for the operation tables");
        return XA_ENOTSUP;
    }
    struct search s = {0};
    s.m = m;
    s.lo = lo;
    s.hi = hi;
    s.text_lo = text_lo;
    s.text_hi = text_hi;
    s.shapes = shapes;
    uint8_t page[C32_PAGE];
    for (uint64_t pg = lo & ~(uint64_t)(C32_PAGE - 1); pg < hi; pg += C32_PAGE) {
        if (m->read(m->ctx, pg, page, C32_PAGE) < 0)
            continue; /* a hole in the image */
        for (uint32_t off = 0; off < C32_PAGE; off += 4) {
            uint32_t w = le32(page + off);
            if (!in_text(&s, w) || pg + off < lo)
                continue;
            for (size_t i = 0; i < n; i++)
                for (uint32_t k = 0; k < shapes[i].nr_anchors; k++) {
                    if (shapes[i].anchor[k] != w ||
                        pg + off < 4ull * shapes[i].anchor_slot[k])
                        continue;
                    if (judge_place(&s, i, k, pg + off - 4ull * shapes[i].anchor_slot[k]) < 0) {
                        snprintf(why, cap, "more than %u places in the kernel's data start like "
                                           "an operation table", C32_OPS_MAX_TESTS);
                        return XA_EBADDATA;
                    }
                }
        }
    }
    settle(&s, n);
    for (size_t i = 0; i < n; i++) {
        struct c32_ops_found *f = &out[i];
        memset(f, 0, sizeof(*f));
        uint32_t group = s.nr_found[i] > 1 ? group_of(&s, n, i) : 0;
        if (s.nr_found[i] == 1 || group) {
            f->nr_places = s.nr_found[i];
            f->group = group;
            memcpy(f->at, s.found[i], sizeof(f->at));
            memcpy(f->anchored, s.anchored[i], sizeof(f->anchored));
            continue;
        }
        if (s.nr_found[i] == 0) {
            f->rc = XA_ENOTSUP;
            snprintf(f->why, sizeof(f->why), "no place in 0x%llx..0x%llx has the shape of %s "
                     "(most of its slots at their handlers)", (unsigned long long)lo,
                     (unsigned long long)hi, shapes[i].name);
            continue;
        }
        char places[128];
        list_places(places, sizeof(places), s.found[i], s.nr_found[i]);
        f->rc = XA_EBADDATA;
        snprintf(f->why, sizeof(f->why), "%u places have the shape of %s (%s): which one the "
                 "kernel uses is unknown", s.nr_found[i], shapes[i].name, places);
    }
    return 0;
}
