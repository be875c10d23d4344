/*
 * procinfo.c -- inside a Linux process: its threads (signal->thread_head),
 * credentials (real_cred), start time (start_boottime, and the boot's wall
 * time from the timekeeper), command line and environment (from the
 * process's own pages) and exe/cwd/root paths (dentries and mounts).
 *
 * Layouts come from the guest's BTF on first use; a feature whose members
 * are missing answers XA_ENOTSUP naming the first one. Every guest pointer
 * is checked before use, the thread list is walked with a cap, a visited
 * set and both links checked (listwalk.c), and paths and arguments are bounded
 * (procread.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "os/linux/linux.h"
#include "os/linux/lxpriv.h"
#include "os/linux/procinfo.h"
#include "os/linux/proc32.h"
#include "os/linux/procview32.h"
#include "os/linux/procread.h"

/* Threads of one process we walk at most (threads-max is far lower). */
#define THREADS_MAX (1u << 20)
#define PID_MAX 4194304
#define TASK_DEAD_BIT 0x80u   /* __state of a task that has exited */
#define EXIT_ZOMBIE_BIT 0x20u /* exit_state until its parent reaps it */
/* Wall clock of a boot we believe: 2000-01-01 .. 2200-01-01, in ns. */
#define WALL_MIN_NS 946684800000000000LL
#define WALL_MAX_NS 7258118400000000000LL

enum feature { F_THREADS, F_CREDS, F_START, F_ARGS, F_PATHS, F_COUNT };
static const char *const feature_names[F_COUNT] = {
    "threads", "credentials", "start time", "command line", "paths",
};

struct lx_proc_offsets {
    uint64_t task_signal, task_thread_node, task_pid, task_tgid, task_comm, task_state,
        task_exit_state, task_cpu, task_start_boottime, task_real_cred, task_mm, task_fs;
    uint64_t signal_thread_head;
    uint64_t cred_id[8]; /* uid euid suid fsuid gid egid sgid fsgid */
    uint64_t cred_cap_eff, cred_cap_prm, cred_group_info, gi_ngroups, gi_gid;
    uint64_t mm_arg_start, mm_arg_end, mm_env_start, mm_env_end, mm_exe_file;
    uint64_t fs_root, fs_pwd, path_mnt, path_dentry, file_f_path;
    struct lx_dpath_layout dpath;
    uint64_t tk_offs_real, tk_offs_boot, tk_in_core; /* timekeeper in tk_core */
    char missing[F_COUNT][XA_ERRMSG_LEN];
};

struct want {
    uint64_t *dst;
    const char *type;
    const char *paths[2]; /* alternatives, first found wins */
    enum feature f;
    bool optional;
};

/* Offset of struct timekeeper in tk_core, a variable of an anonymous struct
 * { seq; struct timekeeper timekeeper; }: found by its two member names. */
static uint64_t tk_core_offset(const struct btf *btf)
{
    uint32_t n = btf__type_cnt(btf);
    for (uint32_t id = 1; id < n; id++) {
        const struct btf_type *t = btf__type_by_id(btf, id);
        if (!btf_is_struct(t) || t->name_off != 0 || btf_vlen(t) != 2)
            continue;
        const struct btf_member *m = btf_members(t);
        if (strcmp(btf__name_by_offset(btf, m[0].name_off), "seq") != 0 ||
            strcmp(btf__name_by_offset(btf, m[1].name_off), "timekeeper") != 0)
            continue;
        const struct btf_type *mt = btf__type_by_id(btf, m[1].type);
        const char *mname = mt ? btf__name_by_offset(btf, mt->name_off) : NULL;
        if (mt && btf_is_struct(mt) && mname && strcmp(mname, "timekeeper") == 0 &&
            btf_member_bitfield_size(t, 1) == 0)
            return btf_member_bit_offset(t, 1) / 8;
    }
    return LX_NO_OFFSET;
}

