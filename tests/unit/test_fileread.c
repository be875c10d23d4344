/*
 * test_fileread.c -- the fd-table walk, the open-file reader and the mount
 * reader (os/linux/fileread.h) on synthetic memory: a flat kernel-address
 * arena. Files come back in fd order with their close-on-exec bit, a NULL
 * slot is skipped; pseudo files are named as /proc names them; a table
 * claiming 2^31 fds ends in XA_ELIMIT after the first 2^20 (quickly), a
 * bitmap that runs out of memory in XA_EFAULT; a dentry loop and a mount
 * parent cycle end in XA_ELIMIT; mounts give mountinfo's fields and are
 * hidden when out of reach of the root; a red-black tree (6.8+ mount
 * namespaces) comes in order, and a child that does not name its parent, one
 * child on both sides or a chain deeper than LX_RB_DEPTH_MAX end it, flagged.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "check.h"
#include "os/linux/fileread.h"
#include "xenaccess.h"

#define BASE 0xffff888000000000ULL
#define ARENA (16u << 20)
#define FN_PIPE 0xffffffff81000100ULL
#define FN_SOCK 0xffffffff81000200ULL
#define FN_ANON 0xffffffff81000300ULL
#define FN_NS 0xffffffff81000400ULL
#define FN_SIMPLE 0xffffffff81000500ULL
#define FN_OTHER 0xffffffff81000600ULL

static struct arena A;

/* Layouts: dentry {d_hash.pprev @8, d_parent @0x18, d_name @0x20 (len @+4,
 * name @+8), d_op @0x30, d_fsdata @0x40}; mount {mnt_parent
 * @0x10, mnt_mountpoint @0x18, mnt @0x20 (vfsmount {mnt_root @0, mnt_sb @8,
 * mnt_flags @0x10}), mnt_id @0x40, mnt_group_id @0x44, mnt_devname @0x48,
 * mnt_master @0x50}; file {f_path @0 (mnt, dentry), f_inode @0x10, f_flags
 * @0x18, f_pos @0x20}; inode {i_mode @0, i_sb @8, i_ino @0x10}; super_block
 * {s_dev @0, s_type @8, s_flags @0x10, s_subtype @0x18}; fdtable {max_fds @0,
 * fd @8, close_on_exec @0x10, open_fds @0x18}. */
static struct lx_file_layout FL;
static struct lx_mount_layout ML;

static void layouts(void)
{
    struct lx_dpath_layout d = {
        .d_parent = 0x18, .d_name_len = 0x24, .d_name_ptr = 0x28, .d_hash_pprev = 0x8,
        .mnt_root = 0, .mount_mnt = 0x20, .mount_parent = 0x10, .mount_mountpoint = 0x18,
        .has_mounts = true,
    };
    FL = (struct lx_file_layout){
        .d = d, .fdt_max_fds = 0, .fdt_fd = 8, .fdt_close_on_exec = 0x10, .fdt_open_fds = 0x18,
        .f_path_mnt = 0, .f_path_dentry = 8, .f_inode = 0x10, .f_flags = 0x18, .f_pos = 0x20,
        .i_mode = 0, .i_sb = 8, .i_ino = 0x10, .s_dev = 0, .d_op = 0x30,
        .d_fsdata = 0x40, .dop_d_dname = 0x10, .ns_ops_name = 0x8,
        .fn_pipe = FN_PIPE, .fn_socket = FN_SOCK, .fn_anon = FN_ANON, .fn_ns = FN_NS,
        .fn_simple = FN_SIMPLE,
    };
    ML = (struct lx_mount_layout){
        .d = d, .mnt_id = 0x40, .mnt_group_id = 0x44, .mnt_devname = 0x48, .mnt_master = 0x50,
        .mnt_sb = 8, .mnt_flags = 0x10, .s_dev = 0, .s_type = 8, .s_flags = 0x10,
        .s_subtype = 0x18, .fst_name = 0,
    };
}

static uint64_t str(const char *s)
{
    uint64_t va = arena_alloc(&A, strlen(s) + 1);
    arena_put(&A, va, s, strlen(s) + 1);
    return va;
}

static uint64_t dentry(const char *name, uint64_t parent)
{
    uint64_t d = arena_alloc(&A, 0x48);
    arena_put64(&A, d + 0x8, 0x1234000 | BASE); /* hashed */
    arena_put64(&A, d + 0x18, parent ? parent : d);
    arena_put32(&A, d + 0x24, (uint32_t)strlen(name));
    arena_put64(&A, d + 0x28, str(name));
    return d;
}

