/*
 * x86.h -- x86 address translation: 32-bit, PAE, IA-32e 4-level, 5-level.
 * Internal, not installed.
 *
 * Pure code over a "read physical" callback, so it can be tested on
 * synthetic page tables with no guest at all. Page-table entries come from
 * the guest and are hostile: every entry is checked for presence and for
 * reserved bits, and a walk reads at most one entry per level.
 */
#ifndef XA_ARCH_X86_H
#define XA_ARCH_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenaccess.h"

/* Read @len bytes of guest-physical memory at @pa; 0 or negative XA_E*. */
typedef int (*x86_read_pa_fn)(void *ctx, uint64_t pa, void *buf, size_t len);

/* What the walker must know about the CPU beyond the mode. */
struct x86_paging {
    enum xa_page_mode mode;
    uint8_t maxphyaddr; /* physical address width; 0 means 52 */
    bool nxe;           /* EFER.NXE: bit 63 (XD) is allowed in entries */
    bool pse;           /* CR4.PSE: 4 MiB pages in 32-bit legacy paging */
};

struct x86_walk {
    uint64_t pa;        /* translated physical address (valid on success) */
    uint64_t page_size; /* 4 KiB, 2 MiB, 4 MiB or 1 GiB */
    uint64_t entries[5]; /* entries read, top level first */
    int levels_read;
    int fault_level;    /* on failure: the level (5..1, 1 = PTE) that failed */
    bool writable, user, nx; /* effective permissions of the mapping */
    uint64_t pt; /* a 4 KiB page with 8-byte entries: its page table's address, else 0 */
};

/*
 * Translate @va through the tables rooted at @dtb (a CR3 value; PCID and
 * flag bits are ignored).
 * Returns 0, XA_EFAULT (not present at walk->fault_level; also a
 * non-canonical address), XA_EBADDATA (reserved bit set), XA_ERANGE or
 * another read error from @read (table outside RAM), XA_EINVAL (bad mode).
 * @walk is required; it receives the entries read and the fault level.
 */
int x86_translate(const struct x86_paging *pg, uint64_t dtb, uint64_t va,
                  x86_read_pa_fn read, void *ctx, struct x86_walk *walk);

/*
 * The last step of a walk whose upper levels an earlier walk of the same
 * 2 MiB region read (walk->pt): the page-table entry for @va in the table at
 * @pt, checked as x86_translate() checks it. 8-byte-entry modes (PAE,
 * IA-32e, LA57) only, else XA_EINVAL. Permissions are the entry's alone.
 */
int x86_translate_pte(const struct x86_paging *pg, uint64_t pt, uint64_t va,
                      x86_read_pa_fn read, void *ctx, struct x86_walk *walk);

/* The bits of a 4 KiB page-table entry (8-byte modes) the CPU faults on
 * when set, as x86_translate_pte() checks them: for a caller that reads
 * the entry itself and leaves anything unusual to x86_translate_pte(). */
uint64_t x86_pte_reserved(const struct x86_paging *pg);

/* Paging mode implied by control registers (CR0.PG, CR4.PAE, EFER.LMA, CR4.LA57). */
enum xa_page_mode x86_mode_from_regs(uint64_t cr0, uint64_t cr4, uint64_t efer);

/* Fill @pg from registers (mode, NXE, PSE). */
void x86_paging_from_regs(struct x86_paging *pg, uint64_t cr0, uint64_t cr4, uint64_t efer);

/* The page-table root in a CR3 value for @mode (drops PCID/flag bits). */
uint64_t x86_dtb_from_cr3(enum xa_page_mode mode, uint64_t cr3);

/* Number of virtual address bits that @mode translates (32, 48, 57). */
unsigned x86_va_bits(enum xa_page_mode mode);

/* Human name for a mode. */
const char *x86_mode_name(enum xa_page_mode mode);

#endif /* XA_ARCH_X86_H */