static struct lx_proc_offsets *resolve(struct linux_os *lx)
{
    struct lx_proc_offsets *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    struct lx_dpath_layout *d = &o->dpath;
    uint64_t qstr_len = LX_NO_OFFSET, qstr_name = LX_NO_OFFSET, d_name = LX_NO_OFFSET;
    const struct want w[] = {
        {&o->task_signal, "task_struct", {"signal"}, F_THREADS, false},
        {&o->task_thread_node, "task_struct", {"thread_node"}, F_THREADS, false},
        {&o->task_pid, "task_struct", {"pid"}, F_THREADS, false},
        {&o->task_tgid, "task_struct", {"tgid"}, F_THREADS, false},
        {&o->task_comm, "task_struct", {"comm"}, F_THREADS, false},
        {&o->task_state, "task_struct", {"__state", "state"}, F_THREADS, false},
        {&o->task_exit_state, "task_struct", {"exit_state"}, F_THREADS, false},
        {&o->task_cpu, "task_struct", {"cpu", "thread_info.cpu"}, F_THREADS, false},
        {&o->signal_thread_head, "signal_struct", {"thread_head"}, F_THREADS, false},
        {&o->task_real_cred, "task_struct", {"real_cred"}, F_CREDS, false},
        {&o->cred_id[0], "cred", {"uid.val", "uid"}, F_CREDS, false},
        {&o->cred_id[1], "cred", {"euid.val", "euid"}, F_CREDS, false},
        {&o->cred_id[2], "cred", {"suid.val", "suid"}, F_CREDS, false},
        {&o->cred_id[3], "cred", {"fsuid.val", "fsuid"}, F_CREDS, false},
        {&o->cred_id[4], "cred", {"gid.val", "gid"}, F_CREDS, false},
        {&o->cred_id[5], "cred", {"egid.val", "egid"}, F_CREDS, false},
        {&o->cred_id[6], "cred", {"sgid.val", "sgid"}, F_CREDS, false},
        {&o->cred_id[7], "cred", {"fsgid.val", "fsgid"}, F_CREDS, false},
        {&o->cred_cap_eff, "cred", {"cap_effective"}, F_CREDS, false},
        {&o->cred_cap_prm, "cred", {"cap_permitted"}, F_CREDS, false},
        {&o->cred_group_info, "cred", {"group_info"}, F_CREDS, false},
        {&o->gi_ngroups, "group_info", {"ngroups"}, F_CREDS, false},
        {&o->gi_gid, "group_info", {"gid"}, F_CREDS, false},
        {&o->task_start_boottime, "task_struct", {"start_boottime"}, F_START, false},
        {&o->tk_offs_real, "timekeeper", {"offs_real"}, F_START, true},
        {&o->tk_offs_boot, "timekeeper", {"offs_boot"}, F_START, true},
        {&o->task_mm, "task_struct", {"mm"}, F_ARGS, false},
        {&o->mm_arg_start, "mm_struct", {"arg_start"}, F_ARGS, false},
        {&o->mm_arg_end, "mm_struct", {"arg_end"}, F_ARGS, false},
        {&o->mm_env_start, "mm_struct", {"env_start"}, F_ARGS, false},
        {&o->mm_env_end, "mm_struct", {"env_end"}, F_ARGS, false},
        {&o->mm_exe_file, "mm_struct", {"exe_file"}, F_PATHS, false},
        {&o->task_fs, "task_struct", {"fs"}, F_PATHS, false},
        {&o->fs_root, "fs_struct", {"root"}, F_PATHS, false},
        {&o->fs_pwd, "fs_struct", {"pwd"}, F_PATHS, false},
        {&o->path_mnt, "path", {"mnt"}, F_PATHS, false},
        {&o->path_dentry, "path", {"dentry"}, F_PATHS, false},
        {&o->file_f_path, "file", {"f_path"}, F_PATHS, false},
        {&d->d_parent, "dentry", {"d_parent"}, F_PATHS, false},
        {&d_name, "dentry", {"d_name"}, F_PATHS, false},
        {&qstr_len, "qstr", {"len"}, F_PATHS, false},
        {&qstr_name, "qstr", {"name"}, F_PATHS, false},
        {&d->d_hash_pprev, "dentry", {"d_hash.pprev"}, F_PATHS, true},
        {&d->mnt_root, "vfsmount", {"mnt_root"}, F_PATHS, true},
        {&d->mount_mnt, "mount", {"mnt"}, F_PATHS, true},
        {&d->mount_parent, "mount", {"mnt_parent"}, F_PATHS, true},
        {&d->mount_mountpoint, "mount", {"mnt_mountpoint"}, F_PATHS, true},
    };
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        *w[i].dst = LX_NO_OFFSET;
        for (size_t k = 0; k < 2 && w[i].paths[k]; k++)
            if (linux_btf_member(lx, w[i].type, w[i].paths[k], w[i].dst) == 0)
                break;
        char *why = o->missing[w[i].f];
        if (*w[i].dst == LX_NO_OFFSET && !w[i].optional && !why[0])
            snprintf(why, XA_ERRMSG_LEN, "the kernel's BTF has no %s.%s", w[i].type,
                     w[i].paths[0]);
    }
    d->d_name_len = d_name + qstr_len;
    d->d_name_ptr = d_name + qstr_name;
    d->has_mounts = d->mnt_root != LX_NO_OFFSET && d->mount_mnt != LX_NO_OFFSET &&
                    d->mount_parent != LX_NO_OFFSET && d->mount_mountpoint != LX_NO_OFFSET;
    if (lx_is32(lx)) { /* a 32-bit kernel with BTF: the walk reads 4-byte pointers */
        d->ptr_size = 4;
        d->kptr_min = lx->page_offset;
    }
    o->tk_in_core = tk_core_offset(lx->btf);
    return o;
}