static uint64_t super(uint32_t dev, const char *type)
{
    uint64_t fst = arena_alloc(&A, 8), sb = arena_alloc(&A, 0x20);
    arena_put64(&A, fst, str(type));
    arena_put32(&A, sb, dev);
    arena_put64(&A, sb + 8, fst);
    return sb;
}

static uint64_t mount_of(uint64_t parent, uint64_t mountpoint, uint64_t root, uint64_t sb,
                         uint32_t id, uint32_t flags, const char *devname)
{
    uint64_t m = arena_alloc(&A, 0x58);
    arena_put64(&A, m + 0x10, parent ? parent : m);
    arena_put64(&A, m + 0x18, mountpoint);
    arena_put64(&A, m + 0x20, root);
    arena_put64(&A, m + 0x28, sb);
    arena_put32(&A, m + 0x30, flags);
    arena_put32(&A, m + 0x40, id);
    arena_put64(&A, m + 0x48, devname ? str(devname) : 0);
    return m;
}

static uint64_t dname_ops(uint64_t fn)
{
    uint64_t ops = arena_alloc(&A, 0x18);
    arena_put64(&A, ops + 0x10, fn);
    return ops;
}

static uint64_t file_of(uint64_t mnt, uint64_t d, uint64_t sb, uint16_t mode, uint64_t ino,
                        uint32_t flags, uint64_t pos)
{
    uint64_t inode = arena_alloc(&A, 0x18), f = arena_alloc(&A, 0x28);
    arena_put16(&A, inode, mode);
    arena_put64(&A, inode + 8, sb);
    arena_put64(&A, inode + 0x10, ino);
    arena_put64(&A, f, mnt);
    arena_put64(&A, f + 8, d);
    arena_put64(&A, f + 0x10, inode);
    arena_put32(&A, f + 0x18, flags);
    arena_put64(&A, f + 0x20, pos);
    return f;
}

static int read_file(uint64_t f, struct xa_open_file *out)
{
    char why[LX_WHY_LEN];
    memset(out, 0, sizeof(*out));
    int rc = lx_file_read(&FL, arena_read, &A, f, out, why);
    CHECK(rc == 0 || why[0]);
    return rc;
}

