/*
 * os_api.c -- the public OS-layer API (include/xenaccess_os.h): argument
 * checks, then dispatch to the active OS layer (xa->os_ops, os/os.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/instance.h"
#include "os/os.h"

/* ------------------------------------------------------ the OS layer --- */

int xa__os_init(struct xa_instance *xa, const struct xa_init_opts *opts)
{
    /* Why each layer said no, joined: the first one's reason stays first. */
    char why[XA_ERRMSG_LEN] = "";
    size_t n;
    const struct xa_os_ops *const *layers = xa__os_layers(&n);
    for (size_t i = 0; i < n; i++) {
        void *state = NULL;
        xa->errmsg[0] = '\0';
        int rc = layers[i]->init(xa, opts, &state);
        if (rc == 0) {
            xa->os_ops = layers[i];
            xa->os = state;
            xa->os_err = 0;
            xa->errmsg[0] = '\0';
            return 0;
        }
        if (rc != XA_ENOOS)
            return rc;
        if (xa->errmsg[0]) {
            size_t len = strlen(why);
            snprintf(why + len, sizeof(why) - len, "%s%s", len ? "; " : "", xa->errmsg);
        }
    }
    if (why[0])
        return xa__set_error(xa, XA_ENOOS, "guest operating system not recognised: %s", why);
    return xa__set_error(xa, XA_ENOOS, "guest operating system not recognised");
}

void xa__os_destroy(struct xa_instance *xa)
{
    if (!xa || !xa->os_ops)
        return;
    xa->os_ops->destroy(xa->os);
    xa->os_ops = NULL;
    xa->os = NULL;
}

void xa__os_flush(struct xa_instance *xa)
{
    if (xa)
        xa->os_flushes++;
    if (xa && xa->os_ops && xa->os_ops->flush)
        xa->os_ops->flush(xa->os);
}

int xa__os_need(struct xa_instance *xa, bool have_op, const char *call)
{
    if (!xa->os_ops) {
        if (xa->os_errmsg[0])
            return xa__set_error(xa, XA_ENOOS, "no OS layer: %s", xa->os_errmsg);
        return xa__set_error(xa, XA_ENOOS, "no OS layer: the guest OS was not recognised");
    }
    if (!have_op)
        return xa__set_error(xa, XA_ENOTSUP, "%s: not supported for %s guests", call,
                             xa->os_ops->name);
    return 0;
}

void *xa__os_state(const struct xa_instance *xa)
{
    return xa->os;
}

void xa__os_walk_started(struct xa_instance *xa)
{
    xa->os_walks++;
}

XA_API void xa_os_stats(const struct xa_instance *xa, struct xa_os_stats *out)
{
    if (!out)
        return;
    *out = (struct xa_os_stats){0};
    if (xa) {
        out->process_walks = xa->os_walks;
        out->os_flushes = xa->os_flushes;
    }
}

/* 0 when an OS layer is active, else XA_ENOOS with the reason. */
static int need_os(struct xa_instance *xa)
{
    if (xa->os_ops)
        return 0;
    if (xa->os_errmsg[0])
        return xa__set_error(xa, XA_ENOOS, "no OS layer: %s", xa->os_errmsg);
    return xa__set_error(xa, XA_ENOOS, "no OS layer: the guest OS was not recognised");
}

#define CHECK_OS(xa)                                                                           \
    do {                                                                                       \
        if (!(xa))                                                                             \
            return XA_EINVAL;                                                                  \
        int os_rc_ = need_os(xa);                                                              \
        if (os_rc_ < 0)                                                                        \
            return os_rc_;                                                                     \
    } while (0)

XA_API int xa_os_get_info(struct xa_instance *xa, struct xa_os_info *out)
{
    CHECK_OS(xa);
    if (!out)
        return xa__set_error(xa, XA_EINVAL, "xa_os_get_info: out is NULL");
    return xa->os_ops->get_info(xa, out);
}

/* ---- symbols ---------------------------------------------------------- */

/* Callers look the same few names up again and again, mostly from the same
 * string: a slot by pointer, confirmed by the name itself. */
static unsigned sym_slot(const char *name)
{
    uintptr_t p = (uintptr_t)name;
    return (unsigned)((p >> 3) ^ (p >> 11)) & (XA_SYM_MEMO - 1);
}

/* Called inside the library instead of the exported name, which would go
 * through the PLT. */
static int sym_lookup(struct xa_instance *xa, const char *name, uint64_t *addr)
{
    CHECK_OS(xa);
    if (!name || !addr)
        return xa__set_error(xa, XA_EINVAL, "xa_sym_lookup: NULL argument");
    unsigned slot = sym_slot(name);
    if (xa->sym_memo[slot].key == name && strcmp(xa->sym_memo[slot].name, name) == 0) {
        *addr = xa->sym_memo[slot].addr;
        return 0;
    }
    int rc = xa->os_ops->sym_lookup(xa, name, addr);
    if (rc == 0 && strlen(name) < XA_SYM_MEMO_NAME) {
        xa->sym_memo[slot].key = name;
        strcpy(xa->sym_memo[slot].name, name);
        xa->sym_memo[slot].addr = *addr;
    }
    return rc;
}