/* ---- 32-bit kernels without BTF: offsets inferred from memory (proc32.c) -- */

static int read_kva(void *ctx, uint64_t va, void *buf, size_t len)
{
    return lx_read(ctx, va, buf, len);
}

static int read_user_of(void *ctx, uint64_t mm, uint64_t va, void *buf, size_t len)
{
    struct xa_instance *xa = ctx;
    uint64_t dtb;
    int rc = linux_mm_dtb(xa, mm, &dtb);
    if (rc == 0)
        rc = xa__read_va(xa, dtb, va, buf, len, NULL);
    xa__clear_error(xa);
    return rc;
}

/* The tasks the inference compares: the process walk's first P32_SAMPLE,
 * init_task first, in list order. */
static int sample_tasks(struct xa_instance *xa, struct p32_task *t, size_t *n)
{
    struct xa_process_iter *it;
    struct xa_process pr;
    int rc = linux_process_iter_new(xa, &it);
    *n = 0;
    if (rc < 0)
        return rc;
    while (*n < P32_SAMPLE && (rc = linux_process_iter_next(it, &pr)) == 1) {
        struct p32_task *k = &t[(*n)++];
        *k = (struct p32_task){.task = pr.task, .mm = pr.mm, .pid = (uint32_t)pr.pid,
                               .tgid = (uint32_t)pr.tgid};
        memcpy(k->comm, pr.comm, sizeof(k->comm) - 1);
    }
    linux_process_iter_free(it);
    xa__clear_error(xa); /* a list cut after the sample's tasks does not matter */
    return *n >= 3 ? 0 : XA_EBADDATA;
}

static void missing32(struct lx_proc_offsets *o, enum feature f, const char *why)
{
    snprintf(o->missing[f], XA_ERRMSG_LEN, "32-bit kernel without BTF: %.400s", why);
}

/* struct cred: the source's layout, checked (procview32.c). */
static void resolve32_creds(struct xa_instance *xa, const struct t32_mem *m,
                            const struct p32_task *t, size_t n, struct lx_proc_offsets *o)
{
    char why[256];
    uint32_t gi;
    if (o->task_real_cred == LX_NO_OFFSET ||
        p32_find_creds(m, (uint32_t)o->task_real_cred, t, n, &gi, why, sizeof(why)) < 0) {
        missing32(o, F_CREDS, o->task_real_cred == LX_NO_OFFSET ? "no task_struct.real_cred"
                                                                : why);
        return;
    }
    static const uint32_t ids[8] = {4, 20, 12, 28, 8, 24, 16, 32}; /* as cred_id[] */
    for (int i = 0; i < 8; i++)
        o->cred_id[i] = ids[i];
    o->cred_cap_prm = P32_CRED_CAP_PERMITTED;
    o->cred_cap_eff = P32_CRED_CAP_EFFECTIVE;
    o->cred_group_info = gi;
    o->gi_ngroups = 4; /* struct group_info { usage; ngroups; gid[]; } */
    o->gi_gid = 8;
    (void)xa;
}

#define PV32_EXE_TASKS 16u  /* user processes whose mapped files are gathered */
#define PV32_EXE_VMAS 256u  /* their memory-map entries read at most */

/* The struct files each of the first user tasks maps, for p32_find_exe. */
static int mapped_files(struct xa_instance *xa, const struct p32_task *t, size_t n,
                        uint64_t **files, size_t *nfiles)
{
    const struct linux_offsets *lo = &linux_os(xa)->off;
    size_t users = 0;
    for (size_t i = 0; i < n && users < PV32_EXE_TASKS; i++) {
        struct xa_vma_iter *it;
        if (!t[i].mm || t[i].pid != t[i].tgid || linux_vma_iter_new(xa, (int32_t)t[i].pid, &it) < 0)
            continue;
        if (!(files[i] = calloc(PV32_EXE_VMAS, sizeof(uint64_t)))) {
            linux_vma_iter_free(it);
            return XA_ENOMEM;
        }
        struct xa_vma v;
        uint64_t file;
        while (nfiles[i] < PV32_EXE_VMAS && linux_vma_iter_next(it, &v) == 1)
            if (lx_ptr(xa, v.vma + lo->vma_file, &file) == 0 && file)
                files[i][nfiles[i]++] = file;
        linux_vma_iter_free(it);
        users += nfiles[i] > 0;
    }
    xa__clear_error(xa);
    return 0;
}

