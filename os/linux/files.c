/*
 * files.c -- the open files of a Linux process (task->files->fdt) and the
 * mounts of a mount namespace (nsproxy->mnt_ns->list), behind
 * xa_file_iter_* and xa_mount_iter_*.
 *
 * Layouts come from the guest's BTF on first use; what is missing is named
 * in an XA_ENOTSUP. The reading itself is fileread.c's (bounded fd walk,
 * bounded paths); the mount list is walked by listwalk.c (a cap, a visited
 * set, both links checked), so a loop ends in a flagged partial list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/fileread.h"
#include "os/linux/files.h"
#include "os/linux/linux.h"
#include "os/linux/lxpriv.h"
#include "os/linux/mounts32.h"

/* Mounts of one namespace walked at most (mount-max defaults to 100000). */
#define MOUNTS_MAX (1u << 20)

enum feature { F_FILES, F_MOUNTS, F_COUNT };

struct lx_files_offsets {
    uint64_t task_files, task_fs, task_nsproxy, files_fdt, fs_root, path_mnt, path_dentry;
    uint64_t nsproxy_mnt_ns, ns_list, mount_list;
    /* 6.8+: a namespace's mounts in a red-black tree (mnt_namespace.mounts). */
    uint64_t ns_mounts, mount_node, rb_root_node, rb_parent_color, rb_left, rb_right;
    bool mounts_in_tree;
    /* 32-bit inference: the embedded fdtab follows fdt and has BITS_PER_LONG fds */
    bool fdtab_known;
    uint64_t files_fdtab;
    bool files32_done, mounts32_done; /* 32-bit inference run (once each) */
    struct lx_file_layout file;
    struct lx_mount_layout mount;
    char missing[F_COUNT][XA_ERRMSG_LEN];
};

struct want {
    uint64_t *dst;
    const char *type;
    const char *path;
    unsigned features; /* bit per enum feature that needs it; 0: optional */
};

/* The pseudo file systems' namers; an unknown one leaves its files "?". */
static void find_namers(struct linux_os *lx, struct lx_file_layout *f)
{
    static const char *const namers[] = {"pipefs_dname", "sockfs_dname", "anon_inodefs_dname",
                                         "ns_dname", "simple_dname"};
    uint64_t *fns[] = {&f->fn_pipe, &f->fn_socket, &f->fn_anon, &f->fn_ns, &f->fn_simple};
    for (size_t i = 0; i < 5; i++)
        if (symtab_lookup(&lx->syms, namers[i], fns[i]) < 0)
            *fns[i] = 0;
}