static void test_files(void)
{
    uint64_t sb = super((8u << 20) | 3, "ext4"), pipesb = super(13, "pipefs");
    uint64_t root = dentry("/", 0), tmp = dentry("tmp", root), a = dentry("a b", tmp);
    uint64_t m0 = mount_of(0, root, root, sb, 1, 0, "/dev/sda3"), vfs0 = m0 + 0x20;
    struct xa_open_file o;

    uint64_t f_reg = file_of(vfs0, a, sb, 0100644, 42, 02, 7);
    CHECK(read_file(f_reg, &o) == 0 && strcmp(o.path, "/tmp/a b") == 0 && o.inode == 42 &&
          o.pos == 7 && o.flags == 02 && o.dev_major == 8 && o.dev_minor == 3 &&
          o.mode == 0100644 && o.state == 0);
    uint64_t gone = dentry("gone", tmp);
    arena_put64(&A, gone + 0x8, 0);
    CHECK(read_file(file_of(vfs0, gone, sb, 0100600, 43, 0, 0), &o) == 0 &&
          strcmp(o.path, "/tmp/gone (deleted)") == 0);

    /* pseudo files: named by their d_dname, unless the mount's own root */
    uint64_t pipe_d = dentry("", 0), sock_d = dentry("", 0), anon_d = dentry("[eventfd]", 0),
             ns_d = dentry("", 0), memfd_d = dentry("memfd:x", 0), odd_d = dentry("", 0);
    arena_put64(&A, pipe_d + 0x30, dname_ops(FN_PIPE));
    arena_put64(&A, sock_d + 0x30, dname_ops(FN_SOCK));
    arena_put64(&A, anon_d + 0x30, dname_ops(FN_ANON));
    arena_put64(&A, ns_d + 0x30, dname_ops(FN_NS));
    arena_put64(&A, memfd_d + 0x30, dname_ops(FN_SIMPLE));
    arena_put64(&A, odd_d + 0x30, dname_ops(FN_OTHER));
    uint64_t nsops = arena_alloc(&A, 0x10);
    arena_put64(&A, nsops + 8, str("net"));
    arena_put64(&A, ns_d + 0x40, nsops);
    uint64_t pm = mount_of(0, 0, dentry("pipe:", 0), pipesb, 2, 0, NULL) + 0x20;
    CHECK(read_file(file_of(pm, pipe_d, pipesb, 010600, 1190, 0, 0), &o) == 0 &&
          strcmp(o.path, "pipe:[1190]") == 0 && o.dev_minor == 13);
    CHECK(read_file(file_of(pm, sock_d, pipesb, 0140777, 77, 0, 0), &o) == 0 &&
          strcmp(o.path, "socket:[77]") == 0);
    CHECK(read_file(file_of(pm, anon_d, pipesb, 0600, 9, 0, 0), &o) == 0 &&
          strcmp(o.path, "anon_inode:[eventfd]") == 0);
    CHECK(read_file(file_of(pm, ns_d, pipesb, 0100444, 4026531840ULL, 0, 0), &o) == 0 &&
          strcmp(o.path, "net:[4026531840]") == 0);
    CHECK(read_file(file_of(pm, memfd_d, pipesb, 0100777, 5, 0, 0), &o) == 0 &&
          strcmp(o.path, "/memfd:x (deleted)") == 0);
    CHECK(read_file(file_of(pm, odd_d, pipesb, 0100777, 6, 0, 0), &o) == 0 &&
          strcmp(o.path, "?") == 0 && (o.state & XA_FILE_NAME_UNKNOWN));

    /* the root of its own mount is named by its path, not its d_dname */
    uint64_t proot = dentry("/", 0);
    arena_put64(&A, proot + 0x30, dname_ops(FN_PIPE));
    uint64_t pm_root = mount_of(0, proot, proot, pipesb, 3, 0, NULL) + 0x20;
    CHECK(read_file(file_of(pm_root, proot, pipesb, 040755, 1, 0, 0), &o) == 0 &&
          strcmp(o.path, "/") == 0);
    /* a dentry loop (a -> b -> a) ends, flagged */
    uint64_t la = dentry("la", 0), lb = dentry("lb", la);
    arena_put64(&A, la + 0x18, lb);
    CHECK(read_file(file_of(vfs0, la, sb, 0100644, 1, 0, 0), &o) == XA_ELIMIT);
    /* bad pointers */
    CHECK(read_file(file_of(vfs0, 0x1000, sb, 0100644, 1, 0, 0), &o) == XA_EBADDATA);
    CHECK(read_file(BASE + ARENA + 64, &o) == XA_EFAULT);
}

static uint64_t fdtable(uint32_t max_fds, uint64_t nfd_slots)
{
    uint64_t t = arena_alloc(&A, 0x20);
    uint64_t words = (nfd_slots + 63) / 64;
    arena_put32(&A, t, max_fds);
    arena_put64(&A, t + 8, arena_alloc(&A, nfd_slots * 8));
    arena_put64(&A, t + 0x10, arena_alloc(&A, words * 8));
    arena_put64(&A, t + 0x18, arena_alloc(&A, words * 8));
    return t;
}

static void set_fd(uint64_t t, uint32_t fd, uint64_t file, bool cloexec)
{
    uint64_t arr = arena_get64(&A, t + 8), exec = arena_get64(&A, t + 0x10),
             open = arena_get64(&A, t + 0x18);
    arena_put64(&A, arr + fd * 8ULL, file);
    uint64_t w = arena_get64(&A, open + fd / 64 * 8);
    arena_put64(&A, open + fd / 64 * 8, w | 1ULL << (fd % 64));
    w = arena_get64(&A, exec + fd / 64 * 8);
    arena_put64(&A, exec + fd / 64 * 8, cloexec ? w | 1ULL << (fd % 64) : w);
}