/* task_struct.fs, fs_struct.root/pwd and mm_struct.exe_file, with the path
 * layout of the memory-map inference (vma32.c). */
static void resolve32_paths(struct xa_instance *xa, struct linux_priv *p, const struct t32_mem *m,
                            const struct p32_task *t, size_t n, struct lx_proc_offsets *o)
{
    char why[256];
    uint32_t fs, root, exe;
    if (!p->vmas32_ready && linux_vma32_find(xa, p) < 0) {
        snprintf(why, sizeof(why), "the path layout: %s", xa_errmsg(xa));
        missing32(o, F_PATHS, why);
        xa__clear_error(xa);
        return;
    }
    o->dpath = linux_dpath_layout32(p);
    if (p32_find_fs(m, (uint32_t)o->dpath.mnt_root, t, n, &fs, &root, why, sizeof(why)) < 0) {
        missing32(o, F_PATHS, why);
        return;
    }
    uint64_t **files = calloc(n + 1, sizeof(*files));
    size_t *nfiles = calloc(n + 1, sizeof(*nfiles));
    int rc = files && nfiles ? mapped_files(xa, t, n, files, nfiles) : XA_ENOMEM;
    const struct p32_mapped mp = {.files = (const uint64_t *const *)files, .nfiles = nfiles};
    if (rc < 0)
        snprintf(why, sizeof(why), "out of memory");
    else
        rc = p32_find_exe(m, t, n, &mp, &exe, why, sizeof(why));
    for (size_t i = 0; files && i < n; i++)
        free(files[i]);
    free(files);
    free(nfiles);
    if (rc < 0) {
        missing32(o, F_PATHS, why);
        return;
    }
    o->task_fs = fs;
    o->fs_root = root;
    o->fs_pwd = root + 8; /* struct path root, pwd; */
    o->path_mnt = p->lx.off.path_mnt;
    o->path_dentry = p->lx.off.path_dentry;
    o->file_f_path = p->lx.off.file_f_path;
    o->mm_exe_file = exe;
}

/* Every offset of @o from the inferred task layout and proc32.c; a feature
 * whose step fails is missing, saying why. */
static struct lx_proc_offsets *resolve32(struct xa_instance *xa, struct linux_priv *p)
{
    struct lx_proc_offsets *o = malloc(sizeof(*o));
    struct p32_task *t = calloc(P32_SAMPLE, sizeof(*t));
    if (!o || !t) {
        free(o);
        free(t);
        return NULL;
    }
    memset(o, 0xff, offsetof(struct lx_proc_offsets, missing)); /* LX_NO_OFFSET, dpath too */
    memset(o->missing, 0, sizeof(o->missing));
    const struct linux_offsets *lo = &p->lx.off;
    o->task_pid = lo->task_pid;
    o->task_tgid = lo->task_tgid;
    o->task_comm = lo->task_comm;
    o->task_state = lo->task_state;
    o->task_real_cred = lo->task_real_cred;
    o->task_mm = lo->task_mm;
    size_t n = 0;
    char why[256];
    if (sample_tasks(xa, t, &n) < 0) {
        snprintf(why, sizeof(why), "fewer than 3 tasks on the task list");
        missing32(o, F_THREADS, why);
        missing32(o, F_START, why);
        missing32(o, F_ARGS, why);
        missing32(o, F_CREDS, why);
        missing32(o, F_PATHS, why);
        free(t);
        return o;
    }
    struct t32_mem m = {.read = read_kva, .ctx = xa, .page_offset = p->lx.page_offset};
    const struct p32_known k = {.pid = (uint32_t)lo->task_pid, .tgid = (uint32_t)lo->task_tgid,
                                .state = (uint32_t)lo->task_state};
    struct p32_threads th;
    uint32_t off;
    if (p32_find_threads(&m, &k, t, n, &th, why, sizeof(why)) < 0) {
        missing32(o, F_THREADS, why);
    } else {
        o->task_signal = th.signal;
        o->task_thread_node = th.thread_node;
        o->signal_thread_head = th.thread_head;
        if (p32_find_cpu(&m, &k, t, n, &off, why, sizeof(why)) == 0)
            o->task_cpu = off; /* else threads show cpu -1 */
    }
    if (p32_find_start(&m, t, n, &off, why, sizeof(why)) < 0)
        missing32(o, F_START, why);
    else
        o->task_start_boottime = off;
    if (p32_find_args(&m, read_user_of, xa, t, n, &off, why, sizeof(why)) < 0) {
        missing32(o, F_ARGS, why);
    } else {
        o->mm_arg_start = off;
        o->mm_arg_end = off + 4;
        o->mm_env_start = off + 8;
        o->mm_env_end = off + 12;
    }
    resolve32_creds(xa, &m, t, n, o);
    resolve32_paths(xa, p, &m, t, n, o);
    free(t);
    xa__clear_error(xa);
    return o;
}

