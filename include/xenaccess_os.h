/*
 * xenaccess_os.h -- the OS layer: kernel symbols, processes, modules, user
 * memory. Included by xenaccess.h; do not include directly.
 *
 * For Linux guests nothing needs configuring: xa_init() finds the kernel in
 * guest memory, decodes its kallsyms tables (KASLR handled) and loads its
 * own BTF for structure layouts. A System.map and a BTF file can be given in
 * struct xa_init_opts for kernels built without them.
 *
 * Walks over guest lists (tasks, modules) and trees (VMAs) are bounded: a
 * walk that meets a cycle, a bad pointer or a limit ends with an error, and
 * the items returned before it stay valid (a *partial* result). Where the
 * kernel keeps both links of a list, both are checked; on dumps the number
 * walked is also compared with the kernel's own count (processes, a
 * process's VMAs): a disagreement ends the walk with XA_EBADDATA after the
 * items found, never a short list that looks whole.
 *
 * Return codes: besides those listed with each call, every call here
 * returns XA_EINVAL for a NULL handle or pointer, XA_ENOOS when no OS layer
 * was recognised (or XA_INIT_NO_OS), and the memory errors of xenaccess.h
 * (XA_EFAULT, XA_ERANGE, XA_EBADDATA, XA_EIO, XA_EGONE, XA_ENOMEM) when the
 * guest data it reads cannot be read. Iterators must be freed, with their
 * xa_*_iter_free(), before xa_destroy() of their handle.
 */
#ifndef XENACCESS_OS_H
#define XENACCESS_OS_H

#ifndef XENACCESS_H
#error "include <xenaccess.h>, not <xenaccess_os.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum xa_os_type {
    XA_OS_UNKNOWN = 0,
    XA_OS_LINUX,
    XA_OS_WINDOWS, /**< Windows x64 (processes and drivers; no memory maps) */
};

/** What OS discovery found. Strings are borrowed for the life of the handle. */
struct xa_os_info {
    enum xa_os_type type;
    const char *version;    /**< e.g. "Linux version 6.1.0-28-amd64 (...) ..." */
    const char *release;    /**< e.g. "6.1.0-28-amd64" */
    uint64_t kaslr_slide;   /**< virtual slide of the kernel text vs. its link address */
    uint64_t phys_base;     /**< physical load offset of the kernel */
    uint64_t kernel_dtb;    /**< kernel page-table root (physical) */
    uint64_t text_start;    /**< virtual address of _text */
    uint64_t page_offset;   /**< base of the direct map */
    enum xa_page_mode page_mode;
    size_t num_symbols;     /**< kernel symbols known */
    size_t num_btf_types;   /**< BTF types loaded (0 when none) */
    const char *symbols_from; /**< "kallsyms in guest memory", "System.map FILE" */
    const char *types_from;   /**< "BTF in guest memory", "BTF file FILE", or "none" */
};

/** @brief OS facts; XA_ENOOS when no OS was recognised (or XA_INIT_NO_OS). */
XA_API XA_NODISCARD int xa_os_get_info(struct xa_instance *xa, struct xa_os_info *out);

/** @defgroup symbols Kernel symbols
 *  @{ */

/** @brief Address of a kernel symbol (KASLR applied).
 *  @return 0, XA_ENOENT if unknown, XA_EINVAL, XA_ENOOS; or, when the symbols
 *  of a dump are decoded on first need (docs/discovery.md), that decoding's
 *  error (XA_EIO: the dump was cut since). */
XA_API XA_NODISCARD int xa_sym_lookup(struct xa_instance *xa, const char *name, uint64_t *addr);

/**
 * @brief Nearest kernel symbol at or below @p addr.
 * @param[out] name borrowed for the life of @p xa.
 * @param[out] offset addr - symbol address.
 * @return 0, XA_ENOENT (no symbol at or below @p addr), XA_EINVAL, XA_ENOOS, or
 *         the symbol decoding's error as for xa_sym_lookup().
 */
