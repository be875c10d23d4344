/*
 * fuzz_fileread.c -- the fd-table walk, the open-file reader and the mount
 * reader (os/linux/fileread.h) over a fuzzed kernel-address arena: tables,
 * files, inodes, dentries and mounts are whatever the input says.
 *
 * Input: a header, then the arena (at most 64 KiB, mapped at BASE; reads
 * outside it fail):
 *   u16 fdtable, u16 mount, u16 root dentry, u16 root mount (arena offsets;
 *   root 0xffff: the namespace's top)
 * Layout: as tests/unit/test_fileread.c (pseudo-file namers at fixed kernel
 * text addresses).
 *
 * The mount offset is also walked as the root of a red-black tree, and the
 * fd table offset as a 32-bit kernel's (4-byte words, arena at BASE32).
 *
 * Oracles beyond the sanitizers: the result codes are the documented ones,
 * each error with a one-line reason; fds come in increasing order below the
 * table's size; paths and mount strings are terminated in their buffers and
 * a successful path is absolute or a pseudo name.
 */
#include "fuzz_common.h"

#include "arena.h"

#include "os/linux/fileread.h"
#include "xenaccess.h"

#define BASE 0xffff888000000000ULL
#define BASE32 0xC1000000ULL
#define ARENA_MAX (64u << 10)
#define HEADER 8
#define FILES_MAX 32

static void fail(const char *what)
{
    fprintf(stderr, "oracle: %s\n", what);
    abort();
}

static void check_err(int rc, const char *why, const char *what)
{
    if (rc != XA_EFAULT && rc != XA_EBADDATA && rc != XA_ELIMIT)
        fail(what);
    if (!why[0] || strchr(why, '\n'))
        fail("error without a one-line reason");
}

static void check_str(const char *s, size_t cap, const char *what)
{
    if (strnlen(s, cap) == cap)
        fail(what);
}

/* The same arena as a 32-bit kernel's memory (at BASE32, 4-byte pointers
 * and bitmap words; the layout of tests/fuzz/make_seeds.py's fd32 seeds):
 * the fd table at @fdt walked and its files read. */
