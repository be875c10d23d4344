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

static uint8_t *arena;
static uint64_t top = BASE + 64;

static int mem_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    (void)ctx;
    if (va < BASE || va - BASE > ARENA || len > ARENA - (va - BASE))
        return XA_EFAULT;
    memcpy(buf, arena + (va - BASE), len);
    return 0;
}

static uint64_t alloc(size_t n)
{
    uint64_t va = (top + 7) & ~7ULL;
    top = va + n;
    CHECK(top - BASE <= ARENA);
    return va;
}

static void put64(uint64_t va, uint64_t v) { memcpy(arena + (va - BASE), &v, 8); }
static void put32(uint64_t va, uint32_t v) { memcpy(arena + (va - BASE), &v, 4); }
static void put16(uint64_t va, uint16_t v) { memcpy(arena + (va - BASE), &v, 2); }

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
    uint64_t va = alloc(strlen(s) + 1);
    memcpy(arena + (va - BASE), s, strlen(s) + 1);
    return va;
}

static uint64_t dentry(const char *name, uint64_t parent)
{
    uint64_t d = alloc(0x48);
    put64(d + 0x8, 0x1234000 | BASE); /* hashed */
    put64(d + 0x18, parent ? parent : d);
    put32(d + 0x24, (uint32_t)strlen(name));
    put64(d + 0x28, str(name));
    return d;
}

static uint64_t super(uint32_t dev, const char *type)
{
    uint64_t fst = alloc(8), sb = alloc(0x20);
    put64(fst, str(type));
    put32(sb, dev);
    put64(sb + 8, fst);
    return sb;
}

static uint64_t mount_of(uint64_t parent, uint64_t mountpoint, uint64_t root, uint64_t sb,
                         uint32_t id, uint32_t flags, const char *devname)
{
    uint64_t m = alloc(0x58);
    put64(m + 0x10, parent ? parent : m);
    put64(m + 0x18, mountpoint);
    put64(m + 0x20, root);
    put64(m + 0x28, sb);
    put32(m + 0x30, flags);
    put32(m + 0x40, id);
    put64(m + 0x48, devname ? str(devname) : 0);
    return m;
}

static uint64_t dname_ops(uint64_t fn)
{
    uint64_t ops = alloc(0x18);
    put64(ops + 0x10, fn);
    return ops;
}

static uint64_t file_of(uint64_t mnt, uint64_t d, uint64_t sb, uint16_t mode, uint64_t ino,
                        uint32_t flags, uint64_t pos)
{
    uint64_t inode = alloc(0x18), f = alloc(0x28);
    put16(inode, mode);
    put64(inode + 8, sb);
    put64(inode + 0x10, ino);
    put64(f, mnt);
    put64(f + 8, d);
    put64(f + 0x10, inode);
    put32(f + 0x18, flags);
    put64(f + 0x20, pos);
    return f;
}

static int read_file(uint64_t f, struct xa_open_file *out)
{
    char why[LX_WHY_LEN];
    memset(out, 0, sizeof(*out));
    int rc = lx_file_read(&FL, mem_read, NULL, f, out, why);
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
    put64(gone + 0x8, 0);
    CHECK(read_file(file_of(vfs0, gone, sb, 0100600, 43, 0, 0), &o) == 0 &&
          strcmp(o.path, "/tmp/gone (deleted)") == 0);

    /* pseudo files: named by their d_dname, unless the mount's own root */
    uint64_t pipe_d = dentry("", 0), sock_d = dentry("", 0), anon_d = dentry("[eventfd]", 0),
             ns_d = dentry("", 0), memfd_d = dentry("memfd:x", 0), odd_d = dentry("", 0);
    put64(pipe_d + 0x30, dname_ops(FN_PIPE));
    put64(sock_d + 0x30, dname_ops(FN_SOCK));
    put64(anon_d + 0x30, dname_ops(FN_ANON));
    put64(ns_d + 0x30, dname_ops(FN_NS));
    put64(memfd_d + 0x30, dname_ops(FN_SIMPLE));
    put64(odd_d + 0x30, dname_ops(FN_OTHER));
    uint64_t nsops = alloc(0x10);
    put64(nsops + 8, str("net"));
    put64(ns_d + 0x40, nsops);
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
    put64(proot + 0x30, dname_ops(FN_PIPE));
    uint64_t pm_root = mount_of(0, proot, proot, pipesb, 3, 0, NULL) + 0x20;
    CHECK(read_file(file_of(pm_root, proot, pipesb, 040755, 1, 0, 0), &o) == 0 &&
          strcmp(o.path, "/") == 0);
    /* a dentry loop (a -> b -> a) ends, flagged */
    uint64_t la = dentry("la", 0), lb = dentry("lb", la);
    put64(la + 0x18, lb);
    CHECK(read_file(file_of(vfs0, la, sb, 0100644, 1, 0, 0), &o) == XA_ELIMIT);
    /* bad pointers */
    CHECK(read_file(file_of(vfs0, 0x1000, sb, 0100644, 1, 0, 0), &o) == XA_EBADDATA);
    CHECK(read_file(BASE + ARENA + 64, &o) == XA_EFAULT);
}