XA_API XA_NODISCARD int xa_sym_at(struct xa_instance *xa, uint64_t addr, const char **name,
                                  uint64_t *offset);

/**
 * @brief The paper's call: map the page holding kernel symbol @p name.
 * @return the page (release with xa_release_page()) or NULL; *offset is the
 *         symbol's offset within it.
 */
XA_API const void *xa_access_kernel_symbol(struct xa_instance *xa, const char *name,
                                           uint32_t *offset);

/** @brief Read @p len bytes at kernel symbol @p name.
 *  @return 0, XA_ENOENT (unknown symbol), XA_EINVAL, XA_ENOOS, a memory error. */
XA_API XA_NODISCARD int xa_read_ksym(struct xa_instance *xa, const char *name, void *buf,
                                     size_t len);

/** Iterate all kernel symbols, in address order. Return non-zero from @p fn to stop.
 *  xa_sym_foreach() returns 0 (also when @p fn stopped it), XA_EINVAL, XA_ENOOS, or
 *  the symbol decoding's error as for xa_sym_lookup(). */
typedef int (*xa_sym_fn)(const char *name, uint64_t addr, char type, void *ctx);
XA_API XA_NODISCARD int xa_sym_foreach(struct xa_instance *xa, xa_sym_fn fn, void *ctx);

/** @} */

/** @defgroup types Kernel types (BTF)
 *  @{ */

/**
 * @brief Offset in bytes of member @p member of struct @p type ("task_struct",
 * "pid"). Nested anonymous members are searched.
 * @return 0, XA_ENOENT if the type or member is unknown or no BTF is loaded,
 *         XA_EINVAL (also for a bitfield member), XA_ENOOS.
 */
XA_API XA_NODISCARD int xa_type_offset(struct xa_instance *xa, const char *type,
                                       const char *member, uint64_t *offset);

/** @brief Size in bytes of struct @p type; returns as xa_type_offset(). */
XA_API XA_NODISCARD int xa_type_size(struct xa_instance *xa, const char *type, uint64_t *size);

/** @} */

/** @defgroup procs Processes
 *  @{ */

#define XA_COMM_LEN 16

struct xa_process {
    int32_t pid;    /**< thread-group id as user space sees it (the process id) */
    int32_t tgid;
    int32_t ppid;   /**< pid of the real parent's thread group */
    uint32_t uid, gid;   /**< real ids */
    uint32_t euid, egid; /**< effective ids */
    char comm[XA_COMM_LEN + 1];
    char state;         /**< 'R', 'S', 'D', 'T', 't', 'Z', 'X', 'I' as in ps */
    uint32_t flags;     /**< task flags (PF_KTHREAD = 0x00200000 marks kernel threads) */
    uint64_t task;      /**< task_struct address (kernel virtual) */
    uint64_t mm;        /**< mm_struct address, 0 for kernel threads */
    uint64_t dtb;       /**< page-table root (physical) of the process, kernel's for kthreads */
    uint64_t start_time; /**< ns since boot */
};

struct xa_process_iter;

/**
 * @brief Start a walk over the guest's processes (thread-group leaders, in
 * the kernel's task-list order). Free the iterator with
 * xa_process_iter_free() before xa_destroy().
 * @return 0, XA_EINVAL, XA_ENOOS, XA_ENOMEM, a memory error.
 */
XA_API XA_NODISCARD int xa_process_iter_new(struct xa_instance *xa, struct xa_process_iter **out);

/**
 * @brief Next process.
 * @return 1 with *out filled, 0 at the end of the list, or a negative error
 *         (XA_ELIMIT on a cycle or too long a list, XA_EFAULT on a bad
 *         pointer, XA_EBADDATA on links or a count that disagree) after
 *         which the walk is over and what came before is a partial list.
 */
XA_API XA_NODISCARD int xa_process_iter_next(struct xa_process_iter *it, struct xa_process *out);
XA_API void xa_process_iter_free(struct xa_process_iter *it);

