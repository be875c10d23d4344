/*
 * test_check32.c -- the i386 sys_call_table and IDT searches
 * (os/linux/check32_tables.c) over a synthetic kernel image
 * (synthetic_check32.h): the tables found exactly, hooked entries (the last
 * one too) kept in the table, and refusals where memory is ambiguous (two
 * tables) or the shape is gone (no table), never a wrong answer.
 */
#include <stdlib.h>

#include "check.h"
#include "synthetic_check32.h"

static struct s32_guest g;

static int find_syscalls(uint64_t *table, uint32_t *n, char *why, size_t cap)
{
    struct c32_mem m = s32_mem(&g);
    uint64_t anchors[C32_SYS_ANCHORS];
    s32_sys_anchors(anchors);
    return c32_find_syscalls(&m, S32_ETEXT, S32_INIT, anchors, table, n, why, cap);
}

static int find_idt(uint64_t *idt, char *why, size_t cap)
{
    struct c32_mem m = s32_mem(&g);
    static uint64_t anchors[C32_IDT_ENTRIES];
    s32_idt_anchors(anchors);
    return c32_find_idt(&m, S32_ETEXT, S32_TEXT + S32_SIZE, anchors, idt, why, cap);
}

static void test_gate_decode(void)
{
    const uint8_t raw[8] = {0x40, 0x9b, 0x60, 0x00, 0x00, 0xee, 0x91, 0xcd};
    struct c32_gate gate;
    c32_gate_decode(raw, &gate);
    CHECK_EQ(gate.handler, 0xcd919b40u);
    CHECK_EQ(gate.selector, 0x60u);
    CHECK_EQ(gate.type, C32_GATE_INTR);
    CHECK(gate.present);
}

static void test_clean(void)
{
    s32_build(&g);
    char why[256] = "";
    uint64_t table = 0, idt = 0;
    uint32_t n = 0;
    CHECK(find_syscalls(&table, &n, why, sizeof(why)) == 0, "%s", why);
    CHECK_EQ(table, S32_TABLE);
    CHECK_EQ(n, S32_NR); /* the string pointer after it is not an entry */
    CHECK(find_idt(&idt, why, sizeof(why)) == 0, "%s", why);
    CHECK_EQ(idt, S32_IDT);
}

/* A rootkit's hooks keep the tables' shape: entry 0 (an anchor), kill and
 * the last entry pointing into a module; the int3 and int 0x80 gates too. */
static void test_hooked(void)
{
    s32_build(&g);
    s32_put(&g, S32_TABLE, S32_MODULE + 0x10);
    s32_put(&g, S32_TABLE + 4 * 37, S32_MODULE + 0x20);
    s32_put(&g, S32_TABLE + 4 * (S32_NR - 1), S32_MODULE + 0x30);
    s32_put_gate(&g, S32_IDT, 3, S32_MODULE + 0x40, 0xee00);
    s32_put_gate(&g, S32_IDT, 0x80, S32_MODULE + 0x50, 0xee00);
    char why[256] = "";
    uint64_t table = 0, idt = 0;
    uint32_t n = 0;
    CHECK(find_syscalls(&table, &n, why, sizeof(why)) == 0, "%s", why);
    CHECK_EQ(table, S32_TABLE);
    CHECK_EQ(n, S32_NR); /* the hooked last entry is in the table */
    CHECK(find_idt(&idt, why, sizeof(why)) == 0, "%s", why);
    CHECK_EQ(idt, S32_IDT);
}

/* A copy of each table elsewhere (a guest planting a clean decoy): which
 * one the kernel uses is unknown, so both searches refuse. */
static void test_decoys_refused(void)
{
    s32_build(&g);
    s32_put_table(&g, S32_TABLE + 0x4000);
    s32_put_idt(&g, S32_IDT + 0x2000);
    char why[256] = "";
    uint64_t table = 0, idt = 0;
    uint32_t n = 0;
    CHECK(find_syscalls(&table, &n, why, sizeof(why)) == XA_EBADDATA, "%s", why);
    CHECK(strstr(why, "2 places have the shape of the i386 system call table (0xc1040300, "
                      "0xc1044300)"), "%s", why);
    CHECK(find_idt(&idt, why, sizeof(why)) == XA_EBADDATA, "%s", why);
    CHECK(strstr(why, "2 pages have the shape of the IDT (0xc1070000, 0xc1072000)"), "%s", why);
}

