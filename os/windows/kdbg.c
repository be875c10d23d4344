/*
 * kdbg.c -- finding the kernel debugger data block (KDBG) in memory.
 *
 * KDBG starts { LIST_ENTRY List; ULONG OwnerTag "KDBG"; ULONG Size;
 * KernBase; ... PsLoadedModuleList at 0x48; PsActiveProcessHead at 0x50 }
 * (public layout, KDDEBUGGER_DATA64 in the debugger SDK's wdbgexts.h).
 *
 * Since Windows 8 x64 the kernel keeps it encoded when KdpDataBlockEncoded
 * is set (KdCopyDataBlock decodes it for the debugger): each 64-bit word w
 * is stored so that decoding is
 *   w ^= KiWaitNever; w = rotl64(w, KiWaitNever & 0xff); w ^= block address;
 *   w = bswap64(w); w ^= KiWaitAlways
 * (the public algorithm, as volatility describes it). Those two secrets are
 * not exported, but every step is linear over xor: decoding is
 *   bswap64(rotl64(w, r)) ^ K
 * for one rotation r and one constant K. The block's known words (its tag
 * "KDBG", a small Size, a page-aligned kernel base, kernel pointers) give r
 * and K without the secrets (win_kdbg_crack).
 */
#include <string.h>

#include "os/windows/win.h"

#define KDBG_TAG 0x4742444bu /* "KDBG" */
#define KDBG_MIN_SIZE 0x200u
#define KDBG_MAX_SIZE 0x1000u
#define KDBG_WORDS 11 /* up to and including PsActiveProcessHead (0x50) */

static uint64_t rotl64(uint64_t v, unsigned r)
{
    r &= 63;
    return r ? (v << r) | (v >> (64 - r)) : v;
}

uint64_t win_kdbg_decode(uint64_t word, uint64_t wait_never, uint64_t wait_always,
                         uint64_t block)
{
    word ^= wait_never;
    word = rotl64(word, (unsigned)(wait_never & 0xff));
    word ^= block;
    word = __builtin_bswap64(word);
    return word ^ wait_always;
}

/* Decoded words that look like a KDBG: tag, size, base, pointers. */
static bool plausible(const uint64_t w[KDBG_WORDS])
{
    uint32_t tag = (uint32_t)w[2], size = (uint32_t)(w[2] >> 32);
    return tag == KDBG_TAG && size >= KDBG_MIN_SIZE && size <= KDBG_MAX_SIZE && !(size & 7) &&
           win_kernel_ptr(w[0]) && w[0] == w[1] && win_kernel_ptr(w[3]) &&
           !(w[3] & 0xfff) && win_kernel_ptr(w[9]) && win_kernel_ptr(w[10]) &&
           !(w[9] & 7) && !(w[10] & 7);
}

size_t win_kdbg_crack(const uint64_t words[KDBG_WORDS], unsigned *rots, uint64_t *keys,
                      size_t max)
{
    size_t n = 0;
    /* List.Flink == List.Blink (one entry on KdpDebuggerDataListHead):
     * equal plain words are equal encoded words. */
    if (words[0] != words[1] || words[0] == words[2])
        return 0;
    for (unsigned r = 0; r < 64; r++) {
        uint64_t q2 = __builtin_bswap64(rotl64(words[2], r));
        uint64_t q3 = __builtin_bswap64(rotl64(words[3], r));
        /* The tag fixes K's low 32 bits; the page-aligned base its low 12. */
        uint64_t low = (q2 ^ KDBG_TAG) & 0xffffffffu;
        if (((q3 ^ low) & 0xfff) != 0)
            continue;
        for (uint64_t size = KDBG_MIN_SIZE; size <= KDBG_MAX_SIZE; size += 8) {
            uint64_t k = q2 ^ (KDBG_TAG | size << 32);
            uint64_t w[KDBG_WORDS];
            for (int i = 0; i < KDBG_WORDS; i++)
                w[i] = __builtin_bswap64(rotl64(words[i], r)) ^ k;
            /* Several sizes may look right: each changes the pointers'
             * bits 32-43, so the caller checks each against memory. */
            if (plausible(w) && n < max) {
                rots[n] = r;
                keys[n++] = k;
            }
        }
    }
    return n;
}

static void fill(struct win_kdbg *out, const uint64_t w[KDBG_WORDS], uint64_t addr, bool enc)
{
    *out = (struct win_kdbg){.addr = addr, .kern_base = w[3], .ps_loaded_module_list = w[9],
                             .ps_active_process_head = w[10],
                             .size = (uint32_t)(w[2] >> 32), .encoded = enc};
}

