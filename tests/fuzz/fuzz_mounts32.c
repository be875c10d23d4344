/*
 * fuzz_mounts32.c -- the 32-bit mount-namespace inference (os/linux/
 * mounts32.c) and lx_mount_read with 4-byte pointers over the synthetic
 * guest of tests/unit/synthetic_mounts32.h that the input rewrites.
 *
 * Input: records of 8 bytes, at most 64:
 *   u24 offset into the memory built (rounded down to 4), u8 kind, u32 value
 * kind 0: write value; 1: a pointer into the memory built (value modulo
 * its size, 4-aligned); 2: a pointer near a task (value % tasks, plus
 * value >> 8 % 4096); 3: write value's low byte.
 *
 * Oracles beyond the sanitizers: the inference ends (libFuzzer's timeout),
 * returns 0 or a negative XA_E*, its reason is one terminated line, an
 * inferred layout lies within the windows searched and rests on what was
 * built; every mount of the namespaces then reads or fails in one line.
 */
#include "fuzz_common.h"

#include "os/linux/fileread.h"
#include "synthetic_mounts32.h"

#define MAX_PATCHES 64

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

static bool in_windows(const struct mn32_layout *l)
{
    return l->task_nsproxy < MN32_TASK_SPAN && l->task_fs < MN32_TASK_SPAN &&
           l->fs_root < MN32_SMALL_SPAN && l->nsproxy_mnt_ns <= 32 &&
           l->ns_root < MN32_NS_SPAN && l->ns_list < MN32_NS_SPAN &&
           l->mnt_list < MN32_MOUNT_SPAN && l->mnt_id < MN32_MOUNT_SPAN &&
           l->mnt_devname < MN32_MOUNT_SPAN && l->mnt_sb < MN32_VFS_SPAN &&
           l->mnt_flags < MN32_VFS_SPAN && l->s_type < MN32_SB_SPAN &&
           l->s_flags < MN32_SB_SPAN && l->s_dev < MN32_SMALL_SPAN && l->nr_ns >= 1 &&
           l->nr_ns <= ntasks + 1 && l->nr_mounts >= l->nr_ns && l->nr_sbs >= 2;
}

/* Read every mount of init_task's namespace with the layout found. */
static void read_mounts(const struct mn32_layout *l)
{
    struct lx_mount_layout ml = {
        .d = {.d_parent = D_PARENT, .d_name_len = D_NAME + 4, .d_name_ptr = D_NAME + 8,
              .d_hash_pprev = UINT64_MAX, .mnt_root = V_ROOT, .mount_mnt = M_MNT,
              .mount_parent = M_PARENT, .mount_mountpoint = M_MOUNTPOINT, .has_mounts = true,
              .ptr_size = 4, .kptr_min = PAGE_OFFSET},
        .mnt_id = l->mnt_id, .mnt_devname = l->mnt_devname,
        .mnt_master = l->mnt_master == MN32_NONE ? UINT64_MAX : l->mnt_master,
        .mnt_group_id = l->mnt_group_id == MN32_NONE ? UINT64_MAX : l->mnt_group_id,
        .mnt_sb = l->mnt_sb, .mnt_flags = l->mnt_flags, .s_dev = l->s_dev, .s_type = l->s_type,
        .s_flags = l->s_flags, .s_subtype = UINT64_MAX, .fst_name = 0, .fst_flags = 4};
    uint32_t nsp, ns = 0, node = 0;
    memcpy(&nsp, arena_at(&a, init_task + l->task_nsproxy, 4), 4);
    if (arena_read(&a, nsp + l->nsproxy_mnt_ns, &ns, 4) < 0 ||
        arena_read(&a, ns + l->ns_list, &node, 4) < 0)
        return;
    for (int i = 0; i < 64 && node != ns + l->ns_list; i++) {
        struct xa_mount out;
        bool visible;
        char why[LX_WHY_LEN];
        memset(why, 'x', sizeof(why));
        int rc = lx_mount_read(&ml, arena_read, &a, node - l->mnt_list, 0, 0, &out, &visible,
                               why);
        check_why(rc, why);
        if (arena_read(&a, node, &node, 4) < 0)
            return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    build();
    uint32_t used = (uint32_t)(a.top - BASE) & ~3u;
    for (size_t n = 0; r.left >= 8 && n < MAX_PATCHES; n++) {
        uint32_t off = (uint32_t)fz_take(&r, 3) % used & ~3u;
        unsigned kind = (unsigned)fz_take(&r, 1) % 4;
        uint32_t v = (uint32_t)fz_take(&r, 4);
        switch (kind) {
        case 0:
            break;
        case 1:
            v = BASE + (v % used & ~3u);
            break;
        case 2:
            v = tasks[(v & 0xff) % ntasks] + (v >> 8) % MN32_TASK_SPAN;
            break;
        default:
            v = (*(uint32_t *)arena_at(&a, BASE + off, 4) & ~0xffu) | (v & 0xffu);
            break;
        }
        arena_put32(&a, BASE + off, v);
    }
    struct mn32_layout l;
    char why[LX_WHY_LEN];
    memset(why, 'x', sizeof(why));
    int rc = infer(&l, why);
    check_why(rc, why);
    if (rc == 0 && !in_windows(&l))
        abort();
    if (rc == 0)
        read_mounts(&l);
    arena_free(&a);
    return 0;
}
