/*
 * fuzz_vma32.c -- the 32-bit memory-map layout inference (os/linux/vma32.c)
 * and the maple walker with 4-byte longs (os/linux/maple.c) over synthetic
 * processes (tests/unit/synthetic_vma32.h) that the input rewrites.
 *
 * Input: byte 0 picks the layout (bit 0), the number of processes (bits
 * 1..3, 1 to 8) and whether odd ones get two-level trees (bit 4); then
 * records of 8 bytes, at most 64:
 *   u24 offset into the 4 MiB of kernel memory (rounded down to 4), u8 kind,
 *   u32 value
 * kind 0: write value; 1: a pointer into the memory (value % 4 MiB), with
 * the low byte's bits 0..6 kept (a maple enode's type and tag); 2: a
 * pointer to a process's mm_struct (value % processes) plus value >> 8 %
 * 1024; 3: write value's low byte.
 * The patches are undone after each input.
 *
 * Oracles beyond the sanitizers: the inference and every walk end
 * (libFuzzer's timeout), return 0 or a negative XA_E*, the reason is one
 * terminated line, a walk's entries are in index order inside the kernel,
 * and an inferred layout lies within the windows the inference searches.
 */
#include "fuzz_common.h"

#include "synthetic_vma32.h"

#define MAX_PATCHES 64

static struct sv_guest work;
static unsigned built = 999;

static void build(unsigned how)
{
    if (how == built)
        return;
    if (built != 999)
        arena_free(&work.a);
    sv_init(&work, how & 1 ? &sv_pae : &sv_686);
    unsigned n = 1 + (how >> 1 & 7);
    for (unsigned i = 0; i < n; i++)
        sv_typical(&work, i, (how & 16) && i % 2);
    built = how;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_why(int rc, const char *why)
{
    if (rc > 0 || (rc < 0 && (!memchr(why, '\0', LX_WHY_LEN) || strchr(why, '\n'))))
        abort();
}

static void walk_all(void)
{
    struct maple_geom g = maple_geom_32(SV_PAGE_OFFSET);
    for (size_t j = 0; j < work.nmms; j++) {
        uint32_t root;
        memcpy(&root, work.a.owned + (work.mms[j] + 4 - SV_BASE), 4);
        struct maple_entry *e;
        size_t n;
        char why[LX_WHY_LEN];
        memset(why, 'x', sizeof(why));
        int rc = maple_collect(&g, arena_read, &work.a, root, &e, &n, why);
        check_why(rc, why);
        for (size_t i = 0; i < n; i++)
            if (e[i].first > e[i].last || e[i].last > 0xFFFFFFFFull || e[i].ptr < SV_PAGE_OFFSET ||
                (i && e[i].first <= e[i - 1].last))
                abort();
        free(e);
    }
}

/* Special mappings found (both offsets in the window, their ops a kernel
 * pointer) or none in the sample (both unknown, no ops). */
static bool specials_ok(const struct v32_layout *l)
{
    if (l->vm_ops == UINT32_MAX || l->vm_private == UINT32_MAX)
        return l->vm_ops == l->vm_private && l->special_ops == 0;
    return l->vm_ops < V32_VMA_SPAN && l->vm_private < V32_VMA_SPAN &&
           l->special_ops >= SV_PAGE_OFFSET;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    unsigned how = (unsigned)fz_take(&r, 1) & 31;
    build(how);

    struct { uint32_t off, old; } undo[MAX_PATCHES];
    size_t nundo = 0;
    while (r.left >= 8 && nundo < MAX_PATCHES) {
        uint32_t off = (uint32_t)fz_take(&r, 3) & (SV_ARENA - 4); /* a power of 2 */
        unsigned kind = (unsigned)fz_take(&r, 1) % 4;
        uint32_t v = (uint32_t)fz_take(&r, 4);
        undo[nundo].off = off;
        memcpy(&undo[nundo].old, work.a.owned + off, 4);
        nundo++;
        switch (kind) {
        case 0:
            break;
        case 1:
            v = (uint32_t)(SV_BASE + (v % SV_ARENA & ~0x7fu)) | (v & 0x7fu);
            break;
        case 2:
            v = (uint32_t)work.mms[(v & 0xff) % work.nmms] + (v >> 8) % V32_MM_SPAN;
            break;
        default:
            v = (undo[nundo - 1].old & ~0xffu) | (v & 0xffu);
            break;
        }
        memcpy(work.a.owned + off, &v, 4);
    }

    walk_all();
    struct v32_mem m = sv_mem(&work);
    struct v32_layout l;
    char why[LX_WHY_LEN];
    memset(why, 'x', sizeof(why));
    int rc = v32_infer(&m, work.mms, work.nmms, &l, why);
    check_why(rc, why);
    if (rc == 0 && (l.mm_root >= V32_MM_ROOT_SPAN || l.mm_start_stack + 20 > V32_MM_SPAN ||
                    l.vm_flags >= V32_VMA_SPAN || l.vm_file >= V32_VMA_SPAN ||
                    l.vm_pgoff >= V32_VMA_SPAN || !specials_ok(&l) || l.f_path + 8 > V32_FILE_SPAN ||
                    l.d_name + 12 > V32_DENTRY_SPAN || l.d_parent >= V32_DENTRY_SPAN ||
                    l.mount_mnt > V32_MOUNT_SPAN || l.nr_mms > work.nmms || l.nr_files == 0))
        abort();

    while (nundo--)
        memcpy(work.a.owned + undo[nundo].off, &undo[nundo].old, 4);
    return 0;
}