/** @brief Find one process by pid. XA_ENOENT if absent from a whole list;
 *  when the list could not be walked to its end, that walk's error, with
 *  the message saying why the pid was not found. */
XA_API XA_NODISCARD int xa_process_by_pid(struct xa_instance *xa, int32_t pid,
                                          struct xa_process *out);

/** @brief Page-table root of process @p pid (its mm->pgd, physical).
 *  Remembered per pid until the OS caches are flushed (XA_CACHE_OS; on a
 *  live target also at each process walk, pause and resume: docs/live.md).
 *  @return as xa_process_by_pid(). */
XA_API XA_NODISCARD int xa_pid_to_dtb(struct xa_instance *xa, int32_t pid, uint64_t *dtb);

/**
 * @brief Read user memory of process @p pid (0 = kernel) in bulk.
 * Same contract as xa_read_va(); also the codes of xa_process_by_pid()
 * when @p pid cannot be found (nothing read then).
 */
XA_API XA_NODISCARD int xa_read_pid_va(struct xa_instance *xa, int32_t pid, uint64_t va,
                                       void *buf, size_t len, size_t *nread);

/**
 * @brief The paper's call: map the page holding user virtual address @p va of
 * process @p pid (pid 0 = kernel). Release with xa_release_page().
 */
XA_API const void *xa_access_user_virtual_address(struct xa_instance *xa, uint64_t va,
                                                  uint32_t *offset, int32_t pid);

/** What the OS layer has done since xa_init(): lets a test or a monitor see
 *  that a listing over every process cost one walk of the process list. */
struct xa_os_stats {
    uint64_t process_walks; /**< walks of the whole process list started (iterators, pid lookups) */
    uint64_t os_flushes;    /**< flushes of the OS data (XA_CACHE_OS; on live targets each
                                 top-level walk starts with one) */
};

/** @brief The counters of struct xa_os_stats; zeros for a NULL @p xa. */
XA_API void xa_os_stats(const struct xa_instance *xa, struct xa_os_stats *out);

/** @} */

/** @defgroup modules Kernel modules
 *  @{ */

#define XA_MODULE_NAME_LEN 56

struct xa_module {
    char name[XA_MODULE_NAME_LEN + 1];
    uint64_t base;   /**< start of the module's core text */
    uint64_t size;   /**< bytes of core layout */
    uint64_t module; /**< struct module address */
    int32_t refcount; /**< references, as lsmod shows them (refcnt - 1); -1 if unknown */
    uint32_t state;  /**< MODULE_STATE_* (0 live, 1 coming, 2 going, 3 unformed) */
};

struct xa_module_iter;
/** @brief Walk the loaded kernel modules; free before xa_destroy().
 *  @return 0, XA_EINVAL, XA_ENOOS, XA_ENOMEM, a memory error. */
XA_API XA_NODISCARD int xa_module_iter_new(struct xa_instance *xa, struct xa_module_iter **out);
/** @return 1, 0 at end, negative error (partial list). */
XA_API XA_NODISCARD int xa_module_iter_next(struct xa_module_iter *it, struct xa_module *out);
XA_API void xa_module_iter_free(struct xa_module_iter *it);

/** @} */

/** @defgroup vmas Process memory maps
 *  @{ */

#define XA_PATH_MAX 4096

enum xa_vma_flags {
    XA_VMA_READ = 1u << 0,
    XA_VMA_WRITE = 1u << 1,
    XA_VMA_EXEC = 1u << 2,
    XA_VMA_SHARED = 1u << 3,
};

struct xa_vma {
    uint64_t start, end; /**< [start, end) user virtual */
    uint32_t flags;      /**< enum xa_vma_flags */
    uint64_t pgoff;      /**< file offset in pages */
    uint64_t vma;        /**< vm_area_struct address */
    char path[XA_PATH_MAX]; /**< backing file path, "[heap]", "[stack]", or "" for anonymous */
};

