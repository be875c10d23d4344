/*
 * procread.h -- two pure readers behind the process views, kept apart from
 * the instance so unit tests and fuzzers can feed them synthetic memory:
 *
 *   dpath.c  a path from a dentry and a mount, up to a root (d_path);
 *   uargs.c  a process's argument or environment area, page by page.
 *
 * Memory comes through a callback; both return an XA_* code and, on error,
 * one line in @why.
 */
#ifndef XA_OS_LINUX_PROCREAD_H
#define XA_OS_LINUX_PROCREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read @len bytes at @va: 0 or a negative XA_* code. */
typedef int (*lx_mem_fn)(void *ctx, uint64_t va, void *buf, size_t len);

#define LX_WHY_LEN 256

/* Offsets the path walk needs. mount_* are relative to struct mount, whose
 * member mnt (struct vfsmount) is at mount_mnt; has_mounts is false when BTF
 * lacks struct mount (paths then stop at the first mount root). */
struct lx_dpath_layout {
    uint64_t d_parent, d_name_len, d_name_ptr; /* in struct dentry */
    uint64_t d_hash_pprev;                     /* UINT64_MAX when unknown */
    uint64_t mnt_root;                         /* in struct vfsmount */
    uint64_t mount_mnt, mount_parent, mount_mountpoint;
    bool has_mounts;
    /* 4 on a 32-bit kernel (pointers in [kptr_min, 2^32)); 0 or 8: 64-bit. */
    unsigned ptr_size;
    uint64_t kptr_min;
};

/* Steps a path walk takes at most (components plus mount crossings). */
#define LX_DPATH_STEPS_MAX 4096u
/* NAME_MAX */
#define LX_DPATH_NAME_MAX 255u

/* Build the path of (@dentry, @mnt) seen from root (@root_dentry,
 * @root_mnt) into @buf (NUL-terminated). A deleted dentry gets " (deleted)".
 * XA_ELIMIT when deeper than LX_DPATH_STEPS_MAX or longer than @cap (a cycle
 * ends there), XA_EFAULT on unreadable memory, XA_EBADDATA on a bad pointer
 * or name. */
int lx_dpath_build(const struct lx_dpath_layout *l, lx_mem_fn read, void *ctx, uint64_t dentry,
                   uint64_t mnt, uint64_t root_dentry, uint64_t root_mnt, char *buf, size_t cap,
                   char *why);

/* As lx_dpath_build(); *reached tells whether the walk met the root (not
 * when it stopped at the top of the namespace first). LX_DPATH_RAW: no mount
 * crossing and no suffix (the path inside its filesystem, as mountinfo's
 * root field); LX_DPATH_NO_DELETED: no " (deleted)" (as __d_path). */
#define LX_DPATH_RAW 1u
#define LX_DPATH_NO_DELETED 2u
int lx_dpath_build_ex(const struct lx_dpath_layout *l, lx_mem_fn read, void *ctx, uint64_t dentry,
                      uint64_t mnt, uint64_t root_dentry, uint64_t root_mnt, char *buf,
                      size_t cap, char *why, unsigned opts, bool *reached);

/* Copy user bytes [@start, @end) into @buf (at most @cap bytes), page by
 * page. The first page that cannot be read ends the copy with
 * XA_ARGS_ABSENT in *flags; more bytes than @cap set XA_ARGS_TRUNCATED.
 * Returns 0 (possibly partial) or XA_EBADDATA when @end < @start. */
int lx_uargs_copy(lx_mem_fn read, void *ctx, uint64_t start, uint64_t end, void *buf, size_t cap,
                  size_t *len, uint32_t *flags, char *why);

#endif /* XA_OS_LINUX_PROCREAD_H */