XA_API int xa_sym_lookup(struct xa_instance *xa, const char *name, uint64_t *addr)
{
    return sym_lookup(xa, name, addr);
}

XA_API int xa_sym_at(struct xa_instance *xa, uint64_t addr, const char **name, uint64_t *offset)
{
    CHECK_OS(xa);
    if (!name || !offset)
        return xa__set_error(xa, XA_EINVAL, "xa_sym_at: NULL argument");
    return xa->os_ops->sym_at(xa, addr, name, offset);
}

XA_API int xa_sym_foreach(struct xa_instance *xa, xa_sym_fn fn, void *ctx)
{
    CHECK_OS(xa);
    if (!fn)
        return xa__set_error(xa, XA_EINVAL, "xa_sym_foreach: NULL callback");
    return xa->os_ops->sym_foreach(xa, fn, ctx);
}

XA_API const void *xa_access_kernel_symbol(struct xa_instance *xa, const char *name,
                                           uint32_t *offset)
{
    uint64_t addr;
    if (sym_lookup(xa, name, &addr) < 0)
        return NULL;
    return xa_access_dtb_virtual_address(xa, 0, addr, offset);
}

XA_HOT XA_API int xa_read_ksym(struct xa_instance *xa, const char *name, void *buf, size_t len)
{
    uint64_t addr;
    int rc = sym_lookup(xa, name, &addr);
    if (rc < 0)
        return rc;
    if (!buf && len)
        return xa__set_error(xa, XA_EINVAL, "xa_read_ksym: NULL buffer");
    rc = xa__read_va(xa, 0, addr, buf, len, NULL);
    if (rc < 0)
        return xa__prefix_error(xa, rc, "reading symbol %s", name);
    return 0;
}

/* ---- types ------------------------------------------------------------ */

XA_API int xa_type_offset(struct xa_instance *xa, const char *type, const char *member,
                          uint64_t *offset)
{
    CHECK_OS(xa);
    if (!type || !member || !offset)
        return xa__set_error(xa, XA_EINVAL, "xa_type_offset: NULL argument");
    return xa->os_ops->type_offset(xa, type, member, offset);
}

XA_API int xa_type_size(struct xa_instance *xa, const char *type, uint64_t *size)
{
    CHECK_OS(xa);
    if (!type || !size)
        return xa__set_error(xa, XA_EINVAL, "xa_type_size: NULL argument");
    return xa->os_ops->type_size(xa, type, size);
}

/* ---- processes -------------------------------------------------------- */

/*
 * Live targets (qemu:): each top-level walk starts from a flushed state, so
 * a process started or exited since the last walk is seen, and no stale
 * translation or copied page leaks into the new walk. Within one walk the
 * caches still help. See docs/live.md.
 */
static void live_walk_start(struct xa_instance *xa)
{
    if (xa_is_live(xa))
        xa_cache_flush(xa, XA_CACHE_ALL);
}

XA_API int xa_process_iter_new(struct xa_instance *xa, struct xa_process_iter **out)
{
    if (out)
        *out = NULL;
    CHECK_OS(xa);
    if (!out)
        return xa__set_error(xa, XA_EINVAL, "xa_process_iter_new: out is NULL");
    live_walk_start(xa);
    return xa->os_ops->process_iter_new(xa, out);
}

XA_HOT XA_API int xa_process_iter_next(struct xa_process_iter *it, struct xa_process *out)
{
    if (!it || !out)
        return XA_EINVAL;
    return xa__os_iter_instance(it)->os_ops->process_iter_next(it, out);
}

XA_API void xa_process_iter_free(struct xa_process_iter *it)
{
    if (it)
        xa__os_iter_instance(it)->os_ops->process_iter_free(it);
}

/* Fallback when a layer has no fast lookup: walk the list. */
static int process_by_walk(struct xa_instance *xa, int32_t pid, struct xa_process *out)
{
    struct xa_process_iter *it;
    int rc = xa->os_ops->process_iter_new(xa, &it);
    if (rc < 0)
        return rc;
    while ((rc = xa->os_ops->process_iter_next(it, out)) == 1)
        if (out->pid == pid)
            break;
    xa->os_ops->process_iter_free(it);
    if (rc == 1)
        return 0;
    if (rc == 0)
        return xa__set_error(xa, XA_ENOENT, "no process with pid %d", (int)pid);
    return rc;
}