struct xa_vma_iter;
/** @brief Walk the memory map of process @p pid, in address order; free
 *  before xa_destroy().
 *  @return 0, the codes of xa_process_by_pid(), XA_ENOMEM, a memory error. */
XA_API XA_NODISCARD int xa_vma_iter_new(struct xa_instance *xa, int32_t pid,
                                        struct xa_vma_iter **out);
/** @return 1, 0 at end, negative error (partial list). */
XA_API XA_NODISCARD int xa_vma_iter_next(struct xa_vma_iter *it, struct xa_vma *out);
XA_API void xa_vma_iter_free(struct xa_vma_iter *it);

/** @} */

/** @defgroup procview Inside a process: threads, credentials, arguments, paths
 *  @{ */

/** One thread of a process (a task of its thread group). */
struct xa_thread {
    int32_t tid;   /**< thread id (task pid) */
    int32_t tgid;  /**< the process it belongs to */
    char comm[XA_COMM_LEN + 1]; /**< control bytes shown as '?' */
    char state;    /**< as in struct xa_process */
    int32_t cpu;   /**< CPU it last ran on */
    uint64_t task; /**< task_struct address */
};

struct xa_thread_iter;

/** @brief Walk the threads of process @p pid (signal->thread_head order);
 *  free before xa_destroy().
 *  @return 0, the codes of xa_process_by_pid(), XA_ENOTSUP (not for this
 *          guest OS), XA_ENOMEM, a memory error. */
XA_API XA_NODISCARD int xa_thread_iter_new(struct xa_instance *xa, int32_t pid,
                                           struct xa_thread_iter **out);
/** @return 1, 0 at end, negative error (partial list: XA_ELIMIT on a loop or a
 *          link that does not point back, XA_EFAULT on a bad pointer). */
XA_API XA_NODISCARD int xa_thread_iter_next(struct xa_thread_iter *it, struct xa_thread *out);
XA_API void xa_thread_iter_free(struct xa_thread_iter *it);

/**
 * @brief As xa_thread_iter_new(), for a process @p p that a walk handed out
 * (xa_process_iter_next(), xa_process_by_pid()): the task at p->task is
 * re-read and must still be process p->pid. Nothing is walked again and, on
 * a live target, no cache is flushed: a listing over every process (one
 * xa_process_iter_new(), then a call like this per process) is one snapshot
 * started by that walk (docs/live.md). The same holds for
 * xa_file_iter_new_proc() and xa_mount_iter_new_proc().
 * @return as xa_thread_iter_new(); XA_ENOENT when p->task is no longer
 *         process p->pid (it exited).
 */
XA_API XA_NODISCARD int xa_thread_iter_new_proc(struct xa_instance *xa,
                                                const struct xa_process *p,
                                                struct xa_thread_iter **out);

/** Credentials of a process (its real_cred, as /proc/PID/status shows). */
struct xa_creds {
    uint32_t uid, euid, suid, fsuid; /**< real, effective, saved, filesystem */
    uint32_t gid, egid, sgid, fsgid;
    uint64_t cap_effective, cap_permitted;
    uint32_t ngroups; /**< supplementary groups the process has */
};

/** Most supplementary groups a process can have (NGROUPS_MAX). */
#define XA_NGROUPS_MAX 65536

/**
 * @brief Credentials of process @p pid; the first min(ngroups, @p max_groups)
 * supplementary groups are copied to @p groups (may be NULL when 0).
 * @return 0, the codes of xa_process_by_pid(), XA_ENOTSUP, a memory error.
 */
XA_API XA_NODISCARD int xa_process_creds(struct xa_instance *xa, int32_t pid,
                                         struct xa_creds *out, uint32_t *groups,
                                         size_t max_groups);

/**
 * @brief When process @p pid started: @p boot_ns since boot (boot clock, as
 * /proc/PID/stat's starttime), @p wall_ns since the epoch (boot time plus
 * boot_ns). Either pointer may be NULL; wall_ns needs the kernel's
 * timekeeper (XA_ENOTSUP without it).
 * @return 0, the codes of xa_process_by_pid(), XA_ENOTSUP, a memory error.
 */