static struct lx_files_offsets *resolve(struct linux_os *lx)
{
    struct lx_files_offsets *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    struct lx_file_layout *f = &o->file;
    struct lx_mount_layout *m = &o->mount;
    uint64_t d_name = 0, qstr_len = 0, qstr_name = 0, f_path = 0;
    const unsigned FI = 1u << F_FILES, MO = 1u << F_MOUNTS, BOTH = FI | MO;
    const struct want w[] = {
        {&o->task_files, "task_struct", "files", FI},
        {&o->files_fdt, "files_struct", "fdt", FI},
        {&f->fdt_max_fds, "fdtable", "max_fds", FI},
        {&f->fdt_fd, "fdtable", "fd", FI},
        {&f->fdt_open_fds, "fdtable", "open_fds", FI},
        {&f->fdt_close_on_exec, "fdtable", "close_on_exec", FI},
        {&f_path, "file", "f_path", FI},
        {&f->f_inode, "file", "f_inode", FI},
        {&f->f_flags, "file", "f_flags", FI},
        {&f->f_pos, "file", "f_pos", FI},
        {&f->i_mode, "inode", "i_mode", FI},
        {&f->i_ino, "inode", "i_ino", FI},
        {&f->i_sb, "inode", "i_sb", FI},
        {&f->d_op, "dentry", "d_op", FI},
        {&f->d_fsdata, "dentry", "d_fsdata", FI},
        {&f->dop_d_dname, "dentry_operations", "d_dname", FI},
        {&f->ns_ops_name, "proc_ns_operations", "name", 0},
        {&o->task_fs, "task_struct", "fs", MO},
        {&o->task_nsproxy, "task_struct", "nsproxy", MO},
        {&o->fs_root, "fs_struct", "root", MO},
        {&o->path_mnt, "path", "mnt", BOTH},
        {&o->path_dentry, "path", "dentry", BOTH},
        {&o->nsproxy_mnt_ns, "nsproxy", "mnt_ns", MO},
        {&o->ns_list, "mnt_namespace", "list", 0},
        {&o->mount_list, "mount", "mnt_list", 0},
        {&o->ns_mounts, "mnt_namespace", "mounts", 0},
        {&o->mount_node, "mount", "mnt_node", 0},
        {&o->rb_root_node, "rb_root", "rb_node", 0},
        {&o->rb_parent_color, "rb_node", "__rb_parent_color", 0},
        {&o->rb_left, "rb_node", "rb_left", 0},
        {&o->rb_right, "rb_node", "rb_right", 0},
        {&m->mnt_id, "mount", "mnt_id", MO},
        {&m->mnt_devname, "mount", "mnt_devname", MO},
        {&m->mnt_master, "mount", "mnt_master", MO},
        {&m->mnt_group_id, "mount", "mnt_group_id", MO},
        {&m->mnt_sb, "vfsmount", "mnt_sb", MO},
        {&m->mnt_flags, "vfsmount", "mnt_flags", MO},
        {&m->s_dev, "super_block", "s_dev", BOTH},
        {&m->s_type, "super_block", "s_type", MO},
        {&m->s_flags, "super_block", "s_flags", MO},
        {&m->s_subtype, "super_block", "s_subtype", 0},
        {&m->fst_name, "file_system_type", "name", MO},
        {&m->fst_flags, "file_system_type", "fs_flags", 0},
        {&m->d.d_parent, "dentry", "d_parent", BOTH},
        {&d_name, "dentry", "d_name", BOTH},
        {&qstr_len, "qstr", "len", BOTH},
        {&qstr_name, "qstr", "name", BOTH},
        {&m->d.d_hash_pprev, "dentry", "d_hash.pprev", 0},
        {&m->d.mnt_root, "vfsmount", "mnt_root", BOTH},
        {&m->d.mount_mnt, "mount", "mnt", BOTH},
        {&m->d.mount_parent, "mount", "mnt_parent", BOTH},
        {&m->d.mount_mountpoint, "mount", "mnt_mountpoint", BOTH},
    };
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        *w[i].dst = LX_NO_OFFSET;
        if (linux_btf_member(lx, w[i].type, w[i].path, w[i].dst) == 0)
            continue;
        *w[i].dst = LX_NO_OFFSET;
        for (int k = 0; k < F_COUNT; k++)
            if ((w[i].features >> k & 1) && !o->missing[k][0])
                snprintf(o->missing[k], XA_ERRMSG_LEN, "the kernel's BTF has no %s.%s",
                         w[i].type, w[i].path);
    }
    /* The namespace's mounts: a list before 6.8, a red-black tree since. */
    bool list = o->ns_list != LX_NO_OFFSET && o->mount_list != LX_NO_OFFSET;
    o->mounts_in_tree = !list && o->ns_mounts != LX_NO_OFFSET &&
                        o->mount_node != LX_NO_OFFSET && o->rb_root_node != LX_NO_OFFSET &&
                        o->rb_parent_color != LX_NO_OFFSET && o->rb_left != LX_NO_OFFSET &&
                        o->rb_right != LX_NO_OFFSET;
    if (!list && !o->mounts_in_tree && !o->missing[F_MOUNTS][0])
        snprintf(o->missing[F_MOUNTS], XA_ERRMSG_LEN,
                 "the kernel's BTF has neither mnt_namespace.list nor mnt_namespace.mounts");
    m->d.d_name_len = d_name + qstr_len;
    m->d.d_name_ptr = d_name + qstr_name;
    m->d.has_mounts = true;
    if (lx_is32(lx)) { /* a 32-bit kernel with BTF: 4-byte pointers and longs */
        m->d.ptr_size = 4;
        m->d.kptr_min = lx->page_offset;
    }
    f->d = m->d;
    f->s_dev = m->s_dev;
    f->f_path_mnt = f_path + o->path_mnt;
    f->f_path_dentry = f_path + o->path_dentry;
    find_namers(lx, f);
    return o;
}

/* The open-file layout of a 32-bit kernel without BTF (files32_layout.c);
 * a failure is kept, saying why. */
