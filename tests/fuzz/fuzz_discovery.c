/*
 * fuzz_discovery.c -- kernel discovery (linux_kallsyms_discover) on a
 * guest whose memory is mostly copies of one fuzzed blob: the way a guest
 * fills its free memory with thousands of fake kallsyms tables.
 *
 * Input: u16 copies, u32 stride, u32 first offset, then the blob. The blob
 * is written @copies times (at most 4096), @stride bytes apart (rounded up
 * to 8 and to the blob's length), from @first (modulo the image, 8-aligned)
 * into an 8 MiB zeroed raw image, which the file backend opens.
 *
 * The property is time, counted in work units (deterministic, unlike
 * wall-clock): discovery must spend no more than the budget that
 * docs/limits.md states, 8 x RAM + 64 MiB, plus the slack of one step
 * between two checks of the meter. A clean discovery of the same image
 * spends about 1 x RAM. Beyond the sanitizers, discovery must also answer 0
 * or a negative XA_E* with a message.
 */
#include "fuzz_common.h"

#include "os/linux/linux.h"
#include "xenaccess.h"

#define IMAGE_SIZE (8u << 20)
#define MAX_COPIES 4096u
#define MAX_BLOB (1u << 20)
#define HEADER 10

/* docs/limits.md: the budget this target holds discovery to. */
#define BUDGET_PER_BYTE 8u
#define BUDGET_FIXED (64ull << 20)
/* Work done between two looks at the meter: 256 names of the longest
 * length, or one token-table probe, copied and searched. */
#define METER_SLACK (1ull << 20)

static struct fz_memfile image;
static uint8_t *img;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_memfile_open(&image, "xa-fuzz-discovery");
    img = malloc(IMAGE_SIZE);
    if (!img)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!img)
        LLVMFuzzerInitialize(NULL, NULL);
    struct fuzz_reader r = {data, size};
    uint32_t copies = (uint32_t)fz_take(&r, 2);
    uint64_t stride = fz_take(&r, 4);
    uint64_t first = fz_take(&r, 4) % IMAGE_SIZE & ~7ull;
    const uint8_t *blob = r.p;
    size_t blob_len = r.left > MAX_BLOB ? MAX_BLOB : r.left;
    if (copies > MAX_COPIES)
        copies = MAX_COPIES;
    stride = (stride + 7) & ~7ull;
    if (stride < ((blob_len + 7) & ~(size_t)7))
        stride = (blob_len + 7) & ~(size_t)7;

    memset(img, 0, IMAGE_SIZE);
    uint64_t at = first;
    for (uint32_t i = 0; i < copies && blob_len && at + blob_len <= IMAGE_SIZE; i++) {
        memcpy(img + at, blob, blob_len);
        at += stride;
    }
    fz_memfile_set(&image, img, IMAGE_SIZE);

    struct xa_instance *xa = NULL;
    if (xa_init(image.target, XA_INIT_NO_OS, &xa) < 0)
        abort(); /* a raw image of 8 MiB always opens */
    struct linux_os *lx = calloc(1, sizeof(*lx));
    if (!lx)
        abort();
    int rc = linux_kallsyms_discover(xa, lx);
    if (rc > 0 || (rc < 0 && !xa_errmsg(xa)[0]))
        abort();
    uint64_t budget = BUDGET_PER_BYTE * (uint64_t)IMAGE_SIZE + BUDGET_FIXED;
    if (lx->discovery_work > budget + METER_SLACK) {
        fprintf(stderr, "discovery spent %llu work units, budget %llu (%u copies)\n",
                (unsigned long long)lx->discovery_work, (unsigned long long)budget, copies);
        abort();
    }
    if (getenv("XA_FUZZ_VERBOSE")) /* work of each input, for docs/limits.md */
        fprintf(stderr, "discovery: rc %d, %llu work units (%.2f x RAM): %s\n", rc,
                (unsigned long long)lx->discovery_work,
                (double)lx->discovery_work / IMAGE_SIZE, rc < 0 ? xa_errmsg(xa) : "found");
    symtab_free(&lx->syms);
    free(lx);
    xa_destroy(xa);
    return 0;
}
