/*
 * lxpriv.h -- private state of the Linux OS layer beyond struct linux_os,
 * and small helpers shared by tasks.c, modules.c and vma.c.
 *
 * linux.c allocates a struct linux_priv whose first member is the
 * struct linux_os of linux.h, so xa__os_state() works with both linux_os() and
 * linux_priv(). Everything here is internal to os/linux/.
 */
#ifndef XA_OS_LINUX_LXPRIV_H
#define XA_OS_LINUX_LXPRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/linux/ptrset.h"
#include "os/linux/linux.h"

#define LX_NO_OFFSET UINT64_MAX

/* Layout facts the walks need that struct linux_offsets has no room for.
 * UINT64_MAX when absent. */
struct linux_more_offsets {
    uint64_t mm_start_brk, mm_brk, mm_start_stack;
    uint64_t vma_ops, vma_private_data, special_mapping_name;
    /* vm_area_struct.vm_prev: the mm->mmap list's back link (before 6.1). */
    uint64_t vma_prev;
    /* vm_area_struct.vm_mm: every VMA of a process names its mm. */
    uint64_t vma_mm;
    /* Module memory: 6.1 has one core_layout; 6.4+ an array mem[] of
     * struct module_memory, whose sizes add up to the /proc/modules size. */
    uint64_t module_mem_stride, module_mem_count;
    /* Maple tree nodes (6.1+): struct maple_range_64 (also used by leaves)
     * and struct maple_arange_64. */
    uint64_t mr64_pivot, mr64_slot, mr64_meta, mr64_npivots;
    uint64_t ma64_pivot, ma64_slot, ma64_meta, ma64_npivots;
    uint64_t meta_end;
    /* Mount crossing for file paths (struct mount is private to fs/). */
    uint64_t mount_mnt, mount_parent, mount_mountpoint, vfsmount_mnt_root;
    /* dentry.d_hash.pprev: NULL when the file was unlinked (" (deleted)"). */
    uint64_t dentry_hash_pprev;
};

struct linux_pid_entry {
    int32_t pid;
    uint64_t task;
};

struct lx_proc_offsets; /* procinfo.c */
struct lx_files_offsets; /* files.c */
struct lx_net_offsets;  /* netsock.c */
struct lx_kmsg_offsets; /* kmsg.c */

struct linux_priv {
    struct linux_os lx; /* first: the OS state points here */
    struct lx_proc_offsets *proc; /* resolved on first use (procinfo.c) */
    struct lx_files_offsets *files; /* resolved on first use (files.c) */
    struct lx_net_offsets *net;   /* netsock.c, on first use */
    struct lx_kmsg_offsets *kmsg; /* kmsg.c, on first use */
    struct linux_more_offsets more;

    /* Why a walk cannot run, "" when it can (missing BTF or members). */
    char tasks_missing[XA_ERRMSG_LEN];
    char modules_missing[XA_ERRMSG_LEN];
    char vmas_missing[XA_ERRMSG_LEN];

    /* Special mappings ([vdso], [vvar]) are named through these vm_ops. */
    uint64_t special_mapping_vmops, legacy_special_mapping_vmops;

    /* pid -> task index from the last full walk, sorted by pid; forgotten
     * on flush. A hit is re-read and re-checked, so a stale entry can only
     * cost a walk. */
    struct linux_pid_entry *pid_index;
    size_t nr_pid_index;

    /* init_task when kallsyms does not list it: found in memory with the
     * 32-bit task layout (layout32.c); 0 otherwise. */
    uint64_t init_task;
    char layout_from[XA_ERRMSG_LEN]; /* how the task layout was found, "" for BTF */

    /* A 32-bit kernel without a `modules` symbol: the list head and the
     * struct module offsets found in memory on the first module walk
     * (modscan32.c); modules_head is 0 when no module is loaded. */
    bool modules32_ready;
    uint64_t modules_head;

    /* A 32-bit kernel without BTF: the memory-map offsets found in memory
     * on the first map walk (vmalayout32.c), kept once found. */
    bool vmas32_ready;