/* The offsets, resolved once; XA_ENOTSUP naming what @f lacks. */
static int need(struct xa_instance *xa, enum feature f, const struct lx_proc_offsets **out)
{
    struct linux_priv *p = linux_priv(xa);
    bool infer32 = !p->lx.btf && lx_is32(&p->lx) && !p->tasks_missing[0];
    if (!p->lx.btf && !infer32)
        return xa__set_error(xa, XA_ENOTSUP, "cannot read process %s: no kernel types (BTF)",
                             feature_names[f]);
    if (!p->proc && !(p->proc = infer32 ? resolve32(xa, p) : resolve(&p->lx)))
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    if (p->proc->missing[f][0])
        return xa__set_error(xa, XA_ENOTSUP, "cannot read process %s: %s", feature_names[f],
                             p->proc->missing[f]);
    *out = p->proc;
    return 0;
}

void linux_procinfo_free(struct linux_priv *p)
{
    free(p->proc);
    p->proc = NULL;
}

/* A kernel pointer read from @va, checked; @what names it in errors. */
static int read_kptr(struct xa_instance *xa, uint64_t va, const char *what, uint64_t *out)
{
    if (lx_ptr(xa, va, out) < 0)
        return xa__set_error(xa, XA_EFAULT, "cannot read %s at 0x%llx", what,
                             (unsigned long long)va);
    if (!lx_kptr(xa, *out) || (*out & (lx_ptr_size(xa) - 1)))
        return xa__set_error(xa, XA_EBADDATA, "bad %s pointer 0x%llx", what,
                             (unsigned long long)*out);
    return 0;
}

static int leader_task(struct xa_instance *xa, int32_t pid, uint64_t *task)
{
    int rc = linux_task_by_pid(xa, pid, task);
    return rc < 0 ? xa__prefix_error(xa, rc, "process %d", (int)pid) : 0;
}

int linux_task_of(struct xa_instance *xa, const struct xa_process *p, uint64_t *task)
{
    const struct linux_offsets *o = &linux_os(xa)->off;
    uint32_t pid, tgid;
    if (o->task_pid == LX_NO_OFFSET || o->task_tgid == LX_NO_OFFSET)
        return xa__set_error(xa, XA_ENOTSUP, "process %d: no task layout", (int)p->pid);
    if (!lx_kptr(xa, p->task) || (p->task & 3))
        return xa__set_error(xa, XA_EINVAL, "process %d: bad task address 0x%llx", (int)p->pid,
                             (unsigned long long)p->task);
    if (lx_u32(xa, p->task + o->task_pid, &pid) < 0 ||
        lx_u32(xa, p->task + o->task_tgid, &tgid) < 0)
        return xa__set_error(xa, XA_EFAULT, "process %d: task at 0x%llx unreadable", (int)p->pid,
                             (unsigned long long)p->task);
    if ((int32_t)pid != p->pid || tgid != pid)
        return xa__set_error(xa, XA_ENOENT,
                             "process %d: the task at 0x%llx is no longer its leader (it exited)",
                             (int)p->pid, (unsigned long long)p->task);
    *task = p->task;
    return 0;
}

/* ---- threads ------------------------------------------------------------ */

static int thread_iter_at(struct xa_instance *xa, const struct lx_proc_offsets *o, int32_t pid,
                          uint64_t task, struct xa_thread_iter **out)
{
    uint64_t signal;
    int rc = read_kptr(xa, task + o->task_signal, "task->signal", &signal);
    if (rc < 0)
        return xa__prefix_error(xa, rc, "threads of process %d", (int)pid);
    struct xa_thread_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return xa__set_error(xa, XA_ENOMEM, "out of memory");
    it->xa = xa;
    it->tgid = pid;
    lx_list_init(&it->walk, signal + o->signal_thread_head, THREADS_MAX, "thread list");
    *out = it;
    return 0;
}

int linux_thread_iter_new(struct xa_instance *xa, int32_t pid, struct xa_thread_iter **out)
{
    const struct lx_proc_offsets *o = NULL;
    int rc = need(xa, F_THREADS, &o);
    uint64_t task;
    if (rc < 0 || (rc = leader_task(xa, pid, &task)) < 0)
        return rc;
    return thread_iter_at(xa, o, pid, task, out);
}

int linux_thread_iter_new_proc(struct xa_instance *xa, const struct xa_process *p,
                               struct xa_thread_iter **out)
{
    const struct lx_proc_offsets *o = NULL;
    int rc = need(xa, F_THREADS, &o);
    uint64_t task;
    if (rc < 0 || (rc = linux_task_of(xa, p, &task)) < 0)
        return rc;
    return thread_iter_at(xa, o, p->pid, task, out);
}

