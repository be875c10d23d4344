/*
 * test_mounts32.c -- the 32-bit mount-namespace inference (os/linux/
 * mounts32.c) and lx_mount_read with 4-byte pointers (os/linux/fileread.c)
 * over a synthetic guest: two namespaces (the second a copy with one mount
 * more), found exactly; a mount read as mountinfo shows it; a namespace
 * whose list loops left out; refusals where a word is ambiguous or init's
 * list is broken.
 */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "check.h"
#include "os/linux/fileread.h"
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

static struct arena a;
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

static void test_found(void)
{
    build();
    struct mn32_layout l;
    char why[LX_WHY_LEN];
    int rc = infer(&l, why);
    CHECK(rc == 0, "%s", why);
    CHECK_EQ(l.task_nsproxy, T_NSPROXY);
    CHECK_EQ(l.task_fs, T_FS);
    CHECK_EQ(l.fs_root, FS_ROOT);
    CHECK_EQ(l.nsproxy_mnt_ns, NSP_MNT_NS);
    CHECK_EQ(l.ns_root, NS_ROOT);
    CHECK_EQ(l.ns_list, NS_LIST);
    CHECK_EQ(l.mnt_list, M_LIST);
    CHECK_EQ(l.mnt_ns, M_NS);
    CHECK_EQ(l.mnt_id, M_ID);
    CHECK_EQ(l.mnt_group_id, M_GROUP);
    CHECK_EQ(l.mnt_master, M_MASTER);
    CHECK_EQ(l.mnt_devname, M_DEVNAME);
    CHECK_EQ(l.mnt_sb, V_SB);
    CHECK_EQ(l.mnt_flags, V_FLAGS);
    CHECK_EQ(l.s_dev, S_DEV);
    CHECK_EQ(l.s_type, S_TYPE);
    CHECK_EQ(l.s_flags, S_FLAGS);
    CHECK(l.nr_ns == 2 && l.nr_mounts == 11 && l.nr_sbs == 6, "%zu %zu %zu", l.nr_ns,
          l.nr_mounts, l.nr_sbs);
    arena_free(&a);
}

/* lx_mount_read with the inferred offsets and 4-byte pointers. */
static void test_read(void)
{
    build();
    struct lx_mount_layout l = {
        .d = {.d_parent = D_PARENT, .d_name_len = D_NAME + 4, .d_name_ptr = D_NAME + 8,
              .d_hash_pprev = UINT64_MAX, .mnt_root = V_ROOT, .mount_mnt = M_MNT,
              .mount_parent = M_PARENT, .mount_mountpoint = M_MOUNTPOINT, .has_mounts = true,
              .ptr_size = 4, .kptr_min = PAGE_OFFSET},
        .mnt_id = M_ID, .mnt_devname = M_DEVNAME, .mnt_master = M_MASTER,
        .mnt_group_id = M_GROUP, .mnt_sb = V_SB, .mnt_flags = V_FLAGS, .s_dev = S_DEV,
        .s_type = S_TYPE, .s_flags = S_FLAGS, .s_subtype = UINT64_MAX, .fst_name = 0,
        .fst_flags = 4};
    struct xa_mount out;
    bool visible;
    char why[LX_WHY_LEN];
    int rc = lx_mount_read(&l, arena_read, &a, ns2_mount, 0, 0, &out, &visible, why);
    CHECK(rc == 0, "%s", why);
    CHECK(visible);
    CHECK_EQ(out.mnt_id, 29);
    CHECK_EQ(out.parent_id, 28);
    CHECK(out.dev_major == 0 && out.dev_minor == 21);
    CHECK(strcmp(out.fstype, "tmpfs") == 0, "%s", out.fstype);
    CHECK(strcmp(out.source, "xa-ns-tmpfs") == 0, "%s", out.source);
    CHECK(strcmp(out.mount_point, "/tmp/xa-files/ns") == 0, "%s", out.mount_point);
    CHECK(strcmp(out.root, "/") == 0, "%s", out.root);
    CHECK(strcmp(out.options, "rw,nosuid,nodev,relatime") == 0, "%s", out.options);
    CHECK(out.shared_id == 0 && out.master_id == 0);
    /* A shared mount whose peer group offset is unknown refuses. */
    arena_put32(&a, proc_mount + M_MNT + V_FLAGS, 0x1020);
    l.mnt_group_id = UINT64_MAX;
    rc = lx_mount_read(&l, arena_read, &a, proc_mount, 0, 0, &out, &visible, why);
    CHECK(rc == XA_ENOTSUP && strstr(why, "peer group"), "%d %s", rc, why);
    /* A type with a subtype, the subtype unknown: refuses. */
    arena_put32(&a, proc_mount + M_MNT + V_FLAGS, 0x20);
    uint32_t sb, type;
    memcpy(&sb, arena_at(&a, proc_mount + M_MNT + V_SB, 4), 4);
    memcpy(&type, arena_at(&a, sb + S_TYPE, 4), 4);
    arena_put32(&a, type + 4, 4); /* FS_HAS_SUBTYPE */
    rc = lx_mount_read(&l, arena_read, &a, proc_mount, 0, 0, &out, &visible, why);
    CHECK(rc == XA_ENOTSUP && strstr(why, "subtype"), "%d %s", rc, why);
    arena_free(&a);
}

static void test_refusals(void)
{
    struct mn32_layout l;
    char why[LX_WHY_LEN];
    /* Every task holding its nsproxy twice: two answers. */
    build();
    arena_put32(&a, init_task + 0x100, init_nsproxy);
    for (size_t i = 0; i < ntasks; i++) {
        uint32_t nsp;
        memcpy(&nsp, arena_at(&a, tasks[i] + T_NSPROXY, 4), 4);
        arena_put32(&a, tasks[i] + 0x100, nsp);
    }
    CHECK(infer(&l, why) == XA_EBADDATA && strstr(why, "nsproxy") && strstr(why, "2 offsets"),
          "%s", why);
    arena_free(&a);
    /* The second namespace's list loops (its last mount points back to its
     * first): that namespace is left out, nothing is walked forever. */
    build();
    uint32_t second;
    memcpy(&second, arena_at(&a, ns2_mount + M_LIST + 4, 4), 4); /* t2's node */
    uint32_t ns2_first;
    uint32_t ns2;
    memcpy(&ns2, arena_at(&a, ns2_mount + M_NS, 4), 4);
    memcpy(&ns2_first, arena_at(&a, ns2 + NS_LIST, 4), 4);
    arena_put32(&a, ns2_mount + M_LIST, ns2_first);
    int rc = infer(&l, why);
    CHECK(rc == 0 && l.nr_ns == 1 && l.nr_mounts == 5, "%d %s", rc, why);
    arena_free(&a);
    /* init's list broken (a prev link that does not point back): no answer. */
    build();
    uint32_t ns1;
    memcpy(&ns1, arena_at(&a, init_nsproxy + NSP_MNT_NS, 4), 4);
    uint32_t first;
    memcpy(&first, arena_at(&a, ns1 + NS_LIST, 4), 4);
    arena_put32(&a, first + 4, first);
    rc = infer(&l, why);
    CHECK(rc == XA_ENOTSUP && strstr(why, "no offset fits"), "%d %s", rc, why);
    arena_free(&a);
    /* Nothing known: refused at once. */
    build();
    init_task = 0;
    CHECK(infer(&l, why) == XA_ENOTSUP);
    arena_free(&a);
}

int main(void)
{
    test_found();
    test_read();
    test_refusals();
    CHECK_DONE();
}
