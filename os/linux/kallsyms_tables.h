/*
 * kallsyms_tables.h -- locate and decode the kernel's kallsyms tables inside
 * a buffer of guest memory. Pure code (no xa_instance) so that it can be
 * tested on synthetic tables.
 *
 * Tables written by scripts/kallsyms.c into .rodata, each 8-byte aligned:
 *   up to 6.3:  offsets, relative_base, num_syms, names, markers,
 *               [seqs_of_names], token_table, token_index
 *   6.4 on:     num_syms, names, markers, token_table, token_index,
 *               offsets, relative_base, [seqs_of_names]
 * (seqs_of_names, 3 bytes per symbol, came in 6.2 and was backported to some
 * 6.1 stable kernels, e.g. Debian's.) The token_index/token_table pair is the
 * anchor; everything else is found relative to it and cross-checked.
 *
 * 32-bit kernels align each table to 4 bytes (ALGN is .balign 4 where
 * BITS_PER_LONG is 32) and relative_base is 4 bytes; the layout's ptr_size
 * says which kind was found.
 *
 * All buffer offsets are relative to a buffer whose start is 8-byte aligned
 * in guest memory, so that offset alignment equals address alignment.
 */
#ifndef XA_OS_LINUX_KALLSYMS_TABLES_H
#define XA_OS_LINUX_KALLSYMS_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/linux/symtab.h"

#define KSYM_TOKEN_INDEX_SIZE 512 /* 256 u16 */
#define KSYM_TOKEN_MAX 256        /* longest token accepted */
#define KSYM_NAME_MAX 512         /* KSYM_NAME_LEN in 6.1+ */

/*
 * Work meter of one kernel discovery (see kallsyms.c and docs/limits.md):
 * one unit per byte of guest memory scanned, copied or examined. Every loop
 * over guest data spends as it goes and stops once @spent passes @limit.
 */
struct ksym_work {
    uint64_t spent, limit;
    bool exhausted; /* a request was refused, or spending passed the limit */
};

/* Record @units of work just done; false once the limit is passed (the
 * caller gives up). A NULL meter is unlimited (unit tests on small buffers). */
static inline bool ksym_spend(struct ksym_work *w, uint64_t units)
{
    if (!w)
        return true;
    w->spent += units;
    if (w->spent > w->limit)
        w->exhausted = true;
    return !w->exhausted;
}

/* Before work of @units (a copy): false, and nothing spent, if it would
 * pass the limit. */
static inline bool ksym_reserve(struct ksym_work *w, uint64_t units)
{
    if (!w)
        return true;
    if (w->exhausted || units > w->limit - w->spent)
        return !(w->exhausted = true);
    w->spent += units;
    return true;
}

struct ksym_layout {
    struct ksym_work *work; /* may be NULL; ksym_find_tables() spends on it */
    /* Optional (NULL: every word is tried): the words that can be num_syms,
     * from ksym_num_syms_positions() on the same buffer. */
    const uint64_t *syms_pos;
    size_t nr_syms_pos;
    size_t token_table, token_index; /* buffer offsets */
    size_t num_syms_at, names, names_size, markers;
    size_t offsets, relative_base_at;
    uint32_t num_syms;
    uint64_t relative_base;
    bool new_order;       /* 6.4+ order: offsets after token_index */
    bool has_seqs;        /* kallsyms_seqs_of_names between markers and tokens */
    bool absolute_percpu; /* CONFIG_KALLSYMS_ABSOLUTE_PERCPU address rule */
    unsigned ptr_size;    /* the guest's pointer size, 8 or 4 (set by ksym_find_tables) */
};

/*
 * Cheap check that @p (with @avail bytes readable) looks like a
 * kallsyms_token_index: 256 strictly increasing u16 starting at 0 with small
 * steps. Needs avail >= 512 for a full check; returns false otherwise.
 */
bool ksym_looks_like_token_index(const uint8_t *p, size_t avail);

/*
 * The token table that @token_index (buffer offset) indexes: it must end
 * just before the index, hold 256 NUL-terminated printable tokens and start
 * aligned as a 64-bit (8 bytes) or a 32-bit (4 bytes) kernel aligns it.
 * 0 with *token_table set, or XA_ENOENT.
 */
int ksym_find_token_table(const uint8_t *buf, size_t len, size_t token_index,
                          size_t *token_table);

/*
 * Cheap test, before any large copy, that what lies just below the token
 * table at @token_table is what the kernel puts there: the end of the
 * markers table (at least four increasing offsets with steps that 256 names
 * can take), or the end of kallsyms_seqs_of_names (64 distinct 3-byte
 * indices). A lone token table with anything else below it is not kallsyms.
 * Needs KSYM_PRECHECK_BEFORE bytes below @token_table.
 */
#define KSYM_PRECHECK_BEFORE 256
bool ksym_tables_precheck(const uint8_t *buf, size_t token_table);

/*
 * The 8-aligned words that can be kallsyms_num_syms (low half
 * 1..LINUX_SYMTAB_MAX, high half 0), ascending, into @out (room for len / 8
 * entries; @len below 4 GiB): buffer offset << 32 | value. Returns how many.
 * Done once per window, it spares every later search of the window its
 * word-by-word scan.
 */
size_t ksym_num_syms_positions(const uint8_t *buf, size_t len, uint64_t *out);

/*
 * Find and validate num_syms, names, markers, offsets and relative_base
 * around the token tables already in @l. Every name is decoded once to check
 * it against the markers. 0, or XA_ENOENT when no consistent set is found,
 * or XA_ELIMIT when l->work ran out.
 */
int ksym_find_tables(const uint8_t *buf, size_t len, struct ksym_layout *l);

/* Decode all symbols of a validated layout into @t (not frozen). */
int ksym_decode(const uint8_t *buf, size_t len, const struct ksym_layout *l,
                struct linux_symtab *t);

/*
 * One pass over all names of a validated layout that keeps only those of
 * @want (@nwant names, sorted by strcmp, none twice): picks[i] says where
 * want[i] is, the first of its name as ksym_decode would add it, or that
 * it is absent. It fails where ksym_decode would on the same tables (the
 * same checks), allocates nothing, and costs a fraction of a full decode:
 * a name is decoded whole only when its length and first bytes match a
 * wanted one.
 */
int ksym_pick(const uint8_t *buf, size_t len, const struct ksym_layout *l,
              const char *const *want, size_t nwant, struct symtab_pick *picks);

#endif /* XA_OS_LINUX_KALLSYMS_TABLES_H */
