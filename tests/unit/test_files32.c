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

#include "arena.h"
#include "check.h"
#include "os/linux/fileread.h"
#include "os/linux/files32.h"

#define BASE 0xC1000000u
#define PAGE_OFFSET 0xC0000000u
#define ARENA (4u << 20)
#define FN_PIPE 0xC1F00100u
#define FN_SOCK 0xC1F00200u

/* The synthetic kernel's offsets (not Debian's: nothing is assumed). */
enum {
    T_FILES = 0x3a4,                                            /* task_struct */
    FS_FDT = 0x14, FS_FDTAB = 0x18, FS_CLOEXEC = 0x60, FS_OPEN = 0x64, FS_FULL = 0x68,
    FS_FDS = 0x80,                                              /* files_struct */
    FT_MAX = 0, FT_FD = 4, FT_CLOEXEC = 8, FT_OPEN = 12, FT_FULL = 16, /* fdtable */
    F_PATH = 8, F_INODE = 16, F_OP = 20, F_COUNT = 28, F_FLAGS = 32, F_MODE = 36,
    F_LOCK = 40, F_WAITLIST = 48, F_POS = 56,                   /* file */
    D_PARENT = 0x10, D_NAME = 0x14, D_INODE = 0x20, D_INAME = 0x24, D_OP = 0x60, /* dentry */
    DOP_DNAME = 0x24,                                           /* dentry_operations */
    I_SB = 0x18, I_MAPPING = 0x1c, I_SECURITY = 0x20, I_INO = 0x24, I_NLINK = 0x28, /* inode */
    S_DEV = 8,                                                  /* super_block */
    MOUNT_PARENT = 8, MOUNT_MOUNTPOINT = 12, MOUNT_MNT = 16,     /* mount */
    V_ROOT = 0, V_SB = 4, V_FLAGS = 8,                          /* vfsmount */
};

static struct arena A;
static struct f32_task tasks[64];
static size_t ntasks;
static uint32_t sbs[3], mnts[3], roots[3], pipe_ops, ino_next = 100;

static uint32_t alloc(size_t n)
{
    return (uint32_t)arena_alloc(&A, n);
}

static void put32(uint64_t va, uint32_t v)
{
    arena_put32(&A, va, v);
}

static uint32_t get32(uint64_t va)
{
    uint32_t v;
    memcpy(&v, arena_at(&A, va, 4), 4);
    return v;
}

static uint32_t dentry(const char *name, uint32_t parent, uint32_t inode, uint32_t ops)
{
    uint32_t d = alloc(128);
    size_t len = strlen(name);
    put32(d + D_PARENT, parent ? parent : d);
    put32(d + D_NAME, 0x5a5a5a5a); /* hash */
    put32(d + D_NAME + 4, (uint32_t)len);
    put32(d + D_NAME + 8, d + D_INAME);
    arena_put(&A, d + D_INAME, name, len + 1);
    put32(d + D_INODE, inode);
    put32(d + D_OP, ops);
    return d;
}

static uint32_t inode(uint16_t mode, int sb)
{
    uint32_t i = alloc(96);
    arena_put16(&A, i, mode);
    put32(i + I_SB, sbs[sb]);
    put32(i + I_MAPPING, i + 0x40);
    put32(i + I_SECURITY, alloc(16));
    put32(i + I_INO, ino_next++);
    put32(i + I_NLINK, 1);
    return i;
}

/* A struct file on mount @sb: its own inode and dentry under the mount's root. */
static uint32_t file(const char *name, uint16_t mode, int sb, uint32_t flags, uint32_t pos)
{
    uint32_t f = alloc(128), in = inode(mode, sb);
    uint32_t d = dentry(name, roots[sb], in, sb == 2 ? pipe_ops : 0);
    put32(f + F_PATH, mnts[sb]);
    put32(f + F_PATH + 4, d);
    put32(f + F_INODE, in);
    put32(f + F_OP, 0xC1F01000u);
    put32(f + F_COUNT, 1);
    put32(f + F_FLAGS, flags);
    put32(f + F_MODE, ((flags & 3) + 1) | 0x4000);
    put32(f + F_WAITLIST, f + F_WAITLIST); /* f_pos_lock's empty wait_list */
    put32(f + F_WAITLIST + 4, f + F_WAITLIST);
    put32(f + F_POS, pos);
    return f;
}

static uint32_t files_struct(void)
{
    uint32_t fs = alloc(512);
    put32(fs, 1);
    put32(fs + FS_FDT, fs + FS_FDTAB);
    put32(fs + FS_FDTAB + FT_MAX, 32);
    put32(fs + FS_FDTAB + FT_FD, fs + FS_FDS);
    put32(fs + FS_FDTAB + FT_CLOEXEC, fs + FS_CLOEXEC);
    put32(fs + FS_FDTAB + FT_OPEN, fs + FS_OPEN);
    put32(fs + FS_FDTAB + FT_FULL, fs + FS_FULL);
    return fs;
}