/* Broken shapes: too few anchors in place, too few handlers, a table cut
 * short, exception gates gone. Each search refuses; none answers. */
static void test_broken_refused(void)
{
    char why[256] = "";
    uint64_t table = 0, idt = 0;
    uint32_t n = 0;
    s32_build(&g); /* four of the first eight entries hooked: not enough anchors */
    for (unsigned k = 0; k < 4; k++)
        s32_put(&g, S32_TABLE + 4 * k, S32_MODULE);
    CHECK(find_syscalls(&table, &n, why, sizeof(why)) == XA_ENOTSUP, "%s", why);
    CHECK(strstr(why, "no i386 system call table found"), "%s", why);
    s32_build(&g); /* one entry in five not a handler */
    for (unsigned nr = 10; nr < S32_NR; nr += 5)
        s32_put(&g, S32_TABLE + 4 * nr, S32_ETEXT + 0x100);
    CHECK(find_syscalls(&table, &n, why, sizeof(why)) == XA_ENOTSUP, "%s", why);
    s32_build(&g); /* 200 entries, then other data */
    memset(g.mem + (S32_TABLE - S32_TEXT) + 4 * 200, 0, 4 * (S32_NR - 200));
    CHECK(find_syscalls(&table, &n, why, sizeof(why)) == XA_ENOTSUP, "%s", why);
    s32_build(&g); /* the IDT's exception gates cleared */
    memset(g.mem + (S32_IDT - S32_TEXT), 0, 8 * 20);
    CHECK(find_idt(&idt, why, sizeof(why)) == XA_ENOTSUP, "%s", why);
    CHECK(strstr(why, "no IDT found"), "%s", why);
    s32_build(&g); /* five exception gates hooked: 15 anchors left, one too few */
    for (unsigned v = 0; v < 5; v++)
        s32_put_gate(&g, S32_IDT, v, S32_MODULE, 0x8e00);
    CHECK(find_idt(&idt, why, sizeof(why)) == XA_ENOTSUP, "%s", why);
}

/* A table that runs into an unreadable page is cut there; the search goes
 * on past the hole. Kernels without the handlers' names refuse. */
static void test_holes_and_names(void)
{
    s32_build(&g);
    s32_put_table(&g, S32_HOLE - 4 * 100); /* a decoy the hole cuts to 100 entries */
    char why[256] = "";
    uint64_t table = 0;
    uint32_t n = 0;
    CHECK(find_syscalls(&table, &n, why, sizeof(why)) == 0, "%s", why);
    CHECK_EQ(table, S32_TABLE);
    struct c32_mem m = s32_mem(&g);
    uint64_t anchors[C32_SYS_ANCHORS] = {s32_handler(0), s32_handler(1)};
    CHECK(c32_find_syscalls(&m, S32_ETEXT, S32_INIT, anchors, &table, &n, why, sizeof(why)) == XA_ENOTSUP, "%s", why);
    CHECK(strstr(why, "name only 2 of the first 8"), "%s", why);
}

/* A guest full of places that start like the table: the search stops
 * judging them after C32_MAX_SHAPE_TESTS and refuses. */
static void test_many_starts_refused(void)
{
    s32_build(&g);
    for (uint32_t va = S32_ETEXT; va + 32 <= S32_HOLE; va += 32)
        for (unsigned k = 0; k < C32_SYS_ANCHORS; k++)
            s32_put(&g, va + 4 * k, s32_handler(k));
    char why[256] = "";
    uint64_t table = 0;
    uint32_t n = 0;
    CHECK(find_syscalls(&table, &n, why, sizeof(why)) == XA_EBADDATA, "%s", why);
    CHECK(strstr(why, "places"), "%s", why);
}

int main(void)
{
    test_gate_decode();
    test_clean();
    test_hooked();
    test_decoys_refused();
    test_broken_refused();
    test_holes_and_names();
    test_many_starts_refused();
    CHECK_DONE();
}
