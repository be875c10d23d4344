/*
 * test_paths_btf32.c -- a process's exe, cwd and root (os/linux/procinfo.c),
 * its open files and its mounts (files.c, fileread.c), then the dentry walk
 * of dpath.c, through BTF on a 32-bit kernel that has BTF and on the same
 * kernel at 64 bits: one code path, words of the kernel's width.
 *
 * One synthetic kernel per word size W (4 or 8, made as btf32_kernel.h
 * says), its layout told only through a BTF of W-byte pointers and longs:
 * init_task and init on the task list, init with an mm, credentials, an
 * fs_struct, two open files and a mount namespace of two mounts (the root,
 * and one on /home); dentries for /bin/sh and /home/alice/docs/notes.txt.
 * xa_process_path must give exactly "/bin/sh", "/home/alice/docs" and "/";
 * xa_file_iter exactly the two files (fd, path, flags, position above
 * 4 GiB, inode, mode, device); xa_mount_iter exactly the two mounts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenaccess.h"

#define CHECK_CONTEXT (cur_xa ? xa_errmsg(cur_xa) : "")
static struct xa_instance *cur_xa;
#include "check.h"
#include "synthetic_guest.h"
#include "btf32_kernel.h"

/* The layout, in kernel words where the kernel has words. */
#define TS_STATE 0x10
#define TS_FLAGS 0x14
#define TS_TASKS 0x20
#define TS_PID 0x40
#define TS_TGID 0x44
#define TS_EXIT_STATE 0x48
#define TS_START 0x50
#define TS_COMM 0x60
#define TS_PARENT 0x80
#define TS_MM (0x80 + W)
#define TS_CRED (0x80 + 2 * W)
#define TS_FS (0x80 + 3 * W)
#define TS_FILES (0x80 + 4 * W)
#define TS_NSPROXY (0x80 + 5 * W)
#define TS_SIZE 0x100
#define CRED_UID 4
#define CRED_GID 8
#define CRED_EUID 20
#define CRED_EGID 24
#define MMS_PGD W
#define MMS_EXE_FILE (4 * W)
#define PATH_MNT 0 /* struct path */
#define PATH_DENTRY W
#define FS_ROOT (2 * W) /* struct fs_struct */
#define FS_PWD (4 * W)
#define FILE_PATH (2 * W)
#define FILE_INODE (4 * W)
#define FILE_FLAGS (5 * W)
#define FILE_POS (6 * W) /* loff_t: 8 bytes at either width */
#define FILES_FDT (2 * W)  /* struct files_struct */
#define FDT_MAX_FDS 0     /* struct fdtable */
#define FDT_FD W
#define FDT_CLOEXEC (2 * W)
#define FDT_OPEN (3 * W)
#define INODE_MODE 0
#define INODE_SB (4 * W)
#define INODE_INO (6 * W)
#define SB_DEV 16 /* struct super_block */
#define SB_TYPE 0x20
#define SB_FLAGS 0x30
#define FST_NAME 0 /* struct file_system_type */
#define FST_FLAGS W
#define NSP_MNT_NS (3 * W) /* struct nsproxy */
#define NS_LIST (4 * W)    /* struct mnt_namespace */
#define QSTR_LEN 4 /* after the hash; name after hash_len */
#define QSTR_NAME 8
#define DE_HASH 8 /* hlist_bl_node: next, pprev */
#define DE_PARENT (8 + 2 * W)
#define DE_NAME (8 + 3 * W)
#define DE_OP 0x40
#define DE_FSDATA (0x40 + W)
#define DE_SIZE 0x80
#define DOP_DNAME (8 * W)
#define NSOPS_NAME 0 /* struct proc_ns_operations */
#define VM_ROOT 0 /* struct vfsmount */
#define VM_SB W
#define VM_FLAGS (2 * W)
#define MO_PARENT (2 * W) /* struct mount: mnt_hash first */
#define MO_MOUNTPOINT (3 * W)
#define MO_MNT (4 * W)
#define MO_LIST (8 * W)
#define MO_ID (10 * W)
#define MO_GROUP_ID (10 * W + 4)
#define MO_DEVNAME (11 * W)
#define MO_MASTER (12 * W)
#define MO_NODE (13 * W) /* 6.8+: rb_node in the namespace's tree */
#define MO_SIZE (16 * W)