static void files32_fill(struct xa_instance *xa, struct linux_priv *p, struct lx_files_offsets *o)
{
    char why[LX_WHY_LEN];
    if (linux_files32_layout(xa, p, &o->file, &o->task_files, &o->files_fdt, why) < 0)
        snprintf(o->missing[F_FILES], XA_ERRMSG_LEN,
                 "32-bit kernel without BTF: layout not found in memory: %.400s", why);
    else
        find_namers(&p->lx, &o->file);
    o->fdtab_known = true;
    o->files_fdtab = o->files_fdt + 4;
}

/* The mount offsets of a 32-bit kernel without BTF (mountlayout32.c); a
 * failure is returned (and retried by the next call). */
static int mounts32_fill(struct xa_instance *xa, struct linux_priv *p, struct lx_files_offsets *o)
{
    struct mn32_layout l;
    int rc = linux_mounts32_find(xa, p, &l);
    if (rc < 0)
        return xa__prefix_error(xa, rc, "cannot read mounts");
    struct lx_mount_layout *m = &o->mount;
    o->task_nsproxy = l.task_nsproxy;
    o->task_fs = l.task_fs;
    o->fs_root = l.fs_root;
    o->path_mnt = 0;
    o->path_dentry = 4;
    o->nsproxy_mnt_ns = l.nsproxy_mnt_ns;
    o->ns_list = l.ns_list;
    o->mount_list = l.mnt_list;
    m->mnt_id = l.mnt_id;
    m->mnt_devname = l.mnt_devname;
    m->mnt_group_id = l.mnt_group_id == MN32_NONE ? LX_NO_OFFSET : l.mnt_group_id;
    m->mnt_master = l.mnt_master == MN32_NONE ? LX_NO_OFFSET : l.mnt_master;
    m->mnt_sb = l.mnt_sb;
    m->mnt_flags = l.mnt_flags;
    m->s_dev = l.s_dev;
    m->s_type = l.s_type;
    m->s_flags = l.s_flags;
    m->s_subtype = LX_NO_OFFSET;
    m->fst_name = 0;   /* file_system_type.name comes first */
    m->fst_flags = 4;  /* then fs_flags */
    m->d = linux_dpath_layout32(p);
    return 0;
}

/* A 32-bit kernel without BTF: each feature's layout inferred from memory
 * on its first use. */
static int resolve32(struct xa_instance *xa, struct linux_priv *p, enum feature f)
{
    if (!p->files && !(p->files = calloc(1, sizeof(*p->files))))
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    struct lx_files_offsets *o = p->files;
    if (f == F_FILES && !o->files32_done) {
        files32_fill(xa, p, o);
        o->files32_done = true;
    } else if (f == F_MOUNTS && !o->mounts32_done) {
        int rc = mounts32_fill(xa, p, o);
        if (rc < 0)
            return rc;
        o->mounts32_done = true;
    }
    return 0;
}

static int need(struct xa_instance *xa, enum feature f, const struct lx_files_offsets **out)
{
    static const char *const names[F_COUNT] = {"open files", "mounts"};
    struct linux_priv *p = linux_priv(xa);
    bool infer32 = !p->lx.btf && lx_is32(&p->lx);
    if (!p->lx.btf && !infer32)
        return xa__set_error(xa, XA_ENOTSUP, "cannot read %s: no kernel types (BTF)", names[f]);
    if (infer32) {
        int rc = resolve32(xa, p, f);
        if (rc < 0)
            return rc;
    } else if (!p->files && !(p->files = resolve(&p->lx))) {
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    }
    if (p->files->missing[f][0])
        return xa__set_error(xa, XA_ENOTSUP, "cannot read %s: %s", names[f],
                             p->files->missing[f]);
    *out = p->files;
    return 0;
}

void linux_files_free(struct linux_priv *p)
{
    free(p->files);
    p->files = NULL;
}

static int read_kernel(void *ctx, uint64_t va, void *buf, size_t len)
{
    return lx_read(ctx, va, buf, len);
}

/* A kernel pointer at @va; 0 allowed when @may_be_null. */
static int read_ptr(struct xa_instance *xa, uint64_t va, bool may_be_null, const char *what,
                    int32_t pid, uint64_t *out)
{
    if (lx_ptr(xa, va, out) < 0)
        return xa__set_error(xa, XA_EFAULT, "process %d: %s unreadable at 0x%llx", (int)pid,
                             what, (unsigned long long)va);
    if ((*out == 0 && may_be_null) || (lx_kptr(xa, *out) && !(*out & (lx_ptr_size(xa) - 1))))
        return 0;
    return xa__set_error(xa, XA_EBADDATA, "process %d: bad %s pointer 0x%llx", (int)pid, what,
                         (unsigned long long)*out);
}