static void test_fdtable(void)
{
    char why[LX_WHY_LEN];
    struct lx_fd_cursor c;
    int32_t fd;
    uint64_t file;
    bool cloexec;
    uint64_t t = fdtable(256, 256);
    const uint32_t fds[] = {0, 1, 63, 64, 130, 255};
    for (size_t i = 0; i < 6; i++)
        set_fd(t, fds[i], BASE + 0x1000 + i * 8, i % 2);
    set_fd(t, 200, 0, false); /* open bit, no file yet: skipped */
    CHECK(lx_fdt_open(&FL, arena_read, &A, t, &c, why) == 0);
    for (size_t i = 0; i < 6; i++)
        CHECK(lx_fdt_next(&FL, arena_read, &A, &c, &fd, &file, &cloexec, why) == 1 &&
              fd == (int32_t)fds[i] && file == BASE + 0x1000 + i * 8 && cloexec == (i % 2));
    CHECK(lx_fdt_next(&FL, arena_read, &A, &c, &fd, &file, &cloexec, why) == 0);
    /* a file pointer that is not a kernel address */
    uint64_t bad = fdtable(64, 64);
    set_fd(bad, 5, 0x4000, false);
    CHECK(lx_fdt_open(&FL, arena_read, &A, bad, &c, why) == 0 &&
          lx_fdt_next(&FL, arena_read, &A, &c, &fd, &file, &cloexec, why) == XA_EBADDATA);

    /* 2^31 fds claimed, bitmap present for the first 2^20: walked to the cap */
    uint64_t huge = fdtable(0x80000000u, LX_FDS_MAX);
    set_fd(huge, 3, BASE + 0x2000, false);
    clock_t t0 = clock();
    CHECK(lx_fdt_open(&FL, arena_read, &A, huge, &c, why) == 0);
    CHECK(lx_fdt_next(&FL, arena_read, &A, &c, &fd, &file, &cloexec, why) == 1 && fd == 3);
    CHECK(lx_fdt_next(&FL, arena_read, &A, &c, &fd, &file, &cloexec, why) == XA_ELIMIT &&
          strstr(why, "only the first"));
    CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
    /* a bitmap that runs out of memory */
    uint64_t past = arena_alloc(&A, 0x20);
    arena_put32(&A, past, 1u << 30);
    arena_put64(&A, past + 8, BASE + 0x100);
    arena_put64(&A, past + 0x10, BASE + ARENA - 64);
    arena_put64(&A, past + 0x18, BASE + ARENA - 64);
    CHECK(lx_fdt_open(&FL, arena_read, &A, past, &c, why) == 0);
    int rc;
    while ((rc = lx_fdt_next(&FL, arena_read, &A, &c, &fd, &file, &cloexec, why)) == 1)
        ;
    CHECK(rc == XA_EFAULT || rc == XA_EBADDATA);
}

static void test_mounts(void)
{
    char why[LX_WHY_LEN];
    struct xa_mount m;
    bool visible;
    uint64_t sb = super((8u << 20) | 1, "ext4"), tsb = super(22, "tmpfs");
    arena_put64(&A, tsb + 0x18, str("sub"));
    uint64_t root = dentry("/", 0), mnt_dir = dentry("mnt dir", root), sub = dentry("sub", root);
    uint64_t m0 = mount_of(0, root, root, sb, 1, 0x20, "/dev/sda1");
    uint64_t troot = dentry("/", 0), inner = dentry("inner", troot);
    uint64_t m1 = mount_of(m0, mnt_dir, inner, tsb, 7, 0x1 | 0x2 | 0x40 | 0x1000, NULL);
    arena_put32(&A, m1 + 0x44, 5);
    CHECK(lx_mount_read(&ML, arena_read, &A, m1, 0, 0, &m, &visible, why) == 0 && visible);
    CHECK(m.mnt_id == 7 && m.parent_id == 1 && m.dev_major == 0 && m.dev_minor == 22 &&
          strcmp(m.root, "/inner") == 0 && strcmp(m.mount_point, "/mnt dir") == 0 &&
          strcmp(m.options, "ro,nosuid,nodev") == 0 && strcmp(m.fstype, "tmpfs.sub") == 0 &&
          strcmp(m.source, "none") == 0 && m.shared_id == 5 && m.master_id == 0);
    CHECK(lx_mount_read(&ML, arena_read, &A, m0, 0, 0, &m, &visible, why) == 0 && visible &&
          strcmp(m.mount_point, "/") == 0 && strcmp(m.options, "rw,relatime") == 0 &&
          strcmp(m.source, "/dev/sda1") == 0 && m.dev_major == 8);
    /* seen from a root below: m1 is out of reach, left out */
    CHECK(lx_mount_read(&ML, arena_read, &A, m1, sub, m0 + 0x20, &m, &visible, why) == 0 &&
          !visible);
    CHECK(lx_mount_read(&ML, arena_read, &A, m1, root, m0 + 0x20, &m, &visible, why) == 0 &&
          visible && strcmp(m.mount_point, "/mnt dir") == 0);
    /* a mount parent cycle (a's parent b, b's parent a) ends, flagged */
    uint64_t ca = mount_of(0, troot, troot, tsb, 8, 0, "x"), cb = mount_of(ca, troot, troot, tsb,
                                                                            9, 0, "y");
    arena_put64(&A, ca + 0x10, cb);
    CHECK(lx_mount_read(&ML, arena_read, &A, ca, 0, 0, &m, &visible, why) == XA_ELIMIT && why[0]);
    /* a source without its NUL in reach */
    uint64_t longname = arena_alloc(&A, XA_MOUNT_SOURCE_LEN + 8);
    memset(arena_at(&A, longname, XA_MOUNT_SOURCE_LEN + 8), 'a', XA_MOUNT_SOURCE_LEN + 8);
    uint64_t ml = mount_of(m0, mnt_dir, troot, tsb, 10, 0, NULL);
    arena_put64(&A, ml + 0x48, longname);
    CHECK(lx_mount_read(&ML, arena_read, &A, ml, 0, 0, &m, &visible, why) == XA_ELIMIT);
}