XA_API XA_NODISCARD int xa_process_start_time(struct xa_instance *xa, int32_t pid,
                                              uint64_t *boot_ns, int64_t *wall_ns);

/** @brief Wall-clock time of the guest's boot, ns since the epoch (/proc/stat btime).
 *  @return 0, XA_ENOTSUP (no timekeeper), XA_EINVAL, XA_ENOOS, a memory error. */
XA_API XA_NODISCARD int xa_boot_time(struct xa_instance *xa, int64_t *wall_ns);

/** Most bytes of a command line or environment returned. */
#define XA_ARGS_MAX (128u << 10)

enum xa_args_flags {
    XA_ARGS_ABSENT = 1u << 0,    /**< a page was not present: the bytes stop there */
    XA_ARGS_TRUNCATED = 1u << 1, /**< longer than the buffer or XA_ARGS_MAX */
};

/**
 * @brief Command line of process @p pid as /proc/PID/cmdline gives it (the
 * NUL-separated bytes between mm->arg_start and arg_end), read from the
 * process's own memory. At most min(@p cap, XA_ARGS_MAX) bytes; @p flags
 * says when fewer than all bytes came back (a *partial* result). A kernel
 * thread has an empty command line.
 * @return 0 (check @p flags for a partial result), the codes of
 *         xa_process_by_pid(), XA_ENOTSUP, XA_EBADDATA (implausible bounds),
 *         a memory error.
 */
XA_API XA_NODISCARD int xa_process_cmdline(struct xa_instance *xa, int32_t pid, void *buf,
                                           size_t cap, size_t *len, uint32_t *flags);
/** @brief The environment (env_start..env_end), as xa_process_cmdline(). */
XA_API XA_NODISCARD int xa_process_environ(struct xa_instance *xa, int32_t pid, void *buf,
                                           size_t cap, size_t *len, uint32_t *flags);

enum xa_proc_path {
    XA_PROC_EXE,  /**< the executable (mm->exe_file) */
    XA_PROC_CWD,  /**< current directory (fs->pwd) */
    XA_PROC_ROOT, /**< root directory (fs->root) */
};

/**
 * @brief A path of process @p pid as readlink /proc/PID/{exe,cwd,root}
 * gives it: dentry names up to the process's root, across mount points,
 * " (deleted)" appended when unlinked. @p cap should be XA_PATH_MAX.
 * @return 0, XA_ENOENT when the process has none (a kernel thread's exe),
 *         XA_EINVAL (@p cap too small), the codes of xa_process_by_pid(),
 *         XA_ENOTSUP, XA_ELIMIT (path too deep or long), a memory error.
 */
XA_API XA_NODISCARD int xa_process_path(struct xa_instance *xa, int32_t pid,
                                        enum xa_proc_path which, char *buf, size_t cap);

/** @} */

/** @defgroup files Open files and mounts
 *  @{ */

enum xa_open_file_state {
    /** A pseudo file whose naming function (d_dname) xenaccess does not
     *  know: its path is "?" (pipes, sockets, anon inodes, namespaces and
     *  memfd-like files are known). */
    XA_FILE_NAME_UNKNOWN = 1u << 0,
};

/** One open file of a process, as /proc/PID/fd and fdinfo show it. */
struct xa_open_file {
    int32_t pid, fd;
    uint32_t flags;     /**< f_flags, plus O_CLOEXEC (02000000) when set, as fdinfo's flags */
    int64_t pos;        /**< file position (fdinfo's pos) */
    uint32_t dev_major, dev_minor; /**< device of the inode's file system (stat's st_dev) */
    uint64_t inode;     /**< inode number */
    uint32_t mode;      /**< i_mode: the S_IFMT type and the permissions (0 type: anon inode) */
    uint32_t state;     /**< enum xa_open_file_state */
    uint64_t file;      /**< struct file address */
    /** readlink /proc/PID/fd/N: the path from the top of the file's mount
     *  namespace, " (deleted)" when unlinked; "pipe:[N]", "socket:[N]",
     *  "anon_inode:[eventfd]", "net:[N]" for pseudo files. Guest bytes. */
    char path[XA_PATH_MAX];
};

