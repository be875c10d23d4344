/*
 * fuzz_task32.c -- the 32-bit task_struct layout inference (os/linux/task32.c)
 * over a synthetic task list (tests/unit/synthetic_task32.h) that the input
 * rewrites.
 *
 * Input: byte 0 picks the layout (bit 0) and the number of tasks (20 +
 * byte / 2 % 40); then records of 8 bytes, at most 64:
 *   u24 offset into the 1 MiB of kernel memory (rounded down to 4), u8 kind,
 *   u32 value
 * kind 0: write value; 1: a pointer into task (value & 0xff) % n at byte
 * (value >> 8) % 4096 of it; 2: a pointer anywhere in the memory
 * (value % 1 MiB); 3: write value's low byte.
 * The patches are undone after each input.
 *
 * Oracles beyond the sanitizers: the inference ends (libFuzzer's timeout),
 * returns 0 or a negative XA_E*, its reason is one terminated line, and an
 * inferred layout lies within the bounds the inference promises.
 */
#include "fuzz_common.h"

#include "synthetic_task32.h"

#define MAX_PATCHES 64

static struct s32_guest work; /* rebuilt when the layout or count changes */
static unsigned built_layout = 99, built_n;

static void build(unsigned layout, uint32_t n)
{
    if (layout == built_layout && n == built_n)
        return;
    s32_build(&work, layout ? &s32_other : &s32_debian61, n);
    built_layout = layout;
    built_n = n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    unsigned head = (unsigned)fz_take(&r, 1);
    unsigned layout = head & 1;
    uint32_t n = 20 + (head / 2) % 40;
    build(layout, n);

    struct { uint32_t off, old; } undo[MAX_PATCHES];
    size_t nundo = 0;
    while (r.left >= 8 && nundo < MAX_PATCHES) {
        uint32_t off = (uint32_t)fz_take(&r, 3) & (S32_SIZE - 4); /* S32_SIZE: a power of 2 */
        unsigned kind = (unsigned)fz_take(&r, 1) % 4;
        uint32_t v = (uint32_t)fz_take(&r, 4);
        undo[nundo].off = off;
        memcpy(&undo[nundo].old, work.mem + off, 4);
        nundo++;
        switch (kind) {
        case 0:
            break;
        case 1:
            v = s32_task((v & 0xff) % n) + (v >> 8) % 4096;
            break;
        case 2:
            v = S32_BASE + v % S32_SIZE;
            break;
        default:
            v = (undo[nundo - 1].old & ~0xffu) | (v & 0xffu);
            break;
        }
        memcpy(work.mem + off, &v, 4);
    }

    struct t32_mem m = s32_mem(&work);
    uint64_t comms[T32_MAX_COMMS];
    size_t nc;
    t32_find_comms(&m, S32_BASE, S32_BASE + S32_SIZE, comms, T32_MAX_COMMS, &nc);
    if (nc > T32_MAX_COMMS)
        abort();
    struct t32_layout l;
    char why[256];
    memset(why, 'x', sizeof(why));
    int rc = t32_infer(&m, comms, nc, &l, why, sizeof(why));
    if (rc > 0 || (rc < 0 && (!memchr(why, '\0', sizeof(why)) || strchr(why, '\n'))))
        abort();
    if (rc == 0) {
        const uint32_t fields[] = {l.tasks, l.pid, l.tgid, l.real_parent, l.mm, l.active_mm,
                                   l.real_cred, l.state, l.stack, l.flags};
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            if (fields[i] + 4 > l.comm)
                abort();
        if (l.comm + 16 != l.task_size || l.tasks > T32_BEFORE ||
            l.comm > T32_BEFORE + T32_COMM_BACK || l.mm_pgd >= T32_MM_SPAN ||
            l.ring_len > T32_MAX_RING || l.init_task < S32_BASE ||
            l.init_task >= S32_BASE + S32_SIZE || !memchr(l.ring_end, '\0', sizeof(l.ring_end)))
            abort();
    }

    while (nundo--)
        memcpy(work.mem + undo[nundo].off, &undo[nundo].old, 4);
    return 0;
}
