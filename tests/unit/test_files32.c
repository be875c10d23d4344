/*
 * test_files32.c -- the 32-bit open-file layout inference (os/linux/files32.c)
 * and fileread.c's 4-byte walk over synthetic 32-bit structures: kernel
 * threads sharing init_files, processes with embedded fd tables, files on
 * three super blocks (a device, a regular file, a pipe). The layout is found
 * exactly and the files read back as /proc shows them; a second copy of
 * d_inode in every dentry, or no kernel thread to anchor task->files, is
 * refused in one line; one process whose table lies is left out while the
 * others agree, and its walk then fails.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "os/linux/fileread.h"
#include "synthetic_files32.h"

static int infer(struct f32_layout *l, char *why, uint64_t init_files)
{
    struct f32_mem m = {.read = arena_read, .ctx = &A, .page_offset = SF_PAGE_OFFSET};
    struct f32_known k = {.f_path = F_PATH, .mnt_root = V_ROOT, .init_files = init_files,
                          .dnames = {SF_FN_PIPE, SF_FN_SOCK}};
    return f32_infer(&m, &k, tasks, ntasks, l, why);
}

static void test_layout_and_read_back(void)
{
    uint32_t fs = sf_build(8, 3);
    struct f32_layout l;
    char why[LX_WHY_LEN];
    CHECK(infer(&l, why, get32(tasks[0].task + T_FILES)) == 0, "%s", why);
    CHECK(l.task_files == T_FILES && l.files_fdt == FS_FDT && l.fdt_max_fds == FT_MAX &&
          l.fdt_fd == FT_FD && l.fdt_open_fds == FT_OPEN && l.fdt_cloexec == FT_CLOEXEC);
    CHECK(l.f_inode == F_INODE && l.d_inode == D_INODE && l.f_flags == F_FLAGS &&
          l.f_mode == F_MODE && l.f_pos == F_POS);
    CHECK(l.i_mode == 0 && l.i_sb == I_SB && l.i_ino == I_INO && l.s_dev == S_DEV);
    CHECK(l.d_op == D_OP && l.dop_d_dname == DOP_DNAME);
    CHECK(l.nprocs == 8 && l.nfiles == 32 && l.nsbs == 3);
    /* without the init_files symbol: the kernel threads still agree */
    CHECK(infer(&l, why, 0) == 0 && l.task_files == T_FILES, "%s", why);

    /* fileread.c walks the first process with 4-byte words */
    struct lx_file_layout fl = {
        .d = {.d_parent = D_PARENT, .d_name_len = D_NAME + 4, .d_name_ptr = D_NAME + 8,
              .d_hash_pprev = UINT64_MAX, .mnt_root = V_ROOT, .mount_mnt = MOUNT_MNT,
              .mount_parent = MOUNT_PARENT, .mount_mountpoint = MOUNT_MOUNTPOINT,
              .has_mounts = true, .ptr_size = 4, .kptr_min = SF_PAGE_OFFSET},
        .fdt_max_fds = l.fdt_max_fds, .fdt_fd = l.fdt_fd, .fdt_open_fds = l.fdt_open_fds,
        .fdt_close_on_exec = l.fdt_cloexec, .f_path_mnt = F_PATH, .f_path_dentry = F_PATH + 4,
        .f_inode = l.f_inode, .f_flags = l.f_flags, .f_pos = l.f_pos, .i_mode = l.i_mode,
        .i_ino = l.i_ino, .i_sb = l.i_sb, .s_dev = l.s_dev, .d_op = l.d_op,
        .dop_d_dname = l.dop_d_dname, .ns_ops_name = UINT64_MAX, .fn_pipe = SF_FN_PIPE,
        .fn_socket = SF_FN_SOCK,
    };
    struct lx_fd_cursor c;
    int32_t fd;
    uint64_t f;
    bool cloexec;
    static struct xa_open_file of;
    CHECK(lx_fdt_open(&fl, arena_read, &A, fs + FS_FDTAB, &c, why) == 0 && c.max_fds == 32, "%s",
          why);
    const int32_t want_fd[] = {0, 1, 2, 5};
    const char *want_path[] = {"/null", "/out.txt", "/rw.txt", "pipe:["};
    for (size_t i = 0; i < 4; i++) {
        CHECK(lx_fdt_next(&fl, arena_read, &A, &c, &fd, &f, &cloexec, why) == 1 &&
                  fd == want_fd[i] && cloexec == (i == 3),
              "fd %zu: %s", i, why);
        CHECK(lx_file_read(&fl, arena_read, &A, f, &of, why) == 0, "%s", why);
        CHECK(strncmp(of.path, want_path[i], strlen(want_path[i])) == 0, "%s", of.path);
    }
    CHECK(lx_fdt_next(&fl, arena_read, &A, &c, &fd, &f, &cloexec, why) == 0);
    /* the last file read: the pipe, on the third super block */
    CHECK(of.dev_major == 0 && of.dev_minor == 12 && of.mode == 010600 && of.pos == 0);
    char want[32];
    snprintf(want, sizeof(want), "pipe:[%llu]", (unsigned long long)of.inode);
    CHECK(strcmp(of.path, want) == 0 && of.inode >= 100, "%s", of.path);

    /* one process whose fd array points at its own table: the layout holds
     * (7/8 of the processes agree) and its walk fails, bounded */
    put32(fs + FS_FDTAB + FT_FD, fs + FS_FDTAB);
    CHECK(infer(&l, why, 0) == 0 && l.fdt_fd == FT_FD && l.nfiles == 28, "%s", why);
    CHECK(lx_fdt_open(&fl, arena_read, &A, fs + FS_FDTAB, &c, why) == 0);
    CHECK(lx_fdt_next(&fl, arena_read, &A, &c, &fd, &f, &cloexec, why) == XA_EBADDATA &&
          strstr(why, "bad file pointer"), "%s", why);
    arena_free(&A);
}

static void test_refusals(void)
{
    struct f32_layout l;
    char why[LX_WHY_LEN];
    /* every dentry holds its inode twice: f_inode == d_inode is ambiguous */
    sf_build(6, 3);
    for (uint64_t va = SF_BASE + 64; va + 128 <= A.top; va += 64) {
        uint32_t maybe_inode = get32(va + D_INODE);
        if (get32(va + D_NAME + 8) == va + D_INAME) /* a dentry */
            put32(va + 0x70, maybe_inode);
    }
    CHECK(infer(&l, why, 0) == XA_EBADDATA && strstr(why, "more than one offset fits") &&
              strstr(why, "f_inode"), "%s", why);
    arena_free(&A);
    /* no kernel thread: nothing anchors task->files */
    sf_build(6, 0);
    CHECK(infer(&l, why, 0) == XA_EBADDATA && strstr(why, "task_struct.files"), "%s", why);
    arena_free(&A);
    /* two access modes never seen: f_flags is not pinned down */
    sf_build(6, 3);
    for (uint64_t va = SF_BASE + 64; va + 128 <= A.top; va += 64)
        if (get32(va + F_WAITLIST) == va + F_WAITLIST) { /* a file: all read-only */
            put32(va + F_FLAGS, get32(va + F_FLAGS) & ~3u);
            put32(va + F_MODE, (get32(va + F_MODE) & ~3u) | 1);
        }
    CHECK(infer(&l, why, 0) == XA_EBADDATA && strstr(why, "f_flags"), "%s", why);
    arena_free(&A);
}

int main(void)
{
    test_layout_and_read_back();
    test_refusals();
    CHECK_DONE();
}
