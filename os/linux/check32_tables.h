/*
 * check32_tables.h -- the i386 system call table and IDT of a 32-bit x86
 * kernel whose kallsyms lists no data symbols (Debian's 686 kernels: no
 * sys_call_table or idt_table address), found by their shape.
 *
 * Pure code: guest memory is read and text addresses are named through
 * callbacks, so the unit test and the fuzz target run it over synthetic
 * memory. Every search is bounded and gives one answer or refuses in one
 * line (docs/limits.md, "32-bit rootkit checks without data symbols").
 */
#ifndef XA_OS_LINUX_CHECK32_TABLES_H
#define XA_OS_LINUX_CHECK32_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define C32_MAX_SYSCALLS 1024u /* entries a table may have (6.1 i386: 451) */
#define C32_MIN_SYSCALLS 256u  /* i386 has had more since 2.6.2x */
#define C32_SYS_ANCHORS 8u     /* restart_syscall, exit, fork, read, write, open, close, waitpid */
#define C32_SYS_ANCHORS_MIN 5u /* of them in place (a rootkit may hook a few) */
#define C32_SYS_GAP 16u        /* entries in a row that are no handler before the table ends */
#define C32_MAX_CANDIDATES 16u /* distinct candidate tables kept */
#define C32_MAX_SHAPE_TESTS 1024u /* places whose first entries fit, judged in full */
#define C32_IDT_ENTRIES 256u
#define C32_GATE_SIZE 8u
#define C32_IDT_BYTES (C32_IDT_ENTRIES * C32_GATE_SIZE)
#define C32_IDT_ANCHORS_MIN 16u /* gates of vectors 0..19 and 0x80 pointing at their handler */
#define C32_PAGE 4096u
#define C32_MAX_SPAN (64u << 20) /* bytes of kernel image searched */

/* i386 gate types (SDM 6.11) */
#define C32_GATE_TASK 0x5u
#define C32_GATE_INTR 0xeu
#define C32_GATE_TRAP 0xfu

struct c32_mem {
    /* Read @len bytes of kernel virtual memory at @va: 0 or a negative XA_E*. */
    int (*read)(void *ctx, uint64_t va, void *buf, size_t len);
    /* Is @va the start of a system call handler (__ia32_sys_*, sys_ni_syscall)? */
    bool (*is_handler)(void *ctx, uint64_t va);
    void *ctx;
    uint64_t page_offset;        /* kernel pointers lie in [page_offset, 2^32) */
    uint64_t image_lo, image_hi; /* the kernel image: [_text, __init_begin) */
};

/* One i386 gate: offset 15..0 at 0, selector at 2, flags at 4..5 (P at
 * bit 15, type at bits 8..12), offset 31..16 at 6. */
struct c32_gate {
    uint32_t handler;
    uint16_t selector;
    uint8_t type;
    bool present;
};

void c32_gate_decode(const uint8_t *g, struct c32_gate *out);

/* Search [lo, hi) (at most C32_MAX_SPAN) for the one system call table:
 * 4-byte aligned, at least C32_SYS_ANCHORS_MIN of its first eight entries
 * the handlers @anchors names (0: unknown), at least C32_MIN_SYSCALLS
 * entries and nine in ten of them handlers. Its length is through the
 * last handler (gaps of at most C32_SYS_GAP), plus up to C32_SYS_GAP
 * entries after it that point into kernel space outside the image (a
 * hooked last entry). 0 with *table and *n, or a negative XA_E* with one
 * line in @why: no table, or several. */
int c32_find_syscalls(const struct c32_mem *m, uint64_t lo, uint64_t hi,
                      const uint64_t anchors[C32_SYS_ANCHORS], uint64_t *table, uint32_t *n,
                      char *why, size_t cap);

/* Search the page-aligned places of [lo, hi) (at most C32_MAX_SPAN) for
 * the one IDT (idt_table is page-aligned): 256 gates of which at least
 * C32_IDT_ANCHORS_MIN present interrupt or trap gates point at the
 * handler @anchors names for their vector (0: no anchor). 0 with *idt, or
 * a negative XA_E* with one line in @why. */
int c32_find_idt(const struct c32_mem *m, uint64_t lo, uint64_t hi,
                 const uint64_t anchors[C32_IDT_ENTRIES], uint64_t *idt, char *why, size_t cap);

/* check32_tables_run.c: the syscalls and idt checks of a 32-bit kernel
 * (check_tables.c hands them over). */
struct check_ctx;
int check_syscalls32(struct check_ctx *c);
int check_idt32(struct check_ctx *c);

#endif /* XA_OS_LINUX_CHECK32_TABLES_H */
