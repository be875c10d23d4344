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
#include "fuzz_tiled.h"

#include "os/linux/linux.h"
#include "xenaccess.h"

#define HEADER 10 /* the tiling (fuzz_tiled.h) */

/* Work done between two looks at the meter: 256 names of the longest
 * length, or one token-table probe, copied and searched. */
#define METER_SLACK (1ull << 20)

static struct tiled image;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tiled_init(&image, "xa-fuzz-discovery");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!image.img)
        LLVMFuzzerInitialize(NULL, NULL);
    struct fuzz_reader r = {data, size < HEADER ? size : HEADER};
    uint32_t copies = tiled_fill(&image, &r, data + (size < HEADER ? size : HEADER),
                                 size > HEADER ? size - HEADER : 0);

    struct xa_instance *xa = tiled_open(&image);
    if (!xa)
        return 0;
    struct linux_os *lx = calloc(1, sizeof(*lx));
    if (!lx)
        abort();
    int rc = linux_kallsyms_discover(xa, lx);
    tiled_check_work("discovery", xa, rc, lx->discovery_work, METER_SLACK, copies);
    /* A table read in place is lazy: build the rest as a later lookup would. */
    if (rc == 0 && symtab_complete(&lx->syms) == 0 && lx->syms.n != symtab_count(&lx->syms))
        abort();
    symtab_free(&lx->syms);
    free(lx->spare);
    free(lx);
    xa_destroy(xa);
    return 0;
}