/* ---- open files ------------------------------------------------------------ */

static int file_iter_at(struct xa_instance *xa, const struct lx_files_offsets *o, int32_t pid,
                        uint64_t task, struct xa_file_iter **out)
{
    uint64_t files = 0, fdt = 0;
    int rc;
    if ((rc = read_ptr(xa, task + o->task_files, true, "task->files", pid, &files)) < 0)
        return rc;
    if (files && (rc = read_ptr(xa, files + o->files_fdt, false, "files->fdt", pid, &fdt)) < 0)
        return rc;
    struct xa_file_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    it->xa = xa;
    it->pid = pid;
    it->layout = &o->file;
    if (fdt) {
        char why[LX_WHY_LEN];
        rc = lx_fdt_open(&o->file, read_kernel, xa, fdt, &it->cur, why);
        if (rc == 0 && o->fdtab_known && fdt == files + o->files_fdtab &&
            it->cur.max_fds != 32) {
            snprintf(why, sizeof(why), "the embedded fd table claims %u fds (it has 32)",
                     it->cur.max_fds);
            rc = XA_EBADDATA;
        }
        if (rc < 0) {
            free(it);
            return xa__set_error(xa, rc, "process %d: %s", (int)pid, why);
        }
    } else {
        it->done = true; /* a kernel thread or a zombie: no files */
    }
    *out = it;
    return 0;
}

int linux_file_iter_new(struct xa_instance *xa, int32_t pid, struct xa_file_iter **out)
{
    const struct lx_files_offsets *o = NULL;
    uint64_t task;
    int rc = need(xa, F_FILES, &o);
    if (rc < 0)
        return rc;
    if ((rc = linux_task_by_pid(xa, pid, &task)) < 0)
        return xa__prefix_error(xa, rc, "process %d", (int)pid);
    return file_iter_at(xa, o, pid, task, out);
}

int linux_file_iter_new_proc(struct xa_instance *xa, const struct xa_process *p,
                             struct xa_file_iter **out)
{
    const struct lx_files_offsets *o = NULL;
    uint64_t task;
    int rc = need(xa, F_FILES, &o);
    if (rc < 0 || (rc = linux_task_of(xa, p, &task)) < 0)
        return rc;
    return file_iter_at(xa, o, p->pid, task, out);
}

int linux_file_iter_next(struct xa_file_iter *it, struct xa_open_file *out)
{
    struct xa_instance *xa = it->xa;
    if (it->err)
        return it->err;
    if (it->done)
        return 0;
    char why[LX_WHY_LEN];
    int32_t fd;
    uint64_t file;
    bool cloexec;
    int rc = lx_fdt_next(it->layout, read_kernel, xa, &it->cur, &fd, &file, &cloexec, why);
    if (rc == 0) {
        it->done = true;
        return 0;
    }
    if (rc < 0)
        return it->err = xa__set_error(xa, rc, "process %d: files: %s", (int)it->pid, why);
    rc = lx_file_read(it->layout, read_kernel, xa, file, out, why);
    if (rc < 0)
        return it->err = xa__set_error(xa, rc, "process %d: fd %d: %s", (int)it->pid, (int)fd,
                                       why);
    out->pid = it->pid;
    out->fd = fd;
    if (cloexec)
        out->flags |= 02000000u; /* O_CLOEXEC, as fdinfo adds it */
    return 1;
}

void linux_file_iter_free(struct xa_file_iter *it)
{
    free(it);
}

/* ---- mounts ------------------------------------------------------------------ */