/** @brief ls's short name of a file type: "REG", "DIR", "CHR", "BLK",
 *  "FIFO", "SOCK", "LNK", "anon" (no type bits: an anon inode) or "?". */
XA_API const char *xa_file_type_name(uint32_t mode);

struct xa_file_iter;

/**
 * @brief Walk the open files of process @p pid in fd order; free before
 * xa_destroy(). A process without a file table (a kernel thread, a zombie)
 * has none.
 * @return 0, the codes of xa_process_by_pid(), XA_ENOTSUP (no layout for
 *         it in the guest's BTF), XA_ENOMEM, a memory error.
 */
XA_API XA_NODISCARD int xa_file_iter_new(struct xa_instance *xa, int32_t pid,
                                         struct xa_file_iter **out);
/** @return 1, 0 at end, or a negative error after which the walk is over
 *  and the files before it are a partial list (XA_ELIMIT past 1 << 20 fds
 *  or on a path that loops, XA_EFAULT on a bad pointer, XA_EBADDATA on
 *  implausible data). */
XA_API XA_NODISCARD int xa_file_iter_next(struct xa_file_iter *it, struct xa_open_file *out);
XA_API void xa_file_iter_free(struct xa_file_iter *it);

/** @brief As xa_file_iter_new(), for a process a walk handed out (see
 *  xa_thread_iter_new_proc(): re-validated, no re-walk, no flush). */
XA_API XA_NODISCARD int xa_file_iter_new_proc(struct xa_instance *xa, const struct xa_process *p,
                                              struct xa_file_iter **out);

/** MNT_* flags of struct xa_mount.mnt_flags (the kernel's values). */
enum xa_mount_flags {
    XA_MNT_NOSUID = 0x01, XA_MNT_NODEV = 0x02, XA_MNT_NOEXEC = 0x04,
    XA_MNT_NOATIME = 0x08, XA_MNT_NODIRATIME = 0x10, XA_MNT_RELATIME = 0x20,
    XA_MNT_READONLY = 0x40, XA_MNT_NOSYMFOLLOW = 0x80,
    XA_MNT_SHARED = 0x1000, XA_MNT_UNBINDABLE = 0x2000,
};

#define XA_FSTYPE_LEN 64
#define XA_MOUNT_SOURCE_LEN 1024

/** One mount, as a line of /proc/PID/mountinfo shows it. */
struct xa_mount {
    int32_t mnt_id, parent_id;
    uint32_t dev_major, dev_minor;
    uint32_t mnt_flags;  /**< enum xa_mount_flags */
    uint64_t sb_flags;   /**< super_block s_flags (SB_RDONLY = 1) */
    int32_t shared_id;   /**< peer group when shared ("shared:N"), else 0 */
    int32_t master_id;   /**< master's peer group when a slave ("master:N"), else 0 */
    uint64_t mount;      /**< struct mount address */
    char root[XA_PATH_MAX];        /**< the mounted directory inside its file system */
    char mount_point[XA_PATH_MAX]; /**< where, seen from the root the iterator uses */
    char options[96];    /**< per-mount options: "rw,nosuid,relatime" */
    char fstype[XA_FSTYPE_LEN];    /**< "ext4", or "fuse.sshfs" with a subtype */
    char source[XA_MOUNT_SOURCE_LEN]; /**< the device name given to mount, "none" when none */
};

struct xa_mount_iter;

/**
 * @brief Walk the mounts of the mount namespace of process @p pid, seen from
 * its root directory as /proc/PID/mountinfo does (mounts outside it are left
 * out); @p pid 0: the initial namespace (init_task's), seen from its top.
 * In the kernel's list order. Free before xa_destroy().
 * @return 0, the codes of xa_process_by_pid(), XA_ENOENT (a process without
 *         a namespace: exiting), XA_ENOTSUP, XA_ENOMEM, a memory error.
 */