static void install(uint32_t fs, uint32_t fd, uint32_t f, bool cloexec)
{
    put32(fs + FS_FDS + fd * 4, f);
    put32(fs + FS_OPEN, get32(fs + FS_OPEN) | 1u << fd);
    if (cloexec)
        put32(fs + FS_CLOEXEC, get32(fs + FS_CLOEXEC) | 1u << fd);
}

static void task(uint32_t files, bool kthread)
{
    uint32_t t = alloc(4096);
    put32(t + T_FILES, files);
    tasks[ntasks++] = (struct f32_task){.task = t, .mm = kthread ? 0 : alloc(64)};
}

/* The guest: 3 kernel threads, @procs processes with 4 files each. */
static uint32_t build(size_t procs, size_t kthreads)
{
    arena_init(&A, BASE, ARENA, 64);
    ntasks = 0;
    ino_next = 100;
    pipe_ops = alloc(64);
    put32(pipe_ops + DOP_DNAME, FN_PIPE);
    for (int s = 0; s < 3; s++) {
        sbs[s] = alloc(32);
        uint32_t mount = alloc(64);
        mnts[s] = mount + MOUNT_MNT;
        roots[s] = dentry("/", 0, inode(040755, s), 0);
        put32(mount + MOUNT_PARENT, mount);
        put32(mount + MOUNT_MOUNTPOINT, roots[s]);
        put32(mnts[s] + V_ROOT, roots[s]);
        put32(mnts[s] + V_SB, sbs[s]);
        put32(mnts[s] + V_FLAGS, 0x20);
    }
    for (int s = 0; s < 3; s++) { /* s_list: a ring of the super blocks */
        put32(sbs[s], sbs[(s + 1) % 3]);
        put32(sbs[s] + 4, sbs[(s + 2) % 3]);
        put32(sbs[s] + S_DEV, s == 0 ? 5u : s == 1 ? (8u << 20) | 1 : 12);
    }
    uint32_t init_files = files_struct();
    for (size_t k = 0; k < kthreads; k++)
        task(init_files, true);
    uint32_t first = 0;
    for (size_t p = 0; p < procs; p++) {
        uint32_t fs = files_struct();
        first = first ? first : fs;
        install(fs, 0, file("null", 020666, 0, 0100000, 0), false);
        install(fs, 1, file("out.txt", 0100644, 1, 0100001, 267 + (uint32_t)p), false);
        install(fs, 2, file("rw.txt", 0100600, 1, 0100002, 0), false);
        install(fs, 5, file("pipe", 010600, 2, 0, 0), p % 2 == 0);
        task(fs, false);
    }
    return first;
}

static int infer(struct f32_layout *l, char *why, uint64_t init_files)
{
    struct f32_mem m = {.read = arena_read, .ctx = &A, .page_offset = PAGE_OFFSET};
    struct f32_known k = {.f_path = F_PATH, .mnt_root = V_ROOT, .init_files = init_files,
                          .dnames = {FN_PIPE, FN_SOCK}};
    return f32_infer(&m, &k, tasks, ntasks, l, why);
}

static void test_layout_and_read_back(void)
{
    uint32_t fs = build(8, 3);
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
              .has_mounts = true, .ptr_size = 4, .kptr_min = PAGE_OFFSET},
        .fdt_max_fds = l.fdt_max_fds, .fdt_fd = l.fdt_fd, .fdt_open_fds = l.fdt_open_fds,
        .fdt_close_on_exec = l.fdt_cloexec, .f_path_mnt = F_PATH, .f_path_dentry = F_PATH + 4,
        .f_inode = l.f_inode, .f_flags = l.f_flags, .f_pos = l.f_pos, .i_mode = l.i_mode,
        .i_ino = l.i_ino, .i_sb = l.i_sb, .s_dev = l.s_dev, .d_op = l.d_op,
        .dop_d_dname = l.dop_d_dname, .ns_ops_name = UINT64_MAX, .fn_pipe = FN_PIPE,
        .fn_socket = FN_SOCK,
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
    build(6, 3);
    for (uint64_t va = BASE + 64; va + 128 <= A.top; va += 64) {
        uint32_t maybe_inode = get32(va + D_INODE);
        if (get32(va + D_NAME + 8) == va + D_INAME) /* a dentry */
            put32(va + 0x70, maybe_inode);
    }
    CHECK(infer(&l, why, 0) == XA_EBADDATA && strstr(why, "more than one offset fits") &&
              strstr(why, "f_inode"), "%s", why);
    arena_free(&A);
    /* no kernel thread: nothing anchors task->files */
    build(6, 0);
    CHECK(infer(&l, why, 0) == XA_EBADDATA && strstr(why, "task_struct.files"), "%s", why);
    arena_free(&A);
    /* two access modes never seen: f_flags is not pinned down */
    build(6, 3);
    for (uint64_t va = BASE + 64; va + 128 <= A.top; va += 64)
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
