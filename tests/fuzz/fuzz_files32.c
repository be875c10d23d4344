/*
 * fuzz_files32.c -- the 32-bit open-file layout inference (os/linux/files32.c)
 * and fileread.c's 4-byte fd walk over the synthetic guest of
 * tests/unit/synthetic_files32.h, which the input rewrites.
 *
 * Input: byte 0 picks the number of processes (bits 0..2: 1 to 8) and of
 * kernel threads (bits 3..4: 0 to 3); then records of 8 bytes, at most 64:
 *   u24 offset into the guest's memory used (modulo its size, rounded down
 *   to 4), u8 kind, u32 value
 * kind 0: write value; 1: a pointer into the memory used (value modulo its
 * size); 2: a pointer to the same word (a self-pointing slot); 3: write the
 * value's low byte. The patches are undone after each input.
 *
 * Oracles beyond the sanitizers: the inference ends (libFuzzer's timeout),
 * returns 0 or a negative XA_E* with one terminated line, an inferred layout
 * lies within the windows searched; then every sampled process's fd table
 * walks with that layout in fd order below its size, each file read or
 * refused with one of the documented codes.
 */
#include "fuzz_common.h"
#include "patch32.h"

#include "os/linux/fileread.h"
#include "synthetic_files32.h"

#define MAX_PATCHES 64

static unsigned built = 999;

static void build(unsigned how)
{
    if (how == built)
        return;
    if (built != 999)
        arena_free(&A);
    sf_build(1 + (how & 7), how >> 3 & 3);
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
    if (rc > 0 || (rc < 0 && (!memchr(why, '\0', LX_WHY_LEN) || !why[0] || strchr(why, '\n'))))
        abort();
}

static void check_layout(const struct f32_layout *l)
{
    if (l->task_files >= F32_TASK_SPAN || l->files_fdt >= F32_FDT_SPAN ||
        l->fdt_max_fds >= F32_FDTAB_SPAN || l->fdt_fd >= F32_FDTAB_SPAN ||
        l->fdt_open_fds >= F32_FDTAB_SPAN || l->fdt_cloexec >= F32_FDTAB_SPAN ||
        l->f_inode >= F32_FILE_SPAN || l->f_flags >= F32_FILE_SPAN ||
        l->f_pos + 8 > F32_FILE_SPAN || l->d_inode >= F32_DENTRY_SPAN ||
        l->d_op >= F32_DENTRY_SPAN || l->dop_d_dname >= F32_DOPS_SPAN ||
        l->i_sb >= F32_INODE_SPAN || l->i_ino >= F32_INODE_SPAN || l->s_dev >= F32_SB_SPAN)
        abort();
}

/* Every task's table walked with the inferred layout. */
static void walk_all(const struct f32_layout *l)
{
    const struct lx_file_layout fl = {
        .d = {.d_parent = D_PARENT, .d_name_len = D_NAME + 4, .d_name_ptr = D_NAME + 8,
              .d_hash_pprev = UINT64_MAX, .mnt_root = V_ROOT, .mount_mnt = MOUNT_MNT,
              .mount_parent = MOUNT_PARENT, .mount_mountpoint = MOUNT_MOUNTPOINT,
              .has_mounts = true, .ptr_size = 4, .kptr_min = SF_PAGE_OFFSET},
        .fdt_max_fds = l->fdt_max_fds, .fdt_fd = l->fdt_fd, .fdt_open_fds = l->fdt_open_fds,
        .fdt_close_on_exec = l->fdt_cloexec, .f_path_mnt = F_PATH, .f_path_dentry = F_PATH + 4,
        .f_inode = l->f_inode, .f_flags = l->f_flags, .f_pos = l->f_pos, .i_mode = l->i_mode,
        .i_ino = l->i_ino, .i_sb = l->i_sb, .s_dev = l->s_dev, .d_op = l->d_op,
        .dop_d_dname = l->dop_d_dname, .ns_ops_name = UINT64_MAX, .fn_pipe = SF_FN_PIPE,
        .fn_socket = SF_FN_SOCK,
    };
    char why[LX_WHY_LEN];
    static struct xa_open_file of;
    for (size_t i = 0; i < ntasks; i++) {
        uint32_t files = 0, fdt = 0;
        if (arena_read(&A, tasks[i].task + l->task_files, &files, 4) < 0 || files == 0 ||
            arena_read(&A, files + l->files_fdt, &fdt, 4) < 0)
            continue;
        struct lx_fd_cursor c;
        int rc = lx_fdt_open(&fl, arena_read, &A, fdt, &c, why);
        check_why(rc, why);
        if (rc < 0)
            continue;
        int32_t fd, last = -1;
        uint64_t f;
        bool cloexec;
        for (int n = 0; n < 64 && (rc = lx_fdt_next(&fl, arena_read, &A, &c, &fd, &f, &cloexec,
                                                     why)) == 1; n++) {
            if (fd <= last || (uint32_t)fd >= c.max_fds || f == 0 || f > 0xFFFFFFFFu)
                abort();
            last = fd;
            int frc = lx_file_read(&fl, arena_read, &A, f, &of, why);
            check_why(frc, why);
            if (frc == 0 && !memchr(of.path, '\0', sizeof(of.path)))
                abort();
        }
        check_why(rc, why);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    build(data[0] & 31);
    const uint64_t used = (A.top - SF_BASE) & ~3ull;
    struct patch32_undo undo[MAX_PATCHES];
    size_t n = patch32_apply(&A, SF_BASE, used, data, size, undo, MAX_PATCHES);
    struct f32_mem m = {.read = arena_read, .ctx = &A, .page_offset = SF_PAGE_OFFSET};
    struct f32_known k = {.f_path = F_PATH, .mnt_root = V_ROOT,
                          .dnames = {SF_FN_PIPE, SF_FN_SOCK}};
    struct f32_layout l;
    char why[LX_WHY_LEN];
    int rc = f32_infer(&m, &k, tasks, ntasks, &l, why);
    check_why(rc, why);
    if (rc == 0) {
        check_layout(&l);
        walk_all(&l);
    }
    patch32_undo(&A, undo, n);
    return 0;
}
