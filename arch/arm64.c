/*
 * arm64.c -- AArch64 stage-1 translation, 4 KiB granule, over a "read
 * physical" callback.
 *
 * Follows the Arm ARM (D8, VMSAv8-64 translation). Descriptors are hostile:
 * a walk reads one descriptor per level (tables pointing at themselves still
 * end), checks validity first (the MMU ignores every other bit of an invalid
 * descriptor), then rejects reserved encodings and RES0 address bits.
 */
#include "arch/arm64.h"

#define DESC_VALID (1ull << 0)
#define DESC_TABLE (1ull << 1) /* with VALID: table (levels < 3) or page (level 3) */
#define DESC_AP_EL0 (1ull << 6)  /* AP[1]: EL0 may access */
#define DESC_AP_RO (1ull << 7)   /* AP[2]: read-only */
#define DESC_NT (1ull << 16)     /* FEAT_BBM nT in block descriptors */
#define DESC_PXN (1ull << 53)
#define DESC_UXN (1ull << 54)
#define TABLE_PXN (1ull << 59)
#define TABLE_UXN (1ull << 60)
#define TABLE_NO_EL0 (1ull << 61)
#define TABLE_RO (1ull << 62)

#define GRANULE_SHIFT 12
#define LEVEL_BITS 9

static inline uint64_t bit_range(unsigned hi, unsigned lo)
{
    return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

static inline uint64_t load_le64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 8; i-- > 0;)
        v = (v << 8) | b[i];
    return v;
}

static unsigned va_bits_of(const struct arm64_paging *pg)
{
    return pg->va_bits ? pg->va_bits : 48;
}

static bool va_bits_ok(const struct arm64_paging *pg)
{
    unsigned n = va_bits_of(pg);
    /* 4 KiB granule: TnSZ 16..39 (12..39 with LPA2). */
    return n >= 25 && n <= (pg->lpa2 ? 52u : 48u);
}

/* Address bits a level resolves: level 3 -> 12, 2 -> 21, 1 -> 30, 0 -> 39, -1 -> 48. */
static unsigned level_shift(int level)
{
    return GRANULE_SHIFT + LEVEL_BITS * (unsigned)(3 - level);
}

int arm64_start_level(unsigned va_bits)
{
    int level = 3;
    while (level > -1 && level_shift(level) + LEVEL_BITS < va_bits)
        level--;
    return level;
}

bool arm64_va_is_upper(const struct arm64_paging *pg, uint64_t va)
{
    unsigned n = va_bits_of(pg);
    return n < 64 && (va >> n) == (~0ull >> n);
}

static bool va_is_lower(const struct arm64_paging *pg, uint64_t va)
{
    unsigned n = va_bits_of(pg);
    return n < 64 && (va >> n) == 0;
}

uint64_t arm64_root_from_ttbr(const struct arm64_paging *pg, uint64_t ttbr)
{
    /* BADDR is bits 47:1 (bit 0 is CnP, 63:48 the ASID); with LPA2 bits 5:2
     * hold output address bits 51:48. A 4 KiB-granule table of 8-byte
     * descriptors is at least 64-byte aligned. */
    uint64_t root = ttbr & bit_range(47, 6);
    if (pg->lpa2)
        root |= ((ttbr >> 2) & 0xf) << 48;
    return root;
}

/* The output address in a table (@leaf false), block or page descriptor,
 * whose address field starts at bit @lo; XA_EBADDATA when RES0 address bits
 * are set. Bits 51:50 of a block or page are GP (BTI) and DBM, not address. */
static int output_address(const struct arm64_paging *pg, uint64_t desc, unsigned lo, bool leaf,
                          uint64_t *out)
{
    uint64_t oa;
    if (pg->lpa2) {
        /* OA[49:lo] in place, OA[51:50] in bits 9:8. */
        oa = (desc & bit_range(49, lo)) | (((desc >> 8) & 3) << 50);
    } else {
        if (desc & bit_range(leaf ? 49 : 51, 48))
            return XA_EBADDATA; /* address bits 51:48 are RES0 without 52-bit addresses */
        oa = desc & bit_range(47, lo);
    }
    /* Blocks: bits between 12 and the block's size are RES0 (but nT). */
    if (lo > GRANULE_SHIFT && (desc & bit_range(lo - 1, GRANULE_SHIFT) & ~DESC_NT))
        return XA_EBADDATA;
    *out = oa;
    return 0;
}

static int fail(struct arm64_walk *walk, int level, int rc)
{
    walk->fault_level = level;
    return rc;
}

int arm64_translate(const struct arm64_paging *pg, uint64_t ttbr0, uint64_t ttbr1, uint64_t va,
                    arm64_read_pa_fn read, void *ctx, struct arm64_walk *walk)
{
    *walk = (struct arm64_walk){0};
    if (!va_bits_ok(pg))
        return XA_EINVAL;
    unsigned n = va_bits_of(pg);
    int level = arm64_start_level(n);
    uint64_t table;
    if (arm64_va_is_upper(pg, va))
        table = ttbr1;
    else if (va_is_lower(pg, va))
        table = ttbr0;
    else
        return fail(walk, level, XA_EFAULT); /* in neither half: a translation fault */
    if (table == 0)
        return fail(walk, level, XA_EFAULT);

    bool no_write = false, no_el0 = false, pxn = false, uxn = false;
    /* One descriptor per level, at most five levels: the loop always ends. */
    for (;; level++) {
        unsigned shift = level_shift(level);
        unsigned bits = shift + LEVEL_BITS <= n ? LEVEL_BITS : n - shift;
        uint64_t index = (va >> shift) & ((1ull << bits) - 1);
        uint8_t buf[8];
        int rc = read(ctx, table + index * 8, buf, sizeof(buf));
        if (rc < 0)
            return fail(walk, level, rc);
        uint64_t desc = load_le64(buf);
        walk->entries[walk->levels_read++] = desc;
        if (!(desc & DESC_VALID))
            return fail(walk, level, XA_EFAULT);

        bool table_or_page = desc & DESC_TABLE;
        if (level < 3 && table_or_page) {
            if (output_address(pg, desc, GRANULE_SHIFT, false, &table) < 0)
                return fail(walk, level, XA_EBADDATA);
            no_write |= desc & TABLE_RO;
            no_el0 |= desc & TABLE_NO_EL0;
            pxn |= desc & TABLE_PXN;
            uxn |= desc & TABLE_UXN;
            continue;
        }
        /* A block (levels 1, 2; 0 with LPA2) or a page (level 3, 0b11).
         * Level 3 0b01, level -1 blocks and level 0 blocks without LPA2 are
         * reserved encodings. */
        if (level == 3 ? !table_or_page : (level < 0 || (level == 0 && !pg->lpa2)))
            return fail(walk, level, XA_EBADDATA);
        uint64_t base;
        if (output_address(pg, desc, shift, true, &base) < 0)
            return fail(walk, level, XA_EBADDATA);
        walk->page_size = 1ull << shift;
        walk->pa = base | (va & (walk->page_size - 1));
        walk->writable = !(desc & DESC_AP_RO) && !no_write;
        walk->user = (desc & DESC_AP_EL0) && !no_el0;
        walk->pxn = (desc & DESC_PXN) || pxn;
        walk->uxn = (desc & DESC_UXN) || uxn;
        return 0;
    }
}
