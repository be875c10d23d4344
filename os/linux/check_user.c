/*
 * check_user.c -- signs of code injected into user space, per process on
 * the task list:
 *   anon-exec     an executable mapping with no file behind it (or the
 *                 heap or stack made executable): malfind's signature of
 *                 injected code; the vDSO is a named special mapping;
 *   deleted-exe   the executable was deleted after it started;
 *   ld-preload    LD_PRELOAD in the environment.
 * Processes hidden from the task list are the processes check's business.
 */
#include <stdlib.h>
#include <string.h>

#include "os/linux/check.h"
#include "os/linux/procinfo.h"

#define DELETED_SUFFIX " (deleted)"
#define ENV_MAX (64u << 10)

static bool anon_or_data(const char *path)
{
    return path[0] == '\0' || strcmp(path, "[heap]") == 0 || strcmp(path, "[stack]") == 0;
}

static int check_maps(struct check_ctx *c, const struct xa_process *p, struct xa_vma *v)
{
    struct xa_vma_iter *it;
    int rc = linux_vma_iter_new(c->xa, p->pid, &it);
    if (rc < 0)
        return rc;
    while ((rc = linux_vma_iter_next(it, v)) == 1) {
        rc = 0;
        if (!(v->flags & XA_VMA_EXEC) || !anon_or_data(v->path))
            continue;
        rc = check_report(c, "anon-exec", p->comm, p->pid, v->start,
                          "pid %d (%s): %s executable memory 0x%llx-0x%llx %c%c%c",
                          (int)p->pid, p->comm, v->path[0] ? v->path : "anonymous",
                          (unsigned long long)v->start, (unsigned long long)v->end,
                          (v->flags & XA_VMA_READ) ? 'r' : '-',
                          (v->flags & XA_VMA_WRITE) ? 'w' : '-', 'x');
        if (rc)
            break;
    }
    linux_vma_iter_free(it);
    return rc;
}

/* *known turns false (and a note says why) when the kernel's exe link
 * cannot be followed at all: no BTF for it, nor an inferred layout. */
static int check_exe(struct check_ctx *c, const struct xa_process *p, char *buf, size_t cap,
                     bool *known)
{
    int rc = linux_process_path(c->xa, p->pid, XA_PROC_EXE, buf, cap);
    if (rc == XA_ENOTSUP) {
        *known = false;
        return check_note(c, "deleted executables not checked: %s", xa_errmsg(c->xa));
    }
    if (rc < 0)
        return 0; /* no executable (exited mm) -- not a sign of anything */
    size_t n = strlen(buf), s = strlen(DELETED_SUFFIX);
    if (n <= s || strcmp(buf + n - s, DELETED_SUFFIX) != 0)
        return 0;
    return check_report(c, "deleted-exe", p->comm, p->pid, p->task,
                        "pid %d (%s) runs %s", (int)p->pid, p->comm, buf);
}

static int check_env(struct check_ctx *c, const struct xa_process *p, char *env)
{
    size_t len;
    uint32_t flags;
    if (linux_process_args(c->xa, p->pid, true, env, ENV_MAX, &len, &flags) < 0)
        return 0; /* an unreadable environment says nothing */
    static const char key[] = "LD_PRELOAD=";
    for (size_t i = 0; i < len;) {
        const char *var = env + i;
        size_t n = strnlen(var, len - i);
        if (n >= sizeof(key) - 1 && memcmp(var, key, sizeof(key) - 1) == 0) {
            char value[160];
            size_t vn = n - (sizeof(key) - 1);
            if (vn >= sizeof(value))
                vn = sizeof(value) - 1;
            memcpy(value, var + sizeof(key) - 1, vn);
            value[vn] = '\0';
            return check_report(c, "ld-preload", p->comm, p->pid, p->task,
                                "pid %d (%s) has LD_PRELOAD=%s", (int)p->pid, p->comm, value);
        }
        i += n + 1;
    }
    return 0;
}

int check_user(struct check_ctx *c)
{
    struct xa_process_iter *it;
    int rc = linux_process_iter_new(c->xa, &it);
    if (rc < 0)
        return rc;
    struct xa_vma *v = malloc(sizeof(*v));
    char *env = malloc(ENV_MAX), *exe = malloc(XA_PATH_MAX);
    if (!v || !env || !exe)
        rc = xa__set_error(c->xa, XA_ENOMEM, "out of memory");
    bool exe_known = true; /* until the exe link proves not found (a 32-bit kernel) */
    struct xa_process p;
    while (rc == 0 && (rc = linux_process_iter_next(it, &p)) == 1) {
        rc = 0;
        if (!p.mm)
            continue; /* a kernel thread */
        rc = check_maps(c, &p, v);
        if (rc == 0 && exe_known)
            rc = check_exe(c, &p, exe, XA_PATH_MAX, &exe_known);
        if (rc == 0)
            rc = check_env(c, &p, env);
    }
    /* A process unlinked from the list leaves the kernel's count above the
     * walk's (tasks.c): the walk itself went round, which is all we need. */
    if (rc < 0 && it->walk.done)
        rc = 0;
    linux_process_iter_free(it);
    free(v);
    free(env);
    free(exe);
    return rc;
}
