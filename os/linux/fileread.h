/*
 * fileread.h -- pure readers behind the open-file and mount views, kept
 * apart from the instance (as procread.h) so unit tests and the fuzzer can
 * feed them synthetic memory:
 *
 *   an fd table (struct fdtable): its open_fds bitmap, fd array and
 *     close_on_exec bitmap, walked word by word up to max_fds (bounded);
 *   an open file (struct file): flags, position, inode, device and the
 *     path /proc/PID/fd shows (pseudo files named as their d_dname does);
 *   a mount (struct mount): ids, device, root, mount point, type, source
 *     and options as /proc/PID/mountinfo shows them.
 *
 * Memory comes through lx_mem_fn; each returns an XA_* code and, on error,
 * one line in @why.
 */
#ifndef XA_OS_LINUX_FILEREAD_H
#define XA_OS_LINUX_FILEREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/linux/procread.h"
#include "xenaccess.h"

/* Offsets (in the named structs) and the kernel's d_dname functions that
 * name pseudo files; a function address of 0 is unknown. d.ptr_size 4 (a
 * 32-bit kernel, pointers from d.kptr_min): pointers, unsigned longs (the
 * fd bitmaps' words, i_ino) are 4 bytes; else 8. */
struct lx_file_layout {
    struct lx_dpath_layout d;
    uint64_t fdt_max_fds, fdt_fd, fdt_open_fds, fdt_close_on_exec; /* fdtable */
    uint64_t f_path_mnt, f_path_dentry, f_inode, f_flags, f_pos;    /* file */
    uint64_t i_mode, i_ino, i_sb;                                   /* inode */
    uint64_t s_dev;                                                 /* super_block */
    uint64_t d_op, d_fsdata;                                        /* dentry */
    uint64_t dop_d_dname;                                           /* dentry_operations */
    uint64_t ns_ops_name; /* proc_ns_operations.name; UINT64_MAX unknown */
    uint64_t fn_pipe, fn_socket, fn_anon, fn_ns, fn_simple;
};

/* Most fds of one table walked (the kernel's nr_open ceiling, 1 << 20). */
#define LX_FDS_MAX (1u << 20)

/* A walk over one fd table. */
struct lx_fd_cursor {
    uint64_t fd_array, open_fds, cloexec;
    uint32_t max_fds; /* the table's, may be above LX_FDS_MAX */
    uint32_t limit;   /* fds walked: min(max_fds, LX_FDS_MAX) */
    uint32_t next;    /* next fd to look at */
    uint64_t word;    /* open_fds bits of next's word, consumed as we go */
    bool have_word;
};

/* Start a walk of the fdtable at @fdt. 0 or an error. */
int lx_fdt_open(const struct lx_file_layout *l, lx_mem_fn read, void *ctx, uint64_t fdt,
                struct lx_fd_cursor *c, char *why);
/* Next open fd: 1 with *fd, *file (non-zero) and *cloexec; 0 at the end; a
 * negative error (XA_ELIMIT past LX_FDS_MAX fds, after every fd below it). */
int lx_fdt_next(const struct lx_file_layout *l, lx_mem_fn read, void *ctx,
                struct lx_fd_cursor *c, int32_t *fd, uint64_t *file, bool *cloexec, char *why);

/* Fill @out (all but pid and fd) from struct file @file; paths as seen
 * from the top of their mount namespace, as readlink /proc/PID/fd/N gives
 * them to a reader there. */
int lx_file_read(const struct lx_file_layout *l, lx_mem_fn read, void *ctx, uint64_t file,
                 struct xa_open_file *out, char *why);

struct lx_mount_layout {
    struct lx_dpath_layout d; /* mount_* relative to struct mount */
    uint64_t mnt_id, mnt_devname, mnt_master, mnt_group_id; /* mount */
    uint64_t mnt_sb, mnt_flags;                             /* vfsmount */
    uint64_t s_dev, s_type, s_flags, s_subtype;             /* super_block */
    uint64_t fst_name;                                      /* file_system_type */
    /* UINT64_MAX unknown: mnt_group_id and mnt_master (a shared or slave
     * mount then refuses), s_subtype (a type with FS_HAS_SUBTYPE in
     * fst_flags then refuses), fst_flags. */
    uint64_t fst_flags;
};

/* Fill @out from struct mount @mount, its mount point seen from root
 * (@root_dentry, @root_mnt; 0, 0: the namespace's top). *visible is false
 * when the mount cannot be reached from that root (mountinfo leaves it out). */
int lx_mount_read(const struct lx_mount_layout *l, lx_mem_fn read, void *ctx, uint64_t mount,
                  uint64_t root_dentry, uint64_t root_mnt, struct xa_mount *out, bool *visible,
                  char *why);

/* In-order walk over a red-black tree (6.8+ keeps a namespace's mounts in
 * mnt_namespace.mounts): an explicit stack of at most LX_RB_DEPTH_MAX nodes
 * (a red-black tree of 2^20 nodes is at most 40 deep). Each child's parent
 * link must name the node it hangs from, so no node is reached twice and
 * the walk cannot loop; @max caps the count whatever happens. */
#define LX_RB_DEPTH_MAX 64u

struct lx_rb_walk {
    uint64_t stack[LX_RB_DEPTH_MAX];
    unsigned depth;
    uint64_t pending; /* subtree to descend next (0: none) */
    uint64_t parent_color, left, right; /* offsets in struct rb_node */
    uint64_t steps, max;
    bool started;
    const struct lx_dpath_layout *d; /* the kernel's word; NULL: 64-bit */
};

void lx_rb_init(struct lx_rb_walk *w, uint64_t root_node, uint64_t parent_color_off,
                uint64_t left_off, uint64_t right_off, uint64_t max);
/* The links of a tree of a 32-bit kernel are words of @d's width (kept). */
void lx_rb_words(struct lx_rb_walk *w, const struct lx_dpath_layout *d);
/* Next node: 1 with *node, 0 at the end, or an error (XA_ELIMIT too deep
 * or too many, XA_EBADDATA a link that does not point back, XA_EFAULT). */
int lx_rb_next(struct lx_rb_walk *w, lx_mem_fn read, void *ctx, uint64_t *node, char *why);

#endif /* XA_OS_LINUX_FILEREAD_H */
