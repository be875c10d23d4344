/*
 * check32_tables.c -- find an i386 kernel's system call table and IDT by
 * their shape, when kallsyms has no data symbols to name them.
 *
 *   system calls: ia32_sys_call_table is a const array in .rodata whose
 *     entries are the __ia32_sys_* wrappers (sys_ni_syscall's for unused
 *     numbers) in i386 ABI order: 0 restart_syscall, 1 exit, 2 fork, 3 read,
 *     4 write, 5 open, 6 close, 7 waitpid. A place where most of the first
 *     eight are those handlers and nine in ten entries are handlers is a
 *     table; two tables refuse.
 *   IDT: idt_table is 256 eight-byte gates, page-aligned (bss). A page whose
 *     gates for the exceptions and int 0x80 point at asm_exc_* and
 *     entry_INT80_32 is the IDT; two refuse.
 * A rootkit changes a few entries (it hooks them); it does not change the
 * shape, so a hooked table is still found and its hooks are judged.
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/check32_tables.h"
#include "xa_errors.h"

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint16_t le16(const uint8_t *b)
{
    return (uint16_t)(b[0] | b[1] << 8);
}

void c32_gate_decode(const uint8_t *g, struct c32_gate *out)
{
    uint16_t bits = le16(g + 4);
    out->handler = (uint32_t)le16(g) | (uint32_t)le16(g + 6) << 16;
    out->selector = le16(g + 2);
    out->type = (bits >> 8) & 0x1f;
    out->present = (bits & 0x8000) != 0;
}

static bool clamp_span(uint64_t *lo, uint64_t *hi)
{
    if (*hi > 0x100000000ull)
        *hi = 0x100000000ull;
    if (*hi <= *lo)
        return false;
    if (*hi - *lo > C32_MAX_SPAN)
        *hi = *lo + C32_MAX_SPAN;
    return true;
}

/* ---- system call table --------------------------------------------------- */

static bool is_kptr(const struct c32_mem *m, uint32_t v)
{
    return m->page_offset && v >= m->page_offset;
}

static bool in_image(const struct c32_mem *m, uint32_t v)
{
    return v >= m->image_lo && v < m->image_hi;
}

/* The table at @start if it has the shape: its length in *n. Places
 * whose first entries fit count in *tests; past C32_MAX_SHAPE_TESTS of
 * them the answer is true with *n 0 (a guest filled with fakes). */
static bool syscall_shape(const struct c32_mem *m, uint64_t start,
                          const uint64_t anchors[C32_SYS_ANCHORS], unsigned *tests, uint32_t *n)
{
    uint8_t buf[C32_MAX_SYSCALLS * 4];
    unsigned anchored = 0;
    if (m->read(m->ctx, start, buf, 4 * C32_SYS_ANCHORS) < 0)
        return false;
    for (unsigned k = 0; k < C32_SYS_ANCHORS; k++)
        anchored += anchors[k] && le32(buf + 4 * k) == anchors[k];
    if (anchored < C32_SYS_ANCHORS_MIN)
        return false;
    if ((*tests)++ >= C32_MAX_SHAPE_TESTS)
        return true; /* the caller refuses: too many places to judge */
    uint32_t got = 0; /* entries read */
    while (got < C32_MAX_SYSCALLS) {
        /* read up to the next page boundary: the page after may be unmapped */
        uint64_t va = start + 4ull * got;
        uint32_t room = (uint32_t)((C32_PAGE - (va & (C32_PAGE - 1))) / 4);
        if (room > C32_MAX_SYSCALLS - got)
            room = C32_MAX_SYSCALLS - got;
        if (va + 4ull * room > 0x100000000ull || m->read(m->ctx, va, buf + 4 * got, 4 * room) < 0)
            break;
        got += room;
    }
    if (got < C32_MIN_SYSCALLS)
        return false;
    int64_t last = -1;
    uint32_t handlers = 0;
    for (uint32_t i = 0; i < got && (int64_t)i - last <= C32_SYS_GAP; i++)
        if (m->is_handler(m->ctx, le32(buf + 4 * i))) {
            last = i;
            handlers++;
        }
    uint32_t len = (uint32_t)(last + 1);
    /* a hooked last entry: a kernel pointer outside the image (a module) */
    while (len < got && len - last <= C32_SYS_GAP) {
        uint32_t v = le32(buf + 4 * len);
        if (!is_kptr(m, v) || in_image(m, v))
            break;
        len++;
    }
    if (len < C32_MIN_SYSCALLS || (uint64_t)handlers * 10 < (uint64_t)len * 9)
        return false;
    *n = len;
    return true;
}

static void list_places(char *buf, size_t cap, const uint64_t *at, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < 4 && len + 24 < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s0x%llx", i ? ", " : "",
                                (unsigned long long)at[i]);
    if (n > 4 && len + 8 < cap)
        snprintf(buf + len, cap - len, ", ...");
}

