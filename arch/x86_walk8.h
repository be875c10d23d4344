/*
 * x86_walk8.h -- the page walk of the 8-byte-entry modes (PAE, IA-32e,
 * LA57) as inline code over entries the caller can point at. Internal.
 *
 * x86_translate() reads each entry through a callback and reports every
 * failure. This walk is the same walk for the hot path of a caller that
 * keeps guest pages at hand (the core's page memo): the reader is inlined,
 * the masks are worked out once (x86_walk8_setup), and it only ever says
 * "translated" or "ask x86_translate()". It declines whatever the generic
 * walker would fault on (not present, reserved bits, non-canonical address,
 * a large page where none can be) and whatever its reader cannot point at
 * (outside RAM, not at hand), so the generic walker gives the error -- or
 * the translation, when the reader merely lacked the page. A success is
 * exactly the generic walker's success for the same tables (tests/unit/
 * test_x86_walk8.c holds it to that).
 */
#ifndef XA_ARCH_X86_WALK8_H
#define XA_ARCH_X86_WALK8_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86.h"

/* What the walk needs of a paging, worked out once. */
struct x86_walk8 {
    uint64_t rsvd;       /* faulting bits of any entry but a PAE PDPTE */
    uint64_t pdpte_rsvd; /* faulting bits of a PAE PDPTE */
    uint64_t dtb_mask;   /* the table's address in a CR3 value */
    uint8_t top;         /* 5 (LA57), 4 (IA-32e), 3 (PAE); 0: no such walk */
    uint8_t va_bits;     /* 57, 48: the canonical width; 32 for PAE */
};

/* Fill @w for @pg; top 0 for modes it does not walk (and an invalid
 * MAXPHYADDR, which x86_translate() refuses). */
void x86_walk8_setup(const struct x86_paging *pg, struct x86_walk8 *w);

struct x86_walk8_result {
    uint64_t pa;        /* the translation */
    uint64_t page_size; /* 4 KiB, 2 MiB or 1 GiB */
    uint64_t pt;        /* a 4 KiB page: its page table's address, else 0 */
};

/* Where the 8-byte entry at guest-physical @pa (8-aligned) is in host
 * memory, when all of it is guest RAM and its page is at hand; else NULL. */
typedef const uint8_t *(*x86_entry_at_fn)(void *ctx, uint64_t pa);

#define X86_WALK8_ADDR 0x000ffffffffff000ull /* bits 51:12 */

static inline uint64_t x86_walk8_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/*
 * Translate @va through the tables at @dtb (a CR3 value) with @w's paging.
 * True with @out filled, or false: x86_translate() must decide. Always
 * inlined, so that a constant @entry_at is inlined too.
 */
static inline __attribute__((always_inline)) bool
x86_walk8(const struct x86_walk8 *w, uint64_t dtb, uint64_t va, x86_entry_at_fn entry_at,
          void *ctx, struct x86_walk8_result *out)
{
    unsigned level = w->top;
    if (level == 0)
        return false;
    unsigned unused = 64u - w->va_bits;
    uint64_t table = dtb & w->dtb_mask;
    if (level == 3) {
        if (va >> 32) /* no such linear address */
            return false;
        const uint8_t *p = entry_at(ctx, table + ((va >> 30) & 3) * 8);
        if (!p)
            return false;
        uint64_t e = x86_walk8_le64(p);
        if (!(e & 1) || (e & w->pdpte_rsvd))
            return false;
        table = e & X86_WALK8_ADDR;
        level = 2;
    } else if ((uint64_t)((int64_t)(va << unused) >> unused) != va) {
        return false; /* not canonical */
    }
    for (;; level--) {
        unsigned shift = 12u + 9u * (level - 1);
        const uint8_t *p = entry_at(ctx, table + ((va >> shift) & 511) * 8);
        if (!p)
            return false;
        uint64_t e = x86_walk8_le64(p);
        if (!(e & 1) || (e & w->rsvd))
            return false;
        if (level == 1) {
            out->pa = (e & X86_WALK8_ADDR) | (va & 0xfff);
            out->page_size = 1ull << 12;
            out->pt = table;
            return true;
        }
        if (e & (1ull << 7)) { /* PS: a large page */
            uint64_t size = 1ull << shift;
            /* None above 1 GiB; bit 12 is PAT, 13..shift-1 must be clear. */
            if (level >= 4 || (e & (size - 1) & ~0x1fffull))
                return false;
            out->pa = (e & X86_WALK8_ADDR & ~(size - 1)) | (va & (size - 1));
            out->page_size = size;
            out->pt = 0;
            return true;
        }
        table = e & X86_WALK8_ADDR;
    }
}

#endif /* XA_ARCH_X86_WALK8_H */