static uint64_t fdtable(uint32_t max_fds, uint64_t nfd_slots)
{
    uint64_t t = alloc(0x20);
    uint64_t words = (nfd_slots + 63) / 64;
    put32(t, max_fds);
    put64(t + 8, alloc(nfd_slots * 8));
    put64(t + 0x10, alloc(words * 8));
    put64(t + 0x18, alloc(words * 8));
    return t;
}

static void set_fd(uint64_t t, uint32_t fd, uint64_t file, bool cloexec)
{
    uint64_t arr, exec, open, w;
    memcpy(&arr, arena + (t + 8 - BASE), 8);
    memcpy(&exec, arena + (t + 0x10 - BASE), 8);
    memcpy(&open, arena + (t + 0x18 - BASE), 8);
    put64(arr + fd * 8ULL, file);
    memcpy(&w, arena + (open + fd / 64 * 8 - BASE), 8);
    put64(open + fd / 64 * 8, w | 1ULL << (fd % 64));
    memcpy(&w, arena + (exec + fd / 64 * 8 - BASE), 8);
    put64(exec + fd / 64 * 8, cloexec ? w | 1ULL << (fd % 64) : w);
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
    CHECK(lx_fdt_open(&FL, mem_read, NULL, t, &c, why) == 0);
    for (size_t i = 0; i < 6; i++)
        CHECK(lx_fdt_next(&FL, mem_read, NULL, &c, &fd, &file, &cloexec, why) == 1 &&
              fd == (int32_t)fds[i] && file == BASE + 0x1000 + i * 8 && cloexec == (i % 2));
    CHECK(lx_fdt_next(&FL, mem_read, NULL, &c, &fd, &file, &cloexec, why) == 0);
    /* a file pointer that is not a kernel address */
    uint64_t bad = fdtable(64, 64);
    set_fd(bad, 5, 0x4000, false);
    CHECK(lx_fdt_open(&FL, mem_read, NULL, bad, &c, why) == 0 &&
          lx_fdt_next(&FL, mem_read, NULL, &c, &fd, &file, &cloexec, why) == XA_EBADDATA);

    /* 2^31 fds claimed, bitmap present for the first 2^20: walked to the cap */
    uint64_t huge = fdtable(0x80000000u, LX_FDS_MAX);
    set_fd(huge, 3, BASE + 0x2000, false);
    clock_t t0 = clock();
    CHECK(lx_fdt_open(&FL, mem_read, NULL, huge, &c, why) == 0);
    CHECK(lx_fdt_next(&FL, mem_read, NULL, &c, &fd, &file, &cloexec, why) == 1 && fd == 3);
    CHECK(lx_fdt_next(&FL, mem_read, NULL, &c, &fd, &file, &cloexec, why) == XA_ELIMIT &&
          strstr(why, "only the first"));
    CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
    /* a bitmap that runs out of memory */
    uint64_t past = alloc(0x20);
    put32(past, 1u << 30);
    put64(past + 8, BASE + 0x100);
    put64(past + 0x10, BASE + ARENA - 64);
    put64(past + 0x18, BASE + ARENA - 64);
    CHECK(lx_fdt_open(&FL, mem_read, NULL, past, &c, why) == 0);
    int rc;
    while ((rc = lx_fdt_next(&FL, mem_read, NULL, &c, &fd, &file, &cloexec, why)) == 1)
        ;
    CHECK(rc == XA_EFAULT || rc == XA_EBADDATA);
}

