/*
 * check32_ops.h -- the operation tables rootkits patch (proc_root_operations,
 * tcp4_seq_ops, tty_fops, ...) of a 32-bit x86 kernel whose kallsyms lists
 * no data symbols, found by their shape: a struct in the image's data whose
 * slots point at the text handlers the kernel's source puts there.
 *
 * Pure code: guest memory is read through the c32_mem callback, so the unit
 * test and the fuzz target run it over synthetic memory. One bounded pass
 * over the data; every table gets one place or a one-line refusal
 * (docs/limits.md, "32-bit rootkit checks without data symbols").
 */
#ifndef XA_OS_LINUX_CHECK32_OPS_H
#define XA_OS_LINUX_CHECK32_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/linux/check32_tables.h"

#define C32_OPS_MAX_ANCHORS 12u  /* handlers named per table */
#define C32_OPS_MAX_SLOTS 64u    /* 4-byte slots of the largest table (file_operations: 34) */
#define C32_OPS_MAX_TABLES 16u
#define C32_OPS_MAX_TESTS 262144u /* places judged in full over all tables */
#define C32_OPS_MAX_FOUND 4u     /* places kept per table (more than one refuses) */

/* One table's shape: @slots pointer-sized slots, and the handler expected
 * in each anchored slot (0: that handler's symbol is unknown). */
struct c32_ops_shape {
    const char *name;
    uint32_t slots;
    uint32_t nr_anchors;
    uint32_t anchor_slot[C32_OPS_MAX_ANCHORS];
    uint64_t anchor[C32_OPS_MAX_ANCHORS];
};

struct c32_ops_found {
    int rc;            /* 0, or a negative XA_E* with @why */
    uint32_t nr_places; /* 1, or the places a group of sibling tables shares */
    uint64_t at[C32_OPS_MAX_FOUND]; /* the table's place(s), when rc is 0 */
    uint32_t anchored[C32_OPS_MAX_FOUND]; /* anchored slots holding their handler there */
    uint32_t group;    /* with several places: bit i set for each table i sharing them */
    char why[200];
};

/* Search the 4-byte aligned places of [lo, hi) (at most C32_MAX_SPAN) for
 * each of the @n shapes. A place is a table's when at least half of its
 * anchors (and at least one) hold their handler and every other anchored
 * slot holds a kernel pointer outside the text [text_lo, text_hi) (a hook:
 * another table of the same family points at its own handler there).
 * A table with one place gives it to no other; k sibling tables left with
 * the same k places (tcp4_seq_ops and tcp6_seq_ops, both hooked in show)
 * share them (out[i].group): each place is one of them, which is unknown.
 * Else out[i].rc says none or several. Negative when the search itself
 * gives up (too many places to judge), with @why. */
int c32_find_ops(const struct c32_mem *m, uint64_t lo, uint64_t hi, uint64_t text_lo,
                 uint64_t text_hi, const struct c32_ops_shape *shapes, size_t n,
                 struct c32_ops_found *out, char *why, size_t cap);

/* check32_ops_run.c: the ops check of a 32-bit kernel without data
 * symbols (check_tables.c hands it over). */
struct check_ctx;
int check_ops32(struct check_ctx *c);

#endif /* XA_OS_LINUX_CHECK32_OPS_H */