static int read_thread(struct xa_instance *xa, const struct lx_proc_offsets *o, uint64_t task,
                       struct xa_thread *out)
{
    uint32_t pid, tgid, state, exit_state = 0, cpu = 0;
    char comm[XA_COMM_LEN];
    /* exit_state and cpu may be unknown in a layout inferred without BTF
     * (32-bit): a dead task is then a zombie, and the cpu -1. */
    const bool has_exit = o->task_exit_state != LX_NO_OFFSET, has_cpu = o->task_cpu != LX_NO_OFFSET;
    if (lx_u32(xa, task + o->task_pid, &pid) < 0 || lx_u32(xa, task + o->task_tgid, &tgid) < 0 ||
        lx_u32(xa, task + o->task_state, &state) < 0 ||
        (has_exit && lx_u32(xa, task + o->task_exit_state, &exit_state) < 0) ||
        (has_cpu && lx_u32(xa, task + o->task_cpu, &cpu) < 0) ||
        lx_read(xa, task + o->task_comm, comm, sizeof(comm)) < 0)
        return xa__set_error(xa, XA_EFAULT, "thread at 0x%llx unreadable",
                             (unsigned long long)task);
    if (!has_exit && (state & TASK_DEAD_BIT))
        exit_state = EXIT_ZOMBIE_BIT;
    const char *nul = memchr(comm, '\0', sizeof(comm));
    if ((int32_t)pid < 0 || pid > PID_MAX || (int32_t)tgid < 0 || tgid > PID_MAX || !nul ||
        cpu > 8192)
        return xa__set_error(xa, XA_EBADDATA, "implausible thread at 0x%llx (tid %d, cpu %u)",
                             (unsigned long long)task, (int)pid, cpu);
    memset(out, 0, sizeof(*out));
    out->tid = (int32_t)pid;
    out->tgid = (int32_t)tgid;
    for (size_t i = 0; comm + i < nul; i++)
        out->comm[i] = ((unsigned char)comm[i] < 0x20 || comm[i] == 0x7f) ? '?' : comm[i];
    out->state = task_state_char(state, exit_state);
    out->cpu = has_cpu ? (int32_t)cpu : -1;
    out->task = task;
    return 0;
}

int linux_thread_iter_next(struct xa_thread_iter *it, struct xa_thread *out)
{
    struct xa_instance *xa = it->xa;
    if (it->err)
        return it->err;
    const struct lx_proc_offsets *o = linux_priv(xa)->proc;
    uint64_t node;
    /* lx_list_next() checks both links of every node and the head's prev. */
    int rc = lx_list_next(xa, &it->walk, &node);
    if (rc == 0)
        return 0;
    if (rc < 0)
        return it->err = rc;
    rc = read_thread(xa, o, node - o->task_thread_node, out);
    if (rc == 0 && out->tgid != it->tgid)
        rc = xa__set_error(xa, XA_EBADDATA, "thread %d at 0x%llx belongs to %d, not %d",
                           (int)out->tid, (unsigned long long)out->task, (int)out->tgid,
                           (int)it->tgid);
    if (rc < 0)
        return it->err = rc;
    return 1;
}

void linux_thread_iter_free(struct xa_thread_iter *it)
{
    if (it)
        lx_list_free(&it->walk);
    free(it);
}

/* ---- credentials -------------------------------------------------------- */