int c32_find_syscalls(const struct c32_mem *m, uint64_t lo, uint64_t hi,
                      const uint64_t anchors[C32_SYS_ANCHORS], uint64_t *table, uint32_t *n,
                      char *why, size_t cap)
{
    unsigned known = 0;
    for (unsigned k = 0; k < C32_SYS_ANCHORS; k++)
        known += anchors[k] != 0;
    if (known < C32_SYS_ANCHORS_MIN) {
        snprintf(why, cap, "the kernel's symbols name only %u of the first %u i386 system call "
                           "handlers", known, C32_SYS_ANCHORS);
        return XA_ENOTSUP;
    }
    lo = (lo + 3) & ~3ull;
    if (!clamp_span(&lo, &hi)) {
        snprintf(why, cap, "no kernel data to search for the system call table");
        return XA_ENOTSUP;
    }
    uint64_t found[C32_MAX_CANDIDATES], tried[C32_SYS_ANCHORS] = {0};
    uint32_t found_n[C32_MAX_CANDIDATES];
    size_t nr_found = 0;
    unsigned next_tried = 0, tests = 0;
    uint8_t page[C32_PAGE];
    for (uint64_t pg = lo & ~(uint64_t)(C32_PAGE - 1); pg < hi; pg += C32_PAGE) {
        if (m->read(m->ctx, pg, page, C32_PAGE) < 0)
            continue; /* a hole in the image */
        for (uint32_t off = 0; off < C32_PAGE; off += 4) {
            uint32_t w = le32(page + off);
            for (unsigned k = 0; k < C32_SYS_ANCHORS; k++) {
                if (!anchors[k] || w != anchors[k] || pg + off < lo + 4ull * k ||
                    pg + off >= hi)
                    continue;
                uint64_t start = pg + off - 4ull * k;
                bool seen = false;
                for (unsigned t = 0; t < C32_SYS_ANCHORS; t++)
                    seen |= tried[t] == start;
                if (seen)
                    continue;
                tried[next_tried++ % C32_SYS_ANCHORS] = start;
                uint32_t len = 0;
                if (!syscall_shape(m, start, anchors, &tests, &len))
                    continue;
                if (len == 0) {
                    snprintf(why, cap, "more than %u places start like the i386 system call "
                                       "table", C32_MAX_SHAPE_TESTS);
                    return XA_EBADDATA;
                }
                if (nr_found == C32_MAX_CANDIDATES) {
                    snprintf(why, cap, "more than %u places have the shape of the i386 system "
                                       "call table", C32_MAX_CANDIDATES);
                    return XA_EBADDATA;
                }
                found[nr_found] = start;
                found_n[nr_found++] = len;
            }
        }
    }
    if (nr_found == 0) {
        snprintf(why, cap, "no i386 system call table found in the kernel's data (0x%llx..0x%llx "
                           "searched for an array of __ia32_sys_* handlers)",
                 (unsigned long long)lo, (unsigned long long)hi);
        return XA_ENOTSUP;
    }
    if (nr_found > 1) {
        char places[128];
        list_places(places, sizeof(places), found, nr_found);
        snprintf(why, cap, "%zu places have the shape of the i386 system call table (%s): "
                           "which one the kernel uses is unknown", nr_found, places);
        return XA_EBADDATA;
    }
    *table = found[0];
    *n = found_n[0];
    return 0;
}

/* ---- IDT ------------------------------------------------------------------ */

static unsigned idt_anchored(const uint8_t *gates, const uint64_t anchors[C32_IDT_ENTRIES])
{
    unsigned hits = 0;
    for (unsigned v = 0; v < C32_IDT_ENTRIES; v++) {
        if (!anchors[v])
            continue;
        struct c32_gate g;
        c32_gate_decode(gates + v * C32_GATE_SIZE, &g);
        hits += g.present && (g.type == C32_GATE_INTR || g.type == C32_GATE_TRAP) &&
                g.handler == anchors[v];
    }
    return hits;
}

int c32_find_idt(const struct c32_mem *m, uint64_t lo, uint64_t hi,
                 const uint64_t anchors[C32_IDT_ENTRIES], uint64_t *idt, char *why, size_t cap)
{
    unsigned known = 0;
    for (unsigned v = 0; v < C32_IDT_ENTRIES; v++)
        known += anchors[v] != 0;
    if (known < C32_IDT_ANCHORS_MIN) {
        snprintf(why, cap, "the kernel's symbols name only %u exception handlers (asm_exc_*, "
                           "entry_INT80_32): the IDT cannot be told by its shape", known);
        return XA_ENOTSUP;
    }
    lo = (lo + C32_PAGE - 1) & ~(uint64_t)(C32_PAGE - 1);
    if (!clamp_span(&lo, &hi)) {
        snprintf(why, cap, "no kernel data to search for the IDT");
        return XA_ENOTSUP;
    }
    uint64_t found[C32_MAX_CANDIDATES];
    size_t nr_found = 0;
    uint8_t gates[C32_IDT_BYTES];
    for (uint64_t pg = lo; pg + C32_IDT_BYTES <= hi; pg += C32_PAGE) {
        struct c32_gate g0;
        if (m->read(m->ctx, pg, gates, C32_GATE_SIZE) < 0)
            continue;
        c32_gate_decode(gates, &g0);
        if (!g0.present || (g0.type != C32_GATE_INTR && g0.type != C32_GATE_TRAP))
            continue; /* the divide-error gate is always an interrupt gate */
        if (m->read(m->ctx, pg, gates, C32_IDT_BYTES) < 0 ||
            idt_anchored(gates, anchors) < C32_IDT_ANCHORS_MIN)
            continue;
        if (nr_found == C32_MAX_CANDIDATES) {
            snprintf(why, cap, "more than %u pages have the shape of the IDT", C32_MAX_CANDIDATES);
            return XA_EBADDATA;
        }
        found[nr_found++] = pg;
    }
    if (nr_found == 0) {
        snprintf(why, cap, "no IDT found in the kernel's data (page-aligned places of "
                           "0x%llx..0x%llx searched for gates to asm_exc_* handlers)",
                 (unsigned long long)lo, (unsigned long long)hi);
        return XA_ENOTSUP;
    }
    if (nr_found > 1) {
        char places[128];
        list_places(places, sizeof(places), found, nr_found);
        snprintf(why, cap, "%zu pages have the shape of the IDT (%s): which one is idt_table is "
                           "unknown", nr_found, places);
        return XA_EBADDATA;
    }
    *idt = found[0];
    return 0;
}
