/*
 * synthetic_files32.h -- a synthetic 32-bit guest for the open-file layout
 * inference (os/linux/files32.c): kernel threads sharing one files_struct,
 * processes with embedded fd tables of 4 files each (a device, two regular
 * files, a pipe with fd 5 close-on-exec in every other process) on three
 * super blocks, at offsets that are not Debian's. Shared by
 * tests/unit/test_files32.c and tests/fuzz/fuzz_files32.c.
 */
#ifndef XA_TEST_SYNTHETIC_FILES32_H
#define XA_TEST_SYNTHETIC_FILES32_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "os/linux/files32.h"

#define SF_BASE 0xC1000000u
#define SF_PAGE_OFFSET 0xC0000000u
#define SF_ARENA (4u << 20)
#define SF_FN_PIPE 0xC1F00100u
#define SF_FN_SOCK 0xC1F00200u

/* The synthetic kernel's offsets (not Debian's: nothing is assumed). */
enum {
    T_FILES = 0x3a4,                                            /* task_struct */
    FS_FDT = 0x14, FS_FDTAB = 0x18, FS_CLOEXEC = 0x60, FS_OPEN = 0x64, FS_FULL = 0x68,
    FS_FDS = 0x80,                                              /* files_struct */
    FT_MAX = 0, FT_FD = 4, FT_CLOEXEC = 8, FT_OPEN = 12, FT_FULL = 16, /* fdtable */
    F_PATH = 8, F_INODE = 16, F_OP = 20, F_COUNT = 28, F_FLAGS = 32, F_MODE = 36,
    F_POS_LOCK = 40, F_WAITLIST = 48, F_POS = 56,                   /* file */
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
static uint32_t sf_build(size_t procs, size_t kthreads)
{
    arena_init(&A, SF_BASE, SF_ARENA, 64);
    ntasks = 0;
    ino_next = 100;
    pipe_ops = alloc(64);
    put32(pipe_ops + DOP_DNAME, SF_FN_PIPE);
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

#endif /* XA_TEST_SYNTHETIC_FILES32_H */