XA_API XA_NODISCARD int xa_mount_iter_new(struct xa_instance *xa, int32_t pid,
                                          struct xa_mount_iter **out);
/** @return 1, 0 at end, negative error (partial list: XA_ELIMIT on a loop,
 *  XA_EBADDATA on links that do not point back, XA_EFAULT on a bad pointer). */
XA_API XA_NODISCARD int xa_mount_iter_next(struct xa_mount_iter *it, struct xa_mount *out);
XA_API void xa_mount_iter_free(struct xa_mount_iter *it);

/** @brief As xa_mount_iter_new(), for a process a walk handed out (see
 *  xa_thread_iter_new_proc()); pid 0 (init_task) gives the initial namespace. */
XA_API XA_NODISCARD int xa_mount_iter_new_proc(struct xa_instance *xa,
                                               const struct xa_process *p,
                                               struct xa_mount_iter **out);

/** @} */

/** @defgroup net Sockets
 *  @{ */

/** Owning processes kept per socket (more are counted in npids). */
#define XA_NET_PIDS_MAX 16
/** Room for an address: "[v6]:port", a UNIX path or "@abstract" name. */
#define XA_NET_ADDR_LEN 128

enum xa_net_flags {
    XA_NET_FROM_TABLE = 1u << 0, /**< found in a kernel hash table or list */
    XA_NET_FROM_FD = 1u << 1,    /**< found in a process's fd table */
    XA_NET_ADDR_CUT = 1u << 2,   /**< a UNIX name longer than XA_NET_ADDR_LEN - 1 */
    /** rx_queue and tx_queue (and a packet socket's protocol and ifindex)
     *  unknown (0): a 32-bit kernel without BTF, whose
     *  layout is inferred; there only sockets an fd holds and the TCP
     *  established hashes they lead to are listed (docs/limits.md) */
    XA_NET_NO_QUEUES = 1u << 3,
};

/** One socket, as /proc/net/{tcp,tcp6,udp,udp6,unix,raw,raw6,packet} shows it. */
struct xa_socket {
    char proto[8];       /**< "tcp" "tcp6" "udp" "udp6" "unix" "raw" "raw6" "packet", or
                              "af<N>" for another family held by a process */
    int family;          /**< AF_INET 2, AF_INET6 10, AF_UNIX 1, AF_PACKET 17, ... */
    int type;            /**< SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_RAW 3, SOCK_SEQPACKET 5 */
    int protocol;        /**< IPPROTO_* (inet), ETH_P_* (packet, host order) */
    int state;           /**< sk_state (TCP_ESTABLISHED 1 ... TCP_LISTEN 10), UNIX too */
    const char *state_name; /**< "ESTABLISHED", "LISTEN", "CLOSE", ... (static) */
    /** Inet: "127.0.0.1:7001", "[::1]:7003". UNIX: the bound path, "@name"
     *  for an abstract name (its NULs shown as '@', as /proc does), "" when
     *  unbound; raw bytes the guest chose, escape them to print. Packet: "". */
    char local[XA_NET_ADDR_LEN];
    char remote[XA_NET_ADDR_LEN]; /**< inet peer; UNIX and packet: "" */
    uint64_t inode;      /**< socket inode, 0 when no file holds it */
    uint32_t rx_queue, tx_queue; /**< as /proc/net shows them (listeners: backlog, max) */
    uint32_t uid;        /**< sock_i_uid: owner of the socket inode */
    int ifindex;         /**< packet sockets: bound interface, 0 for all */
    uint64_t sk;         /**< struct sock (or sock_common) address */
    uint32_t flags;      /**< enum xa_net_flags */
    uint32_t npids;      /**< processes holding it; the first XA_NET_PIDS_MAX in pids */
    int32_t pids[XA_NET_PIDS_MAX]; /**< ascending */
    /** Its network namespace (sk->__sk_common.skc_net): the namespace's inode
     *  number, as /proc shows it in "net:[N]"; 0 when unreadable. */
    uint32_t netns;
};

