/*
 * synthetic_mounts32.h -- a synthetic 32-bit guest's mount namespaces for
 * the mounts32 unit test and fuzz target: init_task and six tasks (one in a
 * namespace of its own, one exiting), two namespaces (the second a copy
 * with one tmpfs more), six super blocks, Debian 686-like offsets.
 */
#ifndef XA_TEST_SYNTHETIC_MOUNTS32_H
#define XA_TEST_SYNTHETIC_MOUNTS32_H

#include <string.h>

#include "arena.h"
#include "os/linux/mounts32.h"

#define BASE 0xC1000000u
#define PAGE_OFFSET 0xC0000000u

/* Offsets of the synthetic kernel (Debian 686-like). */
enum {
    T_NSPROXY = 0x5a0, T_FS = 0x598, T_SIZE = 0x800,
    FS_ROOT = 20, NSP_MNT_NS = 12,
    NS_OPS = 4, NS_ROOT = 16, NS_LIST = 20, NS_SIZE = 64,
    M_PARENT = 8, M_MOUNTPOINT = 12, M_MNT = 16, V_ROOT = 0, V_SB = 4, V_FLAGS = 8,
    M_DEVNAME = 68, M_LIST = 72, M_MASTER = 112, M_NS = 116, M_ID = 148, M_GROUP = 152,
    M_SIZE = 168,
    D_PARENT = 16, D_NAME = 20, D_SB = 80, D_SIZE = 128,
    S_DEV = 8, S_TYPE = 28, S_FLAGS = 48, S_SIZE = 128,
};

static struct arena a; /* the guest's kernel memory, from BASE */
static uint32_t init_task, init_nsproxy, init_fs, mntns_ops;
static uint32_t tasks[8];
static size_t ntasks;

static uint32_t str(const char *s)
{
    uint32_t va = (uint32_t)arena_alloc(&a, strlen(s) + 1);
    arena_put(&a, va, s, strlen(s) + 1);
    return va;
}

static uint32_t fstype(const char *name)
{
    uint32_t t = (uint32_t)arena_alloc(&a, 32);
    arena_put32(&a, t, str(name));
    return t;
}

static uint32_t super(uint32_t type, uint32_t dev)
{
    uint32_t sb = (uint32_t)arena_alloc(&a, S_SIZE);
    arena_put32(&a, sb + S_DEV, dev);
    arena_put32(&a, sb + 12, 12); /* s_blocksize_bits */
    arena_put32(&a, sb + 16, 4096);
    arena_put32(&a, sb + S_TYPE, type);
    arena_put32(&a, sb + S_FLAGS, 0x60000000u | 0x400000u);
    return sb;
}

static uint32_t dentry(uint32_t parent, const char *name, uint32_t sb)
{
    uint32_t d = (uint32_t)arena_alloc(&a, D_SIZE);
    arena_put32(&a, d + D_PARENT, parent ? parent : d);
    arena_put32(&a, d + D_NAME + 4, (uint32_t)strlen(name));
    arena_put32(&a, d + D_NAME + 8, str(name));
    arena_put32(&a, d + D_SB, sb);
    return d;
}

/* A mount of @sb's root dentry @root on (@parent, @mountpoint); parent 0:
 * its own. Appended to the list of namespace @ns. */
static uint32_t mount(uint32_t ns, uint32_t parent, uint32_t mountpoint, uint32_t root,
                      uint32_t sb, uint32_t id, uint32_t flags, const char *dev)
{
    uint32_t m = (uint32_t)arena_alloc(&a, M_SIZE);
    arena_put32(&a, m + M_PARENT, parent ? parent : m);
    arena_put32(&a, m + M_MOUNTPOINT, mountpoint ? mountpoint : root);
    arena_put32(&a, m + M_MNT + V_ROOT, root);
    arena_put32(&a, m + M_MNT + V_SB, sb);
    arena_put32(&a, m + M_MNT + V_FLAGS, flags);
    arena_put32(&a, m + M_MNT + 12, init_task); /* mnt_userns: some pointer */
    arena_put32(&a, m + M_DEVNAME, str(dev));
    arena_put32(&a, m + M_NS, ns);
    arena_put32(&a, m + M_ID, id);
    for (uint32_t o = 80; o < 112; o += 8) { /* empty list_heads */
        arena_put32(&a, m + o, m + o);
        arena_put32(&a, m + o + 4, m + o);
    }
    /* list_add_tail(&m->mnt_list, &ns->list) */
    uint32_t head = ns + NS_LIST, last;
    memcpy(&last, arena_at(&a, head + 4, 4), 4);
    arena_put32(&a, m + M_LIST, head);
    arena_put32(&a, m + M_LIST + 4, last);
    arena_put32(&a, last, m + M_LIST);
    arena_put32(&a, head + 4, m + M_LIST);
    if (!parent)
        arena_put32(&a, ns + NS_ROOT, m);
    return m;
}

static uint32_t namespace(void)
{
    uint32_t ns = (uint32_t)arena_alloc(&a, NS_SIZE);
    arena_put32(&a, ns + NS_OPS, mntns_ops);
    arena_put32(&a, ns + 8, 0xF0000001u); /* inum */
    arena_put32(&a, ns + 12, 1);
    arena_put32(&a, ns + NS_LIST, ns + NS_LIST);
    arena_put32(&a, ns + NS_LIST + 4, ns + NS_LIST);
    return ns;
}

static uint32_t nsproxy(uint32_t ns)
{
    uint32_t p = (uint32_t)arena_alloc(&a, 40);
    arena_put32(&a, p, 3);
    for (uint32_t o = 4; o < 36; o += 4)
        arena_put32(&a, p + o, mntns_ops + 0x100 + o); /* the other namespaces */
    arena_put32(&a, p + NSP_MNT_NS, ns);
    return p;
}

