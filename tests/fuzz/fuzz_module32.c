/*
 * fuzz_module32.c -- the 32-bit module list inference (os/linux/module32.c)
 * over a synthetic module list (tests/unit/synthetic_module32.h) that the
 * input rewrites.
 *
 * Input: byte 0 picks the layout (bit 0) and the number of modules (byte /
 * 2 % 48); then records of 8 bytes, at most 64:
 *   u24 offset into the 2 MiB of kernel memory (rounded down to 4), u8 kind,
 *   u32 value
 * kind 0: write value; 1: a pointer into module (value & 0xff) % n (or the
 * head) at byte (value >> 8) % 2048 of it; 2: a pointer anywhere in the
 * memory (value % 2 MiB); 3: write value's low byte.
 * The patches are undone after each input.
 *
 * Oracles beyond the sanitizers: the scan, the head search and the
 * inference end (libFuzzer's timeout), return 0 or a negative XA_E*, the
 * reason is one terminated line, and a result lies within the bounds the
 * inference promises.
 */
#include "fuzz_common.h"

#include "synthetic_module32.h"

#define MAX_PATCHES 64

static struct sm_guest work; /* rebuilt when the layout or count changes */
static unsigned built_layout = 99, built_n = 999;
static uint64_t mods[M32_MAX_CANDIDATES];

static void build(unsigned layout, uint32_t n)
{
    if (layout == built_layout && n == built_n)
        return;
    sm_build(&work, layout ? &sm_other : &sm_debian61, n);
    built_layout = layout;
    built_n = n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_why(int rc, const char *why, size_t cap)
{
    if (rc > 0 || (rc < 0 && (!memchr(why, '\0', cap) || strchr(why, '\n'))))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    unsigned head = (unsigned)fz_take(&r, 1);
    unsigned layout = head & 1;
    uint32_t n = (head / 2) % 48;
    build(layout, n);

    struct { uint32_t off, old; } undo[MAX_PATCHES];
    size_t nundo = 0;
    while (r.left >= 8 && nundo < MAX_PATCHES) {
        uint32_t off = (uint32_t)fz_take(&r, 3) & (SM_SIZE - 4); /* SM_SIZE: a power of 2 */
        unsigned kind = (unsigned)fz_take(&r, 1) % 4;
        uint32_t v = (uint32_t)fz_take(&r, 4);
        undo[nundo].off = off;
        memcpy(&undo[nundo].old, work.mem + off, 4);
        nundo++;
        switch (kind) {
        case 0:
            break;
        case 1:
            v = (n && (v & 0xff) % (n + 1) < n ? sm_module((v & 0xff) % (n + 1)) : SM_HEAD) +
                (v >> 8) % 2048;
            break;
        case 2:
            v = SM_BASE + v % SM_SIZE;
            break;
        default:
            v = (undo[nundo - 1].old & ~0xffu) | (v & 0xffu);
            break;
        }
        memcpy(work.mem + off, &v, 4);
    }

    struct m32_mem m = sm_mem(&work);
    size_t nm = sm_scan(&work, mods, M32_MAX_CANDIDATES);
    if (nm > M32_MAX_CANDIDATES)
        abort();
    for (size_t i = 0; i < nm; i++)
        if (mods[i] < SM_AREA || mods[i] % M32_ALIGN)
            abort();
    uint64_t h;
    char why[256];
    memset(why, 'x', sizeof(why));
    int rc = m32_find_head(&m, mods, nm, &h, why, sizeof(why));
    check_why(rc, why, sizeof(why));
    if (rc == 0 && h && (h < m.head_lo || h >= m.head_hi))
        abort();
    if (rc == 0) {
        struct m32_layout l;
        memset(why, 'x', sizeof(why));
        rc = m32_infer(&m, h, &l, why, sizeof(why));
        check_why(rc, why, sizeof(why));
        if (rc == 0 && (l.head != h || l.ring_len > M32_MAX_MODULES ||
                        !memchr(l.ring_end, '\0', sizeof(l.ring_end)) ||
                        (l.core_base != UINT32_MAX &&
                         (l.core_base < M32_HDR || l.core_base + 20 > M32_SPAN ||
                          l.core_size != l.core_base + 4)) ||
                        (l.refcnt != UINT32_MAX && (l.refcnt < M32_HDR + 20 || l.refcnt + 4 > M32_SPAN))))
            abort();
    }

    while (nundo--)
        memcpy(work.mem + undo[nundo].off, &undo[nundo].old, 4);
    return 0;
}