static void walk32(const uint8_t *data, size_t size, uint64_t fdt)
{
    struct arena a = arena_of_input(data, size, HEADER, ARENA_MAX, BASE32);
    const struct lx_file_layout fl = {
        .d = {.d_parent = 0x10, .d_name_len = 0x18, .d_name_ptr = 0x1c, .d_hash_pprev = 0x4,
              .mnt_root = 0, .mount_mnt = 0x10, .mount_parent = 0x8, .mount_mountpoint = 0xc,
              .has_mounts = true, .ptr_size = 4, .kptr_min = BASE32 & ~0xffffffULL},
        .fdt_max_fds = 0, .fdt_fd = 4, .fdt_close_on_exec = 8, .fdt_open_fds = 12,
        .f_path_mnt = 0, .f_path_dentry = 4, .f_inode = 8, .f_flags = 0xc, .f_pos = 0x10,
        .i_mode = 0, .i_sb = 4, .i_ino = 8, .s_dev = 0, .d_op = 0x20, .d_fsdata = 0x24,
        .dop_d_dname = 0x8, .ns_ops_name = UINT64_MAX,
        .fn_pipe = 0xC1F00100u, .fn_socket = 0xC1F00200u, .fn_anon = 0xC1F00300u,
    };
    char why[LX_WHY_LEN];
    static struct xa_open_file of;
    struct lx_fd_cursor c;
    int rc = lx_fdt_open(&fl, arena_read, &a, BASE32 + fdt, &c, why);
    if (rc < 0) {
        check_err(rc, why, "unexpected 32-bit fd table error code");
        return;
    }
    int32_t fd, last = -1;
    uint64_t file;
    bool cloexec;
    for (int n = 0; n < FILES_MAX; n++) {
        rc = lx_fdt_next(&fl, arena_read, &a, &c, &fd, &file, &cloexec, why);
        if (rc <= 0)
            break;
        if (fd <= last || (uint32_t)fd >= c.max_fds || !file || file > 0xFFFFFFFFull ||
            (file & 3))
            fail("32-bit fd out of order or a file that is no 4-byte kernel pointer");
        last = fd;
        int frc = lx_file_read(&fl, arena_read, &a, file, &of, why);
        if (frc < 0)
            check_err(frc, why, "unexpected 32-bit file error code");
        else
            check_str(of.path, sizeof(of.path), "32-bit file path not terminated");
        if (frc == 0 && !of.path[0])
            fail("empty 32-bit file path");
    }
    if (rc < 0)
        check_err(rc, why, "unexpected 32-bit fd walk error code");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size < HEADER ? size : HEADER};
    uint64_t fdt = fz_take(&r, 2), mount = fz_take(&r, 2), root = fz_take(&r, 2),
             root_mnt = fz_take(&r, 2);
    struct arena a = arena_of_input(data, size, HEADER, ARENA_MAX, BASE);
    const struct lx_dpath_layout d = {
        .d_parent = 0x18, .d_name_len = 0x24, .d_name_ptr = 0x28, .d_hash_pprev = 0x8,
        .mnt_root = 0, .mount_mnt = 0x20, .mount_parent = 0x10, .mount_mountpoint = 0x18,
        .has_mounts = true,
    };
    const struct lx_file_layout fl = {
        .d = d, .fdt_max_fds = 0, .fdt_fd = 8, .fdt_close_on_exec = 0x10, .fdt_open_fds = 0x18,
        .f_path_mnt = 0, .f_path_dentry = 8, .f_inode = 0x10, .f_flags = 0x18, .f_pos = 0x20,
        .i_mode = 0, .i_sb = 8, .i_ino = 0x10, .s_dev = 0, .d_op = 0x30,
        .d_fsdata = 0x40, .dop_d_dname = 0x10, .ns_ops_name = 0x8,
        .fn_pipe = 0xffffffff81000100ULL, .fn_socket = 0xffffffff81000200ULL,
        .fn_anon = 0xffffffff81000300ULL, .fn_ns = 0xffffffff81000400ULL,
        .fn_simple = 0xffffffff81000500ULL,
    };
    const struct lx_mount_layout ml = {
        .d = d, .mnt_id = 0x40, .mnt_group_id = 0x44, .mnt_devname = 0x48, .mnt_master = 0x50,
        .mnt_sb = 8, .mnt_flags = 0x10, .s_dev = 0, .s_type = 8, .s_flags = 0x10,
        .s_subtype = 0x18, .fst_name = 0,
    };
    char why[LX_WHY_LEN];
    static struct xa_open_file of;
    struct lx_fd_cursor c;
    int rc = lx_fdt_open(&fl, arena_read, &a, BASE + fdt, &c, why);
    if (rc < 0) {
        check_err(rc, why, "unexpected fd table error code");
    } else {
        int32_t fd, last = -1;
        uint64_t file;
        bool cloexec;
        for (int n = 0; n < FILES_MAX; n++) {
            rc = lx_fdt_next(&fl, arena_read, &a, &c, &fd, &file, &cloexec, why);
            if (rc <= 0)
                break;
            if (fd <= last || (uint32_t)fd >= c.max_fds || (uint32_t)fd >= LX_FDS_MAX || !file)
                fail("fd out of order, out of the table or without a file");
            last = fd;
            int frc = lx_file_read(&fl, arena_read, &a, file, &of, why);
            if (frc < 0 && frc != XA_EINVAL) {
                check_err(frc, why, "unexpected file error code");
            } else if (frc == 0) {
                check_str(of.path, sizeof(of.path), "file path not terminated");
                if (!of.path[0])
                    fail("empty file path");
            }
        }
        if (rc < 0)
            check_err(rc, why, "unexpected fd walk error code");
    }

    static struct xa_mount m;
    bool visible;
    rc = lx_mount_read(&ml, arena_read, &a, BASE + mount, root == 0xffff ? 0 : BASE + root,
                       root == 0xffff ? 0 : BASE + root_mnt, &m, &visible, why);
    if (rc < 0) {
        check_err(rc, why, "unexpected mount error code");
    } else {
        check_str(m.root, sizeof(m.root), "mount root not terminated");
        check_str(m.mount_point, sizeof(m.mount_point), "mount point not terminated");
        check_str(m.fstype, sizeof(m.fstype), "type not terminated");
        check_str(m.source, sizeof(m.source), "source not terminated");
        if (m.root[0] != '/' || m.mount_point[0] != '/')
            fail("mount paths not absolute");
    }

    walk32(data, size, fdt);

    /* The same offset as the root of a red-black tree (6.8+ mount lists). */
    struct lx_rb_walk w;
    uint64_t node, n = 0;
    lx_rb_init(&w, BASE + mount, 0, 16, 8, 4096);
    while ((rc = lx_rb_next(&w, arena_read, &a, &node, why)) == 1)
        if (++n > 4096 || node < BASE)
            fail("tree walk past its cap or outside memory");
    if (rc < 0)
        check_err(rc, why, "unexpected tree walk error code");
    return 0;
}