static uint32_t task(uint32_t nsp, uint32_t fs)
{
    uint32_t t = (uint32_t)arena_alloc(&a, T_SIZE);
    arena_put32(&a, t + T_NSPROXY, nsp);
    arena_put32(&a, t + T_FS, fs);
    tasks[ntasks++] = t;
    return t;
}

/* An fs_struct with root and pwd: (@m's vfsmount, @d) both. */
static uint32_t fs_struct(uint32_t m, uint32_t d)
{
    uint32_t fs = (uint32_t)arena_alloc(&a, 48);
    arena_put32(&a, fs, 2);        /* users */
    arena_put32(&a, fs + 12, 022); /* umask */
    arena_put32(&a, fs + FS_ROOT, m + M_MNT);
    arena_put32(&a, fs + FS_ROOT + 4, d);
    arena_put32(&a, fs + FS_ROOT + 8, m + M_MNT);
    arena_put32(&a, fs + FS_ROOT + 12, d);
    return fs;
}

struct sbs {
    uint32_t root_d, proc_d, sys_d, tmp_d, dev_d, ns_d; /* mount point dentries */
    uint32_t rootfs, proc, sysfs, tmpfs, devtmpfs, xa;  /* super blocks */
    uint32_t rr, pr, sr, tr, dr, xr;                    /* their root dentries */
};

/* Two namespaces: init's (5 mounts), a copy with a tmpfs more. */
static uint32_t proc_mount, ns2_mount; /* for the read test */

static void build(void)
{
    arena_init(&a, BASE, 1u << 20, 8);
    ntasks = 0;
    mntns_ops = (uint32_t)arena_alloc(&a, 32);
    init_task = (uint32_t)arena_alloc(&a, T_SIZE);
    struct sbs s;
    s.rootfs = super(fstype("rootfs"), 2);
    s.proc = super(fstype("proc"), 18);
    s.sysfs = super(fstype("sysfs"), 19);
    s.devtmpfs = super(fstype("devtmpfs"), 5);
    uint32_t tmpfs_type = fstype("tmpfs");
    s.tmpfs = super(tmpfs_type, 20);
    s.xa = super(tmpfs_type, 21);
    s.rr = dentry(0, "/", s.rootfs);
    s.proc_d = dentry(s.rr, "proc", s.rootfs);
    s.sys_d = dentry(s.rr, "sys", s.rootfs);
    s.dev_d = dentry(s.rr, "dev", s.rootfs);
    s.tmp_d = dentry(s.rr, "tmp", s.rootfs);
    s.pr = dentry(0, "/", s.proc);
    s.sr = dentry(0, "/", s.sysfs);
    s.dr = dentry(0, "/", s.devtmpfs);
    s.tr = dentry(0, "/", s.tmpfs);
    s.xr = dentry(0, "/", s.xa);
    uint32_t files_d = dentry(s.tr, "xa-files", s.tmpfs);
    s.ns_d = dentry(files_d, "ns", s.tmpfs);

    uint32_t ns1 = namespace(), ns2 = namespace();
    uint32_t r1 = mount(ns1, 0, 0, s.rr, s.rootfs, 1, 0, "rootfs");
    proc_mount = mount(ns1, r1, s.proc_d, s.pr, s.proc, 20, 0x20, "proc");
    mount(ns1, r1, s.sys_d, s.sr, s.sysfs, 21, 0x20, "sysfs");
    mount(ns1, r1, s.dev_d, s.dr, s.devtmpfs, 22, 0x20, "devtmpfs");
    mount(ns1, r1, s.tmp_d, s.tr, s.tmpfs, 23, 0x20, "tmpfs");
    uint32_t r2 = mount(ns2, 0, 0, s.rr, s.rootfs, 24, 0, "rootfs");
    mount(ns2, r2, s.proc_d, s.pr, s.proc, 25, 0x20, "proc");
    mount(ns2, r2, s.sys_d, s.sr, s.sysfs, 26, 0x20, "sysfs");
    mount(ns2, r2, s.dev_d, s.dr, s.devtmpfs, 27, 0x20, "devtmpfs");
    uint32_t t2 = mount(ns2, r2, s.tmp_d, s.tr, s.tmpfs, 28, 0x20, "tmpfs");
    ns2_mount = mount(ns2, t2, s.ns_d, s.xr, s.xa, 29, 0x23, "xa-ns-tmpfs");

    init_fs = fs_struct(r1, s.rr);
    init_nsproxy = nsproxy(ns1);
    arena_put32(&a, init_task + T_NSPROXY, init_nsproxy);
    arena_put32(&a, init_task + T_FS, init_fs);
    for (int i = 0; i < 4; i++)
        task(init_nsproxy, i % 2 ? init_fs : fs_struct(r1, s.tmp_d));
    task(nsproxy(ns2), fs_struct(r2, s.rr)); /* unshare(CLONE_NEWNS) moved its root */
    task(0, 0); /* exiting */
}

static int infer(struct mn32_layout *l, char *why)
{
    struct v32_mem m = {.read = arena_read, .ctx = &a, .page_offset = PAGE_OFFSET};
    struct mn32_known k = {.init_task = init_task, .mount_mnt = M_MNT,
                          .mount_parent = M_PARENT, .mnt_root = V_ROOT, .d_span = D_SIZE};
    uint64_t t[8];
    for (size_t i = 0; i < ntasks; i++)
        t[i] = tasks[i];
    return mn32_infer(&m, &k, t, ntasks, l, why);
}

#endif /* XA_TEST_SYNTHETIC_MOUNTS32_H */
