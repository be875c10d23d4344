/*
 * fuzz_arm64_discovery.c -- arm64 kernel discovery after kallsyms
 * (linux_arm64_discover, then linux_arm64_find_data) on a synthetic image:
 * an 8 MiB raw RAM image mostly made of copies of one fuzzed blob, the way
 * a guest fills its free memory with fake page tables, banners, BTF headers
 * and tasks. kallsyms' text symbols (_stext, _sinittext, _einittext) are
 * given; with flag bit 0 the target also writes a real swapper_pg_dir (48-bit
 * VAs, 2 MiB blocks) just below _sinittext, so that the image scans run
 * over whatever the blob planted.
 *
 * Input: u8 flags, the tiling (fuzz_tiled.h: u16 copies, u32 stride, u32
 * first offset), u32 tables offset, u32 _sinittext - _stext, then the blob.
 *
 * The property is time, counted in work units (deterministic): discovery,
 * kallsyms' share included, must spend no more than the budget that
 * docs/limits.md states, 8 x RAM + 64 MiB, plus the slack of one step
 * between two looks at the meter; and it must give up rather than succeed
 * when the banner candidates it had to read before the one it took (counted
 * here, apart from its meter) already cost more than the budget. Beyond the
 * sanitizers, each step must answer 0 or a negative XA_E* with a message.
 */
#include "fuzz_tiled.h"

#include "os/linux/linux.h"
#include "xenaccess.h"

#define IMAGE_SIZE TILED_SIZE
#define HEADER 19

#define TEXT_VA 0xffff800008000000ull /* _text without KASLR (48-bit VAs) */
#define TEXT_HEAD (64u << 10)         /* _stext - _text */
#define IMAGE_PA (2u << 20)           /* where the built tables put _text */
#define SPAN_MIN (16u << 10)
#define SPAN_MAX (IMAGE_SIZE - IMAGE_PA - TEXT_HEAD - SPAN_MIN - (16u << 10)) /* room for the tables */
#define SWAPPER_BELOW (8u << 10) /* swapper_pg_dir below _sinittext */

/* Work done between two looks at the meter: a page, or one banner read. */
#define METER_SLACK (64ull << 10)

static struct tiled image;
static uint8_t *img;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tiled_init(&image, "xa-fuzz-arm64-discovery");
    img = image.img;
    return 0;
}

static void put64(uint64_t pa, uint64_t v)
{
    memcpy(img + pa, &v, 8);
}

/* swapper_pg_dir at @l0 (three table pages from there), mapping the image's
 * VAs from _text to the end of RAM with 2 MiB blocks from IMAGE_PA. */
static void build_swapper(uint64_t l0)
{
    const uint64_t table = 3, block = 1, af = 1ull << 10;
    uint64_t l1 = l0 + 4096, l2 = l0 + 8192;
    memset(img + l0, 0, 3 * 4096);
    put64(l0 + ((TEXT_VA >> 39) & 511) * 8, l1 | table);
    put64(l1 + ((TEXT_VA >> 30) & 511) * 8, l2 | table);
    for (uint64_t pa = IMAGE_PA; pa < IMAGE_SIZE; pa += 2u << 20)
        put64(l2 + (((TEXT_VA + pa - IMAGE_PA) >> 21) & 511) * 8, pa | af | block);
}

/* A lower bound of the work find_banner did for the image found, counted
 * apart from discovery's meter: 512 units per "Linux version " string
 * (NUL before it) up to the first with a build number. */
#define BANNER_READ 512u

static uint64_t banner_work(uint64_t off, uint64_t size)
{
    static const char s[] = "Linux version ";
    uint64_t work = 0;
    if (off >= IMAGE_SIZE)
        return 0;
    if (size > IMAGE_SIZE - off)
        size = IMAGE_SIZE - off;
    for (uint64_t i = off + 1; i + sizeof(s) - 1 <= off + size; i++) {
        if (img[i] != 'L' || img[i - 1] != 0 || memcmp(img + i, s, sizeof(s) - 1) != 0)
            continue;
        work += BANNER_READ;
        size_t n = i + BANNER_READ - 1 <= IMAGE_SIZE ? strnlen((char *)img + i, BANNER_READ - 1) : 0;
        for (size_t k = 0; k + 2 < n; k++)
            if (img[i + k] == ' ' && img[i + k + 1] == '#' && img[i + k + 2] >= '0' &&
                img[i + k + 2] <= '9')
                return work;
    }
    return work;
}

static void check_rc(struct xa_instance *xa, int rc)
{
    if (rc > 0 || (rc < 0 && !xa_errmsg(xa)[0]))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!img)
        LLVMFuzzerInitialize(NULL, NULL);
    struct fuzz_reader r = {data, size < HEADER ? size : HEADER};
    uint8_t flags = (uint8_t)fz_take(&r, 1);
    uint32_t copies = tiled_fill(&image, &r, data + (size < HEADER ? size : HEADER),
                                 size > HEADER ? size - HEADER : 0);
    uint64_t tables_off = fz_take(&r, 4);
    uint64_t span = SPAN_MIN + fz_take(&r, 4) % SPAN_MAX;
    /* The kallsyms tables lie between _stext and swapper_pg_dir. */
    uint64_t stext_pa = IMAGE_PA + TEXT_HEAD;
    uint64_t swapper = (stext_pa + span - SWAPPER_BELOW) & ~4095ull;
    uint64_t tables_pa = stext_pa + tables_off % (swapper - stext_pa);
    if (flags & 1)
        build_swapper(swapper);
    else
        tables_pa = tables_off % IMAGE_SIZE;

    struct xa_instance *xa = tiled_open(&image);
    if (!xa)
        return 0;
    struct linux_os *lx = calloc(1, sizeof(*lx));
    if (!lx)
        abort();
    const uint64_t stext = TEXT_VA + TEXT_HEAD;
    const char *names[] = {"_stext", "_sinittext", "_einittext", "primary_entry"};
    const uint64_t addrs[] = {stext, stext + span, stext + span + (64u << 10), stext};
    for (size_t i = 0; i < 4; i++)
        if (symtab_add(&lx->syms, names[i], strlen(names[i]), addrs[i], 'T') < 0)
            abort();
    if (symtab_freeze(&lx->syms) < 0 || !linux_arm64_kernel(&lx->syms))
        abort();
    /* What a clean kallsyms search of this image would have spent (the scan). */
    lx->discovery_work = IMAGE_SIZE;

    int rc = linux_arm64_discover(xa, lx, tables_pa);
    check_rc(xa, rc);
    uint64_t budget = tiled_budget();
    if (rc == 0) {
        size_t nr;
        uint64_t base = xa_mem_ranges(xa, &nr)[0].start;
        if (IMAGE_SIZE + banner_work(lx->phys_base - base, lx->image_size) > budget) {
            fprintf(stderr, "arm64 discovery read more banners than its budget pays for, "
                            "and did not give up\n");
            abort();
        }
    }
    if (rc == 0) { /* made-up BTF offsets: the blob decides what they find */
        lx->off.task_tasks = 0x10;
        lx->off.task_pid = 0x20;
        lx->off.task_comm = 0x30;
        lx->off.module_list = 0x8;
        lx->off.module_name = 0x18;
        rc = linux_arm64_find_data(xa, lx);
        check_rc(xa, rc);
    }
    tiled_check_work("arm64 discovery", xa, rc, lx->discovery_work, METER_SLACK, copies);
    symtab_free(&lx->syms);
    free(lx);
    xa_destroy(xa);
    return 0;
}