static bool tree_ns; /* 6.8+: a namespace's mounts in a red-black tree, not a list */

static struct btf *btf_paths(void)
{
    struct btf32_types t;
    struct btf *b = btf32_new(&t);
    int t_s64 = btf__add_int(b, "long long int", 8, BTF_INT_SIGNED);
    int a_comm = btf__add_array(b, t.t_int, t.t_char, 16);
    btf__add_struct(b, "task_struct", TS_SIZE);
    btf__add_field(b, "__state", t.t_uint, TS_STATE * 8, 0);
    btf__add_field(b, "flags", t.t_uint, TS_FLAGS * 8, 0);
    btf__add_field(b, "tasks", t.s_list, TS_TASKS * 8, 0);
    btf__add_field(b, "pid", t.t_int, TS_PID * 8, 0);
    btf__add_field(b, "tgid", t.t_int, TS_TGID * 8, 0);
    btf__add_field(b, "exit_state", t.t_int, TS_EXIT_STATE * 8, 0);
    btf__add_field(b, "start_time", t.t_u64, TS_START * 8, 0);
    btf__add_field(b, "comm", a_comm, TS_COMM * 8, 0);
    btf__add_field(b, "real_parent", t.t_ptr, TS_PARENT * 8, 0);
    btf__add_field(b, "mm", t.t_ptr, TS_MM * 8, 0);
    btf__add_field(b, "real_cred", t.t_ptr, TS_CRED * 8, 0);
    btf__add_field(b, "fs", t.t_ptr, TS_FS * 8, 0);
    btf__add_field(b, "files", t.t_ptr, TS_FILES * 8, 0);
    btf__add_field(b, "nsproxy", t.t_ptr, TS_NSPROXY * 8, 0);
    btf__add_struct(b, "cred", 0x40);
    btf__add_field(b, "uid", t.t_uint, CRED_UID * 8, 0);
    btf__add_field(b, "gid", t.t_uint, CRED_GID * 8, 0);
    btf__add_field(b, "euid", t.t_uint, CRED_EUID * 8, 0);
    btf__add_field(b, "egid", t.t_uint, CRED_EGID * 8, 0);
    btf__add_struct(b, "mm_struct", 16 * W);
    btf__add_field(b, "pgd", t.t_ptr, MMS_PGD * 8, 0);
    btf__add_field(b, "exe_file", t.t_ptr, MMS_EXE_FILE * 8, 0);
    int s_path = btf__add_struct(b, "path", 2 * W);
    btf__add_field(b, "mnt", t.t_ptr, PATH_MNT * 8, 0);
    btf__add_field(b, "dentry", t.t_ptr, PATH_DENTRY * 8, 0);
    btf__add_struct(b, "fs_struct", 6 * W);
    btf__add_field(b, "root", s_path, FS_ROOT * 8, 0);
    btf__add_field(b, "pwd", s_path, FS_PWD * 8, 0);
    btf__add_struct(b, "file", 8 * W);
    btf__add_field(b, "f_path", s_path, FILE_PATH * 8, 0);
    btf__add_field(b, "f_inode", t.t_ptr, FILE_INODE * 8, 0);
    btf__add_field(b, "f_flags", t.t_uint, FILE_FLAGS * 8, 0);
    btf__add_field(b, "f_pos", t_s64, FILE_POS * 8, 0);
    btf__add_struct(b, "files_struct", 16 * W);
    btf__add_field(b, "fdt", t.t_ptr, FILES_FDT * 8, 0);
    btf__add_struct(b, "fdtable", 8 * W);
    btf__add_field(b, "max_fds", t.t_uint, FDT_MAX_FDS * 8, 0);
    btf__add_field(b, "fd", t.t_ptr, FDT_FD * 8, 0);
    btf__add_field(b, "close_on_exec", t.t_ptr, FDT_CLOEXEC * 8, 0);
    btf__add_field(b, "open_fds", t.t_ptr, FDT_OPEN * 8, 0);
    btf__add_struct(b, "inode", 16 * W);
    btf__add_field(b, "i_mode", t.t_u16, INODE_MODE * 8, 0);
    btf__add_field(b, "i_sb", t.t_ptr, INODE_SB * 8, 0);
    btf__add_field(b, "i_ino", t.t_ulong, INODE_INO * 8, 0);
    btf__add_struct(b, "super_block", 0x80);
    btf__add_field(b, "s_dev", t.t_uint, SB_DEV * 8, 0);
    btf__add_field(b, "s_type", t.t_ptr, SB_TYPE * 8, 0);
    btf__add_field(b, "s_flags", t.t_ulong, SB_FLAGS * 8, 0);
    btf__add_struct(b, "file_system_type", 8 * W);
    btf__add_field(b, "name", t.t_ptr, FST_NAME * 8, 0);
    btf__add_field(b, "fs_flags", t.t_int, FST_FLAGS * 8, 0);
    btf__add_struct(b, "dentry_operations", 16 * W);
    btf__add_field(b, "d_dname", t.t_ptr, DOP_DNAME * 8, 0);
    btf__add_struct(b, "proc_ns_operations", 8 * W);
    btf__add_field(b, "name", t.t_ptr, NSOPS_NAME * 8, 0);
    btf__add_struct(b, "nsproxy", 8 * W);
    btf__add_field(b, "mnt_ns", t.t_ptr, NSP_MNT_NS * 8, 0);
    btf__add_struct(b, "mnt_namespace", 8 * W);
    if (tree_ns) {
        btf__add_field(b, "mounts", t.s_rb_root, NS_LIST * 8, 0);
    } else {
        btf__add_field(b, "list", t.s_list, NS_LIST * 8, 0);
    }
    int s_qstr = btf__add_struct(b, "qstr", QSTR_NAME + W);
    btf__add_field(b, "len", t.t_uint, QSTR_LEN * 8, 0);
    btf__add_field(b, "name", t.t_ptr, QSTR_NAME * 8, 0);
    int s_hnode = btf__add_struct(b, "hlist_bl_node", 2 * W);
    btf__add_field(b, "next", t.t_ptr, 0, 0);
    btf__add_field(b, "pprev", t.t_ptr, W * 8, 0);
    btf__add_struct(b, "dentry", DE_SIZE);
    btf__add_field(b, "d_hash", s_hnode, DE_HASH * 8, 0);
    btf__add_field(b, "d_parent", t.t_ptr, DE_PARENT * 8, 0);
    btf__add_field(b, "d_name", s_qstr, DE_NAME * 8, 0);
    btf__add_field(b, "d_op", t.t_ptr, DE_OP * 8, 0);
    btf__add_field(b, "d_fsdata", t.t_ptr, DE_FSDATA * 8, 0);
    int s_vfsmount = btf__add_struct(b, "vfsmount", 3 * W);
    btf__add_field(b, "mnt_root", t.t_ptr, VM_ROOT * 8, 0);
    btf__add_field(b, "mnt_sb", t.t_ptr, VM_SB * 8, 0);
    btf__add_field(b, "mnt_flags", t.t_int, VM_FLAGS * 8, 0);
    btf__add_struct(b, "mount", MO_SIZE);
    btf__add_field(b, "mnt_parent", t.t_ptr, MO_PARENT * 8, 0);
    btf__add_field(b, "mnt_mountpoint", t.t_ptr, MO_MOUNTPOINT * 8, 0);
    btf__add_field(b, "mnt", s_vfsmount, MO_MNT * 8, 0);
    if (tree_ns)
        btf__add_field(b, "mnt_node", t.s_rb, MO_NODE * 8, 0);
    else
        btf__add_field(b, "mnt_list", t.s_list, MO_LIST * 8, 0);
    btf__add_field(b, "mnt_id", t.t_int, MO_ID * 8, 0);
    btf__add_field(b, "mnt_group_id", t.t_int, MO_GROUP_ID * 8, 0);
    btf__add_field(b, "mnt_devname", t.t_ptr, MO_DEVNAME * 8, 0);
    btf__add_field(b, "mnt_master", t.t_ptr, MO_MASTER * 8, 0);
    return b;
}

