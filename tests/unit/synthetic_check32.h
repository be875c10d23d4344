/*
 * synthetic_check32.h -- an i386 kernel image in a flat buffer for the
 * table searches of os/linux/check32_tables.c: text whose 256-byte-aligned
 * addresses are system call handlers, a 451-entry sys_call_table in the
 * read-only data and a page-aligned IDT in the bss, with one unmapped page.
 * Shared by tests/unit/test_check32.c and tests/fuzz/fuzz_check32.c.
 */
#ifndef XA_TEST_SYNTHETIC_CHECK32_H
#define XA_TEST_SYNTHETIC_CHECK32_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "os/linux/check32_tables.h"
#include "xa_errors.h"

#define S32_PAGE_OFFSET 0xC0000000u
#define S32_TEXT 0xC1000000u       /* _text: handlers at S32_TEXT + 0x100 * k */
#define S32_ETEXT 0xC1040000u
#define S32_TABLE 0xC1040300u      /* sys_call_table in .rodata */
#define S32_NR 451u
#define S32_HOLE 0xC1050000u       /* one page the reader cannot read */
#define S32_INIT 0xC1060000u       /* __init_begin: the end of the searched data */
#define S32_IDT 0xC1070000u        /* idt_table, page-aligned */
#define S32_SIZE 0x80000u          /* bytes of kernel memory from S32_TEXT */
#define S32_MODULE 0xF8000000u     /* a module's code (not in the buffer) */

struct s32_guest {
    uint8_t mem[S32_SIZE];
};

static inline void s32_put(struct s32_guest *g, uint32_t va, uint32_t v)
{
    memcpy(g->mem + (va - S32_TEXT), &v, 4);
}

static inline uint32_t s32_get(const struct s32_guest *g, uint32_t va)
{
    uint32_t v;
    memcpy(&v, g->mem + (va - S32_TEXT), 4);
    return v;
}

static inline uint32_t s32_handler(uint32_t nr)
{
    return S32_TEXT + 0x100u * (nr + 1);
}

/* The handler the IDT's vector @v points at (entry text). */
static inline uint32_t s32_vector_handler(unsigned v)
{
    return S32_TEXT + 0x30000u + 0x10u * v;
}

static inline void s32_put_gate(struct s32_guest *g, uint32_t idt, unsigned v, uint32_t handler,
                                uint16_t flags)
{
    uint8_t *p = g->mem + (idt - S32_TEXT) + 8u * v;
    uint16_t w[4] = {(uint16_t)handler, 0x60, flags, (uint16_t)(handler >> 16)};
    memcpy(p, w, 8);
}

/* A table at @va: handler nr for every entry nr (unused numbers would be
 * sys_ni_syscall's: any handler does). */
static inline void s32_put_table(struct s32_guest *g, uint32_t va)
{
    for (uint32_t nr = 0; nr < S32_NR; nr++)
        s32_put(g, va + 4 * nr, s32_handler(nr));
}

/* An IDT at @va: interrupt gates to their entry code, a task gate for
 * double faults, the user-callable int3, overflow and int 0x80. */
static inline void s32_put_idt(struct s32_guest *g, uint32_t va)
{
    for (unsigned v = 0; v < C32_IDT_ENTRIES; v++) {
        uint16_t flags = v == 3 || v == 4 || v == 0x80 ? 0xee00 : 0x8e00;
        s32_put_gate(g, va, v, v == 8 ? 0 : s32_vector_handler(v), v == 8 ? 0x8500 : flags);
    }
}

static inline void s32_build(struct s32_guest *g)
{
    memset(g->mem, 0, sizeof(g->mem));
    /* the data after the table: a string pointer into the image, then 0 */
    s32_put_table(g, S32_TABLE);
    s32_put(g, S32_TABLE + 4 * S32_NR, S32_ETEXT + 0x9000);
    s32_put_idt(g, S32_IDT);
}

static inline int s32_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    const struct s32_guest *g = ctx;
    if (va < S32_TEXT || va + len > (uint64_t)S32_TEXT + S32_SIZE || len > S32_SIZE)
        return XA_EFAULT;
    if (va < S32_HOLE + 0x1000u && va + len > S32_HOLE)
        return XA_EFAULT;
    memcpy(buf, g->mem + (va - S32_TEXT), len);
    return 0;
}

static inline bool s32_is_handler(void *ctx, uint64_t va)
{
    (void)ctx;
    return va >= S32_TEXT + 0x100u && va < S32_TEXT + 0x30000u &&
           va % 0x100u == 0;
}

static inline struct c32_mem s32_mem(struct s32_guest *g)
{
    return (struct c32_mem){.read = s32_read, .is_handler = s32_is_handler, .ctx = g,
                            .page_offset = S32_PAGE_OFFSET, .image_lo = S32_TEXT,
                            .image_hi = S32_INIT};
}

static inline void s32_sys_anchors(uint64_t a[C32_SYS_ANCHORS])
{
    for (unsigned k = 0; k < C32_SYS_ANCHORS; k++)
        a[k] = s32_handler(k);
}

static inline void s32_idt_anchors(uint64_t a[C32_IDT_ENTRIES])
{
    for (unsigned v = 0; v < C32_IDT_ENTRIES; v++)
        a[v] = (v < 20 && v != 8) || v == 0x80 ? s32_vector_handler(v) : 0;
}

#endif /* XA_TEST_SYNTHETIC_CHECK32_H */
