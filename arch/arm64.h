/*
 * arm64.h -- AArch64 stage-1 address translation, 4 KiB granule.
 * Internal, not installed.
 *
 * Pure code over a "read physical" callback, like arch/x86.h, so it can be
 * tested on synthetic tables. Descriptors come from the guest and are
 * hostile: a walk reads at most one descriptor per level, and reserved
 * encodings and RES0 output-address bits are rejected.
 *
 * VA ranges: the top bits of a VA choose the table, as TCR_EL1 does with
 * T0SZ/T1SZ: all ones -> TTBR1 (the kernel's), all zeros -> TTBR0 (a
 * process's); anything else is outside both halves and faults.
 */
#ifndef XA_ARCH_ARM64_H
#define XA_ARCH_ARM64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenaccess.h"

typedef int (*arm64_read_pa_fn)(void *ctx, uint64_t pa, void *buf, size_t len);

struct arm64_paging {
    uint8_t va_bits;  /* VA size of both halves (64 - TnSZ): 25..52; 0 means 48 */
    bool lpa2;        /* TCR_EL1.DS: 52-bit output addresses, level -1 and level-0 blocks */
};

struct arm64_walk {
    uint64_t pa;         /* translated physical address (valid on success) */
    uint64_t page_size;  /* 4 KiB, 2 MiB, 1 GiB (or 512 GiB with LPA2) */
    uint64_t entries[5]; /* descriptors read, first level first */
    int levels_read;
    int fault_level;     /* on failure: the level (-1..3, 3 = page) that failed */
    bool writable, user, pxn, uxn; /* effective permissions (table limits applied) */
};

/* Translation regimes' first level for @va_bits (0 for 40..48, 1 for 31..39, -1 above 48). */
int arm64_start_level(unsigned va_bits);

/*
 * Translate @va: through the table at physical address @ttbr1 when the VA's
 * top bits are ones, @ttbr0 when zeros (a 0 root faults). The roots are
 * physical addresses of the first-level table (ASID and CnP bits dropped:
 * arm64_root_from_ttbr).
 * Returns 0, XA_EFAULT (invalid descriptor at walk->fault_level; also a VA
 * in neither half), XA_EBADDATA (reserved encoding or RES0 bits set), a read
 * error from @read (table outside RAM), XA_EINVAL (bad va_bits).
 */
int arm64_translate(const struct arm64_paging *pg, uint64_t ttbr0, uint64_t ttbr1, uint64_t va,
                    arm64_read_pa_fn read, void *ctx, struct arm64_walk *walk);

/* The table address in a TTBRn_EL1 value (drops ASID, CnP; LPA2 high bits). */
uint64_t arm64_root_from_ttbr(const struct arm64_paging *pg, uint64_t ttbr);

/* True when @va lies in the TTBR1 (upper, kernel) half for @pg. */
bool arm64_va_is_upper(const struct arm64_paging *pg, uint64_t va);

#endif /* XA_ARCH_ARM64_H */