/* ---- the kernel ------------------------------------------------------------ */

#define DEV_ROOT ((254u << 20) | 1) /* vda1 */
#define DEV_HOME ((254u << 20) | 16) /* vdb */
#define DEV_NSFS 4u                      /* 0:4, nsfs */
#define POS_BIG 0x123456789ULL /* above 4 GiB: loff_t is 8 bytes at either width */

/* The two mounts as xa_mount_iter must give them (seen from init's root). */
static const struct {
    int32_t id;
    uint32_t dev, flags;
    const char *point, *options, *source;
} mounts[] = {
    {21, DEV_ROOT, 0, "/", "rw", "/dev/vda1"},
    {25, DEV_HOME, XA_MNT_NOSUID | XA_MNT_NODEV, "/home", "rw,nosuid,nodev", "/dev/vdb"},
};
/* ... and the two open files as xa_file_iter must give them. */
static const struct {
    int32_t fd;
    uint32_t flags, mode, dev;
    uint64_t pos, ino;
    const char *path;
} files[] = {
    {0, 0100002, 0100644, DEV_HOME, POS_BIG, 131077, "/home/alice/docs/notes.txt"},
    {3, 0100000 | 02000000, 0100755, DEV_ROOT, 4096, 2049, "/bin/sh"},
    {5, 0100000, 0100444, DEV_NSFS, 0, 4026531841ULL, "mnt:[4026531841]"}, /* a namespace */
};
#define NR_FILES (sizeof(files) / sizeof(files[0]))
#define NS_DNAME_OFF 0x6200 /* ns_dname in the text */