    /* tasks.c: where read_task() finds the task_struct fields it uses,
     * worked out from the offsets once (they do not change). */
#define LX_TASK_FIELDS 12
    struct lx_task_layout {
        size_t nr_pieces; /* 0: not worked out yet */
        uint64_t piece_off[LX_TASK_FIELDS];
        uint32_t piece_len[LX_TASK_FIELDS];
        uint32_t pos[LX_TASK_FIELDS]; /* each field's place in the read buffer */
        /* Each field's piece (nr_pieces: none, it reads as zeros) and its
         * place in that piece. */
        uint8_t piece_of[LX_TASK_FIELDS];
        uint32_t in_piece[LX_TASK_FIELDS];
        /* struct cred's four ids, read as one span when it is short. */
        uint64_t cred_lo;
        uint32_t cred_len; /* 0: too far apart, read one by one */
        uint32_t cred_pos[4];
    } task_layout;

    /* tasks.c: the processes of the last complete, checked walk, kept only
     * while memory cannot change (xa__memory_static: a dump) and dropped by
     * the OS flush; NULL when none. */
    struct lx_proc_list *proc_list;
    /* tasks.c: parents' tgids and creds' ids met by a walk (walk_memo()). */
    struct lx_tgid_memo *walk_memo;
    uint32_t walk_gen;
    size_t tasks_last_walk; /* tasks on the list at the last whole walk (a size hint) */
};

/* A decoded process list, shared by the instance and the iterators
 * replaying it (a flush during a replay leaves the replay intact). */
struct lx_proc_list {
    unsigned refs;
    size_t n, cap;
    struct xa_process *procs;
};
/* tasks.c: forget the kept process list (OS flush). */
void linux_proc_list_drop(struct linux_priv *p);
/* tasks.c: free what the process walks keep (close). */
void linux_tasks_free(struct linux_priv *p);

static inline struct linux_priv *linux_priv(struct xa_instance *xa)
{
    return (struct linux_priv *)xa__os_state(xa);
}

/* btf.c: resolve a dotted member path ("core_layout.base") in struct/union
 * @type, searching anonymous members. Bitfields give XA_EINVAL. */
int linux_btf_member(const struct linux_os *lx, const char *type, const char *path,
                     uint64_t *off);
/* btf.c: element count and element size of array member @path of @type. */
int linux_btf_array(const struct linux_os *lx, const char *type, const char *path,
                    uint64_t *count, uint64_t *elem_size);
/* btf.c: fill lx->off and the private offsets; record what is missing. */
void linux_offsets_resolve(struct linux_priv *p);

/* layout32.c: a 32-bit kernel without BTF: the task layout and init_task
 * inferred from memory (task32.c) into p->lx.off and p->init_task. */
int linux_layout32_infer(struct xa_instance *xa, struct linux_priv *p);
/* modscan32.c: a 32-bit kernel: the module list head and struct module
 * offsets (module32.c) from the module area's pages, once. */
int linux_modules32_find(struct xa_instance *xa, struct linux_priv *p);
/* modscan32.c: call @fn for every present 4 KiB page of a 32-bit kernel's
 * memory above the direct map (where modules are), with its M32_PAGE
 * bytes; non-zero from @fn stops the scan and is returned. */
typedef int (*linux_m32_page_fn)(void *ctx, uint64_t va, const uint8_t *page);
int linux_modules32_pages(struct xa_instance *xa, linux_m32_page_fn fn, void *ctx);
/* vmalayout32.c: a 32-bit kernel without BTF: the mm_struct, VMA, file,
 * dentry and mount offsets (vma32.c) from the user processes, once. */
int linux_vma32_find(struct xa_instance *xa, struct linux_priv *p);
/* The path walk's layout on a 32-bit kernel without BTF, from the dentry
 * and mount offsets linux_vma32_find() inferred (vmalayout32.c). */
