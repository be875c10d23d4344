/*
 * mountlayout32.c -- the mount-namespace layout of a 32-bit kernel without
 * BTF: runs mounts32.c's inference over init_task and the process list,
 * once, after the memory-map layout (vmalayout32.c) has found struct
 * mount's parent and vfsmount. files.c reads mounts with it as with BTF.
 */
#include <stdlib.h>

#include "os/linux/lxpriv.h"
#include "os/linux/mounts32.h"

#define TASKS_MAX MN32_TASKS /* processes sampled, in list order */

static int read_kva(void *ctx, uint64_t va, void *buf, size_t len)
{
    return xa__read_va(ctx, 0, va, buf, len, NULL);
}

static int sample_tasks(struct xa_instance *xa, uint64_t *tasks, size_t *n)
{
    struct xa_process_iter *it;
    int rc = linux_process_iter_new(xa, &it);
    if (rc < 0)
        return rc;
    struct xa_process proc;
    *n = 0;
    while (*n < TASKS_MAX && (rc = linux_process_iter_next(it, &proc)) > 0)
        tasks[(*n)++] = proc.task;
    linux_process_iter_free(it);
    if (rc < 0 && *n > 0) { /* a list cut short still gives a sample */
        xa__clear_error(xa);
        rc = 0;
    }
    return rc < 0 ? rc : 0;
}

int linux_mounts32_find(struct xa_instance *xa, struct linux_priv *p, struct mn32_layout *out)
{
    int rc = linux_vma32_find(xa, p);
    if (rc < 0)
        return xa__prefix_error(xa, rc, "mount layout");
    struct mn32_known k = {.init_task = p->init_task,
                          .mount_mnt = (uint32_t)p->more.mount_mnt,
                          .mount_parent = (uint32_t)p->more.mount_parent,
                          .mnt_root = (uint32_t)p->more.vfsmount_mnt_root,
                          .d_span = V32_DENTRY_SPAN};
    if (!k.init_task && symtab_lookup(&p->lx.syms, "init_task", &k.init_task) < 0)
        return xa__set_error(xa, XA_ENOTSUP, "mount layout: no init_task");
    uint64_t *tasks = malloc(TASKS_MAX * sizeof(*tasks));
    if (!tasks)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    size_t n = 0;
    if ((rc = sample_tasks(xa, tasks, &n)) < 0) {
        free(tasks);
        return rc;
    }
    struct v32_mem m = {.read = read_kva, .ctx = xa, .page_offset = p->lx.page_offset};
    char why[LX_WHY_LEN];
    rc = mn32_infer(&m, &k, tasks, n, out, why);
    free(tasks);
    if (rc < 0)
        return xa__set_error(xa, rc, "mount layout not found in memory: %s", why);
    return 0;
}