static uint64_t init_task_pa, mount_sb[3];

/* A hashed dentry named @name under @parent (0: its own root). */
static uint64_t dentry(const char *name, uint64_t parent)
{
    uint64_t d = alloc(DE_SIZE);
    put_word(d + DE_PARENT, va(parent ? parent : d));
    put32(d + DE_NAME + QSTR_LEN, (uint32_t)strlen(name));
    put_word(d + DE_NAME + QSTR_NAME, va(pa_of(gstr(name))));
    put_word(d + DE_HASH + W, va(alloc(W))); /* pprev: hashed, not deleted */
    return d;
}

/* Mount @i of mounts[] of root @root at @mountpoint of @parent (0: the
 * namespace's top), its super block of an ext4 file system. */
static uint64_t mount(unsigned i, uint64_t root, uint64_t parent, uint64_t mountpoint)
{
    uint64_t m = alloc(MO_SIZE), sb = alloc(0x80), fst = alloc(8 * W);
    mount_sb[i] = sb;
    put_word(m + MO_PARENT, va(parent ? parent : m));
    put_word(m + MO_MOUNTPOINT, va(mountpoint));
    put_word(m + MO_MNT + VM_ROOT, va(root));
    put_word(m + MO_MNT + VM_SB, va(sb));
    put32(m + MO_MNT + VM_FLAGS, mounts[i].flags);
    put32(m + MO_ID, (uint32_t)mounts[i].id);
    put_word(m + MO_DEVNAME, va(pa_of(gstr(mounts[i].source))));
    put32(sb + SB_DEV, mounts[i].dev);
    put_word(sb + SB_TYPE, va(fst));
    put_word(fst + FST_NAME, va(pa_of(gstr("ext4"))));
    return m;
}