/* The mounts of @task's namespace; @pid 0: init_task's, seen from its top. */
static int mount_iter_at(struct xa_instance *xa, const struct lx_files_offsets *o, int32_t pid,
                         uint64_t task, struct xa_mount_iter **out)
{
    uint64_t nsproxy, ns, root_mnt = 0, root_dentry = 0;
    int rc;
    if ((rc = read_ptr(xa, task + o->task_nsproxy, true, "task->nsproxy", pid, &nsproxy)) < 0)
        return rc;
    if (nsproxy == 0)
        return xa__set_error(xa, XA_ENOENT, "process %d has no namespaces (exiting)", (int)pid);
    if ((rc = read_ptr(xa, nsproxy + o->nsproxy_mnt_ns, false, "mount namespace", pid, &ns)) < 0)
        return rc;
    if (pid != 0) { /* seen from the process's root, as its mountinfo */
        uint64_t fs;
        if ((rc = read_ptr(xa, task + o->task_fs, false, "task->fs", pid, &fs)) < 0 ||
            (rc = read_ptr(xa, fs + o->fs_root + o->path_mnt, false, "root mount", pid,
                           &root_mnt)) < 0 ||
            (rc = read_ptr(xa, fs + o->fs_root + o->path_dentry, false, "root dentry", pid,
                           &root_dentry)) < 0)
            return rc;
    }
    struct xa_mount_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    it->xa = xa;
    it->pid = pid;
    it->root_mnt = root_mnt;
    it->root_dentry = root_dentry;
    if (o->mounts_in_tree) {
        uint64_t root_node;
        if ((rc = read_ptr(xa, ns + o->ns_mounts + o->rb_root_node, true, "mount tree", pid,
                           &root_node)) < 0) {
            free(it);
            return rc;
        }
        it->in_tree = true;
        lx_rb_init(&it->tree, root_node, o->rb_parent_color, o->rb_left, o->rb_right,
                   MOUNTS_MAX);
        lx_rb_words(&it->tree, &o->mount.d); /* 4-byte links on a 32-bit kernel */
    }
    lx_list_init(&it->walk, ns + o->ns_list, MOUNTS_MAX, "mount list");
    *out = it;
    return 0;
}

int linux_mount_iter_new(struct xa_instance *xa, int32_t pid, struct xa_mount_iter **out)
{
    const struct lx_files_offsets *o = NULL;
    uint64_t task;
    int rc = need(xa, F_MOUNTS, &o);
    if (rc < 0)
        return rc;
    if (pid == 0) {
        task = linux_priv(xa)->init_task; /* found in memory when kallsyms lacks it */
        if (!task && symtab_lookup(&linux_os(xa)->syms, "init_task", &task) < 0)
            return xa__set_error(xa, XA_ENOTSUP, "mounts: no init_task symbol");
    } else if ((rc = linux_task_by_pid(xa, pid, &task)) < 0) {
        return xa__prefix_error(xa, rc, "process %d", (int)pid);
    }
    return mount_iter_at(xa, o, pid, task, out);
}

int linux_mount_iter_new_proc(struct xa_instance *xa, const struct xa_process *p,
                              struct xa_mount_iter **out)
{
    const struct lx_files_offsets *o = NULL;
    uint64_t task;
    int rc = need(xa, F_MOUNTS, &o);
    if (rc < 0 || (rc = linux_task_of(xa, p, &task)) < 0)
        return rc;
    return mount_iter_at(xa, o, p->pid, task, out);
}

int linux_mount_iter_next(struct xa_mount_iter *it, struct xa_mount *out)
{
    struct xa_instance *xa = it->xa;
    const struct lx_files_offsets *o = linux_priv(xa)->files;
    if (it->err)
        return it->err;
    for (;;) {
        uint64_t node;
        char why[LX_WHY_LEN];
        int rc;
        if (it->in_tree) {
            rc = lx_rb_next(&it->tree, read_kernel, xa, &node, why);
            if (rc < 0)
                return it->err = xa__set_error(xa, rc, "mount tree of %s %d: %s",
                                               it->pid ? "process" : "namespace of pid",
                                               (int)it->pid, why);
        } else {
            rc = lx_list_next(xa, &it->walk, &node);
            if (rc < 0)
                return it->err = rc;
        }
        if (rc == 0)
            return 0;
        bool visible;
        uint64_t mount = node - (it->in_tree ? o->mount_node : o->mount_list);
        rc = lx_mount_read(&o->mount, read_kernel, xa, mount, it->root_dentry,
                           it->root_mnt, out, &visible, why);
        if (rc < 0)
            return it->err = xa__set_error(xa, rc, "mounts of %s %d: %s",
                                           it->pid ? "process" : "namespace of pid", (int)it->pid,
                                           why);
        if (visible)
            return 1;
    }
}

void linux_mount_iter_free(struct xa_mount_iter *it)
{
    if (it)
        lx_list_free(&it->walk);
    free(it);
}
