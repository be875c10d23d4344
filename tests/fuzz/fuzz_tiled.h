/*
 * fuzz_tiled.h -- shared by the discovery targets: an 8 MiB raw image of
 * guest RAM (an in-memory file the file backend opens) filled with copies
 * of one fuzzed blob, the way a guest fills its free memory with fakes; and
 * the work budget they hold discovery to (docs/limits.md: 8 x RAM + 64 MiB).
 *
 * The tiling, from the input: u16 copies, u32 stride, u32 first offset. The
 * blob is written @copies times (at most 4096), @stride bytes apart (rounded
 * up to 8 and to the blob's length), from @first (modulo the image,
 * 8-aligned).
 */
#ifndef XA_FUZZ_TILED_H
#define XA_FUZZ_TILED_H

#include "fuzz_common.h"
#include "xenaccess.h"

#define TILED_SIZE (8u << 20)
#define TILED_COPIES_MAX 4096u
#define TILED_BLOB_MAX (1u << 20)
#define BUDGET_PER_BYTE 8u
#define BUDGET_FIXED (64ull << 20)

struct tiled {
    struct fz_memfile file;
    uint8_t *img; /* TILED_SIZE bytes */
};

static inline void tiled_init(struct tiled *t, const char *name)
{
    fz_memfile_open(&t->file, name);
    t->img = malloc(TILED_SIZE);
    if (!t->img)
        abort();
}

/* The tiling fields off @r; the blob is @blob_len bytes at @blob. Fills
 * the image and returns the copies asked for. The caller may write more,
 * then tiled_open(). */
static inline uint32_t tiled_fill(struct tiled *t, struct fuzz_reader *r, const uint8_t *blob,
                                  size_t blob_len)
{
    uint32_t copies = (uint32_t)fz_take(r, 2);
    uint64_t stride = fz_take(r, 4);
    uint64_t at = fz_take(r, 4) % TILED_SIZE & ~7ull;
    if (blob_len > TILED_BLOB_MAX)
        blob_len = TILED_BLOB_MAX;
    if (copies > TILED_COPIES_MAX)
        copies = TILED_COPIES_MAX;
    stride = (stride + 7) & ~7ull;
    if (stride < ((blob_len + 7) & ~(size_t)7))
        stride = (blob_len + 7) & ~(size_t)7;
    memset(t->img, 0, TILED_SIZE);
    for (uint32_t i = 0; i < copies && blob_len && at + blob_len <= TILED_SIZE; i++) {
        memcpy(t->img + at, blob, blob_len);
        at += stride;
    }
    return copies;
}

/* The image as it is now, opened as a raw file (XA_INIT_NO_OS); NULL when
 * the blob made it look like something else (a magic at offset 0: an ELF
 * core, LiME, a kdump: the dump target's subject, not this one's). */
static inline struct xa_instance *tiled_open(struct tiled *t)
{
    struct xa_instance *xa = NULL;
    fz_memfile_set(&t->file, t->img, TILED_SIZE);
    if (xa_init(t->file.target, XA_INIT_NO_OS, &xa) < 0)
        return NULL;
    size_t nr;
    const struct xa_mem_range *r = xa_mem_ranges(xa, &nr);
    if (nr != 1 || r[0].start != 0 || r[0].size != TILED_SIZE) {
        xa_destroy(xa);
        return NULL;
    }
    return xa;
}

static inline uint64_t tiled_budget(void)
{
    return BUDGET_PER_BYTE * (uint64_t)TILED_SIZE + BUDGET_FIXED;
}

/* Abort when @what (its result @rc on @xa) spent past the budget (plus
 * @slack, the work done between two looks at the meter), or failed
 * without a message; with XA_FUZZ_VERBOSE print each input's work (for
 * docs/limits.md). */
static inline void tiled_check_work(const char *what, struct xa_instance *xa, int rc,
                                    uint64_t work, uint64_t slack, uint32_t copies)
{
    const char *msg = rc < 0 ? xa_errmsg(xa) : NULL;
    if (rc > 0 || (rc < 0 && !msg[0]))
        abort();
    if (work > tiled_budget() + slack) {
        fprintf(stderr, "%s spent %llu work units, budget %llu (%u copies)\n", what,
                (unsigned long long)work, (unsigned long long)tiled_budget(), copies);
        abort();
    }
    if (getenv("XA_FUZZ_VERBOSE"))
        fprintf(stderr, "%s: rc %d, %llu work units (%.2f x RAM): %s\n", what, rc,
                (unsigned long long)work, (double)work / TILED_SIZE, msg ? msg : "found");
}

#endif /* XA_FUZZ_TILED_H */