struct xa_net_iter;

/**
 * @brief All sockets of every network namespace of the guest (the kernel's
 * net_namespace_list): those in the kernel's tables (TCP established and
 * listening hashes, UDP, raw, and each namespace's UNIX and packet lists)
 * and those in processes' fd tables, each once (by struct sock address),
 * with the pids holding it and its namespace (xa_socket.netns; /proc/net
 * shows one namespace's). The walk happens here; the iterator hands out
 * the result. Free before xa_destroy().
 * @return 0, XA_ENOTSUP (no BTF, or members missing: the message names
 *         them), XA_ENOMEM, a memory error. A table walk that fails (a
 *         cycle, a chain too long, a bad pointer) does not fail the call:
 *         the sockets found before it come out, then xa_net_iter_next()
 *         returns that error (a partial list).
 */
XA_API XA_NODISCARD int xa_net_iter_new(struct xa_instance *xa, struct xa_net_iter **out);
/** @return 1, 0 at end, negative error after the sockets found (partial list). */
XA_API XA_NODISCARD int xa_net_iter_next(struct xa_net_iter *it, struct xa_socket *out);
XA_API void xa_net_iter_free(struct xa_net_iter *it);

/** @} */

/** @defgroup kmsg Kernel log
 *  @{ */

/** Most text bytes returned per record (the kernel's own lines are shorter). */
#define XA_KMSG_TEXT_MAX 4096

enum xa_kmsg_flags {
    XA_KMSG_TRUNCATED = 1u << 0, /**< text longer than XA_KMSG_TEXT_MAX, or than its block */
};

/** One record of the printk ring buffer (kernels 5.10+). */
struct xa_kmsg {
    uint64_t seq;      /**< sequence number, as /dev/kmsg shows it */
    uint64_t ts_ns;    /**< local clock at printk, ns since boot */
    uint8_t level;     /**< 0 (emerg) .. 7 (debug) */
    uint8_t facility;  /**< 0 kernel, 1 user, ... */
    uint32_t caller_id; /**< thread id or 0x80000000 | CPU */
    uint32_t flags;    /**< enum xa_kmsg_flags */
    /** Records missing just before this one: overwritten by newer ones
     *  (for the first record: since @p from_seq of xa_kmsg_iter_new), or
     *  being rewritten while read. */
    uint64_t dropped;
    size_t text_len;
    char text[XA_KMSG_TEXT_MAX + 1]; /**< the guest's bytes, NUL-terminated (may hold NULs) */
};

struct xa_kmsg_iter;

/**
 * @brief Walk the kernel log from sequence number @p from_seq (0: from the
 * oldest record kept) to the newest record committed when called. Free
 * before xa_destroy(). On a live guest, records being written are not
 * returned yet (call again from the next seq to follow the log).
 * @return 0, XA_ENOTSUP (no BTF, a kernel without struct
 *         printk_ringbuffer), XA_ENOENT (no prb symbol), XA_EBADDATA (a
 *         ring whose sizes or positions are implausible), XA_ENOMEM, a
 *         memory error.
 */
XA_API XA_NODISCARD int xa_kmsg_iter_new(struct xa_instance *xa, uint64_t from_seq,
                                         struct xa_kmsg_iter **out);
/** @return 1, 0 at end, negative error (partial: the records before it stay valid). */
XA_API XA_NODISCARD int xa_kmsg_iter_next(struct xa_kmsg_iter *it, struct xa_kmsg *out);
/** @brief The sequence number the next new record will have (call after
 *  the walk: where a follower starts next time). */
XA_API uint64_t xa_kmsg_iter_next_seq(const struct xa_kmsg_iter *it);
XA_API void xa_kmsg_iter_free(struct xa_kmsg_iter *it);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* XENACCESS_OS_H */