/* The block's kernel address: on a target kept by virtual address, its
 * address; otherwise its list head's Flink, checked to map back to @pa. */
static bool block_address(struct xa_instance *xa, bool virt, uint64_t pa, uint64_t flink,
                          uint64_t *va)
{
    if (virt) {
        *va = pa;
        return true;
    }
    uint64_t head_next, back;
    if (win_u64(xa, flink, &head_next) < 0 || xa__translate(xa, 0, head_next, &back) < 0 ||
        back != pa) {
        xa__clear_error(xa);
        return false;
    }
    *va = head_next;
    return true;
}

/* Try the 8-byte aligned position @addr ("physical", or virtual on a
 * virtual target) holding @w. */
static bool try_at(struct xa_instance *xa, bool virt, uint64_t addr, uint64_t w[KDBG_WORDS],
                   struct win_kdbg *out)
{
    uint64_t va;
    if (plausible(w)) {
        if (!block_address(xa, virt, addr, w[0], &va))
            return false;
        fill(out, w, va, false);
        return true;
    }
    unsigned rots[WIN_KDBG_MAX_GUESSES];
    uint64_t keys[WIN_KDBG_MAX_GUESSES];
    size_t n = win_kdbg_crack(w, rots, keys, WIN_KDBG_MAX_GUESSES);
    for (size_t g = 0; g < n; g++) {
        uint64_t d[KDBG_WORDS], back;
        for (int i = 0; i < KDBG_WORDS; i++)
            d[i] = __builtin_bswap64(rotl64(w[i], rots[g])) ^ keys[g];
        /* The right guess names a list head that names the block. */
        if (virt && (win_u64(xa, d[0], &back) < 0 || back != addr)) {
            xa__clear_error(xa);
            continue;
        }
        if (!block_address(xa, virt, addr, d[0], &va))
            continue;
        fill(out, d, va, true);
        return true;
    }
    return false;
}

int win_kdbg_find(struct xa_instance *xa, struct win_kdbg *out)
{
    bool virt = xa__memory_is_virtual(xa);
    if (!virt && (xa__kernel_paging(xa).mode == XA_PM_UNKNOWN || !xa_kernel_dtb(xa)))
        return xa__set_error(xa, XA_ENOOS, "Windows: no page-table root (the target has no "
                             "registers)");
    uint64_t total = xa_memsize(xa), done = 0;
    size_t nranges;
    const struct xa_mem_range *ranges = xa_mem_ranges(xa, &nranges);
    for (size_t ri = 0; ri < nranges; ri++) {
        const struct xa_mem_range *r = &ranges[ri];
        uint64_t end = r->start + r->size;
        for (uint64_t pg = r->start & XA_PAGE_MASK; pg < end && pg >= (r->start & XA_PAGE_MASK);
             pg += XA_PAGE_SIZE) {
            if (((pg >> XA_PAGE_SHIFT) & 0xfff) == 0)
                xa__progress(xa, "searching memory for the Windows kernel", done, total);
            done += XA_PAGE_SIZE;
            const uint8_t *mapped;
            uint8_t page[XA_PAGE_SIZE]; /* a copy: the reads below may reuse the core's */
            if (xa__page(xa, pg >> XA_PAGE_SHIFT, &mapped) < 0) {
                xa__clear_error(xa);
                continue;
            }
            memcpy(page, mapped, sizeof(page));
            for (unsigned o = 0; o + 16 <= XA_PAGE_SIZE; o += 8) {
                uint64_t w0, w1;
                uint32_t tag = 0;
                memcpy(&w0, page + o, 8);
                memcpy(&w1, page + o + 8, 8);
                if (o + 20 <= XA_PAGE_SIZE)
                    memcpy(&tag, page + o + 16, 4);
                /* Cheap filters first: the tag, or the equal list links. */
                if (tag != KDBG_TAG && (w0 != w1 || !w0))
                    continue;
                uint64_t w[KDBG_WORDS];
                if (xa__read_pa(xa, pg + o, w, sizeof(w)) < 0) {
                    xa__clear_error(xa);
                    continue;
                }
                if (try_at(xa, virt, pg + o, w, out))
                    return 0;
            }
        }
    }
    return xa__set_error(xa, XA_ENOOS, "Windows: no kernel debugger data block (KDBG) in "
                         "memory");
}