int linux_process_creds(struct xa_instance *xa, int32_t pid, struct xa_creds *out,
                        uint32_t *groups, size_t max_groups)
{
    const struct lx_proc_offsets *o = NULL;
    int rc = need(xa, F_CREDS, &o);
    uint64_t task, cred, gi;
    if (rc < 0 || (rc = leader_task(xa, pid, &task)) < 0)
        return rc;
    if ((rc = read_kptr(xa, task + o->task_real_cred, "task->real_cred", &cred)) < 0)
        return xa__prefix_error(xa, rc, "credentials of process %d", (int)pid);
    uint32_t id[8];
    uint64_t eff, prm;
    for (int i = 0; i < 8; i++)
        if (lx_u32(xa, cred + o->cred_id[i], &id[i]) < 0)
            return xa__set_error(xa, XA_EFAULT, "process %d: cred 0x%llx unreadable", (int)pid,
                                 (unsigned long long)cred);
    /* kernel_cap_t is 64 bits: u32 cap[2] before 6.3, u64 val since. */
    if (lx_u64(xa, cred + o->cred_cap_eff, &eff) < 0 ||
        lx_u64(xa, cred + o->cred_cap_prm, &prm) < 0)
        return xa__set_error(xa, XA_EFAULT, "process %d: cred 0x%llx unreadable", (int)pid,
                             (unsigned long long)cred);
    if ((rc = read_kptr(xa, cred + o->cred_group_info, "cred->group_info", &gi)) < 0)
        return xa__prefix_error(xa, rc, "credentials of process %d", (int)pid);
    uint32_t ngroups;
    if (lx_u32(xa, gi + o->gi_ngroups, &ngroups) < 0)
        return xa__set_error(xa, XA_EFAULT, "process %d: group_info 0x%llx unreadable", (int)pid,
                             (unsigned long long)gi);
    if (ngroups > XA_NGROUPS_MAX)
        return xa__set_error(xa, XA_EBADDATA, "process %d: %u supplementary groups (most %d)",
                             (int)pid, ngroups, XA_NGROUPS_MAX);
    size_t copy = ngroups < max_groups ? ngroups : max_groups;
    if (copy && lx_read(xa, gi + o->gi_gid, groups, copy * sizeof(uint32_t)) < 0)
        return xa__set_error(xa, XA_EFAULT, "process %d: groups at 0x%llx unreadable", (int)pid,
                             (unsigned long long)(gi + o->gi_gid));
    *out = (struct xa_creds){
        .uid = id[0], .euid = id[1], .suid = id[2], .fsuid = id[3],
        .gid = id[4], .egid = id[5], .sgid = id[6], .fsgid = id[7],
        .cap_effective = eff, .cap_permitted = prm, .ngroups = ngroups,
    };
    return 0;
}

/* ---- start time --------------------------------------------------------- */

int linux_boot_time(struct xa_instance *xa, int64_t *wall_ns)
{
    const struct lx_proc_offsets *o = NULL;
    int rc = need(xa, F_START, &o);
    if (rc < 0)
        return rc;
    uint64_t tk_core;
    if (o->tk_offs_real == LX_NO_OFFSET || o->tk_offs_boot == LX_NO_OFFSET ||
        o->tk_in_core == LX_NO_OFFSET ||
        symtab_lookup(&linux_os(xa)->syms, "tk_core", &tk_core) < 0)
        return xa__set_error(xa, XA_ENOTSUP,
                             "cannot read the boot time: no tk_core symbol or timekeeper layout");
    uint64_t tk = tk_core + o->tk_in_core, real, boot;
    if (lx_u64(xa, tk + o->tk_offs_real, &real) < 0 || lx_u64(xa, tk + o->tk_offs_boot, &boot) < 0)
        return xa__set_error(xa, XA_EFAULT, "timekeeper at 0x%llx unreadable",
                             (unsigned long long)tk);
    /* getboottime64(): offs_real - offs_boot. */
    int64_t t = (int64_t)(real - boot);
    if (t < WALL_MIN_NS || t > WALL_MAX_NS)
        return xa__set_error(xa, XA_EBADDATA, "implausible boot time %lld ns since the epoch",
                             (long long)t);
    *wall_ns = t;
    return 0;
}

int linux_process_start_time(struct xa_instance *xa, int32_t pid, uint64_t *boot_ns,
                             int64_t *wall_ns)
{
    const struct lx_proc_offsets *o = NULL;
    int rc = need(xa, F_START, &o);
    uint64_t task, start;
    if (rc < 0 || (rc = leader_task(xa, pid, &task)) < 0)
        return rc;
    if (lx_u64(xa, task + o->task_start_boottime, &start) < 0)
        return xa__set_error(xa, XA_EFAULT, "process %d: task 0x%llx unreadable", (int)pid,
                             (unsigned long long)task);
    if (start > (uint64_t)(WALL_MAX_NS - WALL_MIN_NS))
        return xa__set_error(xa, XA_EBADDATA, "process %d: implausible start time %llu ns",
                             (int)pid, (unsigned long long)start);
    if (wall_ns) {
        int64_t boot;
        if ((rc = linux_boot_time(xa, &boot)) < 0)
            return rc;
        *wall_ns = boot + (int64_t)start;
    }
    if (boot_ns)
        *boot_ns = start;
    return 0;
}

/* ---- command line and environment ---------------------------------------- */

struct user_mem {
    struct xa_instance *xa;
    uint64_t dtb;
};

static int read_user(void *ctx, uint64_t va, void *buf, size_t len)
{
    struct user_mem *u = ctx;
    return xa__read_va(u->xa, u->dtb, va, buf, len, NULL);
}

