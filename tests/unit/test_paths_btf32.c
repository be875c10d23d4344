/*
 * test_paths_btf32.c -- a process's exe, cwd and root through BTF
 * (os/linux/procinfo.c, then the dentry walk of dpath.c) on a 32-bit
 * kernel that has BTF, and the same kernel at 64 bits: one code path,
 * words of the kernel's width.
 *
 * One synthetic kernel per word size W (4 or 8, made as btf32_kernel.h
 * says), its layout told only through a BTF of W-byte pointers and longs:
 * init_task and init on the task list, init with an mm, credentials and
 * an fs_struct; two mounts (the root, and one on /home); dentries for
 * /bin/sh and /home/alice/docs. xa_process_path must give exactly
 * "/bin/sh", "/home/alice/docs" and "/".
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
#define QSTR_LEN 4 /* after the hash; name after hash_len */
#define QSTR_NAME 8
#define DE_HASH 8 /* hlist_bl_node: next, pprev */
#define DE_PARENT (8 + 2 * W)
#define DE_NAME (8 + 3 * W)
#define DE_SIZE 0x80
#define VM_ROOT 0 /* struct vfsmount */
#define MO_PARENT (2 * W) /* struct mount: mnt_hash first */
#define MO_MOUNTPOINT (3 * W)
#define MO_MNT (4 * W)
#define MO_SIZE (16 * W)

static struct btf *btf_paths(void)
{
    struct btf *b = btf__new_empty();
    btf__set_pointer_size(b, W);
    int t_int = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    int t_uint = btf__add_int(b, "unsigned int", 4, 0);
    int t_u64 = btf__add_int(b, "long long unsigned int", 8, 0);
    int t_char = btf__add_int(b, "char", 1, BTF_INT_CHAR);
    int t_ptr = btf__add_ptr(b, 0);
    int s_list = btf__add_struct(b, "list_head", 2 * W);
    btf__add_field(b, "next", t_ptr, 0, 0);
    btf__add_field(b, "prev", t_ptr, W * 8, 0);
    int a_comm = btf__add_array(b, t_int, t_char, 16);
    btf__add_struct(b, "task_struct", TS_SIZE);
    btf__add_field(b, "__state", t_uint, TS_STATE * 8, 0);
    btf__add_field(b, "flags", t_uint, TS_FLAGS * 8, 0);
    btf__add_field(b, "tasks", s_list, TS_TASKS * 8, 0);
    btf__add_field(b, "pid", t_int, TS_PID * 8, 0);
    btf__add_field(b, "tgid", t_int, TS_TGID * 8, 0);
    btf__add_field(b, "exit_state", t_int, TS_EXIT_STATE * 8, 0);
    btf__add_field(b, "start_time", t_u64, TS_START * 8, 0);
    btf__add_field(b, "comm", a_comm, TS_COMM * 8, 0);
    btf__add_field(b, "real_parent", t_ptr, TS_PARENT * 8, 0);
    btf__add_field(b, "mm", t_ptr, TS_MM * 8, 0);
    btf__add_field(b, "real_cred", t_ptr, TS_CRED * 8, 0);
    btf__add_field(b, "fs", t_ptr, TS_FS * 8, 0);
    btf__add_struct(b, "cred", 0x40);
    btf__add_field(b, "uid", t_uint, CRED_UID * 8, 0);
    btf__add_field(b, "gid", t_uint, CRED_GID * 8, 0);
    btf__add_field(b, "euid", t_uint, CRED_EUID * 8, 0);
    btf__add_field(b, "egid", t_uint, CRED_EGID * 8, 0);
    btf__add_struct(b, "mm_struct", 16 * W);
    btf__add_field(b, "pgd", t_ptr, MMS_PGD * 8, 0);
    btf__add_field(b, "exe_file", t_ptr, MMS_EXE_FILE * 8, 0);
    int s_path = btf__add_struct(b, "path", 2 * W);
    btf__add_field(b, "mnt", t_ptr, PATH_MNT * 8, 0);
    btf__add_field(b, "dentry", t_ptr, PATH_DENTRY * 8, 0);
    btf__add_struct(b, "fs_struct", 6 * W);
    btf__add_field(b, "root", s_path, FS_ROOT * 8, 0);
    btf__add_field(b, "pwd", s_path, FS_PWD * 8, 0);
    btf__add_struct(b, "file", 8 * W);
    btf__add_field(b, "f_path", s_path, FILE_PATH * 8, 0);
    int s_qstr = btf__add_struct(b, "qstr", QSTR_NAME + W);
    btf__add_field(b, "len", t_uint, QSTR_LEN * 8, 0);
    btf__add_field(b, "name", t_ptr, QSTR_NAME * 8, 0);
    int s_hnode = btf__add_struct(b, "hlist_bl_node", 2 * W);
    btf__add_field(b, "next", t_ptr, 0, 0);
    btf__add_field(b, "pprev", t_ptr, W * 8, 0);
    btf__add_struct(b, "dentry", DE_SIZE);
    btf__add_field(b, "d_hash", s_hnode, DE_HASH * 8, 0);
    btf__add_field(b, "d_parent", t_ptr, DE_PARENT * 8, 0);
    btf__add_field(b, "d_name", s_qstr, DE_NAME * 8, 0);
    int s_vfsmount = btf__add_struct(b, "vfsmount", 3 * W);
    btf__add_field(b, "mnt_root", t_ptr, VM_ROOT * 8, 0);
    btf__add_struct(b, "mount", MO_SIZE);
    btf__add_field(b, "mnt_parent", t_ptr, MO_PARENT * 8, 0);
    btf__add_field(b, "mnt_mountpoint", t_ptr, MO_MOUNTPOINT * 8, 0);
    btf__add_field(b, "mnt", s_vfsmount, MO_MNT * 8, 0);
    return b;
}

