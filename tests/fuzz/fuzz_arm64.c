/*
 * fuzz_arm64.c -- the AArch64 walker over fuzzed physical memory.
 *
 * Input: flags, VA size, TTBR0, TTBR1 and four virtual addresses, then the
 * guest's physical memory from address 0. With the "wrap" flag every
 * physical address is taken modulo the memory size, so that the fuzzer's
 * table pointers land somewhere and walks go deep.
 *
 * Oracles beyond the sanitizers: a walk reads at most one descriptor per
 * level; the result code is one arm64.h documents; a translation keeps the
 * offset in its page or block, uses a real size and stays below 2^48
 * (2^52 with LPA2).
 */
#include "fuzz_common.h"

#include "arena.h"

#include "arch/arm64.h"

static void check_walk(const struct arm64_paging *pg, uint64_t va, int rc,
                       const struct arm64_walk *w, const struct arena *p)
{
    unsigned n = pg->va_bits ? pg->va_bits : 48;
    int levels = n >= 25 && n <= 52 ? 4 - arm64_start_level(n) : 0;
    if (p->reads > levels || w->levels_read > levels)
        abort(); /* more than one descriptor per level */
    if (rc == 0) {
        uint64_t ps = w->page_size;
        if (ps != 1ull << 12 && ps != 1ull << 21 && ps != 1ull << 30 &&
            !(pg->lpa2 && ps == 1ull << 39))
            abort();
        if ((w->pa & (ps - 1)) != (va & (ps - 1)))
            abort(); /* offset lost */
        if (w->pa >> (pg->lpa2 ? 52 : 48))
            abort();
        return;
    }
    if (rc != XA_EFAULT && rc != XA_EBADDATA && rc != XA_ERANGE && rc != XA_EINVAL)
        abort();
    if (rc != XA_EINVAL && (w->fault_level < -1 || w->fault_level > 3))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    uint8_t flags = (uint8_t)fz_take(&r, 1), bits = (uint8_t)fz_take(&r, 1);
    uint64_t ttbr0 = fz_take(&r, 8), ttbr1 = fz_take(&r, 8), va[4];
    for (int i = 0; i < 4; i++)
        va[i] = fz_take(&r, 8);

    struct arm64_paging pg = {.va_bits = bits & 0x3f, .lpa2 = flags & 1}; /* may be out of range */
    struct arena p = {.mem = r.p, .len = r.left, .wrap = (flags & 2) != 0, .miss = XA_ERANGE};
    ttbr0 = arm64_root_from_ttbr(&pg, ttbr0);
    if (!(flags & 4))
        ttbr1 = arm64_root_from_ttbr(&pg, ttbr1);

    for (int i = 0; i < 4; i++) {
        struct arm64_walk w;
        p.reads = 0;
        int rc = arm64_translate(&pg, ttbr0, ttbr1, va[i], arena_read, &p, &w);
        check_walk(&pg, va[i], rc, &w, &p);
        if (rc == 0 && arm64_va_is_upper(&pg, va[i]) != (va[i] >> 63))
            abort(); /* an upper-half VA has its top bit set */
        if (flags & 8)
            va[(i + 1) % 4] ^= va[i] & 0x1ff000;
    }
    return 0;
}