int linux_process_args(struct xa_instance *xa, int32_t pid, bool environ, void *buf, size_t cap,
                       size_t *len, uint32_t *flags)
{
    const struct lx_proc_offsets *o = NULL;
    int rc = need(xa, F_ARGS, &o);
    uint64_t task, mm;
    *len = 0;
    *flags = 0;
    if (rc < 0 || (rc = leader_task(xa, pid, &task)) < 0)
        return rc;
    if (lx_ptr(xa, task + o->task_mm, &mm) < 0)
        return xa__set_error(xa, XA_EFAULT, "process %d: task 0x%llx unreadable", (int)pid,
                             (unsigned long long)task);
    if (mm == 0)
        return 0; /* a kernel thread: nothing, as /proc shows */
    if (!lx_kptr(xa, mm))
        return xa__set_error(xa, XA_EBADDATA, "process %d: bad mm 0x%llx", (int)pid,
                             (unsigned long long)mm);
    uint64_t start, end;
    if (lx_ptr(xa, mm + (environ ? o->mm_env_start : o->mm_arg_start), &start) < 0 ||
        lx_ptr(xa, mm + (environ ? o->mm_env_end : o->mm_arg_end), &end) < 0)
        return xa__set_error(xa, XA_EFAULT, "process %d: mm 0x%llx unreadable", (int)pid,
                             (unsigned long long)mm);
    struct user_mem u = {xa, 0};
    if ((rc = linux_mm_dtb(xa, mm, &u.dtb)) < 0)
        return xa__prefix_error(xa, rc, "process %d", (int)pid);
    char why[LX_WHY_LEN];
    rc = lx_uargs_copy(read_user, &u, start, end, buf, cap, len, flags, why);
    xa__clear_error(xa);
    if (rc < 0)
        return xa__set_error(xa, rc, "process %d: %s: %s", (int)pid,
                             environ ? "environment" : "command line", why);
    if (*flags & XA_ARGS_ABSENT) /* kept for xa_errmsg(): where it stopped */
        xa__set_error(xa, XA_EFAULT, "process %d: %s partial: %s", (int)pid,
                      environ ? "environment" : "command line", why);
    return 0;
}

/* ---- exe, cwd, root --------------------------------------------------------- */

static int read_kernel(void *ctx, uint64_t va, void *buf, size_t len)
{
    return lx_read(ctx, va, buf, len);
}

int linux_process_path(struct xa_instance *xa, int32_t pid, enum xa_proc_path which, char *buf,
                       size_t cap)
{
    const struct lx_proc_offsets *o = NULL;
    int rc = need(xa, F_PATHS, &o);
    uint64_t task, holder, path;
    if (rc < 0 || (rc = leader_task(xa, pid, &task)) < 0)
        return rc;
    static const char *const names[] = {"executable", "current directory", "root directory"};
    if ((unsigned)which > XA_PROC_ROOT)
        return xa__set_error(xa, XA_EINVAL, "xa_process_path: unknown path kind %d", (int)which);
    if (which == XA_PROC_EXE) {
        uint64_t mm, file;
        if (lx_ptr(xa, task + o->task_mm, &mm) < 0)
            return xa__set_error(xa, XA_EFAULT, "process %d: task unreadable", (int)pid);
        if (mm == 0)
            return xa__set_error(xa, XA_ENOENT, "process %d is a kernel thread: no executable",
                                 (int)pid);
        if (!lx_kptr(xa, mm) || lx_ptr(xa, mm + o->mm_exe_file, &file) < 0)
            return xa__set_error(xa, XA_EBADDATA, "process %d: bad mm 0x%llx", (int)pid,
                                 (unsigned long long)mm);
        if (file == 0)
            return xa__set_error(xa, XA_ENOENT, "process %d has no executable file", (int)pid);
        holder = file;
        path = o->file_f_path;
        if (!lx_kptr(xa, file))
            return xa__set_error(xa, XA_EBADDATA, "process %d: bad exe_file 0x%llx", (int)pid,
                                 (unsigned long long)file);
    } else {
        if ((rc = read_kptr(xa, task + o->task_fs, "task->fs", &holder)) < 0)
            return xa__prefix_error(xa, rc, "process %d", (int)pid);
        path = which == XA_PROC_CWD ? o->fs_pwd : o->fs_root;
    }
    uint64_t mnt, dentry;
    if (lx_ptr(xa, holder + path + o->path_mnt, &mnt) < 0 ||
        lx_ptr(xa, holder + path + o->path_dentry, &dentry) < 0)
        return xa__set_error(xa, XA_EFAULT, "process %d: %s unreadable", (int)pid,
                             names[which]);
    char why[LX_WHY_LEN];
    /* Seen from the top of the mount namespace, as a reader there sees
     * /proc/PID/{exe,cwd,root}. */
    rc = lx_dpath_build(&o->dpath, read_kernel, xa, dentry, mnt, 0, 0, buf, cap, why);
    if (rc < 0)
        return xa__set_error(xa, rc, "process %d: %s: %s", (int)pid, names[which], why);
    return 0;
}