/* ---- the kernel ------------------------------------------------------------ */

static uint64_t init_task_pa;

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

/* A mount of root @root at @mountpoint of @parent (0: the namespace's top). */
static uint64_t mount(uint64_t root, uint64_t parent, uint64_t mountpoint)
{
    uint64_t m = alloc(MO_SIZE);
    put_word(m + MO_PARENT, va(parent ? parent : m));
    put_word(m + MO_MOUNTPOINT, va(mountpoint));
    put_word(m + MO_MNT + VM_ROOT, va(root));
    return m;
}

static void put_path(uint64_t at, uint64_t mnt, uint64_t d)
{
    put_word(at + PATH_MNT, va(mnt + MO_MNT));
    put_word(at + PATH_DENTRY, va(d));
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

/* init (pid 1): exe /bin/sh, cwd /home/alice/docs, root /. */
static void build_kernel(void)
{
    btf32_reset();
    uint64_t root = dentry("/", 0), home = dentry("home", root), bin = dentry("bin", root);
    uint64_t sh = dentry("sh", bin), home_root = dentry("/", 0);
    uint64_t docs = dentry("docs", dentry("alice", home_root));
    uint64_t top = mount(root, 0, root), home_mnt = mount(home_root, top, home);

    init_task_pa = task(0, "swapper/0", 0);
    uint64_t init = task(1, "init", init_task_pa);
    uint64_t list[2] = {init_task_pa + TS_TASKS, init + TS_TASKS};
    for (int i = 0; i < 2; i++) {
        put_word(list[i], va(list[1 - i]));
        put_word(list[i] + W, va(list[1 - i]));
    }
    uint64_t mm = alloc(16 * W), file = alloc(8 * W), fs = alloc(6 * W);
    put_word(mm + MMS_PGD, va(pa_of(galloc(4096, 4096))));
    put_word(mm + MMS_EXE_FILE, va(file));
    put_path(file + FILE_PATH, top, sh);
    put_path(fs + FS_ROOT, top, root);
    put_path(fs + FS_PWD, home_mnt, docs);
    put_word(init + TS_MM, va(mm));
    put_word(init + TS_FS, va(fs));
}

static struct xa_instance *open_kernel(void)
{
    char map[1024];
    int n = btf32_map_anchors(map, sizeof(map));
    snprintf(map + n, sizeof(map) - (size_t)n, "%016llx D init_task\n",
             (unsigned long long)va(init_task_pa));
    return cur_xa = btf32_open(btf_paths(), map);
}

static void test_paths(void)
{
    build_kernel();
    struct xa_instance *xa = open_kernel();
    if (!xa)
        return;
    static const struct {
        enum xa_proc_path which;
        const char *want;
    } cases[] = {{XA_PROC_EXE, "/bin/sh"}, {XA_PROC_CWD, "/home/alice/docs"}, {XA_PROC_ROOT, "/"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[XA_PATH_MAX] = "";
        int rc = xa_process_path(xa, 1, cases[i].which, buf, sizeof(buf));
        CHECK(rc == 0 && strcmp(buf, cases[i].want) == 0, "%u-byte words: path %d: rc %d \"%s\", want \"%s\"",
              W, (int)cases[i].which, rc, buf, cases[i].want);
    }
    xa_destroy(xa);
    cur_xa = NULL;
}

int main(void)
{
    img = calloc(1, IMG_SIZE);
    if (!img)
        return 1;
    for (W = 8; W >= 4; W -= 4)
        test_paths();
    btf32_cleanup();
    free(img);
    CHECK_DONE();
}