struct lx_dpath_layout; /* procread.h */
struct lx_dpath_layout linux_dpath_layout32(const struct linux_priv *p);
/* mountlayout32.c: a 32-bit kernel without BTF: the mount-namespace
 * offsets (mounts32.c), from init_task and the process list. */
struct mn32_layout;
int linux_mounts32_find(struct xa_instance *xa, struct linux_priv *p, struct mn32_layout *out);

/* tasks.c: find the task of a thread-group id (walks the list). */
int linux_task_by_pid(struct xa_instance *xa, int32_t pid, uint64_t *task);
/* procinfo.c: the task of @p as a walk found it, re-read and still the
 * leader of thread group p->pid (XA_ENOENT when it exited): no walk. */
int linux_task_of(struct xa_instance *xa, const struct xa_process *p, uint64_t *task);
/* tasks.c: ps's state letter from task state and exit_state. */
char task_state_char(uint32_t state, uint32_t exit_state);
/* tasks.c: page-table root of mm_struct @mm (kernel's when mm is 0). */
int linux_mm_dtb(struct xa_instance *xa, uint64_t mm, uint64_t *dtb);

/* The walks behind struct xa_os_ops (tasks.c, modules.c, vma.c). */
int linux_process_iter_new(struct xa_instance *xa, struct xa_process_iter **out);
int linux_process_iter_next(struct xa_process_iter *it, struct xa_process *out);
void linux_process_iter_free(struct xa_process_iter *it);
int linux_process_by_pid(struct xa_instance *xa, int32_t pid, struct xa_process *out);
int linux_module_iter_new(struct xa_instance *xa, struct xa_module_iter **out);
int linux_module_iter_next(struct xa_module_iter *it, struct xa_module *out);
void linux_module_iter_free(struct xa_module_iter *it);
int linux_vma_iter_new(struct xa_instance *xa, int32_t pid, struct xa_vma_iter **out);
int linux_vma_iter_next(struct xa_vma_iter *it, struct xa_vma *out);
void linux_vma_iter_free(struct xa_vma_iter *it);

/* ---- reading guest kernel memory -------------------------------------- */

/* x86-64 kernel addresses live in the upper canonical half. */
static inline bool lx_kernel_ptr(uint64_t va)
{
    return va >= 0xff00000000000000ULL;
}

/* A 32-bit x86 kernel: 4-byte pointers, kernel space [page_offset, 4 GiB). */
static inline bool lx_is32(const struct linux_os *lx)
{
    return lx->mode == XA_PM_LEGACY || lx->mode == XA_PM_PAE;
}

/* A kernel address of this guest's kernel, whatever its pointer size. */
static inline bool lx_kptr(struct xa_instance *xa, uint64_t va)
{
    const struct linux_os *lx = linux_os(xa);
    if (lx_is32(lx))
        return lx->page_offset && va >= lx->page_offset && va <= 0xFFFFFFFFull;
    return lx_kernel_ptr(va);
}

static inline size_t lx_ptr_size(struct xa_instance *xa)
{
    return lx_is32(linux_os(xa)) ? 4 : 8;
}

static inline int lx_read(struct xa_instance *xa, uint64_t va, void *buf, size_t len)
{
    return xa__read_va(xa, 0, va, buf, len, NULL);
}

static inline int lx_u64(struct xa_instance *xa, uint64_t va, uint64_t *out)
{
    return xa__read_u64(xa, 0, va, out);
}

static inline int lx_u32(struct xa_instance *xa, uint64_t va, uint32_t *out)
{
    return xa__read_u32(xa, 0, va, out);
}

/* A kernel pointer (unsigned long) at @va: 4 or 8 bytes as the kernel's. */
static inline int lx_ptr(struct xa_instance *xa, uint64_t va, uint64_t *out)
{
    if (!lx_is32(linux_os(xa)))
        return lx_u64(xa, va, out);
    uint32_t v;
    int rc = lx_u32(xa, va, &v);
    if (rc == 0)
        *out = v;
    return rc;
}