/* rb_node {__rb_parent_color @0, rb_right @8, rb_left @16}. */
static uint64_t rb_node_at(uint64_t parent, int color)
{
    uint64_t n = arena_alloc(&A, 24);
    arena_put64(&A, n, parent | (uint64_t)color);
    return n;
}

static void rb_link(uint64_t parent, uint64_t left, uint64_t right)
{
    arena_put64(&A, parent + 8, right);
    arena_put64(&A, parent + 16, left);
}

static int rb_collect(uint64_t root, uint64_t *out, int cap, char *why)
{
    struct lx_rb_walk w;
    lx_rb_init(&w, root, 0, 16, 8, 1000);
    int n = 0, rc;
    uint64_t node;
    while ((rc = lx_rb_next(&w, arena_read, &A, &node, why)) == 1 && n < cap)
        out[n++] = node;
    return rc < 0 ? rc : n;
}

static void test_rbtree(void)
{
    char why[LX_WHY_LEN];
    uint64_t got[128];
    /* d(b(a, c), f(e, g)) in order: a b c d e f g */
    uint64_t d = rb_node_at(0, 1), b = rb_node_at(d, 0), f = rb_node_at(d, 0);
    uint64_t a = rb_node_at(b, 1), c = rb_node_at(b, 1), e = rb_node_at(f, 1),
             g = rb_node_at(f, 1);
    rb_link(d, b, f);
    rb_link(b, a, c);
    rb_link(f, e, g);
    const uint64_t want[] = {a, b, c, d, e, f, g};
    CHECK(rb_collect(d, got, 128, why) == 7 && memcmp(got, want, sizeof(want)) == 0);
    CHECK(rb_collect(0, got, 128, why) == 0);
    /* e names b as its parent: a link that does not point back */
    arena_put64(&A, e, b | 1);
    CHECK(rb_collect(d, got, 128, why) == XA_EBADDATA && strstr(why, "parent"));
    arena_put64(&A, e, f | 1);
    /* g made f's left child too: one child on both sides */
    rb_link(f, g, g);
    CHECK(rb_collect(d, got, 128, why) == XA_EBADDATA);
    rb_link(f, e, g);
    /* a left child pointing back up at the root: its parent link disagrees */
    rb_link(a, d, 0);
    CHECK(rb_collect(d, got, 128, why) == XA_EBADDATA);
    rb_link(a, 0, 0);
    /* a root that names a parent */
    arena_put64(&A, d, c);
    CHECK(rb_collect(d, got, 128, why) == XA_EBADDATA);
    arena_put64(&A, d, 1);
    /* a left chain of 70 well-linked nodes: deeper than the stack */
    uint64_t top_node = rb_node_at(0, 0), cur = top_node;
    for (int i = 0; i < 70; i++) {
        uint64_t n = rb_node_at(cur, 0);
        rb_link(cur, n, 0);
        cur = n;
    }
    CHECK(rb_collect(top_node, got, 128, why) == XA_ELIMIT && strstr(why, "deeper"));
    /* more nodes than the walk allows */
    struct lx_rb_walk w;
    uint64_t node;
    int rc, n = 0;
    lx_rb_init(&w, d, 0, 16, 8, 3);
    while ((rc = lx_rb_next(&w, arena_read, &A, &node, why)) == 1)
        n++;
    CHECK(n == 3 && rc == XA_ELIMIT);
}

int main(void)
{
    arena_init(&A, BASE, ARENA, 8);
    layouts();
    test_files();
    test_fdtable();
    test_mounts();
    test_rbtree();
    arena_free(&A);
    CHECK_DONE();
}