static void put_path(uint64_t at, uint64_t mnt, uint64_t d)
{
    put_word(at + PATH_MNT, va(mnt + MO_MNT));
    put_word(at + PATH_DENTRY, va(d));
}

/* ns_dname as linked (the System.map's) and as run (KASLR slides the 64-bit image). */
static uint64_t ns_dname_link(void) { return (W == 8 ? KLINK + TEXT64 : 0xC1000000ULL) + NS_DNAME_OFF; }
static uint64_t ns_dname_va(void) { return ns_dname_link() + (W == 8 ? KVIRT - KLINK : 0); }

/* A struct file of files[@i] at (@mnt, @d), on the super block of mounts[@on]. */
static uint64_t file(unsigned i, uint64_t mnt, uint64_t d, unsigned on)
{
    uint64_t f = alloc(8 * W), inode = alloc(16 * W);
    put_path(f + FILE_PATH, mnt, d);
    put_word(f + FILE_INODE, va(inode));
    put32(f + FILE_FLAGS, files[i].flags & ~02000000u); /* O_CLOEXEC is the table's */
    put64(f + FILE_POS, files[i].pos);
    memcpy(img + inode + INODE_MODE, &(uint16_t){(uint16_t)files[i].mode}, 2);
    put_word(inode + INODE_INO, files[i].ino);
    put_word(inode + INODE_SB, va(mount_sb[on]));
    return f;
}

/* A circular list: @head, then @n nodes. */
static void ring2(uint64_t head, const uint64_t *nodes, size_t n)
{
    uint64_t all[4] = {head};
    for (size_t i = 0; i < n; i++)
        all[i + 1] = nodes[i];
    for (size_t i = 0; i <= n; i++) {
        put_word(all[i], va(all[(i + 1) % (n + 1)]));
        put_word(all[i] + W, va(all[(i + n) % (n + 1)]));
    }
}

static uint64_t task(int pid, const char *comm, uint64_t parent)
{
    uint64_t t = alloc(TS_SIZE), cred = alloc(0x40);
    put32(t + TS_PID, (uint32_t)pid);
    put32(t + TS_TGID, (uint32_t)pid);
    strcpy((char *)img + t + TS_COMM, comm);
    put_word(t + TS_PARENT, va(parent ? parent : t));
    put_word(t + TS_CRED, va(cred));
    return t;
}

/* init (pid 1): exe /bin/sh, cwd /home/alice/docs, root /, files[] open,
 * mounts[] its namespace's. */