/* ---- bounded walk over a circular struct list_head -------------------- */


/* A walk from @head following ->next until it comes back to @head. Every
 * node is remembered, so a list that loops without returning to the head is
 * caught at the first node seen twice (no node is ever returned twice);
 * @max caps the length whatever happens. (listwalk.c) */
struct lx_list_walk {
    uint64_t head;      /* address of the anchoring list_head */
    uint64_t cur;       /* list_head last returned (head at start) */
    uint64_t steps, max;
    struct lx_ptrset seen; /* nodes returned (none kept when immutable) */
    const char *what;   /* "task list", for messages */
    int err;            /* sticky: once the walk failed it stays failed */
    bool done;
    bool immutable;     /* memory cannot change (a dump): no set, the back links
                         * refuse a loop (listwalk.c); set after lx_list_init */
};

void lx_list_init(struct lx_list_walk *w, uint64_t head, uint64_t max, const char *what);
/* Next list_head address: 1 with *node, 0 back at the head, or a negative
 * error (sticky). */
int lx_list_next(struct xa_instance *xa, struct lx_list_walk *w, uint64_t *node);
/* lx_list_next in two halves, for a walk that reads each node's links with
 * the node (tasks.c): advance to @next, the current node's next pointer as
 * read (1 with *node, 0 at the end, or an error), then, once the caller
 * has read *node's prev pointer, link_back checks it names the node we came
 * from and makes *node the current one. Both errors are sticky. */
int lx_list_advance(struct xa_instance *xa, struct lx_list_walk *w, uint64_t next,
                    uint64_t *node);
int lx_list_link_back(struct xa_instance *xa, struct lx_list_walk *w, uint64_t node,
                      uint64_t prev);
void lx_list_free(struct lx_list_walk *w);

/* ---- iterators (opaque in the public API) ------------------------------ */

struct xa_process_iter {
    struct xa_instance *xa; /* first member: os.c dispatches through it */
    struct lx_list_walk walk;
    bool head_done; /* init_task itself comes first */
    bool count_checked; /* the kernel's process count, once at the end */
    uint64_t cur_next; /* the current task's tasks.next, read with its fields */
    struct lx_tgid_memo *tgids; /* tasks.c: the instance's walk memo (not owned), or NULL */
    uint32_t memo_gen;          /* this walk's generation in it */
    struct lx_proc_list *replay; /* the kept list this iterator hands out, or NULL */
    size_t replay_pos;
    struct lx_proc_list *record; /* a walk of static memory, kept if it completes */
};

struct xa_module_iter {
    struct xa_instance *xa; /* first member: os.c dispatches through it */
    struct lx_list_walk walk;
};

struct maple_entry;

struct xa_vma_iter {
    struct xa_instance *xa; /* first member: os.c dispatches through it */
    int32_t pid;
    uint64_t mm; /* 0 for a kernel thread: no VMAs */
    uint64_t start_brk, brk, start_stack;
    uint64_t prev_end; /* VMAs must come in increasing order */
    int err;           /* sticky */
    /* Maple tree (6.1+): walked once at creation; an error met during the
     * walk is reported after the VMAs found before it. */
    struct maple_entry *found;
    size_t nr_vmas, pos;
    int deferred_err;
    char deferred_msg[XA_ERRMSG_LEN];
    /* mm->mmap list (before 6.1): followed lazily, Brent's cycle check. */
    bool linked_list;
    uint64_t next_vma, prev_vma, tortoise, power, lam, steps;
};

/* os/os.h: the core finds an iterator's instance in its first member. */
_Static_assert(offsetof(struct xa_process_iter, xa) == 0, "xa first (struct xa_os_iter)");
_Static_assert(offsetof(struct xa_module_iter, xa) == 0, "xa first (struct xa_os_iter)");
_Static_assert(offsetof(struct xa_vma_iter, xa) == 0, "xa first (struct xa_os_iter)");

#endif /* XA_OS_LINUX_LXPRIV_H */