static void test_mounts(void)
{
    char why[LX_WHY_LEN];
    struct xa_mount m;
    bool visible;
    uint64_t sb = super((8u << 20) | 1, "ext4"), tsb = super(22, "tmpfs");
    put64(tsb + 0x18, str("sub"));
    uint64_t root = dentry("/", 0), mnt_dir = dentry("mnt dir", root), sub = dentry("sub", root);
    uint64_t m0 = mount_of(0, root, root, sb, 1, 0x20, "/dev/sda1");
    uint64_t troot = dentry("/", 0), inner = dentry("inner", troot);
    uint64_t m1 = mount_of(m0, mnt_dir, inner, tsb, 7, 0x1 | 0x2 | 0x40 | 0x1000, NULL);
    put32(m1 + 0x44, 5);
    CHECK(lx_mount_read(&ML, mem_read, NULL, m1, 0, 0, &m, &visible, why) == 0 && visible);
    CHECK(m.mnt_id == 7 && m.parent_id == 1 && m.dev_major == 0 && m.dev_minor == 22 &&
          strcmp(m.root, "/inner") == 0 && strcmp(m.mount_point, "/mnt dir") == 0 &&
          strcmp(m.options, "ro,nosuid,nodev") == 0 && strcmp(m.fstype, "tmpfs.sub") == 0 &&
          strcmp(m.source, "none") == 0 && m.shared_id == 5 && m.master_id == 0);
    CHECK(lx_mount_read(&ML, mem_read, NULL, m0, 0, 0, &m, &visible, why) == 0 && visible &&
          strcmp(m.mount_point, "/") == 0 && strcmp(m.options, "rw,relatime") == 0 &&
          strcmp(m.source, "/dev/sda1") == 0 && m.dev_major == 8);
    /* seen from a root below: m1 is out of reach, left out */
    CHECK(lx_mount_read(&ML, mem_read, NULL, m1, sub, m0 + 0x20, &m, &visible, why) == 0 &&
          !visible);
    CHECK(lx_mount_read(&ML, mem_read, NULL, m1, root, m0 + 0x20, &m, &visible, why) == 0 &&
          visible && strcmp(m.mount_point, "/mnt dir") == 0);
    /* a mount parent cycle (a's parent b, b's parent a) ends, flagged */
    uint64_t ca = mount_of(0, troot, troot, tsb, 8, 0, "x"), cb = mount_of(ca, troot, troot, tsb,
                                                                            9, 0, "y");
    put64(ca + 0x10, cb);
    CHECK(lx_mount_read(&ML, mem_read, NULL, ca, 0, 0, &m, &visible, why) == XA_ELIMIT && why[0]);
    /* a source without its NUL in reach */
    uint64_t longname = alloc(XA_MOUNT_SOURCE_LEN + 8);
    memset(arena + (longname - BASE), 'a', XA_MOUNT_SOURCE_LEN + 8);
    uint64_t ml = mount_of(m0, mnt_dir, troot, tsb, 10, 0, NULL);
    put64(ml + 0x48, longname);
    CHECK(lx_mount_read(&ML, mem_read, NULL, ml, 0, 0, &m, &visible, why) == XA_ELIMIT);
}

/* rb_node {__rb_parent_color @0, rb_right @8, rb_left @16}. */
static uint64_t rb_node_at(uint64_t parent, int color)
{
    uint64_t n = alloc(24);
    put64(n, parent | (uint64_t)color);
    return n;
}

static void rb_link(uint64_t parent, uint64_t left, uint64_t right)
{
    put64(parent + 8, right);
    put64(parent + 16, left);
}

static int rb_collect(uint64_t root, uint64_t *out, int cap, char *why)
{
    struct lx_rb_walk w;
    lx_rb_init(&w, root, 0, 16, 8, 1000);
    int n = 0, rc;
    uint64_t node;
    while ((rc = lx_rb_next(&w, mem_read, NULL, &node, why)) == 1 && n < cap)
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
    put64(e, b | 1);
    CHECK(rb_collect(d, got, 128, why) == XA_EBADDATA && strstr(why, "parent"));
    put64(e, f | 1);
    /* g made f's left child too: one child on both sides */
    rb_link(f, g, g);
    CHECK(rb_collect(d, got, 128, why) == XA_EBADDATA);
    rb_link(f, e, g);
    /* a left child pointing back up at the root: its parent link disagrees */
    rb_link(a, d, 0);
    CHECK(rb_collect(d, got, 128, why) == XA_EBADDATA);
    rb_link(a, 0, 0);
    /* a root that names a parent */
    put64(d, c);
    CHECK(rb_collect(d, got, 128, why) == XA_EBADDATA);
    put64(d, 1);
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
    while ((rc = lx_rb_next(&w, mem_read, NULL, &node, why)) == 1)
        n++;
    CHECK(n == 3 && rc == XA_ELIMIT);
}

int main(void)
{
    arena = calloc(1, ARENA);
    if (!arena)
        return 1;
    layouts();
    test_files();
    test_fdtable();
    test_mounts();
    test_rbtree();
    free(arena);
    CHECK_DONE();
}
