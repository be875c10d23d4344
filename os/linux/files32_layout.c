/*
 * files32_layout.c -- the open-file layout of a 32-bit kernel without BTF:
 * runs files32.c's inference over the guest's tasks, once, on top of the
 * path layout vma32.c found (struct file's f_path, dentry, mount), and fills
 * the struct lx_file_layout that fileread.c walks as with BTF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/files.h"
#include "os/linux/files32.h"
#include "os/linux/linux.h"
#include "os/linux/lxpriv.h"

static int read_kva(void *ctx, uint64_t va, void *buf, size_t len)
{
    return xa__read_va(ctx, 0, va, buf, len, NULL);
}

/* The first F32_TASKS tasks of the process walk (those before the damage
 * when the list is broken). */
static int sample_tasks(struct xa_instance *xa, struct f32_task *t, size_t *n)
{
    struct xa_process_iter *it;
    struct xa_process pr;
    int rc = linux_process_iter_new(xa, &it);
    *n = 0;
    if (rc < 0)
        return rc;
    while (*n < F32_TASKS && (rc = linux_process_iter_next(it, &pr)) == 1)
        t[(*n)++] = (struct f32_task){.task = pr.task, .mm = pr.mm};
    linux_process_iter_free(it);
    xa__clear_error(xa);
    return *n >= 3 ? 0 : XA_EBADDATA;
}

static uint64_t sym(struct linux_os *lx, const char *name)
{
    uint64_t a;
    return symtab_lookup(&lx->syms, name, &a) == 0 ? a : 0;
}

int linux_files32_layout(struct xa_instance *xa, struct linux_priv *p, struct lx_file_layout *f,
                         uint64_t *task_files, uint64_t *files_fdt, char *why)
{
    why[0] = '\0';
    int rc = linux_vma32_find(xa, p); /* struct file's path, dentry, mount */
    if (rc < 0) {
        snprintf(why, LX_WHY_LEN, "%.200s", xa_errmsg(xa));
        xa__clear_error(xa);
        return rc;
    }
    struct f32_task *t = calloc(F32_TASKS, sizeof(*t));
    size_t n = 0;
    if (!t) {
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    if ((rc = sample_tasks(xa, t, &n)) < 0) {
        free(t);
        snprintf(why, LX_WHY_LEN, "fewer than 3 tasks on the task list");
        return rc;
    }
    const struct linux_offsets *o = &p->lx.off;
    const struct linux_more_offsets *mo = &p->more;
    struct linux_os *lx = &p->lx;
    const struct f32_known k = {
        .f_path = (uint32_t)o->file_f_path,
        .mnt_root = (uint32_t)mo->vfsmount_mnt_root,
        .init_files = sym(lx, "init_files"),
        .dnames = {sym(lx, "pipefs_dname"), sym(lx, "sockfs_dname"),
                   sym(lx, "anon_inodefs_dname"), sym(lx, "ns_dname"), sym(lx, "simple_dname")},
    };
    struct f32_mem m = {.read = read_kva, .ctx = xa, .page_offset = lx->page_offset};
    struct f32_layout l;
    rc = f32_infer(&m, &k, t, n, &l, why);
    free(t);
    if (rc < 0)
        return rc;
    *task_files = l.task_files;
    *files_fdt = l.files_fdt;
    f->d = linux_dpath_layout32(p);
    f->fdt_max_fds = l.fdt_max_fds;
    f->fdt_fd = l.fdt_fd;
    f->fdt_open_fds = l.fdt_open_fds;
    f->fdt_close_on_exec = l.fdt_cloexec;
    f->f_path_mnt = o->file_f_path + o->path_mnt;
    f->f_path_dentry = o->file_f_path + o->path_dentry;
    f->f_inode = l.f_inode;
    f->f_flags = l.f_flags;
    f->f_pos = l.f_pos;
    f->i_mode = l.i_mode;
    f->i_ino = l.i_ino;
    f->i_sb = l.i_sb;
    f->s_dev = l.s_dev;
    f->d_op = l.d_op;
    f->d_fsdata = LX_NO_OFFSET;
    f->dop_d_dname = l.dop_d_dname;
    f->ns_ops_name = UINT64_MAX; /* namespace files are named "?" */
    return 0;
}