static void build_kernel(void)
{
    btf32_reset();
    uint64_t root = dentry("/", 0), home = dentry("home", root), bin = dentry("bin", root);
    uint64_t sh = dentry("sh", bin), home_root = dentry("/", 0);
    uint64_t docs = dentry("docs", dentry("alice", home_root)), notes = dentry("notes.txt", docs);
    uint64_t top = mount(0, root, 0, root), home_mnt = mount(1, home_root, top, home);

    init_task_pa = task(0, "swapper/0", 0);
    uint64_t init = task(1, "init", init_task_pa);
    const uint64_t tasks[] = {init + TS_TASKS};
    ring2(init_task_pa + TS_TASKS, tasks, 1);
    uint64_t mm = alloc(16 * W), exe = alloc(8 * W), fs = alloc(6 * W);
    put_word(mm + MMS_PGD, va(pa_of(galloc(4096, 4096))));
    put_word(mm + MMS_EXE_FILE, va(exe));
    put_path(exe + FILE_PATH, top, sh);
    put_path(fs + FS_ROOT, top, root);
    put_path(fs + FS_PWD, home_mnt, docs);
    put_word(init + TS_MM, va(mm));
    put_word(init + TS_FS, va(fs));

    /* files: one word of fds */
    uint64_t fstruct = alloc(16 * W), fdt = alloc(8 * W), fd = alloc(8 * W * W);
    uint64_t open = alloc(W), cloexec = alloc(W);
    put_word(init + TS_FILES, va(fstruct));
    put_word(fstruct + FILES_FDT, va(fdt));
    put32(fdt + FDT_MAX_FDS, 8 * W);
    put_word(fdt + FDT_FD, va(fd));
    put_word(fdt + FDT_OPEN, va(open));
    put_word(fdt + FDT_CLOEXEC, va(cloexec));
    /* a namespace file: an anonymous dentry of nsfs, named through d_dname
     * (ns_dname) and the proc_ns_operations in d_fsdata */
    uint64_t nsfs = alloc(MO_SIZE), ns_file = dentry("x", 0), dops = alloc(16 * W);
    uint64_t ns_ops = alloc(8 * W);
    mount_sb[2] = alloc(0x80);
    put32(mount_sb[2] + SB_DEV, DEV_NSFS);
    put_word(nsfs + MO_PARENT, va(nsfs));
    put_word(nsfs + MO_MNT + VM_ROOT, va(dentry("/", 0)));
    put_word(ns_file + DE_OP, va(dops));
    put_word(dops + DOP_DNAME, ns_dname_va());
    put_word(ns_file + DE_FSDATA, va(ns_ops));
    put_word(ns_ops + NSOPS_NAME, va(pa_of(gstr("mnt"))));
    const uint64_t at[][3] = {{home_mnt, notes, 1}, {top, sh, 0}, {nsfs, ns_file, 2}};
    uint64_t open_bits = 0, cloexec_bits = 0;
    for (unsigned i = 0; i < NR_FILES; i++) {
        put_word(fd + W * (uint64_t)files[i].fd, va(file(i, at[i][0], at[i][1], (unsigned)at[i][2])));
        open_bits |= 1ULL << files[i].fd;
        if (files[i].flags & 02000000)
            cloexec_bits |= 1ULL << files[i].fd;
    }
    put_word(open, open_bits);
    put_word(cloexec, cloexec_bits);

    /* the mount namespace: its list or tree, the root's mount first */
    uint64_t nsproxy = alloc(8 * W), ns = alloc(8 * W);
    put_word(init + TS_NSPROXY, va(nsproxy));
    put_word(init_task_pa + TS_NSPROXY, va(nsproxy));
    put_word(nsproxy + NSP_MNT_NS, va(ns));
    if (tree_ns) { /* the root's mount at the root (black), home's its right child (red) */
        put_word(ns + NS_LIST, va(top + MO_NODE));
        put_word(top + MO_NODE, 1);
        put_word(top + MO_NODE + W, va(home_mnt + MO_NODE));
        put_word(home_mnt + MO_NODE, va(top + MO_NODE));
    } else {
        const uint64_t mnts[] = {top + MO_LIST, home_mnt + MO_LIST};
        ring2(ns + NS_LIST, mnts, 2);
    }
}

static struct xa_instance *open_kernel(void)
{
    char map[1024];
    int n = btf32_map_anchors(map, sizeof(map));
    snprintf(map + n, sizeof(map) - (size_t)n, "%016llx D init_task\n%016llx t ns_dname\n",
             (unsigned long long)va(init_task_pa), (unsigned long long)ns_dname_link());
    return cur_xa = btf32_open(btf_paths(), map);
}

/* ---- the tests ------------------------------------------------------------- */

