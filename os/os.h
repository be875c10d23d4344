/*
 * os.h -- the contract between the core and an OS layer. Internal.
 *
 * An OS layer turns memory into kernel facts: symbols, types, processes,
 * modules, memory maps. It reads memory only through core/internal.h, so it
 * never knows which backend it runs on.
 *
 * This header depends on nothing in core/: the core includes it, an OS
 * layer includes it and core/internal.h.
 *
 * To add an OS: implement struct xa_os_ops, list it in os/os.c's table
 * (tried in order at xa_init() time; init() returns XA_ENOOS when the guest
 * is not that OS, any other error stops the open).
 */
#ifndef XA_OS_H
#define XA_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenaccess.h"
#include "xenaccess_check.h"

struct xa_instance;

/*
 * Iterators: each layer's struct xa_process_iter, xa_module_iter,
 * xa_vma_iter and xa_thread_iter starts with a struct xa_os_iter (its first
 * member is the instance it walks), so the core dispatches through
 * xa__os_iter_instance() without knowing the layer's layout.
 */
struct xa_os_iter {
    struct xa_instance *xa;
};

static inline struct xa_instance *xa__os_iter_instance(const void *it)
{
    /* A pointer to a struct, converted, points to its first member. */
    return *(struct xa_instance *const *)it;
}

struct xa_os_ops {
    const char *name;
    enum xa_os_type type;

    /* Recognise the OS and build state; XA_ENOOS if it is not this OS. On
     * success *state belongs to the layer until destroy(). */
    int (*init)(struct xa_instance *xa, const struct xa_init_opts *opts, void **state);
    void (*destroy)(void *state);
    /* Forget data derived from guest memory (live targets). */
    void (*flush)(void *state);

    int (*get_info)(struct xa_instance *xa, struct xa_os_info *out);

    int (*sym_lookup)(struct xa_instance *xa, const char *name, uint64_t *addr);
    int (*sym_at)(struct xa_instance *xa, uint64_t addr, const char **name, uint64_t *off);
    int (*sym_foreach)(struct xa_instance *xa, xa_sym_fn fn, void *ctx);

    int (*type_offset)(struct xa_instance *xa, const char *type, const char *member,
                       uint64_t *off);
    int (*type_size)(struct xa_instance *xa, const char *type, uint64_t *size);

    int (*process_iter_new)(struct xa_instance *xa, struct xa_process_iter **out);
    int (*process_iter_next)(struct xa_process_iter *it, struct xa_process *out);
    void (*process_iter_free)(struct xa_process_iter *it);
    /* Optional: faster than a walk. */
    int (*process_by_pid)(struct xa_instance *xa, int32_t pid, struct xa_process *out);

    int (*module_iter_new)(struct xa_instance *xa, struct xa_module_iter **out);
    int (*module_iter_next)(struct xa_module_iter *it, struct xa_module *out);
    void (*module_iter_free)(struct xa_module_iter *it);

    int (*vma_iter_new)(struct xa_instance *xa, int32_t pid, struct xa_vma_iter **out);
    int (*vma_iter_next)(struct xa_vma_iter *it, struct xa_vma *out);
    void (*vma_iter_free)(struct xa_vma_iter *it);

    /* Inside a process (core/procview_api.c); NULL when the layer has none. */
    int (*thread_iter_new)(struct xa_instance *xa, int32_t pid, struct xa_thread_iter **out);
    /* The same for a process a walk found (p->task re-validated, no walk). */
    int (*thread_iter_new_proc)(struct xa_instance *xa, const struct xa_process *p,
                                struct xa_thread_iter **out);
    int (*thread_iter_next)(struct xa_thread_iter *it, struct xa_thread *out);
    void (*thread_iter_free)(struct xa_thread_iter *it);
    int (*process_creds)(struct xa_instance *xa, int32_t pid, struct xa_creds *out,
                         uint32_t *groups, size_t max_groups);
    int (*process_start_time)(struct xa_instance *xa, int32_t pid, uint64_t *boot_ns,
                              int64_t *wall_ns);
    int (*boot_time)(struct xa_instance *xa, int64_t *wall_ns);
    int (*process_args)(struct xa_instance *xa, int32_t pid, bool environ, void *buf,
                        size_t cap, size_t *len, uint32_t *flags);
    int (*process_path)(struct xa_instance *xa, int32_t pid, enum xa_proc_path which,
                        char *buf, size_t cap);

    /* Open files and mounts (core/files_api.c); NULL when the layer has none. */
    int (*file_iter_new)(struct xa_instance *xa, int32_t pid, struct xa_file_iter **out);
    int (*file_iter_new_proc)(struct xa_instance *xa, const struct xa_process *p,
                              struct xa_file_iter **out);
    int (*file_iter_next)(struct xa_file_iter *it, struct xa_open_file *out);
    void (*file_iter_free)(struct xa_file_iter *it);
    int (*mount_iter_new)(struct xa_instance *xa, int32_t pid, struct xa_mount_iter **out);
    int (*mount_iter_new_proc)(struct xa_instance *xa, const struct xa_process *p,
                               struct xa_mount_iter **out);
    int (*mount_iter_next)(struct xa_mount_iter *it, struct xa_mount *out);
    void (*mount_iter_free)(struct xa_mount_iter *it);

    /* Sockets and the kernel log (core/netlog_api.c); NULL when the layer has none. */
    int (*net_iter_new)(struct xa_instance *xa, struct xa_net_iter **out);
    int (*net_iter_next)(struct xa_net_iter *it, struct xa_socket *out);
    void (*net_iter_free)(struct xa_net_iter *it);
    int (*kmsg_iter_new)(struct xa_instance *xa, uint64_t from_seq, struct xa_kmsg_iter **out);
    int (*kmsg_iter_next)(struct xa_kmsg_iter *it, struct xa_kmsg *out);
    uint64_t (*kmsg_iter_next_seq)(const struct xa_kmsg_iter *it);
    void (*kmsg_iter_free)(struct xa_kmsg_iter *it);
    /* Rootkit checks (core/check_api.c); NULL when the layer has none. */
    int (*check)(struct xa_instance *xa, enum xa_check which, xa_finding_fn fn, void *ctx);
};

extern const struct xa_os_ops xa_os_linux;
extern const struct xa_os_ops xa_os_windows;

/* The registry (os/os.c): the OS layers xa_init() tries, in order; one that
 * answers XA_ENOOS lets the next one try.  The core runs them
 * (core/os_api.c). */
const struct xa_os_ops *const *xa__os_layers(size_t *count);

#endif /* XA_OS_H */