XA_API int xa_process_by_pid(struct xa_instance *xa, int32_t pid, struct xa_process *out)
{
    CHECK_OS(xa);
    if (!out)
        return xa__set_error(xa, XA_EINVAL, "xa_process_by_pid: out is NULL");
    if (xa->os_ops->process_by_pid)
        return xa->os_ops->process_by_pid(xa, pid, out);
    return process_by_walk(xa, pid, out);
}

/*
 * pid -> page-table root, remembered (xa->pid_memo) so that reads by pid do
 * not look the task up again on every call. Cleared with the OS caches
 * (XA_CACHE_OS): on a live target at the same flush points as the
 * translations it leads to, so a pid reused after an exit is seen afresh
 * from the next walk or flush on (docs/live.md).
 */
static int pid_to_dtb(struct xa_instance *xa, int32_t pid, uint64_t *dtb)
{
    CHECK_OS(xa);
    if (!dtb)
        return xa__set_error(xa, XA_EINVAL, "xa_pid_to_dtb: dtb is NULL");
    unsigned slot = (unsigned)pid & (XA_PID_MEMO - 1);
    if (xa->pid_memo[slot].valid && xa->pid_memo[slot].pid == pid) {
        *dtb = xa->pid_memo[slot].dtb;
        return 0;
    }
    struct xa_process p;
    int rc = xa_process_by_pid(xa, pid, &p);
    if (rc < 0)
        return rc;
    xa->pid_memo[slot].pid = pid;
    xa->pid_memo[slot].dtb = p.dtb;
    xa->pid_memo[slot].valid = true;
    *dtb = p.dtb;
    return 0;
}

XA_API int xa_pid_to_dtb(struct xa_instance *xa, int32_t pid, uint64_t *dtb)
{
    return pid_to_dtb(xa, pid, dtb);
}

/* Page-table root for a pid; pid 0 means the kernel (dtb 0). */
static int dtb_for_pid(struct xa_instance *xa, int32_t pid, uint64_t *dtb)
{
    if (pid == 0) {
        *dtb = 0;
        return 0;
    }
    return pid_to_dtb(xa, pid, dtb);
}

XA_HOT XA_API int xa_read_pid_va(struct xa_instance *xa, int32_t pid, uint64_t va, void *buf,
                          size_t len, size_t *nread)
{
    if (nread)
        *nread = 0;
    if (!xa)
        return XA_EINVAL;
    if (!buf && len)
        return xa__set_error(xa, XA_EINVAL, "xa_read_pid_va: NULL buffer");
    uint64_t dtb;
    int rc = dtb_for_pid(xa, pid, &dtb);
    if (rc < 0)
        return rc;
    return xa__read_va(xa, dtb, va, buf, len, nread);
}

XA_API const void *xa_access_user_virtual_address(struct xa_instance *xa, uint64_t va,
                                                  uint32_t *offset, int32_t pid)
{
    if (!xa)
        return NULL;
    uint64_t dtb;
    if (dtb_for_pid(xa, pid, &dtb) < 0)
        return NULL;
    return xa_access_dtb_virtual_address(xa, dtb, va, offset);
}

/* ---- modules ---------------------------------------------------------- */

XA_API int xa_module_iter_new(struct xa_instance *xa, struct xa_module_iter **out)
{
    if (out)
        *out = NULL;
    CHECK_OS(xa);
    if (!out)
        return xa__set_error(xa, XA_EINVAL, "xa_module_iter_new: out is NULL");
    live_walk_start(xa);
    return xa->os_ops->module_iter_new(xa, out);
}

XA_API int xa_module_iter_next(struct xa_module_iter *it, struct xa_module *out)
{
    if (!it || !out)
        return XA_EINVAL;
    return xa__os_iter_instance(it)->os_ops->module_iter_next(it, out);
}

XA_API void xa_module_iter_free(struct xa_module_iter *it)
{
    if (it)
        xa__os_iter_instance(it)->os_ops->module_iter_free(it);
}

/* ---- memory maps ------------------------------------------------------ */

XA_API int xa_vma_iter_new(struct xa_instance *xa, int32_t pid, struct xa_vma_iter **out)
{
    if (out)
        *out = NULL;
    CHECK_OS(xa);
    if (!out)
        return xa__set_error(xa, XA_EINVAL, "xa_vma_iter_new: out is NULL");
    live_walk_start(xa);
    return xa->os_ops->vma_iter_new(xa, pid, out);
}

XA_API int xa_vma_iter_next(struct xa_vma_iter *it, struct xa_vma *out)
{
    if (!it || !out)
        return XA_EINVAL;
    return xa__os_iter_instance(it)->os_ops->vma_iter_next(it, out);
}

XA_API void xa_vma_iter_free(struct xa_vma_iter *it)
{
    if (it)
        xa__os_iter_instance(it)->os_ops->vma_iter_free(it);
}