static void test_paths(struct xa_instance *xa)
{
    static const struct {
        enum xa_proc_path which;
        const char *want;
    } cases[] = {{XA_PROC_EXE, "/bin/sh"}, {XA_PROC_CWD, "/home/alice/docs"}, {XA_PROC_ROOT, "/"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[XA_PATH_MAX] = "";
        int rc = xa_process_path(xa, 1, cases[i].which, buf, sizeof(buf));
        CHECK(rc == 0 && strcmp(buf, cases[i].want) == 0,
              "%u-byte words: path %d: rc %d \"%s\", want \"%s\"", W, (int)cases[i].which, rc,
              buf, cases[i].want);
    }
}

static void test_files(struct xa_instance *xa)
{
    struct xa_file_iter *it = NULL;
    int rc = xa_file_iter_new(xa, 1, &it);
    CHECK(rc == 0, "%u-byte words: xa_file_iter_new: %d", W, rc);
    static struct xa_open_file f;
    unsigned n = 0;
    while (it && (rc = xa_file_iter_next(it, &f)) == 1) {
        if (n >= NR_FILES) {
            CHECK(false, "%u-byte words: fd %d past the last", W, (int)f.fd);
            break;
        }
        CHECK(f.pid == 1 && f.fd == files[n].fd && strcmp(f.path, files[n].path) == 0 &&
                  f.flags == files[n].flags && (uint64_t)f.pos == files[n].pos,
              "%u-byte words: fd %d \"%s\" flags 0%o pos 0x%llx", W, (int)f.fd, f.path, f.flags,
              (unsigned long long)f.pos);
        CHECK(f.inode == files[n].ino && f.mode == files[n].mode &&
                  ((f.dev_major << 20) | f.dev_minor) == files[n].dev && f.state == 0,
              "%u-byte words: fd %d: inode %llu mode 0%o dev %u:%u state %u", W, (int)f.fd,
              (unsigned long long)f.inode, f.mode, f.dev_major, f.dev_minor, f.state);
        n++;
    }
    CHECK(rc == 0 && n == NR_FILES, "%u-byte words: files: rc %d after %u", W, rc, n);
    xa_file_iter_free(it);
}

static void test_mounts(struct xa_instance *xa)
{
    struct xa_mount_iter *it = NULL;
    int rc = xa_mount_iter_new(xa, 1, &it);
    CHECK(rc == 0, "%u-byte words: xa_mount_iter_new: %d", W, rc);
    static struct xa_mount m;
    unsigned n = 0;
    while (it && (rc = xa_mount_iter_next(it, &m)) == 1) {
        if (n >= 2) {
            CHECK(false, "%u-byte words: mount %d past the last", W, (int)m.mnt_id);
            break;
        }
        CHECK(m.mnt_id == mounts[n].id && m.parent_id == mounts[0].id &&
                  ((m.dev_major << 20) | m.dev_minor) == mounts[n].dev &&
                  m.mnt_flags == mounts[n].flags && strcmp(m.root, "/") == 0 &&
                  strcmp(m.mount_point, mounts[n].point) == 0 &&
                  strcmp(m.options, mounts[n].options) == 0 && strcmp(m.fstype, "ext4") == 0 &&
                  strcmp(m.source, mounts[n].source) == 0,
              "%u-byte words: mount %d (parent %d) dev %u:%u at \"%s\" root \"%s\" \"%s\" %s %s",
              W, (int)m.mnt_id, (int)m.parent_id, m.dev_major, m.dev_minor, m.mount_point,
              m.root, m.options, m.fstype, m.source);
        n++;
    }
    CHECK(rc == 0 && n == 2, "%u-byte words, %s: mounts: rc %d after %u", W, tree_ns ? "tree" : "list", rc, n);
    xa_mount_iter_free(it);
}

int main(void)
{
    img = calloc(1, IMG_SIZE);
    if (!img)
        return 1;
    for (unsigned k = 0; k < 4; k++) {
        W = k < 2 ? 8 : 4;
        tree_ns = k % 2;
        build_kernel();
        struct xa_instance *xa = open_kernel();
        if (!xa)
            continue;
        if (!tree_ns) {
            test_paths(xa);
            test_files(xa);
        }
        test_mounts(xa);
        xa_destroy(xa);
        cur_xa = NULL;
    }
    btf32_cleanup();
    free(img);
    CHECK_DONE();
}
